"""Build what learners and instructors open: student copies, offline slide decks and a static site.

    python -m tools.publish student   # build/student/NN_topic.ipynb: no outputs, solutions blanked
    python -m tools.publish slides    # build/slides/NN_topic.slides.html: reveal.js, works offline
    python -m tools.publish site      # build/site/index.html + one page per executed notebook
    python -m tools.publish site --lang zh_CN   # the same for a translated edition, under build/zh_CN/

Front-end assets (reveal.js, require.js, jQuery, MathJax 2) are vendored at build time from the npm
registry with ``npm pack`` (cached in build/vendor/), never loaded from the internet by the pages.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import nbformat

from helpers.exercises import Exercise
from tools import i18n, slides
from tools.nbtools import ROOT, notebook_paths

BUILD = ROOT / "build"
TEMPLATES = Path(__file__).resolve().parent / "templates"
NPM_PACKAGES = {"reveal.js": "4.6.0", "requirejs": "2.3.8", "jquery": "3.8.0", "mathjax": "2.7.9"}
MATHJAX_PARTS = [
    "MathJax.js",
    "config",
    "extensions",
    "jax/element",
    "jax/input/TeX",
    "jax/output/CommonHTML",
    "fonts/HTML-CSS/TeX/woff",
    "localization/en",
]
SOLUTION_PROMPT = "# Your solution here: write it, run it, then compare with the full notebook."


def is_solution(cell: nbformat.NotebookNode) -> bool:
    """True for a code cell tagged ``solution``."""
    return cell.cell_type == "code" and "solution" in cell.metadata.get("tags", [])


def is_check(cell) -> bool:
    """A hidden regression check: run by the tests with the notebook, never shown on the site, slides or student copy."""
    return cell.cell_type == "code" and "check" in cell.metadata.get("tags", [])


def without_checks(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy of ``nb`` without its ``check`` cells: what learners and instructors are shown."""
    nb = nbformat.from_dict(nb)
    nb.cells = [cell for cell in nb.cells if not is_check(cell)]
    return nb


CHECK_CALL = re.compile(r"^ex(\d+)\.check\(\)$")


def checked_exercise(source: str) -> int | None:
    """The N of the ``exN.check()`` that ends a cell, or None if the cell does not end with one."""
    lines = source.strip().splitlines()
    match = CHECK_CALL.match(lines[-1].strip()) if lines else None
    return int(match.group(1)) if match else None


def starter(source: str, answers: tuple[str, ...]) -> str | None:
    """Turn a checkable solution cell into the student's starter, or return None if it is not checkable.

    A checkable solution ends with ``exN.check()``. The starter keeps only the answers' names and shapes, with
    ``____`` where the learner writes: ``name = ____`` for an assigned answer, the ``def`` line (and docstring) with
    ``return ____`` for a function, the class line and its methods' signatures for a class; then the same
    ``exN.check()``. Nothing else of the worked solution is shown.
    """
    import ast

    number = checked_exercise(source)
    if not answers or number is None:
        return None
    lines = [f"# Exercise {number}: write your code, put your answers in place of each ____, then run the cell"]

    def blank(node: ast.FunctionDef | ast.ClassDef, indent: str = "") -> list[str]:
        """The decorators and signature of a def (or class, with its methods blanked), then ``return ____``."""

        def start(n: ast.stmt) -> int:
            return min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])])

        text = source.splitlines()[start(node) - 1 : start(node.body[0]) - 1]
        doc = ast.get_docstring(node)
        inner = indent + "    "
        text += [f'{inner}"""{doc}"""'] if doc else []
        if isinstance(node, ast.ClassDef):
            methods = [m for m in node.body if isinstance(m, ast.FunctionDef)]
            return text + [line for m in methods for line in ["", *blank(m, inner)]][1:]
        return text + [f"{inner}return ____  # your code here"]

    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in answers:
            lines += blank(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [n for t in targets for n in ([t] if isinstance(t, ast.Name) else getattr(t, "elts", []))]
            lines += [f"{n.id} = ____" for n in names if isinstance(n, ast.Name) and n.id in answers]
    return "\n".join([*lines, f"ex{number}.check()"])


def exercise_answers(path: Path) -> dict[int, tuple[str, ...]]:
    """The answer names of each checkable exercise of the notebook at ``path`` (from ``helpers.exercises.nbNN``)."""
    import importlib

    try:
        module = importlib.import_module(f"helpers.exercises.nb{path.name[:2]}")
    except ModuleNotFoundError:
        return {}
    return {ex.number: ex.answers for ex in vars(module).values() if isinstance(ex, Exercise)}


def student_copy(
    nb: nbformat.NotebookNode, keep_checks: bool = False, answers: dict[int, tuple[str, ...]] | None = None
) -> nbformat.NotebookNode:
    """Return ``nb`` with outputs cleared, check cells dropped, and each solution replaced by the learner's starter.

    A checkable solution (one that ends with ``exN.check()``, ``answers`` naming what exercise N asks for) becomes
    a starter with ``____`` placeholders; any other solution becomes an empty prompt cell. ``keep_checks=True``
    keeps the check cells in place (the tests run them with the student copy).
    """
    nb = nbformat.from_dict(nb) if keep_checks else without_checks(nb)
    cells = []
    for cell in nb.cells:
        if is_solution(cell):
            number = checked_exercise(cell.source)
            source = starter(cell.source, (answers or {}).get(number, ())) if number else None
            cell = nbformat.v4.new_code_cell(
                source or SOLUTION_PROMPT,
                metadata={"tags": ["exercise"], "slideshow": cell.metadata.get("slideshow", {"slide_type": "-"})},
            )
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return nb


def read(path: Path, lang: str | None = None) -> nbformat.NotebookNode:
    """The notebook at ``path``, or its ``lang`` edition (translated in memory by ``tools.i18n``)."""
    return nbformat.read(path, as_version=4) if lang is None else i18n.built(path, lang)[0]


def export(exporter, path: Path, lang: str | None = None, shown=without_checks) -> str:
    """Convert the notebook at ``path`` as the site or the slides show it (``shown``: every cell but the checks)."""
    resources = {"metadata": {"name": path.stem, "path": str(path.parent)}, "labels": i18n.labels(lang)}
    body, _ = exporter.from_notebook_node(shown(read(path, lang)), resources=resources)
    return body


def edition(what: str, lang: str | None) -> Path:
    """Where ``what`` (student, slides, site) is built: build/what, or build/LANG/what for a translated edition."""
    return BUILD / what if lang is None else BUILD / lang / what


def build_student(out: Path | None = None, lang: str | None = None) -> list[Path]:
    """Write one student copy per notebook into ``out``."""
    out = out or edition("student", lang)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebook_paths():
        nb = student_copy(read(path, lang), answers=exercise_answers(path))
        nb = i18n.translate_student(nb, lang) if lang else nb
        nbformat.write(nb, dest := out / path.name)
        written.append(dest)
    return written


NPM_TIMEOUT = 120  # seconds for one `npm pack`: ample online (about 5 s here), and an offline build stops in 2 min


class BuildError(SystemExit):
    """A build step failed: the message (printed without a traceback) says why and what to do."""


def npm_pack(spec: str, vendor: Path) -> str:
    """Run ``npm pack spec`` in ``vendor`` and return the tarball's name; a BuildError says what to do if it fails."""
    if (npm := shutil.which("npm")) is None:
        raise BuildError(
            f"npm is not installed, and slides and the site need {spec} from the npm registry once. "
            f"Install Node.js with npm (for example `apt install npm`), then build once online; "
            f"the packages are kept in {vendor}/ and later builds need no network."
        )
    retry = (
        f"Build once with a network (the packages are then kept in {vendor}/ and later builds need none), "
        f"or copy {vendor}/ from a machine where `make slides` worked."
    )
    try:
        result = subprocess.run(
            [npm, "pack", spec, "--prefer-offline", "--loglevel=error"],
            cwd=vendor,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BuildError(
            f"`npm pack {spec}` did not finish within {NPM_TIMEOUT} s: is the npm registry reachable? " + retry
        ) from None
    if result.returncode != 0 or not result.stdout.strip():
        raise BuildError(
            f"`npm pack {spec}` failed (exit status {result.returncode}); npm said:\n"
            f"{result.stderr.strip() or '(nothing)'}\n" + retry
        )
    return result.stdout.strip().splitlines()[-1]


def npm_package(name: str, version: str) -> Path:
    """Return the unpacked npm package ``name@version``, fetched once with ``npm pack`` into build/vendor."""
    vendor = BUILD / "vendor"
    unpacked = vendor / f"{name}-{version}"
    if not (unpacked / "package" / "package.json").exists():
        vendor.mkdir(parents=True, exist_ok=True)
        tgz = npm_pack(f"{name}@{version}", vendor)
        with tarfile.open(vendor / tgz) as tar:
            tar.extractall(unpacked, filter="data")
    return unpacked / "package"


def vendor_assets(dest: Path) -> None:
    """Copy the front-end files the pages need into ``dest`` (an ``assets/`` folder beside them)."""
    pkgs = {name: npm_package(name, version) for name, version in NPM_PACKAGES.items()}
    for sub in ("dist", "plugin"):
        shutil.copytree(pkgs["reveal.js"] / sub, dest / "reveal.js" / sub, dirs_exist_ok=True)
    shutil.copy2(pkgs["requirejs"] / "require.js", dest / "require.js")
    shutil.copy2(pkgs["jquery"] / "dist" / "jquery.min.js", dest / "jquery.min.js")
    for part in MATHJAX_PARTS:
        src, target = pkgs["mathjax"] / part, dest / "mathjax" / part
        if src.is_dir():
            shutil.copytree(src, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


# nbconvert settings that point the pages at the vendored ``assets/`` instead of CDNs.
OFFLINE = {
    "require_js_url": "assets/require.js",
    "extra_template_basedirs": [str(TEMPLATES)],
    "mathjax_url": "assets/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
}


def build_slides(out: Path | None = None, lang: str | None = None) -> list[Path]:
    """Write a reveal.js deck per notebook, from its ``slideshow`` cell metadata."""
    from nbconvert import SlidesExporter

    out = out or edition("slides", lang)
    vendor_assets(out / "assets")
    exporter = SlidesExporter(
        template_name="course_reveal",
        reveal_url_prefix="assets/reveal.js",
        reveal_theme="white",
        jquery_url="assets/jquery.min.js",
        reveal_width=str(slides.WIDTH),
        reveal_height=str(slides.HEIGHT),
        reveal_number="c/t",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        language_code=i18n.html_lang(lang),
        **OFFLINE,
    )
    label = i18n.labels(lang).get("Solution", "Solution")
    written = []
    for path in notebook_paths():
        shown = lambda nb: slides.deck(without_checks(nb), label)  # noqa: E731
        (dest := out / f"{path.stem}.slides.html").write_text(export(exporter, path, lang, shown))
        written.append(dest)
    return written


def notebook_table() -> list[tuple[str, str, str, str, str]]:
    """Rows (number, link text, notebook stem, what you learn, runtime) of the README's notebook table."""
    rows = re.findall(
        r"^\| (\d\d) \| \[([^\]]+)\]\(notebooks/(\S+?)\.ipynb\) \| (.+?) \| (.+?) \|$",
        (ROOT / "README.md").read_text(),
        re.M,
    )
    return [(num, title, stem, learn, runtime) for num, title, stem, learn, runtime in rows]


def build_site(out: Path | None = None, lang: str | None = None) -> list[Path]:
    """Write ``index.html`` (the README's notebook table) and every executed notebook as HTML."""
    from nbconvert import HTMLExporter

    out = out or edition("site", lang)
    vendor_assets(out / "assets")
    exporter = HTMLExporter(template_name="course_lab", language_code=i18n.html_lang(lang), **OFFLINE)
    written = []
    for path in notebook_paths():
        (dest := out / f"{path.stem}.html").write_text(export(exporter, path, lang))
        written.append(dest)
    rows = "\n".join(
        f'<tr><td>{n}</td><td><a href="{stem}.html">{html.escape(title)}</a></td>'
        f"<td>{html.escape(learn)}</td><td>{html.escape(rt)}</td></tr>"
        for n, title, stem, learn, rt in i18n.translated_table(notebook_table(), lang)
    )
    index = i18n.translate_html((TEMPLATES / "index.html").read_text(), lang).replace("{{rows}}", rows)
    (out / "index.html").write_text(index)
    return [out / "index.html", *written]


def main(argv: list[str]) -> int:
    builders = {"student": build_student, "slides": build_slides, "site": build_site}
    lang = None
    if "--lang" in argv:  # a translated edition (tools.i18n), written under build/LANG/
        i = argv.index("--lang")
        lang, argv = (argv[i + 1] if i + 1 < len(argv) else ""), argv[:i] + argv[i + 2 :]
    if not argv or any(a not in builders for a in argv) or lang not in (None, *i18n.LANGUAGES):
        print(__doc__, file=sys.stderr)
        return 2
    for what in argv:
        for path in builders[what](lang=lang):
            print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
