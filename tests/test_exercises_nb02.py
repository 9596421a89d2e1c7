"""Notebook 02's exercise checks: right answers pass, realistic mistakes say what is wrong, ____ is not attempted."""

from __future__ import annotations

import pytest
import torch

from helpers.exercises import ____
from helpers.exercises.nb02 import EXPRESSIONS, ex1, ex2, ex3, ex4, ex5, reference_losses

TRUTH = {"a[1]": True, "a[:, 1]": True, "a[a > 5]": False, "a[[0, 2]]": False, "a.t()": True, "a.view(2, 6)": True,
         "a.reshape(2, 6)": True, "a.t().reshape(12)": False, "a.clone()": False, "a.float()": False}


def to_batch(images):
    return torch.tensor(images).permute(0, 3, 1, 2).to(torch.float32).div(255)


def step_rebinding(x, y, w1, w2, lr):
    w = w1.detach().clone().requires_grad_()
    (x.mm(w).relu().mm(w2) - y).square().sum().backward()
    return w1 - lr * w.grad


def few_syncs(x, y, w1, w2, lr, steps):
    losses = []
    for _ in range(steps):
        h = x.mm(w1)
        y_pred = h.clamp(min=0).mm(w2)
        losses.append((y_pred - y).pow(2).sum())
        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h.clamp(min=0).t().mm(grad_y_pred)
        grad_h = grad_y_pred.mm(w2.t())
        grad_h[h < 0] = 0
        w1 -= lr * x.t().mm(grad_h)
        w2 -= lr * grad_w2
    return torch.stack(losses).tolist()


def verdict(ex, value) -> str:
    return ex._verdict((value,), {})


@pytest.mark.parametrize("ex, right", [(ex1, to_batch), (ex2, TRUTH), (ex3, step_rebinding), (ex4, few_syncs)])
def test_a_right_answer_is_correct_and_the_placeholder_is_not_attempted(ex, right):
    assert verdict(ex, right) == "Correct"
    assert verdict(ex, ____).startswith("Not attempted")
    if callable(right):
        assert verdict(ex, lambda *args: ____).startswith("Not attempted")


def test_ex1_catches_a_reshape_instead_of_a_permute_and_uint8_arithmetic():
    def reshaped(images):
        return torch.from_numpy(images).reshape(images.shape[0], images.shape[3], *images.shape[1:3]).float() / 255
    assert verdict(ex1, reshaped).startswith("Incorrect: values differ from the pixels / 255")
    assert verdict(ex1, lambda images: torch.from_numpy(images).permute(0, 3, 1, 2)).startswith(
        "Incorrect: the result is torch.uint8, expected torch.float32")
    assert verdict(ex1, lambda images: torch.from_numpy(images).float() / 255).startswith(
        "Incorrect: for a (B, H, W, C) = (4, 8, 8, 3) batch the result has shape (4, 8, 8, 3)")


def test_ex2_names_each_wrong_prediction():
    guess = dict(TRUTH, **{"a.reshape(2, 6)": False, "a[[0, 2]]": True})
    assert verdict(ex2, guess) == ("Incorrect: wrong for a[[0, 2]] (it does not share memory), "
                                   "a.reshape(2, 6) (it does share memory)")
    assert verdict(ex2, {e: True for e in EXPRESSIONS[:3]}).startswith("Incorrect: shares_memory has no entry for a[[0, 2]]")


def test_ex3_catches_an_in_place_update():
    def in_place(x, y, w1, w2, lr):
        w1 -= lr * torch.ones_like(w1)
        return w1
    assert verdict(ex3, in_place).startswith("Incorrect: the caller's w1 changed")


def test_ex4_catches_item_every_step_and_a_wrong_update():
    def item_each_step(x, y, w1, w2, lr, steps):
        return reference_losses(x, y, w1, w2, lr, steps)
    assert verdict(ex4, item_each_step) == ("Incorrect: .item() was called 20 times in 20 steps: keep each loss as a "
                                            "tensor and convert them all at once at the end")
    assert verdict(ex4, lambda *args: few_syncs(*args[:4], args[4] * 2, args[5])).startswith(
        "Incorrect: the losses differ from train_torch's")


def pairwise(a, b):
    """Squared distances written as |a|^2 - 2 a.b + |b|^2, not the way the solution writes them."""
    return (a * a).sum(1, keepdim=True) - 2 * a @ b.T + (b * b).sum(1)


def test_ex5_a_right_answer_is_correct_and_the_placeholder_is_not_attempted():
    assert verdict(ex5, pairwise) == "Correct"
    assert verdict(ex5, ____).startswith("Not attempted")
    assert verdict(ex5, lambda a, b: ____).startswith("Not attempted")


def test_ex5_catches_the_missing_broadcast_a_transposed_table_and_a_square_root():
    assert verdict(ex5, lambda a, b: (a - b).pow(2).sum(-1)) == (
        "Incorrect: for a of shape (5, 3) and b of shape (5, 3) the result has shape (5,), expected (n, m) = (5, 5): "
        "one row per point of a, one column per point of b")
    assert verdict(ex5, lambda a, b: (a[None] - b[:, None]).pow(2).sum(-1)).startswith(
        "Incorrect: the table is transposed: entry (i, j) must be the distance from a[i] to b[j]")
    assert verdict(ex5, lambda a, b: torch.cdist(a, b)) == (
        "Incorrect: these are the distances, not the squared distances: leave out the square root")
    assert verdict(ex5, lambda a, b: (a[:, None] - b[None]).sum(-1)).startswith("Incorrect: entry (")
