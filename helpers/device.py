"""Choosing the device a notebook runs on."""

from __future__ import annotations

import os

import torch


def _usable(device: torch.device, asked: str) -> torch.device:
    """Return ``device`` (cuda and mps with an index) if this machine can use it; else raise naming ``asked``."""
    if device.type in ("cuda", "mps") and device.index is None:
        device = torch.device(device.type, 0)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(f"{asked} was requested but CUDA is not available here; use 'cpu'")
        if device.index >= (count := torch.cuda.device_count()):
            raise RuntimeError(f"{asked}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise RuntimeError(f"{asked} was requested but MPS is not available here; use 'cpu'")
        if device.index != 0:
            raise RuntimeError(f"{asked}: a Mac has one MPS device, mps:0")
    elif device.type != "cpu":
        raise RuntimeError(f"{asked}: the course runs on cpu, cuda or mps, not {device.type!r}")
    return device


def get_device(override: str | None = None) -> torch.device:
    """Return ``override`` (or ``$COURSE_DEVICE``) if given and usable here, else the first of cuda, mps, cpu available.

    Accelerators come back with an index (``cuda:0``, ``mps:0``), as tensors report them, so that
    ``x.device == get_device()`` holds for a tensor moved there.
    """
    if override:
        return _usable(torch.device(override), f"device {override!r}")  # torch names the devices it knows
    if choice := os.environ.get("COURSE_DEVICE"):
        asked = f"COURSE_DEVICE={choice!r} (from the environment)"
        try:
            return _usable(torch.device(choice), asked)
        except RuntimeError as e:
            message = str(e) if asked in str(e) else f"{asked}: {e}"  # torch's own error does not name the variable
            raise RuntimeError(f"{message}; unset COURSE_DEVICE or correct it") from None
    if torch.cuda.is_available():
        return torch.device("cuda", 0)
    if torch.backends.mps.is_available():
        return torch.device("mps", 0)
    return torch.device("cpu")
