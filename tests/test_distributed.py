"""helpers.distributed: DDP in spawned processes matches one process, and no worker or file outlives its launch."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
import torch
import torch.multiprocessing as mp
from torch.utils.data import TensorDataset
from torch.utils.data.distributed import DistributedSampler

from helpers._spawn import worker, worker_logs
from helpers.distributed import (
    DDPConfig,
    allreduce_demo,
    make_model,
    rank_indices,
    run_ddp,
    single_process_reference,
    train,
    workspace,
)
from helpers.train import accuracy
from tools.nbtools import ROOT


@worker(timeout=3)
def sleepy_worker(rank: int, world_size: int, workdir: str) -> None:
    """A peer that hangs: it never finishes on its own."""
    print(f"rank {rank} is about to hang", flush=True)
    time.sleep(600)


@worker
def chatty_worker(rank: int, world_size: int, workdir: str) -> None:
    """A worker that writes to stdout and stderr from Python and from the OS level."""
    print(f"stdout of rank {rank}", flush=True)
    print(f"stderr of rank {rank}", file=sys.stderr, flush=True)
    os.write(2, f"fd 2 of rank {rank}\n".encode())
    allreduce_demo.__wrapped__(rank, world_size, workdir)  # the undecorated worker: rank 0 saves result.pt


@worker
def failing_worker(rank: int, world_size: int, workdir: str) -> None:
    """A worker that raises on rank 1 while rank 0 waits for it in a collective."""
    if rank == 1:  # fail only once rank 0 has written to its log, so that both logs exist when spawn raises
        log, deadline = Path(workdir) / "rank0.log", time.monotonic() + 60
        while not (log.exists() and "rank 0 waits" in log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        raise ValueError("rank 1 failed on purpose")
    print("rank 0 waits for rank 1 in an all-reduce", flush=True)
    allreduce_demo.__wrapped__(rank, world_size, workdir)  # blocks: rank 1 never joins


def worker_processes() -> list[psutil.Process]:
    """Descendants of this process, except multiprocessing's resource tracker and forkserver (which live as long as
    we do); the workers the forkserver forked are counted."""
    from multiprocessing import forkserver

    server = getattr(forkserver._forkserver, "_forkserver_pid", None)  # None until run_ddp started one
    return [p for p in psutil.Process().children(recursive=True)
            if p.pid != server and "resource_tracker" not in " ".join(p.cmdline())]


def error_files() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("pytorch-errorfile-*"))


def tiny_config(**overrides) -> DDPConfig:
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(67, 784, generator=g), torch.randint(0, 10, (67,), generator=g)  # 67: odd, so ranks are padded
    xv, yv = torch.rand(21, 784, generator=g), torch.randint(0, 10, (21,), generator=g)  # 21: unequal rank slices
    return DDPConfig(x, y, xv, yv, **{"n_hidden": 8, "bs": 8, "lr": 0.5, "epochs": 2, **overrides})


def assert_no_worker_left() -> None:
    assert worker_processes() == [] and multiprocessing.active_children() == []


@pytest.mark.parametrize("n, world_size, epoch", [(10, 2, 0), (11, 2, 1), (10, 3, 0), (2, 5, 3)])
def test_rank_indices_reproduce_distributed_sampler(n, world_size, epoch):
    ds = TensorDataset(torch.arange(n))
    for rank in range(world_size):
        sampler = DistributedSampler(ds, num_replicas=world_size, rank=rank, shuffle=True, seed=7)
        sampler.set_epoch(epoch)
        assert rank_indices(n, world_size, rank, seed=7, epoch=epoch) == list(sampler)


def test_config_stores_compact_copies_of_slices():
    x = torch.rand(100, 784)
    config = DDPConfig(x[:10], torch.arange(100)[:10], x[10:15], torch.arange(5))
    assert config.x_train.untyped_storage().nbytes() == 10 * 784 * 4
    assert config.x_valid.untyped_storage().nbytes() == 5 * 784 * 4
    torch.testing.assert_close(config.x_train, x[:10])


def test_make_model_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a, b = make_model(tiny_config()), make_model(tiny_config(batchnorm=True))
    torch.testing.assert_close(torch.rand(3), expected)
    torch.testing.assert_close(a.state_dict(), make_model(tiny_config()).state_dict())
    assert isinstance(b[1], torch.nn.BatchNorm1d)


def test_ddp_matches_single_process_reference():
    config = tiny_config()
    ddp = run_ddp(config, world_size=2)
    ref = single_process_reference(config, world_size=2)
    torch.testing.assert_close(ddp["losses"], ref["losses"])  # (2 ranks, 2 epochs x 5 steps)
    assert ddp["losses"].shape == (2, 10)
    torch.testing.assert_close(ddp["state_dict"], ref["state_dict"])
    assert not torch.equal(ddp["state_dict"]["0.weight"], make_model(config).state_dict()["0.weight"])  # it trained
    assert ddp["same_as_checkpoint"].tolist() == [True, True]  # every replica equals rank 0's checkpoint
    model = make_model(config)
    model.load_state_dict(ddp["state_dict"])
    with torch.no_grad():  # the all-reduced counts give the accuracy of the whole validation set, on every rank
        assert ddp["accuracy"].tolist() == [accuracy(model(config.x_valid), config.y_valid).item()] * 2
    assert_no_worker_left()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="run_ddp forks from a forkserver on Linux only")
def test_run_ddp_forks_every_launch_from_one_forkserver_and_leaves_it_no_child():
    from multiprocessing import forkserver

    config = tiny_config(epochs=1)
    first = run_ddp(config)
    server = forkserver._forkserver._forkserver_pid
    assert server is not None and psutil.Process(server).children() == []
    second = run_ddp(config)  # from the same server: the same training, bit for bit
    assert forkserver._forkserver._forkserver_pid == server
    assert all(torch.equal(first["state_dict"][k], v) for k, v in second["state_dict"].items())
    assert psutil.Process(server).children() == []
    assert_no_worker_left()


def test_accumulating_with_no_sync_equals_a_twice_larger_batch():
    config = tiny_config()
    config = replace(config, x_train=config.x_train[:64], y_train=config.y_train[:64])  # 32 per rank: 4 batches of 8
    big = single_process_reference(config, world_size=2)  # what DDP with bs=8 gives (test above)
    accumulated = run_ddp(replace(config, bs=4, accum=2))
    torch.testing.assert_close(accumulated["state_dict"], big["state_dict"])
    torch.testing.assert_close(accumulated["losses"], big["losses"])
    with pytest.raises(ValueError, match="accum=3 must divide the 4 batches per epoch"):
        train(torch.nn.Linear(784, 10), replace(config, accum=3), rank=0, world_size=2)  # checked before training
    assert_no_worker_left()


def test_batchnorm_uses_per_rank_statistics():
    config = replace(tiny_config(batchnorm=True), x_train=tiny_config().x_train[:64], y_train=tiny_config().y_train[:64])
    ddp = run_ddp(config)
    per_rank = single_process_reference(config, world_size=2)  # each rank's 8 samples normalised on their own
    one_batch = single_process_reference(replace(config, bs=16), world_size=1)  # 16 samples normalised together
    params = [name for name, _ in make_model(config).named_parameters()]
    for name in params:
        torch.testing.assert_close(ddp["state_dict"][name], per_rank["state_dict"][name])
    assert max((ddp["state_dict"][k] - one_batch["state_dict"][k]).abs().max() for k in params) > 1e-3
    assert ddp["same_as_checkpoint"].tolist() == [True, True]  # evaluation synced rank 0's running statistics
    assert_no_worker_left()


def test_allreduce_demo_sums_on_every_rank_and_workers_write_only_to_their_logs(capfd):
    with workspace() as workdir:
        mp.spawn(chatty_worker, args=(2, workdir), nprocs=2, join=True)
        assert torch.load(Path(workdir) / "result.pt", weights_only=True)["held"].tolist() == [3.0, 3.0]
        logs = worker_logs(workdir)
    assert not Path(workdir).exists()
    out, err = capfd.readouterr()
    assert "rank" not in out + err, out + err  # a notebook cell that launches workers shows nothing of theirs
    for rank in range(2):
        assert all(f"{what} of rank {rank}" in logs for what in ("stdout", "stderr", "fd 2")), logs
    assert_no_worker_left()


def test_a_hung_worker_is_killed_at_its_deadline():
    start = time.monotonic()
    with pytest.raises(mp.ProcessExitedException, match="terminated with signal SIGALRM"), workspace() as workdir:
        mp.spawn(sleepy_worker, args=(2, workdir), nprocs=2, join=True)
    assert time.monotonic() - start < 30
    assert_no_worker_left()


def test_a_failing_worker_surfaces_its_error_and_leaves_no_process_and_no_file():
    before = error_files()
    with pytest.raises(mp.ProcessRaisedException, match="ValueError: rank 1 failed on purpose") as error_info, \
            workspace() as workdir:
        mp.spawn(failing_worker, args=(2, workdir), nprocs=2, join=True)
    assert "rank 1 failed on purpose" in str(error_info.value)  # the worker's own traceback
    if sys.version_info >= (3, 11):  # and, as a note, what the ranks printed
        assert "rank 0 waits for rank 1" in "".join(error_info.value.__notes__)
    assert_no_worker_left()  # rank 0, stuck in its all-reduce, was killed
    assert error_files() <= before
    assert not Path(workdir).exists()


def test_importing_the_module_prints_nothing_and_changes_nothing():
    code = ("import os, torch; env, threads = dict(os.environ), torch.get_num_threads(); import helpers.distributed; "
            "assert dict(os.environ) == env and torch.get_num_threads() == threads")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                            timeout=120, cwd=ROOT)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result.stderr
