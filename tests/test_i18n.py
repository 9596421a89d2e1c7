"""The translated editions (tools/i18n.py): catalogues complete where a translation is finished, code and outputs
of every translated notebook equal to the English ones, fuzzy on a changed source, and the Chinese notebooks of
``tools.i18n.EXECUTED`` run under strict nbval as built."""

from __future__ import annotations

import functools
import io
import os
import re
import subprocess
import sys
import tokenize

import nbformat
import polib
import pytest

from tools import i18n, publish
from tools.nbtools import ROOT, code_cells, notebook_paths

LANG = "zh_CN"
NOTEBOOKS = notebook_paths()
GLOSSARY = i18n.LOCALE_DIR / LANG / "GLOSSARY.md"
SOURCES = functools.cache(i18n.sources)  # every catalogue's English messages, read once


def code_tokens(source: str) -> list[tuple[int, str]]:
    """A code cell's tokens without its comments (and the line ends of comment-only lines): what Python runs."""
    tokens = tokenize.generate_tokens(io.StringIO(i18n.masked(source) + "\n").readline)
    return [(t.type, t.string) for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL)]


# --- Every notebook: the Chinese notebook is the English one with other words in its markdown and comments ---


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chinese_code_and_outputs_equal_the_english_ones(path):
    english = nbformat.read(path, as_version=4)
    chinese, _ = i18n.built(path, LANG)
    assert chinese.metadata.pop(i18n.META_KEY) == {"language": LANG, "from": f"notebooks/{path.name}"}
    assert chinese.metadata == english.metadata
    assert [(c.id, c.cell_type) for c in chinese.cells] == [(c.id, c.cell_type) for c in english.cells]
    for en, zh in zip(english.cells, chinese.cells):
        assert zh.metadata == en.metadata and zh.get("attachments") == en.get("attachments"), en.id
        if en.cell_type == "code":
            assert code_tokens(zh.source) == code_tokens(en.source), f"cell {en.id}: code differs beyond comments"
            assert zh.outputs == en.outputs and zh.execution_count == en.execution_count, en.id
        else:
            assert zh.source.strip(), en.id
    nbformat.validate(chinese)


# --- The notebooks of i18n.TRANSLATED: every message has a current translation ---


def required(stem: str) -> list[i18n.Message]:
    """The messages a finished translation must have: all of a notebook's; of course.po, all but the README rows of
    notebooks not translated yet."""
    msgs = SOURCES()[stem]
    if stem != i18n.COURSE:
        return msgs
    done = i18n.TRANSLATED[LANG]
    return [m for m in msgs if not m.cell_id.startswith("README ") or m.cell_id.split()[1] in done]


def catalogue_params():
    params = []
    for path in NOTEBOOKS:
        done = path.name[:2] in i18n.TRANSLATED[LANG]
        reason = f"{path.stem} is not in tools.i18n.TRANSLATED yet: add it when its translation lands"
        params.append(pytest.param(path.stem, id=path.stem, marks=() if done else pytest.mark.xfail(strict=True, reason=reason)))
    return params + [pytest.param(i18n.COURSE, id=i18n.COURSE)]


@pytest.mark.parametrize("stem", catalogue_params())
def test_every_message_has_a_current_translation(stem):
    """Fails on a message missing from the catalogue (the English changed: `make zh-refresh`), stale (fuzzy: check
    the translation against the new English, then remove the flag) or untranslated, and names each."""
    st = i18n.status(required(stem), i18n.read_catalogue(i18n.catalogue_path(stem, LANG)), stem)
    assert not st.problems, f"{st.line()}:\n" + "\n".join(st.problems)


def test_every_notebook_has_its_catalogue_and_no_other():
    folder = i18n.LOCALE_DIR / LANG / "LC_MESSAGES"
    assert sorted(p.stem for p in folder.glob("*.po")) == sorted([p.stem for p in NOTEBOOKS] + [i18n.COURSE])
    for stem in [p.stem for p in NOTEBOOKS] + [i18n.COURSE]:
        po = i18n.read_catalogue(i18n.catalogue_path(stem, LANG))
        assert po.metadata["Language"] == LANG and po.metadata["Content-Type"] == "text/plain; charset=UTF-8"


def finished_catalogues() -> list[polib.POFile]:
    """The catalogues of the translated notebooks, and course.po."""
    paths = [p for p in NOTEBOOKS if p.name[:2] in i18n.TRANSLATED[LANG]]
    return [i18n.read_catalogue(i18n.catalogue_path(name, LANG)) for name in [*(p.name for p in paths), i18n.COURSE]]


def test_translations_break_no_markdown_line_between_chinese_characters():
    """A line break between two Chinese characters renders as a space: a translated paragraph stays on one line."""
    for po in finished_catalogues():
        for e in po:
            if e.comment == i18n.MARKDOWN and i18n.usable(e):
                assert not re.search(r"[\u3000-\u9fff\uff00-\uffef]\n[\u3000-\u9fff\uff00-\uffef]", e.msgstr), e.msgctxt


def glossary() -> list[tuple[str, list[str]]]:
    rows = re.findall(r"^\| ([^|]+?) \| ([^|]+?) \|", GLOSSARY.read_text(encoding="utf-8"), re.M)
    return [(en, [t.strip() for t in zh.split(" / ")]) for en, zh in rows if en not in ("English", "---")]


def prose(text: str) -> str:
    """``text`` without code spans and maths, which are never translated."""
    return re.sub(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)


def test_translations_use_the_glossary():
    terms = glossary()
    assert len(terms) >= 40 and ("tensor", ["张量"]) in terms and ("minibatch", ["小批量"]) in terms
    wrong = []
    for po in finished_catalogues():
        for e in po:
            if not i18n.usable(e):
                continue
            for en, zh in terms:
                pattern = r"\b" + r"\s+".join(re.escape(w) + "(?:s|es)?" for w in en.split()) + r"\b"
                if re.search(pattern, prose(e.msgid), re.I) and not any(t in e.msgstr for t in zh):
                    wrong.append(f"{po.metadata['Project-Id-Version']} {e.msgctxt}: {en!r} is not {' / '.join(zh)}")
    assert wrong == [], "\n".join(wrong)


# --- The mechanism, on a tiny notebook ---

SOURCE = """# purpose: add two numbers
# (the second line of the same comment)
total = 1 + 2  # an end-of-line comment
text = "a # inside a string is code"
shape = (2, 3)  # (N, H)
total"""


def tiny() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · Tiny\n\nSome prose."), nbformat.v4.new_code_cell(SOURCE)]
    nb.cells[0].id, nb.cells[1].id = "md-cell", "code-cell"
    return nb


def test_messages_are_markdown_cells_and_comments_found_by_the_tokenizer():
    found = [(m.cell_id, m.text, m.kind) for m in i18n.messages(tiny())]
    assert found == [
        ("md-cell", "# 01 · Tiny\n\nSome prose.", i18n.MARKDOWN),
        ("code-cell", "purpose: add two numbers\n(the second line of the same comment)", i18n.COMMENT),
        ("code-cell", "an end-of-line comment", i18n.END_OF_LINE),
    ]  # not the '#' in the string, not the shape (N, H)


def test_translate_replaces_comments_only_and_keeps_code_byte_identical():
    table = {"purpose: add two numbers\n(the second line of the same comment)": "用途：把两个数相加",
             "an end-of-line comment": "行尾注释\nprint('injected')"}
    out = i18n.translate_source(SOURCE, table)
    assert out.splitlines()[:2] == ["# 用途：把两个数相加", "total = 1 + 2  # 行尾注释"]  # a new line stays a comment
    assert out.splitlines()[2:] == SOURCE.splitlines()[3:]
    assert code_tokens(out) == code_tokens(SOURCE)
    assert code_tokens(i18n.translate_source(SOURCE, {"an end-of-line comment": "a\rprint('injected')"})) == code_tokens(SOURCE)


def translated_catalogue(nb, lang=LANG) -> polib.POFile:
    po = i18n.refresh(i18n.messages(nb), None, "01_tiny", lang)
    for e in po:
        e.msgstr = {"md-cell": "# 01 · 小例子\n\n一些文字。"}.get(e.msgctxt, "注释：" + e.msgid.replace("\n", " "))
    return po


def test_build_uses_current_translations_and_keeps_english_for_stale_ones(tmp_path):
    nb = tiny()
    po = translated_catalogue(nb)
    path = tmp_path / "01_tiny.po"
    po.save(str(path))
    po = i18n.read_catalogue(path)  # what polib wrote reads back as it was
    assert [e.msgstr for e in po] == [e.msgstr for e in translated_catalogue(nb)]
    zh = i18n.translate(nb, po, LANG, "01_tiny.ipynb")
    assert zh.cells[0].source == "# 01 · 小例子\n\n一些文字。" and zh.cells[1].source.startswith("# 注释：purpose")
    assert i18n.status(i18n.messages(nb), po, "01_tiny").line() == "01_tiny: 3 of 3 messages translated"

    nb.cells[0].source = "# 01 · Tiny\n\nSome more prose."  # the English changes
    st = i18n.status(i18n.messages(nb), po, "01_tiny")
    assert (st.translated, st.missing) == (2, 1) and "not in the catalogue" in st.line()
    fresh = i18n.refresh(i18n.messages(nb), po, "01_tiny", LANG)
    entry = next(e for e in fresh if e.msgctxt == "md-cell" and not e.obsolete)
    assert entry.fuzzy and entry.previous_msgid == "# 01 · Tiny\n\nSome prose." and entry.msgstr.startswith("# 01 · 小例子")
    assert i18n.translate(nb, fresh, LANG, "01_tiny.ipynb").cells[0].source == nb.cells[0].source  # English shown
    st = i18n.status(i18n.messages(nb), fresh, "01_tiny")
    assert (st.translated, st.stale) == (2, 1) and st.problems == ["cell md-cell (markdown cell) stale: '# 01 · Tiny'"]
    assert str(i18n.refresh(i18n.messages(nb), fresh, "01_tiny", LANG)) == str(fresh)  # a second refresh: no change

    entry.flags.remove("fuzzy")  # a translator checked it
    assert i18n.translate(nb, fresh, LANG, "01_tiny.ipynb").cells[0].source.startswith("# 01 · 小例子")


def test_refresh_keeps_moved_text_and_makes_removed_text_obsolete():
    nb = tiny()
    po = translated_catalogue(nb)
    nb.cells[1].id = "new-id"  # the same code cell, recreated
    nb.cells[1].source = SOURCE.replace("  # an end-of-line comment", "")
    fresh = i18n.refresh(i18n.messages(nb), po, "01_tiny", LANG)
    moved = next(e for e in fresh if e.msgctxt == "new-id")
    assert moved.msgstr.startswith("注释：purpose") and not moved.fuzzy
    assert [e.msgid for e in fresh if e.obsolete] == ["an end-of-line comment"]  # kept for a translator, not used
    assert i18n.usable(fresh.find("an end-of-line comment", include_obsolete_entries=True)) is False


def test_student_copy_comments_are_the_ones_tools_publish_writes():
    """course.po translates the comments a student copy gets: they must be the ones publish.py writes."""
    starter = publish.starter("x = 1\nex2.check()", ("x",)).splitlines()
    assert starter[0] == "# " + i18n.STUDENT[0].format(number=2)
    assert publish.SOLUTION_PROMPT == "# " + i18n.STUDENT[2]
    assert ("  # " + i18n.STUDENT[1]) in publish.starter("def f(x):\n    return x\nex1.check()", ("f",))


def test_chinese_student_copy_translates_its_starters(tmp_path):
    nb = nbformat.read(NOTEBOOKS[0], as_version=4)
    zh = publish.student_copy(i18n.built(NOTEBOOKS[0], LANG)[0], answers=publish.exercise_answers(NOTEBOOKS[0]))
    zh = i18n.translate_student(zh, LANG)
    en = publish.student_copy(nb, answers=publish.exercise_answers(NOTEBOOKS[0]))
    starters = [(e.source, z.source) for e, z in zip(en.cells, zh.cells) if "exercise" in e.metadata.get("tags", [])]
    assert len(starters) == 3
    for e, z in starters:
        assert code_tokens(z) == code_tokens(e) and z.startswith("# 练习 ") and "Exercise" not in z


def test_make_targets_build_and_open_the_chinese_edition():
    def make(*args: str, **env: str) -> str:
        cmd = ["make", "--no-print-directory", "-n", *args]
        return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, env={**os.environ, **env}).stdout

    assert "-m tools.i18n build zh_CN" in make("zh") and "-m tools.i18n refresh zh_CN" in make("zh-refresh")
    lab = make("lab", "LANG=zh_CN")
    assert "-m tools.i18n build zh_CN --missing-only" in lab and "--ServerApp.root_dir=build/zh_CN/notebooks" in lab
    assert "--ServerApp.root_dir=notebooks " in make("lab", LANG="zh_CN.UTF-8")  # the locale does not choose it
    for what in ("site", "slides", "student"):
        assert f"-m tools.publish {what} --lang zh_CN" in make(what, "LANG=zh_CN")


# --- The Chinese notebooks of i18n.EXECUTED run under strict nbval, as built ---


@pytest.mark.parametrize("number", sorted(i18n.EXECUTED[LANG]))
def test_chinese_notebook_runs_under_strict_nbval(number, tmp_path):
    path = next(p for p in NOTEBOOKS if p.name.startswith(number))
    i18n.build(LANG, out=tmp_path, paths=[path])
    built = tmp_path / path.name
    cmd = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
           "-p", "conftest", "-n", "0", "-q", str(built)]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    cells = len(code_cells(nbformat.read(built, as_version=4)))
    assert f"{cells + 1} passed" in result.stdout, result.stdout[-2000:]  # every cell, and the in-order guard
