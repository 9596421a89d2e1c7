"""Notebook 07's exercise checks: right answers pass, realistic mistakes say what is wrong, ____ is not attempted."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset, random_split

from helpers.data import load_mnist
from helpers.exercises import ____
from helpers.exercises.nb07 import ex1, ex2, ex3, ex4


def verdict(ex, *values) -> str:
    return ex._verdict(values, {})


class Normalised(Dataset):
    def __init__(self, transform, shape=(1, 28, 28)):
        (self.x, self.y), _, _ = load_mnist()
        self.transform, self.shape = transform, shape

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.transform(self.x[i].reshape(self.shape)), self.y[i]


def normalise(x):
    return (x - 0.13) / 0.31


def test_right_answers_are_correct():
    (_, y_train), _, _ = load_mnist()
    assert verdict(ex1, "Size mismatch between tensors", int((y_train[:64] != y_train[1:65]).sum())) == "Correct"
    assert verdict(ex2, Normalised(normalise)) == "Correct"
    assert verdict(ex3, {0.5: 0.89, 0.05: 0.92}) == "Correct"
    assert verdict(ex4, *random_split(range(60000), [50000, 10000], generator=torch.Generator().manual_seed(0))) == "Correct"


@pytest.mark.parametrize("ex, arity", [(ex1, 2), (ex2, 1), (ex3, 1), (ex4, 2)])
def test_placeholders_are_not_attempted(ex, arity):
    assert verdict(ex, *[____] * arity).startswith("Not attempted")


def test_realistic_mistakes_are_named():
    assert verdict(ex1, "Size mismatch between tensors", 64).startswith("Incorrect: wrong is 64")
    assert verdict(ex2, Normalised(normalise, shape=(784,))).startswith("Incorrect: ds[0] gives an image of shape (784,)")
    assert verdict(ex3, {0.5: 0.89, 0.05: 0.85}).startswith("Incorrect: with lr = 0.05 the validation accuracy is 0.850")
    assert verdict(ex3, {0.5: 88.3, 0.05: 91.3}).startswith("Incorrect: accs[0.5] is 88.3: store the accuracy as a fraction")
    assert verdict(ex3, [0.883, 0.913]).startswith("Incorrect: accs must map each learning rate")
    unseeded = random_split(range(60000), [50000, 10000], generator=torch.Generator().manual_seed(1))
    assert verdict(ex4, *unseeded) == "Incorrect: this is not the split of seed 0: pass generator=torch.Generator().manual_seed(0)"
