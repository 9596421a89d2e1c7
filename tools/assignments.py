"""Graded assignments for instructors: the course as an nbgrader course directory (``make assignments``).

    python -m tools.assignments [OUT]   # OUT/ (build/nbgrader/): nbgrader_config.py, source/NN_topic/NN_topic.ipynb

Each notebook becomes the nbgrader assignment of the same name, its outputs cleared and its hidden check cells left
out. Each exercise's solution cell becomes an answer cell: the starter the student copy has (``make student``: the
answers' names set to ``____``), then the worked solution as the solution region (``### BEGIN SOLUTION`` ...
``### END SOLUTION``, which ``nbgrader generate_assignment`` removes), then the exercise's ``exN.check()``.

- A checkable exercise gets an autograded test cell after its answer cell, worth ``POINTS``: it asserts
  ``exN.verdict() == "Correct"``, the exercise's own check (``helpers/exercises/nbNN.py``).
- A thought exercise (no check) is a manually graded answer cell worth ``POINTS``, graded in the formgrader.
- Every other cell is read-only: nbgrader puts back the source's version when it autogrades.

Writing files is all this module does; nbgrader runs from its own command line (README "For instructors").
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

from tools.nbtools import ROOT, notebook_paths
from tools.publish import BUILD, checked_exercise, exercise_answers, is_solution, starter, without_checks

POINTS = 1  # per exercise, autograded or graded by hand
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
THOUGHT = "# Your answer, graded by hand: the code you ran, and your answers to the questions as comments"
HEADING = re.compile(r"^### Exercise (\d+)\b")
CONFIG = """\
# nbgrader's settings for the course's assignments. `make assignments` writes this file only when it is missing:
# it is yours to edit (delete it to get the course's version back).
c = get_config()  # noqa: F821 (nbgrader defines get_config)
c.CourseDirectory.course_id = "pytorch-course"
# The release copy keeps the starter above each solution region (the answers' names set to ____), so the comment
# alone replaces the region: the exercise's check then says "Not attempted" until the learner writes an answer.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE"}
# Autograding runs each notebook from the top, as a learner does; some cells train for tens of seconds.
c.Execute.timeout = 300
"""


def grading(grade_id: str, *, solution: bool = False, points: int | None = None) -> dict:
    """nbgrader's cell metadata (schema 3): a read-only cell, an answer cell, or, with points, a graded cell."""
    return {
        "grade": points is not None,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
        **({"points": points} if points is not None else {}),
    }


def answer_source(source: str, answers: tuple[str, ...]) -> str:
    """The answer cell: the student copy's starter, the worked solution as the solution region, then the check."""
    if checked_exercise(source) is None:  # a thought exercise, graded by hand: the whole cell is the region
        return "\n".join([THOUGHT, BEGIN, source.strip(), END])
    *worked, check = source.strip().splitlines()
    opening = (starter(source, answers) or "").splitlines()[:-1]  # the starter without its exN.check()
    return "\n".join([*opening, BEGIN, *worked, END, check])


def graded_cell(number: int) -> nbformat.NotebookNode:
    """The autograded test cell of checkable exercise ``number``: its check, as an assertion."""
    source = (
        f"# Exercise {number}, graded ({POINTS} point{'s' * (POINTS != 1)}): the check of ex{number}.check(), "
        "as an assertion\n"
        f"verdict = ex{number}.verdict()\n"
        'assert verdict == "Correct", verdict'
    )
    metadata = {"nbgrader": grading(f"ex{number}-test", points=POINTS), "slideshow": {"slide_type": "fragment"}}
    return nbformat.v4.new_code_cell(source, metadata=metadata)


def assignment(nb: nbformat.NotebookNode, answers: dict[int, tuple[str, ...]]) -> nbformat.NotebookNode:
    """The nbgrader source notebook made from course notebook ``nb`` (``answers``: each checkable exercise's names)."""
    nb = without_checks(nb)
    cells, number = [], None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if cell.cell_type == "markdown" and (match := HEADING.match(cell.source)):
            number = int(match.group(1))
        if not is_solution(cell):
            cell.metadata["nbgrader"] = grading(f"cell-{index:03d}")
            cells.append(cell)
            continue
        checked = checked_exercise(cell.source)
        number = checked or number or index
        cell.source = answer_source(cell.source, answers.get(checked, ()) if checked else ())
        cell.metadata.pop("jupyter", None)  # the learner writes here: shown, not collapsed
        if tags := [t for t in cell.metadata.pop("tags", []) if t != "solution"]:
            cell.metadata["tags"] = tags
        manual = None if checked else POINTS
        cell.metadata["nbgrader"] = grading(f"ex{number}-answer", solution=True, points=manual)
        cells.append(cell)
        if checked:
            cells.append(graded_cell(checked))
        number = None
    nb.cells = cells
    return nb


def build_assignments(out: Path = BUILD / "nbgrader") -> list[Path]:
    """Write the course directory: ``source/NN_topic/NN_topic.ipynb`` per notebook, and a missing nbgrader_config.py."""
    written = []
    if not (config := out / "nbgrader_config.py").exists():
        out.mkdir(parents=True, exist_ok=True)
        config.write_text(CONFIG)
        written.append(config)
    for path in notebook_paths():
        nb = assignment(nbformat.read(path, as_version=4), exercise_answers(path))
        (folder := out / "source" / path.stem).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest := folder / path.name)
        written.append(dest)
    return written


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0]).resolve() if argv else BUILD / "nbgrader"
    for path in build_assignments(out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
