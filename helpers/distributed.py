"""Distributed data parallel on one CPU, taught in notebook 13 (``13_distributed``).

Worker functions live here, not in the notebook, because ``torch.multiprocessing.spawn`` starts each worker as a
fresh Python that imports the function by its module and name; a function defined in a notebook cell has none.
Every worker is called as ``worker(rank, world_size, workdir, *args)``: the ranks meet through a file in the
temporary folder ``workdir`` (``init_method="file://..."``, no network port) and rank 0 saves its results there.
``@worker`` (from the private ``helpers._spawn``) only adds plumbing: a log file per rank and a deadline.

- ``init_process``, ``allreduce_demo``: join the group; the smallest collective.
- ``DDPConfig``, ``make_model``, ``train``, ``evaluate``, ``ddp_worker``, ``run_ddp``: DDP training of a small MLP.
- ``rank_indices``, ``single_process_reference``: the same training in one process, for comparison.
"""

from __future__ import annotations

import math
import multiprocessing
import sys
from contextlib import nullcontext
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

from helpers._spawn import worker, workspace

__all__ = ["DDPConfig", "allreduce_demo", "ddp_worker", "evaluate", "init_process", "make_model", "rank_indices",
           "run_ddp", "single_process_reference", "train", "workspace"]


@dataclass(frozen=True)
class DDPConfig:
    """What to train on (every rank gets all of it) and how: MLP width, BatchNorm or not, per-rank bs, lr, ..."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_valid: torch.Tensor
    y_valid: torch.Tensor
    n_hidden: int = 32
    batchnorm: bool = False
    bs: int = 32  # per rank and per backward: a step uses world_size * bs * accum samples
    accum: int = 1  # backward passes per optimiser step (gradient accumulation)
    lr: float = 0.1
    epochs: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        """Store compact copies of the data: spawn would copy the whole storage behind a slice into shared memory."""
        for name in ("x_train", "y_train", "x_valid", "y_valid"):
            t = getattr(self, name)
            if t.untyped_storage().nbytes() > t.nbytes or not t.is_contiguous():
                object.__setattr__(self, name, t.contiguous().clone())


def init_process(rank: int, world_size: int, workdir: str) -> None:
    """Join the gloo group of ``world_size`` ranks that meet through the file ``workdir/store``; use one thread."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{workdir}/store", rank=rank, world_size=world_size,
                            timeout=timedelta(seconds=60))


@worker
def allreduce_demo(rank: int, world_size: int, workdir: str) -> None:
    """Each rank contributes ``rank + 1``; ``all_reduce`` leaves the sum on every rank; rank 0 saves what each holds."""
    init_process(rank, world_size, workdir)
    try:
        t = torch.tensor([rank + 1.0])
        dist.all_reduce(t, op=dist.ReduceOp.SUM)  # in place, on every rank
        held = [torch.zeros(1) for _ in range(world_size)]
        dist.all_gather(held, t)  # collect every rank's copy, to show they agree
        if rank == 0:
            torch.save({"held": torch.cat(held)}, f"{workdir}/result.pt")
    finally:
        dist.destroy_process_group()


def make_model(config: DDPConfig) -> nn.Module:
    """Return the MLP 784 -> n_hidden (-> BatchNorm) -> 10, initialised from ``config.seed`` in every process."""
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        torch.manual_seed(config.seed)
        norm = [nn.BatchNorm1d(config.n_hidden)] if config.batchnorm else []
        return nn.Sequential(nn.Linear(784, config.n_hidden), *norm, nn.ReLU(), nn.Linear(config.n_hidden, 10))


def train(model: DistributedDataParallel, config: DDPConfig, rank: int, world_size: int) -> torch.Tensor:
    """Train the DDP ``model`` on this rank's shard; return this rank's loss at each optimiser step."""
    train_ds = TensorDataset(config.x_train, config.y_train)
    sampler = DistributedSampler(train_ds, num_replicas=world_size, rank=rank, shuffle=True, seed=config.seed)
    train_dl = DataLoader(train_ds, batch_size=config.bs, sampler=sampler)
    if len(train_dl) % config.accum:
        raise ValueError(f"accum={config.accum} must divide the {len(train_dl)} batches per epoch")
    opt = torch.optim.SGD(model.parameters(), lr=config.lr)
    losses, step_loss = [], 0.0
    for epoch in range(config.epochs):
        sampler.set_epoch(epoch)  # a new permutation each epoch, the same one on every rank
        for i, (xb, yb) in enumerate(train_dl):
            step_now = (i + 1) % config.accum == 0
            with nullcontext() if step_now else model.no_sync():  # no all-reduce: gradients add up locally
                loss = nn.functional.cross_entropy(model(xb), yb) / config.accum
                loss.backward()  # when step_now: DDP all-reduces the gradients here, bucket by bucket
            step_loss += loss.detach()
            if step_now:
                opt.step()
                opt.zero_grad()
                losses.append(step_loss)
                step_loss = 0.0
    return torch.stack(losses)


def evaluate(model: DistributedDataParallel, config: DDPConfig, rank: int, world_size: int) -> float:
    """Accuracy on the whole validation set: each rank counts on its slice, an all-reduce adds up the counts."""
    model.eval()
    with torch.no_grad():
        xb, yb = config.x_valid[rank::world_size], config.y_valid[rank::world_size]
        counts = torch.tensor([(model(xb).argmax(dim=1) == yb).sum().item(), len(yb)], dtype=torch.float64)
    dist.all_reduce(counts)  # [correct, seen], summed over ranks: the same on every rank
    model.train()
    return (counts[0] / counts[1]).item()


@worker
def ddp_worker(rank: int, world_size: int, workdir: str, config: DDPConfig) -> None:
    """Train with DDP and evaluate; rank 0 saves the checkpoint and every rank's losses and accuracy to ``workdir``."""
    init_process(rank, world_size, workdir)
    try:
        model = DistributedDataParallel(make_model(config))  # broadcasts rank 0's weights to every rank
        losses = train(model, config, rank, world_size)
        acc = evaluate(model, config, rank, world_size)
        if rank == 0:  # every replica holds the same weights: one copy is enough
            torch.save(model.module.state_dict(), f"{workdir}/checkpoint.pt")
        dist.barrier()  # no rank goes on before the checkpoint is complete
        checkpoint = torch.load(f"{workdir}/checkpoint.pt", weights_only=True)
        same = all(torch.equal(checkpoint[k], v) for k, v in model.module.state_dict().items())
        held = [torch.zeros(len(losses) + 2) for _ in range(world_size)]
        dist.all_gather(held, torch.cat([losses, torch.tensor([acc, same])]))
        if rank == 0:
            held = torch.stack(held)  # (world_size, steps + 2)
            torch.save({"losses": held[:, :-2], "accuracy": held[:, -2], "same_as_checkpoint": held[:, -1].bool(),
                        "state_dict": checkpoint}, f"{workdir}/result.pt")
    finally:
        dist.destroy_process_group()


def run_ddp(config: DDPConfig, world_size: int = 2) -> dict:
    """Start ``world_size`` DDP workers and return what rank 0 saved (losses, accuracy, state_dict, ...).

    The launch of notebook 13's ``mp.spawn`` cell, in a function, with one difference on Linux: the workers are
    forked from multiprocessing's *forkserver*, a process started by the first call that imports torch, this module
    and ``torch._dynamo`` (which ``DistributedDataParallel`` imports) once and then lives as long as this process.
    Each later launch skips the seconds that a fresh interpreter spends on those imports; the training is the same,
    bit for bit. Elsewhere (macOS, where forking a process that loaded system frameworks is unsafe, and Windows,
    which cannot fork) the workers are spawned.
    """
    method = "forkserver" if sys.platform.startswith("linux") else "spawn"
    if method == "forkserver":
        multiprocessing.set_forkserver_preload([__name__, "torch._dynamo"])  # used when the server starts
    with workspace() as workdir:
        mp.start_processes(ddp_worker, args=(world_size, workdir, config), nprocs=world_size, join=True,
                           start_method=method)
        return torch.load(Path(workdir) / "result.pt", weights_only=True)


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
