"""Exercises of notebook 04 (``04_custom_function``): gradcheck at a kink, finite differences in two precisions,
double backward, the buggy backward (a thought exercise), a Function that saves its output, and a leaky ReLU with a
number as input in the setup_context style."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.autograd import gradcheck

from helpers.exercises import Exercise, Incorrect, ____, attempted, close  # noqa: F401  (____ is what student copies fill in)


def p3_prime(x: float) -> float:
    """The exact derivative of P3(x) = (5x^3 - 3x) / 2."""
    return 1.5 * (5 * x**2 - 1)


def check_kink(numerical_at_0, backward_at_0) -> None:
    close(float(numerical_at_0), 0.5, "numerical_at_0, the central difference of relu at 0,", 1e-6)
    close(float(backward_at_0), 0.0, "backward_at_0, what MyReLU's backward returns at 0,", 1e-12)


def check_central_difference(central_difference) -> None:
    for x0 in (0.7, -0.3, 1.2):
        value = central_difference(x0, 1e-6, torch.float64)
        if not isinstance(value, float):
            raise Incorrect(f"central_difference must return a Python float (use .item()), got {type(value).__name__}")
        close(value, p3_prime(x0), f"the float64 difference at x = {x0} with eps = 1e-6", 1e-7)
        close(central_difference(x0, 1e-3, torch.float32), p3_prime(x0), f"the float32 difference at x = {x0} "
              "with eps = 1e-3", 1e-2)
    if abs(central_difference(0.7, 1e-6, torch.float32) - p3_prime(0.7)) < 1e-4:
        raise Incorrect("with float32 and eps = 1e-6 the result is too accurate: is the polynomial really "
                        "evaluated in the dtype you were given (torch.tensor(x0, dtype=dtype))?")


def check_second_derivative(second_derivative) -> None:
    x = torch.linspace(-2, 2, 9, dtype=torch.float64)
    d2 = second_derivative(x.clone())
    if not isinstance(d2, torch.Tensor) or d2.shape != x.shape:
        raise Incorrect("second_derivative(x) must return a tensor of x's shape, P3''(x) at every point")
    if not torch.allclose(d2.detach(), 15 * x, rtol=1e-8, atol=1e-10):
        worst = (d2.detach() - 15 * x).abs().max().item()
        raise Incorrect(f"P3''(x) = 15 x; your values differ by up to {worst:.3g} (did the first grad use "
                        "create_graph=True?)")


def check_my_exp(MyExp) -> None:
    x = torch.randn(6, dtype=torch.float64, requires_grad=True, generator=torch.Generator().manual_seed(0))
    y = MyExp.apply(x)
    if not torch.allclose(y, x.exp()):
        raise Incorrect("MyExp.apply(x) is not exp(x)")
    saved = getattr(y.grad_fn, "saved_tensors", ())
    if len(saved) != 1 or not torch.equal(saved[0], y.detach()):
        raise Incorrect("forward must save its output (ctx.save_for_backward(result)), and nothing else")
    if not gradcheck(MyExp.apply, (x,), raise_exception=False):
        raise Incorrect("gradcheck fails: backward must return grad_output times the saved result")


def check_leaky_relu(MyLeakyReLU) -> None:
    if not (isinstance(MyLeakyReLU, type) and issubclass(MyLeakyReLU, torch.autograd.Function)):
        raise Incorrect("MyLeakyReLU must be a class that subclasses torch.autograd.Function")
    if MyLeakyReLU.setup_context is torch.autograd.Function.setup_context:
        raise Incorrect("write it in the setup_context style: forward(input, slope) without ctx, and a "
                        "setup_context(ctx, inputs, output) staticmethod that saves what backward needs")
    g = torch.Generator().manual_seed(0)
    for slope in (0.1, 0.01, 0.3):
        x = torch.randn(7, dtype=torch.float64, generator=g)
        x = (x + 0.1 * x.sign()).requires_grad_()  # no entry within 0.1 of the kink
        y = attempted(MyLeakyReLU.apply(x, slope), "MyLeakyReLU.forward")
        if not isinstance(y, torch.Tensor) or not torch.allclose(y, F.leaky_relu(x.detach(), slope)):
            raise Incorrect(f"MyLeakyReLU.apply(x, {slope}) is not leaky_relu(x, {slope}): input where it is positive, "
                            "slope * input elsewhere")
        try:
            ok = gradcheck(lambda t: MyLeakyReLU.apply(t, slope), (x,), raise_exception=False)
        except RuntimeError as e:
            if "incorrect number of gradients" in str(e):
                raise Incorrect("backward must return one value per input of forward: the gradient for input, "
                                "and None for slope") from None
            if "not a Variable" in str(e):
                raise Incorrect("slope is a Python number, so its gradient must be None, not a tensor") from None
            raise
        if not ok:
            raise Incorrect(f"gradcheck fails for slope = {slope}: backward must return grad_output where input > 0 "
                            "and slope * grad_output elsewhere")


ex1 = Exercise("04_custom_function", 1, ("numerical_at_0", "backward_at_0"), check_kink,
               ["relu(eps) = eps and relu(-eps) = 0, so the central difference at 0 is (eps - 0) / (2 eps).",
                "For backward_at_0, run MyReLU.apply(x).backward(torch.ones(3, dtype=torch.float64)) and read x.grad[1]."])
ex2 = Exercise("04_custom_function", 2, ("central_difference",), check_central_difference,
               ["Make x0 a tensor of the requested dtype first; every operation then rounds to that precision.",
                "Return ((p3(x0 + eps) - p3(x0 - eps)) / (2 * eps)).item()."])
ex3 = Exercise("04_custom_function", 3, ("second_derivative",), check_second_derivative,
               ["torch.autograd.grad(y.sum(), x, create_graph=True) gives P3'(x) with a graph of its own.",
                "Differentiate that result's sum once more with respect to x."])
ex4 = Exercise("04_custom_function", 4, hints=[
    "Compare BadLegendrePolynomial3.backward with the chain rule: what multiplies dP3/dx for the gradient of c?",
    "Without b * 2 (y_pred - y), the step for c and d does not shrink as the fit improves."])
ex5 = Exercise("04_custom_function", 5, ("MyExp",), check_my_exp,
               ["forward: result = input.exp(); ctx.save_for_backward(result); return result.",
                "backward: (result,) = ctx.saved_tensors; return grad_output * result."])
ex6 = Exercise("04_custom_function", 6, ("MyLeakyReLU",), check_leaky_relu,
               ["forward(input, slope): torch.where(input > 0, input, slope * input); setup_context(ctx, inputs, output) "
                "unpacks input, slope = inputs, saves input and keeps slope as ctx.slope.",
                "backward returns two values: torch.where(input > 0, grad_output, ctx.slope * grad_output), and None."])
