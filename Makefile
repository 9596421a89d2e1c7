# Two commands do all set-up on a fresh clone: `make lab` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= $(or $(JUPYTER_PORT),8888)
# jupyter refuses to run as root without --allow-root; pass it only then
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# The environment every notebook and test runs in (defaults; override e.g. OMP_NUM_THREADS=2 make test).
export OMP_NUM_THREADS ?= 1
export PYTHONHASHSEED ?= 0

.PHONY: lab test outputs student slides site bench install clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

lab: $(STAMP)
	@echo "Serving JupyterLab on notebooks/ at http://localhost:$(PORT)/lab (Ctrl-C to stop)"
	$(VENV)/bin/jupyter lab --no-browser --port=$(PORT) --ServerApp.root_dir=notebooks $(ALLOW_ROOT)

test: $(STAMP)
	$(PY) -m pytest

# Re-execute every notebook (or NB="notebooks/01_x.ipynb ...") in place; stored outputs come only from here.
outputs: $(STAMP)
	$(PY) -m tests.nbtools outputs $(NB)

# Learners and instructors: build/student (blank solutions), build/slides (reveal.js, offline), build/site (HTML).
student: $(STAMP)
	$(PY) -m tests.publish student

slides: $(STAMP)
	$(PY) -m tests.publish slides

site: $(STAMP)
	$(PY) -m tests.publish site

# Speed is measured here (one process, side by side), never in tests. Writes bench/results.md and PNGs.
bench: $(STAMP)
	$(PY) -m bench.run $(SECTIONS)

clean-venv:
	rm -rf $(VENV)
