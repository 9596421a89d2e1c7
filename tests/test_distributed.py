"""helpers.distributed: DDP in spawned processes matches one process, and no worker outlives its launch."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
import torch
import torch.multiprocessing as mp
from torch.utils.data import TensorDataset
from torch.utils.data.distributed import DistributedSampler

from helpers import distributed
from helpers.distributed import (DDPConfig, allreduce_demo, free_port, launch, make_model, rank_indices, retryable,
                                 run_ddp, single_process_reference)


def sleepy_worker(rank: int, world_size: int, port: int, result_path: str) -> None:
    """A peer that hangs: it never finishes on its own."""
    print(f"rank {rank} is about to hang", flush=True)
    time.sleep(600)


def chatty_worker(rank: int, world_size: int, port: int, result_path: str) -> None:
    """A worker that writes to stdout and stderr from Python and from the OS level."""
    print(f"stdout of rank {rank}", flush=True)
    print(f"stderr of rank {rank}", file=sys.stderr, flush=True)
    os.write(2, f"fd 2 of rank {rank}\n".encode())
    if rank == 0:
        torch.save({"rank": torch.tensor(rank)}, result_path)


def failing_worker(rank: int, world_size: int, port: int, result_path: str) -> None:
    """A worker that raises on rank 1, and counts its attempts in ``attempts.txt``."""
    if rank == 1:
        with open(Path(result_path).with_name("attempts.txt"), "a") as f:
            f.write("attempt\n")
        raise ValueError("rank 1 failed on purpose")


def crash_once_worker(rank: int, world_size: int, port: int, result_path: str) -> None:
    """Rank 1 dies of SIGABRT the first time (as a C++ abort would); then an all-reduce that works."""
    marker = Path(result_path).with_name("crashed-once")
    if rank == 1 and not marker.exists():
        marker.touch()
        os.abort()
    allreduce_demo(rank, world_size, port, result_path)


def worker_processes() -> list[psutil.Process]:
    """Children of this process, except multiprocessing's resource tracker (which lives as long as we do)."""
    children = psutil.Process().children(recursive=True)
    return [p for p in children if "resource_tracker" not in " ".join(p.cmdline())]


def tiny_config(**overrides) -> DDPConfig:
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(67, 784, generator=g), torch.randint(0, 10, (67,), generator=g)  # 67: odd, so ranks are padded
    return DDPConfig(x, y, **{"n_hidden": 8, "bs": 8, "lr": 0.5, "epochs": 2, **overrides})


def test_free_port_is_bindable():
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", port))


@pytest.mark.parametrize("n, world_size, epoch", [(10, 2, 0), (11, 2, 1), (10, 3, 0), (2, 5, 3)])
def test_rank_indices_reproduce_distributed_sampler(n, world_size, epoch):
    ds = TensorDataset(torch.arange(n))
    for rank in range(world_size):
        sampler = DistributedSampler(ds, num_replicas=world_size, rank=rank, shuffle=True, seed=7)
        sampler.set_epoch(epoch)
        assert rank_indices(n, world_size, rank, seed=7, epoch=epoch) == list(sampler)


def test_config_stores_compact_copies_of_slices():
    x = torch.rand(100, 784)
    config = DDPConfig(x[:10], torch.arange(100)[:10])
    assert config.x_train.untyped_storage().nbytes() == 10 * 784 * 4
    torch.testing.assert_close(config.x_train, x[:10])


def test_make_model_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a, b = make_model(tiny_config()), make_model(tiny_config())
    torch.testing.assert_close(torch.rand(3), expected)
    torch.testing.assert_close(a.state_dict(), b.state_dict())


def test_allreduce_demo_sums_on_every_rank():
    assert launch(allreduce_demo, 2, timeout=60)["held"].tolist() == [3.0, 3.0]
    assert worker_processes() == [] and multiprocessing.active_children() == []


def test_a_port_taken_by_another_program_is_retried_once(monkeypatch):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1]])  # the first port launch tries is already in use
        monkeypatch.setattr(distributed, "free_port", lambda: next(ports, None) or free_port())
        assert launch(allreduce_demo, 2, timeout=60)["held"].tolist() == [3.0, 3.0]
    assert worker_processes() == [] and multiprocessing.active_children() == []


def test_ddp_matches_single_process_reference_and_leaves_no_process(tmp_path):
    config = tiny_config()
    ddp = run_ddp(config, world_size=2, timeout=120)
    ref = single_process_reference(config, world_size=2)
    torch.testing.assert_close(ddp["losses"], ref["losses"])  # (2 ranks, 2 epochs x 5 steps)
    assert ddp["losses"].shape == (2, 10)
    torch.testing.assert_close(ddp["state_dict"], ref["state_dict"])
    assert not torch.equal(ddp["state_dict"]["0.weight"], make_model(config).state_dict()["0.weight"])  # it trained
    assert worker_processes() == [] and multiprocessing.active_children() == []


def test_worker_output_goes_to_rank_logs_not_to_the_caller(tmp_path, capfd):
    assert launch(chatty_worker, 2, timeout=60, workdir=str(tmp_path))["rank"].item() == 0
    out, err = capfd.readouterr()
    assert "rank" not in out + err, out + err  # a notebook cell that launches workers shows nothing of theirs
    for rank in range(2):
        log = (tmp_path / f"rank{rank}.log").read_text()
        assert all(f"{what} of rank {rank}" in log for what in ("stdout", "stderr", "fd 2")), log


def test_a_hung_worker_times_out_and_is_killed(tmp_path):
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="sleepy_worker: the workers were not done after 5 s"):
        launch(sleepy_worker, 2, timeout=5, workdir=str(tmp_path))
    assert time.monotonic() - start < 30
    assert worker_processes() == [] and multiprocessing.active_children() == []


def test_a_failing_worker_raises_once_and_leaves_no_process_and_no_file(tmp_path):
    error_files = lambda: set(Path(tempfile.gettempdir()).glob("pytorch-errorfile-*"))  # noqa: E731
    before = error_files()
    with pytest.raises(RuntimeError, match="failing_worker failed(.|\n)*rank 1 failed on purpose"):
        launch(failing_worker, 2, timeout=60, workdir=str(tmp_path))
    assert (tmp_path / "attempts.txt").read_text() == "attempt\n"  # a bug in the worker is not retried
    assert worker_processes() == [] and multiprocessing.active_children() == []
    assert error_files() <= before


def test_a_worker_killed_by_a_signal_is_retried_once(tmp_path, capfd):
    assert launch(crash_once_worker, 2, timeout=60, workdir=str(tmp_path))["held"].tolist() == [3.0, 3.0]
    assert (tmp_path / "crashed-once").exists()
    assert "Terminating process" not in capfd.readouterr().err  # torch's warning would land in a notebook cell
    assert worker_processes() == [] and multiprocessing.active_children() == []


def test_retryable_tells_the_machinery_from_the_worker():
    def failure(cause: Exception) -> RuntimeError:
        error = RuntimeError(f"fn failed: {cause}")
        error.__cause__ = cause
        return error

    exited = mp.ProcessExitedException("process 1 terminated with signal SIGABRT", 1, 123, -6, "SIGABRT")
    raised = mp.ProcessRaisedException("ValueError: bad", 1, 123)
    assert retryable(failure(exited)) and not retryable(failure(raised))
    assert retryable(failure(mp.ProcessRaisedException("code: -98, name: EADDRINUSE", 0, 123)))


def test_importing_the_module_prints_nothing_and_changes_nothing():
    code = ("import os, torch; env, threads = dict(os.environ), torch.get_num_threads(); import helpers.distributed; "
            "assert dict(os.environ) == env and torch.get_num_threads() == threads")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == "", result.stderr
