"""Exercises of notebook 03 (``03_autograd``): a Jacobian row by row, accumulation weights, standardised input,
the stability limit, how noisy a two-point validation set is, and an in-place softmax repaired."""

from __future__ import annotations

import inspect
from unittest import mock

import torch

from helpers.exercises import Exercise, Incorrect, ____, close  # noqa: F401  (____ is what student copies fill in)

# The thermometer readings of notebook 03 (Celsius, and the unknown unit).
T_C = [0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0]
T_U = [35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4]


def check_jacobian_by_rows(jacobian_by_rows) -> None:
    g = torch.Generator().manual_seed(0)
    A, B = torch.randn(4, 3, generator=g), torch.randn(5, 2, generator=g)
    cases = [(lambda u: torch.tanh(A @ u), torch.randn(3, generator=g)),
             (lambda u: (B @ u) ** 2 + u.sum(), torch.randn(2, generator=g)),
             (lambda u: u.exp(), torch.randn(1, generator=g))]
    refuse = mock.Mock(side_effect=AssertionError("use one backward pass per row, not jacobian()"))
    jacobian = torch.autograd.functional.jacobian
    # the notebook's own `from torch.autograd.functional import jacobian` is a name in the answer's globals
    answer_globals = getattr(inspect.unwrap(jacobian_by_rows), "__globals__", {})
    aliases = {name: refuse for name, value in list(answer_globals.items()) if value is jacobian}
    for f, u in cases:
        expected = jacobian(f, u)
        with mock.patch("torch.autograd.functional.jacobian", refuse), mock.patch.dict(answer_globals, aliases):
            try:
                J = jacobian_by_rows(f, u.clone())
            except AssertionError as e:
                raise Incorrect(str(e)) from None
        if not isinstance(J, torch.Tensor) or J.shape != expected.shape:
            shape = tuple(J.shape) if isinstance(J, torch.Tensor) else type(J).__name__
            raise Incorrect(f"for f: R^{u.numel()} -> R^{expected.shape[0]} the Jacobian must be a tensor of shape "
                            f"{tuple(expected.shape)}, got {shape}")
        if not torch.allclose(J, expected, rtol=1e-5, atol=1e-6):
            row = (J - expected).abs().sum(dim=1).argmax().item()
            raise Incorrect(f"row {row} differs from the Jacobian: which unit vector v gives row {row} of v^T J?")


def check_weights(alpha, beta) -> None:
    close(float(alpha), 6 / 11, "alpha (the weight of the first 6 points' mean loss)", 1e-6)
    close(float(beta), 5 / 11, "beta (the weight of the last 5 points' mean loss)", 1e-6)


def least_squares(t_u: torch.Tensor) -> tuple[float, float]:
    X = torch.stack([t_u, torch.ones_like(t_u)], dim=1).double()
    w, b = torch.linalg.lstsq(X, torch.tensor(T_C).double().unsqueeze(1)).solution.squeeze(1).tolist()
    return w, b


def check_raw_fit(w_raw, b_raw) -> None:
    w, b = least_squares(torch.tensor(T_U))
    close(float(w_raw), w, "w_raw (the slope in the raw unit)", 1e-3)
    close(float(b_raw), b, "b_raw (the intercept in the raw unit)", 1e-3)


def check_lr_max(lr_max) -> None:
    t = torch.tensor(T_U).double()
    X = torch.stack([t, torch.ones_like(t)], dim=1)
    close(float(lr_max), 2 / torch.linalg.eigvalsh(2 / len(t) * X.T @ X).max().item(),
          "lr_max (2 / the Hessian's largest eigenvalue, on the raw readings)", 1e-4)


def check_valid_mse(valid_mse) -> None:
    t_un, t_c = 0.1 * torch.tensor(T_U), torch.tensor(T_C)
    X = torch.stack([t_un, torch.ones_like(t_un)], dim=1)
    expected = []
    for seed in range(10):
        perm = torch.randperm(len(t_c), generator=torch.Generator().manual_seed(seed))
        tr, va = perm[:-2], perm[-2:]
        sol = torch.linalg.lstsq(X[tr], t_c[tr].unsqueeze(1)).solution.squeeze(1)
        expected.append(((X[va] @ sol - t_c[va]) ** 2).mean().item())
    if len(valid_mse) != 10:
        raise Incorrect(f"valid_mse has {len(valid_mse)} values, expected one per seed 0..9 (10)")
    for seed, (got, want) in enumerate(zip(valid_mse, expected)):
        close(float(got), want, f"the validation MSE of seed {seed}", 1e-3)


def check_softmax_rows(softmax_rows_fixed) -> None:
    g = torch.Generator().manual_seed(0)
    for shape in [(3, 4), (1, 5), (6, 2)]:
        z = torch.randn(*shape, generator=g, dtype=torch.float64, requires_grad=True)
        v = torch.randn(*shape, generator=g, dtype=torch.float64)
        before = z.detach().clone()
        out = softmax_rows_fixed(z)
        if not isinstance(out, torch.Tensor) or out.shape != z.shape:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise Incorrect(f"for z of shape {shape} the result must be a tensor of the same shape, got {got}")
        if not torch.equal(z.detach(), before):
            raise Incorrect("softmax_rows_fixed changed z itself: compute new tensors from z instead")
        if not torch.allclose(out.detach(), torch.softmax(before, dim=1), rtol=1e-9, atol=1e-12):
            raise Incorrect("the values are not the softmax of each row: exp, then divide by the row sums (keepdim=True)")
        if out.grad_fn is None:
            raise Incorrect("the result has no grad_fn: it was cut out of the graph (.detach() or .data?), so no "
                            "gradient can reach z")
        try:
            (grad,) = torch.autograd.grad(out, z, grad_outputs=v)
        except RuntimeError as e:
            if "inplace operation" in str(e):
                raise Incorrect("backward still fails: a tensor that exp saved was modified by an inplace operation; "
                                "divide out of place (e / e.sum(...))") from None
            raise
        (expected,) = torch.autograd.grad(torch.softmax(z, dim=1), z, grad_outputs=v)
        if not torch.allclose(grad, expected, rtol=1e-8, atol=1e-10):
            raise Incorrect("the values are right but the gradient is wrong: did backward compute with a tensor changed "
                            "through .data, or with a part cut off by .detach()?")


ex1 = Exercise("03_autograd", 1, ("jacobian_by_rows",), check_jacobian_by_rows,
               ["v^T J with v = e_i, the i-th unit vector, is row i of J.",
                "torch.autograd.grad(f(u), u, grad_outputs=e_i, retain_graph=True) returns row i; stack the rows."])
ex2 = Exercise("03_autograd", 2, ("alpha", "beta"), check_weights,
               [".grad adds up what each backward() brings: after two calls it holds the gradient of L1 + L2.",
                "The mean over 11 points is (6 * L1 + 5 * L2) / 11 when L1 and L2 are the halves' means."])
ex3 = Exercise("03_autograd", 3, ("w_raw", "b_raw"), check_raw_fit,
               ["Write t_p = w_s * (t_u - mean) / std + b_s and collect the terms in t_u.",
                "w_raw = w_s / std and b_raw = b_s - w_s * mean / std."])
ex4 = Exercise("03_autograd", 4, ("lr_max",), check_lr_max,
               ["max_stable_lr(t_u) from the notebook is the limit; train at 0.9 and 1.1 times it.",
                "The smaller eigenvalue sets how fast b moves: lr * lambda_min is tiny when lr is set by lambda_max."])
ex5 = Exercise("03_autograd", 5, ("valid_mse",), check_valid_mse,
               ["For each seed: perm = torch.randperm(11, generator=torch.Generator().manual_seed(seed)); "
                "train on perm[:-2], validate on perm[-2:].",
                "torch.linalg.lstsq(X[train], t_c[train].unsqueeze(1)).solution gives (w, b) with X = [t_un, 1]."])
ex6 = Exercise("03_autograd", 6, ("softmax_rows_fixed",), check_softmax_rows,
               ["e /= ... changes e in place, and exp saved e for its backward: its version goes from 0 to 1.",
                "Return e / e.sum(dim=1, keepdim=True): a new tensor, and the saved e is left alone."])
