"""Notebook 07's exercise checks: right answers pass, realistic mistakes say what is wrong, ____ is not attempted."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset, default_collate, random_split

from helpers.data import load_mnist
from helpers.exercises import ____
from helpers.exercises.nb07 import ex1, ex2, ex3, ex4, ex5, ex6


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
    assert verdict(ex5, lambda ds, indices: tuple(default_collate([ds[i] for i in indices]))) == "Correct"
    assert verdict(ex6, lambda xb: (xb.transpose(0, 1).flatten(1).mean(1), xb.transpose(0, 1).flatten(1).std(1, correction=0))) == "Correct"


@pytest.mark.parametrize("ex, arity", [(ex1, 2), (ex2, 1), (ex3, 1), (ex4, 2), (ex5, 1), (ex6, 1)])
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


def test_starters_that_return_the_placeholder_are_not_attempted():
    assert verdict(ex5, lambda ds, indices: ____).startswith("Not attempted")
    assert verdict(ex6, lambda xb: ____).startswith("Not attempted")


def stack_both(ds, indices):
    samples = [ds[i] for i in indices]
    return torch.stack([x for x, y in samples]), torch.stack([y for x, y in samples])


def test_batch_and_channel_mistakes_are_named():
    assert verdict(ex5, stack_both) == ("Incorrect: on a dataset with int labels, make_batch raised TypeError: "
                                        "expected Tensor as element 0 in argument 0, but got int")
    cat = lambda ds, ix: (torch.cat([ds[i][0] for i in ix]), torch.tensor([int(ds[i][1]) for i in ix]))  # noqa: E731
    assert verdict(ex5, cat).startswith("Incorrect: for 3 images of shape (4,), xb has shape (12,), expected (3, 4): "
                                        "torch.stack adds")
    floats = lambda ds, ix: (torch.stack([ds[i][0] for i in ix]), torch.tensor([float(ds[i][1]) for i in ix]))  # noqa: E731
    assert verdict(ex5, floats).startswith("Incorrect: on a dataset with 0-d tensor labels, yb for the indices [3, 0, 2] "
                                           "should be the int64 tensor")
    assert verdict(ex5, lambda ds, ix: [ds[i] for i in ix]) == "Incorrect: make_batch must return a pair (xb, yb)"
    assert verdict(ex6, lambda xb: (xb.mean(dim=1), xb.std(dim=1))).startswith(
        "Incorrect: for a batch of shape (6, 3, 8, 8), mean has shape (6, 8, 8), expected (3,)")
    assert verdict(ex6, lambda xb: (xb.mean(), xb.std())).startswith(
        "Incorrect: for a batch of shape (6, 3, 8, 8), mean has shape (), expected (3,)")
    per_image = lambda xb: (xb.mean(dim=(0, 2, 3)), xb.std(dim=(2, 3)).mean(0))  # noqa: E731
    message = verdict(ex6, per_image)
    assert message.startswith("Incorrect: for a batch of shape (6, 3, 8, 8), std is ") and message.endswith(
        "(the mean of each image's std leaves out how much the images differ: reduce over dims (0, 2, 3) at once)")
