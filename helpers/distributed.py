"""Distributed data parallel on one CPU, taught in notebook 13 (``13_distributed``).

Worker functions live here, not in the notebook, because ``torch.multiprocessing`` starts each
worker with the *spawn* method: the child is a fresh Python that imports the function by its
module name, and a function defined in a notebook cell has no importable name.

- ``free_port``, ``launch``: start ``world_size`` workers on 127.0.0.1, fail (not hang) on a timeout, leave none behind.
- ``allreduce_demo``: the smallest collective, one number per rank summed on every rank.
- ``DDPConfig``, ``ddp_worker``, ``run_ddp``: train a small MLP with ``DistributedDataParallel``.
- ``rank_indices``, ``single_process_reference``: the same training in one process, for comparison.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


@dataclass(frozen=True)
class DDPConfig:
    """What to train: the data (shared by every rank), the MLP's width, the per-rank batch size, lr, epochs, seed."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    n_hidden: int = 32
    bs: int = 32
    lr: float = 0.1
    epochs: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        """Store compact copies of the data: spawn would copy the whole storage behind a slice into shared memory."""
        for name in ("x_train", "y_train"):
            t = getattr(self, name)
            if t.untyped_storage().nbytes() > t.nbytes or not t.is_contiguous():
                object.__setattr__(self, name, t.contiguous().clone())


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (the OS picks it when we bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def init_process(rank: int, world_size: int, port: int) -> None:
    """Join the gloo process group of ``world_size`` ranks that meet at 127.0.0.1:``port``; use one thread."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size, init_method=f"tcp://127.0.0.1:{port}",
                            timeout=timedelta(seconds=60))


def redirect_output(log_path: str) -> None:
    """Send this process's stdout and stderr, Python's and C++'s alike, to the file ``log_path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def run_worker(rank: int, fn: Callable, world_size: int, port: int, args: tuple, workdir: str) -> None:
    """In a spawned process: write all output to ``workdir/rank<rank>.log``, then run ``fn`` as rank ``rank``."""
    redirect_output(str(Path(workdir) / f"rank{rank}.log"))  # never into the notebook cell that started us
    fn(rank, world_size, port, *args, str(Path(workdir) / "result.pt"))


def worker_logs(workdir: str) -> str:
    """Return the last lines each rank wrote to its log in ``workdir``."""
    logs = sorted(Path(workdir).glob("rank*.log"))
    return "\n".join(f"--- {p.name}:\n" + "\n".join(p.read_text().splitlines()[-20:]) for p in logs)


def launch(fn: Callable, world_size: int, *args, timeout: float = 120.0, workdir: str | None = None) -> dict:
    """Run ``fn(rank, world_size, port, *args, result_path)`` in ``world_size`` processes; return what rank 0 saved.

    Workers' output goes to ``rank<r>.log`` files in ``workdir`` (a temporary directory by default). If the workers
    are not all done after ``timeout`` seconds, they are killed and ``TimeoutError`` is raised: a hung peer fails.
    A failure of the machinery rather than of ``fn`` (see ``retryable``) is retried once, with a new port.
    """
    try:
        return launch_once(fn, world_size, *args, timeout=timeout, workdir=workdir)
    except RuntimeError as e:
        if not retryable(e):
            raise
        return launch_once(fn, world_size, *args, timeout=timeout, workdir=workdir)


def retryable(error: BaseException) -> bool:
    """True if another program took the port before rank 0 bound it, or a worker was killed by a signal."""
    return "EADDRINUSE" in str(error) or getattr(error.__cause__, "signal_name", None) is not None


def launch_once(fn: Callable, world_size: int, *args, timeout: float = 120.0, workdir: str | None = None) -> dict:
    """``launch`` without the retry: one port, one set of ``world_size`` spawned workers."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = workdir or tmp
        result_path = Path(workdir) / "result.pt"  # where run_worker tells rank 0 to save
        ctx = mp.start_processes(run_worker, args=(fn, world_size, free_port(), args, workdir), nprocs=world_size,
                                 join=False, start_method="spawn")
        try:
            join_within(ctx, timeout, fn.__name__, workdir)
        finally:
            stop(ctx)
        if not result_path.exists():
            raise FileNotFoundError(f"{fn.__name__}: rank 0 saved nothing; it must torch.save a dict to result_path")
        return torch.load(result_path, weights_only=True)


def join_within(ctx: mp.ProcessContext, timeout: float, name: str, workdir: str) -> None:
    """Wait until every worker is done; raise ``TimeoutError`` after ``timeout`` s, or, if one failed, its error."""
    spawn_log = logging.getLogger("torch.multiprocessing.spawn")
    level, deadline = spawn_log.level, time.monotonic() + timeout
    spawn_log.setLevel(logging.ERROR)  # its "Terminating process ..." warnings would land in the notebook cell
    try:
        while not ctx.join(timeout=max(0.0, deadline - time.monotonic())):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{name}: the workers were not done after {timeout} s and were killed. "
                                   f"Their last output:\n{worker_logs(workdir)}")
    except (mp.ProcessRaisedException, mp.ProcessExitedException) as e:  # show what the workers printed, too
        raise RuntimeError(f"{name} failed: {e}\nThe workers' last output:\n{worker_logs(workdir)}") from e
    finally:
        spawn_log.setLevel(level)


def stop(ctx: mp.ProcessContext) -> None:
    """Kill the workers still alive, reap every worker, and delete the traceback files torch leaves behind."""
    for p in ctx.processes:
        if p.is_alive():
            p.kill()
        p.join()
    for f in ctx.error_files:  # torch writes a failed worker's traceback there and never deletes it
        Path(f).unlink(missing_ok=True)


def allreduce_demo(rank: int, world_size: int, port: int, result_path: str) -> None:
    """Each rank contributes ``rank + 1``; ``all_reduce`` leaves the sum on every rank; rank 0 saves what each holds."""
    init_process(rank, world_size, port)
    try:
        t = torch.tensor([rank + 1.0])
        dist.all_reduce(t, op=dist.ReduceOp.SUM)  # in place, on every rank
        held = [torch.zeros(1) for _ in range(world_size)]
        dist.all_gather(held, t)  # collect every rank's copy, to show they agree
        if rank == 0:
            torch.save({"held": torch.cat(held)}, result_path)
    finally:
        dist.destroy_process_group()


def make_model(config: DDPConfig) -> nn.Module:
    """Return the MLP 784 -> n_hidden -> 10, initialised from ``config.seed`` (same weights in every process)."""
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        torch.manual_seed(config.seed)
        return nn.Sequential(nn.Linear(784, config.n_hidden), nn.ReLU(), nn.Linear(config.n_hidden, 10))


def ddp_worker(rank: int, world_size: int, port: int, config: DDPConfig, result_path: str) -> None:
    """Train ``make_model(config)`` with DDP on this rank's shard; rank 0 saves the weights and every rank's losses."""
    init_process(rank, world_size, port)
    try:
        model = DistributedDataParallel(make_model(config))  # broadcasts rank 0's weights to every rank
        opt = torch.optim.SGD(model.parameters(), lr=config.lr)
        train_ds = TensorDataset(config.x_train, config.y_train)
        sampler = DistributedSampler(train_ds, num_replicas=world_size, rank=rank, shuffle=True, seed=config.seed)
        train_dl = DataLoader(train_ds, batch_size=config.bs, sampler=sampler)
        losses = []
        for epoch in range(config.epochs):
            sampler.set_epoch(epoch)  # a new permutation each epoch, the same one on every rank
            for xb, yb in train_dl:
                loss = nn.functional.cross_entropy(model(xb), yb)
                loss.backward()  # DDP all-reduces (averages) the gradients here, bucket by bucket
                opt.step()
                opt.zero_grad()
                losses.append(loss.detach())
        held = [torch.zeros(len(losses)) for _ in range(world_size)]
        dist.all_gather(held, torch.stack(losses))
        if rank == 0:
            torch.save({"state_dict": model.module.state_dict(), "losses": torch.stack(held)}, result_path)
    finally:
        dist.destroy_process_group()


def run_ddp(config: DDPConfig, world_size: int = 2, timeout: float = 120.0) -> dict:
    """Train with DDP in ``world_size`` processes; return ``{"state_dict": ..., "losses": (world_size, steps)}``."""
    return launch(ddp_worker, world_size, config, timeout=timeout)


def rank_indices(n: int, world_size: int, rank: int, seed: int = 0, epoch: int = 0) -> list[int]:
    """Return the indices that ``DistributedSampler(shuffle=True, seed=seed)`` gives ``rank`` in ``epoch``."""
    g = torch.Generator()
    g.manual_seed(seed + epoch)
    indices = torch.randperm(n, generator=g).tolist()  # one permutation, the same on every rank
    total = math.ceil(n / world_size) * world_size
    indices = (indices * math.ceil(total / n))[:total]  # pad by repeating from the start
    return indices[rank:total:world_size]


def single_process_reference(config: DDPConfig, world_size: int = 2) -> dict:
    """Train the same model in one process on the same global batches, averaging per-rank losses as DDP averages."""
    model = make_model(config)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr)
    n, losses = len(config.x_train), []
    for epoch in range(config.epochs):
        shards = [rank_indices(n, world_size, r, config.seed, epoch) for r in range(world_size)]
        for start in range(0, len(shards[0]), config.bs):
            rank_losses = torch.stack([nn.functional.cross_entropy(model(config.x_train[idx]), config.y_train[idx])
                                       for idx in (s[start:start + config.bs] for s in shards)])
            rank_losses.mean().backward()  # mean over ranks of each rank's mean loss: DDP's average gradient
            opt.step()
            opt.zero_grad()
            losses.append(rank_losses.detach())
    return {"state_dict": model.state_dict(), "losses": torch.stack(losses, dim=1)}
