"""The environment every notebook, test and benchmark runs in: defined here and nowhere else.

Stdlib only, because the Makefile reads it with the system Python before ``.venv`` exists:

    python -m tools.env        # prints KEY=VALUE lines; the Makefile exports them to every target

Values are defaults: a variable already set outside wins (``OMP_NUM_THREADS=2 make test`` checks portability).
"""

from __future__ import annotations

import os
import sys

COURSE_ENV = {
    "OMP_NUM_THREADS": "1",  # results are bit-identical only at a fixed thread count; 2 kernels share 2 cores
    "PYTHONHASHSEED": "0",  # set printing order
    "PYTHONWARNINGS": "error::DeprecationWarning,error::FutureWarning",
    "TQDM_DISABLE": "1",  # progress bars print rates to stderr, which nbval compares
}


def course_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Return the course environment's values, each taken from ``environ`` (default ``os.environ``) when set there."""
    environ = os.environ if environ is None else environ
    return {key: environ.get(key, value) for key, value in COURSE_ENV.items()}


def apply_course_env() -> None:
    """Set the course environment's defaults in this process, so kernels and subprocesses started from it inherit them."""
    for key, value in COURSE_ENV.items():
        os.environ.setdefault(key, value)


def main() -> int:
    """Print the course environment as KEY=VALUE lines (for the Makefile)."""
    for key, value in course_env().items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
