"""Notebook tooling for authors, used by ``make outputs``, the tests and the benchmark.

- ``ROOT``, ``NOTEBOOK_DIR``, ``notebook_paths()``: where the repository and the course notebooks are.
- ``execution_problems``: the guard against notebooks that nbval would pass silently.
- ``execute``: restart-and-run-all with nbclient in the course environment (``tools.env``), storing outputs
  reproducibly.
- ``definition_sources``, ``unsafe_torch_loads``: read what a notebook's code cells define and load.

Run ``python -m tools.nbtools outputs [NOTEBOOK ...]`` to regenerate stored outputs.
"""

from __future__ import annotations

import ast
import re
import sys
import time
from pathlib import Path

import nbformat

from tools.env import apply_course_env

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"


def notebook_paths() -> list[Path]:
    """Return the course notebooks, in order."""
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """Return the non-empty code cells of a notebook."""
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def execution_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Return why nbval would not really check this notebook (empty if every cell ran, in order, once)."""
    cells = code_cells(nb)
    if not cells:
        return ["it has no code cells"]
    counts = [c.get("execution_count") for c in cells]
    unexecuted = [i for i, n in enumerate(counts) if n is None]
    if unexecuted:
        return [
            f"{len(unexecuted)} of {len(cells)} code cells were never executed (first: code cell {unexecuted[0]}); "
            "nbval would pass them without comparing anything. Run `make outputs`."
        ]
    if counts != list(range(1, len(cells) + 1)):
        return [
            f"execution counts are {counts}, not 1..{len(cells)}: outputs were not made by one "
            "restart-and-run-all. Run `make outputs`."
        ]
    return []


def merge_streams(outputs: list) -> list:
    """Join adjacent stdout (or stderr) pieces: ipykernel flushes on a timer, so one print may arrive in two."""
    merged = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if out.output_type == "stream" and prev is not None and prev.output_type == "stream" and prev.name == out.name:
            prev.text += out.text
        else:
            merged.append(out)
    return merged


def relative_traceback(out: nbformat.NotebookNode) -> None:
    """Write paths in a stored traceback relative to the repository, so no clone's location is stored."""
    out.traceback = [line.replace(f"{ROOT}/", "") for line in out.traceback]


def definition_sources(path: Path) -> dict[str, list[str]]:
    """Return the source of every top-level function and class defined in the notebook's code cells, by name, in order."""
    found: dict[str, list[str]] = {}
    for cell in code_cells(nbformat.read(path, as_version=4)):
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython-only syntax (magics): such a cell holds no promoted definition
            continue
        lines = cell.source.splitlines()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):  # whole lines: a comment ending the last one too
                found.setdefault(node.name, []).append("\n".join(lines[node.lineno - 1 : node.end_lineno]))
    return found


def unsafe_torch_loads(source: str) -> list[str]:
    """Return each ``torch.load(...)`` call in ``source`` that does not pass ``weights_only=True``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython-only syntax; fall back to a text check of whole lines
        return [line for line in source.splitlines() if "torch.load(" in line and "weights_only=True" not in line]
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
            if not any(
                k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                for k in node.keywords
            ):
                bad.append(ast.unparse(node))
    return bad


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop run-specific metadata (timings, widget state); keep tags, kernelspec and the kernel's language_info.

    ``language_info.version`` stays: the kernel writes it when a notebook is opened, so a notebook stored
    without it would be marked changed (and autosaved) by JupyterLab.

    Tracebacks of cells marked to raise get repository-relative paths (nbval compares only their
    exception name and message).
    """
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
            for out in cell.outputs:
                out.get("metadata", {}).pop("execution", None)
                if out.output_type == "error":
                    relative_traceback(out)
    return nb


def run_twice(cells: list, folder: Path, timeout: int = 600) -> tuple[str | None, list]:
    """Run the code ``cells`` in order in one fresh kernel, each twice in a row.

    Return the first failure (None if there was none) and the code cells as run, with their second run's outputs.
    Cells tagged ``raises-exception`` may raise (nbclient allows it); any other error is a failure.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    apply_course_env()
    nb = nbformat.v4.new_notebook(cells=[c for c in cells if c.cell_type == "code"])
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
        shutdown_kernel="immediate",  # kill the kernel at the end, as nbval does: its own shutdown, with torch
    )  # loaded, costs over a second of CPU, and nothing is kept from it
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            for run in ("first", "second"):
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as e:
                    first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else "(empty)"
                    error = re.sub(r"\x1b\[[0-9;]*m", "", str(e))  # the traceback without terminal colours
                    return f"the cell starting {first_line!r} failed on its {run} run:\n{error}", nb.cells
    return None, nb.cells


def execute(path: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Restart-and-run-all ``path`` in the course environment and write it back with its new outputs."""
    from nbclient import NotebookClient

    apply_course_env()
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        store_widget_state=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nb = clean(nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return nb


def main(argv: list[str]) -> int:
    """``outputs [NOTEBOOK ...]``: re-execute the given notebooks (default: all) in place."""
    if not argv or argv[0] != "outputs":
        print(__doc__, file=sys.stderr)
        return 2
    paths = [Path(p).resolve() for p in argv[1:]] or notebook_paths()
    for path in paths:
        print(f"executing {path.relative_to(ROOT)} ...", end=" ", flush=True)
        start = time.perf_counter()
        nb = execute(path)
        print(f"{time.perf_counter() - start:.1f} s", flush=True)
        if problems := execution_problems(nb):
            print(f"{path}: {problems[0]}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
