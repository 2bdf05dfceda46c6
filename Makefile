# constpot: developer entry points. Everything runs from the virtualenv .venv.
#
#   make venv    create .venv and install constpot with workflow + test extras
#   make run     run the demo workflow (config/config.yaml) with CORES cores,
#                then write the HTML report results/report.html
#   make test    run the test suite
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

CORES ?= 2
OMP_NUM_THREADS ?= 1
export OMP_NUM_THREADS
# Rule `shell:` commands (and tests that call snakemake) must find the
# `constpot` console script installed in the virtualenv.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: venv run test lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -e '.[workflow,test]'
	touch $@

run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --cores 1 --report results/report.html

test: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake -n --lint

bench: $(STAMP)
	$(BIN)/python benchmarks/qeq_scaling.py
	$(BIN)/python benchmarks/md_throughput.py

clean:
	find results -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	rm -rf .snakemake
