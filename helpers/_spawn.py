"""Plumbing for the workers of ``helpers.distributed`` that notebook 13 does not teach.

- ``worker``: a decorator for a worker ``fn(rank, world_size, workdir, *args)``. In the spawned process it sends all
  output to ``workdir/rank<rank>.log`` (the kernel would forward it to the notebook cell that launched the workers)
  and arms a deadline: after ``timeout`` seconds the OS kills the worker with SIGALRM, even if it is stuck inside a
  collective, so ``torch.multiprocessing.spawn(..., join=True)`` raises instead of hanging. When ``fn`` returns, the
  worker exits at once (``exit_now``), skipping an interpreter shutdown in which gloo can abort.
- ``workspace``: a temporary folder for one launch (rendezvous file, logs, results). If the launch fails, the
  error it raises gets the last lines of every rank's log as a note (a C++ abort message is only there). On leaving,
  it also deletes the traceback files that ``torch.multiprocessing`` writes for a failed worker and never deletes.
- ``worker_logs``: what the ranks wrote to their logs.

A worker that raises still reaches the caller: ``spawn`` raises ``ProcessRaisedException`` with its traceback, and
kills and reaps the other workers; a worker killed by its deadline raises ``ProcessExitedException`` (SIGALRM).
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def worker(fn: Callable | None = None, *, timeout: int = 120) -> Callable:
    """Decorate a worker ``fn(rank, world_size, workdir, *args)``: output to a log file, killed after ``timeout`` s."""
    if fn is None:
        return functools.partial(worker, timeout=timeout)

    @functools.wraps(fn)  # same name and module: spawn's pickle finds this wrapper by the worker's name
    def wrapped(rank: int, world_size: int, workdir: str, *args) -> None:
        redirect_output(str(Path(workdir) / f"rank{rank}.log"))
        signal.alarm(timeout)  # SIGALRM's default action: the OS ends this process
        try:
            fn(rank, world_size, workdir, *args)
        finally:
            signal.alarm(0)
        exit_now()

    return wrapped


def exit_now() -> None:
    """End this worker at once, with exit status 0, once its work is done and written.

    A process that used torch.distributed can abort while the interpreter shuts down: a C++ destructor of the gloo
    process group prints "terminate called without an active exception" and raises SIGABRT (seen twice in notebook
    13 under a loaded machine), so ``spawn`` would report a failed worker whose results are complete. ``os._exit``
    skips that shutdown; the logs are flushed first, and every file the worker wrote is already closed.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def redirect_output(log_path: str) -> None:
    """Send this process's stdout and stderr, Python's and C++'s alike, to the file ``log_path``."""
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def error_files() -> set[Path]:
    """The traceback files of failed workers that ``torch.multiprocessing`` left in the temporary folder."""
    return set(Path(tempfile.gettempdir()).glob("pytorch-errorfile-*.pickle"))


@contextmanager
def workspace() -> Iterator[str]:
    """Yield a fresh temporary folder for one launch; on exit delete it and the error files that appeared meanwhile."""
    before = error_files()
    try:
        with tempfile.TemporaryDirectory(prefix="ddp-") as workdir:
            try:
                yield workdir
            except Exception as e:  # a worker failed: its traceback is in e; add what the ranks printed
                if hasattr(e, "add_note"):  # Python 3.11+
                    e.add_note(f"The workers' last output:\n{worker_logs(workdir)}")
                raise
    finally:
        for f in error_files() - before:  # spawn has read them by the time it raises
            f.unlink(missing_ok=True)


def worker_logs(workdir: str) -> str:
    """Return the last lines each rank wrote to its log in ``workdir``."""
    logs = sorted(Path(workdir).glob("rank*.log"))
    return "\n".join(f"--- {p.name}:\n" + "\n".join(p.read_text().splitlines()[-20:]) for p in logs)
