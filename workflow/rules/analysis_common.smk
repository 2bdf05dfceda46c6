# Helpers of the analysis stage (functions only; rules in analysis.smk).
# Needs md_runs() from common.smk: dicts with system, mode, potential, replica.

import json
import os
import re

ANALYSIS_TABLES = (
    "deposition",
    "events",
    "profiles",
    "surface",
    "height_maps",
    "clusters",
    "cluster_sizes",
    "msd",
    "diffusion",
)
# Figure stems: constpot.analysis.FIGURES (file names) and the captions
# workflow/report/analysis_<stem>.rst.
ANALYSIS_FIGURES = (
    "deposition_vs_time",
    "deposition_vs_potential",
    "height_maps",
    "surface_roughness",
    "li_clusters",
    "potential_profiles",
    "electrode_charge",
    "parity",
    "li_msd",
)
# Test-set predictions of the models the paper's MD runs (claim 5).
PREDICTIONS = f"{production_train_dir()}/predictions.csv"
MD_RUN_NAME = re.compile(r"^(constp|constq)_[^/_]+_r\d+$")


def md_run_name(run):
    """Folder name {mode}_{potential}_r{replica}; a numeric potential -> '-6.0V'."""
    potential = run["potential"]
    if not isinstance(potential, str):
        potential = f"{float(potential)}V"
    return f"{run['mode']}_{potential}_r{run['replica']}"


def analysis_run_dirs(variant=PAPER):
    """Analysis folders of a model's MD runs (md_runs() of common.smk)."""
    root = variant_dir(variant)
    return [
        f"{root}/analysis/{run['system']}/{md_run_name(run)}"
        for run in md_runs(variant)
    ]


def variant_predictions(variant):
    """Test-set predictions of the models a variant runs (claim 5)."""
    return f"{production_train_dir(variant)}/predictions.csv"


def variant_summaries():
    """summary.json of the paper's model, then of every variant."""
    return ["results/summary.json"] + [
        f"results/variants/{v}/summary.json" for v in variants()
    ]


def variant_descriptions():
    """One line per variant (config variants.<name>.description), as JSON."""
    return json.dumps(
        {v: config["variants"][v].get("description", "") for v in variants()},
        sort_keys=True,
    )


def synced_run_dirs():
    """Analysis folders of every MD run found under results/md (DAG time)."""
    found = glob_wildcards("results/md/{system}/{run}/traj.extxyz")
    return sorted(
        {
            f"results/analysis/{system}/{run}"
            for system, run in zip(found.system, found.run)
            if "/" not in system and MD_RUN_NAME.match(run)
        }
    )


def analysis_tables(run_dirs):
    """Every per-run table (and run.json) of the given analysis folders."""
    return [
        f"{run_dir}/{name}"
        for run_dir in run_dirs
        for name in (*(f"{t}.csv" for t in ANALYSIS_TABLES), "run.json")
    ]


def existing_predictions(wildcards):
    """The training predictions table if it exists (paper_figures only)."""
    return [PREDICTIONS] if os.path.exists(PREDICTIONS) else []


def analysis_reference(wildcards):
    """The constq run of the same model, system and replica: its first frame
    gives each atom's constant-charge reference charge for Δq (constp only)."""
    variant = wildcards.get("variant", PAPER)
    if wildcards.mode != "constp" or not variant_md(variant).get("constq"):
        return []
    root = variant_dir(variant)
    run = f"{wildcards.system}/constq_none_r{wildcards.replica}"
    return [f"{root}/md/{run}/traj.extxyz"]


def analysis_settings_json():
    """The config's `analysis:` section for `analyse-run --settings` (JSON)."""
    section = dict(config["analysis"])
    section.pop("claims", None)
    section.pop("validation_replicas", None)  # the summary's, not a run's
    return json.dumps(section, sort_keys=True)


def analysis_job_config():
    """Config of `figures` and `summarise`: analysis: and the systems' recipes."""
    return job_config(analysis=config["analysis"], systems=config.get("systems") or {})


VALIDATION_DRIFT = "results/validation/drift.csv"


def validation_runs():
    """Constant-charge runs of the paper's model whose first and last frames
    are labelled by the reference (analysis.validation_replicas: replicas
    0 .. n-1 of each system; 0, the schema's default, validates none)."""
    n = int(config["analysis"].get("validation_replicas", 0))
    return [
        f"{run['system']}/{md_run_name(run)}"
        for run in md_runs()
        if run["mode"] == "constq" and int(run["replica"]) < n
    ]


def validation_inputs():
    """The drift table for `summarise` (claim 5), or nothing."""
    return {"validation": VALIDATION_DRIFT} if validation_runs() else {}


def validation_argument(wildcards, input):
    """`summarise --validation` when the runs are validated."""
    return f"--validation {input.validation}" if "validation" in input.keys() else ""


def analysis_targets():
    """Targets of the default run: every figure, the summary and the claims,
    and with variants their summaries and the comparison with the paper's."""
    targets = [f"results/figures/{stem}.png" for stem in ANALYSIS_FIGURES] + [
        "results/summary.json",
        "results/summary.md",
        "results/paper_claims.md",
    ]
    if variants():
        targets += variant_summaries()[1:] + [
            "results/variants.md",
            "results/variants.csv",
        ]
    return targets
