"""Section 2 of the benchmarks: time to 99 % MNIST test accuracy, and what each step of the recipe buys."""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from helpers.fast import accuracy_on, fast_cnn, to_images, train_fast
from helpers.seed import set_seed


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
    from bench.run import Mnist_CNN

    raw = lambda t: t.view(-1, 1, 28, 28)  # noqa: E731
    norm = lambda t: to_images(t, mean, std).contiguous()  # noqa: E731
    sgd = lambda m, xx: loader_training(m, xx, y, torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9))  # noqa: E731

    def adamw_loader(m, xx, bs=128, lr=0.02):
        opt = torch.optim.AdamW(m.parameters(), lr=lr, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=(len(xx) + bs - 1) // bs)
        loader_training(m, xx, y, opt, sched, bs=bs)

    return [
        ("nn_tutorial CNN, raw pixels, SGD+momentum, DataLoader bs 64", Mnist_CNN, raw, sgd),
        ("+ normalised input", Mnist_CNN, norm, sgd),
        ("+ BatchNorm CNN (3 conv blocks)", contiguous_cnn, norm, sgd),
        ("+ AdamW + OneCycleLR, bs 128", contiguous_cnn, norm, adamw_loader),
        ("+ in-memory batching", contiguous_cnn, norm, lambda m, xx: train_fast(m, xx, y, bf16=False)),
        ("+ channels_last", fast_cnn, lambda t: to_images(t, mean, std), lambda m, xx: train_fast(m, xx, y, bf16=False)),
        ("+ bf16 autocast (the recipe: helpers.fast)", fast_cnn, lambda t: to_images(t, mean, std),
         lambda m, xx: train_fast(m, xx, y, bf16=True)),
    ]


def run_step(model_fn, transform, train, x, y, x_test, y_test, bf16_eval: bool):
    set_seed(0)
    model = model_fn()
    xx, xt = transform(x), transform(x_test)
    start = time.perf_counter()
    train(model, xx)
    seconds = time.perf_counter() - start
    return seconds, accuracy_on(model, xt, y_test, bf16=bf16_eval)


def cold_compile():
    """A context in which torch.compile compiles from scratch: no on-disk cache left by an earlier run is used."""
    import torch._inductor.config

    return torch._inductor.config.patch(force_disable_caches=True)


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


def bench_fast(data, out: Path) -> list[str]:
    """Time each cumulative step for one epoch on the 50,000 training images; test on the 10,000 t10k images."""
    (x, y), _, (x_test, y_test) = data
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
        compiled = compiled_recipe(xi, y, xti, y_test)
    except Exception as e:  # torch.compile needs a C++ compiler; report rather than fail the whole benchmark
        compiled = None
        compile_error = f"{type(e).__name__}: {e}".splitlines()[0]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (name, s, a) in enumerate(rows):
        ax.scatter(s, a * 100)
        ax.annotate(str(i + 1), (s, a * 100), textcoords="offset points", xytext=(5, 3))
    ax.axhline(99.0, color="grey", linestyle="--", linewidth=1)
    ax.set(xlabel="training seconds (1 epoch, 1 thread)", ylabel="test accuracy (%)",
           title="Each step of the recipe: 1 epoch on 50,000 images")
    fig.tight_layout()
    fig.savefig(out / "fast_steps.png", dpi=100)
    plt.close(fig)
    final_s, final_a = rows[-1][1], rows[-1][2]
    lines = ["## 2. Time to 99 % test accuracy", "",
             "Each step adds one change to the one before, trained for 1 epoch on the 50,000 training images "
             "(1 thread, seed 0), then tested on the 10,000 test images.", "",
             "| step | training seconds | test accuracy |", "|---|---|---|"]
    lines += [f"| {i + 1}. {name} | {s:.1f} | {a:.2%} |" for i, (name, s, a) in enumerate(rows)]
    lines += ["", f"Same recipe, 2 epochs: {two[0]:.1f} s, {two[1]:.2%}.",
              (f"With `torch.compile` (compile time included), 1 epoch: {compiled[0]:.1f} s, {compiled[1]:.2%}."
               if compiled else f"`torch.compile` failed here: {compile_error}"), "",
              f"**Time to {final_a:.2%}: {final_s:.1f} s** (goal: ≥ 99.0 % in under 20 s: "
              f"{'met' if final_a >= 0.99 and final_s < 20 else 'NOT met'}).", "",
              "![accuracy against seconds for each step](fast_steps.png)", ""]
    return lines
