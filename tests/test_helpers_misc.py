"""helpers.seed (helpers.device: tests/test_device.py)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from helpers.seed import set_seed


def test_set_seed_makes_random_numpy_and_torch_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3).tolist()

    set_seed(7)
    first = draw()
    set_seed(7)
    assert draw() == first
    set_seed(8)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True, None])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed"):
        set_seed(bad)
