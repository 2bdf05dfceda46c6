"""The Snakemake workflow: lint, formatting and config plumbing.

Dry runs check that the config Snakemake resolves (a user's --configfile
instead of the demo's, --config overrides on top) is what each job is given;
two slow tests run one real build job each on a copy of the workflow (with
another config, and with the paper's). The whole chain runs in
test_workflow.py; the two files run side by side under pytest-xdist.
"""

import json
import subprocess

import numpy as np
import pytest
import yaml
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write
from workflow_helpers import BIN, ROOT, copy_workflow, snakemake

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
    copy_workflow(tmp_path)
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(SMALL))
    proc = snakemake(tmp_path, "-n", "-p", "--configfile", "small.yaml")
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
    copy_workflow(tmp_path)
    proc = snakemake(
        tmp_path, "-n", "-p", "--config", "md={n_steps: 7, tol: 1e-7}", "seed=4"
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    configs = _job_configs(out, "md") + _job_configs(out, "md-batch")
    # the demo sweep (overrides merge onto the demo): 3 systems x (2 potentials
    # + constq) x 2 replicas of the paper's model in md.batch: 3 jobs of three
    # runs, 2 runs of its anion_exclusion variant and 2 of its shell_gap_rule
    # variant (1 replica), single jobs
    assert len(configs) == 18 // 3 + 2 + 2
    for config in configs:
        assert config["md"]["n_steps"] == 7
        assert config["md"]["tol"] == 1e-7
        assert config["md"]["seed"] == 4  # md.seed defaults to the master seed
        assert config["md"]["timestep_fs"] == 1.0


def test_batched_sweep_groups_each_systems_runs_into_md_batch_jobs(tmp_path):
    """md.batch: 3 puts the demo's 6 paper runs of each system into two
    `constpot md-batch` jobs of 3 (the sweep's order), with the job config of
    a single run; the variants' runs stay single `constpot md` jobs."""
    import shlex

    copy_workflow(tmp_path)
    proc = snakemake(tmp_path, "-n", "-p", "--config", "md={batch: 3}")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    batches = {}
    for line in out.splitlines():
        if " constpot md-batch " in f" {line.strip()} ":
            words = shlex.split(line.strip())
            runs = words[words.index("--runs") + 1 : words.index("--threads")]
            outroot = words[words.index("--outroot") + 1]
            batches.setdefault(outroot, []).append(runs)
    assert sorted(batches) == [
        f"results/md/{s}" for s in ("crystalline", "mosaic_amorphous", "no_sei")
    ]
    for groups in batches.values():
        assert sorted(groups) == [
            ["constp_0.0V_r0", "constp_-6.0V_r0", "constq_none_r0"],
            ["constp_0.0V_r1", "constp_-6.0V_r1", "constq_none_r1"],
        ]
    single = _job_configs(out, "md")
    assert len(single) == 2 + 2  # the two variants' runs
    batched = _job_configs(out, "md-batch")
    assert len(batched) == 6
    assert all("batch" not in c["md"] for c in single + batched)


def test_every_run_of_a_system_starts_from_one_equilibration(tmp_path):
    """md.equilibrate_ps > 0: one constq equilibration per system (and model set),
    relaxed there; every potential and replica starts from its last frame."""
    import shlex

    copy_workflow(tmp_path)
    proc = snakemake(tmp_path, "-n", "-p", "--configfile", ".test/config/config.yaml")
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


def test_demo_validates_one_constant_charge_run_per_system(tmp_path):
    """analysis.validation_replicas: 1 (the demo): each system's constq run r0
    has its ends labelled by the config's labeller, and the summary reads the
    drift table; 0 (the schema's default) plans none of it."""
    import shlex

    copy_workflow(tmp_path)
    proc = snakemake(tmp_path, "-n", "-p")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    lines = [line for line in out.splitlines() if "constpot validation-frames " in line]
    frames = sorted(
        words[words.index("--runs") + 1]
        for words in (shlex.split(line.split("&&")[0]) for line in lines)
    )
    assert frames == [
        f"{s}/constq_none_r0=results/md/{s}/constq_none_r0/traj.extxyz"
        for s in ("crystalline", "mosaic_amorphous", "no_sei")
    ]
    for line in lines:  # then the config's labeller labels them
        words = shlex.split(line.split("&&")[1].replace(")", " "))
        config = json.loads(words[words.index("--config-json") + 1])
        assert config["label"]["labeller"]["kind"] == "teacher"
    summaries = [line for line in out.splitlines() if "constpot summarise " in line]
    paper = [line for line in summaries if "results/summary.json" in line]
    assert len(paper) == 1
    assert "--validation results/validation/drift.csv" in paper[0]
    assert all("--validation" not in line for line in summaries if line not in paper)
    proc = snakemake(
        tmp_path, "-n", "-p", "--config", "analysis={validation_replicas: 0}"
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "constpot validation-" not in out and "results/validation/" not in out


def test_bad_config_stops_before_any_job(tmp_path):
    copy_workflow(tmp_path)
    bad = {**SMALL, "md": {"n_step": 5}}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    proc = snakemake(tmp_path, "-n", "--configfile", "bad.yaml")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "bad.yaml: md.n_step: unknown key (did you mean n_steps?)" in out


def test_paper_config_plans_the_paper_sweep(tmp_path):
    """The paper config's DAG: 3 systems x 3 replicas x (3 potentials + constq),
    for the paper's model and for each variant beside it."""
    copy_workflow(tmp_path)
    proc = snakemake(tmp_path, "-n", "-p", "--configfile", "config/paper.yaml")
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


def test_small_dft_config_labels_in_shards_or_reads_committed_frames(tmp_path):
    """config/dft_small.yaml labels its committed <= 60-atom frames with the
    paper's DFT in 8 shards (without them it samples), or, given
    label.dataset, merges that file and runs neither sample nor label."""
    copy_workflow(tmp_path)
    target = "results/train/metrics.csv"
    args = ("-n", "-p", target, "--configfile", "config/dft_small.yaml")
    proc = snakemake(tmp_path, *args)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert not _job_configs(out, "sample")
    labels = _job_configs(out, "label")
    assert len(labels) == 8
    assert {t["label"]["max_atoms"] for t in labels} == {60}
    assert {t["label"]["labeller"]["kind"] for t in labels} == {"gpaw"}
    assert "--frames data/dft_small/frames.extxyz" in out
    assert "results/label/shards/7.extxyz" in out
    # Without the committed frames the sample rule makes them.
    config = tmp_path / "config" / "dft_small.yaml"
    text = config.read_text()
    config.write_text(text.replace("  frames: data/dft_small/frames.extxyz\n", ""))
    proc = snakemake(tmp_path, *args)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    (sample,) = _job_configs(out, "sample")
    assert sample["label"]["max_atoms"] == 60
    assert "--frames results/label/frames.extxyz" in out

    committed = tmp_path / "data" / "frames.extxyz"
    frames = []
    for k, category in enumerate(["li_bulk", "electrolyte", "li_bulk"]):
        atoms = Atoms("Li2", positions=[[0, 0, 0], [1.7, 1.7, 1.7]], cell=[3.4] * 3)
        atoms.pbc = True
        atoms.info.update(category=category, sample_index=k)
        forces = np.full((2, 3), 0.1 * k)
        atoms.calc = SinglePointCalculator(atoms, energy=-3.0 - k, forces=forces)
        frames.append(atoms)
    write(committed, frames, format="extxyz")
    (tmp_path / "data" / "frames.failures.csv").write_text(
        "sample_index,category,n_atoms,reason\n3,li_surface,16,scf_not_converged\n"
    )
    given = ("--config", "label={dataset: data/frames.extxyz}")
    proc = snakemake(tmp_path, *args, *given)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert not _job_configs(out, "sample") and not _job_configs(out, "label")
    assert "constpot dataset --shards data/frames.extxyz" in out
    assert "--shard-failures data/frames.failures.csv" in out
    # The dataset rule really merges the committed frames, nothing else.
    summary = "results/label/summary.csv"
    proc = snakemake(
        tmp_path, "--cores", "1", summary, "--configfile", *args[-1:], *given
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    merged = read(tmp_path / "results/label/dataset.extxyz", ":")
    assert [a.get_potential_energy() for a in merged] == [-3.0, -4.0, -5.0]
    rows = (tmp_path / summary).read_text().splitlines()
    assert [r.split(",")[:2] for r in rows[1:]] == [
        ["li_bulk", "2"],
        ["electrolyte", "1"],
    ]
    failures = (tmp_path / "results/label/failures.csv").read_text()
    assert "scf_not_converged" in failures


@pytest.mark.slow
def test_workflow_builds_with_another_config(tmp_path):
    """A real build job through the workflow uses the given config and override."""
    copy_workflow(tmp_path)
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(SMALL))
    target = "results/build/small/interface.json"
    args = ("--cores", "1", target, "--configfile", "small.yaml")
    proc = snakemake(tmp_path, *args, "--config", "systems={small: {seed: 5}}")
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


@pytest.mark.slow
def test_paper_config_builds_the_paper_interface(tmp_path):
    """`--configfile config/paper.yaml` builds no_sei at the paper preset's size."""
    from constpot.build.recipe import PRESETS

    copy_workflow(tmp_path)
    target = "results/build/no_sei/interface.json"
    args = ("--cores", "1", target, "--configfile", "config/paper.yaml")
    proc = snakemake(tmp_path, *args)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    info = json.loads((tmp_path / target).read_text())
    li = PRESETS["paper"]["li"]
    per_layer = li["lateral_reps"][0] * li["lateral_reps"][1]  # bcc(100): 1 Li/cell
    assert info["recipe"]["preset"] == "paper"
    assert info["regions"]["anode"] == per_layer * li["layers"]
    counter = PRESETS["paper"]["counter_electrode"]["layers"]
    assert info["regions"]["counter"] == per_layer * counter
    assert info["n_atoms"] > 2000  # the demo's no_sei has ~440
