"""Every import is declared in pyproject.toml where it is used.

helpers/ may import only the helpers' dependencies; the notebooks also what the `lab` extra adds; tools, tests,
bench and conftest.py also the `tools` and `test` extras.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import json
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from helpers.doctor import canonical
from tools.nbtools import ROOT

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the test extra installs tomli there
    import tomli as tomllib

LOCAL = {"helpers", "tests", "tools", "bench", "conftest", "hubconf"}
# Standard library from Python 3.11 on, imported there with a declared fallback (tomli) on 3.10
LATER_STDLIB = {"tomllib"}


def declared(*extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in extras for r in project["optional-dependencies"][extra]]
    return {canonical(Requirement(r).name) for r in reqs}


def top_level_imports(source: str) -> set[str]:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]  # IPython magics
    names = set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def imports_of(paths: list[Path]) -> dict[str, Path]:
    """Third-party top-level modules imported by ``paths`` (.py files and notebooks' code cells)."""
    found: dict[str, Path] = {}
    for path in paths:
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text())["cells"]
            sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        else:
            sources = [path.read_text()]
        for source in sources:
            for name in top_level_imports(source) - set(sys.stdlib_module_names) - LATER_STDLIB - LOCAL - {"__future__"}:
                found.setdefault(name, path)
    return found


@functools.cache
def module_distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def providers(module: str) -> set[str]:
    """The distributions that provide ``module`` here (e.g. PIL -> pillow), or its own name if none is installed."""
    dists = module_distributions().get(module)
    return {canonical(d) for d in dists} if dists else {canonical(module)}


AREAS = {
    "helpers": (["helpers/**/*.py"], ()),
    "notebooks": (["notebooks/*.ipynb"], ("lab",)),
    "tools, tests, bench": (["tools/**/*.py", "tests/**/*.py", "bench/**/*.py", "conftest.py"], ("lab", "tools", "test")),
}


@pytest.mark.parametrize("area", AREAS)
def test_every_import_is_declared_where_it_is_used(area):
    patterns, extras = AREAS[area]
    paths = [p for pattern in patterns for p in ROOT.glob(pattern)]
    allowed = declared(*extras)
    undeclared = {m: str(p.relative_to(ROOT)) for m, p in imports_of(paths).items() if not providers(m) & allowed}
    assert paths, patterns
    assert undeclared == {}, f"imported in {area} but not declared in pyproject.toml {extras or ''}"


def test_the_check_sees_an_undeclared_import(tmp_path):
    (nb := tmp_path / "x.ipynb").write_text(json.dumps({"cells": [
        {"cell_type": "code", "source": ["%matplotlib inline\n", "import yaml\n", "from PIL import Image\n"]}]}))
    found = imports_of([nb])
    assert set(found) == {"yaml", "PIL"}
    assert "pillow" in providers("PIL") and not providers("yaml") & declared("lab")
