# Stage active: active learning (docs/active_learning.md). Iteration k:
# explore (short MD with the ensemble of data set k, per system and
# condition) -> select-candidates (trust window, diversity) -> label the
# candidates -> data set k + 1 -> fine-tune every model from its iteration-k
# checkpoint -> package, evaluate. `active-report` sums up the iterations.
# Helpers in active_common.smk; the md stage runs the last iteration's models.


include: "active_common.smk"


rule explore:
    input:
        structure="results/build/{system}/interface.extxyz",
        models=lambda wildcards: iteration_models(iteration_index(wildcards)),
    output:
        traj="results/active/{iteration}/explore/{system}/{condition}/traj.extxyz",
        thermo="results/active/{iteration}/explore/{system}/{condition}/thermo.csv",
        summary="results/active/{iteration}/explore/{system}/{condition}/summary.json",
    log:
        "results/active/{iteration}/explore/{system}/{condition}/cli.log",
    benchmark:
        "results/active/{iteration}/explore/{system}/{condition}/benchmark.tsv"
    wildcard_constraints:
        iteration=r"iter\d{3}",
        system=system_regex(),
        condition=condition_regex(),
    conda:
        "../../envs/constpot.yaml"
    threads: md_config().get("threads", 1)
    resources:
        gpu=job_gpus("md"),
        mem_mb=md_mem_mb,
        runtime=md_runtime,
    params:
        config=lambda wildcards: job_config(
            seed=config["seed"], md=explore_settings(wildcards)
        ),
        mode=lambda wildcards: explore_condition(wildcards)["mode"],
        potential=lambda wildcards: explore_condition(wildcards)["potential"],
        outdir=lambda wildcards, output: os.path.dirname(output.summary),
    shell:
        "OMP_NUM_THREADS={threads} constpot md --config-json {params.config:q}"
        " --structure {input.structure} --models {input.models}"
        " --mode {params.mode} --potential={params.potential} --replica 0"
        " --outdir {params.outdir} --threads {threads} --resume auto"
        " --progress lines > {log} 2>&1"


rule select_candidates:
    input:
        runs=lambda wildcards: [
            f"{run}/{name}"
            for run in explore_run_dirs(iteration_index(wildcards))
            for name in ("traj.extxyz", "thermo.csv", "summary.json")
        ],
        structures=expand(
            "results/build/{system}/interface.extxyz", system=active_systems()
        ),
        models=lambda wildcards: (
            iteration_models(iteration_index(wildcards))
            if active_config().get("max_atoms")
            else []
        ),
    output:
        candidates="results/active/{iteration}/candidates.extxyz",
        report_json="results/active/{iteration}/report.json",
        report_csv="results/active/{iteration}/report.csv",
    log:
        "results/active/{iteration}/select.log",
    benchmark:
        "results/active/{iteration}/select.benchmark.tsv"
    wildcard_constraints:
        iteration=r"iter\d{3}",
    conda:
        "../../envs/constpot.yaml"
    params:
        config=job_config(seed=config["seed"], active=selection_settings()),
        runs=lambda wildcards: explore_run_dirs(iteration_index(wildcards)),
        k=iteration_index,
        structures=[
            f"{system}=results/build/{system}/interface.extxyz"
            for system in active_systems()
        ],
        models=lambda wildcards, input: (
            f"--models {' '.join(input.models)}" if input.models else ""
        ),
    shell:
        "constpot select-candidates --config-json {params.config:q}"
        " --runs {params.runs} --iteration {params.k}"
        " --structure {params.structures} {params.models}"
        " --out {output.candidates} --report-json {output.report_json}"
        " --report-csv {output.report_csv} > {log} 2>&1"


rule label_candidates:
    input:
        frames="results/active/{iteration}/candidates.extxyz",
    output:
        labels="results/active/{iteration}/labels/{shard}.extxyz",
        failures="results/active/{iteration}/labels/{shard}.failures.csv",
    log:
        "results/active/{iteration}/labels/{shard}.log",
    benchmark:
        "results/active/{iteration}/labels/{shard}.benchmark.tsv"
    wildcard_constraints:
        iteration=r"iter\d{3}",
        shard=r"\d+",
    conda:
        "../../envs/constpot.yaml"
    threads: 1
    resources:
        mem_mb=label_mem_mb,
        runtime=label_runtime,
    params:
        config=job_config(label=config["label"]),
        n_shards=len(candidate_shards()),
    shell:
        "constpot label --config-json {params.config:q} --frames {input.frames}"
        " --shard {wildcards.shard} --n-shards {params.n_shards}"
        " --out {output.labels} --failures {output.failures} > {log} 2>&1"


rule active_dataset:
    input:
        previous=lambda wildcards: iteration_dataset(iteration_index(wildcards) - 1),
        labels=lambda wildcards: [
            f"{active_dir(iteration_index(wildcards) - 1)}/labels/{shard}.extxyz"
            for shard in candidate_shards()
        ],
        failures=lambda wildcards: [
            f"{active_dir(iteration_index(wildcards) - 1)}/labels/{shard}"
            ".failures.csv"
            for shard in candidate_shards()
        ],
    output:
        dataset="results/active/{iteration}/dataset.extxyz",
        failures="results/active/{iteration}/failures.csv",
        summary="results/active/{iteration}/summary.csv",
        figure="results/active/{iteration}/histogram.png",
    log:
        "results/active/{iteration}/dataset.log",
    benchmark:
        "results/active/{iteration}/dataset.benchmark.tsv"
    wildcard_constraints:
        iteration=r"iter(00[1-9]|0[1-9]\d|[1-9]\d\d)",
    conda:
        "../../envs/constpot.yaml"
    shell:
        "constpot dataset --shards {input.previous[0]} {input.labels}"
        " --shard-failures {input.previous[1]} {input.failures}"
        " --out {output.dataset} --failures {output.failures}"
        " --summary {output.summary} --figure {output.figure} > {log} 2>&1"


rule active_split:
    input:
        dataset="results/active/{iteration}/dataset.extxyz",
    output:
        split="results/active/{iteration}/train/split.json",
    log:
        "results/active/{iteration}/train/split.log",
    benchmark:
        "results/active/{iteration}/train/split.benchmark.tsv"
    wildcard_constraints:
        iteration=r"iter\d{3}",
    conda:
        "../../envs/constpot.yaml"
    params:
        config=job_config(seed=config["seed"], train=train_split_settings()),
    shell:
        "constpot split --config-json {params.config:q} --dataset {input.dataset}"
        " --out {output.split} > {log} 2>&1"


rule active_targets:
    input:
        dataset="results/active/{iteration}/dataset.extxyz",
        qeq=train_qeq_table(),
    output:
        targets="results/active/{iteration}/train/targets.extxyz",
        qeq="results/active/{iteration}/train/qeq.json",
    log:
        "results/active/{iteration}/train/targets.log",
    benchmark:
        "results/active/{iteration}/train/targets.benchmark.tsv"
    wildcard_constraints:
        iteration=r"iter\d{3}",
    conda:
        "../../envs/constpot.yaml"
    shell:
        "constpot targets --dataset {input.dataset} --qeq-settings {input.qeq}"
        " --out {output.targets} --settings-out {output.qeq} > {log} 2>&1"


rule active_train_model:
    input:
        targets="results/active/{iteration}/train/targets.extxyz",
        split="results/active/{iteration}/train/split.json",
        start=lambda wildcards: iteration_checkpoints(iteration_index(wildcards) - 1)[
            int(wildcards.seed)
        ],
    output:
        checkpoint="results/active/{iteration}/train/models/{seed}/best.ckpt",
        curve="results/active/{iteration}/train/models/{seed}/logs/metrics.csv",
        summary="results/active/{iteration}/train/models/{seed}/train_summary.json",
    log:
        "results/active/{iteration}/train/models/{seed}/train.log",
    benchmark:
        "results/active/{iteration}/train/models/{seed}/train.benchmark.tsv"
    wildcard_constraints:
        iteration=r"iter\d{3}",
        seed=r"\d+",
    conda:
        "../../envs/constpot.yaml"
    threads: train_config()["threads"]
    resources:
        gpu=job_gpus("train"),
        mem_mb=train_mem_mb,
        runtime=train_runtime,
    params:
        config=job_config(train=retrain_settings()),
        run_dir=lambda wildcards, output: os.path.dirname(output.checkpoint),
    shell:
        "constpot train --config-json {params.config:q} --targets {input.targets}"
        " --split {input.split} --seed {wildcards.seed}"
        " --init-checkpoint {input.start} --run-dir {params.run_dir}"
        " --threads {threads} > {log} 2>&1"


use rule package_model as active_package_model with:
    input:
        checkpoint="results/active/{iteration}/train/models/{seed}/best.ckpt",
        qeq="results/active/{iteration}/train/qeq.json",
    output:
        model="results/active/{iteration}/train/models/{seed}/model.nequip.zip",
        qeq="results/active/{iteration}/train/models/{seed}/qeq.json",
    log:
        "results/active/{iteration}/train/models/{seed}/package.log",
    benchmark:
        "results/active/{iteration}/train/models/{seed}/package.benchmark.tsv"
    wildcard_constraints:
        iteration=r"iter\d{3}",
        seed=r"\d+",


use rule evaluate as active_evaluate with:
    input:
        targets="results/active/{iteration}/train/targets.extxyz",
        split="results/active/{iteration}/train/split.json",
        qeq="results/active/{iteration}/train/qeq.json",
        models=expand(
            "results/active/{{iteration}}/train/models/{seed}/model.nequip.zip",
            seed=train_seeds(),
        ),
        model_qeq=expand(
            "results/active/{{iteration}}/train/models/{seed}/qeq.json",
            seed=train_seeds(),
        ),
    output:
        metrics="results/active/{iteration}/train/metrics.csv",
        predictions="results/active/{iteration}/train/predictions.csv",
        summary="results/active/{iteration}/train/summary.json",
    log:
        "results/active/{iteration}/train/evaluate.log",
    benchmark:
        "results/active/{iteration}/train/evaluate.benchmark.tsv"
    wildcard_constraints:
        iteration=r"iter\d{3}",


rule active_report:
    input:
        reports=[f"{active_dir(k)}/report.json" for k in range(active_iterations() + 1)],
    output:
        csv="results/active/fractions.csv",
        figure=report(
            "results/active/fractions.png",
            caption="../report/active_fractions.rst",
            category="Active learning",
        ),
    log:
        "results/active/report.log",
    conda:
        "../../envs/constpot.yaml"
    shell:
        "constpot active-report --reports {input.reports} --csv {output.csv}"
        " --figure {output.figure} > {log} 2>&1"
