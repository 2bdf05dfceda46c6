# Stage md: constant-potential MD sweeps. One job per run of md_runs()
# (common.smk): for each system and replica, constp at each anode potential
# and one constq control. Each job calls `constpot md` with the resolved md:
# keys a run depends on (params.config). With md.equilibrate_ps > 0 every run
# of a system starts from one constant-charge equilibration (rule
# equilibrate, results/md/{system}/start/). md_variant runs a variant of the
# paper's model (config variants:) into results/variants/{variant}/md/.
# Other helpers in md_common.smk.

import os


include: "md_common.smk"


rule equilibrate:
    input:
        structure="results/build/{system}/interface.extxyz",
        models=md_model_files(),
    output:
        traj="results/md/{system}/start/traj.extxyz",
        thermo="results/md/{system}/start/thermo.csv",
        summary="results/md/{system}/start/summary.json",
    log:
        "results/md/{system}/start/cli.log",
    benchmark:
        "results/md/{system}/start/benchmark.tsv"
    wildcard_constraints:
        system=system_regex(),
    # Every run of a system waits for its start: run the starts first, so
    # the runs then fill the cores evenly.
    priority: 10
    conda:
        "../../envs/constpot.yaml"
    threads: md_config().get("threads", 1)
    resources:
        gpu=job_gpus("md"),
        mem_mb=md_mem_mb,
        runtime=md_runtime,
    params:
        config=job_config(seed=config["seed"], md=equilibration_settings()),
        outdir=lambda wildcards, output: os.path.dirname(output.summary),
    shell:
        "OMP_NUM_THREADS={threads} constpot md --config-json {params.config:q}"
        " --structure {input.structure} --models {input.models}"
        " --mode constq --potential=none --replica 0 --outdir {params.outdir}"
        " --threads {threads} --resume auto --progress lines > {log} 2>&1"


use rule equilibrate as equilibrate_variant with:
    input:
        structure="results/build/{system}/interface.extxyz",
        models=lambda wildcards: md_model_files(wildcards.variant),
    output:
        traj="results/variants/{variant}/md/{system}/start/traj.extxyz",
        thermo="results/variants/{variant}/md/{system}/start/thermo.csv",
        summary="results/variants/{variant}/md/{system}/start/summary.json",
    log:
        "results/variants/{variant}/md/{system}/start/cli.log",
    benchmark:
        "results/variants/{variant}/md/{system}/start/benchmark.tsv"
    wildcard_constraints:
        variant=variant_regex(),
        system=system_regex(),
    params:
        config=lambda wildcards: job_config(
            seed=config["seed"], md=equilibration_settings(wildcards.variant)
        ),
        outdir=lambda wildcards, output: os.path.dirname(output.summary),


rule md:
    input:
        structure=md_structure,
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
    priority: MD_PRIORITY
    conda:
        "../../envs/constpot.yaml"
    threads: md_config().get("threads", 1)
    resources:
        gpu=job_gpus("md"),
        mem_mb=md_mem_mb,
        runtime=md_runtime,
    params:
        config=job_config(seed=config["seed"], md=md_settings()),
        outdir=lambda wildcards, output: os.path.dirname(output.summary),
    shell:
        "OMP_NUM_THREADS={threads} constpot md --config-json {params.config:q}"
        " --structure {input.structure} --models {input.models}"
        " --mode {wildcards.mode} --potential={wildcards.potential}"
        " --replica {wildcards.replica} --outdir {params.outdir}"
        " --threads {threads} --resume auto --progress lines > {log} 2>&1"


# Batched sweeps (md.batch > 1): the runs of each system in jobs of md.batch
# runs, one `constpot md-batch` process each, which advances them together
# (one model call and one charge solve per step for all). Same run folders as
# rule md, which they take precedence over; the paper's model only.
for k, names in enumerate(md_batch_names()):

    rule:
        name:
            f"md_batch_{k}"
        input:
            structure=md_structure,
            models=md_model_files(),
        output:
            traj=[f"results/md/{{system}}/{n}/traj.extxyz" for n in names],
            thermo=[f"results/md/{{system}}/{n}/thermo.csv" for n in names],
            summary=[f"results/md/{{system}}/{n}/summary.json" for n in names],
        log:
            f"results/md/{{system}}/batch_logs/md_batch_{k}.log",
        benchmark:
            f"results/md/{{system}}/batch_logs/md_batch_{k}.tsv"
        wildcard_constraints:
            system=system_regex(),
        priority: MD_PRIORITY
        conda:
            "../../envs/constpot.yaml"
        threads: md_config().get("threads", 1)
        resources:
            gpu=job_gpus("md"),
            mem_mb=md_batch_mem_mb(len(names)),
            runtime=md_batch_runtime(len(names)),
        params:
            config=job_config(seed=config["seed"], md=md_settings()),
            outroot=lambda wildcards: f"results/md/{wildcards.system}",
            runs=" ".join(names),
        shell:
            "OMP_NUM_THREADS={threads} constpot md-batch --config-json {params.config:q}"
            " --structure {input.structure} --models {input.models}"
            " --outroot {params.outroot} --runs {params.runs}"
            " --threads {threads} --resume auto > {log} 2>&1"

    workflow.ruleorder(f"md_batch_{k}", "md")


use rule md as md_variant with:
    input:
        structure=md_structure,
        models=lambda wildcards: md_model_files(wildcards.variant),
    output:
        traj="results/variants/{variant}/md/{system}/{mode}_{potential}_r{replica}/traj.extxyz",
        thermo="results/variants/{variant}/md/{system}/{mode}_{potential}_r{replica}/thermo.csv",
        summary="results/variants/{variant}/md/{system}/{mode}_{potential}_r{replica}/summary.json",
    log:
        "results/variants/{variant}/md/{system}/{mode}_{potential}_r{replica}/cli.log",
    benchmark:
        "results/variants/{variant}/md/{system}/{mode}_{potential}_r{replica}/benchmark.tsv"
    wildcard_constraints:
        variant=variant_regex(),
        system=system_regex(),
        mode="constp|constq",
        potential=r"none|-?\d+(\.\d+)?V",
        replica=r"\d+",
    params:
        config=lambda wildcards: job_config(
            seed=config["seed"], md=md_settings(wildcards.variant)
        ),
        outdir=lambda wildcards, output: os.path.dirname(output.summary),
