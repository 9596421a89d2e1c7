"""Section 2: time to 99 % MNIST test accuracy, and what each step of the recipe buys.

``measure`` times, ``plot`` draws fast_steps.png, ``report`` writes the Markdown.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from bench.common import HERE, cold_compile, images
from bench.models import Mnist_CNN
from helpers.fast import accuracy_on, fast_cnn, to_images, train_fast
from helpers.seed import set_seed

TITLE = "## 2. Time to 99 % test accuracy"


def loader_training(model, x, y, opt, sched=None, bs: int = 64) -> None:
    """One epoch with a classic DataLoader over a TensorDataset (collating bs single samples per step)."""
    model.train()
    for xb, yb in DataLoader(TensorDataset(x, y), batch_size=bs, shuffle=True):
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
        opt.zero_grad()
        if sched is not None:
            sched.step()


def contiguous_cnn():
    """fast_cnn() in the default (NCHW-contiguous) memory format."""
    return fast_cnn().to(memory_format=torch.contiguous_format)


def steps(x, y, mean, std):
    """(name, model factory, input transform, training function) for each cumulative step of the recipe."""
    norm = lambda t: to_images(t, mean, std).contiguous()  # noqa: E731
    sgd = lambda m, xx: loader_training(m, xx, y, torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9))  # noqa: E731

    def adamw_loader(m, xx, bs=128, lr=0.02):
        opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=(len(xx) + bs - 1) // bs)
        loader_training(m, xx, y, opt, sched, bs=bs)

    return [
        ("nn_tutorial CNN, raw pixels, SGD+momentum, DataLoader bs 64", Mnist_CNN, images, sgd),
        ("+ normalised input", Mnist_CNN, norm, sgd),
        ("+ BatchNorm CNN (3 conv blocks)", contiguous_cnn, norm, sgd),
        ("+ AdamW + OneCycleLR, bs 128", contiguous_cnn, norm, adamw_loader),
        ("+ in-memory batching", contiguous_cnn, norm, lambda m, xx: train_fast(m, xx, y, bf16=False)),
        (
            "+ channels_last",
            fast_cnn,
            lambda t: to_images(t, mean, std),
            lambda m, xx: train_fast(m, xx, y, bf16=False),
        ),
        (
            "+ bf16 autocast (the recipe: helpers.fast)",
            fast_cnn,
            lambda t: to_images(t, mean, std),
            lambda m, xx: train_fast(m, xx, y, bf16=True),
        ),
    ]


def run_step(model_fn, transform, train, x, y, x_test, y_test, bf16_eval: bool):
    """Train a seeded ``model_fn()`` on ``transform(x)``; return (training seconds, test accuracy)."""
    set_seed(0)
    model = model_fn()
    xx, xt = transform(x), transform(x_test)
    start = time.perf_counter()
    train(model, xx)
    seconds = time.perf_counter() - start
    return seconds, accuracy_on(model, xt, y_test, bf16=bf16_eval)


def compiled_recipe(x, y, x_test, y_test):
    """The recipe with torch.compile: (compile + first-epoch seconds, accuracy); compiled from scratch, no cache."""
    set_seed(0)
    model = fast_cnn()
    compiled = torch.compile(model)
    start = time.perf_counter()
    with cold_compile():
        train_fast(compiled, x, y, bf16=True)
    seconds = time.perf_counter() - start
    return seconds, accuracy_on(model, x_test, y_test)


def measure(mnist) -> dict:
    """Time each cumulative step for one epoch on the 50,000 training images; test on the 10,000 t10k images."""
    (x, y), _, (x_test, y_test) = mnist
    mean, std = x.mean().item(), x.std().item()
    rows = []
    for name, model_fn, transform, train in steps(x, y, mean, std):
        rows.append((name, *run_step(model_fn, transform, train, x, y, x_test, y_test, bf16_eval="bf16" in name)))
    xi, xti = to_images(x, mean, std), to_images(x_test, mean, std)
    set_seed(0)
    model = fast_cnn()
    start = time.perf_counter()
    train_fast(model, xi, y, epochs=2)
    two = (time.perf_counter() - start, accuracy_on(model, xti, y_test))
    try:
        compiled, compile_error = compiled_recipe(xi, y, xti, y_test), None
    except Exception as e:  # torch.compile needs a C++ compiler; report rather than fail the whole benchmark
        compiled, compile_error = None, f"{type(e).__name__}: {e}".splitlines()[0]
    return {"rows": rows, "two_epochs": two, "compiled": compiled, "compile_error": compile_error}


def plot(m: dict, out: Path = HERE / "fast_steps.png") -> None:
    """Test accuracy against training seconds, one numbered point per step."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, nothing left open

    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for i, (name, s, a) in enumerate(m["rows"]):
        ax.scatter(s, a * 100)
        ax.annotate(str(i + 1), (s, a * 100), textcoords="offset points", xytext=(5, 3))
    ax.axhline(99.0, color="grey", linestyle="--", linewidth=1)
    ax.set(
        xlabel="training seconds (1 epoch, 1 thread)",
        ylabel="test accuracy (%)",
        title="Each step of the recipe: 1 epoch on 50,000 images",
    )
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def report(m: dict) -> list[str]:
    """The Markdown of section 2 from ``measure``'s numbers."""
    rows, two, compiled = m["rows"], m["two_epochs"], m["compiled"]
    final_s, final_a = rows[-1][1], rows[-1][2]
    lines = [
        TITLE,
        "",
        "Each step adds one change to the one before, trained for 1 epoch on the 50,000 training images "
        "(1 thread, seed 0), then tested on the 10,000 test images.",
        "",
        "| step | training seconds | test accuracy |",
        "|---|---|---|",
    ]
    lines += [f"| {i + 1}. {name} | {s:.1f} | {a:.2%} |" for i, (name, s, a) in enumerate(rows)]
    lines += [
        "",
        f"Same recipe, 2 epochs: {two[0]:.1f} s, {two[1]:.2%}.",
        (
            f"With `torch.compile` (compile time included), 1 epoch: {compiled[0]:.1f} s, {compiled[1]:.2%}."
            if compiled
            else f"`torch.compile` failed here: {m['compile_error']}"
        ),
        "",
        f"**Time to {final_a:.2%}: {final_s:.1f} s** (goal: ≥ 99.0 % in under 20 s: "
        f"{'met' if final_a >= 0.99 and final_s < 20 else 'NOT met'}).",
        "",
        "![accuracy against seconds for each step](fast_steps.png)",
        "",
    ]
    return lines


def run(mnist) -> list[str]:
    """Measure section 2, draw its plot, and return its Markdown."""
    m = measure(mnist)
    plot(m)
    return report(m)
