"""helpers.data: verified MNIST from extracted files, shipped archives, or mirrors served by a real local HTTP server."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import struct
import threading
import time
import warnings
from pathlib import Path

import pytest
import torch

from helpers import data
from helpers.data import DataError, fetch_mnist, load_mnist

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
    assert data.data_root() == Path(__file__).resolve().parent.parent / "data"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data.data_root() == (tmp_path / "elsewhere").resolve()
    monkeypatch.setenv("COURSE_DATA_DIR", "")  # set but empty: as if unset
    assert data.data_root() == Path(__file__).resolve().parent.parent / "data"


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
