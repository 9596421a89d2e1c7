"""helpers.doctor: the environment report, checked against the real lock and against fake ones."""

from __future__ import annotations

import importlib.metadata
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import doctor
from helpers.data import fetch_mnist
from tools.nbtools import ROOT



def fake_lock(tmp_path: Path, versions: dict[str, str | None], extra_lines: tuple[str, ...] = ()) -> Path:
    """A copy of this venv's lock with the versions of some packages changed (None: their lines removed)."""
    lines = []
    for line in doctor.venv_lock().read_text().splitlines():
        name = re.split(r"[=\s;#]", line, maxsplit=1)[0]
        if name in versions and versions[name] is None:
            continue
        if name in versions:
            line = re.sub(r"==[^\s;#]+", f"=={versions[name]}", line, count=1)
        lines.append(line)
    path = tmp_path / "requirements.lock"
    path.write_text("\n".join(lines + list(extra_lines)) + "\n")
    return path


def test_python_m_helpers_doctor_reports_this_environment_in_a_dozen_lines():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "-m", "helpers.doctor"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stdout + run.stderr  # the course's venv is the lock
    assert 8 <= len(lines) <= 14, lines
    for topic in ("Python ", "torch ", "torchvision ", "packages ", "device ", "CPU ", "vector ", "threads ", "MNIST "):
        assert any(line.startswith(topic) for line in lines), topic
    assert f"torch       {importlib.metadata.version('torch')}" in lines
    assert not re.search(r"DIFFERS|MISSING|NOT LOCKED", run.stdout), run.stdout


def test_the_doctor_needs_no_network(monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("the doctor tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    doctor.main([])
    assert "MNIST" in capsys.readouterr().out


def test_a_locked_version_that_differs_is_flagged(tmp_path, capsys):
    numpy, tqdm = importlib.metadata.version("numpy"), importlib.metadata.version("tqdm")
    lock = fake_lock(tmp_path, {"numpy": "0.0.1", "tqdm": "0.0.2"},
                     extra_lines=("numpy==0.0.3 ; python_version < '3'",))  # a marker that never holds: ignored
    assert doctor.main(["--lock", str(lock)]) == 1
    out = capsys.readouterr().out
    assert f"numpy       {numpy} (locked 0.0.1) DIFFERS" in out.splitlines()
    assert f"DIFFERS     tqdm {tqdm} (locked 0.0.2)" in out.splitlines()
    others = len(doctor.locked_versions(lock)) - len(doctor.SHOWN_FIRST)
    assert f"packages    {others - 1} of the other {others} locked packages" in out
    assert "0.0.3" not in out


def test_a_missing_and_an_unlocked_package_are_flagged(tmp_path, capsys):
    tqdm = importlib.metadata.version("tqdm")
    lock = fake_lock(tmp_path, {"tqdm": None}, extra_lines=("surely-not-installed-package==1.0",))
    assert doctor.main(["--lock", str(lock)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "MISSING     surely-not-installed-package" in lines
    assert f"NOT LOCKED  tqdm {tqdm}" in lines


def test_a_missing_lock_is_reported(tmp_path, capsys):
    assert doctor.main(["--lock", str(tmp_path / "nothing.lock")]) == 1
    assert "not found: cannot compare versions" in capsys.readouterr().out


def test_the_machine_lines_report_what_torch_uses(monkeypatch):
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    lines = doctor.machine_lines()
    text = "\n".join(lines)
    assert f"torch kernels use {torch.backends.cpu.get_cpu_capability()} (ATEN_CPU_CAPABILITY=default)" in text
    assert ("AVX512-BF16" in lines[2].split(";")[0]) == torch.cpu._is_avx512_bf16_supported()
    assert ("AMX" in lines[2].split(";")[0]) == torch.cpu._is_amx_tile_supported()
    assert f"threads     torch {torch.get_num_threads()}, OMP_NUM_THREADS=1," in text


def test_the_mnist_line_tells_verified_from_missing_and_damaged(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert "0 of 4 files extracted" in doctor.mnist_line()
    fetch_mnist(tmp_path, progress=False)
    assert doctor.mnist_line().startswith("MNIST       present and verified")
    with open(tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", "ab") as f:
        f.write(b"\0")
    assert doctor.mnist_line().startswith("MNIST       DAMAGED") and "t10k-labels-idx1-ubyte" in doctor.mnist_line()


@pytest.mark.parametrize("lock_line, applies", [("numpy==1.0", True), ("numpy==1.0 ; python_version < '3'", False)])
def test_locked_versions_keeps_the_lines_whose_marker_holds(tmp_path, lock_line, applies):
    (lock := tmp_path / "x.lock").write_text(f"# header\n{lock_line}  # via something\nJupyter_Core==5.0\n")
    assert doctor.locked_versions(lock) == ({"numpy": "1.0"} if applies else {}) | {"jupyter-core": "5.0"}
