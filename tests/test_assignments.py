"""Graded assignments (`make assignments`, tools/assignments.py), driven through the real nbgrader.

The course directory is written by the tool into a temporary folder (what `make assignments` writes to build/nbgrader),
then `nbgrader generate_assignment` releases every notebook, and for two quick notebooks the source notebook (every
solution in) and the untouched release copy are submitted, autograded and exported to the grades CSV.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.exercises import ____
from helpers.exercises.nb01 import ex2
from tools.assignments import BEGIN, CONFIG, END, POINTS, answer_source, build_assignments
from tools.nbtools import ROOT, notebook_paths
from tools.publish import checked_exercise, is_solution

needs_nbgrader = pytest.mark.skipif(
    importlib.util.find_spec("nbgrader") is None,
    reason="assignments tests skipped: nbgrader is not installed (make assignments installs it)",
)
GRADED = ["01_numpy_network", "04_custom_function"]  # two notebooks that run in seconds
STUDENTS = {"solved": "source", "untouched": "release"}  # student id: the copy each submits


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``nbgrader args...`` in ``course`` as an instructor's shell does (README): the venv's bin first on PATH
    (nbgrader calls ``alembic`` from there), and Python's default warnings, as in ``make lab``."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("PYTHONWARNINGS", None)  # warnings as errors is the tests' policy, not nbgrader's nor its kernels'
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


def meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def graded_notebook(course: Path, folder: str, stem: str) -> nbformat.NotebookNode:
    return nbformat.read(course / folder / stem / f"{stem}.ipynb", as_version=4)


def errors_of_test_cells(nb: nbformat.NotebookNode) -> dict[str, tuple[str, ...]]:
    """The error messages each autograded test cell of an autograded notebook ended with, by grade id."""
    return {meta(c)["grade_id"]: tuple(o.evalue for o in c.outputs if o.output_type == "error")
            for c in nb.cells if meta(c).get("grade") and not meta(c)["solution"]}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course directory from the tool, every notebook released with `nbgrader generate_assignment`."""
    out = tmp_path_factory.mktemp("nbgrader")
    build_assignments(out)
    nbgrader(out, "generate_assignment", "*")
    return out


def test_make_assignments_installs_the_instructor_lock_then_runs_the_tool_and_ci_runs_it_before_the_tests():
    run = subprocess.run(["make", "--no-print-directory", "-n", "-B", "assignments"], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    commands = run.stdout.splitlines()
    lock = next(i for i, c in enumerate(commands) if "pip install --quiet -r requirements.lock" in c)
    instructor = next(i for i, c in enumerate(commands) if "pip install --quiet -r requirements-instructor.lock" in c)
    assert lock < instructor < len(commands) - 1 and commands[-1].endswith("-m tools.assignments"), commands
    ci = (ROOT / ".ci/run").read_text().splitlines()
    assert ci.index("make assignments") < next(i for i, line in enumerate(ci) if line.startswith("make test"))


def test_the_tool_writes_a_config_and_one_source_notebook_per_notebook_and_keeps_an_edited_config(tmp_path):
    written = build_assignments(tmp_path)
    stems = [p.stem for p in notebook_paths()]
    assert written == [tmp_path / "nbgrader_config.py"] + [tmp_path / "source" / s / f"{s}.ipynb" for s in stems]
    assert (tmp_path / "nbgrader_config.py").read_text() == CONFIG
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()  # the instructor's own\n")
    assert tmp_path / "nbgrader_config.py" not in build_assignments(tmp_path)
    assert (tmp_path / "nbgrader_config.py").read_text() == "c = get_config()  # the instructor's own\n"


def test_every_exercise_is_an_answer_cell_and_every_checkable_one_has_a_test_cell(tmp_path):
    build_assignments(tmp_path)
    for path in notebook_paths():
        solutions = [c for c in nbformat.read(path, as_version=4).cells if is_solution(c)]
        cells = graded_notebook(tmp_path, "source", path.stem).cells
        assert all(meta(c) for c in cells), f"{path.name}: a cell without nbgrader metadata"
        assert not [c for c in cells if c.cell_type == "code" and c.outputs], path.name
        assert not [c for c in cells if "check" in c.metadata.get("tags", [])], f"{path.name}: a hidden check cell"
        answers = [c for c in cells if meta(c)["solution"]]
        assert len(answers) == len(solutions), path.name
        tests = {meta(c)["grade_id"]: c for c in cells if meta(c)["grade"] and not meta(c)["solution"]}
        checkable = [n for n in map(checked_exercise, (s.source for s in solutions)) if n]
        assert sorted(tests) == sorted(f"ex{n}-test" for n in checkable), path.name
        for n in checkable:
            assert tests[f"ex{n}-test"].source.endswith(f'verdict = ex{n}.verdict()\nassert verdict == "Correct", verdict')
            assert meta(tests[f"ex{n}-test"])["points"] == POINTS and meta(tests[f"ex{n}-test"])["locked"]
        for answer in answers:  # by hand exactly where there is no check to run
            assert (meta(answer)["grade"], meta(answer).get("points")) == (
                (False, None) if checked_exercise(answer.source) else (True, POINTS)), answer.source[:80]
            assert "jupyter" not in answer.metadata  # shown, for the learner to write in
        assert all(meta(c)["locked"] for c in cells if not meta(c)["solution"]), path.name
        assert len({meta(c)["grade_id"] for c in cells}) == len(cells), f"{path.name}: grade ids repeat"


def test_an_answer_cell_is_the_starter_then_the_solution_region_then_the_check():
    source = "# Solution 2: 640 terms\nmean_lr = 1e-6 * 640\nprint(mean_lr)\nex2.check()"
    assert answer_source(source, ("mean_lr",)).splitlines() == [
        "# Exercise 2: write your code, put your answers in place of each ____, then run the cell",
        "mean_lr = ____",
        BEGIN,
        "# Solution 2: 640 terms",
        "mean_lr = 1e-6 * 640",
        "print(mean_lr)",
        END,
        "ex2.check()",
    ]
    thought = answer_source("# solution: it diverges\nprint(loss)", ())
    assert thought.splitlines()[1:] == [BEGIN, "# solution: it diverges", "print(loss)", END]


def test_verdict_returns_what_check_prints_and_looks_up_the_answer_where_it_is_called(capsys):
    for value, said in [(1e-6 * 640, "Correct"), (1e-6, "Incorrect: mean_lr is 1e-06;"), (____, "Not attempted:")]:
        namespace = {"ex2": ex2, "mean_lr": value}
        exec("verdict = ex2.verdict()\nex2.check()", namespace)  # as a test cell and a learner's cell run it
        printed = capsys.readouterr().out
        assert namespace["verdict"].startswith(said) and printed == namespace["verdict"] + "\n"
    assert ex2.verdict(1e-6 * 640) == "Correct"


@needs_nbgrader
def test_generate_assignment_releases_every_notebook_without_solution_code(course):
    for path in notebook_paths():
        source, release = (graded_notebook(course, folder, path.stem) for folder in ("source", "release"))
        text = nbformat.writes(release)
        assert BEGIN not in text and END not in text, path.name
        assert not [c for c in release.cells if c.cell_type == "code" and c.outputs], f"{path.name}: outputs released"
        released = {meta(c)["grade_id"]: c.source.splitlines() for c in release.cells}
        assert set(released) == {meta(c)["grade_id"] for c in source.cells}, path.name
        for cell in (c for c in source.cells if meta(c)["solution"]):
            lines = cell.source.splitlines()
            region = lines[lines.index(BEGIN) + 1 : lines.index(END)]
            given = set(lines[: lines.index(BEGIN)] + lines[lines.index(END) + 1 :]) | {""}  # the starter, the check
            leaked = [line for line in region if line not in given and line in released[meta(cell)["grade_id"]]]
            assert leaked == [], f"{path.name} {meta(cell)['grade_id']}: solution lines released: {leaked}"
            assert "# YOUR CODE HERE" in released[meta(cell)["grade_id"]]


@needs_nbgrader
def test_autograde_gives_the_solutions_full_marks_and_the_untouched_release_zero(course):
    for stem in GRADED:
        for student, folder in STUDENTS.items():
            (course / "submitted" / student / stem).mkdir(parents=True)
            shutil.copy(course / folder / stem / f"{stem}.ipynb", course / "submitted" / student / stem)
    nbgrader(course, "autograde", "*")
    nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as f:
        scores = {(row["assignment"], row["student_id"]): row for row in csv.DictReader(f)}
    for stem in GRADED:
        cells = graded_notebook(course, "source", stem).cells
        autograded = sum(meta(c)["points"] for c in cells if meta(c)["grade"] and not meta(c)["solution"])
        by_hand = sum(meta(c)["points"] for c in cells if meta(c)["grade"] and meta(c)["solution"])
        assert autograded > 0, stem
        for student in STUDENTS:  # answers graded by hand count 0 until graded in the formgrader
            assert float(scores[stem, student]["max_score"]) == autograded + by_hand
        assert float(scores[stem, "solved"]["score"]) == autograded, scores[stem, "solved"]
        assert float(scores[stem, "untouched"]["score"]) == 0, scores[stem, "untouched"]
        errors = {student: errors_of_test_cells(graded_notebook(course, f"autograded/{student}", stem)) for student in STUDENTS}
        assert set(errors["solved"].values()) == {()}, errors["solved"]
        # each failing test cell says why, in the words of the exercise's check
        assert all(len(e) == 1 and e[0].startswith("Not attempted: ") for e in errors["untouched"].values()), errors
