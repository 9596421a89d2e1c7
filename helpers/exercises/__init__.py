"""Exercises a learner can check: ``ex1.check()``, ``ex1.hint()``, ``ex1.solution()``.

Each notebook's exercises are declared in ``helpers/exercises/nbNN.py`` and imported by the notebook::

    from helpers.exercises.nb02 import ex1, ex2, ex3

- ``check()`` looks up the exercise's answer names in the notebook (the caller's globals), or takes them as
  arguments, runs the exercise's checker on them and prints one line: ``Correct ...``, ``Incorrect: <what>`` or
  ``Not attempted: <what to fill in>``. It never raises, so Run All on a student copy finishes.
- ``verdict()`` returns that line instead of printing it: the graded assignments' test cells (``make assignments``)
  assert ``ex1.verdict() == "Correct"``.
- ``hint()`` prints the next hint (the last one again once all are shown).
- ``solution()`` prints the notebook's own solution cell, read from the notebook file: never a second copy.

A checker is a function of the answers that returns nothing when they are right and raises ``Incorrect(message)``
when they are not. It tests behaviour (several inputs, edge cases, tolerances), never one spelling.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent.parent / "notebooks"


class NotAttempted(Exception):
    """Raised when an answer still holds (or uses) the placeholder ``____``."""


class Placeholder:
    """The ``____`` a student copy leaves where the learner writes; any use of it means 'not attempted'."""

    def __repr__(self) -> str:
        return "____"

    def _unfilled(self, *args: object, **kwargs: object):
        raise NotAttempted("a ____ is still in your code: replace it with your answer")

    __call__ = __getitem__ = __iter__ = __len__ = __bool__ = __float__ = __int__ = __index__ = _unfilled
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _unfilled
    __matmul__ = __rmatmul__ = __pow__ = __neg__ = __lt__ = __le__ = __gt__ = __ge__ = _unfilled

    def __getattr__(self, name: str):
        if name.startswith("__"):  # let Python's protocols (copy, pickle, numpy) see a plain object
            raise AttributeError(name)
        self._unfilled()


____ = Placeholder()


class Incorrect(Exception):
    """Raised by a checker: the message says what is wrong, in terms the learner can act on."""


def attempted(value: object, name: str) -> object:
    """Return ``value``; raise ``NotAttempted`` if it is (or, called, returns) the placeholder."""
    if isinstance(value, Placeholder):
        raise NotAttempted(f"replace the ____ in `{name}` with your answer")
    return value


def guarded(value: object, name: str) -> object:
    """A function answer wrapped so that returning the placeholder counts as not attempted; other values as they are."""
    if not inspect.isfunction(value):
        return value

    @functools.wraps(value)
    def call(*args: object, **kwargs: object) -> object:
        return attempted(value(*args, **kwargs), name)

    return call


def close(actual: float, expected: float, what: str, tol: float = 1e-6) -> None:
    """Raise ``Incorrect`` unless ``actual`` is within ``tol`` (relative and absolute) of ``expected``."""
    if not abs(actual - expected) <= tol * max(1.0, abs(expected)):
        raise Incorrect(f"{what} is {actual:.6g}, expected {expected:.6g} (off by {actual - expected:.3g})")


def mnist_rows(start: int, stop: int) -> tuple:
    """Images ``start`` to ``stop - 1`` of MNIST's 60,000-image training file and their labels, as ``load_mnist``
    gives them (its training split is rows 0-49,999, its validation split rows 50,000-59,999). Converts only those
    rows, so a check costs no second copy of the data."""
    from helpers.data import _idx_rows, fetch_mnist

    return _idx_rows(fetch_mnist(progress=False) / "MNIST" / "raw", "train", start, stop)


@dataclass
class Exercise:
    """One exercise of a notebook: what to check, hints shown one at a time, and the solution cell it belongs to."""

    notebook: str  # the notebook's stem, e.g. "02_tensors"
    number: int
    answers: tuple[str, ...] = ()  # names the learner defines; empty for a thought exercise
    checker: Callable[..., None] | None = None
    hints: list[str] = field(default_factory=list)
    shown: int = field(default=0, init=False, repr=False)  # hints shown so far

    def check(self, *values: object) -> None:
        """Print ``Correct``, ``Incorrect: ...`` or ``Not attempted: ...`` for the learner's answer; never raise."""
        print(self._verdict(values, inspect.currentframe().f_back.f_globals))

    def verdict(self, *values: object) -> str:
        """Return the line ``check()`` prints (``Correct``, ``Incorrect: ...``, ``Not attempted: ...``) without printing it."""
        return self._verdict(values, inspect.currentframe().f_back.f_globals)

    def _verdict(self, values: tuple, namespace: dict) -> str:
        if self.checker is None:
            return (f"Exercise {self.number} is a thought exercise: there is no code to check. "
                    f"Use ex{self.number}.hint() and ex{self.number}.solution().")
        if not values:
            missing = [name for name in self.answers if name not in namespace]
            if missing:
                return f"Not attempted: define {', '.join(f'`{n}`' for n in missing)} (then run ex{self.number}.check() again)"
            values = tuple(namespace[name] for name in self.answers)
        try:
            values = tuple(guarded(attempted(value, name), name) for name, value in zip(self.answers, values))
            self.checker(*values)
        except NotAttempted as e:
            return f"Not attempted: {e}"
        except Incorrect as e:
            return f"Incorrect: {e}"
        except Exception as e:  # the learner's code raised: say what, never propagate
            if "Placeholder" in str(e):  # e.g. torch refused a ____ where it wanted a tensor
                return "Not attempted: a ____ is still in your code: replace it with your answer"
            return f"Incorrect: your answer raised {type(e).__name__}: {e}"
        return "Correct"

    def hint(self) -> None:
        """Print the next hint (the last one again once all have been shown)."""
        if not self.hints:
            print(f"Exercise {self.number} has no hint; ex{self.number}.solution() shows the answer.")
            return
        index = min(self.shown, len(self.hints) - 1)
        self.shown += 1
        print(f"Hint {index + 1} of {len(self.hints)}: {self.hints[index]}")

    def solution(self) -> None:
        """Print the notebook's solution cell for this exercise."""
        print(self.solution_source())

    def solution_source(self) -> str:
        """The source of this exercise's solution cell, read from the notebook (the cell after its heading)."""
        path = next(NOTEBOOK_DIR.glob(f"{self.notebook}.ipynb"), None)
        if path is None:
            return f"The notebook {self.notebook}.ipynb is not in {NOTEBOOK_DIR}; open the full notebook there."
        cells = json.loads(path.read_text())["cells"]
        for heading, cell in zip(cells, cells[1:]):
            text = "".join(heading["source"])
            if heading["cell_type"] == "markdown" and text.startswith(f"### Exercise {self.number} "):
                return "".join(cell["source"])
        return f"{path.name} has no solution cell for exercise {self.number}."
