# constpot: developer entry points. Everything runs from the virtualenv .venv.
#
#   make venv    create .venv: the pinned versions of requirements.lock, then
#                constpot itself (editable) with no dependency resolution
#   make lock    install what pyproject.toml newly requires into .venv, then
#                rewrite requirements.lock and envs/constpot.yaml from .venv
#   make run     run the demo workflow (config/config.yaml) with CORES cores,
#                then write the HTML report results/report.html
#   make test    run the test suite, in TEST_WORKERS processes (pytest-xdist;
#                one test file per process at a time, so that a file's shared
#                fixtures, such as the end-to-end workflow run, are built once;
#                files in collection order, tests/conftest.py's FIRST_MODULES first)
#   make test-slurm  start a one-node SLURM here (installs slurm-wlm, munge if
#                missing; root) and run the .test config through the slurm profile
#   make lint    ruff, snakefmt and snakemake --lint
#   make bench   print the QEq scaling table (not run in CI)
#   make clean   remove workflow outputs and snakemake's state
#
# Optional, for the paper-scale study on a SLURM cluster:
#   .venv/bin/pip install snakemake-executor-plugin-slurm
#   snakemake --configfile config/paper.yaml --workflow-profile workflow/profiles/slurm

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# Where pip finds the CPU build of torch that the lock pins (torch==X+cpu).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

CORES ?= 2
TEST_WORKERS ?= 2
OMP_NUM_THREADS ?= 1
export OMP_NUM_THREADS
# Rule `shell:` commands (and tests that call snakemake) must find the
# `constpot` console script installed in the virtualenv.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: venv lock run test test-fast test-slurm lint bench clean

venv: $(STAMP)

# Installs the lock as it is (no resolution) and records its SHA-256 in the
# venv, where constpot.provenance reads it for every summary.json.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "$(LOCK) is for Python 3.11: rm -r $(VENV); make venv PYTHON=python3.11")'
	$(BIN)/pip install --no-deps --extra-index-url $(TORCH_INDEX) "$$(grep '^torch==' $(LOCK))"
	$(BIN)/pip install -r $(LOCK)
	$(BIN)/pip install --no-deps --no-build-isolation -e .
	sha256sum $(LOCK) > $(VENV)/constpot-lock.sha256
	touch $@

# The one place that resolves versions anew: pip adds what pyproject.toml
# requires and .venv lacks (upgrade a pin first with .venv/bin/pip install -U
# NAME), then envs/lock.py pins the whole closure. Test, then commit both files.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -e '.[workflow,test]'
	$(BIN)/python envs/lock.py

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --cores 1 --report results/report.html

test: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# The edit-test loop: everything but the end-to-end tests marked slow.
test-fast: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not slow"

test-slurm: $(STAMP)
	bash tests/slurm/run_slurm.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/Snakefile workflow/rules
	$(BIN)/snakemake -n --lint

bench: $(STAMP)
	$(BIN)/python benchmarks/qeq_scaling.py
	$(BIN)/python benchmarks/md_throughput.py

clean:
	find results -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf .snakemake
