"""Section 4: each notebook executed as `make test` runs it (one thread), with its kernel's peak RSS.

``measure`` runs the notebooks (on copies), ``report`` writes the Markdown.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.nbtools import ROOT, notebook_paths

TITLE = "## 4. The suite"

# Run in a fresh interpreter per notebook: execute a copy with an extra last cell that prints the kernel's memory.
SNIPPET = """
import resource, sys, time
from pathlib import Path
import nbformat
from tools.nbtools import execute
path = Path(sys.argv[1])
nb = nbformat.read(path, as_version=4)  # a copy: add a last cell that prints the kernel's peak RSS so far
nb.cells.append(nbformat.v4.new_code_cell(
    "print(*(l.split()[1] for l in open('/proc/self/status') if l.split(':')[0] in ('VmHWM', 'RssAnon', 'RssFile')))"))
nbformat.write(nb, path)
start = time.perf_counter()
nb = execute(path)
seconds = time.perf_counter() - start
hwm_kb, anon_kb, file_kb = nb.cells[-1].outputs[0]["text"].split()  # /proc/self/status lists them in this order
print(seconds, hwm_kb, anon_kb, file_kb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def measure(paths: list[Path] | None = None) -> list[tuple[str, float, float, float, float, float]]:
    """(notebook, seconds, peak RSS, anonymous, file pages, peak including exit; sizes in MB) for each notebook.

    The peak is the kernel's VmHWM read by an extra last cell, so it covers every cell of the notebook. At that
    point the kernel's RSS is split into anonymous memory (the notebook's tensors, Python objects, allocator
    caches) and file pages (mostly torch's shared libraries: shared by all kernels, and 200 MB larger right after
    `pip install` than later, as the page cache holds more of them). ru_maxrss of the finished kernel is also
    shown: it counts interpreter exit, which touches more library pages (measured: `import torch, torchvision,
    matplotlib` alone, 715 MB before exit, 843 MB after).
    """
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths or notebook_paths():
            copy = Path(tmp) / path.name
            shutil.copy(path, copy)
            out = subprocess.run(
                [sys.executable, "-c", SNIPPET, str(copy)],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
            seconds, *kbs = out.stdout.split()[-5:]
            rows.append((path.stem, float(seconds), *(int(kb) / 1024 for kb in kbs)))
    return rows


def report(rows: list[tuple[str, float, float, float, float, float]]) -> list[str]:
    """The Markdown of section 4 from ``measure``'s rows."""
    lines = [
        TITLE,
        "",
        "Each notebook executed with nbclient as `make test` runs it (OMP_NUM_THREADS=1), "
        "one at a time. Peak RSS is the kernel's high-water mark after its last cell (VmHWM). Then its RSS splits "
        "into anonymous memory (tensors, Python objects) and file pages (mostly torch's shared libraries, shared "
        "between kernels). The last column also counts the kernel's exit. Goals: each notebook under 90 s and "
        "1.5 GB.",
        "",
        "| notebook | seconds | peak RSS (MB) | at the end: anonymous | at the end: file pages | peak including exit |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {s:.1f} | {rss:.0f} | {anon:.0f} | {file:.0f} | {exit_rss:.0f} |"
        for name, s, rss, anon, file, exit_rss in rows
    ]
    total = sum(r[1] for r in rows)
    worst_t, worst_m = max(r[1] for r in rows), max(r[2] for r in rows)
    lines += [
        "",
        f"Sum {total:.0f} s (the suite runs two at a time, on 2 cores); slowest {worst_t:.1f} s "
        f"({'under' if worst_t < 90 else 'OVER'} 90 s); largest peak RSS {worst_m:.0f} MB "
        f"({'under' if worst_m < 1536 else 'OVER'} 1.5 GB).",
        "",
    ]
    return lines


def run(mnist=None) -> list[str]:
    """Measure section 4 and return its Markdown (MNIST is not needed: the notebooks load their own)."""
    return report(measure())
