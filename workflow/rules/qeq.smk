# Stage qeq: charges of the example interface under constant charge and
# constant potential, and their comparison. Each rule calls one CLI command.


rule qeq:
    input:
        structure=config["qeq"]["structure"],
    output:
        charges="results/qeq/{mode}/charges.extxyz",
        summary="results/qeq/{mode}/summary.json",
    log:
        "results/qeq/{mode}/qeq.log",
    benchmark:
        "results/qeq/{mode}/benchmark.tsv"
    wildcard_constraints:
        mode=qeq_mode_regex(),
    conda:
        "../../envs/constpot.yaml"
    threads: 2
    resources:
        gpu=job_gpus("qeq"),
        mem_mb=qeq_mem_mb,
        runtime=qeq_runtime,
    params:
        normal=config["qeq"]["normal"],
        slab=qeq_slab_flag,
        electrodes=config["qeq"]["electrodes"],
        method=config["qeq"]["method"],
        tol=config["qeq"]["tol"],
        accuracy=config["qeq"]["accuracy"],
        device=config["qeq"]["device"],
        potentials=qeq_potential_flags,
    shell:
        "constpot qeq {input.structure} --normal {params.normal} {params.slab}"
        " --electrodes {params.electrodes} --method {params.method}"
        " --tol {params.tol} --accuracy {params.accuracy} --device {params.device}"
        " {params.potentials}"
        " --summary {output.summary} --out {output.charges} > {log} 2>&1"


rule plot_qeq:
    input:
        constq="results/qeq/constq/charges.extxyz",
        constp="results/qeq/constp/charges.extxyz",
    output:
        profile=report(
            "results/qeq/charge_profile.png",
            caption="../report/charge_profile.rst",
            category="QEq",
        ),
        totals="results/qeq/electrode_totals.csv",
    log:
        "results/qeq/plot_qeq.log",
    benchmark:
        "results/qeq/plot_qeq.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    shell:
        "constpot plot-qeq --constq {input.constq} --constp {input.constp}"
        " --out {output.profile} --csv {output.totals} > {log} 2>&1"
