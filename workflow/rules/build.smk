# Stage build: one interface per named system of config `systems:`, and its
# side-view picture. The rule calls one CLI command.


rule build:
    output:
        structure="results/build/{system}/interface.extxyz",
        summary="results/build/{system}/interface.json",
        picture=report(
            "results/build/{system}/interface.png",
            caption="../report/interface.rst",
            category="Build",
            subcategory="{system}",
        ),
    log:
        "results/build/{system}/build.log",
    benchmark:
        "results/build/{system}/benchmark.tsv"
    wildcard_constraints:
        system=system_regex(),
    conda:
        "../../envs/constpot.yaml"
    threads: 1
    resources:
        mem_mb=build_mem_mb,
        runtime=build_runtime,
    params:
        # The recipe itself: editing it reruns the build.
        config=lambda wildcards: job_config(
            systems={wildcards.system: config["systems"][wildcards.system]},
            amorphous_store=config["amorphous_store"],
        ),
    shell:
        "constpot build --config-json {params.config:q} --system {wildcards.system}"
        " --out {output.structure} --summary {output.summary}"
        " --picture {output.picture} > {log} 2>&1"
