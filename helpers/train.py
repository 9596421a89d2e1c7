"""The training loop taught in notebook 08 (``08_dataloader``), promoted verbatim.

``accuracy``, ``loss_batch``, ``get_data``, ``evaluate`` and ``fit`` are written inline in that notebook first;
``tests/test_train.py`` checks that the notebook's ``fit`` and this one give the same history.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


def accuracy(out: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
    """Fraction of rows of ``out`` whose argmax equals the label in ``yb``."""
    return (out.argmax(dim=1) == yb).float().mean()


def loss_batch(model: nn.Module, loss_fn, xb: torch.Tensor, yb: torch.Tensor,
               opt: torch.optim.Optimizer | None = None) -> tuple[float, int]:
    """Return one batch's loss and size; with ``opt``, also take one optimisation step."""
    loss = loss_fn(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def get_data(train_ds: Dataset, valid_ds: Dataset, bs: int) -> tuple[DataLoader, DataLoader]:
    """Return a shuffled training loader and a validation loader with twice the batch size."""
    return (
        DataLoader(train_ds, batch_size=bs, shuffle=True),
        DataLoader(valid_ds, batch_size=bs * 2),
    )


def evaluate(model: nn.Module, loss_fn, dl, device: torch.device | str | None = None) -> tuple[float, float]:
    """Return the mean loss and accuracy of ``model`` over ``dl``, in eval mode and without gradients."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for xb, yb in dl:
            xb, yb = xb.to(device), yb.to(device)
            out = model(xb)
            total_loss += loss_fn(out, yb).item() * len(xb)
            correct += (out.argmax(dim=1) == yb).sum().item()
            count += len(xb)
    return total_loss / count, correct / count


def fit(model: nn.Module, loss_fn, opt: torch.optim.Optimizer, train_dl, valid_dl, epochs: int,
        device: torch.device | str | None = None, progress: bool = False) -> list[dict[str, float]]:
    """Train for ``epochs``; return per-epoch train loss, validation loss and validation accuracy."""
    from tqdm import tqdm  # tqdm.auto would warn in notebooks without ipywidgets

    device = torch.device(device) if device is not None else next(model.parameters()).device
    history = []
    for epoch in tqdm(range(epochs), desc="epochs", disable=not progress):
        model.train()
        losses, nums = zip(*[loss_batch(model, loss_fn, xb.to(device), yb.to(device), opt) for xb, yb in train_dl])
        valid_loss, valid_acc = evaluate(model, loss_fn, valid_dl, device)
        train_loss = sum(loss * n for loss, n in zip(losses, nums)) / sum(nums)
        history.append({"epoch": epoch + 1, "train_loss": train_loss, "valid_loss": valid_loss, "valid_acc": valid_acc})
    return history
