# Two commands do all set-up on a fresh clone: `make lab` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Every version the course installs (README "Locked versions"); written by `make lock`, installed by every target.
LOCK := requirements.lock
# The instructor extra (nbgrader, for make assignments): requirements.lock plus nbgrader and what it needs, every
# package the two share at requirements.lock's version; written by `make lock`, installed by the first make assignments.
INSTRUCTOR_LOCK := requirements-instructor.lock
INSTRUCTOR_STAMP := $(VENV)/.installed-instructor
UV := $(VENV)/bin/uv
# What `make lock` checks the lock installs on, from wheels only (uv's platform names; macOS 14 is torch's minimum)
LOCK_PLATFORMS := x86_64-manylinux_2_28 aarch64-manylinux_2_28 aarch64-apple-darwin x86_64-pc-windows-msvc
LOCK_PYTHONS := 3.10 3.11 3.12 3.13 3.14
PORT ?= $(or $(JUPYTER_PORT),8888)
# jupyter refuses to run as root without --allow-root; pass it only then
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# A translated edition: `make lab LANG=zh_CN` (and site, slides, student) use the Chinese notebooks, built from the
# English ones with notebooks/locale/zh_CN (tools/i18n.py). Only a LANG given on make's command line chooses the
# edition, never the locale in your environment; the commands then run with LANG=C.UTF-8 (a UTF-8 locale that
# every system has) instead of the locale name zh_CN.
ifeq ($(origin LANG),command line)
EDITION := $(LANG)
override LANG := C.UTF-8
endif
LAB_DIR := $(if $(EDITION),build/$(EDITION)/notebooks,notebooks)
EDITION_FLAG := $(if $(EDITION),--lang $(EDITION),)

# The environment every notebook, test and benchmark runs in, exported to every target (so `make lab`'s kernels
# match the stored outputs). Defined once, in tools/env.py; a value set outside wins (OMP_NUM_THREADS=2 make test).
$(foreach kv,$(shell $(PYTHON) -m tools.env),$(eval export $(kv)))

# Two notebooks at a time, one per core; loadfile keeps each notebook in one worker (one kernel), and the files go
# out longest first (conftest.py's LONGEST_FIRST, not xdist's reordering by number of tests). The nbval flags are in
# pyproject.toml, so `python -m pytest notebooks/NN_x.ipynb` runs one notebook exactly as here.
# Each kernel runs OMP_NUM_THREADS threads, so with more than one (OMP_NUM_THREADS=2 make test) there are only as many
# workers as the cores hold, at least one: on 2 cores with OMP_NUM_THREADS=2, the notebooks' nbval items took 1001 s
# with 2 workers and 238 s with one (threads that wait for a core spin instead of sleeping).
# (nproc prints OMP_NUM_THREADS instead of the cores when that is set, so it runs without it)
CORES := $(shell env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
comma := ,
THREADS := $(firstword $(subst $(comma), ,$(OMP_NUM_THREADS)) 1)
WORKERS := $(shell t=$$(( $(THREADS) )); n=$$(( $(CORES) / (t > 0 ? t : 1) )); echo $$(( n < 1 ? 1 : (n > 2 ? 2 : n) )))
PYTEST_WORKERS := -n $(WORKERS) --dist loadfile --no-loadscope-reorder

# ruff format checks only the authoring tools and the benchmark: helpers/ holds code promoted verbatim from
# notebook cells (tests/test_promotion.py compares them character for character), so formatting it would mean
# reformatting the lessons; notebooks are lessons laid out for reading, and tests/ keeps the helpers' layout.
# bench/models.py is a verbatim copy of notebook 09's CNN (excluded in pyproject.toml's [tool.ruff.format]).
FORMATTED := tools bench conftest.py

.PHONY: lab test lint outputs student slides site handout assignments bench install lock doctor clean-venv zh zh-refresh \
	zh-status

install: $(STAMP)

# Installs exactly the lock (every package, every version), then the course itself without resolving again
# (built with the locked setuptools, so nothing unlocked is fetched).
# pip runs with Python's default warnings: the course's warnings-as-errors policy is for notebooks and tests, and
# pip's own vendored code emits DeprecationWarnings.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || PYTHONWARNINGS= $(PYTHON) -m venv $(VENV)
	PYTHONWARNINGS= $(PY) -m pip install --quiet --upgrade pip
	PYTHONWARNINGS= $(PY) -m pip install --quiet -r $(LOCK)
	PYTHONWARNINGS= $(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Rewrite the lock from pyproject.toml (after changing a dependency, e.g. upgrading torch; uv.toml holds uv's
# options), and the instructor lock from every extra with the lock as constraints (so the packages they share keep
# the lock's versions); then check that every package of both has a wheel for each platform and Python in
# LOCK_PLATFORMS and LOCK_PYTHONS (that check reads no uv.toml: its extras are pyproject.toml's). Needs the package
# index. Keeps the versions already locked unless pyproject.toml excludes them; `make lock UPGRADE=1` takes the
# newest. Then run `make outputs` and review the diffs.
lock: $(STAMP)
	$(UV) pip compile pyproject.toml $(if $(UPGRADE),--upgrade,) -q -o $(LOCK)
	$(UV) pip compile pyproject.toml --all-extras -c $(LOCK) $(if $(UPGRADE),--upgrade,) -q -o $(INSTRUCTOR_LOCK)
	@for lock in $(LOCK) $(INSTRUCTOR_LOCK); do for platform in $(LOCK_PLATFORMS); do for python in $(LOCK_PYTHONS); do \
	  MACOSX_DEPLOYMENT_TARGET=14.0 $(UV) pip compile $$lock --no-config --no-python-downloads --no-universal \
	    --python-platform $$platform --python-version $$python --only-binary :all: -q -o /dev/null \
	    || { echo "make lock: $$lock has no wheels for $$platform, Python $$python"; exit 1; }; \
	done; done; done; echo "make lock: every package has wheels for $(LOCK_PLATFORMS), Python $(LOCK_PYTHONS)"
	@echo "Now run make outputs, and review the diff of $(LOCK) and of the notebooks"

# Python, torch and every locked package against the lock, the device, the CPU's vector instructions, threads, MNIST.
doctor: $(STAMP)
	$(PY) -m helpers.doctor

# The course's JupyterLab defaults (no "Jupyter news" prompt, no update check) as the app-level overrides.json:
# a learner's own settings still win. Copied into settings/ of the venv's JupyterLab application directory
# (`jupyter lab path`), where JupyterLab looks for it.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json

$(LAB_OVERRIDES): tools/lab/overrides.json | $(STAMP)
	@mkdir -p $(@D)
	cp $< $@

# One address, the one with the token: bound to 127.0.0.1 jupyter prints no second (localhost) URL.
# With LANG=zh_CN it serves build/zh_CN/notebooks/, building the notebooks not there yet (never overwriting one
# you saved; `make zh` rebuilds them all).
lab: $(STAMP) $(LAB_OVERRIDES)
	$(if $(EDITION),$(PY) -m tools.i18n build $(EDITION) --missing-only,)
	@echo "Serving JupyterLab on $(LAB_DIR)/: open the URL with the token printed below (Ctrl-C to stop)"
	@# warnings as errors is the tests' policy (tools/env.py), not the learners': their kernels, and jupyter's own
	@# extensions, run with Python's default warnings; threads and hash seed stay the course's
	PYTHONWARNINGS= $(VENV)/bin/jupyter lab --no-browser --ServerApp.ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=$(LAB_DIR) $(ALLOW_ROOT)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_WORKERS)

# Static checks: ruff over helpers, tools, tests, bench and notebooks ([tool.ruff] in pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check $(FORMATTED)

# Re-execute every notebook (or NB="notebooks/01_x.ipynb ...") in place; stored outputs come only from here.
outputs: $(STAMP)
	$(PY) -m tools.nbtools outputs $(NB)

# Learners and instructors: build/student (blank solutions), build/slides (reveal.js, offline), build/site (HTML).
# With LANG=zh_CN: the Chinese edition, in build/zh_CN/student, build/zh_CN/slides, build/zh_CN/site.
student: $(STAMP)
	$(PY) -m tools.publish student $(EDITION_FLAG)

slides: $(STAMP)
	$(PY) -m tools.publish slides $(EDITION_FLAG)

site: $(STAMP)
	$(PY) -m tools.publish site $(EDITION_FLAG)

# The Chinese edition (tools/i18n.py, catalogues in notebooks/locale/zh_CN/LC_MESSAGES/): `make zh` writes
# build/zh_CN/notebooks/ (markdown and comments translated, the English outputs kept: nothing is executed) and says
# how many messages are stale; `make zh-refresh` updates the catalogues after editing the English notebooks;
# `make zh-status` counts each catalogue's translated, stale and untranslated messages.
zh: $(STAMP)
	$(PY) -m tools.i18n build zh_CN

zh-refresh: $(STAMP)
	$(PY) -m tools.i18n refresh zh_CN

zh-status: $(STAMP)
	$(PY) -m tools.i18n status zh_CN

# Printable PDFs (Chromium's print): build/handout/class/ without solutions, build/handout/instructor/ with them.
handout: $(STAMP)
	$(PY) -m tools.handout $(NB)

# Instructors: build/nbgrader/, an nbgrader course directory (nbgrader_config.py, source/NN_topic/NN_topic.ipynb)
# made from the notebooks (tools/assignments.py; README "For instructors" goes on from there). The first run installs
# the instructor extra (nbgrader) from its lock, on top of the course's.
$(INSTRUCTOR_STAMP): $(INSTRUCTOR_LOCK) $(STAMP)
	PYTHONWARNINGS= $(PY) -m pip install --quiet -r $(INSTRUCTOR_LOCK)
	@touch $(INSTRUCTOR_STAMP)

assignments: $(INSTRUCTOR_STAMP)
	$(PY) -m tools.assignments

# Speed is measured here (one process, side by side), never in tests. Writes bench/results.md and PNGs.
bench: $(STAMP)
	$(PY) -m bench $(SECTIONS)

clean-venv:
	rm -rf $(VENV)
