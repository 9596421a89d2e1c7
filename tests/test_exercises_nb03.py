"""Notebook 03's exercise checks: right answers pass, realistic mistakes say what is wrong, ____ is not attempted."""

from __future__ import annotations

import pytest
import torch

from helpers.exercises import ____
from helpers.exercises.nb03 import T_C, T_U, ex1, ex2, ex3, ex4, ex5, ex6, least_squares


def by_rows(f, u, transpose=False):
    u = u.detach().requires_grad_()
    out = f(u)
    rows = [torch.autograd.grad(out, u, grad_outputs=torch.eye(len(out))[i], retain_graph=True)[0]
            for i in range(len(out))]
    J = torch.stack(rows)
    return J.t() if transpose else J


def valid_mse_answer():
    """The ten validation MSEs, computed here independently of the check (w * t + b, not a matrix product)."""
    answers, t_un, t_c = [], 0.1 * torch.tensor(T_U), torch.tensor(T_C)
    for seed in range(10):
        perm = torch.randperm(11, generator=torch.Generator().manual_seed(seed))
        X = torch.stack([t_un[perm[:-2]], torch.ones(9)], dim=1)
        w, b = torch.linalg.lstsq(X, t_c[perm[:-2]].unsqueeze(1)).solution.squeeze(1).tolist()
        answers.append(((w * t_un[perm[-2:]] + b - t_c[perm[-2:]]) ** 2).mean().item())
    return answers


def verdict(ex, *values) -> str:
    return ex._verdict(values, {})


def test_right_answers_are_correct():
    assert verdict(ex1, by_rows) == "Correct"
    assert verdict(ex2, 6 / 11, 5 / 11) == "Correct"
    assert verdict(ex3, *least_squares(torch.tensor(T_U))) == "Correct"
    t = torch.tensor(T_U)
    X = torch.stack([t, torch.ones_like(t)], dim=1)
    assert verdict(ex4, 2 / torch.linalg.eigvalsh(2 / 11 * X.T @ X).max().item()) == "Correct"
    assert verdict(ex5, valid_mse_answer()) == "Correct"


@pytest.mark.parametrize("ex, arity", [(ex1, 1), (ex2, 2), (ex3, 2), (ex4, 1), (ex5, 1)])
def test_placeholders_are_not_attempted(ex, arity):
    assert verdict(ex, *[____] * arity).startswith("Not attempted")


def test_ex1_catches_columns_instead_of_rows_and_a_call_to_jacobian():
    assert verdict(ex1, lambda f, u: by_rows(f, u, transpose=True)).startswith(
        "Incorrect: for f: R^3 -> R^4 the Jacobian must be a tensor of shape (4, 3), got (3, 4)")
    assert verdict(ex1, lambda f, u: torch.autograd.functional.jacobian(f, u)) == (
        "Incorrect: use one backward pass per row, not jacobian()")
    namespace = {"jacobian": torch.autograd.functional.jacobian}  # as the notebook imports it
    exec("def calls_jacobian(f, u):\n    return jacobian(f, u)", namespace)
    assert verdict(ex1, namespace["calls_jacobian"]) == "Incorrect: use one backward pass per row, not jacobian()"
    assert namespace["jacobian"] is torch.autograd.functional.jacobian  # put back after the check


def test_ex2_to_ex5_name_the_wrong_value():
    assert verdict(ex2, 0.5, 0.5).startswith("Incorrect: alpha (the weight of the first 6 points' mean loss) is 0.5")
    w, b = least_squares(torch.tensor(T_U))
    assert verdict(ex3, w * 10, b).startswith("Incorrect: w_raw (the slope in the raw unit) is")  # forgot the std
    assert verdict(ex4, 1e-2).startswith("Incorrect: lr_max")
    assert verdict(ex5, valid_mse_answer()[:9]).startswith("Incorrect: valid_mse has 9 values")


def softmax_by_max(z):
    """A right answer written differently: shifted by the row maximum, as a stable softmax is."""
    shifted = z - z.max(dim=1, keepdim=True).values
    return shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)


def softmax_in_place(z):
    e = z.exp()
    e /= e.sum(dim=1, keepdim=True)
    return e


def softmax_through_data(z):
    e = z.exp()
    e.data /= e.data.sum(dim=1, keepdim=True)
    return e


def test_ex6_a_right_answer_is_correct_and_the_placeholder_is_not_attempted():
    assert verdict(ex6, softmax_by_max) == "Correct"
    assert verdict(ex6, ____).startswith("Not attempted")
    assert verdict(ex6, lambda z: ____).startswith("Not attempted")


def test_ex6_catches_the_in_place_division_data_and_detach():
    assert verdict(ex6, softmax_in_place) == (
        "Incorrect: backward still fails: a tensor that exp saved was modified by an inplace operation; "
        "divide out of place (e / e.sum(...))")
    assert verdict(ex6, softmax_through_data) == (
        "Incorrect: the values are right but the gradient is wrong: did backward compute with a tensor changed "
        "through .data, or with a part cut off by .detach()?")
    assert verdict(ex6, lambda z: z.exp() / z.exp().sum(dim=1, keepdim=True).detach()).startswith(
        "Incorrect: the values are right but the gradient is wrong")
    assert verdict(ex6, lambda z: torch.softmax(z.detach(), dim=1)).startswith("Incorrect: the result has no grad_fn")
    assert verdict(ex6, lambda z: z.exp() / z.exp().sum(dim=0, keepdim=True)).startswith(
        "Incorrect: the values are not the softmax of each row")
