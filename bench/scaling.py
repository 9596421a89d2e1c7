"""Section 3: how the cost of an epoch grows with the training set, and 1 thread against 2.

``measure`` times, ``plot`` draws scaling.png, ``report`` writes the Markdown.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import TensorDataset

from bench.common import HERE, images, seeded, train_epoch
from bench.models import Mnist_CNN
from helpers.train import get_data

TITLE = "## 3. How cost grows"
SIZES = [10_000, 25_000, 50_000]
# name -> (model factory, what it takes: flat pixels or images)
MODELS = {"logistic": (lambda: nn.Linear(784, 10), lambda x: x), "nn_tutorial CNN": (Mnist_CNN, images)}


def epoch_seconds(model_fn, x, y, bs: int = 64) -> float:
    """Seconds for one training epoch of ``model_fn()`` on (x, y) with helpers.train batching."""
    model, opt = seeded(model_fn)
    train_dl, _ = get_data(TensorDataset(x, y), TensorDataset(x[:bs], y[:bs]), bs)
    start = time.perf_counter()
    train_epoch(model, opt, train_dl)
    return time.perf_counter() - start


def measure(mnist, sizes: list[int] = SIZES) -> dict:
    """Epoch seconds of each model at each training-set size (1 thread), and on all images at 1 and 2 threads."""
    (x_train, y_train), _, _ = mnist
    table = {
        name: [epoch_seconds(fn, take(x_train[:n]), y_train[:n]) for n in sizes] for name, (fn, take) in MODELS.items()
    }
    threads = {}
    before = torch.get_num_threads()
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            threads[n] = {name: epoch_seconds(fn, take(x_train), y_train) for name, (fn, take) in MODELS.items()}
    finally:
        torch.set_num_threads(before)
    return {"sizes": sizes, "table": table, "threads": threads}


def plot(m: dict, out: Path = HERE / "scaling.png") -> None:
    """Seconds per epoch against training images, one line per model."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, nothing left open

    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    for name, secs in m["table"].items():
        ax.plot(m["sizes"], secs, "o-", label=name)
    ax.set(xlabel="training images", ylabel="seconds per epoch (1 thread)", title="Epoch time grows linearly")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def report(m: dict) -> list[str]:
    """The Markdown of section 3 from ``measure``'s numbers."""
    sizes, table, threads = m["sizes"], m["table"], m["threads"]
    lines = [
        TITLE,
        "",
        "Seconds per training epoch (batch size 64, 1 thread):",
        "",
        "| model | " + " | ".join(f"{n:,} images" for n in sizes) + " | seconds per 10k |",
        "|---|" + "---|" * (len(sizes) + 1),
    ]
    lines += [
        f"| {name} | " + " | ".join(f"{s:.2f}" for s in secs) + f" | {secs[-1] / (sizes[-1] / 10_000):.2f} |"
        for name, secs in table.items()
    ]
    lines += [
        "",
        "![epoch time against training-set size](scaling.png)",
        "",
        "One epoch on 50,000 images, 1 thread against 2 (`torch.set_num_threads`):",
        "",
        "| model | 1 thread | 2 threads | speed-up |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {threads[1][name]:.2f} | {threads[2][name]:.2f} | {threads[1][name] / threads[2][name]:.2f}× |"
        for name in threads[1]
    ]
    return lines + [""]


def run(mnist) -> list[str]:
    """Measure section 3, draw its plot, and return its Markdown."""
    m = measure(mnist)
    plot(m)
    return report(m)
