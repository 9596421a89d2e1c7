"""Notebook 05's exercise checks: right answers pass, realistic mistakes say what is wrong, ____ is not attempted."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.data import load_mnist
from helpers.exercises import ____
from helpers.exercises.nb05 import ex1, ex2, ex3, ex4
from helpers.seed import set_seed


def verdict(ex, *values) -> str:
    return ex._verdict(values, {})


class Layers(nn.Module):
    def __init__(self, container):
        super().__init__()
        self.layers = container([nn.Linear(784, 32), nn.Linear(32, 10)])

    def forward(self, xb):
        return self.layers[1](torch.relu(self.layers[0](xb)))


@pytest.fixture(scope="module")
def trained_mlp() -> nn.Module:
    """128 hidden units trained for one epoch at lr 0.5 with plain minibatch SGD (as notebook 05's fit does)."""
    (x_train, y_train), _, _ = load_mnist()
    set_seed(0)
    mlp = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.SGD(mlp.parameters(), lr=0.5)
    for i in range(0, len(x_train), 64):
        F.cross_entropy(mlp(x_train[i:i + 64]), y_train[i:i + 64]).backward()
        opt.step()
        opt.zero_grad()
    return mlp


def test_right_answers_are_correct(trained_mlp):
    assert verdict(ex1, lambda x: torch.log_softmax(x, dim=-1)) == "Correct"
    assert verdict(ex2, trained_mlp) == "Correct"
    assert verdict(ex3, 160, 200) == "Correct"
    assert verdict(ex4, Layers(nn.ModuleList)) == "Correct"


@pytest.mark.parametrize("ex, arity", [(ex1, 1), (ex2, 1), (ex3, 2), (ex4, 1)])
def test_placeholders_are_not_attempted(ex, arity):
    assert verdict(ex, *[____] * arity).startswith("Not attempted")


def test_realistic_mistakes_are_named():
    def naive(x):
        return x - x.exp().sum(-1, keepdim=True).log()
    assert verdict(ex1, naive) == "Incorrect: stable_log_softmax([[1000.0, 0.0]]) = [[-inf, -inf]]: subtract the row maximum first"
    def no_keepdim(x):
        return x - x.max(-1).values - (x - x.max(-1).values).exp().sum(-1).log()
    assert verdict(ex1, no_keepdim).startswith("Incorrect: your answer raised RuntimeError: The size of tensor a (10)")
    set_seed(0)
    untrained = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    assert verdict(ex2, untrained).startswith("Incorrect: validation accuracy 0.")
    assert verdict(ex3, 144, 200).startswith("Incorrect: conv_params is 144")  # forgot the biases
    assert verdict(ex3, 160, 180).startswith("Incorrect: lstm_params is 180")  # one bias vector per gate
    assert verdict(ex4, Layers(list)).startswith("Incorrect: the model shows 0 parameters")
