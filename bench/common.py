"""What every section of the benchmark shares: the machine line, timing, seeding and compile timing."""

from __future__ import annotations

import datetime
import os
import platform
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from helpers.seed import set_seed

HERE = Path(__file__).resolve().parent


def machine() -> str:
    """One line naming the CPU, the thread setting, torch, the date and the load before a section."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.processor())
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.machine()}, ATen {torch.backends.cpu.get_cpu_capability()}; "
        f"Python {platform.python_version()}, torch {torch.__version__}; OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}; {datetime.date.today().isoformat()}; "
        f"1-minute load average before this section {os.getloadavg()[0]:.2f}"
    )


def timed(fn):
    """Call ``fn()``; return (seconds it took, its result)."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def images(x: torch.Tensor) -> torch.Tensor:
    """Flat (N, 784) pixels as (N, 1, 28, 28) images (a view: no copy)."""
    return x.view(-1, 1, 28, 28)


def seeded(model_fn, memory_format=torch.contiguous_format):
    """After seed 0, a fresh ``model_fn()`` in ``memory_format`` and the nn_tutorial's SGD(lr=0.1, momentum=0.9)."""
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


def cold_compile():
    """A context in which torch.compile compiles from scratch: no on-disk cache left by an earlier run is used."""
    import torch._inductor.config

    return torch._inductor.config.patch(force_disable_caches=True)
