"""Notebook 04's exercise checks: right answers pass, realistic mistakes say what is wrong, ____ is not attempted."""

from __future__ import annotations

import pytest
import torch

from helpers.exercises import ____
from helpers.exercises.nb04 import ex1, ex2, ex3, ex4, ex5, ex6


def central_difference(x0, eps, dtype, cast_late=False):
    t = torch.tensor(x0, dtype=torch.float64 if cast_late else dtype)
    def p3(v):
        return (5 * v**3 - 3 * v) / 2
    return float(((p3(t + eps) - p3(t - eps)) / (2 * eps)).to(dtype))


def second_derivative(x, create_graph=True):
    x = x.detach().requires_grad_()
    (d1,) = torch.autograd.grad(((5 * x**3 - 3 * x) / 2).sum(), x, create_graph=create_graph)
    if not create_graph:
        return torch.zeros_like(x)
    (d2,) = torch.autograd.grad(d1.sum(), x)
    return d2


class MyExp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = torch.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class SavesInput(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.exp()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.exp()


def verdict(ex, *values) -> str:
    return ex._verdict(values, {})


def test_right_answers_are_correct():
    assert verdict(ex1, 0.5, 0.0) == "Correct"
    assert verdict(ex2, central_difference) == "Correct"
    assert verdict(ex3, second_derivative) == "Correct"
    assert verdict(ex5, MyExp) == "Correct"


@pytest.mark.parametrize("ex, arity", [(ex1, 2), (ex2, 1), (ex3, 1), (ex5, 1)])
def test_placeholders_are_not_attempted(ex, arity):
    assert verdict(ex, *[____] * arity).startswith("Not attempted")


def test_a_thought_exercise_says_so():
    assert "thought exercise" in verdict(ex4)


def test_realistic_mistakes_are_named():
    assert verdict(ex1, 1.0, 0.0).startswith("Incorrect: numerical_at_0, the central difference of relu at 0, is 1")
    assert verdict(ex2, lambda *a: central_difference(*a, cast_late=True)).startswith(
        "Incorrect: with float32 and eps = 1e-6 the result is too accurate")
    assert verdict(ex3, lambda x: second_derivative(x, create_graph=False)).startswith("Incorrect: P3''(x) = 15 x")
    assert verdict(ex5, SavesInput) == ("Incorrect: forward must save its output (ctx.save_for_backward(result)), "
                                        "and nothing else")


class LeakyByMask(torch.autograd.Function):
    """A right answer written differently: it saves a float mask of the slopes instead of the input."""

    @staticmethod
    def forward(input, slope):
        return input.clamp(min=0) + slope * input.clamp(max=0)

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, slope = inputs
        ctx.save_for_backward((input > 0).to(input.dtype) * (1 - slope) + slope)

    @staticmethod
    def backward(ctx, grad_output):
        (factor,) = ctx.saved_tensors
        return grad_output * factor, None


class LeakyOneGradient(LeakyByMask):
    @staticmethod
    def backward(ctx, grad_output):
        (factor,) = ctx.saved_tensors
        return grad_output * factor


class LeakyForgotSlope(LeakyByMask):
    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward((inputs[0] > 0).to(inputs[0].dtype))


class LeakyCtxStyle(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, slope):
        ctx.save_for_backward(input)
        ctx.slope = slope
        return torch.where(input > 0, input, slope * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return torch.where(input > 0, grad_output, ctx.slope * grad_output), None


def test_ex6_a_right_answer_is_correct_and_the_placeholder_is_not_attempted():
    assert verdict(ex6, LeakyByMask) == "Correct"
    assert verdict(ex6, ____).startswith("Not attempted")


def test_ex6_names_a_missing_none_a_forgotten_slope_and_the_ctx_style():
    assert verdict(ex6, LeakyOneGradient) == ("Incorrect: backward must return one value per input of forward: "
                                              "the gradient for input, and None for slope")
    assert verdict(ex6, LeakyForgotSlope).startswith("Incorrect: gradcheck fails for slope = 0.1: backward must return")
    assert verdict(ex6, LeakyCtxStyle).startswith("Incorrect: write it in the setup_context style")
    assert verdict(ex6, torch.nn.functional.leaky_relu).startswith("Incorrect: MyLeakyReLU must be a class")


class LeakyTensorForSlope(LeakyByMask):
    @staticmethod
    def backward(ctx, grad_output):
        (factor,) = ctx.saved_tensors
        return grad_output * factor, torch.zeros(())


def test_ex6_says_a_number_gets_none_not_a_tensor():
    assert verdict(ex6, LeakyTensorForSlope) == (
        "Incorrect: slope is a Python number, so its gradient must be None, not a tensor")


class LeakyStarter(torch.autograd.Function):
    """What the student copy's starter defines before the learner writes anything."""

    @staticmethod
    def forward(input, slope):
        return ____

    @staticmethod
    def setup_context(ctx, inputs, output):
        return ____

    @staticmethod
    def backward(ctx, grad_output):
        return ____


def test_ex6_the_untouched_starter_is_not_attempted():
    assert verdict(ex6, LeakyStarter).startswith("Not attempted")
