# Helpers of the md stage (functions of config only; rules in md.smk).
# md_runs(), the sweep, is in common.smk (the analysis stage uses it too).


def md_config():
    """The `md:` section (optional; {} runs no MD)."""
    return config.get("md") or {}


def md_run_dirs():
    """Run folders of md_runs(): results/md/{system}/{mode}_{potential}_r{replica}."""
    return [
        f"results/md/{r['system']}/{r['mode']}_{r['potential']}_r{r['replica']}"
        for r in md_runs()
    ]


def md_model_files():
    """Packaged short-range models of the MD: the first md.n_models of train.seeds."""
    seeds = [int(s) for s in (config.get("train") or {}).get("seeds", [0, 1])]
    n = max(1, min(int(md_config().get("n_models", 1)), len(seeds)))
    return [f"results/train/models/{seed}/model.nequip.zip" for seed in seeds[:n]]


def md_settings(wildcards):
    """The md: keys a run depends on (not the sweep, threads or GPUs)."""
    skip = ("systems", "anode_potentials_V", "constq", "replicas", "threads", "gpus")
    settings = {k: v for k, v in md_config().items() if k not in skip}
    settings["seed"] = md_config().get("seed", config.get("seed", 0))
    return settings
