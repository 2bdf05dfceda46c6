"""The Snakemake workflow end to end: the whole chain on the scaled-down
.test/ config on a copy of the workflow, its report, and an MD job killed
and resumed (lint, formatting and config plumbing: test_workflow_config.py).
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from workflow_helpers import BIN, ROOT, copy_workflow, snakemake

#: The scaled-down config of .test/ (the demo labels ~170 frames; here three
#: per category, so that the stratified split has validation and test
#: frames), given the way a user gives theirs.
TEST_CONFIG = ("--configfile", ".test/config/config.yaml")


@pytest.fixture(scope="module")
def end_to_end(tmp_path_factory):
    """A copy of the workflow after `snakemake --cores 2` on the .test config."""
    tmp_path = copy_workflow(tmp_path_factory.mktemp("e2e"))
    proc = snakemake(tmp_path, "--cores", "2", *TEST_CONFIG, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return tmp_path


@pytest.mark.slow
def test_default_workflow_end_to_end(end_to_end):
    """`snakemake --cores 2` on a copy of the repo runs every stage, then the report.

    Scaled down: three labelled frames per category, two training epochs, 20 MD
    steps for two systems at 0 and −6 V plus the constant-charge control.
    Physics checked on the written summaries: Σq = 0, the anode total falls
    and the counter-electrode total rises when the paper's potentials
    (anode −6 V, counter +2 V) replace constant charge, in the single-point
    qeq stage and in every MD run's first frame.
    """
    from ase.io import read

    tmp_path = end_to_end
    cfg = yaml.safe_load((ROOT / ".test" / "config" / "config.yaml").read_text())
    report = snakemake(
        tmp_path, "--cores", "1", *TEST_CONFIG, "--report", "results/report.html"
    )
    assert report.returncode == 0, report.stdout[-3000:] + report.stderr[-3000:]
    assert (tmp_path / "results" / "report.html").stat().st_size > 0
    # Every configured system is built, with its picture and summary.
    for system in cfg["systems"]:
        folder = tmp_path / "results" / "build" / system
        for name in ("interface.extxyz", "interface.png", "interface.json"):
            assert (folder / name).stat().st_size > 0, (system, name)
        info = json.loads((folder / "interface.json").read_text())
        assert info["n_atoms"] == sum(info["regions"].values())
    # The labelled dataset holds every frame that did not fail.
    label = tmp_path / "results" / "label"
    n_data = len(read(label / "dataset.extxyz", index=":"))
    n_fail = len((label / "failures.csv").read_text().splitlines()) - 1
    assert n_data + n_fail == sum(cfg["label"]["counts"].values())
    qeq = tmp_path / "results" / "qeq"
    for path in ("charge_profile.png", "electrode_totals.csv"):
        assert (qeq / path).stat().st_size > 0
    summary = {
        mode: json.loads((qeq / mode / "summary.json").read_text())
        for mode in ("constq", "constp")
    }
    for data in summary.values():
        assert abs(data["total_charge_e"]) < 1e-8  # CG to tol 1e-8
        assert data["residual"] <= 1e-8
    anode = {m: d["parts"]["anode"]["total_e"] for m, d in summary.items()}
    counter = {m: d["parts"]["counter"]["total_e"] for m, d in summary.items()}
    assert anode["constp"] < anode["constq"]
    assert counter["constp"] > counter["constq"]
    # Training: two packaged models with their QEq settings, metrics per category.
    train = tmp_path / "results" / "train"
    for seed in cfg["train"]["seeds"]:
        assert (train / "models" / str(seed) / "model.nequip.zip").stat().st_size > 0
        assert (train / "models" / str(seed) / "qeq.json").stat().st_size > 0
    assert "category" in (train / "metrics.csv").read_text().splitlines()[0]
    # Active learning: two explorations, candidates carved to <= 60 atoms
    # (the trust window holds every frame), labelled, merged and retrained.
    active = tmp_path / "results" / "active"
    fractions = (active / "fractions.csv").read_text().splitlines()
    assert {row.split(",")[0] for row in fractions[1:]} == {"0", "1"}
    base = read(label / "dataset.extxyz", index=":")
    merged = read(active / "iter001" / "dataset.extxyz", index=":")
    added = [a for a in merged if a.info["category"] == "active"]
    assert len(added) == 2 and len(merged) == len(base) + 2
    assert all(len(a) <= 60 and a.info["sample_index"] >= 10**6 for a in added)
    report = json.loads((active / "iter000" / "report.json").read_text())
    assert report["overall"]["n_candidate"] == report["overall"]["n_frames"]
    # MD: every run of the sweep, with charges that respond to the potential,
    # run by the last iteration's models.
    md, starts = {}, {}
    for system in cfg["md"]["systems"]:
        for run in ("constp_0.0V_r0", "constp_-6.0V_r0", "constq_none_r0"):
            folder = tmp_path / "results" / "md" / system / run
            frames = read(folder / "traj.extxyz", index=":")
            assert len(frames) >= 2
            for frame in frames:
                assert abs(frame.get_charges().sum()) < 1e-5  # 8 decimals in file
            md[system, run] = frames[0].info["anode_charge_e"]
            starts.setdefault(system, frames[0].positions)
            # one start per system: every run's first frame is the same state
            assert abs(frames[0].positions - starts[system]).max() < 1e-6
            run_summary = json.loads((folder / "summary.json").read_text())
            # The job ran the .test config's settings, not the demo's.
            assert run_summary["settings"]["n_steps"] == cfg["md"]["n_steps"] == 20
            # relaxed once, in the system's constant-charge start
            assert run_summary["settings"]["relax_steps"] == 0
            start = tmp_path / "results" / "md" / system / "start" / "summary.json"
            assert json.loads(start.read_text())["settings"]["relax_steps"] == 10
            # the paper's metallic rule: >= 8 Li within 3.5 A, no exclusion
            assert run_summary["calculator"]["metallic_rule"]["exclude"] == []
            models = [m["path"] for m in run_summary["inputs"]["models"]]
            assert models and all("active/iter001/train" in m for m in models)
        assert md[system, "constp_-6.0V_r0"] < md[system, "constp_0.0V_r0"]
        assert md[system, "constp_-6.0V_r0"] < md[system, "constq_none_r0"]
    # Variants run beside the paper's model: the anion exclusion on the
    # paper's models, the molecule charges on models of their own.
    variants = tmp_path / "results" / "variants"
    for name, change in cfg["variants"].items():
        for run in ("constp_-6.0V_r0", "constq_none_r0"):
            folder = variants / name / "md" / "mosaic_amorphous" / run
            run = json.loads((folder / "summary.json").read_text())
            rule = run["calculator"]["metallic_rule"]
            assert rule["exclude"] == change.get("md", {}).get("metallic_exclude", [])
            assert rule["cutoff_A"] == change.get("md", {}).get(
                "metallic_cutoff_A", 3.5
            )
        assert (variants / name / "paper_claims.md").stat().st_size > 0
    own = variants / "molecule_charges" / "train" / "models" / "0" / "qeq.json"
    assert json.loads(own.read_text())["molecule_charges"] == {
        "EC": 0,
        "DMC": 0,
        "PF6": -1,
    }
    comparison = (tmp_path / "results" / "variants.md").read_text()
    assert "anion_exclusion" in comparison and "molecule_charges" in comparison
    # The miniature: the same start at constant potential and charge.
    mini = json.loads(
        (tmp_path / "results" / "miniature" / "miniature.json").read_text()
    )
    assert json.dumps(mini).count("constp") and json.dumps(mini).count("constq")
    assert (tmp_path / "results" / "miniature" / "miniature.png").stat().st_size > 0
    # Analysis: every figure, the summary and the claims.
    for name in ("summary.json", "summary.md", "paper_claims.md"):
        assert (tmp_path / "results" / name).stat().st_size > 0
    figures = sorted((tmp_path / "results" / "figures").glob("*.png"))
    assert len(figures) >= 9, figures


def _checkpoint_step(path):
    """Step of an MD checkpoint file, or -1 while there is none (or mid-rename)."""
    import numpy as np

    try:
        with np.load(path) as data:
            return int(data["step"])
    except (OSError, KeyError, ValueError):
        return -1


def _wait_for_checkpoint(path, step, proc, timeout_s=600.0):
    """Poll (10 ms) until the checkpoint at ``path`` reaches ``step``.

    False if ``proc`` ended first (the run was too fast to be killed mid-way).
    """
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if _checkpoint_step(path) >= step:
            return True
        time.sleep(0.01)
    return False


def _md_child(run_dir):
    """PID of the `constpot md` process with ``--outdir run_dir`` (from /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [w.decode(errors="replace") for w in argv]
        if (
            "md" in words
            and str(run_dir) in words
            and any(w.endswith("constpot") for w in words)
        ):
            return int(entry.name)
    return None


#: The MD run of the end-to-end workflow that the kill tests interrupt.
KILLED_RUN = Path("results/md/crystalline/constq_none_r0")
#: The .test models (two epochs) heat a run past the temperature guard within
#: two 1-fs steps; the kill tests need all 20 steps: 0.05-fs steps, a wide
#: guard and a 20-step start.
KILL_CONFIG = (
    "--config",
    "md={timestep_fs: 0.05, equilibrate_ps: 0.001, "
    "guards: {max_temperature_factor: 1000.0}}",
)


@pytest.fixture(scope="module")
def uninterrupted_md(end_to_end):
    """Trajectory and thermo table of KILLED_RUN run through without a kill."""
    target = str(KILLED_RUN / "summary.json")
    proc = snakemake(end_to_end, target, "--cores", "1", *TEST_CONFIG, *KILL_CONFIG)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    folder = end_to_end / KILLED_RUN
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 20
    return {n: (folder / n).read_bytes() for n in ("traj.extxyz", "thermo.csv")}


@pytest.mark.slow
@pytest.mark.parametrize("kill", ["sigint_snakemake", "sigkill_md"])
def test_killed_md_job_resumes_to_the_same_trajectory(
    end_to_end, uninterrupted_md, kill
):
    """Kill a workflow's MD job after its step-10 checkpoint (of 20 steps): Ctrl-C
    to snakemake's process group, or SIGKILL of the `constpot md` child (an
    OOM or wall-time kill). Snakemake deletes the job's declared outputs; the
    rerun resumes from the checkpoint (md.log says so) and writes a trajectory
    and thermo table byte-identical to the uninterrupted run's."""
    import shutil
    import signal

    tmp_path = end_to_end
    folder = tmp_path / KILLED_RUN
    reference = uninterrupted_md
    shutil.rmtree(folder)
    # the target first: --configfile takes every word up to the next option
    target = str(KILLED_RUN / "summary.json")
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.Popen(
        [str(BIN / "snakemake"), target, "--cores", "1", *TEST_CONFIG, *KILL_CONFIG],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        reached = _wait_for_checkpoint(folder / "checkpoint.npz", 10, proc)
        assert reached, "the run ended before its step-10 checkpoint could be seen"
        if kill == "sigint_snakemake":
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        else:
            child = _md_child(KILLED_RUN)  # as the rule passes it: relative
            assert child is not None, "constpot md child not found"
            os.kill(child, signal.SIGKILL)
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0
    summary = folder / "summary.json"
    if kill == "sigint_snakemake":
        # constpot md ended after the step in progress with its checkpoint
        # (md.log, not a declared output, says so). snakemake keeps the
        # outputs, marked incomplete, or, when the job's exit reaches it
        # before its own SIGINT does, deletes them as a failed job's: a race
        # between the two processes of the group, either way resumable.
        log = (folder / "md.log").read_text()
        assert re.search(r"SIGINT received: stopped after step (\d+) of 20", log)
        if summary.exists():
            stopped = json.loads(summary.read_text())
            assert stopped["status"] == "segment" and stopped["steps"] < 20
            assert stopped["interrupted_by"] == "SIGINT"
    else:  # the job failed: snakemake deleted its declared outputs
        assert not summary.exists()
    rerun = snakemake(
        tmp_path, target, "--cores", "1", "--rerun-incomplete", *TEST_CONFIG,
        *KILL_CONFIG,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    resumed = re.findall(r"resuming at step (\d+)", (folder / "md.log").read_text())
    assert resumed and 10 <= int(resumed[-1]) < 20, resumed
    for name, data in reference.items():
        assert (folder / name).read_bytes() == data, name


#: The crystalline runs of the .test sweep, in the sweep's order.
BATCHED_RUNS = ("constp_0.0V_r0", "constp_-6.0V_r0", "constq_none_r0")


@pytest.mark.slow
def test_batched_sweep_writes_each_runs_files_of_single_jobs(end_to_end, tmp_path):
    """md.batch: 3 runs crystalline's three runs (0 V, −6 V, constq) as one
    `constpot md-batch` job (rule md_batch_0): every run's trajectory and
    thermo table are those of its single `constpot md` job byte for byte (on
    CPU cores the frames go through the model one by one and each charge
    solve is the run's own)."""
    import shutil

    work = tmp_path / "wf"
    shutil.copytree(end_to_end, work, symlinks=True)
    md = (
        "md={timestep_fs: 0.05, equilibrate_ps: 0.001, "
        "guards: {max_temperature_factor: 1000.0}%s}"
    )
    runs = [f"results/md/crystalline/{n}" for n in BATCHED_RUNS]
    targets = [f"{run}/summary.json" for run in runs]
    single = snakemake(
        work, *targets, "--cores", "1", *TEST_CONFIG, "--config", md % ""
    )
    assert single.returncode == 0, single.stdout[-3000:] + single.stderr[-3000:]
    names = ("traj.extxyz", "thermo.csv")
    alone = {(run, n): (work / run / n).read_bytes() for run in runs for n in names}
    for run in runs:  # else --resume auto finds each run complete
        shutil.rmtree(work / run)
    batched = snakemake(
        work, *targets, "--cores", "1", *TEST_CONFIG, "--config", md % ", batch: 3",
        "--forcerun", "md_batch_0",
    )  # fmt: skip
    out = batched.stdout + batched.stderr
    assert batched.returncode == 0, out[-3000:]
    assert re.search(r"md_batch_0\s+1\n", out)  # the job stats: one batched job
    for (run, name), data in alone.items():
        assert (work / run / name).read_bytes() == data, (run, name)
        summary = json.loads((work / run / "summary.json").read_text())
        assert summary["status"] == "completed" and summary["steps"] == 20
    log = (work / "results/md/crystalline/batch_logs/md_batch_0.log").read_text()
    assert "batch: 3 runs, 21 rounds of 3" in log
