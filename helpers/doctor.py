"""Is this the course's environment? ``python -m helpers.doctor`` (or ``make doctor``) answers in about a dozen lines.

If your outputs differ from the stored ones, run it and compare with the course's: the Python and package versions
against ``requirements.lock`` (every version the course was tested with; ``requirements-instructor.lock`` once
``make assignments`` has added nbgrader), the device ``get_device()`` picks, the
CPU's vector instructions (they change the last digits of some results), the thread count, and whether MNIST is
present and verified. It reads only local files: no network.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import re
import sys
from pathlib import Path

LOCK_FILE = Path(__file__).resolve().parent.parent / "requirements.lock"
INSTRUCTOR_LOCK_FILE = LOCK_FILE.with_name("requirements-instructor.lock")  # the lock plus nbgrader (make assignments)
COURSE_PACKAGE = "pytorch-course-helpers"  # installed from this repository, so not in the lock
SHOWN_FIRST = ("torch", "torchvision", "numpy", "matplotlib")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*(?:;([^#]*))?")


def canonical(name: str) -> str:
    """Normalise a distribution name as pip does (``Jupyter_Core`` and ``jupyter-core`` are one package)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lock: Path = LOCK_FILE) -> dict[str, str]:
    """Return {name: version} of every line of ``lock`` whose environment marker holds for this interpreter.

    A universal lock pins some packages once per platform or Python (``numpy==2.2.6 ; python_full_version <
    '3.11'``); only the line that applies here is kept.
    """
    from packaging.markers import Marker  # packaging is in the lock (jupyterlab, pytest and matplotlib need it)

    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match and (not match.group(3) or Marker(match.group(3).strip()).evaluate()):
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def venv_lock() -> Path:
    """The lock this environment should equal: the instructor lock where nbgrader is installed, else the course's."""
    try:
        importlib.metadata.distribution("nbgrader")
    except importlib.metadata.PackageNotFoundError:
        return LOCK_FILE
    return INSTRUCTOR_LOCK_FILE


def installed_versions() -> dict[str, str]:
    """Return {name: version} of every distribution importable by this interpreter, except the course itself."""
    found = {canonical(d.metadata["Name"]): d.version for d in importlib.metadata.distributions() if d.metadata["Name"]}
    found.pop(COURSE_PACKAGE, None)
    return found


def compare(locked: dict[str, str], installed: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """Return (differing, missing, not locked): "name X (locked Y)" for each differing version, missing names,
    and installed names the lock does not list. pip and setuptools come with every venv and are not counted."""
    differing = [f"{n} {installed[n]} (locked {v})" for n, v in sorted(locked.items())
                 if n in installed and installed[n] != v]
    missing = [n for n in sorted(locked) if n not in installed and n != "setuptools"]
    extra = [n for n in sorted(installed) if n not in locked and n not in ("pip", "setuptools")]
    return differing, missing, extra


def package_lines(lock: Path) -> list[str]:
    """The Python line and the package lines: the main packages with their versions, then one line for the rest."""
    lines = [f"Python      {platform.python_version()} ({sys.executable})"]
    if not lock.exists():
        return lines + [f"lock        {lock} not found: cannot compare versions"]
    locked, installed = locked_versions(lock), installed_versions()
    differing, missing, extra = compare(locked, installed)
    for name in SHOWN_FIRST:
        have, want = installed.get(name, "not installed"), locked.get(name, "not locked")
        lines.append(f"{name:<12}{have}" + ("" if have == want else f" (locked {want}) DIFFERS"))
    rest = [n for n in locked if n not in SHOWN_FIRST]
    same = sum(installed.get(n) == locked[n] for n in rest)
    lines.append(f"packages    {same} of the other {len(rest)} locked packages at their locked version ({lock.name})")
    shown = [d for d in differing if d.split()[0] not in SHOWN_FIRST]
    if shown:
        lines.append("DIFFERS     " + ", ".join(shown))
    if [n for n in missing if n not in SHOWN_FIRST]:
        lines.append("MISSING     " + ", ".join(n for n in missing if n not in SHOWN_FIRST))
    if extra:
        lines.append("NOT LOCKED  " + ", ".join(f"{n} {installed[n]}" for n in extra))
    return lines


def machine_lines() -> list[str]:
    """The device, the CPU's vector instructions that change results, and the threads."""
    import torch

    from helpers.device import get_device

    try:
        device = str(get_device())
    except RuntimeError as e:  # $COURSE_DEVICE names a device that is not here
        device = f"ERROR {e}"
    if device.startswith("cuda"):
        device += f" ({torch.cuda.get_device_name(0)})"
    cpu = torch.cpu
    flags = {"AVX2": "_is_avx2_supported", "AVX-512": "_is_avx512_supported", "AVX512-VNNI": "_is_vnni_supported",
             "AVX512-BF16": "_is_avx512_bf16_supported", "AMX": "_is_amx_tile_supported"}
    have = [name for name, fn in flags.items() if getattr(cpu, fn, lambda: False)()]
    lacking = [name for name, fn in flags.items() if hasattr(cpu, fn) and name not in have]
    capability = torch.backends.cpu.get_cpu_capability()
    forced = os.environ.get("ATEN_CPU_CAPABILITY")
    return [
        f"device      {device} (get_device(); COURSE_DEVICE={os.environ.get('COURSE_DEVICE', 'unset')})",
        f"CPU         {platform.machine()}, torch kernels use {capability}"
        + (f" (ATEN_CPU_CAPABILITY={forced})" if forced else ""),
        f"vector      has {', '.join(have) or 'none of AVX2/AVX-512'}"
        + (f"; lacks {', '.join(lacking)}" if lacking else ""),
        f"threads     torch {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"{os.cpu_count()} logical CPUs (stored outputs: OMP_NUM_THREADS=1, as make test)",
    ]


def mnist_line() -> str:
    """Whether the four extracted MNIST files are present and match their sha256, or only the shipped archives."""
    from helpers.data import MNIST_SHA256, data_root, sha256_file

    raw = data_root() / "MNIST" / "raw"
    present = [name for name in MNIST_SHA256 if (raw / name).exists()]
    bad = [name for name in present if sha256_file(raw / name) != MNIST_SHA256[name]]
    if bad:
        return f"MNIST       DAMAGED in {raw}: {', '.join(bad)} (delete them; fetch_mnist() restores them)"
    if len(present) == len(MNIST_SHA256):
        return f"MNIST       present and verified (sha256 of 4 files) in {raw}"
    archives = [name for name in MNIST_SHA256 if (raw / f"{name}.gz").exists()]
    return (f"MNIST       {len(present)} of 4 files extracted in {raw}; {len(archives)} of 4 .gz archives there "
            "(fetch_mnist() extracts and verifies them)")


def report(lock: Path | None = None) -> list[str]:
    """Every line the doctor prints, comparing with ``lock`` (default: ``venv_lock()``)."""
    return package_lines(lock or venv_lock()) + machine_lines() + [mnist_line()]


def main(argv: list[str] | None = None) -> int:
    """Print the report; exit 1 if a package differs from the lock, is missing, or MNIST is damaged."""
    parser = argparse.ArgumentParser(prog="python -m helpers.doctor", description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=None,
                        help="the lock file to compare with (default: requirements.lock, or requirements-instructor.lock "
                             "where nbgrader is installed)")
    lines = report(parser.parse_args(argv).lock)
    print("\n".join(lines))
    problem = any(re.search(r"DIFFERS|MISSING|DAMAGED|not found|not installed|ERROR", line) for line in lines)
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())
