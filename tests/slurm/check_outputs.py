"""Checks of a workflow run through the SLURM profile (tests/slurm/run_slurm.sh).

    python check_outputs.py RUN_DIR [SNAKEMAKE_ARG ...]

RUN_DIR is the copy of the repository the workflow ran in. With no target
among the snakemake arguments (the default target, `rule all` of the .test
config), every output of the test config is checked: structures, dataset,
models, each MD run of the sweep, the analysis summary and claims. With
targets, those files are checked. In both cases the jobs that ran must have
gone the intended way: compute rules as SLURM jobs (a log per job under
.snakemake/slurm_logs/rule_<name>/), `localrules` on the submitting host (no
SLURM log). Exit status 0 when every check passes; each failure is printed.
"""

import json
import re
import sys
from pathlib import Path

# Rules of the .test config that run as SLURM jobs, and the local ones; a
# variant's copy (`use rule X as X_variant`) goes the way of its rule.
CLUSTER_RULES = (
    "build",
    "qeq",
    "sample",
    "label_shard",
    "fit_qeq",
    "train_model",
    "package_model",
    "evaluate",
    "md",
    "analyse_run",
)
LOCAL_RULES = (
    "qeq_table",
    "plot_qeq",
    "dataset",
    "train_split",
    "targets",
    "plot_train",
    "figures",
    "summarise",
    "compare_variants",
)


def _targets(args):
    """The file targets among snakemake arguments (not options or their values)."""
    targets, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = "=" not in arg and arg not in ("-n", "-p", "--dry-run")
        elif "/" in arg or "." in arg:
            targets.append(arg)
    return targets


def _full_run_files(run, failures):
    """Every output of the .test config's `rule all`, and the MD summaries."""
    import yaml

    cfg = yaml.safe_load((run / ".test" / "config" / "config.yaml").read_text())
    files = [
        "results/label/dataset.extxyz",
        "results/qeq/charge_profile.png",
        "results/train/metrics.csv",
        "results/train/parity.png",
        "results/summary.json",
        "results/paper_claims.md",
    ]
    files += [f"results/build/{s}/interface.extxyz" for s in cfg["systems"]]
    files += [
        f"results/train/models/{s}/model.nequip.zip" for s in cfg["train"]["seeds"]
    ]
    runs = []
    for system in cfg["md"]["systems"]:
        for psi in cfg["md"]["anode_potentials_V"]:
            runs.append(f"results/md/{system}/constp_{float(psi) + 0.0}V_r0")
        runs.append(f"results/md/{system}/constq_none_r0")
    for folder in runs:
        files += [f"{folder}/traj.extxyz", f"{folder}/summary.json"]
        summary = run / folder / "summary.json"
        if summary.exists():
            data = json.loads(summary.read_text())
            if not isinstance(data, dict) or not data:
                failures.append(f"{folder}/summary.json is empty")
    if cfg.get("variants"):
        files.append("results/variants.md")
        files += [f"results/variants/{name}/summary.json" for name in cfg["variants"]]
    figures = list((run / "results" / "figures").glob("*.png"))
    if len(figures) < 9:
        failures.append(f"results/figures holds {len(figures)} figures, not >= 9")
    return files


def _ran_rules(run):
    """Rule names of the jobs snakemake ran (its log), and those with a SLURM log."""
    ran = set()
    for log in (run / ".snakemake" / "log").glob("*.snakemake.log"):
        ran |= set(re.findall(r"^(?:local)?rule (\w+):", log.read_text(), re.M))
    slurm_logs = run / ".snakemake" / "slurm_logs"
    submitted = {
        p.name.removeprefix("rule_")
        for p in slurm_logs.glob("rule_*")
        if any(p.rglob("*.log"))
    }
    return ran, submitted


def main(argv):
    run = Path(argv[0])
    targets = _targets(argv[1:])
    failures = []
    files = targets or _full_run_files(run, failures)
    for name in files:
        path = run / name
        if not path.is_file() or path.stat().st_size == 0:
            failures.append(f"missing or empty: {name}")
    ran, submitted = _ran_rules(run)
    for rule in sorted(ran):
        base = rule.removesuffix("_variant")
        if base in CLUSTER_RULES and rule not in submitted:
            failures.append(f"rule {rule} ran but not as a SLURM job")
        if base in LOCAL_RULES and rule in submitted:
            failures.append(f"local rule {rule} was submitted to SLURM")
    if not submitted:
        failures.append("no job went through SLURM")
    local = ", ".join(sorted(ran - submitted)) or "none"
    print(f"checked {len(files)} files")
    print(f"rules run as SLURM jobs: {', '.join(sorted(submitted))}")
    print(f"local rules that ran: {local}")
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
