"""Translated editions of the course, built from the English notebooks: one gettext catalogue per notebook.

    python -m tools.i18n refresh [LANG]   # update notebooks/locale/LANG/LC_MESSAGES/*.po after English edits
    python -m tools.i18n build [LANG]     # build/LANG/notebooks/: the text translated, the English outputs kept
    python -m tools.i18n status [LANG]    # every catalogue's messages: translated, stale, untranslated

LANG defaults to zh_CN, the one edition so far (``make zh``, ``make zh-refresh``, ``make zh-status``).

What is translated, and nothing else:

- every markdown cell, as one message (its whole source);
- every comment in a code cell, found with Python's tokenizer (so a ``#`` inside a string is code): a run of
  whole-line comments on consecutive lines at one indentation is one message, its lines joined by newlines, and an
  end-of-line comment is one message of one line. Comments that hold no prose stay as they are: shapes such as
  ``# (N, D_out)``, formulas such as ``# N * D_out``, and tool directives (``# noqa``, ``# type:``).

A message's context (``msgctxt``) is its cell's id and its ``msgid`` is the English text, so a translation is used
only while the English it was made from is unchanged. ``refresh`` keeps every translation whose English is
unchanged, carries one whose cell changed over as *fuzzy* (its old English kept as ``#| msgid``), and keeps
translations of text that is gone as obsolete (``#~``) entries. The build never uses a fuzzy translation: the
English is shown instead, and the build says how many messages are stale. Code is the English notebook's token for
token, and outputs, execution counts, cell ids, metadata and attachments byte for byte (``tests/test_i18n.py``).

One more catalogue, ``course.po``, holds the words the builders write themselves (``tools/publish.py`` and its
templates): the site's labels and index page, the README table's "what you learn" column, the student copy's
starter comments.

``TRANSLATED`` lists the notebooks whose catalogues must be complete (every message translated, none stale);
the tests fail for those on any missing or stale message, and say which.
"""

from __future__ import annotations

import difflib
import html
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import polib

from tools.nbtools import NOTEBOOK_DIR, ROOT, notebook_paths

LANGUAGES = ("zh_CN",)
DEFAULT_LANGUAGE = "zh_CN"
# The notebooks (by number) whose translation is finished: their catalogues must have a current translation for
# every message. A new notebook is added here when its translation lands.
TRANSLATED = {"zh_CN": {f"{n:02d}" for n in range(1, 15)}}
# The translated notebooks that CI also executes under strict nbval (the others are checked token for token).
EXECUTED = {"zh_CN": {"01", "09"}}
LOCALE_DIR = NOTEBOOK_DIR / "locale"
BUILD = ROOT / "build"
# The notebook metadata key a built translation carries: its language and the English notebook it came from.
META_KEY = "course_translation"

MARKDOWN, COMMENT, END_OF_LINE = "markdown cell", "comment", "end-of-line comment"
# A comment that is only a shape or a tuple, such as (N, D_in) or (H, D_out), (D_out,): no words to translate
SHAPE = re.compile(r"[(\[][\w\s,.*+\-/]*[)\]](\s*,?\s*[(\[][\w\s,.*+\-/]*[)\]])*")
PROSE = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")  # two words in a row
WORD = re.compile(r"\b[a-z]{3,}\b")  # a word, not an identifier such as D_out or a letter such as N
DIRECTIVE = re.compile(r"(noqa|type:|pragma|fmt:|ruff:|isort:)")
# Characters other than \n that some reader could take for a line break, which would end a comment early
LINE_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
FUZZY_SAME_CELL, FUZZY_ANY_CELL = 0.6, 0.8  # how alike an old and a new English text must be to carry a translation


def catalogue_path(notebook: Path | str, lang: str = DEFAULT_LANGUAGE) -> Path:
    """The catalogue of ``notebook`` (an English notebook's path, file name or stem, or ``course``) for ``lang``."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{Path(notebook).name.removesuffix('.ipynb')}.po"


def edition_dir(lang: str = DEFAULT_LANGUAGE) -> Path:
    """Where ``make zh`` (``build``) writes the notebooks of the ``lang`` edition."""
    return BUILD / lang / "notebooks"


def edition_paths(lang: str = DEFAULT_LANGUAGE) -> list[Path]:
    """The built notebooks of the ``lang`` edition, in order (build them first: ``build(lang)``)."""
    return [edition_dir(lang) / p.name for p in notebook_paths()]


# --- Messages: what a notebook asks a translator for ---


@dataclass(frozen=True)
class Comment:
    """A comment message in a code cell: 0-based lines ``first``..``last``, at column ``col``."""

    first: int
    last: int
    col: int
    text: str
    end_of_line: bool


def comment_text(token: str) -> str:
    """The words of one comment token: without the ``#`` and the one space after it, and trailing blanks."""
    text = token[1:]
    return (text[1:] if text.startswith(" ") else text).rstrip()


def translatable(text: str) -> bool:
    """False for a comment with no prose in it: a shape such as ``(N, H)``, a formula such as ``N * D_out``, or a
    tool directive such as ``noqa``."""
    if not text.strip() or DIRECTIVE.match(text.strip()):
        return False
    if PROSE.search(text):
        return True
    return not SHAPE.fullmatch(text.strip()) and bool(WORD.search(text))


def masked(source: str) -> str:
    """``source`` with IPython-only lines (``%magic``, ``!shell``) blanked, so that Python's tokenizer reads the rest."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


def comments(source: str) -> list[Comment]:
    """The comment messages of a code cell's ``source``, in order (see the module docstring)."""
    lines = source.split("\n")
    found: list[Comment] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(masked(source) + "\n").readline))
    except (tokenize.TokenError, SyntaxError):  # a cell that is not Python (on purpose): its comments stay English
        return []
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        row, col = tok.start[0] - 1, tok.start[1]
        end_of_line = bool(lines[row][:col].strip())
        text = comment_text(tok.string)
        prev = found[-1] if found else None
        if prev and not end_of_line and not prev.end_of_line and prev.last == row - 1 and prev.col == col:
            found[-1] = Comment(prev.first, row, col, f"{prev.text}\n{text}", False)
        else:
            found.append(Comment(row, row, col, text, end_of_line))
    return found


@dataclass(frozen=True)
class Message:
    """One thing to translate: the id of its cell, its English text, and what it is (markdown cell or comment)."""

    cell_id: str
    text: str
    kind: str


def messages(nb: nbformat.NotebookNode) -> list[Message]:
    """Every message of a notebook, in order, each once (a comment repeated in one cell is one message)."""
    found: dict[tuple[str, str], Message] = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            found.setdefault((cell.id, cell.source), Message(cell.id, cell.source, MARKDOWN))
        elif cell.cell_type == "code":
            for c in comments(cell.source):
                if translatable(c.text):
                    kind = END_OF_LINE if c.end_of_line else COMMENT
                    found.setdefault((cell.id, c.text), Message(cell.id, c.text, kind))
    return list(found.values())


# --- Catalogues: read, refresh after English edits, count ---


def new_catalogue(stem: str, lang: str) -> polib.POFile:
    """An empty catalogue for notebook ``stem`` in ``lang``, with a fixed header (no dates: a refresh leaves no diff)."""
    po = polib.POFile(wrapwidth=0)
    po.metadata = {
        "Project-Id-Version": f"pytorch-course {stem}",
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": "nplurals=1; plural=0;",
    }
    po.header = (
        f"Translation of notebooks/{stem}.ipynb, one message per markdown cell or comment, keyed by cell id.\n"
        "Refresh with `make zh-refresh` after editing the English; a `fuzzy` translation is not used until a\n"
        "translator checks it against the changed English (`#| msgid`) and removes the flag."
    )
    return po


def read_catalogue(path: Path) -> polib.POFile | None:
    """The catalogue at ``path``, or None if there is none."""
    return polib.pofile(str(path), wrapwidth=0) if path.exists() else None


def usable(entry: polib.POEntry | None) -> bool:
    """True for a translation the build uses: present, not empty, not fuzzy, not obsolete."""
    return bool(entry and entry.msgstr and not entry.fuzzy and not entry.obsolete)


def best_match(text: str, candidates: list[polib.POEntry], cutoff: float) -> polib.POEntry | None:
    """The candidate whose English is most like ``text``, if at least ``cutoff`` alike (difflib's ratio)."""
    best, best_ratio = None, cutoff
    for entry in candidates:
        matcher = difflib.SequenceMatcher(None, entry.msgid, text, autojunk=False)
        if matcher.real_quick_ratio() >= best_ratio and matcher.quick_ratio() >= best_ratio:
            if (ratio := matcher.ratio()) >= best_ratio:
                best, best_ratio = entry, ratio
    return best


def refresh(msgs: list[Message], old: polib.POFile | None, stem: str, lang: str) -> polib.POFile:
    """The catalogue for the English messages ``msgs``, keeping what the ``old`` catalogue had translated.

    A message whose cell and English are unchanged keeps its translation (and fuzzy flag, and translator's
    comments). Text unchanged but moved to another cell keeps it too. Otherwise the most similar old translation
    of the same cell, else of any cell, is carried over marked fuzzy, with its English as ``previous_msgid``.
    Translations no message uses any more are kept as obsolete entries.
    """
    po = new_catalogue(stem, lang)
    old_entries = [e for e in (old or []) if e.msgstr]
    exact = {(e.msgctxt, e.msgid): e for e in old_entries}
    by_text = {e.msgid: e for e in old_entries if usable(e) or (e.obsolete and e.msgstr and not e.fuzzy)}
    used: set[int] = set()
    carried: list[tuple[polib.POEntry, Message]] = []
    for m in msgs:
        entry = polib.POEntry(msgctxt=m.cell_id, msgid=m.text, comment=m.kind)
        if (hit := exact.get((m.cell_id, m.text))) is not None:
            entry.msgstr, entry.tcomment = hit.msgstr, hit.tcomment
            entry.flags, entry.previous_msgid = list(hit.flags), hit.previous_msgid
            used.add(id(hit))
        elif (hit := by_text.get(m.text)) is not None:  # the same English in another cell: the same translation
            entry.msgstr, entry.tcomment = hit.msgstr, hit.tcomment
            used.add(id(hit))
        else:
            carried.append((entry, m))
        po.append(entry)
    for entry, m in carried:  # changed text: after every exact match has claimed its translation
        free = [e for e in old_entries if id(e) not in used]
        hit = best_match(m.text, [e for e in free if e.msgctxt == m.cell_id], FUZZY_SAME_CELL)
        hit = hit or best_match(m.text, free, FUZZY_ANY_CELL)
        if hit is not None:
            entry.msgstr, entry.tcomment, entry.flags = hit.msgstr, hit.tcomment, ["fuzzy"]
            entry.previous_msgid = hit.previous_msgid if hit.fuzzy and hit.previous_msgid else hit.msgid
            used.add(id(hit))
    current = {(e.msgctxt, e.msgid) for e in po}
    for e in old_entries:
        if id(e) not in used and (e.msgctxt, e.msgid) not in current:
            e.obsolete, e.comment, e.occurrences = True, "", []
            po.append(e)
    return po


@dataclass
class Status:
    """How far one notebook's translation is: counts of its messages."""

    notebook: str
    messages: int  # what the English notebook asks for now
    translated: int  # with a usable translation
    stale: int  # translated, but marked fuzzy: the English changed since
    untranslated: int  # in the catalogue, no translation yet
    missing: int  # not in the catalogue at all: the English changed and the catalogue was not refreshed
    problems: list[str]  # one line per message without a usable translation

    def line(self) -> str:
        parts = [f"{self.translated} of {self.messages} messages translated"]
        parts += [f"{self.stale} stale (fuzzy)"] if self.stale else []
        parts += [f"{self.untranslated} untranslated"] if self.untranslated else []
        parts += [f"{self.missing} not in the catalogue (run make zh-refresh)"] if self.missing else []
        return f"{self.notebook}: " + ", ".join(parts)


def status(msgs: list[Message], po: polib.POFile | None, notebook: str) -> Status:
    """Count the messages ``msgs`` by the state of their translation in ``po``, and name each one not translated."""
    table = {(e.msgctxt, e.msgid): e for e in (po or []) if not e.obsolete}
    counts = {"translated": 0, "stale": 0, "untranslated": 0, "missing": 0}
    problems = []
    for m in msgs:
        entry = table.get((m.cell_id, m.text))
        if entry is None:
            state = "missing"
        elif usable(entry):
            state = "translated"
        else:
            state = "stale" if entry.fuzzy and entry.msgstr else "untranslated"
        counts[state] += 1
        if state != "translated":
            first = m.text.strip().splitlines()[0][:70]
            problems.append(f"cell {m.cell_id} ({m.kind}) {state}: {first!r}")
    return Status(notebook, sum(counts.values()), problems=problems, **counts)


# --- The builders' own words (course.po): site labels, the site index, the README table, student starters ---

COURSE = "course"
# Words the site template (tools/templates/course_lab) writes; it shows the English when no translation is given
LABELS = ("Solution", "All notebooks")
# Comments the student copy writes (tools/publish.py: the starter of a checkable solution, the prompt of another)
STUDENT = (
    "Exercise {number}: write your code, put your answers in place of each ____, then run the cell",
    "your code here",
    "Your solution here: write it, run it, then compare with the full notebook.",
)
HTML_LANG = {None: "en", "zh_CN": "zh"}  # <html lang=...> (nbconvert takes ISO 639-1 codes only)


class TextNodes(HTMLParser):
    """The prose of an HTML page between its tags (not code, style or script), with where each piece starts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[tuple[int, int], str]] = []
        self.skip = False

    def handle_starttag(self, tag, attrs):
        self.skip = tag in ("style", "script", "code")

    def handle_endtag(self, tag):
        self.skip = False

    def handle_data(self, data):
        if not self.skip and re.search("[A-Za-z]", data) and "{{" not in data:
            self.found.append((self.getpos(), data))


def html_texts(text: str) -> list[tuple[tuple[int, int], str]]:
    """Each piece of text of the HTML ``text`` with its (line, column) start."""
    parser = TextNodes()
    parser.feed(text)
    parser.close()
    return parser.found


def course_messages() -> list[Message]:
    """The messages of course.po: the site's labels and index page, the README table's column, the student copy's."""
    from tools.publish import TEMPLATES, notebook_table

    msgs = [Message("site", label, "site label") for label in LABELS]
    texts = dict.fromkeys(t.strip() for _, t in html_texts((TEMPLATES / "index.html").read_text()))
    msgs += [Message("index.html", t, "site index page") for t in texts]
    msgs += [
        Message(f"README {n}", learn, "README notebook table: what you learn") for n, *_, learn, _ in notebook_table()
    ]
    return msgs + [Message("student", t, "student copy comment") for t in STUDENT]


def course_table(lang: str | None) -> dict[tuple[str, str], str]:
    """(context, English) -> translation, for every usable entry of ``lang``'s course.po (empty for English)."""
    po = read_catalogue(catalogue_path(COURSE, lang)) if lang else None
    return {(e.msgctxt, e.msgid): e.msgstr for e in (po or []) if usable(e)}


def html_lang(lang: str | None) -> str:
    """The ``<html lang>`` of an edition's pages."""
    return HTML_LANG[lang]


def labels(lang: str | None) -> dict[str, str]:
    """The site template's labels in ``lang``: English -> translation (empty for English: the template's words)."""
    table = course_table(lang)
    return {label: table[("site", label)] for label in LABELS if ("site", label) in table}


def translate_html(text: str, lang: str | None) -> str:
    """The HTML page ``text`` (the site index template) with its text translated and its ``lang`` set."""
    if lang is None:
        return text
    table = course_table(lang)
    lines = text.split("\n")
    for (row, col), data in reversed(html_texts(text)):
        if (translation := table.get(("index.html", data.strip()))) is None:
            continue
        start = sum(len(line) + 1 for line in lines[: row - 1]) + col
        lead = data[: len(data) - len(data.lstrip())]
        tail = data[len(data.rstrip()) :]
        text = text[:start] + lead + html.escape(translation, quote=False) + tail + text[start + len(data) :]
    return text.replace('<html lang="en">', f'<html lang="{html_lang(lang)}">', 1)


def translated_table(rows: list[tuple[str, ...]], lang: str | None) -> list[tuple[str, ...]]:
    """The README's notebook table for ``lang``: each title from the translated notebook's H1, what you learn
    from course.po (English where a translation is missing or stale)."""
    if lang is None:
        return rows
    table, done = course_table(lang), []
    for n, title, stem, learn, runtime in rows:
        h1 = built(NOTEBOOK_DIR / f"{stem}.ipynb", lang)[0].cells[0].source.splitlines()[0]
        title = re.sub(r"^#\s*\d\d\s*·\s*", "", h1) if h1.startswith("# ") else title
        done.append((n, title, stem, table.get((f"README {n}", learn), learn), runtime))
    return done


def translate_student(nb: nbformat.NotebookNode, lang: str) -> nbformat.NotebookNode:
    """A student copy of a ``lang`` edition with the comments the student copy itself writes translated."""
    table = course_table(lang)
    patterns = [
        (re.compile(re.escape(t).replace(r"\{number\}", r"(?P<number>\d+)")), table[("student", t)])
        for t in STUDENT
        if ("student", t) in table
    ]
    for cell in nb.cells:
        if cell.cell_type == "code" and "exercise" in cell.metadata.get("tags", []):
            mine = {}
            for c in comments(cell.source):
                for pattern, translation in patterns:
                    if match := pattern.fullmatch(c.text):
                        mine[c.text] = translation.format(**match.groupdict())
            cell.source = translate_source(cell.source, mine)
    return nb


# --- Building a translated notebook ---


def translate_source(source: str, table: dict[str, str]) -> str:
    """A code cell's ``source`` with each comment message found in ``table`` (English -> translation) replaced."""
    lines = source.split("\n")
    table = {k: LINE_BREAKS.sub(" ", v) for k, v in table.items()}  # only \n may break a translation's lines
    for c in reversed(comments(source)):  # from the end, so that earlier line numbers stay right
        if c.text not in table:
            continue
        new = table[c.text].rstrip().split("\n")
        if c.end_of_line:
            line = lines[c.first]
            lines[c.first] = line[: c.col] + "# " + new[0].strip()  # one line: an end-of-line comment stays one
        else:
            indent = lines[c.first][: c.col]
            lines[c.first : c.last + 1] = [f"{indent}# {t.rstrip()}".rstrip() for t in new]
    return "\n".join(lines)


def translate(nb: nbformat.NotebookNode, po: polib.POFile | None, lang: str, name: str) -> nbformat.NotebookNode:
    """A copy of the English ``nb`` with every usable translation of ``po`` in place: markdown and comments only."""
    nb = nbformat.from_dict(nb)
    table = {(e.msgctxt, e.msgid): e.msgstr for e in (po or []) if usable(e)}
    for cell in nb.cells:
        if cell.cell_type == "markdown" and (cell.id, cell.source) in table:
            cell.source = table[(cell.id, cell.source)]
        elif cell.cell_type == "code":
            mine = {msgid: msgstr for (ctx, msgid), msgstr in table.items() if ctx == cell.id}
            if mine:
                cell.source = translate_source(cell.source, mine)
    nb.metadata[META_KEY] = {"language": lang, "from": f"notebooks/{name}"}
    return nb


def is_translation(nb: nbformat.NotebookNode) -> bool:
    """True for a notebook built by ``build``: a translated edition of a course notebook."""
    return META_KEY in nb.metadata


def built(path: Path, lang: str = DEFAULT_LANGUAGE) -> tuple[nbformat.NotebookNode, Status]:
    """The ``lang`` edition of the English notebook at ``path``, and its translation's status (nothing written)."""
    nb = nbformat.read(path, as_version=4)
    po = read_catalogue(catalogue_path(path, lang))
    return translate(nb, po, lang, path.name), status(messages(nb), po, path.stem)


def build(
    lang: str = DEFAULT_LANGUAGE, out: Path | None = None, paths: list[Path] | None = None, missing_only: bool = False
) -> list[Status]:
    """Write the ``lang`` edition of ``paths`` (default: every notebook) into ``out`` (default build/LANG/notebooks).

    No notebook is executed: the English notebook's stored outputs are kept. ``missing_only`` writes only the
    notebooks not there yet (``make lab LANG=zh_CN`` never overwrites a notebook a learner has saved).
    """
    out = out or edition_dir(lang)
    out.mkdir(parents=True, exist_ok=True)
    done = []
    for path in paths or notebook_paths():
        nb, st = built(path, lang)
        if not (missing_only and (out / path.name).exists()):
            nbformat.write(nb, out / path.name)
        done.append(st)
    return done


def sources() -> dict[str, list[Message]]:
    """Every catalogue's English messages, by catalogue name: one per notebook, and ``course`` (the builders' words)."""
    found = {path.stem: messages(nbformat.read(path, as_version=4)) for path in notebook_paths()}
    return {**found, COURSE: course_messages()}


def refresh_catalogues(lang: str = DEFAULT_LANGUAGE) -> list[Path]:
    """Rewrite every ``lang`` catalogue from the English; return the catalogues that changed."""
    changed = []
    for stem, msgs in sources().items():
        target = catalogue_path(stem, lang)
        po = refresh(msgs, read_catalogue(target), stem, lang)
        text = str(po) + "\n"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            changed.append(target)
    return changed


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.i18n", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "refresh", "status"])
    parser.add_argument("lang", nargs="?", default=DEFAULT_LANGUAGE, choices=LANGUAGES)
    parser.add_argument("--missing-only", action="store_true", help="build only the notebooks not built yet")
    args = parser.parse_args(argv)
    lang = args.lang
    if args.command == "refresh":
        changed = refresh_catalogues(lang)
        for path in changed:
            print(f"updated {path.relative_to(ROOT)}")
        print(f"{len(changed)} catalogues updated, {len(sources()) - len(changed)} already current")
        return 0
    if args.command == "build":
        build(lang, missing_only=args.missing_only)
        print(
            f"wrote {edition_dir(lang).relative_to(ROOT)}/ ({len(notebook_paths())} notebooks, outputs as in English)"
        )
    statuses = [status(msgs, read_catalogue(catalogue_path(stem, lang)), stem) for stem, msgs in sources().items()]
    for st in statuses:
        print(st.line())
    total = sum(st.messages for st in statuses)
    stale = sum(st.stale + st.missing for st in statuses)
    done = sum(st.translated for st in statuses)
    print(f"{done} of {total} messages translated; {stale} stale (English shown instead)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
