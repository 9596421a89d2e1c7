"""Section 1: ``helpers.train.fit`` against the nn_tutorial's classic loop, and other ways to a faster loop.

``measure`` times (nothing printed or written), ``report`` turns its numbers into the Markdown of results.md.
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from bench.common import cold_compile, images, seeded, timed, train_epoch
from bench.models import Mnist_CNN
from helpers.fast import bf16_is_fast
from helpers.train import evaluate, fit, get_data

TITLE = "## 1. `helpers.train.fit` against the classic loop"
CLASSIC = "classic loop"
FIT = "helpers.train.fit"
FIT_CL = "helpers.train.fit, model in channels_last"
BARE = "bare loop: permutation indexing, model in channels_last (a bound, not a fit)"


def classic_loop(model, opt, x_train, y_train, x_valid, y_valid, epochs: int, bs: int) -> float:
    """The nn_tutorial's loop: DataLoader(TensorDataset), forward, backward, step, and a validation pass after
    every epoch; returns the final validation accuracy."""
    train_dl = DataLoader(TensorDataset(x_train, y_train), batch_size=bs, shuffle=True)
    valid_dl = DataLoader(TensorDataset(x_valid, y_valid), batch_size=bs * 2)
    for _ in range(epochs):
        train_epoch(model, opt, train_dl)
        model.eval()
        with torch.no_grad():
            correct = sum((model(xb).argmax(1) == yb).sum().item() for xb, yb in valid_dl)
    return correct / len(x_valid)


def bare_loop(model, opt, data, epochs: int, bs: int, bf16: bool = False) -> float:
    """Train on permuted in-memory batches, validate 1,000 at a time after each epoch; return the last accuracy."""
    (x_train, y_train), (x_valid, y_valid) = data
    for _ in range(epochs):
        model.train()
        for i in torch.randperm(len(x_train)).split(bs):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = F.cross_entropy(model(x_train[i]), y_train[i])
            loss.backward()
            opt.step()
            opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            _, acc = evaluate(model, F.cross_entropy, zip(x_valid.split(1000), y_valid.split(1000)))
    return acc


def measure_loops(data, epochs: int, bs: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Median (seconds, validation accuracy) of each loop, over ``repeats`` alternating runs from the same seed."""
    (x_train, y_train), (x_valid, y_valid) = data

    def classic():
        model, opt = seeded(Mnist_CNN)
        return classic_loop(model, opt, x_train, y_train, x_valid, y_valid, epochs, bs)

    def ours(memory_format=torch.contiguous_format):
        model, opt = seeded(Mnist_CNN, memory_format)
        train_dl, valid_dl = get_data(TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid), bs)
        return fit(model, F.cross_entropy, opt, train_dl, valid_dl, epochs)[-1]["valid_acc"]

    def bare():  # no DataLoader, no per-step loss.item(), validation 1,000 at a time: what any loop could reach
        return bare_loop(*seeded(Mnist_CNN, torch.channels_last), data, epochs, bs)

    variants = {CLASSIC: classic, FIT: ours, FIT_CL: lambda: ours(torch.channels_last), BARE: bare}
    runs = {k: [] for k in variants}
    for _ in range(repeats):  # alternate, so drift in machine load hits all alike
        for name, fn in variants.items():
            runs[name].append(timed(fn))
    return {k: (statistics.median(s for s, _ in v), statistics.median(a for _, a in v)) for k, v in runs.items()}


def compiled_model(model, data, bs: int) -> tuple[torch.nn.Module, float]:
    """``torch.compile(model)`` warmed up for every batch shape of the bare loop; return it and the compile seconds.

    Compiles a forward and backward in train mode for each batch size, and a forward in eval mode under
    inference_mode, from scratch (no cache), so the training time that follows holds no compilation.
    """
    (x_train, y_train), (x_valid, _) = data
    compiled = torch.compile(model, dynamic=False)  # a graph for each batch shape, each specialised
    start = time.perf_counter()
    with cold_compile():
        for n in (bs, len(x_train) % bs or bs):  # full batches and the last, shorter one
            F.cross_entropy(compiled(x_train[:n]), y_train[:n]).backward()
        compiled.eval()
        with torch.inference_mode():
            compiled(x_valid[:1000])
    seconds = time.perf_counter() - start
    compiled.zero_grad(set_to_none=True)  # the warm-up's gradients must not reach the first step
    return compiled, seconds


def measure_other_ways(data, epochs: int, bs: int, repeats: int) -> list[tuple[str, float, float, float]]:
    """(kind, compile seconds, median training seconds, accuracy) of the bare loop in float32, compiled, and bf16.

    Every run starts from the same seeded weights, in channels_last.
    """
    rows = []
    for kind in ("float32", "torch.compile", "bf16 autocast"):
        model, compile_seconds = Mnist_CNN().to(memory_format=torch.channels_last), 0.0
        if kind == "torch.compile":
            model, compile_seconds = compiled_model(model, data, bs)
        runs = []
        for _ in range(repeats):
            seeded_model, _ = seeded(Mnist_CNN, torch.channels_last)  # the same start for every run and kind
            getattr(model, "_orig_mod", model).load_state_dict(seeded_model.state_dict())
            opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
            runs.append(timed(lambda: bare_loop(model, opt, data, epochs, bs, bf16=kind == "bf16 autocast")))
        rows.append((kind, compile_seconds, statistics.median(s for s, _ in runs), runs[-1][1]))
    return rows


def conv_share(data, bs: int, steps: int = 200) -> float:
    """Share of self CPU time spent in convolution kernels (forward and backward) in bare-loop training steps."""
    from torch.profiler import profile

    (x_train, y_train), _ = data
    model, opt = seeded(Mnist_CNN, torch.channels_last)
    batches = torch.randperm(len(x_train)).split(bs)[:steps]
    train_epoch(model, opt, ((x_train[i], y_train[i]) for i in batches[:20]))  # warm-up: oneDNN primitive caches
    with profile() as prof:
        train_epoch(model, opt, ((x_train[i], y_train[i]) for i in batches))
    events = prof.key_averages()
    conv = sum(
        e.self_cpu_time_total for e in events if e.key in ("aten::mkldnn_convolution", "aten::convolution_backward")
    )
    return conv / sum(e.self_cpu_time_total for e in events)


def measure(mnist, epochs: int = 2, bs: int = 64, repeats: int = 5, other_repeats: int = 3) -> dict:
    """Everything section 1 reports, measured on ``load_mnist()``'s training and validation splits."""
    (x_train, y_train), (x_valid, y_valid), _ = mnist
    data = (images(x_train), y_train), (images(x_valid), y_valid)
    return {
        "epochs": epochs,
        "bs": bs,
        "repeats": repeats,
        "images": len(x_train),
        "loops": measure_loops(data, epochs, bs, repeats),
        "other_repeats": other_repeats,
        "other_ways": measure_other_ways(data, epochs, bs, other_repeats),
        "bf16": bf16_is_fast(),
        "conv_share": conv_share(data, bs),
    }


def report(m: dict) -> list[str]:
    """The Markdown of section 1 from ``measure``'s numbers."""
    t = {k: s for k, (s, _) in m["loops"].items()}
    acc = {k: a for k, (_, a) in m["loops"].items()}
    lines = [
        TITLE,
        "",
        f"nn_tutorial CNN, {m['epochs']} epochs, batch size {m['bs']}, SGD(lr=0.1, momentum=0.9), "
        f"{m['images']:,} images, seed 0; median of {m['repeats']} alternating runs (the time includes the "
        "validation pass after each epoch).",
        "",
        "| variant | seconds | speed-up | validation accuracy |",
        "|---|---|---|---|",
    ]
    lines += [f"| {k} | {t[k]:.2f} | {t[CLASSIC] / t[k]:.2f}× | {acc[k]:.2%} |" for k in t]
    ratio, gap = t[CLASSIC] / t[FIT], abs(acc[CLASSIC] - acc[FIT]) * 100
    lines += [
        "",
        f"**Speed-up of fit: {ratio:.2f}×** (goal ≥ 1.5×: {'met' if ratio >= 1.5 else 'NOT met'}); "
        f"accuracy gap {gap:.2f} points (goal ≤ 0.5: {'met' if gap <= 0.5 else 'NOT met'}). "
        f"With the model in channels_last (converted by the caller, as notebook 14 teaches): "
        f"{t[CLASSIC] / t[FIT_CL]:.2f}×. The bare loop, with nothing but the model's own work left, reaches "
        f"{t[CLASSIC] / t[BARE]:.2f}×: about what any loop can do with this model, optimiser and batch size in "
        "float32.",
        "",
    ]
    rows = m["other_ways"]
    base = rows[0][2]
    lines += [
        "Other ways to a faster loop, each in the bare loop with the model in channels_last (median of "
        f"{m['other_repeats']} runs; compilation timed apart and from scratch, with no cache, so the compiled "
        "row is the most compilation can give):",
        "",
        "| bare loop with | compilation seconds | training seconds | against float32 | validation accuracy |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {kind} | {c:.1f} | {s:.2f} | {base / s:.2f}× | {a:.2%} |" for kind, c, s, a in rows]
    return lines + [
        "",
        f"bf16 instructions on this CPU: {'yes' if m['bf16'] else 'no'} "
        f"(`helpers.fast.bf16_is_fast()`). The convolutions' forward and backward kernels take "
        f"{m['conv_share']:.0%} of the CPU time of a float32 bare-loop step (torch.profiler, 200 "
        "steps; the profiler's own cost falls on the many small operations, so the true share is higher); "
        "no loop change touches them, and torch.compile leaves them to oneDNN.",
        "",
    ]


def run(mnist) -> list[str]:
    """Measure section 1 and return its Markdown."""
    return report(measure(mnist))
