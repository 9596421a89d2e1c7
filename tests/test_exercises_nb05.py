"""Notebook 05's exercise checks: right answers pass, realistic mistakes say what is wrong, ____ is not attempted."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.data import load_mnist
from helpers.exercises import ____
from helpers.exercises.nb05 import ex1, ex2, ex3, ex4, ex5
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
    assert verdict(ex5, init_by_hand) == "Correct"


def init_by_hand(m):
    """Kaiming for ReLU written out: normal with variance 2 / fan-in, through .data instead of nn.init."""
    if type(m) in (nn.Linear, nn.Conv2d):
        m.weight.data.normal_(0, math.sqrt(2 / m.weight[0].numel()))
        m.bias.data.zero_()


@pytest.mark.parametrize("ex, arity", [(ex1, 1), (ex2, 1), (ex3, 2), (ex4, 1), (ex5, 1)])
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


def test_an_init_fn_that_returns_the_placeholder_is_not_attempted():
    def init_fn(m):  # the student copy's starter
        return ____
    assert verdict(ex5, init_fn).startswith("Not attempted")


def test_init_fn_mistakes_are_named():
    def every_weight(m):  # hasattr catches BatchNorm2d, whose weight is one-dimensional
        if hasattr(m, "weight"):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    assert verdict(ex5, every_weight).startswith("Incorrect: init_fn raised ValueError on BatchNorm2d(64")

    def bn_to_normal(m):  # no error, but BatchNorm's weight is drawn at random too
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, std=math.sqrt(2 / m.weight[0].numel()))
            nn.init.zeros_(m.bias)
    assert verdict(ex5, bn_to_normal).startswith("Incorrect: init_fn changed the weight or bias of BatchNorm2d(64")

    def linear_only(m):
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    assert verdict(ex5, linear_only).startswith("Incorrect: the weights of Conv2d(3, 64, kernel_size=(3, 3), "
                                                "stride=(1, 1)) have variance x fan-in 0.3")  # the default init

    def keeps_bias(m):
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    assert verdict(ex5, keeps_bias).startswith("Incorrect: the bias of Conv2d(3, 64")

    def fan_out(m):
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(m.bias)
    assert verdict(ex5, fan_out).startswith("Incorrect: the weights of Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1)) "
                                            "have variance x fan-in 0.09, expected 2")


def test_init_fn_check_leaves_the_random_stream_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    verdict(ex5, init_by_hand)
    assert torch.equal(torch.rand(3), expected)
