# Stage train: the short-range NequIP models of the hybrid potential.
# split -> QEq table (paper, and the fit, always reported) -> targets
# E_ref - E_QEq -> one nequip-train job per seed -> package -> evaluate, plots.
# Each rule calls one CLI command; helpers are functions of config only.


include: "train_common.smk"


rule train_split:
    input:
        dataset="results/label/dataset.extxyz",
    output:
        split="results/train/split.json",
    log:
        "results/train/split.log",
    benchmark:
        "results/train/split.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    params:
        config=job_config(seed=config["seed"], train=train_split_settings()),
    shell:
        "constpot split --config-json {params.config:q} --dataset {input.dataset}"
        " --out {output.split} > {log} 2>&1"


rule qeq_table:
    output:
        settings="results/train/qeq/paper.json",
    log:
        "results/train/qeq/paper.log",
    benchmark:
        "results/train/qeq/paper.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    params:
        config=job_config(qeq=qeq_table_settings(), train=train_qeq_settings()),
    shell:
        "constpot qeq-table --config-json {params.config:q}"
        " --out {output.settings} > {log} 2>&1"


rule fit_qeq:
    input:
        dataset="results/label/dataset.extxyz",
        split="results/train/split.json",
    output:
        settings="results/train/qeq/fit.json",
        report_json="results/train/qeq/fit_report.json",
        report_csv="results/train/qeq/fit_report.csv",
    log:
        "results/train/qeq/fit.log",
    benchmark:
        "results/train/qeq/fit.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    resources:
        mem_mb=per_attempt(2000),
        runtime=per_attempt(60),
    params:
        config=job_config(qeq=qeq_table_settings(), train=train_qeq_settings(fit=True)),
    shell:
        "constpot fit-qeq --config-json {params.config:q} --dataset {input.dataset}"
        " --split {input.split} --out {output.settings}"
        " --report-json {output.report_json} --report-csv {output.report_csv}"
        " > {log} 2>&1"


rule targets:
    input:
        dataset="results/label/dataset.extxyz",
        qeq=train_qeq_table(),
    output:
        targets="results/train/targets.extxyz",
        qeq="results/train/qeq.json",
    log:
        "results/train/targets.log",
    benchmark:
        "results/train/targets.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    shell:
        "constpot targets --dataset {input.dataset} --qeq-settings {input.qeq}"
        " --out {output.targets} --settings-out {output.qeq} > {log} 2>&1"


rule train_model:
    input:
        targets="results/train/targets.extxyz",
        split="results/train/split.json",
    output:
        checkpoint="results/train/models/{seed}/best.ckpt",
        curve="results/train/models/{seed}/logs/metrics.csv",
        summary="results/train/models/{seed}/train_summary.json",
    log:
        "results/train/models/{seed}/train.log",
    benchmark:
        "results/train/models/{seed}/train.benchmark.tsv"
    wildcard_constraints:
        seed=r"\d+",
    conda:
        "../../envs/constpot.yaml"
    threads: train_config()["threads"]
    resources:
        gpu=job_gpus("train"),
        mem_mb=train_mem_mb,
        runtime=train_runtime,
    params:
        config=job_config(train=train_model_settings()),
        run_dir=lambda wildcards: f"results/train/models/{wildcards.seed}",
    shell:
        "constpot train --config-json {params.config:q} --targets {input.targets}"
        " --split {input.split} --seed {wildcards.seed}"
        " --run-dir {params.run_dir} --threads {threads} > {log} 2>&1"


rule package_model:
    input:
        checkpoint="results/train/models/{seed}/best.ckpt",
        qeq="results/train/qeq.json",
    output:
        model="results/train/models/{seed}/model.nequip.zip",
        qeq="results/train/models/{seed}/qeq.json",
    log:
        "results/train/models/{seed}/package.log",
    benchmark:
        "results/train/models/{seed}/package.benchmark.tsv"
    wildcard_constraints:
        seed=r"\d+",
    conda:
        "../../envs/constpot.yaml"
    resources:
        mem_mb=per_attempt(2000),
        runtime=per_attempt(30),
    shell:
        "constpot package --checkpoint {input.checkpoint}"
        " --qeq-settings {input.qeq} --out {output.model} > {log} 2>&1"


# Models compiled ahead of time for this machine (md.compile_models), beside
# their packaged file and qeq.json: results/train, an active-learning
# iteration's or a variant's models.
rule compile_model:
    input:
        model="{root}/models/{seed}/model.nequip.zip",
        qeq="{root}/models/{seed}/qeq.json",
    output:
        model="{root}/models/{seed}/model.nequip.pt2",
    log:
        "{root}/models/{seed}/compile.log",
    benchmark:
        "{root}/models/{seed}/compile.benchmark.tsv"
    wildcard_constraints:
        root=r"results(/variants/[^/]+|/active/iter\d{3})?/train",
        seed=r"\d+",
    conda:
        "../../envs/constpot.yaml"
    resources:
        gpu=job_gpus("md"),
        mem_mb=per_attempt(4000),
        runtime=per_attempt(30),
    params:
        device=lambda wildcards: "cuda" if section_gpus("md") else "cpu",
    shell:
        "OMP_NUM_THREADS=1 constpot compile-model --model {input.model}"
        " --out {output.model} --device {params.device} > {log} 2>&1"


rule evaluate:
    input:
        targets="results/train/targets.extxyz",
        split="results/train/split.json",
        qeq="results/train/qeq.json",
        models=expand(
            "results/train/models/{seed}/model.nequip.zip", seed=train_seeds()
        ),
        model_qeq=expand("results/train/models/{seed}/qeq.json", seed=train_seeds()),
    output:
        metrics="results/train/metrics.csv",
        predictions="results/train/predictions.csv",
        summary="results/train/summary.json",
    log:
        "results/train/evaluate.log",
    benchmark:
        "results/train/evaluate.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    resources:
        gpu=job_gpus("train"),
        mem_mb=job_mem_mb("train", 2000),
        runtime=per_attempt(30),
    params:
        names=[f"seed{s}" for s in train_seeds()],
        device=train_config()["device"],
    shell:
        "constpot evaluate --targets {input.targets} --split {input.split}"
        " --qeq-settings {input.qeq} --models {input.models}"
        " --names {params.names} --device {params.device}"
        " --metrics {output.metrics} --predictions {output.predictions}"
        " --summary {output.summary} > {log} 2>&1"


rule plot_train:
    input:
        predictions="results/train/predictions.csv",
        curves=expand(
            "results/train/models/{seed}/logs/metrics.csv", seed=train_seeds()
        ),
    output:
        parity=report(
            "results/train/parity.png",
            caption="../report/train_parity.rst",
            category="Hybrid potential",
        ),
        curves=report(
            "results/train/learning_curves.png",
            caption="../report/train_learning_curves.rst",
            category="Hybrid potential",
        ),
    log:
        "results/train/plot_train.log",
    benchmark:
        "results/train/plot_train.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    params:
        names=[f"seed{s}" for s in train_seeds()],
    shell:
        "constpot plot-train --predictions {input.predictions}"
        " --logs {input.curves} --names {params.names}"
        " --parity {output.parity} --curves {output.curves} > {log} 2>&1"


# A variant of the paper's model that changes train: keys (QEq molecule
# charges, the QEq table) gets its own QEq settings, targets and models under
# results/variants/{variant}/train/; the split and the dataset are shared.


use rule qeq_table as qeq_table_variant with:
    output:
        settings="results/variants/{variant}/train/qeq/paper.json",
    log:
        "results/variants/{variant}/train/qeq/paper.log",
    benchmark:
        "results/variants/{variant}/train/qeq/paper.benchmark.tsv"
    wildcard_constraints:
        variant=variant_regex(),
    params:
        config=lambda wildcards: job_config(
            qeq=qeq_table_settings(),
            train=train_qeq_settings(variant=wildcards.variant),
        ),


use rule fit_qeq as fit_qeq_variant with:
    output:
        settings="results/variants/{variant}/train/qeq/fit.json",
        report_json="results/variants/{variant}/train/qeq/fit_report.json",
        report_csv="results/variants/{variant}/train/qeq/fit_report.csv",
    log:
        "results/variants/{variant}/train/qeq/fit.log",
    benchmark:
        "results/variants/{variant}/train/qeq/fit.benchmark.tsv"
    wildcard_constraints:
        variant=variant_regex(),
    params:
        config=lambda wildcards: job_config(
            qeq=qeq_table_settings(),
            train=train_qeq_settings(fit=True, variant=wildcards.variant),
        ),


use rule targets as targets_variant with:
    input:
        dataset="results/label/dataset.extxyz",
        qeq=lambda wildcards: train_qeq_table(wildcards.variant),
    output:
        targets="results/variants/{variant}/train/targets.extxyz",
        qeq="results/variants/{variant}/train/qeq.json",
    log:
        "results/variants/{variant}/train/targets.log",
    benchmark:
        "results/variants/{variant}/train/targets.benchmark.tsv"
    wildcard_constraints:
        variant=variant_regex(),


use rule train_model as train_model_variant with:
    input:
        targets="results/variants/{variant}/train/targets.extxyz",
        split="results/train/split.json",
    output:
        checkpoint="results/variants/{variant}/train/models/{seed}/best.ckpt",
        curve="results/variants/{variant}/train/models/{seed}/logs/metrics.csv",
        summary="results/variants/{variant}/train/models/{seed}/train_summary.json",
    log:
        "results/variants/{variant}/train/models/{seed}/train.log",
    benchmark:
        "results/variants/{variant}/train/models/{seed}/train.benchmark.tsv"
    wildcard_constraints:
        variant=variant_regex(),
        seed=r"\d+",
    params:
        config=job_config(train=train_model_settings()),
        run_dir=lambda wildcards: (
            f"results/variants/{wildcards.variant}/train/models/{wildcards.seed}"
        ),


use rule package_model as package_model_variant with:
    input:
        checkpoint="results/variants/{variant}/train/models/{seed}/best.ckpt",
        qeq="results/variants/{variant}/train/qeq.json",
    output:
        model="results/variants/{variant}/train/models/{seed}/model.nequip.zip",
        qeq="results/variants/{variant}/train/models/{seed}/qeq.json",
    log:
        "results/variants/{variant}/train/models/{seed}/package.log",
    benchmark:
        "results/variants/{variant}/train/models/{seed}/package.benchmark.tsv"
    wildcard_constraints:
        variant=variant_regex(),
        seed=r"\d+",


use rule evaluate as evaluate_variant with:
    input:
        targets="results/variants/{variant}/train/targets.extxyz",
        split="results/train/split.json",
        qeq="results/variants/{variant}/train/qeq.json",
        models=lambda wildcards: [
            f"results/variants/{wildcards.variant}/train/models/{s}/model.nequip.zip"
            for s in train_seeds()
        ],
        model_qeq=lambda wildcards: [
            f"results/variants/{wildcards.variant}/train/models/{s}/qeq.json"
            for s in train_seeds()
        ],
    output:
        metrics="results/variants/{variant}/train/metrics.csv",
        predictions="results/variants/{variant}/train/predictions.csv",
        summary="results/variants/{variant}/train/summary.json",
    log:
        "results/variants/{variant}/train/evaluate.log",
    benchmark:
        "results/variants/{variant}/train/evaluate.benchmark.tsv"
    wildcard_constraints:
        variant=variant_regex(),
