"""Notebook 06's exercise checks: right answers pass, realistic mistakes say what is wrong, ____ is not attempted."""

from __future__ import annotations

import pytest
import torch

from helpers.exercises import ____
from helpers.exercises.nb06 import ex1, ex2, ex3, ex4


def verdict(ex, *values) -> str:
    return ex._verdict(values, {})


def penalty_step(model, loss_fn, xb, yb, lr, wd, half=True):
    loss = loss_fn(model(xb), yb) + (wd / 2 if half else wd) * sum(p.square().sum() for p in model.parameters())
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
            p.grad = None


def adam_step(p, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, correct=True):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = (m / (1 - beta1**t), v / (1 - beta2**t)) if correct else (m, v)
    return p - lr * m_hat / (v_hat.sqrt() + eps), m, v


def test_right_answers_are_correct():
    assert verdict(ex1, penalty_step) == "Correct"
    assert verdict(ex2, adam_step) == "Correct"
    assert verdict(ex3, [0.5, 0.05]) == "Correct"
    assert verdict(ex3, (0.5, 0.05000000000000001)) == "Correct"  # 0.5 * 0.1 in floating point
    assert "thought exercise" in verdict(ex4)


@pytest.mark.parametrize("ex", [ex1, ex2, ex3])
def test_placeholders_are_not_attempted(ex):
    assert verdict(ex, ____).startswith("Not attempted")


def test_realistic_mistakes_are_named():
    assert verdict(ex1, lambda *a: penalty_step(*a, half=False)).startswith(
        "Incorrect: with lr=0.5, wd=0.01 the weight after your step differs")
    assert verdict(ex2, lambda *a: adam_step(*a, correct=False)).startswith(
        "Incorrect: after step 1 the parameters differ from optim.Adam's")
    assert verdict(ex3, [0.5, 0.5]).startswith("Incorrect: used_lrs is [0.5, 0.5]: the rate never changed")
    assert verdict(ex3, [0.05, 0.005]).startswith("Incorrect: used_lrs is [0.05, 0.005]: you read the rate after")
    assert verdict(ex3, [0.5, 0.05, 0.005]).startswith("Incorrect: used_lrs is [0.5, 0.05, 0.005]: train for 2 epochs")
    assert verdict(ex3, [0.5, 0.1]).startswith("Incorrect: used_lrs is [0.5, 0.1], expected [0.5, 0.05]")
