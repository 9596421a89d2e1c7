"""Exercises of notebook 08 (``08_dataloader``): drop_last, batch-size-free means (a thought exercise), a loader's
own generator, and moving batches to the device in preprocess."""

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
