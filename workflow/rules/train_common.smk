# Helpers of the train stage (functions of config only; rules in train.smk).
# A variant that overrides train: keys (config variants:) trains its own
# models under results/variants/{variant}/train/ (train_dir, common.smk).


def train_config():
    """The resolved `train:` section (schema defaults filled in)."""
    return config["train"]


def train_seeds():
    """Model seeds: one model of the ensemble each."""
    return list(train_config()["seeds"])


def train_qeq_table(variant=PAPER):
    """QEq settings file of a model set's targets: the paper's table or the fit."""
    return f"{train_dir(variant)}/qeq/{variant_train(variant)['qeq_table']}.json"


def train_gpus():
    """GPUs per training job: 1 on CUDA (slurm profile resource `gpu`)."""
    return 1 if train_config()["device"] == "cuda" else 0


def train_split_settings():
    """The train: keys of the split (fractions, seed)."""
    keys = ("split", "split_seed")
    return {k: v for k, v in train_config().items() if k in keys}


def train_qeq_settings(fit=False, variant=PAPER):
    """The train: keys of the QEq table (molecule charges) and, with fit, the fit."""
    keys = ("molecule_charges", "fit") if fit else ("molecule_charges",)
    return {k: v for k, v in variant_train(variant).items() if k in keys}


def qeq_table_settings():
    """The qeq: keys of the QEq tables of the hybrid model (Ewald accuracy)."""
    return {"accuracy": config["qeq"]["accuracy"]}


def train_model_settings():
    """The train: keys a training job depends on (not threads, split or seeds)."""
    skip = ("split", "split_seed", "qeq_table", "fit", "threads", "seeds")
    skip += ("molecule_charges",)  # enters through the targets
    return {k: v for k, v in train_config().items() if k not in skip}
