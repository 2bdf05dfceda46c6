# Helpers of the analysis stage (functions only; rules in analysis.smk).
# Needs md_runs() from common.smk: dicts with system, mode, potential, replica.

import json
import os
import re

ANALYSIS_TABLES = (
    "deposition",
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
PREDICTIONS = "results/train/predictions.csv"
MD_RUN_NAME = re.compile(r"^(constp|constq)_[^/_]+_r\d+$")


def md_run_name(run):
    """Folder name {mode}_{potential}_r{replica}; a numeric potential -> '-6.0V'."""
    potential = run["potential"]
    if not isinstance(potential, str):
        potential = f"{float(potential)}V"
    return f"{run['mode']}_{potential}_r{run['replica']}"


def analysis_run_dirs():
    """Analysis folders of the configured MD runs (md_runs() of common.smk)."""
    return [f"results/analysis/{run['system']}/{md_run_name(run)}" for run in md_runs()]


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


def analysis_settings_json():
    """The config's `analysis:` section for `analyse-run --settings` (JSON)."""
    section = dict(config.get("analysis") or {})
    section.pop("claims", None)
    return json.dumps(section, sort_keys=True)


def analysis_targets():
    """Targets of the default run: every figure, the summary and the claims."""
    return [f"results/figures/{stem}.png" for stem in ANALYSIS_FIGURES] + [
        "results/summary.json",
        "results/summary.md",
        "results/paper_claims.md",
    ]
