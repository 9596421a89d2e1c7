"""The fast CPU recipe built step by step in notebook 14 (``14_fast_cpu``), promoted verbatim.

Normalised input, a small BatchNorm CNN, AdamW with a one-cycle learning rate, batches taken by
indexing in-memory tensors, channels_last memory format, and bfloat16 autocast where the CPU has bf16
instructions (``bf16_is_fast``). ``bench/fast.py`` times it; ``tests/test_promotion.py`` checks the notebook's
definitions equal these.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn


def to_images(x: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """Normalise flat (N, 784) pixels and return them as (N, 1, 28, 28) images in channels_last layout."""
    return (x - mean).div_(std).view(-1, 1, 28, 28).contiguous(memory_format=torch.channels_last)


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """3x3 convolution, BatchNorm, ReLU, then 2x2 max-pooling (halves height and width)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),  # BatchNorm has its own bias
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


def fast_cnn() -> nn.Sequential:
    """Three conv blocks (16, 32, 64 channels: 28 -> 14 -> 7 -> 3 pixels) and a linear classifier."""
    model = nn.Sequential(conv_block(1, 16), conv_block(16, 32), conv_block(32, 64),
                          nn.Flatten(), nn.Linear(64 * 3 * 3, 10))
    return model.to(memory_format=torch.channels_last)


def bf16_is_fast() -> bool:
    """True if this CPU has bf16 instructions (AVX512-BF16 or AMX) and oneDNN may use them (ONEDNN_MAX_CPU_ISA)."""
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA", "ALL").upper()
    allowed = isa in ("ALL", "DEFAULT") or any(part in isa for part in ("BF16", "FP16", "AMX", "AVX10"))
    return allowed and (torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def train_fast(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int = 1, bs: int = 128,
               lr: float = 0.02, weight_decay: float = 5e-4, bf16: bool | None = None) -> list[float]:
    """Train with AdamW and a one-cycle schedule on in-memory batches; return the loss of every step.

    ``bf16=None`` uses bf16 autocast if ``bf16_is_fast()``; True or False forces it on or off.
    """
    bf16 = bf16_is_fast() if bf16 is None else bf16
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = (len(x) + bs - 1) // bs
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch)
    losses = []
    model.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x)).split(bs):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            sched.step()
            losses.append(loss.item())
    return losses


def accuracy_on(model: nn.Module, x: torch.Tensor, y: torch.Tensor, bs: int = 250, bf16: bool | None = None) -> float:
    """Fraction of (x, y) the model classifies correctly, in eval mode, under inference_mode (bf16 as in train_fast)."""
    bf16 = bf16_is_fast() if bf16 is None else bf16
    model.eval()
    correct = 0
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for i in range(0, len(x), bs):
            correct += (model(x[i:i + bs]).argmax(dim=1) == y[i:i + bs]).sum().item()
    return correct / len(x)
