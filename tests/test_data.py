"""helpers.data: verified MNIST from extracted files, shipped archives, or mirrors served by a real local HTTP server."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import pytest
import torch

from helpers import data
from helpers.data import DataError, fetch_mnist, load_mnist
from tools.nbtools import ROOT

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_images(n: int, seed: int) -> bytes:
    """A small IDX3 file of ``n`` 28x28 images."""
    g = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
    return struct.pack(">IIII", 2051, n, 28, 28) + pixels.numpy().tobytes()


def idx_labels(n: int, seed: int) -> bytes:
    """A small IDX1 file of ``n`` labels."""
    g = torch.Generator().manual_seed(seed)
    return struct.pack(">II", 2049, n) + torch.randint(0, 10, (n,), generator=g, dtype=torch.uint8).numpy().tobytes()


TINY = {"tiny-images-idx3-ubyte": idx_images(20, 1), "tiny-labels-idx1-ubyte": idx_labels(20, 2)}
TINY_SHA = {name: hashlib.sha256(raw).hexdigest() for name, raw in TINY.items()}
GZ = {f"{name}.gz": gzip.compress(raw, mtime=0) for name, raw in TINY.items()}


class Handler(http.server.BaseHTTPRequestHandler):
    """/ok/ serves the archives, /missing/ 404s, /wrong/ serves other content, /drop/ hangs up mid-file."""

    def do_GET(self):
        mode, _, name = self.path.strip("/").partition("/")
        body = GZ.get(name)
        if mode == "missing" or body is None:
            self.send_error(404)
            return
        if mode == "wrong":
            body = gzip.compress(b"not mnist" * 100, mtime=0)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "drop":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens here: connection refused


def raw_dir(root: Path) -> Path:
    return root / "MNIST" / "raw"


def leftovers(root: Path) -> list[str]:
    """Files in raw/ other than good extracted files and archives."""
    d = raw_dir(root)
    return sorted(p.name for p in d.iterdir() if p.name not in TINY and p.name not in GZ) if d.exists() else []


def test_first_mirror_404_falls_over_to_second(server, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # falling over to another mirror is normal, not worth a warning
        root = fetch_mnist(tmp_path, mirrors=[f"{server}/missing", f"{server}/ok"], checksums=TINY_SHA, progress=False)
    assert root == tmp_path.resolve()
    for name, raw in TINY.items():
        assert (raw_dir(tmp_path) / name).read_bytes() == raw
    assert leftovers(tmp_path) == []


def test_wrong_checksum_is_rejected_and_not_left_on_disk(server, tmp_path):
    with pytest.raises(DataError) as e:
        fetch_mnist(tmp_path, mirrors=[f"{server}/wrong"], checksums=TINY_SHA, progress=False)
    msg = str(e.value)
    name = next(iter(TINY))
    actual = hashlib.sha256(b"not mnist" * 100).hexdigest()
    assert f"{server}/wrong/{name}.gz" in msg and TINY_SHA[name] in msg and actual in msg
    assert str(raw_dir(tmp_path)) in msg
    assert not (raw_dir(tmp_path) / name).exists() and leftovers(tmp_path) == []


def test_connection_dropped_mid_file_leaves_no_partial_file(server, tmp_path):
    with pytest.raises(DataError, match="drop"):
        fetch_mnist(tmp_path, mirrors=[f"{server}/drop"], checksums=TINY_SHA, progress=False)
    assert not any((raw_dir(tmp_path) / n).exists() for n in TINY) and leftovers(tmp_path) == []


def test_dropped_mirror_then_good_mirror(server, tmp_path):
    fetch_mnist(tmp_path, mirrors=[f"{server}/drop", f"{server}/ok"], checksums=TINY_SHA, progress=False)
    assert all((raw_dir(tmp_path) / n).read_bytes() == raw for n, raw in TINY.items())
    assert leftovers(tmp_path) == []


def test_unreachable_hosts_give_clear_error_inside_timeout(tmp_path, closed_port_url):
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        start = time.monotonic()
        with pytest.raises(DataError) as e:
            fetch_mnist(tmp_path, mirrors=[closed_port_url, silent_url], checksums=TINY_SHA, timeout=2, progress=False)
        elapsed = time.monotonic() - start
    msg = str(e.value)
    assert elapsed < 15, elapsed
    assert "ConnectionError" in msg and "Timeout" in msg
    assert f"into {raw_dir(tmp_path.resolve())}/" in msg
    assert leftovers(tmp_path) == []


def test_no_local_data_and_no_mirrors_names_the_directory(tmp_path):
    with pytest.raises(DataError) as e:
        fetch_mnist(tmp_path, mirrors=[], checksums=TINY_SHA)
    assert str(raw_dir(tmp_path.resolve())) in str(e.value) and "COURSE_DATA_DIR" in str(e.value)


def test_archive_in_root_is_extracted_and_verified(tmp_path):
    raw_dir(tmp_path).mkdir(parents=True)
    for name, body in GZ.items():
        (raw_dir(tmp_path) / name).write_bytes(body)
    fetch_mnist(tmp_path, mirrors=[], checksums=TINY_SHA)
    assert all((raw_dir(tmp_path) / n).read_bytes() == raw for n, raw in TINY.items())


@pytest.mark.parametrize("damage", ["corrupt", "truncated"])
def test_bad_archive_names_file_and_both_checksums(tmp_path, damage):
    raw_dir(tmp_path).mkdir(parents=True)
    name = "tiny-images-idx3-ubyte"
    raw = bytearray(TINY[name])
    if damage == "corrupt":
        raw[100] ^= 0xFF
        body = gzip.compress(bytes(raw), mtime=0)
    else:
        body = GZ[f"{name}.gz"][:-200]
    gz = raw_dir(tmp_path) / f"{name}.gz"
    gz.write_bytes(body)
    with pytest.raises(DataError) as e:
        fetch_mnist(tmp_path, mirrors=[], checksums={name: TINY_SHA[name]})
    msg = str(e.value)
    assert str(gz.resolve()) in msg
    if damage == "corrupt":
        assert TINY_SHA[name] in msg and hashlib.sha256(bytes(raw)).hexdigest() in msg
    else:
        assert "truncated gzip stream" in msg
    assert not (raw_dir(tmp_path) / name).exists() and leftovers(tmp_path) == []


def test_bad_extracted_file_is_replaced_from_archive(tmp_path):
    raw_dir(tmp_path).mkdir(parents=True)
    name = "tiny-labels-idx1-ubyte"
    (raw_dir(tmp_path) / f"{name}.gz").write_bytes(GZ[f"{name}.gz"])
    bad = raw_dir(tmp_path) / name
    bad.write_bytes(TINY[name][:-5])  # truncated
    with pytest.warns(UserWarning, match=f"replaced a damaged local copy: .*{TINY_SHA[name]}"):
        fetch_mnist(tmp_path, mirrors=[], checksums={name: TINY_SHA[name]})
    assert bad.read_bytes() == TINY[name] and leftovers(tmp_path) == []


def test_bad_extracted_file_with_no_other_source_is_removed_and_reported(tmp_path):
    raw_dir(tmp_path).mkdir(parents=True)
    name = "tiny-labels-idx1-ubyte"
    bad = raw_dir(tmp_path) / name
    bad.write_bytes(b"garbage")
    with pytest.raises(DataError) as e:
        fetch_mnist(tmp_path, mirrors=[], checksums={name: TINY_SHA[name]})
    msg = str(e.value)
    assert str(bad.resolve()) in msg and hashlib.sha256(b"garbage").hexdigest() in msg and TINY_SHA[name] in msg
    assert not bad.exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="list of base URLs"):
        fetch_mnist(tmp_path, mirrors="http://127.0.0.1:1/", checksums=TINY_SHA)
    with pytest.raises(ValueError, match="timeout"):
        fetch_mnist(tmp_path, timeout=0)
    with pytest.raises(ValueError, match="timeout"):
        fetch_mnist(tmp_path, timeout=float("nan"))


def test_data_root_is_the_repository_unless_overridden(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    assert data.data_root() == ROOT / "data"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data.data_root() == (tmp_path / "elsewhere").resolve()
    monkeypatch.setenv("COURSE_DATA_DIR", "")  # set but empty: as if unset
    assert data.data_root() == ROOT / "data"


def test_env_override_extracts_shipped_archives_there(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    assert fetch_mnist(mirrors=[]) == tmp_path.resolve()
    for name, sha in data.MNIST_SHA256.items():
        assert data.sha256_file(raw_dir(tmp_path) / name) == sha
    assert not any(p.suffix == ".part" for p in raw_dir(tmp_path).iterdir())


def test_load_mnist_shapes_dtypes_and_class_counts():
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = load_mnist()
    assert x_train.shape == (50000, 784) and x_valid.shape == (10000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == x_valid.dtype == x_test.dtype == torch.float32
    assert y_train.dtype == y_valid.dtype == y_test.dtype == torch.int64
    assert 0.0 == x_train.min() and x_train.max() == 1.0
    assert torch.bincount(torch.cat([y_train, y_valid])).tolist() == TRAIN_COUNTS
    assert torch.bincount(y_test).tolist() == TEST_COUNTS
    assert y_train[:5].tolist() == [5, 0, 4, 1, 9]  # the famous first digits of the training set


def test_load_mnist_equals_torchvision_parsing_of_the_same_files():
    from torchvision.datasets import MNIST

    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = load_mnist()
    train, test = MNIST(data.data_root(), train=True, download=False), MNIST(data.data_root(), train=False, download=False)
    assert torch.equal(torch.cat([x_train, x_valid]), train.data.reshape(-1, 784).float() / 255)
    assert torch.equal(torch.cat([y_train, y_valid]), train.targets)
    assert torch.equal(x_test, test.data.reshape(-1, 784).float() / 255) and torch.equal(y_test, test.targets)


def test_read_idx_parses_images_and_labels(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(idx_images(3, seed=1))
    images = data._read_idx(path)
    assert images.shape == (3, 28, 28) and images.dtype == torch.uint8
    g = torch.Generator().manual_seed(1)
    assert torch.equal(images, torch.randint(0, 256, (3, 28, 28), generator=g, dtype=torch.uint8))
    labels = tmp_path / "labels"
    labels.write_bytes(struct.pack(">II", 2049, 4) + bytes([7, 0, 9, 3]))
    assert data._read_idx(labels).tolist() == [7, 0, 9, 3]


@pytest.mark.parametrize("content, message", [
    (b"", "not an IDX file"),
    (b"PK\x03\x04" + bytes(16), "not an IDX file"),  # a zip archive, say
    (struct.pack(">II", 0x0D01, 2) + bytes(8), "not an IDX file"),  # IDX of floats, not unsigned bytes
    (struct.pack(">IIII", 2051, 2, 28, 28) + bytes(100), r"announces \(2, 28, 28\) = 1568 values, the file has 100"),
])
def test_read_idx_rejects_other_files_with_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        data._read_idx(path)


# --- several users, several processes, killed processes, bad arguments -------------------------------------------

# Fake MNIST under the real names, big enough (2.4 MB of training images) that concurrent loads overlap.
FAKE = {"train-images-idx3-ubyte": idx_images(3000, 3), "train-labels-idx1-ubyte": idx_labels(3000, 4),
        "t10k-images-idx3-ubyte": idx_images(500, 5), "t10k-labels-idx1-ubyte": idx_labels(500, 6)}
FAKE_SHA = {name: hashlib.sha256(raw).hexdigest() for name, raw in FAKE.items()}
FAKE_GZ = {name: gzip.compress(raw, compresslevel=1, mtime=0) for name, raw in FAKE.items()}
posix_only = pytest.mark.skipif(os.name != "posix", reason="uses POSIX signals, FIFOs and flock")


def fake_root(root: Path) -> Path:
    """``root`` with the fake archives in ``MNIST/raw/`` (nothing extracted yet)."""
    raw_dir(root).mkdir(parents=True, exist_ok=True)
    for name, body in FAKE_GZ.items():
        (raw_dir(root) / f"{name}.gz").write_bytes(body)
    return root


def parts(root: Path) -> list[str]:
    return sorted(p.name for p in raw_dir(root).iterdir() if p.name.endswith(".part"))


def all_verified(root: Path) -> bool:
    return all(data.sha256_file(raw_dir(root) / name) == sha for name, sha in FAKE_SHA.items())


@pytest.mark.parametrize("umask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o002, 0o664, 0o775),
                                                        (0o077, 0o600, 0o700)])
def test_files_and_folders_get_the_mode_the_umask_gives(server, tmp_path, umask, file_mode, dir_mode):
    old = os.umask(umask)
    try:
        fetch_mnist(tmp_path, mirrors=[f"{server}/ok"], checksums=TINY_SHA, progress=False)
    finally:
        os.umask(old)
    for folder in (tmp_path / "MNIST", raw_dir(tmp_path)):
        assert stat.S_IMODE(os.stat(folder).st_mode) == dir_mode, folder
    for name in TINY:
        assert stat.S_IMODE(os.stat(raw_dir(tmp_path) / name).st_mode) == file_mode, name


def test_damaged_file_in_a_folder_that_cannot_be_written_names_both_causes_and_the_fix(monkeypatch, tmp_path,
                                                                                      closed_port_url):
    name = "tiny-labels-idx1-ubyte"
    raw_dir(tmp_path).mkdir(parents=True)
    (raw_dir(tmp_path) / f"{name}.gz").write_bytes(GZ[f"{name}.gz"])
    (raw_dir(tmp_path) / name).write_bytes(b"damaged")

    def read_only(dest):
        raise PermissionError(13, "Permission denied", str(dest.parent / f".{dest.name}.0123456789abcdef.part"))

    monkeypatch.setattr(data, "_new_part", read_only)
    with pytest.raises(DataError) as e:  # no mirror is tried: it could not be written either
        fetch_mnist(tmp_path, mirrors=[closed_port_url], checksums={name: TINY_SHA[name]})
    msg = str(e.value)
    checksum = f"{raw_dir(tmp_path.resolve()) / name}: sha256 {hashlib.sha256(b'damaged').hexdigest()}"
    assert checksum in msg and "Permission denied" in msg and msg.index(checksum) < msg.index("Permission denied")
    assert "COURSE_DATA_DIR" in msg and "no network" in msg and "ConnectionError" not in msg


def test_a_file_where_the_data_folder_should_be_is_a_data_error(tmp_path):
    (tmp_path / "MNIST").write_text("not a folder")
    with pytest.raises(DataError, match=r"cannot create a file in .*Not a directory(.|\n)*COURSE_DATA_DIR"):
        fetch_mnist(tmp_path, mirrors=[], checksums=FAKE_SHA)  # the shipped archive is found, but cannot be extracted


def test_only_the_courses_own_unlocked_temporary_files_are_removed(tmp_path):
    fake_root(tmp_path)
    raw = raw_dir(tmp_path)
    stale = [".train-images-idx3-ubyte.0123456789abcdef.part", ".t10k-labels-idx1-ubyte.k2j3h4_x.part"]  # ours, old mkstemp
    kept = [".train-images-idx3-ubyte.part", "notes.part", ".other-file.0123456789abcdef.part", "train-images.part"]
    for name in stale + kept:
        (raw / name).write_bytes(b"left behind")
    data.fetch_mnist(tmp_path, mirrors=[], checksums=FAKE_SHA)
    assert parts(tmp_path) == sorted(kept) and all_verified(tmp_path)


WRITER = """
import sys
from helpers import data
data.fetch_mnist(sys.argv[1], mirrors=[], checksums={sys.argv[2]: sys.argv[3]})
"""


@posix_only
def test_a_killed_writer_leaves_a_part_file_that_the_next_call_removes(tmp_path):
    name = "train-images-idx3-ubyte"
    raw = raw_dir(tmp_path)
    raw.mkdir(parents=True)
    os.mkfifo(raw / f"{name}.gz")  # the writer extracts from a pipe: it has only what this test writes
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name, FAKE_SHA[name]], env=env)
    try:
        with open(raw / f"{name}.gz", "wb") as pipe:
            pipe.write(FAKE_GZ[name][: len(FAKE_GZ[name]) // 2])  # half the archive, then the writer waits for more
            pipe.flush()
            deadline = time.monotonic() + 60
            while not (parts(tmp_path) and (raw / parts(tmp_path)[0]).stat().st_size > 500_000):
                assert writer.poll() is None and time.monotonic() < deadline, "the writer did not start extracting"
                time.sleep(0.01)
            live = parts(tmp_path)
            data._remove_stale_parts(raw, [name])  # another call meanwhile: a live writer's file is left alone
            assert parts(tmp_path) == live
            writer.send_signal(signal.SIGKILL)
            assert writer.wait(30) == -signal.SIGKILL
    finally:
        writer.kill()
    assert parts(tmp_path) == live  # the killed writer left its part file, half written
    (raw / f"{name}.gz").unlink()
    (raw / f"{name}.gz").write_bytes(FAKE_GZ[name])
    fetch_mnist(tmp_path, mirrors=[], checksums={name: FAKE_SHA[name]})
    assert parts(tmp_path) == [] and data.sha256_file(raw / name) == FAKE_SHA[name]


WORKER = """
import json, os, sys
from helpers import data
import torch  # imported once, before forking into the processes, so that rounds time loading only
data.MNIST_SHA256 = json.loads(sys.argv[1])
pipes, me = json.loads(sys.argv[2]), 0  # one (commands, answers) pair of file descriptors per process
for i in range(1, len(pipes)):
    if os.fork() == 0:
        me = i
        break
with open(pipes[me][0]) as commands, open(pipes[me][1], "w") as answers:
    print("ready", file=answers, flush=True)
    for line in commands:
        try:
            (x, y), (x_valid, y_valid), (x_test, y_test) = data.load_mnist(line.strip())
            print("ok", len(x) + len(x_valid), len(x_test), file=answers, flush=True)
        except BaseException as e:
            print("FAIL", repr(e).replace(chr(10), " "), file=answers, flush=True)
"""


@posix_only
def test_four_processes_loading_at_once_with_and_without_damaged_files(tmp_path):
    """4 processes load together, 10 rounds; a damaged extracted file in half, a stale part file in some."""
    root, processes, rounds = fake_root(tmp_path / "data"), 4, 10
    cmd_r, cmd_w = zip(*[os.pipe() for _ in range(processes)])
    ans_r, ans_w = zip(*[os.pipe() for _ in range(processes)])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    launcher = subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(FAKE_SHA), json.dumps(list(zip(cmd_r, ans_w)))],
                                env=env, pass_fds=cmd_r + ans_w)
    for fd in cmd_r + ans_w:
        os.close(fd)
    to_workers = [open(fd, "w") for fd in cmd_w]
    from_workers = [open(fd) for fd in ans_r]
    failures, durations = [], []
    try:
        assert [f.readline().strip() for f in from_workers] == ["ready"] * processes
        for i in range(rounds):
            if i % 2:  # damaged: one byte flipped in the middle (same size), and a truncated file
                images = FAKE["train-images-idx3-ubyte"]
                (raw_dir(root) / "train-images-idx3-ubyte").write_bytes(images[:1000] + b"\xff" + images[1001:])
                (raw_dir(root) / "t10k-labels-idx1-ubyte").write_bytes(FAKE["t10k-labels-idx1-ubyte"][:-7])
            if i % 3 == 2:
                (raw_dir(root) / ".train-labels-idx1-ubyte.00000000deadbeef.part").write_bytes(b"killed")
            start = time.monotonic()
            for f in to_workers:
                f.write(f"{root}\n")
                f.flush()
            answers = [f.readline().strip() for f in from_workers]
            durations.append(time.monotonic() - start)
            failures += [f"round {i}: {a}" for a in answers if a != "ok 3000 500"]
            if not all_verified(root) or parts(root):
                failures.append(f"round {i}: files verify {all_verified(root)}, part files {parts(root)}")
    finally:
        for f in to_workers + from_workers:
            f.close()
        launcher.wait(30)
    print(f"{processes} processes x {rounds} rounds: {len(failures)} failures; "
          f"round times {min(durations):.2f}-{max(durations):.2f} s")
    assert failures == []


NOBODY = """
import json, sys
from helpers import data
data.MNIST_SHA256 = json.loads(sys.argv[2])
try:
    import torch
except ImportError:  # an interpreter without torch can still fetch and verify every byte
    data.fetch_mnist(sys.argv[1], mirrors=[])
    print("fetched and verified")
else:
    (x, y), (x_valid, y_valid), (x_test, y_test) = data.load_mnist(sys.argv[1])
    print("loaded", len(x) + len(x_valid), len(x_test))
"""


def as_nobody(*args: str) -> subprocess.CompletedProcess:
    """Run NOBODY as the user nobody (from root, with setpriv); skip where that is impossible."""
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run a process as a second user (nobody)")
    drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    for python in (sys.executable, "/usr/bin/python3"):  # the venv's may live where nobody cannot go
        if subprocess.run([*drop, python, "-c", "import sys, helpers.data; assert sys.version_info >= (3, 10)"],
                          env=env, capture_output=True, check=False).returncode == 0:
            return subprocess.run([*drop, python, "-c", NOBODY, *args], env=env, capture_output=True, text=True,
                                  timeout=120, check=False)
    pytest.skip(f"the user nobody cannot run {sys.executable} or /usr/bin/python3 with {ROOT} importable")


@pytest.fixture
def shared_root():
    """A data folder made by this user (root) under umask 022, that others may read but not write."""
    old = os.umask(0o022)
    root = Path(tempfile.mkdtemp(prefix="course-data-"))
    try:
        root.chmod(0o755)
        fetch_mnist(fake_root(root), mirrors=[], checksums=FAKE_SHA)
        yield root
    finally:
        os.umask(old)
        shutil.rmtree(root)


def test_a_second_user_loads_from_a_folder_another_user_prepared(shared_root):
    result = as_nobody(str(shared_root), json.dumps(FAKE_SHA))
    assert result.returncode == 0, result.stderr
    print(f"as nobody: {result.stdout.strip()}")
    assert result.stdout.strip() in ("loaded 3000 500", "fetched and verified")


def test_a_second_user_meeting_a_damaged_file_it_cannot_replace_gets_both_causes_and_the_fix(shared_root):
    bad = raw_dir(shared_root) / "t10k-labels-idx1-ubyte"
    bad.write_bytes(b"damaged")
    result = as_nobody(str(shared_root), json.dumps(FAKE_SHA))
    assert result.returncode != 0 and "helpers.data.DataError: " in result.stderr, result.stderr
    msg = result.stderr.split("helpers.data.DataError: ", 1)[1]
    checksum = f"{bad}: sha256 {hashlib.sha256(b'damaged').hexdigest()}"
    assert checksum in msg and f"cannot create a file in {bad.parent}/ (Permission denied)" in msg
    assert msg.index(checksum) < msg.index("Permission denied")
    assert "COURSE_DATA_DIR" in msg and "no network" in msg and ".part" not in msg
    assert bad.read_bytes() == b"damaged" and parts(shared_root) == []


@pytest.mark.parametrize("root, message", [("", "root is empty"), ("data", "root 'data' is a relative path"),
                                           ("./data", "root './data' is a relative path")])
def test_empty_or_relative_root_is_refused_before_anything_is_written(monkeypatch, tmp_path, root, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message):
        load_mnist(root)
    assert list(tmp_path.iterdir()) == []


def test_a_root_that_does_not_exist_is_not_created(tmp_path):
    with pytest.raises(DataError, match=r"does not exist: create it \(mkdir -p .*typo"):
        fetch_mnist(tmp_path / "typo", mirrors=[], checksums=TINY_SHA)
    assert not (tmp_path / "typo").exists()


def test_relative_course_data_dir_is_refused(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", "mnist")
    with pytest.raises(DataError, match="COURSE_DATA_DIR='mnist' is a relative path"):
        load_mnist()
    assert list(tmp_path.iterdir()) == []


def test_course_data_dir_that_does_not_exist_is_refused_not_created(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "mnsit"))
    with pytest.raises(DataError, match=r"COURSE_DATA_DIR='.*mnsit': .* does not exist: create it"):
        load_mnist()
    assert not (tmp_path / "mnsit").exists()


def test_course_data_dir_that_is_a_file_is_refused(monkeypatch, tmp_path):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "file"))
    with pytest.raises(DataError, match=r"COURSE_DATA_DIR=.* is not a folder"):
        data.data_root()
