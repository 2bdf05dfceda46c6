"""The Snakemake workflow: lint, formatting, config plumbing, end to end.

Dry runs check that the config Snakemake resolves (a user's --configfile
instead of the demo's, --config overrides on top) is what each job is given;
the slow tests run real jobs on a copy of the workflow: one build with
another config, and the whole chain on the scaled-down .test/ config.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# What `snakemake --lint` (9.x) prints: one "Lints for rule <name> ..." or
# "Lints for snakefile <path>:" header per offending item, and this line
# when nothing is found.
LINT_HEADER = "Lints for "
LINT_CLEAN = "Congratulations, your workflow is in a good condition!"


def _snakemake_lint(cwd):
    proc = subprocess.run(
        [str(BIN / "snakemake"), "-n", "--lint"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_lint_detects_problems(tmp_path):
    # Control for test_workflow_lint_clean: a rule without log/conda and with
    # an absolute path must produce lint headers and a non-zero exit code, so
    # the absence of those markers below really means a clean lint.
    (tmp_path / "Snakefile").write_text(
        "rule a:\n"
        "    output:\n"
        '        "/tmp/a.txt",\n'
        "    shell:\n"
        '        "touch {output}"\n'
    )
    code, out = _snakemake_lint(tmp_path)
    assert code != 0, out
    assert f"{LINT_HEADER}rule a " in out, out
    assert LINT_CLEAN not in out, out


def test_workflow_lint_clean():
    code, out = _snakemake_lint(ROOT)
    assert code == 0, out
    assert LINT_HEADER not in out, out
    assert LINT_CLEAN in out, out


def _copy_workflow(dest):
    """The workflow's files (not results/ or .snakemake/) in a fresh folder."""
    import shutil

    for name in ("Snakefile", "workflow", "config", "data", "envs", ".test"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, symlinks=True)
        else:
            shutil.copy(src, dest / name)
    # workflow/schemas/config.schema.yaml links into the package's source.
    link = dest / "workflow" / "schemas" / "config.schema.yaml"
    link.unlink()
    link.symlink_to(ROOT / "src" / "constpot" / "schemas" / "config.schema.yaml")
    return dest


def _snakemake(cwd, *args, timeout=300):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(
        [str(BIN / "snakemake"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


#: A config other than the demo: one small bare-Li system of its own.
SMALL = {
    "seed": 0,
    "systems": {
        "small": {
            "preset": "demo",
            "seed": 3,
            "sei": {"phase": "none"},
            "li": {"lateral_reps": [3, 3], "layers": 4},
            "counter_electrode": {"layers": 3},
            "electrolyte": {"thickness_A": 12.0},
        }
    },
    "label": {"counts": {"li_bulk": 1}, "n_shards": 1, "labeller": {"kind": "xtb"}},
    "qeq": {},
    "md": {"n_steps": 5},
}


def _job_configs(dry_run_output, command):
    """The --config-json of every `constpot COMMAND` job of a `-n -p` run.

    For `md`, the runs of the sweeps only: not the constant-charge
    equilibrations (`.../start`), the miniature's two runs or active
    learning's explorations.
    """
    import shlex

    found = []
    for line in dry_run_output.splitlines():
        if line.strip().startswith(f"constpot {command} ") or (
            f" constpot {command} " in line
        ):
            words = shlex.split(line)
            if "--outdir" in words:
                outdir = words[words.index("--outdir") + 1]
                if outdir.endswith("/start") or "miniature" in outdir:
                    continue
                if "/active/" in outdir:  # active learning's exploration
                    continue
            found.append(json.loads(words[words.index("--config-json") + 1]))
    return found


def test_other_configfile_replaces_the_demo(tmp_path):
    """`--configfile other.yaml` builds other.yaml's systems, not the demo's."""
    _copy_workflow(tmp_path)
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(SMALL))
    proc = _snakemake(tmp_path, "-n", "-p", "--configfile", "small.yaml")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    builds = _job_configs(out, "build")
    assert [list(b["systems"]) for b in builds] == [["small"]]
    assert builds[0]["systems"]["small"]["electrolyte"] == {"thickness_A": 12.0}
    assert "no_sei" not in out and "mosaic_amorphous" not in out
    # The job gets the resolved md: section, schema defaults included.
    (md,) = {json.dumps(c, sort_keys=True) for c in _job_configs(out, "md")}
    md = json.loads(md)["md"]
    assert md["n_steps"] == 5
    assert md["timestep_fs"] == 1.0  # schema default, not the demo's file


def test_config_override_reaches_the_job(tmp_path):
    """`--config md='{n_steps: 7}'` (text scalars) is what the md job runs."""
    _copy_workflow(tmp_path)
    proc = _snakemake(
        tmp_path, "-n", "-p", "--config", "md={n_steps: 7, tol: 1e-7}", "seed=4"
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    configs = _job_configs(out, "md")
    # the demo sweep (overrides merge onto the demo): 3 systems x (2 potentials
    # + constq) runs of the paper's model, 2 of its anion_exclusion variant and
    # 2 of its shell_gap_rule variant
    assert len(configs) == 9 + 2 + 2
    for config in configs:
        assert config["md"]["n_steps"] == 7
        assert config["md"]["tol"] == 1e-7
        assert config["md"]["seed"] == 4  # md.seed defaults to the master seed
        assert config["md"]["timestep_fs"] == 1.0


def test_every_run_of_a_system_starts_from_one_equilibration(tmp_path):
    """md.equilibrate_ps > 0: one constq equilibration per system (and model set),
    relaxed there; every potential and replica starts from its last frame."""
    import shlex

    _copy_workflow(tmp_path)
    proc = _snakemake(tmp_path, "-n", "-p", "--configfile", ".test/config/config.yaml")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    starts, runs = [], []
    for line in out.splitlines():
        if " constpot md " not in f" {line.strip()} " or "miniature" in line:
            continue
        words = shlex.split(line.strip())
        if "results/active/" in words[words.index("--outdir") + 1]:
            continue  # active learning's explorations start from the build
        config = json.loads(words[words.index("--config-json") + 1])["md"]
        structure = words[words.index("--structure") + 1]
        outdir = words[words.index("--outdir") + 1]
        (starts if outdir.endswith("/start") else runs).append(
            (outdir, structure, config)
        )
    # paper's models: 2 systems; molecule_charges' own models: 1 system
    assert sorted(o for o, _, _ in starts) == [
        "results/md/crystalline/start",
        "results/md/mosaic_amorphous/start",
        "results/variants/molecule_charges/md/mosaic_amorphous/start",
    ]
    for _, structure, config in starts:
        assert structure.startswith("results/build/")
        assert config["relax_steps"] == 10  # the relaxation happens once, here
        assert config["n_steps"] == 10  # 0.01 ps at 1 fs
    for outdir, structure, config in runs:
        system = outdir.split("/")[-2]
        own = outdir.startswith("results/variants/molecule_charges/")
        root = "results/variants/molecule_charges/md" if own else "results/md"
        assert structure == f"{root}/{system}/start/traj.extxyz", outdir
        assert config["relax_steps"] == 0


def test_bad_config_stops_before_any_job(tmp_path):
    _copy_workflow(tmp_path)
    bad = {**SMALL, "md": {"n_step": 5}}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    proc = _snakemake(tmp_path, "-n", "--configfile", "bad.yaml")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "bad.yaml: md.n_step: unknown key (did you mean n_steps?)" in out


def test_paper_config_plans_the_paper_sweep(tmp_path):
    """The paper config's DAG: 3 systems x 3 replicas x (3 potentials + constq),
    for the paper's model and for each variant beside it."""
    _copy_workflow(tmp_path)
    proc = _snakemake(tmp_path, "-n", "-p", "--configfile", "config/paper.yaml")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    md = paper["md"]
    n_runs = len(md["systems"]) * md["replicas"] * (len(md["anode_potentials_V"]) + 1)
    assert n_runs == 36
    variants = paper["variants"]
    assert set(variants) == {"anion_exclusion", "shell_gap_rule", "molecule_charges"}
    runs = _job_configs(out, "md")
    assert len(runs) == n_runs * (1 + len(variants))
    # The paper's rule in 2 x 36 runs (paper, molecule_charges), the
    # exclusion only in the anion_exclusion variant's 36, the 4.0 A cutoff only
    # in the shell_gap_rule variant's 36.
    excluded = [r for r in runs if r["md"]["metallic_exclude"] == ["F", "O"]]
    assert len(excluded) == n_runs
    wide = [r for r in runs if r["md"]["metallic_cutoff_A"] == 4.0]
    assert len(wide) == n_runs
    paper_rule = [
        r
        for r in runs
        if r["md"]["metallic_exclude"] == [] and r["md"]["metallic_cutoff_A"] == 3.5
    ]
    assert len(paper_rule) == 2 * n_runs
    builds = _job_configs(out, "build")
    assert {r["preset"] for b in builds for r in b["systems"].values()} == {"paper"}
    trains = [c for c in _job_configs(out, "train") if "max_epochs" not in c["train"]]
    assert len(trains) == 2 * len(paper["train"]["seeds"])  # paper + own models
    # active learning: each iteration fine-tunes every model of the paper's set
    retrains = [c for c in _job_configs(out, "train") if "max_epochs" in c["train"]]
    iterations = paper["active"]["iterations"]
    assert len(retrains) == iterations * len(paper["train"]["seeds"])
    assert {c["train"]["max_epochs"] for c in retrains} == {
        paper["active"]["retrain_epochs"]
    }
    assert {t["train"]["preset"] for t in trains} == {"paper"}
    tables = _job_configs(out, "qeq-table")
    charges = sorted(json.dumps(t["train"]["molecule_charges"]) for t in tables)
    assert charges == ['{"DMC": 0, "EC": 0, "PF6": -1}', "{}"]
    assert "results/variants.md" in out


@pytest.mark.slow
def test_workflow_builds_with_another_config(tmp_path):
    """A real build job through the workflow uses the given config and override."""
    _copy_workflow(tmp_path)
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(SMALL))
    target = "results/build/small/interface.json"
    args = ("--cores", "1", target, "--configfile", "small.yaml")
    proc = _snakemake(tmp_path, *args, "--config", "systems={small: {seed: 5}}")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    info = json.loads((tmp_path / target).read_text())
    assert info["recipe"]["seed"] == 5  # the --config override
    assert info["recipe"]["li"]["lateral_reps"] == [3, 3]  # small.yaml
    # 3 x 3 bcc(100) cells: 4 anode and 3 counter layers of 9 Li each.
    assert info["regions"]["anode"] == 4 * 9
    assert info["regions"]["counter"] == 3 * 9


def test_snakefmt_clean():
    files = [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]
    assert len(files) > 1
    proc = subprocess.run(
        [str(BIN / "snakefmt"), "--check", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


#: The scaled-down config of .test/ (the demo labels ~160 frames; here three
#: per category, so that the stratified split has validation and test
#: frames), given the way a user gives theirs.
TEST_CONFIG = ("--configfile", ".test/config/config.yaml")


@pytest.fixture(scope="module")
def end_to_end(tmp_path_factory):
    """A copy of the workflow after `snakemake --cores 2` on the .test config."""
    tmp_path = _copy_workflow(tmp_path_factory.mktemp("e2e"))
    proc = _snakemake(tmp_path, "--cores", "2", *TEST_CONFIG, timeout=900)
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
    report = _snakemake(
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
    proc = _snakemake(end_to_end, target, "--cores", "1", *TEST_CONFIG, *KILL_CONFIG)
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
    rerun = _snakemake(
        tmp_path, target, "--cores", "1", "--rerun-incomplete", *TEST_CONFIG,
        *KILL_CONFIG,
    )  # fmt: skip
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    resumed = re.findall(r"resuming at step (\d+)", (folder / "md.log").read_text())
    assert resumed and 10 <= int(resumed[-1]) < 20, resumed
    for name, data in reference.items():
        assert (folder / name).read_bytes() == data, name


@pytest.mark.slow
def test_paper_config_builds_the_paper_interface(tmp_path):
    """`--configfile config/paper.yaml` builds no_sei at the paper preset's size."""
    from constpot.build.recipe import PRESETS

    _copy_workflow(tmp_path)
    target = "results/build/no_sei/interface.json"
    args = ("--cores", "1", target, "--configfile", "config/paper.yaml")
    proc = _snakemake(tmp_path, *args)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    info = json.loads((tmp_path / target).read_text())
    li = PRESETS["paper"]["li"]
    per_layer = li["lateral_reps"][0] * li["lateral_reps"][1]  # bcc(100): 1 Li/cell
    assert info["recipe"]["preset"] == "paper"
    assert info["regions"]["anode"] == per_layer * li["layers"]
    counter = PRESETS["paper"]["counter_electrode"]["layers"]
    assert info["regions"]["counter"] == per_layer * counter
    assert info["n_atoms"] > 2000  # the demo's no_sei has ~440
