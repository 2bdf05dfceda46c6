# Helpers of the active-learning stage (functions of config only; rules in
# active.smk). Iteration k lives in results/active/iter{k:03d}/: exploration
# with the models of data set k (k = 0: results/train/), the selected
# candidates and their labels; data set k + 1 and its models go to
# results/active/iter{k+1:03d}/. active_iterations() and active_train_dir()
# are in common.smk (the md stage runs the last iteration's models).

import re


def active_config():
    """The resolved `active:` section ({} when the config has none)."""
    return config.get("active") or {}


def iteration_name(k):
    """Folder name of iteration k: iter000, iter001, ..."""
    return f"iter{int(k):03d}"


def active_dir(k):
    """Folder of iteration k."""
    return f"results/active/{iteration_name(k)}"


def iteration_index(wildcards):
    """The iteration number of a job's {iteration} wildcard (iter001 -> 1)."""
    return int(wildcards.iteration[len("iter") :])


def active_systems():
    """Systems explored: active.systems, else md.systems, else every system."""
    return list(
        active_config().get("systems") or md_config().get("systems") or systems()
    )


def explore_conditions():
    """Exploration runs of one system: {name, mode, potential, temperature_K}.

    A constant-charge run at each temperature, and a constant-potential run
    at each active.anode_potentials_V and temperature.
    """
    cfg = active_config()
    out = []
    for temperature in cfg.get("temperatures_K", []):
        out.append(
            {
                "name": f"constq_T{temperature:g}K",
                "mode": "constq",
                "potential": "none",
                "temperature_K": float(temperature),
            }
        )
        for volts in cfg["anode_potentials_V"]:
            potential = f"{float(volts)}V"
            out.append(
                {
                    "name": f"constp_{potential}_T{temperature:g}K",
                    "mode": "constp",
                    "potential": potential,
                    "temperature_K": float(temperature),
                }
            )
    return out


def condition_regex():
    """Wildcard constraint matching exactly one exploration condition."""
    return "|".join(re.escape(c["name"]) for c in explore_conditions()) or "^$"


def explore_condition(wildcards):
    """The condition dict of a job's {condition} wildcard."""
    return next(c for c in explore_conditions() if c["name"] == wildcards.condition)


def explore_run_dirs(k):
    """Exploration run folders of iteration k."""
    return [
        f"{active_dir(k)}/explore/{system}/{c['name']}"
        for system in active_systems()
        for c in explore_conditions()
    ]


def iteration_models(k):
    """Packaged models of data set k: every seed (the ensemble's deviation)."""
    root = "results/train" if int(k) == 0 else active_train_dir(k)
    return [f"{root}/models/{seed}/model.nequip.zip" for seed in train_seeds()]


def iteration_checkpoints(k):
    """Checkpoints of data set k's models (fine-tuning starts from them)."""
    root = "results/train" if int(k) == 0 else active_train_dir(k)
    return {seed: f"{root}/models/{seed}/best.ckpt" for seed in train_seeds()}


def iteration_dataset(k):
    """Data set k (with its failures table): the labelled set, then the merges."""
    if int(k) == 0:
        return "results/label/dataset.extxyz", "results/label/failures.csv"
    return f"{active_dir(k)}/dataset.extxyz", f"{active_dir(k)}/failures.csv"


def explore_settings(wildcards):
    """md: keys of an exploration run: the md: physics at the condition's
    temperature, active.n_steps long, a frame and a thermo row every
    active.frame_every steps, relaxed from the built interface first."""
    cfg = active_config()
    settings = md_settings()
    every = int(cfg["frame_every"])
    settings.update(
        temperature_K=explore_condition(wildcards)["temperature_K"],
        n_steps=int(cfg["n_steps"]),
        traj_every=every,
        thermo_every=every,
        relax_steps=md_config()["relax_steps"],
    )
    return settings


def candidate_shards():
    """Labelling shards of an iteration's candidates: label.n_shards, at most
    one per candidate."""
    if not active_config():
        return []
    n = min(int(config["label"]["n_shards"]), int(active_config()["max_candidates"]))
    return list(range(max(n, 1)))


def selection_settings():
    """The active: keys of the selection (constpot select-candidates)."""
    keys = ("trust_lo_eV_A", "trust_hi_eV_A", "max_candidates", "min_step_gap")
    keys += ("max_atoms",)
    return {k: v for k, v in active_config().items() if k in keys}


def active_targets():
    """The report and figure across iterations (none without `active:`)."""
    if not active_config():
        return []
    return [
        "results/active/fractions.csv",
        "results/active/fractions.png",
        *(f"{active_dir(k)}/report.json" for k in range(active_iterations() + 1)),
        *(
            f"{active_train_dir(k)}/metrics.csv"
            for k in range(1, active_iterations() + 1)
        ),
    ]


def retrain_settings():
    """train: keys of a retraining: those of the first training, with
    active.retrain_epochs epochs (fine-tuned from the previous checkpoint)."""
    settings = train_model_settings()
    settings["max_epochs"] = int(active_config().get("retrain_epochs", 1))
    return settings
