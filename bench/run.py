"""Benchmarks for the course, run side by side in one process: `make bench` writes bench/results.md and PNG plots.

Speed is measured only here, never asserted in a test. Run on an otherwise idle machine:
each comparison alternates its variants and reports the median of the repeats and their ratio.

    python bench/run.py [fit] [fast] [scaling] [suite]     # default: all sections

A run of some sections (`make bench SECTIONS="fit suite"`) replaces only those sections of results.md and keeps
the others; each section names the machine, the load and the date it was measured on.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from bench.fast import bench_fast, cold_compile  # noqa: E402
from helpers.data import load_mnist  # noqa: E402
from helpers.fast import bf16_is_fast  # noqa: E402
from helpers.seed import set_seed  # noqa: E402
from helpers.train import evaluate, fit, get_data  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def machine() -> str:
    """One line naming the CPU, the thread setting, torch and the date."""
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return (f"{cpu}, {os.cpu_count()} cores, {platform.machine()}, ATen {torch.backends.cpu.get_cpu_capability()}; "
            f"Python {platform.python_version()}, torch {torch.__version__}; OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS', 'unset')}; {datetime.date.today().isoformat()}; "
            f"1-minute load average before this section {os.getloadavg()[0]:.2f}")


class Mnist_CNN(nn.Module):
    """The nn_tutorial CNN: three stride-2 convolutions, then average pooling."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1)
        self.conv3 = nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1)

    def forward(self, xb):
        xb = xb.view(-1, 1, 28, 28)
        xb = F.relu(self.conv1(xb))
        xb = F.relu(self.conv2(xb))
        xb = F.relu(self.conv3(xb))
        return F.avg_pool2d(xb, 4).view(-1, xb.size(1))


def seeded(model_fn, memory_format=torch.contiguous_format):
    """After seed 0, a fresh ``model_fn()`` in ``memory_format`` and the issue's SGD(lr=0.1, momentum=0.9) for it."""
    set_seed(0)
    model = model_fn().to(memory_format=memory_format)
    return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def train_epoch(model, opt, train_dl) -> None:
    """One epoch of the nn_tutorial's loop: forward, cross-entropy, backward, step, zero_grad."""
    model.train()
    for xb, yb in train_dl:
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        opt.zero_grad()


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


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench_fit(data, repeats: int = 5) -> list[str]:
    """Section 1: helpers.train.fit + get_data against the classic loop, same seed, model, optimiser, data.

    A third variant hands fit a model converted to channels_last by the caller: the best time reached for fit
    without changing its numerics, shown for comparison; fit itself does not convert the model. A fourth, a bare
    loop with the same model in channels_last, bounds what any loop can reach with this model and optimiser.
    """
    (x_train, y_train), (x_valid, y_valid), _ = data
    epochs, bs = 2, 64
    fit_name, cl_name = "helpers.train.fit", "helpers.train.fit, model in channels_last"
    bare_name = "bare loop: permutation indexing, model in channels_last (a bound, not a fit)"

    def classic():
        model, opt = seeded(Mnist_CNN)
        return classic_loop(model, opt, x_train, y_train, x_valid, y_valid, epochs, bs)

    def ours(memory_format=torch.contiguous_format):
        model, opt = seeded(Mnist_CNN, memory_format)
        train_dl, valid_dl = get_data(TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid), bs)
        return fit(model, F.cross_entropy, opt, train_dl, valid_dl, epochs)[-1]["valid_acc"]

    def bare():  # no DataLoader, no per-step loss.item(), validation 1,000 at a time: what any loop could reach
        return bare_loop(*seeded(Mnist_CNN, torch.channels_last), data, epochs, bs)

    variants = {"classic loop": classic, fit_name: ours, cl_name: lambda: ours(torch.channels_last), bare_name: bare}
    runs = {k: [] for k in variants}
    for _ in range(repeats):  # alternate, so drift in machine load hits all alike
        for name, fn in variants.items():
            runs[name].append(timed(fn))
    t = {k: statistics.median(s for s, _ in v) for k, v in runs.items()}
    acc = {k: statistics.median(a for _, a in v) for k, v in runs.items()}
    lines = ["## 1. `helpers.train.fit` against the classic loop", "",
             f"nn_tutorial CNN, {epochs} epochs, batch size {bs}, SGD(lr=0.1, momentum=0.9), 50,000 images, seed 0; "
             f"median of {repeats} alternating runs (the time includes the validation pass after each epoch).", "",
             "| variant | seconds | speed-up | validation accuracy |", "|---|---|---|---|"]
    lines += [f"| {k} | {t[k]:.2f} | {t['classic loop'] / t[k]:.2f}× | {acc[k]:.2%} |" for k in runs]
    ratio, gap = t["classic loop"] / t[fit_name], abs(acc["classic loop"] - acc[fit_name]) * 100
    best = t["classic loop"] / t[cl_name]
    lines += ["", f"**Speed-up of fit: {ratio:.2f}×** (goal ≥ 1.5×: {'met' if ratio >= 1.5 else 'NOT met'}); "
              f"accuracy gap {gap:.2f} points (goal ≤ 0.5: {'met' if gap <= 0.5 else 'NOT met'}). "
              f"With the model in channels_last (converted by the caller, as notebook 14 teaches): {best:.2f}×. "
              f"The bare loop, with nothing but the model's own work left, reaches {t['classic loop'] / t[bare_name]:.2f}×: "
              "about what any loop can do with this model, optimiser and batch size in float32.", ""]
    return lines + other_ways(data, epochs, bs)


def bare_loop(model, opt, data, epochs: int, bs: int, bf16: bool = False) -> float:
    """Train on permuted in-memory batches, validate 1,000 at a time after each epoch; return the last accuracy."""
    (x_train, y_train), (x_valid, y_valid), _ = data
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


def other_ways(data, epochs: int, bs: int, repeats: int = 3) -> list[str]:
    """The issue's other ways to a faster loop, each in the bare loop with the model in channels_last.

    torch.compile's compilation is timed apart (a forward and backward in train mode for each batch size, and a
    forward in eval mode under inference_mode, before the seed is set), so its row shows the compiled model's speed,
    the most compilation could ever give back. Every run starts from the same seeded weights; the median of
    ``repeats`` runs is reported.
    """
    (x_train, y_train), (x_valid, _), _ = data

    def model_for(kind):
        model = Mnist_CNN().to(memory_format=torch.channels_last)
        if kind != "torch.compile":
            return model, 0.0
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

    rows = []
    for kind in ("float32", "torch.compile", "bf16 autocast"):
        model, compile_seconds = model_for(kind)
        runs = []
        for _ in range(repeats):
            seeded_model, _ = seeded(Mnist_CNN, torch.channels_last)  # the same start for every run and kind
            getattr(model, "_orig_mod", model).load_state_dict(seeded_model.state_dict())
            opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
            runs.append(timed(lambda: bare_loop(model, opt, data, epochs, bs, bf16=kind == "bf16 autocast")))
        rows.append((kind, compile_seconds, statistics.median(s for s, _ in runs), runs[-1][1]))
    base = rows[0][2]
    lines = ["Other ways the issue lists, each in the bare loop with the model in channels_last (median of "
             f"{repeats} runs; compilation timed apart and from scratch, with no cache, so the compiled row is the most compilation can give):", "",
             "| bare loop with | compilation seconds | training seconds | against float32 | validation accuracy |",
             "|---|---|---|---|---|"]
    lines += [f"| {kind} | {c:.1f} | {s:.2f} | {base / s:.2f}× | {a:.2%} |" for kind, c, s, a in rows]
    return lines + ["", f"bf16 instructions on this CPU: {'yes' if bf16_is_fast() else 'no'} "
                    f"(`helpers.fast.bf16_is_fast()`). The convolutions' forward and backward kernels take "
                    f"{conv_share(data, bs):.0%} of the CPU time of a float32 bare-loop step (torch.profiler, 200 "
                    "steps; the profiler's own cost falls on the many small operations, so the true share is higher); "
                    "no loop change touches them, and torch.compile leaves them to oneDNN.", ""]


def conv_share(data, bs: int, steps: int = 200) -> float:
    """Share of self CPU time spent in convolution kernels (forward and backward) in bare-loop training steps."""
    from torch.profiler import profile

    (x_train, y_train), _, _ = data
    model, opt = seeded(Mnist_CNN, torch.channels_last)
    batches = torch.randperm(len(x_train)).split(bs)[:steps]
    train_epoch(model, opt, ((x_train[i], y_train[i]) for i in batches[:20]))  # warm-up: oneDNN primitive caches
    with profile() as prof:
        train_epoch(model, opt, ((x_train[i], y_train[i]) for i in batches))
    events = prof.key_averages()
    conv = sum(e.self_cpu_time_total for e in events if e.key in ("aten::mkldnn_convolution", "aten::convolution_backward"))
    return conv / sum(e.self_cpu_time_total for e in events)


def epoch_seconds(model_fn, x, y, bs: int = 64) -> float:
    """Seconds for one training epoch of ``model_fn()`` on (x, y) with helpers.train batching."""
    model, opt = seeded(model_fn)
    train_dl, _ = get_data(TensorDataset(x, y), TensorDataset(x[:bs], y[:bs]), bs)
    start = time.perf_counter()
    train_epoch(model, opt, train_dl)
    return time.perf_counter() - start


def bench_scaling(data) -> list[str]:
    """Section 3: epoch time against training-set size, and 1 thread against 2."""
    (x_train, y_train), _, _ = data
    sizes = [10_000, 25_000, 50_000]
    models = {"logistic": lambda: nn.Linear(784, 10), "nn_tutorial CNN": Mnist_CNN}
    table = {name: [epoch_seconds(fn, x_train[:n], y_train[:n]) for n in sizes] for name, fn in models.items()}
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, secs in table.items():
        ax.plot(sizes, secs, "o-", label=name)
    ax.set(xlabel="training images", ylabel="seconds per epoch (1 thread)", title="Epoch time grows linearly")
    ax.legend()
    fig.tight_layout()
    fig.savefig(HERE / "scaling.png", dpi=100)
    plt.close(fig)
    threads = {}
    before = torch.get_num_threads()
    for n in (1, 2):
        torch.set_num_threads(n)
        threads[n] = {name: epoch_seconds(fn, x_train, y_train) for name, fn in models.items()}
    torch.set_num_threads(before)
    lines = ["## 3. How cost grows", "", "Seconds per training epoch (batch size 64, 1 thread):", "",
             "| model | " + " | ".join(f"{n:,} images" for n in sizes) + " | seconds per 10k |",
             "|---|" + "---|" * (len(sizes) + 1)]
    lines += [f"| {name} | " + " | ".join(f"{s:.2f}" for s in secs) + f" | {secs[-1] / 5:.2f} |"
              for name, secs in table.items()]
    lines += ["", "![epoch time against training-set size](scaling.png)", "",
              "One epoch on 50,000 images, 1 thread against 2 (`torch.set_num_threads`):", "",
              "| model | 1 thread | 2 threads | speed-up |", "|---|---|---|---|"]
    lines += [f"| {name} | {threads[1][name]:.2f} | {threads[2][name]:.2f} | {threads[1][name] / threads[2][name]:.2f}× |"
              for name in models]
    return lines + [""]


SUITE_SNIPPET = """
import resource, sys, time
from pathlib import Path
import nbformat
from tests.nbtools import execute
path = Path(sys.argv[1])
nb = nbformat.read(path, as_version=4)  # a copy: add a last cell that prints the kernel's peak RSS so far
nb.cells.append(nbformat.v4.new_code_cell(
    "print(*(l.split()[1] for l in open('/proc/self/status') if l.split(':')[0] in ('VmHWM', 'RssAnon', 'RssFile')))"))
nbformat.write(nb, path)
start = time.perf_counter()
nb = execute(path)
seconds = time.perf_counter() - start
hwm_kb, anon_kb, file_kb = nb.cells[-1].outputs[0]["text"].split()  # /proc/self/status lists them in this order
print(seconds, hwm_kb, anon_kb, file_kb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def bench_suite(tmp: Path) -> list[str]:
    """Section 4: each notebook executed as `make test` does (one thread), with its kernel's peak RSS.

    The peak is the kernel's VmHWM read by an extra last cell, so it covers every cell of the notebook. At that
    point the kernel's RSS is split into anonymous memory (the notebook's tensors, Python objects, allocator
    caches) and file pages (mostly torch's shared libraries: shared by all kernels, and 200 MB larger right after
    `pip install` than later, as the page cache holds more of them). ru_maxrss of the finished kernel is also
    shown: it counts interpreter exit, which touches more library pages (measured: `import torch, torchvision,
    matplotlib` alone, 715 MB before exit, 843 MB after).
    """
    import shutil

    from tests.nbtools import notebook_paths

    rows, total = [], 0.0
    for path in notebook_paths():
        copy = tmp / path.name
        shutil.copy(path, copy)
        out = subprocess.run([sys.executable, "-c", SUITE_SNIPPET, str(copy)], cwd=ROOT, check=True,
                             capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        seconds, *kbs = out.stdout.split()[-5:]
        rows.append((path.stem, float(seconds), *(int(kb) / 1024 for kb in kbs)))
        total += float(seconds)
    lines = ["## 4. The suite", "", "Each notebook executed with nbclient as `make test` runs it (OMP_NUM_THREADS=1), "
             "one at a time. Peak RSS is the kernel's high-water mark after its last cell (VmHWM). Then its RSS splits "
             "into anonymous memory (tensors, Python objects) and file pages (mostly torch's shared libraries, shared "
             "between kernels). The last column also counts the kernel's exit. Goals: each notebook under 90 s and "
             "1.5 GB.", "",
             "| notebook | seconds | peak RSS (MB) | at the end: anonymous | at the end: file pages | "
             "peak including exit |", "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {s:.1f} | {rss:.0f} | {anon:.0f} | {file:.0f} | {exit_rss:.0f} |"
              for name, s, rss, anon, file, exit_rss in rows]
    worst_t, worst_m = max(r[1] for r in rows), max(r[2] for r in rows)
    lines += ["", f"Sum {total:.0f} s (the suite runs two at a time, on 2 cores); slowest {worst_t:.1f} s "
              f"({'under' if worst_t < 90 else 'OVER'} 90 s); largest peak RSS {worst_m:.0f} MB "
              f"({'under' if worst_m < 1536 else 'OVER'} 1.5 GB).", ""]
    return lines


SECTIONS = {"fit": "1", "fast": "2", "scaling": "3", "suite": "4"}  # name -> the number its heading starts with


def split_sections(text: str) -> dict[str, list[str]]:
    """The ``## N. ...`` sections of a results.md, by their number N, each with all its lines."""
    blocks: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].split(".", 1)[0]
            blocks[current] = []
        if current is not None:
            blocks[current].append(line)
    return blocks


def render(blocks: dict[str, list[str]]) -> str:
    """results.md: a short header, then the sections in the order of their numbers."""
    header = ["# Benchmarks", "",
              "Generated by `make bench` (bench/run.py). Speed is measured here only, never in tests. Each section "
              "names the machine it was measured on: `make bench SECTIONS=fit` re-measures one section and keeps the "
              "others.", ""]
    body = [line for key in sorted(blocks) for line in blocks[key]]
    return "\n".join(header + body).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    import tempfile

    unknown = [a for a in argv if a not in SECTIONS]
    if unknown:
        print(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}", file=sys.stderr)
        return 2
    sections = argv or list(SECTIONS)
    torch.set_num_threads(1)
    data = load_mnist()
    out = HERE / "results.md"
    blocks = split_sections(out.read_text()) if out.exists() and argv else {}
    for name in sections:
        measured_on = f"Machine: {machine()}."
        if name == "fit":
            lines = bench_fit(data)
        elif name == "fast":
            lines = bench_fast(data, HERE)
        elif name == "scaling":
            lines = bench_scaling(data)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                lines = bench_suite(Path(tmp))
        blocks[SECTIONS[name]] = [lines[0], "", measured_on, *lines[1:]]
        print("\n".join(blocks[SECTIONS[name]]), flush=True)
    out.write_text(render(blocks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
