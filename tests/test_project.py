"""The project's own set-up: dependency lists agree, and the repository keeps its safety rules."""

from __future__ import annotations

import re
from pathlib import Path

from tests.nbtools import unsafe_torch_loads

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the test extra installs tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


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


def test_pytest_configuration_holds_every_nbval_flag():
    opts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    joined = " ".join(opts)
    for flag in ("--nbval ", "--nbval-current-env", "--nbval-sanitize-with=", "--nbval-cell-timeout=", "--dist loadfile"):
        assert flag in joined + " ", flag
    assert "--nbval-lax" not in joined
    assert (ROOT / re.search(r"--nbval-sanitize-with=(\S+)", joined).group(1)).exists()


def test_sanitize_file_pairs_every_regex_with_a_replace():
    lines = [l for l in (ROOT / "tests/nbval_sanitize.cfg").read_text().splitlines() if l.strip()]
    for i, line in enumerate(lines):
        if line.startswith("regex:"):
            assert lines[i + 1].startswith("replace:"), line
            re.compile(line.split(":", 1)[1].strip())


def python_sources() -> list[Path]:
    return [p for d in ("helpers", "tests", "bench") for p in (ROOT / d).rglob("*.py")]


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


def test_makefile_targets_and_root_flag():
    text = (ROOT / "Makefile").read_text()
    for target in ("lab:", "test:", "outputs:"):
        assert re.search(rf"^{target}", text, re.M), target
    assert "--allow-root" in text and "id -u" in text and "--no-browser" in text
    assert "OMP_NUM_THREADS ?= 1" in text and "PYTHONHASHSEED ?= 0" in text
