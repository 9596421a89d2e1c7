"""Exercises of notebook 02 (``02_tensors``): images to a batch, views or copies, in place or rebinding, fewer syncs,
pairwise distances by broadcasting."""

from __future__ import annotations

from unittest import mock

import numpy as np
import torch

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)

EXPRESSIONS = ["a[1]", "a[:, 1]", "a[a > 5]", "a[[0, 2]]", "a.t()", "a.view(2, 6)", "a.reshape(2, 6)",
               "a.t().reshape(12)", "a.clone()", "a.float()"]


def check_to_batch(to_batch) -> None:
    for seed, shape in enumerate([(4, 8, 8, 3), (1, 5, 7, 1), (2, 3, 2, 4)]):
        images = np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)
        before = images.copy()
        out = to_batch(images)
        b, h, w, c = shape
        if not isinstance(out, torch.Tensor):
            raise Incorrect(f"to_batch returned a {type(out).__name__}, expected a torch.Tensor")
        if tuple(out.shape) != (b, c, h, w):
            raise Incorrect(f"for a (B, H, W, C) = {shape} batch the result has shape {tuple(out.shape)}, "
                            f"expected (B, C, H, W) = {(b, c, h, w)}")
        if out.dtype != torch.float32:
            raise Incorrect(f"the result is {out.dtype}, expected torch.float32")
        if not np.array_equal(images, before):
            raise Incorrect("to_batch changed the numpy array it was given; convert to a new tensor instead")
        expected = torch.from_numpy(before).permute(0, 3, 1, 2).float() / 255
        if not torch.allclose(out, expected, atol=1e-6):
            where = (out - expected).abs().argmax().item()
            raise Incorrect(f"values differ from the pixels / 255 (first at flat index {where}): is every pixel "
                            "in its place, and is the range [0, 1]?")


def check_shares_memory(shares_memory) -> None:
    a = torch.arange(12).reshape(3, 4)
    truth = {e: eval(e, {"a": a}).untyped_storage().data_ptr() == a.untyped_storage().data_ptr()  # noqa: S307
             for e in EXPRESSIONS}
    if not isinstance(shares_memory, dict):
        raise Incorrect("shares_memory must be a dict from each expression (a string) to True or False")
    if missing := [e for e in EXPRESSIONS if e not in shares_memory]:
        raise Incorrect(f"shares_memory has no entry for {', '.join(missing)}")
    if wrong := [e for e in EXPRESSIONS if bool(shares_memory[e]) != truth[e]]:
        raise Incorrect("wrong for " + ", ".join(f"{e} (it {'does' if truth[e] else 'does not'} share memory)"
                                                 for e in wrong))


def problem(seed: int, dtype=torch.float64) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(*s, generator=g, dtype=dtype) for s in [(8, 5), (8, 2), (5, 4), (4, 2)])


def check_step_rebinding(step_rebinding) -> None:
    for seed in range(3):
        x, y, w1, w2 = problem(seed)
        before = w1.clone()
        new_w1 = step_rebinding(x, y, w1, w2, 1e-3)
        if not torch.equal(w1, before):
            raise Incorrect("the caller's w1 changed: the update must build a new tensor (w1 = w1 - ...), "
                            "not modify it in place (w1 -= ...)")
        if not isinstance(new_w1, torch.Tensor) or new_w1.shape != w1.shape:
            raise Incorrect("step_rebinding must return the new w1, a tensor of w1's shape")
        w = w1.clone().requires_grad_()
        loss = (x.mm(w).clamp(min=0).mm(w2) - y).pow(2).sum()
        (grad,) = torch.autograd.grad(loss, w)
        if not torch.allclose(new_w1, w1 - 1e-3 * grad, rtol=1e-9, atol=1e-12):
            raise Incorrect("the returned w1 is not one gradient step w1 - lr * grad_w1 of the network's loss")


def reference_losses(x, y, w1, w2, lr: float, steps: int) -> list[float]:
    """The losses of 02's training loop (autograd computes the same gradients as the hand-written ones)."""
    w1, w2, losses = w1.clone().requires_grad_(), w2.clone().requires_grad_(), []
    for _ in range(steps):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w1 -= lr * w1.grad
            w2 -= lr * w2.grad
            w1.grad = w2.grad = None
    return losses


def check_few_syncs(train_torch_few_syncs) -> None:
    x, y, w1, w2 = problem(0)
    expected = reference_losses(x, y, w1, w2, 1e-3, 20)
    calls = []
    original = torch.Tensor.item
    with mock.patch.object(torch.Tensor, "item", lambda self: calls.append(1) or original(self)):
        losses = train_torch_few_syncs(x, y, w1.clone(), w2.clone(), 1e-3, 20)
    if not isinstance(losses, list) or len(losses) != 20 or not all(isinstance(v, float) for v in losses):
        raise Incorrect("for 20 steps the function must return a list of 20 Python floats (one .tolist() at the end)")
    if len(calls) > 1:
        raise Incorrect(f".item() was called {len(calls)} times in 20 steps: keep each loss as a tensor and "
                        "convert them all at once at the end")
    worst = max(abs(a - b) / abs(b) for a, b in zip(losses, expected))
    if worst > 1e-9:
        raise Incorrect(f"the losses differ from train_torch's by up to a factor {worst:.2g}: is the update the same?")


def check_pairwise_sq_dists(pairwise_sq_dists) -> None:
    g = torch.Generator().manual_seed(0)
    for n, m, d in [(5, 5, 3), (4, 3, 2), (1, 6, 4), (7, 2, 1)]:  # square first: the (a - b) mistake runs there
        a = torch.randn(n, d, generator=g, dtype=torch.float64)
        b = torch.randn(m, d, generator=g, dtype=torch.float64)
        out = pairwise_sq_dists(a.clone(), b.clone())
        expected = torch.cdist(a, b) ** 2
        if not isinstance(out, torch.Tensor):
            raise Incorrect(f"pairwise_sq_dists returned a {type(out).__name__}, expected a torch.Tensor")
        if tuple(out.shape) != (n, m):
            raise Incorrect(f"for a of shape {(n, d)} and b of shape {(m, d)} the result has shape {tuple(out.shape)}, "
                            f"expected (n, m) = {(n, m)}: one row per point of a, one column per point of b")
        if torch.allclose(out, expected, rtol=1e-9, atol=1e-9):
            continue
        if n == m and torch.allclose(out, expected.T, rtol=1e-9, atol=1e-9):
            raise Incorrect("the table is transposed: entry (i, j) must be the distance from a[i] to b[j]; "
                            "index a with [:, None] and b with [None]")
        if torch.allclose(out, expected.sqrt(), rtol=1e-9, atol=1e-9):
            raise Incorrect("these are the distances, not the squared distances: leave out the square root")
        i, j = divmod((out - expected).abs().argmax().item(), m)
        raise Incorrect(f"entry ({i}, {j}) is {out[i, j].item():.4g}, but ||a[{i}] - b[{j}]||^2 = "
                        f"{expected[i, j].item():.4g}: square the differences, then sum over the last dimension (d)")


ex1 = Exercise("02_tensors", 1, ("to_batch",), check_to_batch,
               ["torch.from_numpy shares the array's memory; .permute(0, 3, 1, 2) reorders the axes as a view.",
                "Convert after permuting: .float() makes a new float32 tensor, then divide by 255."])
ex2 = Exercise("02_tensors", 2, ("shares_memory",), check_shares_memory,
               ["Basic slicing, .t() and .view give views; boolean masks and index lists copy.",
                "reshape returns a view when it can: a.t() is not contiguous, so a.t().reshape(12) has to copy."])
ex3 = Exercise("02_tensors", 3, ("step_rebinding",), check_step_rebinding,
               ["Write the step of train_torch once, with `w1 = w1 - lr * grad_w1` instead of `w1 -= ...`.",
                "The new tensor exists only inside the function: return it, and compare the caller's w1 before and after."])
ex4 = Exercise("02_tensors", 4, ("train_torch_few_syncs",), check_few_syncs,
               ["Append the 0-d loss tensor itself (no .item()) to the list.",
                "At the end, torch.stack(losses).tolist() converts them all in one transfer."])
ex5 = Exercise("02_tensors", 5, ("pairwise_sq_dists",), check_pairwise_sq_dists,
               ["a[:, None, :] has shape (n, 1, d) and b[None, :, :] has shape (1, m, d): what shape is their difference?",
                "Square the (n, m, d) differences and sum over dim=-1."])
