"""Exercises of notebook 09 (``09_cnn``): output sizes, LeNet's parameters, shifted digits, a wider fc1, and a
layer's output caught by a forward hook."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from helpers.exercises import Exercise, Incorrect, ____, mnist_rows  # noqa: F401  (____ is what student copies fill in)

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
    x_valid, _ = mnist_rows(50000, 60000)  # load_mnist's validation split
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


class _TwoConvs(nn.Module):
    """A model that is not a Sequential: its forward calls F.relu, so no slice of it ends at conv2."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=1)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.head(x.mean(dim=(2, 3)))


def check_feature_maps(feature_maps) -> None:
    torch.manual_seed(0)
    model, x = _TwoConvs(), torch.randn(2, 1, 12, 12)
    with torch.no_grad():
        inner = F.relu(model.conv1(x))
        cases = [("conv1", model.conv1(x), x), ("conv2", model.conv2(inner), inner)]
        for name, want, layer_input in cases:
            layer = getattr(model, name)
            got = feature_maps(model, layer, x)
            if layer._forward_hooks:
                raise Incorrect(f"a hook is still registered on {name} after feature_maps returned: keep the handle that "
                                "register_forward_hook returns and call handle.remove()")
            if not torch.is_tensor(got):
                raise Incorrect(f"feature_maps returned {type(got).__name__}; return the tensor the layer output")
            if got.shape == layer_input.shape and torch.allclose(got, layer_input):
                raise Incorrect(f"feature_maps(model, model.{name}, x) returned the layer's input; the hook receives "
                                "(module, inputs, output): keep `output`")
            if tuple(got.shape) != tuple(want.shape) or not torch.allclose(got, want, atol=1e-6):
                raise Incorrect(f"feature_maps(model, model.{name}, x) returned shape {tuple(got.shape)}, expected "
                                f"{name}'s output, shape {tuple(want.shape)}")
    seq = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten())
    got = feature_maps(seq, seq[1], x)
    if not torch.allclose(got, seq[:2](x).detach()) or seq[1]._forward_hooks:
        raise Incorrect("on nn.Sequential(Conv2d, ReLU, Flatten), the ReLU's feature maps should equal model[:2](x)")


ex5 = Exercise("09_cnn", 5, ("feature_maps",), check_feature_maps,
               ["Inside, define hook(module, inputs, output) that stores output (for example in a dict); register it with "
                "layer.register_forward_hook(hook), run model(x) under torch.no_grad(), then remove the hook.",
                "handle = layer.register_forward_hook(hook); try: model(x) finally: handle.remove(); return the stored output."])
