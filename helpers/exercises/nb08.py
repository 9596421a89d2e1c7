"""Exercises of notebook 08 (``08_dataloader``): drop_last, batch-size-free means (a thought exercise), a loader's
own generator, moving batches to the device in preprocess, and gradient clipping by hand."""

from __future__ import annotations

import torch

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)


def check_drop_last(dl, skipped) -> None:
    if not getattr(dl, "drop_last", False):
        raise Incorrect("dl must be a DataLoader made with drop_last=True")
    n, bs = len(dl.dataset), dl.batch_size
    if len(dl) != n // bs:
        raise Incorrect(f"dl has {len(dl)} batches, expected {n} // {bs} = {n // bs}")
    if skipped != n % bs:
        raise Incorrect(f"skipped is {skipped}; {n} samples in batches of {bs} leave {n % bs} out")


def check_first_labels(first_labels) -> None:
    if torch.equal(first_labels(False, False), first_labels(False, True)):
        raise Incorrect("with the global generator, creating a layer in between should change the first batch: "
                        "do you seed, build the loader, then create nn.Linear(784, 10) before iterating?")
    if not torch.equal(first_labels(True, False), first_labels(True, True)):
        raise Incorrect("with its own generator the loader's order must not depend on the extra layer: pass "
                        "generator=torch.Generator().manual_seed(0) to the DataLoader")


def check_preprocess(preprocess_to_device) -> None:
    from helpers.device import get_device

    device = get_device()
    xb, yb = preprocess_to_device(torch.zeros(5, 784), torch.arange(5))
    if tuple(xb.shape) != (5, 1, 28, 28):
        raise Incorrect(f"a (5, 784) batch became {tuple(xb.shape)}, expected (5, 1, 28, 28)")
    if xb.device.type != device.type or yb.device.type != device.type:
        raise Incorrect(f"the batch is on {xb.device} and {yb.device}, expected get_device() = {device}")
    if not torch.equal(yb.cpu(), torch.arange(5)):
        raise Incorrect("the labels must come back unchanged")


ex1 = Exercise("08_dataloader", 1, ("dl", "skipped"), check_drop_last,
               ["DataLoader(train_ds, batch_size=bs, shuffle=True, drop_last=True)",
                "skipped = len(train_ds) - the number of samples in all full batches."])
ex2 = Exercise("08_dataloader", 2, hints=[
    "Weight each batch's mean loss by its size and divide by the total count: any batch size gives the same mean.",
    "With 3,000 per batch the batches hold 3000, 3000, 3000 and 1000 images, but a plain mean counts each as 1/4."])
ex3 = Exercise("08_dataloader", 3, ("first_labels",), check_first_labels,
               ["first_labels(own_generator, extra_layer): set_seed(0), build the loader, maybe create a layer, "
                "return next(iter(dl))[1].", "nn.Linear(784, 10) draws its initial weights from the global generator."])
ex4 = Exercise("08_dataloader", 4, ("preprocess_to_device",), check_preprocess,
               ["x.view(-1, 1, 28, 28) reshapes; .to(device) moves.", "Return both: the images and the labels, moved."])


def _params(*grads) -> list[torch.nn.Parameter]:
    """Parameters whose gradients hold the given values (None: a parameter without a gradient, e.g. a frozen one)."""
    params = []
    for values in grads:
        p = torch.nn.Parameter(torch.zeros(1 if values is None else len(values)))
        p.grad = None if values is None else torch.tensor(values)
        params.append(p)
    return params


def _near(params, expected) -> bool:
    return all(p.grad is None if e is None else torch.allclose(p.grad, torch.tensor(e), atol=1e-5)
               for p, e in zip(params, expected))


def check_clip(clip_grad_norm) -> None:
    params = _params([3.0, 0.0], [4.0])  # total norm 5: clipped to 1, the gradients become [0.6, 0] and [0.8]
    total = clip_grad_norm((p for p in params), 1.0)  # a generator, like model.parameters(): it can be read once
    if _near(params, [[3.0, 0.0], [4.0]]):
        raise Incorrect("clip_grad_norm(parameters, 1.0) left gradients of total norm 5 unchanged; if you loop over "
                        "`parameters` twice, make it a list first: model.parameters() is a generator")
    if _near(params, [[1.0, 0.0], [1.0]]):
        raise Incorrect("each gradient was clipped to norm 1 on its own: compute one total norm over all the gradients "
                        "together, then scale every gradient by the same factor, max_norm / total")
    if not _near(params, [[0.6, 0.0], [0.8]]):
        raise Incorrect(f"gradients [3, 0] and [4] (total norm 5) became {[p.grad.tolist() for p in params]} with "
                        "max_norm 1, expected [0.6, 0.0] and [0.8]")
    try:
        total = float(total)
    except (TypeError, ValueError, RuntimeError):
        raise Incorrect(f"clip_grad_norm returned {total!r}: return the total norm before clipping, 5.0") from None
    if abs(total - 5.0) > 1e-4:
        raise Incorrect(f"clip_grad_norm returned {total:.4g}: return the total norm *before* clipping, 5.0")
    params = _params([0.3, 0.0], [0.4])
    clip_grad_norm(params, 1.0)
    if not _near(params, [[0.3, 0.0], [0.4]]):
        raise Incorrect("gradients of total norm 0.5 changed with max_norm 1: scale only when the total norm is above "
                        "max_norm (clipping never scales up)")
    params = _params([3.0, 0.0], None, [4.0])
    skip_none = ("with a parameter without a gradient (p.grad is None, a frozen one) among them, gradients [3, 0] "
                 "and [4] should become [1.5, 0] and [2.0] with max_norm 2.5: skip parameters whose .grad is None")
    try:
        clip_grad_norm(params, 2.5)
    except (TypeError, AttributeError):
        raise Incorrect(skip_none) from None
    if not _near(params, [[1.5, 0.0], None, [2.0]]):
        raise Incorrect(skip_none)
    g = torch.Generator().manual_seed(0)
    mine = [torch.nn.Parameter(torch.zeros(s)) for s in [(5, 3), (5,), (2, 2, 2)]]
    ref = [torch.nn.Parameter(torch.zeros(s)) for s in [(5, 3), (5,), (2, 2, 2)]]
    for a, b in zip(mine, ref):
        a.grad = torch.randn(a.shape, generator=g)
        b.grad = a.grad.clone()
    total, expected = float(clip_grad_norm(mine, 0.7)), torch.nn.utils.clip_grad_norm_(ref, 0.7).item()
    if abs(total - expected) > 1e-4 * expected or not all(torch.allclose(a.grad, b.grad, atol=1e-6)
                                                           for a, b in zip(mine, ref)):
        raise Incorrect("on random gradients of three tensors the result differs from torch.nn.utils.clip_grad_norm_")


ex5 = Exercise("08_dataloader", 5, ("clip_grad_norm",), check_clip,
               ["total = the square root of the sum of (p.grad ** 2).sum() over the parameters whose .grad is not None.",
                "Make `parameters` a list first. If total > max_norm, multiply every gradient in place by "
                "max_norm / total (p.grad.mul_(...)); return total either way."])
