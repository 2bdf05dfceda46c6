# Helpers of the train stage (functions of config only; rules in train.smk).


def train_config():
    """The `train:` section (optional; {} takes every default)."""
    return config.get("train") or {}


def train_seeds():
    """Model seeds: one model of the ensemble each."""
    return [int(s) for s in train_config().get("seeds", [0, 1])]


def train_qeq_table():
    """QEq settings file of the targets: the paper's table or the fit."""
    return f"results/train/qeq/{train_config().get('qeq_table', 'paper')}.json"


def train_gpus():
    """GPUs per training job: 1 on CUDA (slurm profile resource `gpu`)."""
    return 1 if train_config().get("device", "cpu") == "cuda" else 0


def train_model_settings(wildcards):
    """The keys a training job depends on (not threads or the split's)."""
    skip = ("split", "split_seed", "qeq_table", "fit", "threads", "seeds")
    skip += ("molecule_charges",)  # enters through the targets
    return {k: v for k, v in train_config().items() if k not in skip}


def train_molecule_charges(wildcards):
    """Molecules whose QEq charge is held at its formal value (QEq settings)."""
    return train_config().get("molecule_charges") or {}
