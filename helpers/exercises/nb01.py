"""Exercises of notebook 01 (``01_numpy_network``): a tanh network, the learning rate of a mean loss, biases."""

from __future__ import annotations

import numpy as np

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)


def numerical_grad(f, param: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to every entry of ``param`` (changed in place, restored)."""
    grad = np.zeros_like(param)
    for i in np.ndindex(param.shape):
        old = param[i]
        param[i] = old + eps
        up = f()
        param[i] = old - eps
        down = f()
        param[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def instances(n: int = 3, with_bias: bool = False):
    """Small float64 problems of different sizes: (x, y, w1, w2) or (x, y, w1, b1, w2, b2)."""
    for seed, (N, D_in, H, D_out) in enumerate([(3, 4, 5, 2), (1, 2, 3, 1), (6, 3, 4, 3)][:n]):
        g = np.random.default_rng(100 + seed)
        x, y = g.standard_normal((N, D_in)), g.standard_normal((N, D_out))
        w1, w2 = g.standard_normal((D_in, H)), g.standard_normal((H, D_out))
        yield (x, y, w1, g.standard_normal(H), w2, g.standard_normal(D_out)) if with_bias else (x, y, w1, w2)


def compare_grads(fn, args: tuple, names: list[str], what: str) -> None:
    """Raise ``Incorrect`` naming the first gradient of ``fn(*args)`` that differs from central differences."""
    out = fn(*args)
    if not isinstance(out, tuple) or len(out) != 1 + len(names):
        raise Incorrect(f"{what} must return (loss, {', '.join(names)}), got {type(out).__name__} of length "
                        f"{len(out) if isinstance(out, tuple) else 1}")
    for grad, name, param in zip(out[1:], names, [a for a in args[2:]]):
        expected = numerical_grad(lambda: fn(*args)[0], param)
        if np.shape(grad) != expected.shape:
            raise Incorrect(f"{name} has shape {np.shape(grad)}, expected {expected.shape}")
        if not np.allclose(grad, expected, rtol=1e-5, atol=1e-6):
            worst = np.abs(np.asarray(grad) - expected).max()
            raise Incorrect(f"{name} differs from the numerical gradient by up to {worst:.3g} "
                            f"(input shapes {[a.shape for a in args]})")


def check_tanh(forward_backward_tanh) -> None:
    for x, y, w1, w2 in instances():
        loss = forward_backward_tanh(x, y, w1, w2)[0]
        expected = np.square(np.tanh(x @ w1) @ w2 - y).sum()
        if not np.isclose(loss, expected, rtol=1e-10):
            raise Incorrect(f"the loss is {loss:.6g}, expected {expected:.6g}: is the forward pass tanh, then w2, "
                            "then the summed squared error?")
        compare_grads(forward_backward_tanh, (x, y, w1, w2), ["grad_w1", "grad_w2"], "forward_backward_tanh")


def check_mean_lr(mean_lr) -> None:
    expected = 1e-6 * 64 * 10  # the sum runs over N * D_out = 64 * 10 terms in the notebook
    if not np.isclose(float(mean_lr), expected, rtol=1e-9):
        raise Incorrect(f"mean_lr is {float(mean_lr):.3g}; the mean divides every gradient by N * D_out, "
                        "so the learning rate must grow by the same factor")


def check_bias(forward_backward_bias) -> None:
    for x, y, w1, b1, w2, b2 in instances(with_bias=True):
        compare_grads(lambda x_, y_, *p: forward_backward_bias(x_, y_, *p), (x, y, w1, b1, w2, b2),
                      ["grad_w1", "grad_b1", "grad_w2", "grad_b2"], "forward_backward_bias")


ex1 = Exercise("01_numpy_network", 1, ("forward_backward_tanh",), check_tanh,
               ["Only the activation changes: keep a = tanh(h) from the forward pass.",
                "d/dh tanh(h) = 1 - tanh(h)**2 = 1 - a**2, so grad_h = (grad_y_pred @ w2.T) * (1 - a**2)."])
ex2 = Exercise("01_numpy_network", 2, ("mean_lr",), check_mean_lr,
               ["How many terms does the sum in the loss add up? The mean divides by that number.",
                "Every gradient of the mean loss is the sum-loss gradient divided by N * D_out = y.size."])
ex3 = Exercise("01_numpy_network", 3, ("forward_backward_bias",), check_bias,
               ["b2 is added to every row of y_pred, so its gradient collects grad_y_pred from every row.",
                "grad_b2 = grad_y_pred.sum(axis=0) and grad_b1 = grad_h.sum(axis=0) (after zeroing grad_h where h < 0)."])
