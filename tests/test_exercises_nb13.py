"""Notebook 13's exercise checks: right answers pass, realistic mistakes are named, ____ is not attempted."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.distributed import DDPConfig, make_model, rank_indices
from helpers.exercises import ____
from helpers.exercises.nb13 import ex1, ex2, ex3, ex4, ex5


def verdict(ex, *values) -> str:
    return ex._verdict(values, {})


def toy_config() -> DDPConfig:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(320, 784, generator=g), torch.randint(0, 10, (320,), generator=g)
    return DDPConfig(x, y, x[:10], y[:10], n_hidden=8, bs=16, lr=0.1, epochs=1, seed=0)


def grad_fn(reduction="mean"):
    config = toy_config()
    model = make_model(config)
    xb, yb = config.x_train[:64], config.y_train[:64]

    def grad_w(lo, hi):
        loss = nn.functional.cross_entropy(model(xb[lo:hi]), yb[lo:hi], reduction=reduction)
        return torch.autograd.grad(loss, model[0].weight)[0]

    return grad_w


def replicas(average=True):
    small = toy_config()
    models = [make_model(small) for _ in range(2)]
    opt = torch.optim.SGD([p for m in models for p in m.parameters()], lr=small.lr)
    shards = [rank_indices(320, 2, r, seed=small.seed, epoch=0) for r in range(2)]
    for start in range(0, len(shards[0]), small.bs):
        for m, shard in zip(models, shards):
            idx = shard[start:start + small.bs]
            nn.functional.cross_entropy(m(small.x_train[idx]), small.y_train[idx]).backward()
        for p0, p1 in zip(*(m.parameters() for m in models)):
            if average:
                p0.grad = p1.grad = (p0.grad + p1.grad) / 2
        opt.step()
        opt.zero_grad()
    return models, small


def test_right_answers_are_correct():
    assert verdict(ex1, [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]], [[0, 3, 6], [1, 4, 7], [2, 5, 8]]) == "Correct"
    assert verdict(ex2, grad_fn()) == "Correct"
    assert verdict(ex3, *replicas()) == "Correct"
    assert verdict(ex4, torch.tensor([6.0, 6.0, 6.0]), 1366) == "Correct"
    assert verdict(ex5, [[1, 1], [1, 3]]) == "Correct"


@pytest.mark.parametrize("ex, arity", [(ex1, 2), (ex2, 1), (ex3, 2), (ex4, 2), (ex5, 1)])
def test_placeholders_are_not_attempted(ex, arity):
    assert verdict(ex, *[____] * arity).startswith("Not attempted")


def test_realistic_mistakes_are_named():
    assert verdict(ex1, [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]], [[0, 3, 6], [1, 4, 7], [2, 5, 8]]).startswith(
        "Incorrect: padded is [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]")
    assert verdict(ex2, grad_fn("sum")).startswith("Incorrect: the halves' gradients add up to the full batch's")
    assert verdict(ex3, *replicas(average=False)).startswith("Incorrect: the two replicas differ")
    assert verdict(ex4, torch.tensor([3.0, 3.0, 3.0]), 1366).startswith("Incorrect: held is [3.0, 3.0, 3.0]")
    assert verdict(ex4, torch.tensor([6.0, 6.0, 6.0]), 4096 // 3).startswith("Incorrect: per_rank is 1365")
    assert verdict(ex5, [[1, 2], [2, 4]]).startswith("Incorrect: here both give 0.5")
