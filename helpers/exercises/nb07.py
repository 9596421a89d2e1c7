"""Exercises of notebook 07 (``07_dataset``): the length check, a transform, normalised inputs, a random split."""

from __future__ import annotations

import torch
from torch.utils.data import random_split

from helpers.exercises import Exercise, Incorrect, ____  # noqa: F401  (____ is what student copies fill in)


def check_mismatch(message, wrong) -> None:
    from helpers.data import load_mnist

    if message != "Size mismatch between tensors":
        raise Incorrect(f"message is {message!r}: catch the AssertionError of TensorDataset(x_train, y_valid) and "
                        "keep str(e)")
    (_, y_train), _, _ = load_mnist()
    want = (y_train[0:64] != y_train[1:65]).sum().item()
    if wrong != want:
        raise Incorrect(f"wrong is {wrong}; comparing y_train[0:64] with the labels of x_train[1:65] gives {want}")


def check_transform_dataset(ds) -> None:
    from helpers.data import load_mnist

    transform = getattr(ds, "transform", None)
    if transform is None:
        raise Incorrect("ds has no transform: store the transform in __init__ and apply it in __getitem__")
    (x_train, y_train), _, _ = load_mnist()
    for i in range(10):
        x, y = ds[i]
        if tuple(x.shape) != (1, 28, 28):
            raise Incorrect(f"ds[{i}] gives an image of shape {tuple(x.shape)}, expected (1, 28, 28)")
        if not torch.allclose(x, transform(x_train[i].view(1, 28, 28)), atol=1e-5) or int(y) != y_train[i].item():
            raise Incorrect(f"ds[{i}] is not (transform(image {i} as (1, 28, 28)), label {i})")


def check_accs(accs) -> None:
    if not isinstance(accs, dict) or set(accs) != {0.5, 0.05}:
        raise Incorrect("accs must map each learning rate, 0.5 and 0.05, to its validation accuracy")
    for lr, acc in accs.items():
        if not 0 <= float(acc) <= 1:
            raise Incorrect(f"accs[{lr}] is {float(acc):.4g}: store the accuracy as a fraction in [0, 1], "
                            "the mean of (prediction == label)")
    if not accs[0.05] >= 0.91:
        raise Incorrect(f"with lr = 0.05 the validation accuracy is {accs[0.05]:.3f}, below 0.91: normalise each "
                        "batch and x_valid with the training mean and std")


def check_split(train_part, valid_part) -> None:
    if len(train_part) != 50000 or len(valid_part) != 10000:
        raise Incorrect(f"the parts have {len(train_part)} and {len(valid_part)} images, expected 50,000 and 10,000")
    train_idx, valid_idx = set(train_part.indices), set(valid_part.indices)
    if train_idx & valid_idx:
        raise Incorrect(f"{len(train_idx & valid_idx)} images are in both parts")
    seeded, _ = random_split(range(60000), [50000, 10000], generator=torch.Generator().manual_seed(0))
    if list(train_part.indices) != list(seeded.indices):
        raise Incorrect("this is not the split of seed 0: pass generator=torch.Generator().manual_seed(0)")


ex1 = Exercise("07_dataset", 1, ("message", "wrong"), check_mismatch,
               ["try: TensorDataset(x_train, y_valid) except AssertionError as e: message = str(e)",
                "The labels that match their images are y_train[1:bs + 1]; count where y_train[0:bs] differs."])
ex2 = Exercise("07_dataset", 2, ("ds",), check_transform_dataset,
               ["Call super().__getitem__(i), reshape the image with .view(1, 28, 28), then apply self.transform.",
                "ds = MnistIDXT(raw, transform=transforms.Normalize((mean,), (std,)))"])
ex3 = Exercise("07_dataset", 3, ("accs",), check_accs,
               ["Normalise as you go: model((xb - mean) / std), with mean and std of the training images.",
                "Validate on (x_valid - mean) / std: the same statistics, never the validation set's own."])
ex4 = Exercise("07_dataset", 4, ("train_part", "valid_part"), check_split,
               ["random_split(tv_train, [50000, 10000], generator=torch.Generator().manual_seed(0))",
                "A Subset's .indices are the positions it takes from the dataset: compare them as sets."])
