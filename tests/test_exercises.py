"""helpers.exercises: the check / hint / solution objects every notebook's exercises use."""

from __future__ import annotations

import importlib
import json
import re

import nbformat
import pytest
import torch

import helpers.exercises as exercises
from helpers.exercises import Exercise, Incorrect, ____, close
from tools.nbtools import notebook_paths
from tools.publish import checked_exercise, is_solution


def relu_checker(relu) -> None:
    """A behaviour check on several inputs, edge cases included."""
    for x in (torch.tensor([-2.0, 0.0, 3.0]), torch.zeros(0), -torch.ones(2, 2)):
        out = relu(x)
        if out.shape != x.shape:
            raise Incorrect(f"relu({tuple(x.shape)}) has shape {tuple(out.shape)}, expected {tuple(x.shape)}")
        if not torch.equal(out, x.clamp(min=0)):
            raise Incorrect(f"relu({x.tolist()}) gave {out.tolist()}")


EX = Exercise("99_fake", 1, answers=("relu",), checker=relu_checker, hints=["max with 0", "x.clamp(min=0)"])


def verdict(capsys, *values, **namespace) -> str:
    print(EX._verdict(values, namespace))
    return capsys.readouterr().out.strip()


def test_a_right_answer_is_correct(capsys):
    assert verdict(capsys, relu=lambda x: x.clamp(min=0)) == "Correct"
    assert verdict(capsys, lambda x: torch.relu(x)) == "Correct"  # passed explicitly, spelled differently


def test_a_wrong_answer_says_what_is_wrong(capsys):
    assert verdict(capsys, relu=lambda x: x.abs()) == "Incorrect: relu([-2.0, 0.0, 3.0]) gave [2.0, 0.0, 3.0]"
    assert verdict(capsys, relu=lambda x: x.sum()).startswith("Incorrect: relu((3,)) has shape ()")


def test_an_answer_that_raises_is_incorrect_and_check_does_not_raise(capsys):
    assert verdict(capsys, relu=lambda x: x.nope()) == "Incorrect: your answer raised AttributeError: 'Tensor' object has no attribute 'nope'"


def test_placeholders_and_missing_names_are_not_attempted(capsys):
    assert verdict(capsys).startswith("Not attempted: define `relu`")
    assert verdict(capsys, relu=____) == "Not attempted: replace the ____ in `relu` with your answer"
    assert verdict(capsys, relu=lambda x: ____) == "Not attempted: replace the ____ in `relu` with your answer"
    assert verdict(capsys, relu=lambda x: x * ____).startswith("Not attempted")
    assert verdict(capsys, relu=lambda x: torch.maximum(x, ____)).startswith("Not attempted")


def test_check_reads_the_answer_from_the_callers_globals(capsys):
    namespace = {"ex": EX, "relu": lambda x: x.clamp(min=0)}
    exec("ex.check()", namespace)
    assert capsys.readouterr().out == "Correct\n"


def test_hints_come_one_at_a_time_then_repeat_the_last(capsys):
    ex = Exercise("99_fake", 2, hints=["first", "second"])
    for _ in range(3):
        ex.hint()
    assert capsys.readouterr().out.splitlines() == ["Hint 1 of 2: first", "Hint 2 of 2: second", "Hint 2 of 2: second"]


def test_a_thought_exercise_has_nothing_to_check(capsys):
    Exercise("99_fake", 3).check()
    assert "thought exercise" in capsys.readouterr().out


def test_solution_is_read_from_the_notebook_not_copied(tmp_path, monkeypatch, capsys):
    def cell(kind, text):
        return {"cell_type": kind, "source": text, "metadata": {}}
    nb = {"cells": [cell("markdown", "### Exercise 1 — ReLU"), cell("code", "relu = lambda x: x.clamp(min=0)\nex1.check()"),
                    cell("markdown", "### Exercise 10 — other"), cell("code", "other = 1")]}
    (tmp_path / "99_fake.ipynb").write_text(json.dumps(nb))
    monkeypatch.setattr(exercises, "NOTEBOOK_DIR", tmp_path)
    EX.solution()
    assert capsys.readouterr().out == "relu = lambda x: x.clamp(min=0)\nex1.check()\n"
    assert "no solution cell for exercise 3" in Exercise("99_fake", 3).solution_source()


def test_close_states_the_tolerance_and_the_difference():
    close(1.0000001, 1.0, "the loss")
    with pytest.raises(Incorrect, match=r"the loss is 1.1, expected 1 \(off by 0.1\)"):
        close(1.1, 1.0, "the loss")


# --- Every notebook's exercises and its helpers.exercises.nbNN module agree. ---

def exercise_module(path):
    try:
        return importlib.import_module(f"helpers.exercises.nb{path.name[:2]}")
    except ModuleNotFoundError:
        return None


WITH_MODULES = [p for p in notebook_paths() if exercise_module(p)]


def test_every_notebook_has_its_exercise_module_and_imports_it():
    assert WITH_MODULES == notebook_paths()
    for path in notebook_paths():
        assert f"from helpers.exercises.nb{path.name[:2]} import ____, ex1" in path.read_text(), path.name


@pytest.mark.parametrize("path", WITH_MODULES, ids=[p.stem for p in WITH_MODULES])
def test_the_module_declares_one_exercise_per_exercise_heading(path):
    nb = nbformat.read(path, as_version=4)
    headings = [int(m.group(1)) for c in nb.cells if c.cell_type == "markdown"
                for m in [re.match(r"### Exercise (\d+) ", c.source)] if m]
    declared = sorted(ex.number for ex in vars(exercise_module(path)).values() if isinstance(ex, Exercise))
    assert declared == headings
    assert all(ex.notebook == path.stem for ex in vars(exercise_module(path)).values() if isinstance(ex, Exercise))


ADOPTED = [p for p in WITH_MODULES if f"from helpers.exercises.nb{p.name[:2]} import" in p.read_text()]


@pytest.mark.parametrize("path", ADOPTED, ids=[p.stem for p in ADOPTED])
def test_checkable_solutions_end_with_their_check_and_hide_their_output(path):
    nb = nbformat.read(path, as_version=4)
    module = exercise_module(path)
    solutions = [c for c in nb.cells if is_solution(c)]
    for number, cell in enumerate(solutions, start=1):
        ex = getattr(module, f"ex{number}")
        assert checked_exercise(cell.source) == (number if ex.checker else None), cell.source[:60]
        assert cell.metadata.get("jupyter", {}).get("outputs_hidden") is True, f"solution {number}: output shows the answer"
        if ex.checker:
            said = "".join(o.get("text", "") for o in cell.outputs).strip().splitlines()
            assert said and said[-1] == "Correct", f"solution {number} ends with {said[-1:]}"


def test_mnist_rows_are_load_mnists_rows_bit_for_bit():
    from helpers.data import load_mnist

    (x_train, y_train), (x_valid, y_valid), _ = load_mnist()
    x, y = exercises.mnist_rows(0, 65)
    assert torch.equal(x, x_train[:65]) and torch.equal(y, y_train[:65])
    x, y = exercises.mnist_rows(50000, 60000)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.equal(x, x_valid) and torch.equal(y, y_valid)
