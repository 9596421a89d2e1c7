"""Notebook 08's exercise checks: right answers pass, realistic mistakes say what is wrong, ____ is not attempted."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers.exercises import ____
from helpers.exercises.nb08 import ex1, ex2, ex3, ex4, ex5

TRAIN_DS = TensorDataset(torch.randn(1000, 784), torch.arange(1000) % 10)


def verdict(ex, *values) -> str:
    return ex._verdict(values, {})


def first_labels(own_generator, extra_layer, generator_used=True):
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0) if own_generator and generator_used else None
    dl = DataLoader(TRAIN_DS, batch_size=64, shuffle=True, generator=generator)
    if extra_layer:
        nn.Linear(784, 10)
    return next(iter(dl))[1]


def clip_grad_norm(parameters, max_norm, per_tensor=False):
    """Clipping by hand, written differently from the notebook; ``per_tensor`` is the realistic mistake."""
    params = [p for p in parameters if p.grad is not None]
    total = sum(p.grad.pow(2).sum() for p in params).sqrt()
    for p in params:
        norm = p.grad.norm() if per_tensor else total
        p.grad *= min(1.0, max_norm / norm.item())
    return total


def test_right_answers_are_correct():
    assert verdict(ex1, DataLoader(TRAIN_DS, batch_size=64, shuffle=True, drop_last=True), 1000 % 64) == "Correct"
    assert verdict(ex3, first_labels) == "Correct"
    assert verdict(ex4, lambda x, y: (x.reshape(len(x), 1, 28, 28), y)) == "Correct"  # on this CPU machine
    assert "thought exercise" in verdict(ex2)
    assert verdict(ex5, clip_grad_norm) == "Correct"
    assert verdict(ex5, lambda parameters, max_norm: nn.utils.clip_grad_norm_(parameters, max_norm)) == "Correct"


@pytest.mark.parametrize("ex, arity", [(ex1, 2), (ex3, 1), (ex4, 1), (ex5, 1)])
def test_placeholders_are_not_attempted(ex, arity):
    assert verdict(ex, *[____] * arity).startswith("Not attempted")


def test_realistic_mistakes_are_named():
    assert verdict(ex1, DataLoader(TRAIN_DS, batch_size=64), 40) == "Incorrect: dl must be a DataLoader made with drop_last=True"
    assert verdict(ex1, DataLoader(TRAIN_DS, batch_size=64, drop_last=True), 64).startswith("Incorrect: skipped is 64")
    assert verdict(ex3, lambda own, extra: first_labels(own, extra, generator_used=False)).startswith(
        "Incorrect: with its own generator the loader's order must not depend on the extra layer")
    assert verdict(ex4, lambda x, y: (x.view(-1, 28, 28), y)).startswith("Incorrect: a (5, 784) batch became (5, 28, 28)")
    assert verdict(ex5, lambda parameters, max_norm: clip_grad_norm(parameters, max_norm, per_tensor=True)).startswith(
        "Incorrect: each gradient was clipped to norm 1 on its own")
    assert verdict(ex5, lambda parameters, max_norm: nn.utils.clip_grad_norm_(list(parameters), max_norm) and max_norm) == (
        "Incorrect: clip_grad_norm returned 1: return the total norm *before* clipping, 5.0")
