"""requirements.lock: the course's venv holds exactly it, and it agrees with pyproject.toml."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess

import pytest
from packaging.requirements import Requirement

from helpers.doctor import LOCK_FILE, canonical, locked_versions
from tools.nbtools import ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the test extra installs tomli there
    import tomli as tomllib

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")
# What uv says when it cannot reach the package index (or, with --offline, would need to)
UNREACHABLE = re.compile(r"(?i)failed to fetch|error sending request|dns error|connect|timed out|network")


def all_locked_versions() -> dict[str, set[str]]:
    """Every version the lock pins for each package, on any platform or Python."""
    pins: dict[str, set[str]] = {}
    for line in LOCK_FILE.read_text().splitlines():
        if match := PIN.match(line):
            pins.setdefault(canonical(match.group(1)), set()).add(match.group(2))
    return pins


def pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in project["dependencies"] + [r for reqs in extras.values() for r in reqs]]


def test_every_installed_package_is_locked_at_its_version():
    """What `make lab`/`make test` installed is the lock: no package missing, none at another version, none extra."""
    here = {canonical(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    here.pop("pytorch-course-helpers")  # the course itself, installed from this repository
    here.pop("pip", None)  # the installer: `make` upgrades it before installing the lock
    locked = locked_versions()
    wrong = {name: f"{version} installed, {locked.get(name, 'not')} locked" for name, version in here.items()
             if locked.get(name) != version}
    missing = sorted(set(locked) - set(here))
    advice = "this venv is not the lock: `make clean-venv` then `make test` rebuilds it"
    assert wrong == {}, advice
    assert missing == [], advice


def test_the_lock_satisfies_every_requirement_in_pyproject():
    """Offline: every package pyproject.toml names is locked, and every version locked for it is allowed."""
    locked = all_locked_versions()
    for req in pyproject_requirements():
        versions = locked.get(canonical(req.name))
        assert versions, f"{req} is not in requirements.lock: run make lock"
        assert all(req.specifier.contains(v, prereleases=True) for v in versions), (req, versions)


def test_the_lock_is_universal_and_pins_the_tested_pair():
    text = LOCK_FILE.read_text()
    assert re.search(r"^torch==2\.14\.1 +#", text, re.M) and re.search(r"^torchvision==0\.29\.1 +#", text, re.M)
    for marker in ("sys_platform == 'darwin'", "sys_platform == 'win32'", "sys_platform == 'linux'",
                   "python_full_version < '3.11'"):
        assert marker in text, f"no line for {marker}: the lock is not universal"


def test_regenerating_the_lock_changes_nothing(tmp_path):
    """`make lock` (uv pip compile with uv.toml's settings) on the committed lock writes the same lock.

    uv first tries offline (from its cache); if the cache lacks something it asks the package index, and the test
    is skipped only if the index cannot be reached.
    """
    from uv import find_uv_bin

    out = tmp_path / LOCK_FILE.name
    shutil.copy(LOCK_FILE, out)
    command = [find_uv_bin(), "pip", "compile", "pyproject.toml", "--quiet", "-o", str(out)]
    run = subprocess.run(command + ["--offline"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
        if run.returncode != 0 and UNREACHABLE.search(run.stderr):
            pytest.skip("the package index is unreachable, so the lock could not be regenerated: "
                        + run.stderr.strip().splitlines()[0])
    assert run.returncode == 0, run.stderr
    assert out.read_text() == LOCK_FILE.read_text(), "requirements.lock does not match pyproject.toml: run make lock"
