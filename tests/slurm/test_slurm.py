"""The SLURM profile: resources that follow the config, and a run on real SLURM.

The dry-run tests need no SLURM: they read the resources that
`snakemake -n --workflow-profile workflow/profiles/slurm` prints for the paper
config (GPUs) and the .test config (CPU only). The end-to-end test starts a
one-node SLURM on this machine and runs the .test config's paper model
through the profile (tests/slurm/run_slurm.sh; `make test-slurm` runs the
whole config, variants too); it runs with CONSTPOT_TEST_SLURM=1 (`make
test-slurm` sets it) and is skipped otherwise, or when the SLURM daemons are not
installed or the test does not run as root.
"""

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROFILE = "workflow/profiles/slurm"
GPU_RULES = ("qeq", "train_model", "evaluate", "md")
# Seconds-long rules that run on the submitting host (localrules).
LOCAL_RULES = ("qeq_table", "plot_qeq", "dataset", "targets", "figures", "summarise")
SLURM_DAEMONS = ("slurmctld", "slurmd", "munged", "sbatch", "squeue")
# The paper's model through every kind of job, without the config's variants
# (copies of the same rules): keeps `make test` short. `make test-slurm` runs
# the whole .test config.
LEAN_TARGETS = (
    "results/qeq/charge_profile.png",
    "results/label/histogram.png",
    "results/train/qeq/fit_report.csv",
    "results/train/parity.png",
    "results/figures/parity.png",
    "results/summary.json",
    "results/paper_claims.md",
)


# What a dry run reads, linked into an empty folder: no results/ of this
# checkout changes the atom counts the resources are computed from.
WORKFLOW_FILES = ("Snakefile", "workflow", "config", ".test", "data", "envs")


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    """dry_run(configfile, *args): rule name -> resource dicts of its jobs."""
    folder = tmp_path_factory.mktemp("dry_run")
    for name in WORKFLOW_FILES:
        (folder / name).symlink_to(ROOT / name)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")

    @functools.cache
    def run(configfile, *args):
        command = [BIN / "snakemake", "-n", "--workflow-profile", PROFILE]
        proc = subprocess.run(
            [*command, "--configfile", configfile, *args],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return _resources(proc.stdout)

    return run


def _resources(dry_run_output):
    """Rule name -> list of resource dicts of its jobs, from dry-run output."""
    jobs = {}
    for block in dry_run_output.split("\n\n"):
        name = re.search(r"^(?:local)?rule (\w+):", block, re.M)
        if name is None:
            continue
        line = re.search(r"^\s*resources: (.*)$", block, re.M)
        items = (line.group(1) if line else "").split(", ")
        pairs = (item.split("=", 1) for item in items)
        jobs.setdefault(name.group(1), []).append(dict(p for p in pairs if len(p) == 2))
    return jobs


def test_paper_config_gpu_jobs_ask_for_one_gpu(dry_run):
    jobs = dry_run("config/paper.yaml")
    for rule in GPU_RULES:
        assert jobs[rule], rule
        for res in jobs[rule]:
            assert res.get("gpu") == "1", (rule, res)
            assert int(res["mem_mb"]) >= 4000, (rule, res)  # CUDA host memory
            assert int(res["runtime"]) > 0, (rule, res)
    # 200k MD steps of a few thousand atoms: many hours, not the old 60 min.
    assert max(int(r["runtime"]) for r in jobs["md"]) > 600
    for rule in ("build", "label_shard", "package_model", "analyse_run"):
        for res in jobs[rule]:
            assert res.get("gpu", "0") == "0", (rule, res)
    for rule in LOCAL_RULES:
        for res in jobs.get(rule, []):
            assert "mem_mb" not in res and "runtime" not in res, (rule, res)


def test_cpu_config_asks_for_no_gpu(dry_run):
    jobs = dry_run(".test/config/config.yaml")
    for rule in GPU_RULES:
        for res in jobs[rule]:
            assert res.get("gpu") == "0", (rule, res)
    # 30 steps of a ~600-atom cell on one CPU: minutes, not a day.
    assert all(int(r["runtime"]) < 60 for r in jobs["md"])


def test_set_resources_overrides_one_value_and_keeps_the_rest(dry_run):
    base = dry_run("config/paper.yaml")["md"][0]
    over = dry_run("config/paper.yaml", "--set-resources", "md:runtime=2880")["md"][0]
    assert over["runtime"] == "2880"
    assert over["gpu"] == base["gpu"] == "1"
    assert over["mem_mb"] == base["mem_mb"]


@pytest.mark.slow
@pytest.mark.skipif(
    not all(shutil.which(name) for name in SLURM_DAEMONS),
    reason=(
        "SLURM is not installed (needs slurmctld, slurmd, munged, sbatch, squeue "
        "on PATH): `make test-slurm` installs slurm-wlm and munge with apt-get "
        "and runs this test"
    ),
)
@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() != 0,
    reason="starting slurmd, which launches the jobs, needs root",
)
@pytest.mark.skipif(
    os.environ.get("CONSTPOT_TEST_SLURM") != "1",
    reason=(
        "the SLURM run takes ~11 min on 2 cores (measured under load), beyond "
        "make test's 15-min budget next to the local end-to-end run: "
        "`make test-slurm`, or CONSTPOT_TEST_SLURM=1 pytest tests/slurm"
    ),
)
def test_slurm_end_to_end():
    """The .test config through the SLURM profile on a one-node SLURM."""
    env = dict(os.environ, CONSTPOT_VENV=str(BIN.parent), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        ["bash", str(ROOT / "tests" / "slurm" / "run_slurm.sh"), *LEAN_TARGETS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "PASS" in out, out[-6000:]
