"""requirements.lock: the course's venv holds exactly it (or exactly requirements-instructor.lock, the lock plus
nbgrader, once `make assignments` installed that), and both agree with pyproject.toml."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from helpers.doctor import INSTRUCTOR_LOCK_FILE, LOCK_FILE, canonical, locked_versions, venv_lock
from tools.nbtools import ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the test extra installs tomli there
    import tomli as tomllib

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")
# What uv says when it cannot reach the package index (or, with --offline, would need to)
UNREACHABLE = re.compile(r"(?i)failed to fetch|error sending request|dns error|connect|timed out|network")


INSTRUCTOR = "instructor"  # the extra that requirements.lock leaves out, locked in requirements-instructor.lock
PYTHONS = ("3.10", "3.11", "3.12", "3.13", "3.14")  # what the locks cover (README "Locked versions")


def all_locked_versions() -> dict[str, set[str]]:
    """Every version the lock pins for each package, on any platform or Python."""
    pins: dict[str, set[str]] = {}
    for line in LOCK_FILE.read_text().splitlines():
        if match := PIN.match(line):
            pins.setdefault(canonical(match.group(1)), set()).add(match.group(2))
    return pins


def pin_lines(lock) -> set[str]:
    """The lock's pins (``name==version ; marker``) without the comments saying what needs them."""
    return {line.split("#")[0].strip() for line in lock.read_text().splitlines() if PIN.match(line)}


def pyproject_requirements(*, instructor: bool = False) -> list[Requirement]:
    """The requirements of the helpers and every extra but ``instructor`` (or, with ``instructor=True``, its own)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    if instructor:
        return [Requirement(r) for r in extras[INSTRUCTOR]]
    reqs = [r for name, reqs in extras.items() if name != INSTRUCTOR for r in reqs]
    return [Requirement(r) for r in project["dependencies"] + reqs]


def test_every_installed_package_is_locked_at_its_version():
    """What `make lab`/`make test` installed is the lock: no package missing, none at another version, none extra.

    Where `make assignments` added nbgrader, the venv is the instructor lock instead, which is the lock plus exactly
    nbgrader and what it needs (checked below).
    """
    here = {canonical(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    here.pop("pytorch-course-helpers")  # the course itself, installed from this repository
    here.pop("pip", None)  # the installer: `make` upgrades it before installing the lock
    locked = locked_versions(venv_lock())
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


def test_the_instructor_lock_is_the_lock_plus_the_instructor_extra():
    """Offline: every pin of requirements.lock is in requirements-instructor.lock as it is (so installing the instructor
    lock changes no package the notebooks use), and the instructor extra is locked there, on every Python, at a version
    its requirement allows there."""
    assert pin_lines(LOCK_FILE) <= pin_lines(INSTRUCTOR_LOCK_FILE), sorted(pin_lines(LOCK_FILE) - pin_lines(INSTRUCTOR_LOCK_FILE))
    added = {PIN.match(line).group(1) for line in pin_lines(INSTRUCTOR_LOCK_FILE) - pin_lines(LOCK_FILE)}
    assert {canonical(r.name) for r in pyproject_requirements(instructor=True)} <= added
    for python in PYTHONS:
        environment = {"python_version": python, "python_full_version": f"{python}.0"}
        for req in pyproject_requirements(instructor=True):
            if req.marker is None or req.marker.evaluate(environment):
                versions = [PIN.match(line).group(2) for line in pin_lines(INSTRUCTOR_LOCK_FILE)
                            if canonical(PIN.match(line).group(1)) == canonical(req.name)
                            and (";" not in line or Marker(line.split(";", 1)[1]).evaluate(environment))]
                assert len(versions) == 1 and req.specifier.contains(versions[0]), (python, str(req), versions)


def test_the_lock_is_universal_and_pins_the_tested_pair():
    text = LOCK_FILE.read_text()
    assert re.search(r"^torch==2\.14\.1 +#", text, re.M) and re.search(r"^torchvision==0\.29\.1 +#", text, re.M)
    for marker in ("sys_platform == 'darwin'", "sys_platform == 'win32'", "sys_platform == 'linux'",
                   "python_full_version < '3.11'"):
        assert marker in text, f"no line for {marker}: the lock is not universal"


def test_make_lock_writes_both_locks_as_the_next_test_regenerates_them():
    run = subprocess.run(["make", "--no-print-directory", "-n", "lock"], cwd=ROOT, check=True, capture_output=True,
                         text=True)
    compiles = [" ".join(line.split(" pip compile ", 1)[1].split()) for line in run.stdout.splitlines()
                if " pip compile pyproject.toml" in line]
    assert compiles == [f"pyproject.toml -q -o {LOCK_FILE.name}",
                        f"pyproject.toml --all-extras -c {LOCK_FILE.name} -q -o {INSTRUCTOR_LOCK_FILE.name}"]


@pytest.mark.parametrize("lock, options", [(LOCK_FILE, []), (INSTRUCTOR_LOCK_FILE, ["--all-extras", "-c", LOCK_FILE.name])],
                         ids=["lock", "instructor-lock"])
def test_regenerating_the_lock_changes_nothing(tmp_path, lock, options):
    """`make lock` (uv pip compile with uv.toml's settings) on the committed locks writes the same locks.

    uv first tries offline (from its cache); if the cache lacks something it asks the package index, and the test
    is skipped only if the index cannot be reached.
    """
    from uv import find_uv_bin

    out = tmp_path / lock.name
    shutil.copy(lock, out)
    command = [find_uv_bin(), "pip", "compile", "pyproject.toml", *options, "--quiet", "-o", str(out)]
    run = subprocess.run(command + ["--offline"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
        if run.returncode != 0 and UNREACHABLE.search(run.stderr):
            pytest.skip("the package index is unreachable, so the lock could not be regenerated: "
                        + run.stderr.strip().splitlines()[0])
    assert run.returncode == 0, run.stderr
    assert out.read_text() == lock.read_text(), f"{lock.name} does not match pyproject.toml: run make lock"
