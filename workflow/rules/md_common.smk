# Helpers of the md stage (functions of config only; rules in md.smk).
# md_runs(), the sweep, and the variant helpers are in common.smk (the
# analysis stage uses them too).


def md_config():
    """The resolved `md:` section ({} when the config runs no MD)."""
    return config.get("md") or {}


def md_run_dirs(variant=PAPER):
    """Run folders of md_runs(variant): {root}/md/{system}/{mode}_{potential}_r{replica}."""
    return [
        f"{variant_dir(variant)}/md/{r['system']}/"
        f"{r['mode']}_{r['potential']}_r{r['replica']}"
        for r in md_runs(variant)
    ]


def all_md_run_dirs():
    """Run folders of the paper's model and of every variant."""
    return [d for v in (PAPER, *variants()) for d in md_run_dirs(v)]


def md_model_files(variant=PAPER):
    """Packaged short-range models of a variant's MD: the first md.n_models seeds
    (of the last active-learning iteration, when there is one)."""
    seeds = train_seeds()[: md_config().get("n_models", 1)]
    root = production_train_dir(variant)
    suffix = "pt2" if md_config().get("compile_models") else "zip"
    return [f"{root}/models/{seed}/model.nequip.{suffix}" for seed in seeds]


def md_settings(variant=PAPER):
    """The md: keys a run depends on (not the sweep, threads or GPUs).

    With a constant-charge equilibration (md.equilibrate_ps > 0) the runs
    start from its last frame, already relaxed: no FIRE steps of their own.
    """
    skip = ("systems", "anode_potentials_V", "constq", "replicas", "threads", "gpus")
    skip += ("compile_models", "batch")  # model files: the inputs; batch: the jobs
    cfg = variant_md(variant)
    settings = {k: v for k, v in cfg.items() if k not in skip}
    settings["seed"] = cfg.get("seed", config["seed"])
    if equilibrates():
        settings["relax_steps"] = 0
    return settings


# The sweep's MD jobs, the longest of their stage, start before the jobs
# that become ready with them (active learning's last exploration, the
# analyses), so that the short ones fill the cores at the end.
MD_PRIORITY = 1


def md_batch_names():
    """Run names of each batched MD job (md.batch > 1), or [] (one job per run).

    The runs of a system, in the sweep's order, in groups of md.batch
    (constpot.runs.md_batches); every system has the same sweep, so the
    groups' names are those of the first system. The paper's model only: a
    variant's runs are single jobs.
    """
    md = md_config()
    if int(md.get("batch", 1)) <= 1:
        return []
    batches = md_batches(md, systems())
    first = batches[0][0].system
    return [[r.name for r in b] for b in batches if b[0].system == first]


def equilibrates():
    """One constant-charge start per system (md.equilibrate_ps > 0)?"""
    return md_config().get("equilibrate_ps", 0) > 0


def equilibration_settings(variant=PAPER):
    """md: keys of the constant-charge equilibration: relax, then equilibrate_ps."""
    cfg = variant_md(variant)
    settings = md_settings(variant)
    if not md_config():  # a config without md: (e.g. config/dft_small.yaml)
        return settings
    settings["relax_steps"] = cfg["relax_steps"]
    settings["n_steps"] = max(
        1, round(1000 * cfg["equilibrate_ps"] / cfg["timestep_fs"])
    )
    return settings


def start_dir(variant, system):
    """Folder of a system's equilibration for a variant's models."""
    return f"{variant_dir(model_set(variant))}/md/{system}/start"


def md_structure(wildcards):
    """Start of a run: the equilibrated state, else the built interface."""
    variant = wildcards.get("variant", PAPER)
    if equilibrates():
        return f"{start_dir(variant, wildcards.system)}/traj.extxyz"
    return f"results/build/{wildcards.system}/interface.extxyz"
