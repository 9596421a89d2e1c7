"""Exercises of notebook 09 (``09_cnn``): output sizes, LeNet's parameters, shifted digits, a wider fc1."""

from __future__ import annotations

import torch
from torch import nn

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)

LENET_COUNTS = {"conv1": 6 * 1 * 5 * 5 + 6, "conv2": 16 * 6 * 5 * 5 + 16, "fc1": 400 * 120 + 120,
                "fc2": 120 * 84 + 84, "fc3": 84 * 10 + 10}


def check_conv_out(conv_out) -> None:
    for n, k, s, p in [(28, 3, 2, 1), (28, 5, 1, 2), (14, 2, 2, 0), (10, 5, 1, 0), (7, 3, 2, 1), (9, 4, 3, 1), (5, 5, 1, 0)]:
        real = nn.Conv2d(1, 1, k, stride=s, padding=p)(torch.zeros(1, 1, n, n)).shape[-1]
        got = conv_out(n, k, s, p) if (s, p) != (1, 0) else conv_out(n, k)
        if got != real:
            raise Incorrect(f"conv_out({n}, k={k}, s={s}, p={p}) = {got}, but the layer gives {real}: "
                            "floor((n + 2p - k) / s) + 1")


def check_counts(counts) -> None:
    if not isinstance(counts, dict):
        raise Incorrect("counts must be a dict from layer name (conv1, conv2, fc1, fc2, fc3) to its parameter count")
    if wrong := {k: v for k, v in LENET_COUNTS.items() if counts.get(k) != v}:
        name = next(iter(wrong))
        raise Incorrect(f"counts[{name!r}] is {counts.get(name)}, expected {wrong[name]} (weights and biases)")
    if set(counts) != set(LENET_COUNTS):
        raise Incorrect(f"counts has extra layers {sorted(set(counts) - set(LENET_COUNTS))}: keep those with parameters")


def check_shifted(shifted) -> None:
    from helpers.data import load_mnist

    _, (x_valid, _), _ = load_mnist()
    want = torch.roll(x_valid.view(-1, 1, 28, 28), shifts=3, dims=3)
    if tuple(shifted.shape) != tuple(want.shape):
        raise Incorrect(f"shifted has shape {tuple(shifted.shape)}, expected (10000, 1, 28, 28)")
    if not torch.equal(shifted, want):
        if torch.equal(shifted, torch.roll(x_valid.view(-1, 1, 28, 28), shifts=3, dims=2)):
            raise Incorrect("the digits moved down, not right: roll along the width (dims=3)")
        raise Incorrect("shifted is not the validation images moved 3 pixels to the right (torch.roll, dims=3)")


def check_wide_result(result) -> None:
    missing, unexpected = list(getattr(result, "missing_keys", [None])), list(getattr(result, "unexpected_keys", [None]))
    if missing != ["fc1.weight", "fc1.bias", "fc2.weight"] or unexpected != []:
        raise Incorrect(f"missing {missing}, unexpected {unexpected}; expected fc1's weight and bias and fc2's weight "
                        "missing (load with strict=False and only the entries whose shapes fit)")


ex1 = Exercise("09_cnn", 1, ("conv_out",), check_conv_out,
               ["Padding adds 2p to the side; the kernel fits (n + 2p - k) / s + 1 times.",
                "Use integer division: (n + 2 * p - k) // s + 1."])
ex2 = Exercise("09_cnn", 2, ("counts",), check_counts,
               ["count_params(layer) for name, layer in lenet.named_children(), keeping those above 0.",
                "fc1 maps 16 * 5 * 5 = 400 inputs to 120 outputs: 48,120 parameters."])
ex3 = Exercise("09_cnn", 3, ("shifted",), check_shifted,
               ["Images are (N, 1, 28, 28): height is dim 2, width dim 3.",
                "shifted = torch.roll(x_valid.view(-1, 1, 28, 28), shifts=3, dims=3)"])
ex4 = Exercise("09_cnn", 4, ("result",), check_wide_result,
               ["fc2's input size is fc1's output size.",
                "result = wide.load_state_dict({k: v for k, v in state.items() if k in target and v.shape == "
                "target[k].shape}, strict=False)"])
