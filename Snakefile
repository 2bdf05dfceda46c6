# constpot: constant-potential QEq electrostatics of Li metal | electrolyte
# interfaces (Hu et al., Nat. Commun. 16, 7379 (2025)).
#
# This file holds only config, schema validation, includes and the default
# target; rules live in workflow/rules/<stage>.smk, helpers in common.smk.
#
#   snakemake --cores 2                                  # demo (config/config.yaml)
#   snakemake --configfile config/paper.yaml \
#       --workflow-profile workflow/profiles/slurm       # paper scale, GPUs


from snakemake.utils import validate


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/build.smk"
include: "workflow/rules/label.smk"
include: "workflow/rules/qeq.smk"


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
