# Stage miniature: the method's core effect in a small cell (config
# miniature:). A Li+ above a hollow of a bcc(100) Li anode with a PF6- above
# it and a Li counter electrode; the same start run at constant potential and
# at constant charge with the paper's models; the ion's charge, electrode
# membership and height over time, side by side. Each rule calls one command.


include: "miniature_common.smk"


rule miniature_build:
    output:
        structure=f"{MINIATURE}/structure.extxyz",
    log:
        f"{MINIATURE}/build.log",
    benchmark:
        f"{MINIATURE}/build.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    params:
        height=lambda wildcards: miniature_config()["height_A"],
        counter=lambda wildcards: miniature_config()["counter_layers"],
    shell:
        "constpot miniature-build --out {output.structure}"
        " --height-A {params.height} --counter-layers {params.counter} > {log} 2>&1"


rule miniature_md:
    input:
        structure=f"{MINIATURE}/structure.extxyz",
        models=md_model_files(),
    output:
        traj=f"{MINIATURE}/{{mode}}_{{potential}}_r0/traj.extxyz",
        thermo=f"{MINIATURE}/{{mode}}_{{potential}}_r0/thermo.csv",
        summary=f"{MINIATURE}/{{mode}}_{{potential}}_r0/summary.json",
    log:
        f"{MINIATURE}/{{mode}}_{{potential}}_r0/cli.log",
    benchmark:
        f"{MINIATURE}/{{mode}}_{{potential}}_r0/benchmark.tsv"
    wildcard_constraints:
        mode="constp|constq",
        potential=r"none|-?\d+(\.\d+)?V",
    conda:
        "../../envs/constpot.yaml"
    threads: 1
    params:
        config=lambda wildcards: job_config(
            seed=config["seed"], md=miniature_md_settings()
        ),
        outdir=lambda wildcards, output: os.path.dirname(output.summary),
    shell:
        "OMP_NUM_THREADS={threads} constpot md --config-json {params.config:q}"
        " --structure {input.structure} --models {input.models}"
        " --mode {wildcards.mode} --potential={wildcards.potential}"
        " --replica 0 --outdir {params.outdir}"
        " --threads {threads} --resume auto --progress lines > {log} 2>&1"


rule miniature_report:
    input:
        constp=lambda wildcards: f"{MINIATURE}/{miniature_runs()['constp']}/traj.extxyz",
        constq=lambda wildcards: f"{MINIATURE}/{miniature_runs()['constq']}/traj.extxyz",
    output:
        json=f"{MINIATURE}/miniature.json",
        md=report(
            f"{MINIATURE}/miniature.md",
            caption="../report/miniature.rst",
            category="Miniature",
        ),
        figure=report(
            f"{MINIATURE}/miniature.png",
            caption="../report/miniature.rst",
            category="Miniature",
        ),
    log:
        f"{MINIATURE}/report.log",
    benchmark:
        f"{MINIATURE}/report.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    shell:
        "constpot miniature-report --constp {input.constp} --constq {input.constq}"
        " --json {output.json} --md {output.md} --figure {output.figure}"
        " > {log} 2>&1"
