# Stage analysis: tidy CSV tables per MD run (analyse_run), the figure set
# drawn from those tables (figures; every figure in the report), the summary
# table and the paper-claims check (summarise), and `paper_figures`, the same
# figure set from whatever runs exist under results/md (glob at DAG time).
# Helpers in analysis_common.smk; md_runs() comes from common.smk.


include: "analysis_common.smk"


rule analyse_run:
    input:
        traj="results/md/{system}/{mode}_{potential}_r{replica}/traj.extxyz",
        md_summary="results/md/{system}/{mode}_{potential}_r{replica}/summary.json",
        reference=analysis_reference,
    output:
        tables=multiext(
            "results/analysis/{system}/{mode}_{potential}_r{replica}/",
            *(f"{t}.csv" for t in ANALYSIS_TABLES),
        ),
        summary="results/analysis/{system}/{mode}_{potential}_r{replica}/run.json",
    log:
        "results/analysis/{system}/{mode}_{potential}_r{replica}/analyse.log",
    benchmark:
        "results/analysis/{system}/{mode}_{potential}_r{replica}/benchmark.tsv"
    wildcard_constraints:
        system=r"[^/]+",
        mode="constp|constq",
        potential=r"[^/_]+",
        replica=r"\d+",
    conda:
        "../../envs/constpot.yaml"
    threads: 1
    resources:
        mem_mb=analysis_mem_mb,
        runtime=analysis_runtime,
    params:
        settings=analysis_settings_json(),
        out_dir=lambda wildcards, output: os.path.dirname(output.summary),
        reference=lambda wildcards, input: (
            f"--reference {input.reference}" if input.reference else ""
        ),
    shell:
        "constpot analyse-run --traj {input.traj} --out-dir {params.out_dir}"
        " --system {wildcards.system} --mode {wildcards.mode}"
        " --potential={wildcards.potential} --replica {wildcards.replica}"
        " {params.reference} --settings {params.settings:q} > {log} 2>&1"


rule figures:
    input:
        tables=analysis_tables(analysis_run_dirs()),
        predictions=PREDICTIONS,
    output:
        deposition_vs_time=report(
            "results/figures/deposition_vs_time.png",
            caption="../report/analysis_deposition_vs_time.rst",
            category="Analysis",
            subcategory="1 Deposition",
        ),
        deposition_vs_potential=report(
            "results/figures/deposition_vs_potential.png",
            caption="../report/analysis_deposition_vs_potential.rst",
            category="Analysis",
            subcategory="2 Potential dependence",
        ),
        height_maps=report(
            "results/figures/height_maps.png",
            caption="../report/analysis_height_maps.rst",
            category="Analysis",
            subcategory="3 Inhomogeneous deposition",
        ),
        surface_roughness=report(
            "results/figures/surface_roughness.png",
            caption="../report/analysis_surface_roughness.rst",
            category="Analysis",
            subcategory="3 Inhomogeneous deposition",
        ),
        li_clusters=report(
            "results/figures/li_clusters.png",
            caption="../report/analysis_li_clusters.rst",
            category="Analysis",
            subcategory="3 Inhomogeneous deposition",
        ),
        potential_profiles=report(
            "results/figures/potential_profiles.png",
            caption="../report/analysis_potential_profiles.rst",
            category="Analysis",
            subcategory="4 Constant potential",
        ),
        electrode_charge=report(
            "results/figures/electrode_charge.png",
            caption="../report/analysis_electrode_charge.rst",
            category="Analysis",
            subcategory="4 Constant potential",
        ),
        parity=report(
            "results/figures/parity.png",
            caption="../report/analysis_parity.rst",
            category="Analysis",
            subcategory="5 Model accuracy",
        ),
        li_msd=report(
            "results/figures/li_msd.png",
            caption="../report/analysis_li_msd.rst",
            category="Analysis",
            subcategory="6 Li transport",
        ),
    log:
        "results/figures/figures.log",
    benchmark:
        "results/figures/figures.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    params:
        config=analysis_job_config(),
        runs=analysis_run_dirs(),
        out_dir=lambda wildcards, output: os.path.dirname(output[0]),
    shell:
        "constpot figures --config-json {params.config:q} --runs {params.runs}"
        " --predictions {input.predictions} --out-dir {params.out_dir}"
        " > {log} 2>&1"


rule validation_label:
    input:
        traj="results/md/{system}/{run}/traj.extxyz",
    output:
        frames="results/validation/{system}/{run}/frames.extxyz",
        labels="results/validation/{system}/{run}/labels.extxyz",
        failures="results/validation/{system}/{run}/failures.csv",
    log:
        "results/validation/{system}/{run}/label.log",
    benchmark:
        "results/validation/{system}/{run}/benchmark.tsv"
    wildcard_constraints:
        system=r"[^/]+",
        run=r"constq_none_r\d+",
    priority: MD_PRIORITY + 1  # as soon as its run ends, beside the sweep
    conda:
        "../../envs/constpot.yaml"
    threads: 1
    resources:
        mem_mb=validation_mem_mb,
        runtime=validation_runtime,
    params:
        config=job_config(label=config["label"]),
    shell:
        "(constpot validation-frames --runs {wildcards.system}/{wildcards.run}={input.traj}"
        " --out {output.frames}"
        " && constpot label --config-json {params.config:q} --frames {output.frames}"
        " --shard 0 --n-shards 1 --out {output.labels}"
        " --failures {output.failures}) > {log} 2>&1"


rule validation_report:
    input:
        labels=[f"results/validation/{run}/labels.extxyz" for run in validation_runs()],
    output:
        drift=VALIDATION_DRIFT,
    log:
        "results/validation/report.log",
    conda:
        "../../envs/constpot.yaml"
    shell:
        "constpot validation-report --labels {input.labels} --csv {output.drift}"
        " > {log} 2>&1"


rule summarise:
    input:
        unpack(lambda wildcards: validation_inputs()),
        tables=analysis_tables(analysis_run_dirs()),
        predictions=PREDICTIONS,
    output:
        json="results/summary.json",
        md=report(
            "results/summary.md",
            caption="../report/analysis_summary.rst",
            category="Summary",
        ),
        claims=report(
            "results/paper_claims.md",
            caption="../report/analysis_claims.rst",
            category="Summary",
        ),
    log:
        "results/summarise.log",
    benchmark:
        "results/summarise.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    params:
        config=analysis_job_config(),
        runs=analysis_run_dirs(),
        validation=validation_argument,
    shell:
        "constpot summarise --config-json {params.config:q} --runs {params.runs}"
        " --predictions {input.predictions} {params.validation} --json {output.json}"
        " --md {output.md} --claims {output.claims} > {log} 2>&1"


rule paper_figures:
    input:
        tables=analysis_tables(synced_run_dirs()),
        predictions=existing_predictions,
    output:
        figures=expand("results/paper_figures/{stem}.png", stem=ANALYSIS_FIGURES),
    log:
        "results/paper_figures/paper_figures.log",
    benchmark:
        "results/paper_figures/benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    params:
        config=analysis_job_config(),
        runs=synced_run_dirs(),
        out_dir=lambda wildcards, output: os.path.dirname(output[0]),
        predictions=lambda wildcards, input: (
            f"--predictions {input.predictions}" if input.predictions else ""
        ),
    shell:
        "constpot figures --config-json {params.config:q} --runs {params.runs}"
        " {params.predictions} --out-dir {params.out_dir} > {log} 2>&1"


# A variant of the paper's model (config variants:): the same per-run
# analysis and summary under results/variants/{variant}/, then every model
# side by side (compare_variants).


use rule analyse_run as analyse_run_variant with:
    input:
        traj="results/variants/{variant}/md/{system}/{mode}_{potential}_r{replica}/traj.extxyz",
        md_summary="results/variants/{variant}/md/{system}/{mode}_{potential}_r{replica}/summary.json",
        reference=analysis_reference,
    output:
        tables=multiext(
            "results/variants/{variant}/analysis/{system}/{mode}_{potential}_r{replica}/",
            *(f"{t}.csv" for t in ANALYSIS_TABLES),
        ),
        summary="results/variants/{variant}/analysis/{system}/{mode}_{potential}_r{replica}/run.json",
    log:
        "results/variants/{variant}/analysis/{system}/{mode}_{potential}_r{replica}/analyse.log",
    benchmark:
        "results/variants/{variant}/analysis/{system}/{mode}_{potential}_r{replica}/benchmark.tsv"
    wildcard_constraints:
        variant=variant_regex(),
        system=r"[^/]+",
        mode="constp|constq",
        potential=r"[^/_]+",
        replica=r"\d+",


use rule summarise as summarise_variant with:
    input:
        tables=lambda wildcards: analysis_tables(analysis_run_dirs(wildcards.variant)),
        predictions=lambda wildcards: variant_predictions(wildcards.variant),
    output:
        json="results/variants/{variant}/summary.json",
        md="results/variants/{variant}/summary.md",
        claims="results/variants/{variant}/paper_claims.md",
    log:
        "results/variants/{variant}/summarise.log",
    benchmark:
        "results/variants/{variant}/summarise.benchmark.tsv"
    wildcard_constraints:
        variant=variant_regex(),
    params:
        config=analysis_job_config(),
        runs=lambda wildcards: analysis_run_dirs(wildcards.variant),


rule compare_variants:
    input:
        summaries=variant_summaries(),
    output:
        md=report(
            "results/variants.md",
            caption="../report/analysis_variants.rst",
            category="Summary",
        ),
        csv="results/variants.csv",
    log:
        "results/compare_variants.log",
    benchmark:
        "results/compare_variants.benchmark.tsv"
    conda:
        "../../envs/constpot.yaml"
    params:
        names=[PAPER, *variants()],
        descriptions=variant_descriptions(),
    shell:
        "constpot compare-variants --summaries {input.summaries}"
        " --names {params.names} --descriptions {params.descriptions:q}"
        " --md {output.md} --csv {output.csv} > {log} 2>&1"
