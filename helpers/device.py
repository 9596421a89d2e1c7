"""Choosing the device a notebook runs on."""

from __future__ import annotations

import os

import torch


def get_device(override: str | None = None) -> torch.device:
    """Return ``override`` (or ``$COURSE_DEVICE``) if given, else the first of cuda, mps, cpu that is available.

    Accelerators come back with an index (``cuda:0``, ``mps:0``), as tensors report them, so that
    ``x.device == get_device()`` holds for a tensor moved there.
    """
    choice = override or os.environ.get("COURSE_DEVICE")
    if choice:
        device = torch.device(choice)  # raises RuntimeError for a name torch does not know
        if device.type in ("cuda", "mps") and device.index is None:
            device = torch.device(device.type, 0)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {choice!r} was requested but CUDA is not available here; use 'cpu'")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError(f"device {choice!r} was requested but MPS is not available here; use 'cpu'")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda", 0)
    if torch.backends.mps.is_available():
        return torch.device("mps", 0)
    return torch.device("cpu")
