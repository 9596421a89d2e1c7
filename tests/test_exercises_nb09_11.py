"""Notebooks 09, 10 and 11's exercise checks: right answers pass, realistic mistakes are named, ____ is not attempted."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
import torch
from torch import nn

from helpers.data import load_mnist
from helpers.exercises import ____, nb09, nb10, nb11


def verdict(ex, *values) -> str:
    return ex._verdict(values, {})


def to_device(obj, device):
    if torch.is_tensor(obj):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)([to_device(v, device) for v in obj])
    return obj


def device_batches(x, y, bs, shuffle):
    idx = torch.randperm(len(x)) if shuffle else torch.arange(len(x))
    for i in range(0, len(x), bs):
        yield x[idx[i:i + bs]], y[idx[i:i + bs]]


HUBCONF = """from torch import nn
dependencies = ["torch"]
def _init(m):
    pass
def tiny_mlp(hidden: int = 32):
    return nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))
"""


def resnet_buffers():
    from torchvision.models import resnet18
    return [name for name, _ in resnet18(weights=None).named_buffers()]


def features_and_head():
    """A model shaped like notebook 11's: convolutional `features` (many parameters), a linear `head` (few)."""
    return nn.Sequential(nn.Sequential(nn.Conv2d(1, 16, 3), nn.Conv2d(16, 32, 3)), nn.Linear(32, 5))


def lenet_like():
    wide = nn.ModuleDict({"fc1": nn.Linear(400, 200), "fc2": nn.Linear(200, 84)})
    old = {"fc1.weight": torch.zeros(120, 400), "fc1.bias": torch.zeros(120), "fc2.weight": torch.zeros(84, 120),
           "fc2.bias": torch.zeros(84)}
    target = wide.state_dict()
    return wide, old, target


def feature_maps(model, layer, x, remove=True, keep="output"):
    """A hook-based answer written differently from the notebook's; ``remove``/``keep`` make the realistic mistakes."""
    seen = []
    handle = layer.register_forward_hook(lambda module, inputs, output: seen.append(output if keep == "output" else inputs[0]))
    model(x)
    if remove:
        handle.remove()
    return seen[-1].detach()


def save_if_better(model, valid_loss, best_loss, path, better=lambda new, old: new < old, atomic=True):
    """An answer written differently from the notebook's (mkstemp in the target's folder); the keywords make mistakes."""
    if not better(valid_loss, best_loss):
        return best_loss
    if not atomic:
        torch.save(model.state_dict(), path)
        return valid_loss
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    torch.save(model.state_dict(), tmp)
    os.replace(tmp, path)
    return valid_loss


def test_right_answers_are_correct():
    _, (x_valid, _), _ = load_mnist()
    assert verdict(nb09.ex1, lambda n, k, s=1, p=0: (n - k + 2 * p) // s + 1) == "Correct"
    assert verdict(nb09.ex2, dict(conv1=156, conv2=2416, fc1=48120, fc2=10164, fc3=850)) == "Correct"
    assert verdict(nb09.ex3, x_valid.view(-1, 1, 28, 28).roll(3, -1)) == "Correct"
    wide, old, target = lenet_like()
    result = wide.load_state_dict({k: v for k, v in old.items() if v.shape == target[k].shape}, strict=False)
    assert verdict(nb09.ex4, result) == "Correct"
    assert verdict(nb09.ex5, feature_maps) == "Correct"
    assert verdict(nb10.ex1, to_device) == "Correct"
    assert verdict(nb10.ex2, {"w": torch.zeros(2)}) == "Correct"
    assert verdict(nb10.ex3, device_batches) == "Correct"
    assert verdict(nb10.ex4, lambda device, n: 2e-6) == "Correct"
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    assert verdict(nb11.ex1, [name, list(map(int, keys)), pos, has_gauss, gauss]) == "Correct"
    assert verdict(nb11.ex2, resnet_buffers()) == "Correct"
    features, head = features_and_head()
    groups = [{"params": features.parameters(), "lr": 1e-4}, {"params": head.parameters()}]
    assert verdict(nb11.ex3, torch.optim.Adam(groups, lr=1e-3)) == "Correct"
    features, head = features_and_head()  # the head's group first, the features' lr given in full
    assert verdict(nb11.ex3, torch.optim.Adam([{"params": head.parameters(), "lr": 2e-3},
                                               {"params": features.parameters(), "lr": 2e-4}])) == "Correct"
    assert verdict(nb11.ex4, HUBCONF) == "Correct"
    assert verdict(nb11.ex5, save_if_better) == "Correct"
    assert verdict(nb11.ex4, HUBCONF.replace("    return nn.Sequential", "    return _MLP(hidden)\nclass _MLP(nn.Sequential):\n"
                                             "    def __init__(self, hidden):\n        super().__init__")) == "Correct"


@pytest.mark.parametrize("ex", [*(getattr(nb09, f"ex{i}") for i in range(1, 6)), *(getattr(nb10, f"ex{i}") for i in range(1, 5)),
                                *(getattr(nb11, f"ex{i}") for i in range(1, 6))])
def test_placeholders_are_not_attempted(ex):
    assert verdict(ex, ____).startswith("Not attempted")


def test_realistic_mistakes_are_named():
    _, (x_valid, _), _ = load_mnist()
    assert verdict(nb09.ex1, lambda n, k, s=1, p=0: (n - k + p) // s + 1).startswith("Incorrect: conv_out(28, k=5, s=1, p=2) = 26, but the layer gives 28")
    assert verdict(nb09.ex2, dict(conv1=150, conv2=2416, fc1=48120, fc2=10164, fc3=850)).startswith(
        "Incorrect: counts['conv1'] is 150, expected 156")
    assert verdict(nb09.ex3, x_valid.view(-1, 1, 28, 28).roll(3, 2)) == (
        "Incorrect: the digits moved down, not right: roll along the width (dims=3)")
    narrow_fc2 = nn.ModuleDict({"fc1": nn.Linear(400, 200), "fc2": nn.Linear(120, 84)})  # forgot fc2's new input size
    _, old, _ = lenet_like()
    target = narrow_fc2.state_dict()
    result = narrow_fc2.load_state_dict({k: v for k, v in old.items() if v.shape == target[k].shape}, strict=False)
    assert verdict(nb09.ex4, result).startswith("Incorrect: missing ['fc1.weight', 'fc1.bias'], unexpected []")
    assert verdict(nb09.ex5, lambda model, layer, x: feature_maps(model, layer, x, remove=False)).startswith(
        "Incorrect: a hook is still registered on conv1 after feature_maps returned")
    assert verdict(nb09.ex5, lambda model, layer, x: feature_maps(model, layer, x, keep="inputs")).startswith(
        "Incorrect: feature_maps(model, model.conv1, x) returned the layer's input")
    assert verdict(nb09.ex5, lambda model, layer, x: model(x)) == (
        "Incorrect: feature_maps(model, model.conv1, x) returned shape (2, 3), expected conv1's output, shape (2, 4, 6, 6)")
    assert verdict(nb10.ex1, lambda obj, device: {k: v.to(device) if torch.is_tensor(v) else v for k, v in obj.items()}) == (
        "Incorrect: not every tensor was moved: recurse into dicts, lists and tuples")
    assert verdict(nb10.ex2, {"w": torch.zeros(2, device="meta")}) == (  # as a GPU tensor would stay on its device
        "Incorrect: w is not a tensor on the CPU: load with map_location='cpu'")
    assert verdict(nb10.ex4, lambda device, n: n * 2e-6).startswith(  # the whole loop's time, not per addition
        "Incorrect: per_op_seconds(cpu, 2000) is 10.0 times per_op_seconds(cpu, 200)")
    assert verdict(nb10.ex4, lambda device, n: 2.0).startswith("Incorrect: per_op_seconds(cpu, 200) returned 2.0")
    assert verdict(nb10.ex3, lambda x, y, bs, shuffle: device_batches(x, y[torch.randperm(len(y))] if shuffle else y, bs, False)
                   ).startswith("Incorrect: a shuffled batch's images and labels must stay together")
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    assert verdict(nb11.ex1, (name, keys, pos, has_gauss, gauss)).startswith("Incorrect: a weights-only load refuses it")
    assert verdict(nb11.ex1, (name, keys.tolist())).startswith("Incorrect: np_state must be the 5 values")
    assert verdict(nb11.ex2, resnet_buffers()[:-3]).startswith("Incorrect: changed lists")
    features, head = features_and_head()
    assert verdict(nb11.ex3, torch.optim.Adam(nn.Sequential(features, head).parameters(), lr=1e-3)).startswith(
        "Incorrect: opt has 1 parameter groups")
    features.requires_grad_(False)  # transfer_model() froze the features: forgot to unfreeze
    groups = [{"params": features.parameters(), "lr": 1e-4}, {"params": head.parameters()}]
    assert verdict(nb11.ex3, torch.optim.Adam(groups, lr=1e-3)) == (
        "Incorrect: 4 of opt's parameter tensors are still frozen: unfreeze the model with requires_grad_(True), "
        "or Adam never changes them")
    features.requires_grad_(True)
    groups = [{"params": features.parameters(), "lr": 1e-2}, {"params": head.parameters()}]  # lr * 10, not / 10
    assert verdict(nb11.ex3, torch.optim.Adam(groups, lr=1e-3)) == (
        "Incorrect: the features' lr is 0.01 and the head's 0.001: the features should get a tenth of the head's")
    assert verdict(nb11.ex4, HUBCONF.replace("def _init", "def init")).startswith(
        "Incorrect: the entry points are ['init', 'tiny_mlp']")
    assert verdict(nb11.ex4, HUBCONF.replace("hidden: int = 32", "hidden: int = 16")) == (
        "Incorrect: tiny_mlp() has linear layers [(784, 16), (16, 10)], expected [(784, 32), (32, 10)]: "
        "784 -> hidden -> 10, with hidden=32 by default")
    def higher_is_better(model, loss, best, path):  # keeps the first, then only higher losses
        return save_if_better(model, loss, best, path, better=lambda new, old: old == float("inf") or new > old)

    assert verdict(nb11.ex5, higher_is_better) == (
        "Incorrect: after validation losses [0.9, 0.5], path holds the weights saved with loss 0.9, expected those of "
        "the lowest loss so far, 0.5")
    assert verdict(nb11.ex5, lambda model, loss, best, path: save_if_better(model, loss, best, path, atomic=False)).startswith(
        "Incorrect: the weights were saved straight to path")
