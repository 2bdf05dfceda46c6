# Stage md: constant-potential MD sweeps. One job per run of md_runs()
# (common.smk): for each system and replica, constp at each anode potential
# and one constq control. Each job calls `constpot md`, which reads the md:
# section of the config; params.settings only makes config edits rerun jobs.
# Other helpers in md_common.smk.

import os


include: "md_common.smk"


rule md:
    input:
        structure="results/build/{system}/interface.extxyz",
        models=md_model_files(),
    output:
        traj="results/md/{system}/{mode}_{potential}_r{replica}/traj.extxyz",
        thermo="results/md/{system}/{mode}_{potential}_r{replica}/thermo.csv",
        summary="results/md/{system}/{mode}_{potential}_r{replica}/summary.json",
    log:
        "results/md/{system}/{mode}_{potential}_r{replica}/cli.log",
    benchmark:
        "results/md/{system}/{mode}_{potential}_r{replica}/benchmark.tsv"
    wildcard_constraints:
        system=system_regex(),
        mode="constp|constq",
        potential=r"none|-?\d+(\.\d+)?V",
        replica=r"\d+",
    conda:
        "../../envs/constpot.yaml"
    threads: int(md_config().get("threads", 1))
    resources:
        gpu=int(md_config().get("gpus", 0)),
    params:
        config=config_file(),
        settings=md_settings,
        outdir=lambda wildcards, output: os.path.dirname(output.summary),
    shell:
        "OMP_NUM_THREADS={threads} constpot md {params.config}"
        " --structure {input.structure} --models {input.models}"
        " --mode {wildcards.mode} --potential={wildcards.potential}"
        " --replica {wildcards.replica} --outdir {params.outdir}"
        " --threads {threads} --progress lines > {log} 2>&1"
