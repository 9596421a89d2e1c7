"""Student copies (`make student`): outputs cleared, solutions blanked, everything else kept, and they run."""

from __future__ import annotations

import nbformat
import pytest

from tools.nbtools import code_cells, notebook_paths
from tools.publish import SOLUTION_PROMPT, build_student, is_check, is_solution, student_copy, without_checks

NOTEBOOKS = notebook_paths()


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def pair(request):
    nb = nbformat.read(request.param, as_version=4)
    return nb, student_copy(nb)


def test_student_copy_keeps_prose_and_code_drops_checks_and_blanks_solutions(pair):
    full, student = pair
    assert not any(map(is_check, student.cells))
    full = without_checks(full)
    assert len(student.cells) == len(full.cells)
    for f, s in zip(full.cells, student.cells):
        assert s.cell_type == f.cell_type
        if is_solution(f):
            assert s.source == SOLUTION_PROMPT and "solution" not in s.metadata.get("tags", [])
        else:
            assert s.source == f.source and s.metadata.get("tags", []) == f.metadata.get("tags", [])
        if s.cell_type == "code":
            assert s.outputs == [] and s.execution_count is None
    assert sum(c.source == SOLUTION_PROMPT for c in student.cells) == sum(map(is_solution, full.cells)) >= 3
    nbformat.validate(student)


def test_no_cell_depends_on_a_solution(pair):
    """Solutions come last (only hidden checks may follow), so the student copy's code is the full notebook's code
    up to them, which nbval runs."""
    full, _ = pair
    kinds = [is_solution(c) for c in code_cells(full) if not is_check(c)]
    first = kinds.index(True)
    assert all(kinds[first:]), "a non-solution code cell comes after a solution: it may depend on it"


def test_make_student_writes_one_copy_per_notebook(tmp_path):
    written = build_student(tmp_path)
    assert [p.name for p in written] == [p.name for p in NOTEBOOKS]
    for path in written:
        assert not any(is_solution(c) for c in nbformat.read(path, as_version=4).cells)


# Every student copy is executed, every cell twice, by the `student-copy-runs-twice` item conftest.py adds per notebook.
