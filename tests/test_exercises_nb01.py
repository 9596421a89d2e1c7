"""Notebook 01's exercise checks: a right answer is Correct, realistic mistakes say what is wrong, ____ is not attempted."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.exercises import ____
from helpers.exercises.nb01 import ex1, ex2, ex3


def tanh_net(x, y, w1, w2, local=lambda a: 1 - a**2):
    a = np.tanh(x @ w1)
    grad_y_pred = 2.0 * (a @ w2 - y)
    return np.square(a @ w2 - y).sum(), x.T @ ((grad_y_pred @ w2.T) * local(a)), a.T @ grad_y_pred


def bias_net(x, y, w1, b1, w2, b2, reduce=lambda g: g.sum(axis=0)):
    h = x @ w1 + b1
    h_relu = np.maximum(h, 0)
    grad_y_pred = 2.0 * (h_relu @ w2 + b2 - y)
    grad_h = grad_y_pred @ w2.T
    grad_h[h < 0] = 0
    loss = np.square(h_relu @ w2 + b2 - y).sum()
    return loss, x.T @ grad_h, reduce(grad_h), h_relu.T @ grad_y_pred, reduce(grad_y_pred)


def verdict(ex, value) -> str:
    return ex._verdict((value,), {})


@pytest.mark.parametrize("ex, right", [(ex1, tanh_net), (ex2, 1e-6 * 640), (ex3, bias_net)])
def test_a_right_answer_is_correct_and_the_placeholder_is_not_attempted(ex, right):
    assert verdict(ex, right) == "Correct"
    assert verdict(ex, ____).startswith("Not attempted: replace the ____")
    assert verdict(ex, (lambda *args: ____) if callable(right) else ____).startswith("Not attempted")


def test_ex1_names_the_gradient_that_misses_the_tanh_derivative():
    def wrong(x, y, w1, w2):
        return tanh_net(x, y, w1, w2, local=lambda a: 1 - a)  # d tanh = 1 - a, not 1 - a**2
    assert verdict(ex1, wrong).startswith("Incorrect: grad_w1 differs from the numerical gradient by up to")
    def relu_loss(x, y, w1, w2):
        return (np.square(np.maximum(x @ w1, 0) @ w2 - y).sum(), None, None)
    assert verdict(ex1, relu_loss).startswith("Incorrect: the loss is")


def test_ex2_explains_a_learning_rate_that_was_not_scaled():
    assert verdict(ex2, 1e-6).startswith("Incorrect: mean_lr is 1e-06; the mean divides every gradient by N * D_out")


def test_ex3_names_the_bias_gradient_that_averages_instead_of_summing():
    def wrong(*args):
        return bias_net(*args, reduce=lambda g: g.mean(axis=0))
    assert verdict(ex3, wrong).startswith("Incorrect: grad_b1 differs from the numerical gradient")
    assert verdict(ex3, lambda *args: bias_net(*args)[:3]).startswith("Incorrect: forward_backward_bias must return (loss, grad_w1, grad_b1, grad_w2, grad_b2)")
