"""helpers.exercises: the check / hint / solution objects every notebook's exercises use."""

from __future__ import annotations

import json

import pytest
import torch

import helpers.exercises as exercises
from helpers.exercises import Exercise, Incorrect, ____, close


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
    cell = lambda kind, text: {"cell_type": kind, "source": text, "metadata": {}}
    nb = {"cells": [cell("markdown", "### Exercise 1 — ReLU"), cell("code", "relu = lambda x: x.clamp(min=0)\nex1.check()"),
                    cell("markdown", "### Exercise 10 — other"), cell("code", "other = 1")]}
    (tmp_path / "99_fake.ipynb").write_text(json.dumps(nb))
    monkeypatch.setattr(exercises, "NOTEBOOKS", tmp_path)
    EX.solution()
    assert capsys.readouterr().out == "relu = lambda x: x.clamp(min=0)\nex1.check()\n"
    assert "no solution cell for exercise 3" in Exercise("99_fake", 3).solution_source()


def test_close_states_the_tolerance_and_the_difference():
    close(1.0000001, 1.0, "the loss")
    with pytest.raises(Incorrect, match=r"the loss is 1.1, expected 1 \(off by 0.1\)"):
        close(1.1, 1.0, "the loss")
