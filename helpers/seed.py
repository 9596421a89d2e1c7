"""Seeding every random number generator a notebook uses."""

from __future__ import annotations

import random

import numpy as np
import torch


def set_seed(n: int) -> None:
    """Seed Python's ``random``, numpy and torch (CPU and every GPU) with ``n``."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"seed must be a non-negative int, got {n!r}")
    random.seed(n)
    np.random.seed(n)
    torch.manual_seed(n)  # also seeds CUDA and MPS generators
