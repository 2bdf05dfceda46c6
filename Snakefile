# constpot: machine-learning enhanced constant-potential MD of Li metal |
# electrolyte interfaces (Hu et al., Nat. Commun. 16, 7379 (2025)).
#
# This file holds only config, schema validation, includes and the default
# target; rules live in workflow/rules/<stage>.smk, helpers in common.smk.
#
#   snakemake --cores 2                                  # demo (config/config.yaml)
#   snakemake --configfile config/paper.yaml \
#       --workflow-profile workflow/profiles/slurm       # paper scale, GPUs
#
# Config: the demo config/config.yaml is read only when no --configfile is
# given, so a user's config replaces it (never merged with it); --config
# overrides apply on top. The result is validated against the package's
# schema and its defaults filled in (constpot.config.resolve_config), and
# each job receives the resolved sections it reads through `params:`.


from constpot.config import resolve_config

if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


config.update(
    resolve_config(
        config,
        " + ".join(map(str, workflow.overwrite_configfiles)) or "config",
        cli_strings=True,
    )
)


include: "workflow/rules/common.smk"
include: "workflow/rules/resources.smk"
include: "workflow/rules/build.smk"
include: "workflow/rules/label.smk"
include: "workflow/rules/qeq.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/md.smk"
include: "workflow/rules/active.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/miniature.smk"


rule all:
    default_target: True
    input:
        expand("results/build/{system}/interface.extxyz", system=systems()),
        expand("results/build/{system}/interface.png", system=systems()),
        "results/label/dataset.extxyz",
        "results/label/summary.csv",
        "results/label/histogram.png",
        expand("results/qeq/{mode}/summary.json", mode=qeq_modes()),
        expand("results/qeq/{mode}/charges.extxyz", mode=qeq_modes()),
        "results/qeq/charge_profile.png",
        "results/qeq/electrode_totals.csv",
        "results/train/metrics.csv",
        "results/train/predictions.csv",
        "results/train/summary.json",
        "results/train/parity.png",
        "results/train/learning_curves.png",
        ["results/train/qeq/fit_report.csv"] if label_charges() else [],
        expand("results/train/models/{seed}/model.nequip.zip", seed=train_seeds()),
        expand("{run}/summary.json", run=md_run_dirs()),
        expand("{run}/traj.extxyz", run=md_run_dirs()),
        expand("{run}/thermo.csv", run=md_run_dirs()),
        analysis_targets(),
        miniature_targets(),
        active_targets(),
