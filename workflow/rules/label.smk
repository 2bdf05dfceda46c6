# Stage label: sample small configurations from the built interfaces and bulk
# references, label them in shards (resumable), merge into one dataset.


rule sample:
    input:
        interfaces=expand(
            "results/build/{system}/interface.extxyz", system=label_systems()
        ),
    output:
        frames="results/label/frames.extxyz",
    log:
        "results/label/sample.log",
    benchmark:
        "results/label/sample.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    resources:
        mem_mb=per_attempt(2000),
        runtime=per_attempt(60),
    params:
        config=job_config(
            seed=config["seed"],
            label=config["label"],
            amorphous_store=config["amorphous_store"],
        ),
    shell:
        "constpot sample --config-json {params.config:q}"
        " --interfaces {input.interfaces}"
        " --out {output.frames} > {log} 2>&1"


rule label_shard:
    input:
        frames=label_frames(),
    output:
        shard="results/label/shards/{shard}.extxyz",
        failures="results/label/shards/{shard}.failures.csv",
    log:
        "results/label/shards/{shard}.log",
    benchmark:
        "results/label/shards/{shard}.benchmark.tsv"
    wildcard_constraints:
        shard=r"\d+",
    conda:
        "../../envs/constpot.yaml"
    threads: 1
    resources:
        mem_mb=label_mem_mb,
        runtime=label_runtime,
    params:
        config=job_config(label=config["label"]),
        n_shards=config["label"]["n_shards"],
    shell:
        "constpot label --config-json {params.config:q} --frames {input.frames}"
        " --shard {wildcards.shard} --n-shards {params.n_shards}"
        " --out {output.shard} --failures {output.failures} > {log} 2>&1"


rule dataset:
    input:
        unpack(labelled_shards),
    output:
        dataset="results/label/dataset.extxyz",
        failures="results/label/failures.csv",
        summary="results/label/summary.csv",
        figure=report(
            "results/label/histogram.png",
            caption="../report/label_histogram.rst",
            category="Reference data",
        ),
    log:
        "results/label/dataset.log",
    benchmark:
        "results/label/dataset.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    shell:
        "constpot dataset --shards {input.shards}"
        " --shard-failures {input.failures} --out {output.dataset}"
        " --failures {output.failures} --summary {output.summary}"
        " --figure {output.figure} > {log} 2>&1"
