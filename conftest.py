"""pytest set-up for the whole course: the notebook environment, and two extra items per notebook.

- ``<notebook>::executed-in-order``: nbval skips the comparison for any cell whose ``execution_count`` is null, so
  a notebook saved without outputs passes silently. This item fails unless its code cells ran exactly once each, 1..N.
- ``<notebook>::student-copy-runs-twice``: a learner re-runs cells and works in the student copy. This item runs the
  student copy (``make student``) top to bottom with every code cell executed twice in a row, the notebook's
  hidden check cells in place, and then every solution cell twice; it fails on any error (cells tagged
  ``raises-exception`` excepted). A translated edition (built by ``tools.i18n``, e.g. the Chinese notebooks that
  ``tests/test_i18n.py`` runs under nbval) gets only the first item: its code is the English notebook's, token for
  token, and the English notebook's student copy is run.

Both items live under the notebook's path, so ``--dist loadfile`` runs them on the same worker as its nbval items.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from tools.env import apply_course_env
from tools.i18n import META_KEY
from tools.nbtools import execution_problems

apply_course_env()  # before any kernel starts: nbval's kernels inherit this environment


class ExecutedInOrder(pytest.Item):
    """Fails if the notebook's stored outputs did not come from one restart-and-run-all."""

    def runtest(self) -> None:
        problems = execution_problems(nbformat.read(self.path, as_version=4))
        if problems:
            pytest.fail(f"{self.path.name}: " + "; ".join(problems), pytrace=False)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: executed in order"


class StudentCopyRunsTwice(pytest.Item):
    """Fails if a cell of the student copy, or a solution, raises when run, or when run a second time in a row."""

    def runtest(self) -> None:
        from tools.nbtools import run_twice
        from tools.publish import checked_exercise, exercise_answers, is_solution, student_copy

        nb = nbformat.read(self.path, as_version=4)
        student = student_copy(nb, keep_checks=True, answers=exercise_answers(self.path)).cells
        failure, ran = run_twice(student + [c for c in nb.cells if is_solution(c)], self.path.parent)
        if failure:
            pytest.fail(f"{self.path.name}: {failure}", pytrace=False)
        for cell in ran:  # an untouched starter must say so, and a worked solution must pass its check
            if "exercise" in cell.metadata.get("tags", []) and checked_exercise(cell.source):
                said = "".join(o.get("text", "") for o in cell.outputs).strip()
                assert said.startswith("Not attempted:"), f"the starter {cell.source[:60]!r} printed {said!r}"
        for cell in ran:
            if "solution" in cell.metadata.get("tags", []) and checked_exercise(cell.source):
                said = "".join(o.get("text", "") for o in cell.outputs).strip().splitlines()
                assert said and said[-1].startswith("Correct"), f"the solution {cell.source[:60]!r} ended with {said!r}"

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: student copy and solutions, every cell run twice"


class NotebookGuard(pytest.File):
    def collect(self):
        yield ExecutedInOrder.from_parent(self, name="executed-in-order")
        if META_KEY not in json.loads(self.path.read_text(encoding="utf-8")).get("metadata", {}):
            yield StudentCopyRunsTwice.from_parent(self, name="student-copy-runs-twice")


# `make test` runs two workers, each taking whole files (--dist loadfile, --no-loadscope-reorder) in the order below:
# the longest first, so that neither worker is left with a long file after the other has finished. Seconds per file
# on the 2-core CI machine (a notebook's nbval cells, its executed-in-order and student-copy-runs-twice items),
# 2026-12-07: 14 215, browser 153, 09 96, 11 84, 13 81, 06 79, assignments 58, i18n 50, 10 54, 08 53, 12 47,
# distributed 35, 07 31, 05 29, handout 24. Files not listed follow, in pytest's order.
LONGEST_FIRST = [
    "14_fast_cpu.ipynb",
    "test_browser.py",
    "09_cnn.ipynb",
    "11_checkpoints_transfer.ipynb",
    "13_distributed.ipynb",
    "06_optim.ipynb",
    "test_assignments.py",
    "test_i18n.py",
    "10_gpu.ipynb",
    "08_dataloader.ipynb",
    "12_tensorboard.ipynb",
    "test_distributed.py",
    "07_dataset.ipynb",
    "05_nn.ipynb",
    "test_handout.py",
]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file's items keep their order


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".ipynb" and parent.config.option.nbval:
        return NotebookGuard.from_parent(parent, path=file_path)
    return None
