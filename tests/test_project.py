"""The project's own set-up: dependency lists agree, the Makefile does what it says, and the repository keeps its
layout and safety rules."""

from __future__ import annotations

import ast
import os
import re
import subprocess
from pathlib import Path

from tools.env import COURSE_ENV
from tools.nbtools import ROOT, unsafe_torch_loads

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the test extra installs tomli there
    import tomli as tomllib


def requirement_name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower().replace("_", "-")


def pyproject_requirements() -> dict[str, str]:
    """Every requirement in pyproject.toml: the helpers' dependencies and every extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {requirement_name(r): r.split(";")[0].replace(" ", "") for r in reqs}


def environment_yml() -> tuple[list[str], list[str]]:
    """The conda dependencies and the pip: section of environment.yml (plain text parsing: no PyYAML)."""
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    items = [line.strip()[2:].strip() for line in lines if line.strip().startswith("- ")]
    pip = [line.strip()[2:].strip() for line in lines[start + 1:] if line.strip().startswith("- ")]
    return items[:len(items) - len(pip)], pip


def test_environment_yml_installs_the_lock():
    conda, pip = environment_yml()
    assert pip == ["-r requirements.lock", "-e ."]
    python = next(item for item in conda if item.startswith("python="))
    assert re.fullmatch(r"python=3\.1[0-4]", python), python  # a Python the lock covers (README)


def test_tested_pair_and_nbval_are_pinned():
    reqs = pyproject_requirements()
    assert reqs["torch"] == "torch==2.14.1" and reqs["torchvision"] == "torchvision==0.29.1"
    assert reqs["nbval"] == "nbval==0.11.0"


def make(*args: str, env: dict[str, str] | None = None) -> str:
    """What ``make args...`` prints (``-n``: the commands, nothing run, nothing installed)."""
    cmd = ["make", "--no-print-directory", *args]
    return subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, env=env).stdout


def pytest_addopts() -> str:
    return " ".join(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"])


def test_pytest_configuration_holds_every_nbval_flag_in_strict_mode():
    """In pyproject, so that `python -m pytest notebooks/NN_x.ipynb` compares a notebook exactly as `make test`."""
    joined = pytest_addopts() + " "
    for flag in ("--nbval ", "--nbval-current-env", "--nbval-sanitize-with=", "--nbval-cell-timeout="):
        assert flag in joined, flag
    assert "--nbval-lax" not in joined
    assert (ROOT / re.search(r"--nbval-sanitize-with=(\S+)", joined).group(1)).exists()


def test_make_test_runs_all_of_pytest_two_notebooks_at_a_time_or_as_many_as_the_cores_hold():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for threads in (1, 2):  # the course's one thread per kernel, and the portability check's two
        commands = [line for line in make("-n", "test", env={**os.environ, "OMP_NUM_THREADS": str(threads)}).splitlines()
                    if " -m pytest" in line]
        assert len(commands) == 1, commands
        args = commands[0].split(" -m pytest", 1)[1].split()
        workers = min(2, max(1, cores // threads))  # on the 2-core CI machine: 2 workers, and 1 at two threads
        assert args == ["-n", str(workers), "--dist", "loadfile", "--no-loadscope-reorder"]  # no paths, no -k
    assert "-n" not in pytest_addopts().split()  # one test file alone starts no workers


def test_make_exports_the_course_environment_and_outside_values_win(tmp_path):
    (show := tmp_path / "show.mk").write_text("show:\n\t@env\n")
    outside = {k: v for k, v in os.environ.items() if k not in COURSE_ENV}
    seen = dict(line.split("=", 1) for line in make("-f", "Makefile", "-f", str(show), "show", env=outside).splitlines()
                if "=" in line)
    assert {k: seen.get(k) for k in COURSE_ENV} == COURSE_ENV
    seen = make("-f", "Makefile", "-f", str(show), "show", env={**outside, "OMP_NUM_THREADS": "2"})
    assert "OMP_NUM_THREADS=2" in seen.splitlines()


def test_make_lab_serves_notebooks_without_a_browser_and_as_root_only_with_allow_root():
    command = next(line for line in make("-n", "lab").splitlines() if "jupyter lab" in line)
    assert "--no-browser" in command and "--ServerApp.root_dir=notebooks" in command
    assert ("--allow-root" in command) == (os.getuid() == 0)


def test_make_lint_outputs_and_publish_run_the_tools():
    commands = make("-n", "lint", "outputs", "student", "bench")
    assert "ruff check ." in commands and "ruff format --check" in commands
    for module in ("tools.nbtools outputs", "tools.publish student", "-m bench"):
        assert module in commands, module


def test_sanitize_file_pairs_every_regex_with_a_replace():
    lines = [line for line in (ROOT / "tests/nbval_sanitize.cfg").read_text().splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if line.startswith("regex:"):
            assert lines[i + 1].startswith("replace:"), line
            re.compile(line.split(":", 1)[1].strip())


def python_sources() -> list[Path]:
    return [p for d in ("helpers", "tools", "tests", "bench") for p in (ROOT / d).rglob("*.py")]


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a Python file imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_dependencies_run_one_way():
    """helpers use none of the rest; tools use neither tests nor bench; bench does not use tests."""
    forbidden = {"helpers": {"tools", "tests", "bench"}, "tools": {"tests", "bench"}, "bench": {"tests"}}
    for folder, names in forbidden.items():
        for path in (ROOT / folder).rglob("*.py"):
            assert not imported_packages(path) & names, (path, imported_packages(path) & names)


def test_tests_folder_holds_only_tests_and_their_data():
    modules = sorted(p.name for p in (ROOT / "tests").glob("*.py"))
    assert modules == ["__init__.py"] + sorted(n for n in modules if n.startswith("test_")), modules
    assert sorted(p.name for p in (ROOT / "tests").iterdir() if p.is_dir() and p.name != "__pycache__") == []


def test_no_pickle_and_every_torch_load_is_weights_only():
    for path in python_sources():
        text = path.read_text()
        if path.name == "test_project.py":
            continue
        assert not re.search(r"^\s*(import|from)\s+(c?pickle|dill|joblib)\b", text, re.M), path
        assert unsafe_torch_loads(text) == [], path


def test_the_torch_load_check_catches_what_it_must():
    assert unsafe_torch_loads("m = torch.load(Path(d) / 'x.pt', weights_only=True)") == []
    assert unsafe_torch_loads("m = torch.load(f)") == ["torch.load(f)"]
    assert unsafe_torch_loads("m = torch.load(f, weights_only=False)") == ["torch.load(f, weights_only=False)"]
