"""pytest set-up for the whole course: the notebook environment and the never-executed guard.

nbval skips the comparison for any cell whose ``execution_count`` is null, so a notebook saved
without outputs passes silently. Every notebook therefore gets one extra test item,
``<notebook>::executed-in-order``, that fails unless its code cells ran exactly once each, 1..N.
"""

from __future__ import annotations

import nbformat
import pytest

from tools.env import apply_course_env
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


class NotebookGuard(pytest.File):
    def collect(self):
        yield ExecutedInOrder.from_parent(self, name="executed-in-order")


def pytest_collect_file(file_path, parent):
    if file_path.suffix == ".ipynb" and parent.config.option.nbval:
        return NotebookGuard.from_parent(parent, path=file_path)
    return None
