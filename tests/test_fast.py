"""helpers.fast: unit tests on tiny data. That notebook 14's last definitions equal these and train identically
is checked in ``test_promotion.py``, which uses ``mnist_images`` from here. Speed is never asserted here:
``make bench`` measures it.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import helpers.fast
from helpers.data import load_mnist
from helpers.fast import accuracy_on, fast_cnn, to_images, train_fast
from helpers.seed import set_seed

CL = torch.channels_last


def mnist_images(count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``count`` MNIST training images, normalised with the whole training set's statistics."""
    (x_train, y_train), _, _ = load_mnist()
    mean, std = x_train.mean().item(), x_train.std().item()
    return to_images(x_train[:count], mean, std), y_train[:count]


def test_fast_cnn_maps_images_to_ten_scores_and_keeps_its_weights_channels_last():
    set_seed(0)
    model = fast_cnn()
    xb = torch.randn(5, 1, 28, 28).contiguous(memory_format=CL)
    with torch.no_grad():
        out = model(xb)
    assert out.shape == (5, 10) and out.dtype == torch.float32
    conv_weights = [p for p in model.parameters() if p.dim() == 4]
    assert len(conv_weights) == 3
    assert all(w.is_contiguous(memory_format=CL) for w in conv_weights)
    assert not conv_weights[1].is_contiguous()  # 16 input channels: channels_last really differs from the default
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 3


def test_to_images_normalises_reshapes_and_uses_channels_last():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 784, generator=g)
    mean, std = x.mean().item(), x.std().item()
    images = to_images(x, mean, std)
    assert images.shape == (64, 1, 28, 28) and images.is_contiguous(memory_format=CL)
    torch.testing.assert_close(images, ((x - mean) / std).view(-1, 1, 28, 28))
    assert abs(images.mean().item()) < 1e-5 and abs(images.std().item() - 1) < 1e-5
    torch.testing.assert_close(images[3, 0, 2, 5], (x[3, 2 * 28 + 5] - mean) / std)  # row-major pixel order kept


def test_train_fast_returns_one_loss_per_step_and_learns_a_small_problem():
    x, y = mnist_images(512)
    set_seed(0)
    model = fast_cnn()
    losses = train_fast(model, x, y, epochs=3, bs=32, bf16=False)
    assert len(losses) == 3 * 16 and all(isinstance(loss, float) for loss in losses)
    first_epoch, last_epoch = sum(losses[:16]) / 16, sum(losses[-16:]) / 16
    assert last_epoch < 0.25 * first_epoch, (first_epoch, last_epoch)  # measured: about 1.35 -> 0.09
    assert model.training  # train_fast leaves the model in training mode; accuracy_on switches to eval
    assert accuracy_on(model, x, y, bf16=False) > 0.9  # it fits its training images (measured: 0.97)


def test_train_fast_counts_a_partial_last_batch_and_is_reproducible():
    x, y = mnist_images(300)
    runs = []
    for _ in range(2):
        set_seed(0)
        runs.append(train_fast(fast_cnn(), x, y, epochs=2, bs=128, bf16=False))
    assert len(runs[0]) == 2 * 3  # 128 + 128 + 44 images per epoch
    assert runs[0] == runs[1]


def test_train_fast_with_bf16_autocast_keeps_float32_weights():
    x, y = mnist_images(256)
    set_seed(0)
    model = fast_cnn()
    losses = train_fast(model, x, y, bs=128, bf16=True)
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_bf16_is_fast_needs_the_instructions_and_onednn_allowed_to_use_them(monkeypatch):
    hardware = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    assert helpers.fast.bf16_is_fast() is hardware
    for isa in ("AVX2", "avx512_core", "AVX512_CORE_VNNI", "SSE41"):  # oneDNN limited below bf16: never fast
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", isa)
        assert helpers.fast.bf16_is_fast() is False, isa
    for isa in ("AVX512_CORE_BF16", "avx512_core_amx", "AVX10_1_512_AMX", "DEFAULT"):  # allowed: up to the hardware
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", isa)
        assert helpers.fast.bf16_is_fast() is hardware, isa
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    assert helpers.fast.bf16_is_fast() is False  # a CPU without bf16 instructions


@pytest.mark.parametrize("fast", [False, True])
def test_train_fast_and_accuracy_on_default_to_bf16_only_where_it_is_fast(monkeypatch, fast):
    x, y = mnist_images(256)
    runs = {}
    for bf16 in (None, fast):
        monkeypatch.setattr(helpers.fast, "bf16_is_fast", lambda: fast)
        set_seed(0)
        model = fast_cnn()
        runs[bf16] = (train_fast(model, x, y, bs=64, bf16=bf16), accuracy_on(model, x, y, bf16=bf16))
    assert runs[None] == runs[fast]  # the default made the same choice as forcing bf16_is_fast()'s answer
    set_seed(0)
    other = train_fast(fast_cnn(), x, y, bs=64, bf16=not fast)
    assert other != runs[fast][0]  # and the choice matters: bf16 and float32 give different losses


class Oracle(nn.Module):
    """A hand-made 'model' whose score for class k is pixel k of the first row: its answers are set by the input."""

    def forward(self, xb: torch.Tensor) -> torch.Tensor:
        return xb[:, 0, 0, :10]


@pytest.mark.parametrize("bf16", [False, True])
def test_accuracy_on_counts_correct_answers_over_partial_batches_in_eval_mode(bf16):
    answers = torch.arange(25) % 10
    x = torch.zeros(25, 1, 28, 28)
    x[torch.arange(25), 0, 0, answers] = 1.0  # the model answers `answers`
    y = answers.clone()
    y[[0, 6, 12, 18, 24]] = (y[[0, 6, 12, 18, 24]] + 1) % 10  # five wrong
    model = Oracle().train()
    assert accuracy_on(model, x, y, bs=10, bf16=bf16) == 20 / 25  # batches of 10, 10 and 5
    assert not model.training
    assert accuracy_on(model, x, answers, bs=7, bf16=bf16) == 1.0
