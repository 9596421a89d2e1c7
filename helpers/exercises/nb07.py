"""Exercises of notebook 07 (``07_dataset``): the length check, a transform, normalised inputs, a random split,
a batch by hand, per-channel statistics."""

from __future__ import annotations

import torch
from torch.utils.data import default_collate, random_split

from helpers.exercises import Exercise, Incorrect, NotAttempted, ____, mnist_rows  # noqa: F401  (____ is what student copies fill in)


def check_mismatch(message, wrong) -> None:
    if message != "Size mismatch between tensors":
        raise Incorrect(f"message is {message!r}: catch the AssertionError of TensorDataset(x_train, y_valid) and "
                        "keep str(e)")
    _, y_train = mnist_rows(0, 65)
    want = (y_train[0:64] != y_train[1:65]).sum().item()
    if wrong != want:
        raise Incorrect(f"wrong is {wrong}; comparing y_train[0:64] with the labels of x_train[1:65] gives {want}")


def check_transform_dataset(ds) -> None:
    transform = getattr(ds, "transform", None)
    if transform is None:
        raise Incorrect("ds has no transform: store the transform in __init__ and apply it in __getitem__")
    x_train, y_train = mnist_rows(0, 10)
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


class _Pairs:
    """A tiny dataset: image i of ``images`` with label i of ``labels`` (0-d tensors or ints)."""

    def __init__(self, images: torch.Tensor, labels: list) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple:
        return self.images[i], self.labels[i]


def check_make_batch(make_batch) -> None:
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 10, (5,), generator=g)
    datasets = {"0-d tensor labels": _Pairs(torch.randn(5, 4, generator=g), list(labels)),
                "int labels": _Pairs(torch.randn(5, 1, 3, 3, generator=g), labels.tolist())}
    for kind, ds in datasets.items():
        for indices in ([3, 0, 2], [1]):
            try:
                out = make_batch(ds, indices)
            except NotAttempted:
                raise
            except Exception as e:
                raise Incorrect(f"on a dataset with {kind}, make_batch raised {type(e).__name__}: {e}") from None
            if not (isinstance(out, tuple) and len(out) == 2):
                raise Incorrect("make_batch must return a pair (xb, yb)")
            (xb, yb), (want_x, want_y) = out, default_collate([ds[i] for i in indices])
            if tuple(xb.shape) != tuple(want_x.shape):
                raise Incorrect(f"for {len(indices)} images of shape {tuple(ds[0][0].shape)}, xb has shape "
                                f"{tuple(xb.shape)}, expected {tuple(want_x.shape)}: torch.stack adds a new first "
                                "dimension, torch.cat joins along an existing one")
            if not torch.equal(xb, want_x):
                raise Incorrect(f"xb for the indices {indices} does not hold those images, in that order")
            if not (isinstance(yb, torch.Tensor) and yb.dtype == torch.int64 and torch.equal(yb, want_y)):
                raise Incorrect(f"on a dataset with {kind}, yb for the indices {indices} should be the int64 tensor "
                                f"{want_y.tolist()}, got {yb!r}")


def check_channel_stats(channel_stats) -> None:
    g = torch.Generator().manual_seed(0)
    for n, c, h, w in [(6, 3, 8, 8), (4, 1, 9, 7), (3, 4, 10, 6)]:  # 180 values or more per channel
        offset, scale = torch.rand(1, c, 1, 1, generator=g), torch.rand(1, c, 1, 1, generator=g) + 0.5
        xb = torch.rand(n, c, h, w, generator=g) * scale + offset + torch.randn(n, c, 1, 1, generator=g)
        mean, std = (torch.as_tensor(t) for t in channel_stats(xb))
        for name, got, want in (("mean", mean, xb.mean(dim=(0, 2, 3))), ("std", std, xb.std(dim=(0, 2, 3)))):
            if tuple(got.shape) != (c,):
                raise Incorrect(f"for a batch of shape {(n, c, h, w)}, {name} has shape {tuple(got.shape)}, expected "
                                f"({c},): one value per channel, over dims (0, 2, 3)")
            if not torch.allclose(got.float(), want, rtol=5e-3, atol=1e-6):
                hint = (" (the mean of each image's std leaves out how much the images differ: reduce over dims "
                        "(0, 2, 3) at once)" if name == "std" else "")
                raise Incorrect(f"for a batch of shape {(n, c, h, w)}, {name} is "
                                f"{[round(v, 4) for v in got.tolist()]}, expected {[round(v, 4) for v in want.tolist()]}"
                                + hint)


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
ex5 = Exercise("07_dataset", 5, ("make_batch",), check_make_batch,
               ["samples = [ds[i] for i in indices]; torch.stack the images.",
                "Labels may be ints: torch.tensor([int(y) for x, y in samples]) works for ints and 0-d tensors."])
ex6 = Exercise("07_dataset", 6, ("channel_stats",), check_channel_stats,
               ["Tensor.mean and Tensor.std take a tuple of dims.",
                "return xb.mean(dim=(0, 2, 3)), xb.std(dim=(0, 2, 3))"])
