"""The training loop taught in notebook 08 (``08_dataloader``), promoted verbatim.

``accuracy``, ``loss_batch``, ``batches``, ``get_data``, ``evaluate`` and ``fit`` are written inline in that notebook first;
``tests/test_promotion.py`` checks that the notebook's definitions and these are identical and train alike.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler, TensorDataset


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


def batches(ds: Dataset, bs: int, shuffle: bool) -> DataLoader:
    """Return a DataLoader over ``ds``; a TensorDataset is indexed a whole batch at a time, not sample by sample."""
    if not isinstance(ds, TensorDataset):
        return DataLoader(ds, batch_size=bs, shuffle=shuffle)
    sampler = RandomSampler(ds) if shuffle else SequentialSampler(ds)
    return DataLoader(ds, sampler=BatchSampler(sampler, bs, drop_last=False), batch_size=None)


def get_data(train_ds: Dataset, valid_ds: Dataset, bs: int) -> tuple[DataLoader, DataLoader]:
    """Return a shuffled training loader and a validation loader with twice the batch size."""
    return batches(train_ds, bs, shuffle=True), batches(valid_ds, bs * 2, shuffle=False)


def evaluate(model: nn.Module, loss_fn, dl, device: torch.device | str | None = None) -> tuple[float, float]:
    """Return the mean loss and accuracy of ``model`` over ``dl``, in eval mode and without autograd."""
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.inference_mode():
        for xb, yb in dl:
            xb, yb = xb.to(device), yb.to(device)
            out = model(xb)
            total_loss += loss_fn(out, yb).item() * len(xb)
            correct += (out.argmax(dim=1) == yb).sum().item()
            count += len(xb)
    if count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return total_loss / count, correct / count


def fit(model: nn.Module, loss_fn, opt: torch.optim.Optimizer, train_dl, valid_dl, epochs: int,
        device: torch.device | str | None = None, progress: bool = False) -> list[dict[str, float]]:
    """Train for ``epochs``; return per-epoch train loss, validation loss and validation accuracy.

    Batches are moved to ``device`` (default: where the model's parameters are); move the model there first.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a whole number, at least 1, not {epochs!r}")
    if next(model.parameters(), None) is None:
        raise ValueError("fit: the model has no parameters to train; did you forget to give it layers?")
    from tqdm import tqdm  # tqdm.auto would warn in notebooks without ipywidgets

    device = torch.device(device) if device is not None else next(model.parameters()).device
    history = []
    for epoch in tqdm(range(epochs), desc="epochs", disable=not progress):
        model.train()
        stats = [loss_batch(model, loss_fn, xb.to(device), yb.to(device), opt) for xb, yb in train_dl]
        if not stats:
            raise ValueError("fit: the training loader yielded no batches")
        losses, nums = zip(*stats)
        valid_loss, valid_acc = evaluate(model, loss_fn, valid_dl, device)
        train_loss = sum(loss * n for loss, n in zip(losses, nums)) / sum(nums)
        history.append({"epoch": epoch + 1, "train_loss": train_loss, "valid_loss": valid_loss, "valid_acc": valid_acc})
    return history
