"""Notebook 06's exercise checks: right answers pass, realistic mistakes say what is wrong, ____ is not attempted."""

from __future__ import annotations

import pytest
import torch
from torch import nn, optim

from helpers.exercises import ____
from helpers.exercises.nb06 import ex1, ex2, ex3, ex4, ex5


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
    assert verdict(ex5, by_module_type) == "Correct"


def by_module_type(model, lr, wd):
    """The decayed weights found by module type, and the rest given weight_decay 0 through the default."""
    decay = [m.weight for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    rest = [p for p in model.parameters() if all(p is not q for q in decay)]
    return optim.SGD([{"params": rest}, {"params": decay, "weight_decay": wd}], lr=lr, momentum=0.9)


def by_name(model, lr, wd, keep_batchnorm=True, decay_all=False):
    decay = [p for n, p in model.named_parameters() if decay_all or not n.endswith("bias")]
    no_decay = [p for n, p in model.named_parameters() if not decay_all and n.endswith("bias")]
    if not keep_batchnorm:  # only the linear layers' parameters: BatchNorm's are left out
        decay, no_decay = decay[::2], no_decay[::2]
    return optim.SGD([{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}],
                     lr=lr, momentum=0.9)


@pytest.mark.parametrize("ex", [ex1, ex2, ex3, ex5])
def test_placeholders_are_not_attempted(ex):
    assert verdict(ex, ____).startswith("Not attempted")


def test_a_make_opt_that_returns_the_placeholder_is_not_attempted():
    def make_opt(model, lr, wd):  # the student copy's starter
        return ____
    assert verdict(ex5, make_opt).startswith("Not attempted")


def test_make_opt_mistakes_are_named():
    assert verdict(ex5, by_name) == ("Incorrect: 1.weight, of shape (8,), has weight_decay 0.05, expected 0.0 "
                                     "(one-dimensional: no decay for it); BatchNorm's weight is one-dimensional too")
    assert verdict(ex5, lambda *a: by_name(*a, decay_all=True)).startswith(
        "Incorrect: 0.bias, of shape (8,), has weight_decay 0.05, expected 0.0")
    assert verdict(ex5, lambda *a: by_name(*a, keep_batchnorm=False)) == (
        "Incorrect: the parameter 1.weight, of shape (8,), is in no group: every parameter belongs in exactly one")
    assert verdict(ex5, lambda m, lr, wd: optim.SGD(m.parameters(), lr=lr, weight_decay=wd, momentum=0.9)).startswith(
        "Incorrect: 0.bias, of shape (8,), has weight_decay 0.05")
    assert verdict(ex5, lambda m, lr, wd: optim.Adam(m.parameters(), lr=lr)) == (
        "Incorrect: make_opt must return an optim.SGD, not Adam")
    twice = lambda m, lr, wd: optim.SGD([{"params": m.parameters()}, {"params": m[0].parameters()}], lr=lr)  # noqa: E731
    assert verdict(ex5, twice).startswith("Incorrect: your answer raised ValueError: some parameters appear in more than one")


def test_realistic_mistakes_are_named():
    assert verdict(ex1, lambda *a: penalty_step(*a, half=False)).startswith(
        "Incorrect: with lr=0.5, wd=0.01 the weight after your step differs")
    assert verdict(ex2, lambda *a: adam_step(*a, correct=False)).startswith(
        "Incorrect: after step 1 the parameters differ from optim.Adam's")
    assert verdict(ex3, [0.5, 0.5]).startswith("Incorrect: used_lrs is [0.5, 0.5]: the rate never changed")
    assert verdict(ex3, [0.05, 0.005]).startswith("Incorrect: used_lrs is [0.05, 0.005]: you read the rate after")
    assert verdict(ex3, [0.5, 0.05, 0.005]).startswith("Incorrect: used_lrs is [0.5, 0.05, 0.005]: train for 2 epochs")
    assert verdict(ex3, [0.5, 0.1]).startswith("Incorrect: used_lrs is [0.5, 0.1], expected [0.5, 0.05]")
