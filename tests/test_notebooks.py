"""Notebook hygiene (static) and proof that the nbval pipeline catches what it must catch.

That each notebook's code cells ran once, in order, is checked by the ``executed-in-order`` item ``conftest.py`` adds
to every notebook nbval collects; the pipeline tests below prove it catches a notebook that did not.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tokenize
from xml.etree import ElementTree
from pathlib import Path

import nbformat
import pytest

from tools.nbtools import ROOT, code_cells, execute, notebook_paths, unsafe_torch_loads
from tools.publish import is_check, without_checks

NOTEBOOKS = notebook_paths()
ABSOLUTE_PATH = re.compile(r"/(home|root|tmp|work|Users|usr|opt|var)/\w")


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def marked_to_raise(cell) -> bool:
    return "raises-exception" in cell.metadata.get("tags", [])


def test_there_are_notebooks_numbered_contiguously_from_01():
    assert NOTEBOOKS, "no notebooks found"
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    for p in NOTEBOOKS:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", p.name), p.name


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def nb(request):
    return read(request.param)


def test_opening_and_closing_sections(nb):
    md = markdown(nb)
    assert re.match(r"# \d\d · ", nb.cells[0].source), "first cell must be the H1 title"
    for head in ("You will learn", "Prerequisites", "Summary", "Exercises"):
        assert re.search(rf"^##\s+{head}", md, re.M), head


def test_at_least_three_exercises_each_followed_by_a_hidden_solution(nb):
    exercises = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and re.match(r"###\s+Exercise", c.source)]
    assert len(exercises) >= 3
    for i in exercises:
        sol = nb.cells[i + 1]
        assert sol.cell_type == "code" and "solution" in sol.metadata.get("tags", []), nb.cells[i].source[:40]
        assert sol.metadata.get("jupyter", {}).get("source_hidden") is True
    assert sum("solution" in c.metadata.get("tags", []) for c in nb.cells) == len(exercises)


def test_no_error_outputs_outside_cells_marked_to_raise(nb):
    for cell in code_cells(nb):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors or marked_to_raise(cell), cell.source[:60]


def test_no_absolute_paths_warnings_or_figure_reprs_in_outputs(nb):
    for cell in code_cells(nb):
        text = json.dumps([o for o in cell.outputs if o.output_type != "display_data"])  # tracebacks too
        assert not ABSOLUTE_PATH.search(text), cell.source[:60]
        assert "Warning" not in "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr"), cell.source[:60]
        assert "<Figure size" not in text and "<matplotlib." not in text, f"end plot cells with plt.show(): {cell.source[:60]}"


def test_test_markers_are_tags_not_comments(nb):
    """Learners read every visible line: nbval's instructions are cell tags, never `# NBVAL_...` comments."""
    for cell in code_cells(nb):
        assert not re.search(r"^\s*#\s*NBVAL_", cell.source, re.M), cell.source[:60]


# Words that belong to the maintainers' side (README, tests), not to a lesson.
HARNESS_WORDS = re.compile(r"\bnbval\b|NBVAL_|\bnot compared\b|\bstored outputs?\b|\bCI\b|course's checks|"
                           r"\btest suite\b|\bthe suite\b", re.I)


def comments(source: str) -> list[str]:
    """The ``#`` comments of a code cell (IPython-only lines are skipped)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return [line for line in lines if line.lstrip().startswith("#")]
    return [t.string for t in tokens if t.type == tokenize.COMMENT]


def test_lessons_do_not_talk_about_the_test_harness(nb):
    """Every visible cell is for the learner: nbval, CI and stored outputs are the README's business."""
    for cell in without_checks(nb).cells:
        text = cell.source if cell.cell_type == "markdown" else "\n".join(comments(cell.source))
        found = HARNESS_WORDS.search(text)
        assert not found, f"{found.group(0)!r} in: {cell.source[:80]}"


def test_check_cells_are_hidden_silent_and_off_the_slides(nb):
    """A check cell guards against regressions only: collapsed, printing nothing, never a solution, never a slide."""
    for cell in nb.cells:
        if is_check(cell):
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, cell.source[:60]
            assert cell.outputs == [], f"a check cell prints nothing: {cell.source[:60]}"
            assert "solution" not in cell.metadata.get("tags", []), cell.source[:60]
            assert cell.metadata["slideshow"]["slide_type"] == "skip", cell.source[:60]


def test_metadata_kernelspec_and_no_run_state(nb):
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb.metadata
    for cell in nb.cells:
        assert "execution" not in cell.metadata and "ExecuteTime" not in cell.metadata


def test_cells_carry_slide_metadata(nb):
    for cell in nb.cells:
        assert cell.metadata.get("slideshow", {}).get("slide_type") in {"slide", "subslide", "fragment", "-", "skip", "notes"}
        if cell.cell_type == "markdown" and re.match(r"#{1,2} ", cell.source):
            assert cell.metadata["slideshow"]["slide_type"] == "slide", cell.source[:40]


def test_torch_load_is_weights_only_and_nothing_is_unpickled(nb):
    for cell in code_cells(nb):
        assert unsafe_torch_loads(cell.source) == []
        assert not re.search(r"\b(import pickle|pickle\.load|pd\.read_pickle)", cell.source)


# --- The pipeline itself: nbval must fail a tampered output and the guard an unexecuted notebook. ---

def tiny_notebook() -> nbformat.NotebookNode:
    """Two code cells in plain Python: what the pipeline checks does not depend on the code, and a kernel that does
    not import torch starts in a fraction of the time (the pipeline below starts five)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · Tiny"),
                nbformat.v4.new_code_cell("x = [[0, 1, 2], [3, 4, 5]]\n[sum(column) for column in zip(*x)]"),
                nbformat.v4.new_code_cell("print(len(x), len(x[0]))")]
    return nb


@pytest.fixture(scope="module")
def executed_tiny(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nb") / "01_tiny.ipynb"
    nbformat.write(tiny_notebook(), path)
    execute(path)
    return path


def damaged(nb: nbformat.NotebookNode, damage: str) -> nbformat.NotebookNode:
    """``nb`` with one kind of damage: a tampered output, or execution counts nbval would not notice."""
    nb = nbformat.from_dict(nb)
    if damage == "tampered":
        nb.cells[1].outputs[0]["data"]["text/plain"] = "[3, 5, 8]"  # really [3, 5, 7]
    for i, cell in enumerate(code_cells(nb)):
        if damage == "never executed":
            cell.execution_count, cell.outputs = None, []
        elif damage == "out of order":
            cell.execution_count = 2 - i
            for out in cell.outputs:
                if "execution_count" in out:
                    out.execution_count = cell.execution_count
    return nb


@pytest.fixture(scope="module")
def pipeline(executed_tiny, tmp_path_factory) -> dict[str, dict[str, str | None]]:
    """Run the course's pytest configuration (strict nbval, sanitize file, guard) once, as `make test` does, over the
    honest notebook and three damaged copies; return, per copy, each item's failure message (None if it passed)."""
    folder = tmp_path_factory.mktemp("pipeline")
    for damage in ("honest", "tampered", "never executed", "out of order"):
        nbformat.write(damaged(read(executed_tiny), damage), folder / f"01_{damage.replace(' ', '_')}.ipynb")
    cmd = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
           "-p", "conftest", "-n", "0", "-q", "-k", "honest or not student-copy-runs-twice",  # the re-run item: once
           f"--junitxml={folder / 'report.xml'}", str(folder)]
    subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    results: dict[str, dict[str, str | None]] = {}
    for case in ElementTree.parse(folder / "report.xml").iter("testcase"):
        failure = case.find("failure") if case.find("failure") is not None else case.find("error")
        damage = case.get("classname").removesuffix(".ipynb")[3:].replace("_", " ")
        results.setdefault(damage, {})[case.get("name")] = None if failure is None else failure.get("message", "")
    return results


def test_pipeline_passes_an_honest_notebook(pipeline):
    # the in-order guard, the runs-twice item and both cells
    assert pipeline["honest"] == dict.fromkeys(["Cell 0", "Cell 1", "executed-in-order", "student-copy-runs-twice"])


def test_pipeline_fails_a_tampered_output(pipeline):
    failed = [name for name, failure in pipeline["tampered"].items() if failure is not None]
    assert failed == ["Cell 0"], pipeline["tampered"]


@pytest.mark.parametrize("damage", ["never executed", "out of order"])
def test_guard_fails_a_notebook_nbval_would_pass_silently(pipeline, damage):
    failure = pipeline[damage]["executed-in-order"]
    assert failure is not None and "make outputs" in failure, pipeline[damage]


def test_regeneration_writes_identical_files(executed_tiny, tmp_path):
    """`make outputs` twice leaves no diff: no timings, widget state or version drift is stored."""
    again = tmp_path / "01_tiny.ipynb"
    again.write_text(executed_tiny.read_text())
    execute(again)
    assert again.read_text() == executed_tiny.read_text()
