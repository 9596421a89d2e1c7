"""Benchmarks for the course, run side by side in one process: `make bench` writes bench/results.md and PNG plots.

Speed is measured only here, never asserted in a test. Run on an otherwise idle machine: each comparison
alternates its variants and reports the median of the repeats and their ratio.

    python -m bench [fit] [fast] [scaling] [suite]     # default: all sections, about 10 minutes

A run of some sections (`make bench SECTIONS="fit suite"`) replaces only those sections of results.md and keeps
the others; each section names the machine, the load and the date it was measured on.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (the number its heading starts with, its module: measure, plot, report and run)
SECTIONS = {
    "fit": ("1", "bench.fit"),
    "fast": ("2", "bench.fast"),
    "scaling": ("3", "bench.scaling"),
    "suite": ("4", "bench.suite"),
}
HELP = {
    "fit": "helpers.train.fit against the nn_tutorial loop, and other ways to a faster loop",
    "fast": "time to 99 % test accuracy, step by step (fast_steps.png)",
    "scaling": "epoch time against training-set size, 1 thread against 2 (scaling.png)",
    "suite": "each notebook executed as `make test` runs it: seconds and peak memory",
}


def parser() -> argparse.ArgumentParser:
    sections = "\n".join(f"  {name:8} {HELP[name]}" for name in SECTIONS)
    return argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.split("\n\n")[0],
        epilog=f"sections:\n{sections}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def main(argv: list[str]) -> int:
    p = parser()
    p.add_argument("sections", nargs="*", metavar="SECTION", help="sections to run (default: all)")
    args = p.parse_args(argv)
    unknown = [a for a in args.sections if a not in SECTIONS]
    if unknown:
        print(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}", file=sys.stderr)
        return 2
    from tools.env import apply_course_env

    apply_course_env()  # before torch is imported: one OpenMP thread, as in the tests
    import torch

    from bench.common import HERE, machine
    from bench.results import render, split_sections, with_machine
    from helpers.data import load_mnist

    torch.set_num_threads(1)
    mnist = load_mnist()
    out = HERE / "results.md"
    blocks = split_sections(out.read_text()) if out.exists() and args.sections else {}
    for name in args.sections or list(SECTIONS):
        number, module = SECTIONS[name]
        on = machine()
        blocks[number] = with_machine(importlib.import_module(module).run(mnist), on)
        print("\n".join(blocks[number]), flush=True)
    out.write_text(render(blocks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
