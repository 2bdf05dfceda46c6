# Shared helpers included by every stage; small functions only, no physics.
# `config` is resolved (schema defaults filled in) by the Snakefile.

import json

from constpot.config import labels_have_charges
from constpot.runs import md_batches, md_sweep

QEQ_MODES = ("constq", "constp")


def qeq_modes():
    """QEq control modes: constant charge (constq), constant potential (constp)."""
    return list(QEQ_MODES)


def qeq_mode_regex():
    """Wildcard constraint matching exactly one QEq mode."""
    return "|".join(QEQ_MODES)


def qeq_slab_flag(wildcards):
    """`--slab` when the config asks for slab (2D-periodic) electrostatics."""
    return "--slab" if config["qeq"]["slab"] else ""


def qeq_potential_flags(wildcards):
    """Electrode potentials (V) for `constpot qeq`, constant-potential mode only.

    The constant-charge run passes no potential flags, so editing the
    potentials in the config reruns only the constp job. The `--flag=value`
    form keeps negative values from being read as options.
    """
    if wildcards.mode != "constp":
        return ""
    cfg = config["qeq"]
    return (
        f"--anode-potential={cfg['anode_potential_V']} "
        f"--counter-potential={cfg['counter_potential_V']}"
    )


def systems():
    """Names of the interface systems in config `systems:` (may be none)."""
    return list(config.get("systems") or {})


def system_regex():
    """Wildcard constraint matching exactly one configured system name."""
    return "|".join(systems()) or "^$"


def job_config(**sections):
    """Resolved config sections of one job, as JSON for `--config-json`.

    The JSON is the job's input: pass it through `params:` so that editing
    these sections (and nothing else) reruns the job, and the job runs with
    exactly what Snakemake resolved (config files and --config overrides).
    """
    return json.dumps(sections, sort_keys=True)


def label_systems():
    """Interfaces sampled for reference data (default: every system)."""
    return list(config["label"].get("systems") or systems())


def label_charges():
    """Whether the labels carry reference charges (the teacher's only with a
    charge_labeller): the chi/J fit report needs them."""
    return labels_have_charges(config["label"]["labeller"])


def label_shards():
    """Shard indices 0 .. label.n_shards - 1."""
    return list(range(config["label"]["n_shards"]))


def label_frames():
    """Frames that label_shard labels: the committed label.frames when
    given, else the sample rule's."""
    return config["label"].get("frames") or "results/label/frames.extxyz"


def labelled_shards(wildcards=None):
    """Labelled frames that `dataset` merges, the committed label.dataset
    (with its .failures.csv) when given, else every shard of label_shard."""
    given = config["label"].get("dataset")
    if given:
        return {
            "shards": [given],
            "failures": [given[: -len(".extxyz")] + ".failures.csv"],
        }
    return {
        "shards": expand("results/label/shards/{shard}.extxyz", shard=label_shards()),
        "failures": expand(
            "results/label/shards/{shard}.failures.csv", shard=label_shards()
        ),
    }


PAPER = "paper"


def variants():
    """Named variants of the paper's model (config `variants:`), run beside it."""
    return list(config["variants"])


def variant_regex():
    """Wildcard constraint matching exactly one configured variant name."""
    return "|".join(variants()) or "^$"


def variant_change(variant):
    """The variant's overrides ({} for the paper's model itself)."""
    return {} if variant == PAPER else config["variants"][variant]


def variant_md(variant=PAPER):
    """The md: section with the variant's overrides ({} when no MD is run)."""
    if not config.get("md"):
        return {}
    return {**config["md"], **variant_change(variant).get("md", {})}


def variant_train(variant=PAPER):
    """The train: section with the variant's overrides."""
    return {**config["train"], **variant_change(variant).get("train", {})}


def model_set(variant=PAPER):
    """Whose models a variant runs: its own when it changes train:, else the paper's."""
    return variant if variant_change(variant).get("train") else PAPER


def variant_dir(variant=PAPER):
    """Output root of a variant: results/ for the paper's model."""
    return "results" if variant == PAPER else f"results/variants/{variant}"


def train_dir(variant=PAPER):
    """Training folder of a variant's models."""
    return f"{variant_dir(model_set(variant))}/train"


def active_iterations():
    """Active-learning retraining rounds (0 without an `active:` section)."""
    return int((config.get("active") or {}).get("iterations", 0))


def active_train_dir(k):
    """Training folder of the models of active learning's data set k (k >= 1)."""
    return f"results/active/iter{int(k):03d}/train"


def production_train_dir(variant=PAPER):
    """Models a variant's MD runs: with active learning, the paper's model set
    runs the last iteration's models; variants with models of their own
    (train: overrides) keep theirs."""
    if model_set(variant) == PAPER and active_iterations() > 0:
        return active_train_dir(active_iterations())
    return train_dir(variant)


def md_runs(variant=PAPER):
    """The MD sweep of config `md:`: dicts with keys system, mode, potential, replica.

    constpot.runs.md_sweep names the runs (one constp run per
    md.anode_potentials_V and a constq control per system and replica), so
    the folders results/md/{system}/{mode}_{potential}_r{replica}/ (rule md,
    md.smk) are the ones `constpot md` and the analysis parse. A variant's
    runs go under results/variants/{variant}/md/; its md: overrides may
    narrow its sweep.
    """
    cfg = variant_md(variant)
    if not cfg:
        return []
    return [run.todict() for run in md_sweep(cfg, systems())]
