"""The ``nequip-train`` config of one model, from the ``train:`` config section.

The network learns E_short = E_ref − E_QEq (:mod:`.targets`) with ``nequip``
0.19 (Batzner et al., Nat. Commun. 13, 2453 (2022),
doi:10.1038/s41467-022-29939-5). This module turns the ``train:`` section of a
constpot config into the files ``nequip-train`` reads; :mod:`.training` runs
it:

1. :func:`resolve_train_settings` — a size preset (:data:`PRESETS`)
   overridden key by key by the ``train:`` section, validated;
2. :func:`composition_energy_shifts` — per-element energy shifts from a
   least-squares fit of E_short to the composition of the training frames;
3. :func:`nequip_config` — the config (a plain dict, written as YAML):
   :class:`nequip.model.NequIPGNNModel` with a ZBL pair term, those energy
   shifts, per-element energy scales from the training forces, EMA weights,
   Adam + ReduceLROnPlateau, a CSV learning-curve log and the progress
   callback (:class:`~.progress.TrainingProgress`) that records how training
   ended (:data:`TRAINING_END`);
4. :func:`write_run_inputs` — train/val/test extxyz and ``config.yaml`` in
   the run folder.

Size presets (:data:`PRESETS`): ``tiny`` is the demo (CPU, float64, ~3.5 min
per model on one core); ``paper`` is a production-size NequIP for GPUs. Every
preset key can be overridden in the config's ``train:`` section.

Reproducibility: the config stops training on ``max_epochs``, never on
Lightning's wall-time limit; the model seed fixes the initial weights, the
data seed (the same number) the batch order; there are no data-loader
workers, and Lightning runs with ``deterministic=True`` on the CPU
(``"warn"`` on a GPU, where an operation without a deterministic kernel warns
instead of failing).

Example
-------
>>> settings = resolve_train_settings({"preset": "tiny", "max_epochs": 10})
>>> config = nequip_config(settings, type_names=["Li"], energy_shifts={"Li": -1.9},
...                        seed=0, train_file="train.extxyz", val_file="val.extxyz")
>>> config["trainer"]["max_epochs"], config["training_module"]["model"]["r_max"]
(10, 4.5)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import yaml
from ase import Atoms

from ..io import atomic_path
from ..keys import TRAINING_END_FILE
from .split import SPLITS

__all__ = [
    "PRESETS",
    "TRAINING_END",
    "composition_energy_shifts",
    "nequip_config",
    "resolve_train_settings",
    "write_run_inputs",
]

#: How training ended (:class:`~.progress.TrainingProgress`), in the run folder
#: (:data:`constpot.keys.TRAINING_END_FILE`).
TRAINING_END = TRAINING_END_FILE

#: Size presets of the NequIP model and its training. ``tiny``: the demo (a
#: two-layer l=1 network with 16 features, float64 on the CPU; 80 epochs of
#: ~110 frames in batches of 2 take ~3.5 min on one core; no time limit, so a
#: busy machine takes longer but trains the same model; energy weight 10,
#: which puts the per-atom energy MSE (eV²) on a par with the force MSE
#: (eV²/Å²) in the loss: on the demo set (one model, clusters left out) it
#: lowers the held-out energy MAE from 34 to 29 meV/atom and raises the force
#: MAE from 99 to 127 meV/Å, inside the 150 meV/Å target). ``paper``: a
#: production NequIP (four layers, l=2, 64 features, float32 on a GPU), the
#: size of NequIP's "M" foundation preset at a quarter of the width, meant to
#: reach ~1–2 meV/atom and ~30–50 meV/Å on DFT data of this kind. Neither
#: sets ``max_minutes`` (an opt-in wall-time limit, recorded when it fires).
PRESETS: dict[str, dict] = {
    "tiny": {
        "r_max": 4.5,
        "num_layers": 2,
        "l_max": 1,
        "parity": False,
        "num_features": 16,
        "radial_mlp_depth": 1,
        "radial_mlp_width": 32,
        "num_bessels": 8,
        "model_dtype": "float64",
        "max_epochs": 80,
        "max_minutes": None,
        "batch_size": 2,
        "lr": 0.01,
        "energy_weight": 10.0,
        "force_weight": 1.0,
        "ema_decay": 0.99,
        "lr_patience": 5,
        "lr_factor": 0.5,
        "zbl": True,
        "accelerator": "cpu",
    },
    "paper": {
        "r_max": 5.0,
        "num_layers": 4,
        "l_max": 2,
        "parity": False,
        "num_features": 64,
        "radial_mlp_depth": 2,
        "radial_mlp_width": 64,
        "num_bessels": 8,
        "model_dtype": "float32",
        "max_epochs": 1000,
        "max_minutes": None,
        "batch_size": 8,
        "lr": 0.005,
        "energy_weight": 10.0,
        "force_weight": 1.0,
        "ema_decay": 0.999,
        "lr_patience": 25,
        "lr_factor": 0.5,
        "zbl": True,
        "accelerator": "auto",
    },
}

#: Keys of ``train:`` that are not model/optimiser settings.
_STUDY_KEYS = (
    "preset",
    "seeds",
    "split",
    "split_seed",
    "qeq_table",
    "molecule_charges",
    "fit",
    "threads",
    "device",
)


def resolve_train_settings(train: Mapping | None) -> dict:
    """The preset's settings overridden by the ``train:`` config section.

    Parameters
    ----------
    train : mapping or None
        The ``train:`` section; ``preset`` (default ``"tiny"``) picks the
        defaults, any key of :data:`PRESETS` overrides one.

    Returns
    -------
    dict
        Every key of the preset plus ``preset``.

    Raises
    ------
    ValueError
        Unknown preset or key, or a value out of range; the message names it.
    """
    train = dict(train or {})
    preset = train.get("preset", "tiny")
    if preset not in PRESETS:
        raise ValueError(
            f"train.preset must be one of {', '.join(PRESETS)}, got {preset!r}"
        )
    out = {"preset": preset, **PRESETS[preset]}
    device = train.get("device")
    if device is not None:
        if device not in ("cpu", "cuda"):
            raise ValueError(f"train.device must be cpu or cuda, got {device!r}")
        out["accelerator"] = "gpu" if device == "cuda" else "cpu"
    for key, value in train.items():
        if key in _STUDY_KEYS:
            continue
        if key not in out:
            raise ValueError(
                f"train.{key}: unknown setting (known: {', '.join(sorted(out))})"
            )
        out[key] = value
    for key in ("r_max", "lr", "energy_weight", "force_weight"):
        if not (float(out[key]) > 0):
            raise ValueError(f"train.{key} must be > 0, got {out[key]}")
    for key in ("num_layers", "num_features", "max_epochs", "batch_size"):
        if int(out[key]) < 1:
            raise ValueError(f"train.{key} must be >= 1, got {out[key]}")
    minutes = out["max_minutes"]
    if minutes is not None and not float(minutes) > 0:
        raise ValueError(f"train.max_minutes must be > 0 or null, got {minutes!r}")
    if out["model_dtype"] not in ("float32", "float64"):
        raise ValueError(
            f"train.model_dtype must be float32 or float64, got {out['model_dtype']}"
        )
    if not (0 <= float(out["ema_decay"]) < 1):
        raise ValueError(f"train.ema_decay must be in [0, 1), got {out['ema_decay']}")
    return out


def composition_energy_shifts(
    frames: Sequence[Atoms], type_names: Sequence[str]
) -> dict[str, float]:
    """Per-element energies μ_e minimising Σ_f (E_f − Σ_e n_fe μ_e)², eV.

    The network then learns only what the composition does not explain, which
    matters when frames of very different chemistry (metal, salts, liquid)
    share one model. Least squares with a tiny ridge (1e-8 eV⁻²·n) so that an
    element whose count is collinear with others still gets a finite value.

    Parameters
    ----------
    frames : sequence of ase.Atoms
        With a calculator energy (the short-range target), eV.
    type_names : sequence of str
        Element symbols, the model's types.

    Returns
    -------
    dict
        Element -> per-atom energy shift, eV.
    """
    counts = np.array(
        [[np.sum(f.symbols == t) for t in type_names] for f in frames], dtype=float
    )
    energies = np.array([f.get_potential_energy() for f in frames])
    ridge = 1e-8 * np.eye(len(type_names)) * max(1.0, float(counts.sum()))
    mu = np.linalg.solve(counts.T @ counts + ridge, counts.T @ energies)
    return {t: float(m) for t, m in zip(type_names, mu, strict=True)}


def nequip_config(
    settings: Mapping,
    *,
    type_names: Sequence[str],
    energy_shifts: Mapping[str, float],
    seed: int,
    train_file: str,
    val_file: str,
    test_file: str | None = None,
    init_checkpoint: str | os.PathLike | None = None,
) -> dict:
    """The ``nequip-train`` config for one model (a dict; write it as YAML).

    Parameters
    ----------
    settings : mapping
        From :func:`resolve_train_settings`.
    type_names : sequence of str
        Element symbols (the model types, chemical species identical).
    energy_shifts : mapping
        Per-element energy shifts, eV (:func:`composition_energy_shifts`).
    seed : int
        Model initialisation and data-loader seed.
    train_file, val_file, test_file : str
        extxyz files, relative to the run folder (where ``nequip-train``
        runs) or absolute.
    init_checkpoint : path or None
        Fine-tune: start from this ``nequip-train`` checkpoint's model
        (architecture, weights and energy shifts; ``nequip.model.
        ModelFromCheckpoint``, absolute path) instead of a new one; active
        learning retrains this way. The checkpoint must stay where it is
        while the new model is trained and packaged.

    Returns
    -------
    dict
        Hydra output goes to the run folder itself (``hydra.run.dir: .``);
        the best checkpoint is ``best.ckpt``, the learning curve
        ``logs/metrics.csv``, how training ended ``training_end.json``
        (:data:`TRAINING_END`).
    """
    s = dict(settings)
    type_names = [str(t) for t in type_names]
    missing = [t for t in type_names if t not in energy_shifts]
    if missing:
        raise ValueError(f"energy_shifts: no value for {', '.join(missing)}")
    monitor = "val0_epoch/weighted_sum"
    accelerator = s.get("accelerator", "auto")
    max_minutes = s.get("max_minutes")
    transforms = [
        {
            "_target_": "nequip.data.transforms.ChemicalSpeciesToAtomTypeMapper",
            "model_type_names": type_names,
            "chemical_species_to_atom_type_map": {t: t for t in type_names},
        },
        {
            "_target_": "nequip.data.transforms.NeighborListTransform",
            "r_max": float(s["r_max"]),
        },
    ]
    loader = {
        "_target_": "torch.utils.data.DataLoader",
        "batch_size": int(s["batch_size"]),
        "num_workers": 0,
    }
    data = {
        "_target_": "nequip.data.datamodule.ASEDataModule",
        "seed": int(seed),
        "train_file_path": train_file,
        "val_file_path": val_file,
        "transforms": transforms,
        "train_dataloader": {**loader, "shuffle": True},
        "val_dataloader": loader,
        "stats_manager": {
            "_target_": "nequip.data.CommonDataStatisticsManager",
            "type_names": type_names,
        },
    }
    if test_file is not None:
        data["test_file_path"] = test_file
        data["test_dataloader"] = loader
    model = {
        "_target_": "nequip.model.NequIPGNNModel",
        "seed": int(seed),
        "model_dtype": s["model_dtype"],
        "type_names": type_names,
        "r_max": float(s["r_max"]),
        "num_layers": int(s["num_layers"]),
        "l_max": int(s["l_max"]),
        "parity": bool(s["parity"]),
        "num_features": int(s["num_features"]),
        "radial_mlp_depth": int(s["radial_mlp_depth"]),
        "radial_mlp_width": int(s["radial_mlp_width"]),
        "num_bessels": int(s["num_bessels"]),
        "avg_num_neighbors": "${training_data_stats:num_neighbors_mean}",
        "per_type_energy_shifts": {t: float(energy_shifts[t]) for t in type_names},
        "per_type_energy_scales": "${training_data_stats:per_type_forces_rms}",
        "per_type_energy_scales_trainable": False,
        "per_type_energy_shifts_trainable": False,
    }
    if s.get("zbl", True):
        model["pair_potential"] = {
            "_target_": "nequip.nn.pair_potential.ZBL",
            "units": "metal",
            "chemical_species": type_names,
        }
    if init_checkpoint is not None:
        model = {
            "_target_": "nequip.model.ModelFromCheckpoint",
            "checkpoint_path": str(Path(init_checkpoint).resolve()),
        }
    metrics = {
        "_target_": "nequip.train.EnergyForceMetrics",
        "coeffs": {
            "per_atom_energy_mae": float(s["energy_weight"]),
            "forces_mae": float(s["force_weight"]),
        },
    }
    return {
        "run": ["train"],
        "seed": int(seed),
        "hydra": {"run": {"dir": "."}, "job": {"chdir": False}},
        "data": data,
        "trainer": {
            "_target_": "lightning.Trainer",
            "accelerator": accelerator,
            "devices": 1,
            "max_epochs": int(s["max_epochs"]),
            # Reproducible: epochs, not wall time, end a run; the opt-in
            # limit is TrainingProgress's, between epochs, and recorded.
            "max_time": None,
            "deterministic": True if accelerator == "cpu" else "warn",
            "check_val_every_n_epoch": 1,
            "log_every_n_steps": 10,
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "logger": {
                "_target_": "lightning.pytorch.loggers.CSVLogger",
                "save_dir": ".",
                "name": "logs",
                "version": "",
            },
            "callbacks": [
                {
                    "_target_": "lightning.pytorch.callbacks.ModelCheckpoint",
                    "monitor": monitor,
                    "dirpath": ".",
                    "filename": "best",
                    "save_top_k": 1,
                    "enable_version_counter": False,
                },
                {
                    "_target_": "lightning.pytorch.callbacks.LearningRateMonitor",
                    "logging_interval": "epoch",
                },
                {
                    "_target_": "constpot.potential.progress.TrainingProgress",
                    "max_minutes": None if max_minutes is None else float(max_minutes),
                    "record": TRAINING_END,
                },
            ],
        },
        "training_module": {
            "_target_": "nequip.train.EMALightningModule",
            "ema_decay": float(s["ema_decay"]),
            "loss": {
                "_target_": "nequip.train.EnergyForceLoss",
                "per_atom_energy": True,
                "coeffs": {
                    "total_energy": float(s["energy_weight"]),
                    "forces": float(s["force_weight"]),
                },
            },
            "val_metrics": metrics,
            "test_metrics": metrics,
            "optimizer": {"_target_": "torch.optim.Adam", "lr": float(s["lr"])},
            "lr_scheduler": {
                "scheduler": {
                    "_target_": "torch.optim.lr_scheduler.ReduceLROnPlateau",
                    "factor": float(s["lr_factor"]),
                    "patience": int(s["lr_patience"]),
                },
                "monitor": monitor,
                "interval": "epoch",
                "frequency": 1,
            },
            "model": model,
        },
    }


def write_run_inputs(
    targets: Sequence[Atoms],
    split: Mapping[str, Sequence[int]],
    settings: Mapping,
    seed: int,
    run_dir: str | os.PathLike,
    init_checkpoint: str | os.PathLike | None = None,
) -> Path:
    """Write train/val/test extxyz and ``config.yaml`` into ``run_dir``.

    ``init_checkpoint``: fine-tune from that checkpoint (:func:`nequip_config`).

    Returns
    -------
    Path
        The config file.
    """
    from ase.io import write

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    n = len(targets)
    for name in SPLITS:
        bad = [i for i in split[name] if not 0 <= i < n]
        if bad:
            raise ValueError(
                f"split {name}: frame index {bad[0]} out of range (have {n} frames)"
            )
    if not split["train"] or not split["val"]:
        raise ValueError("the split needs at least one train and one val frame")
    files = {}
    for name in SPLITS:
        if not split[name]:
            continue
        files[name] = f"{name}.extxyz"
        with atomic_path(run_dir / files[name]) as tmp:
            write(tmp, [targets[i] for i in split[name]], format="extxyz")
    train_frames = [targets[i] for i in split["train"]]
    type_names = sorted(
        {s for f in targets for s in f.get_chemical_symbols()},
        key=lambda s: Atoms(s).numbers[0],
    )
    config = nequip_config(
        settings,
        type_names=type_names,
        energy_shifts=composition_energy_shifts(train_frames, type_names),
        seed=seed,
        train_file=files["train"],
        val_file=files["val"],
        test_file=files.get("test"),
        init_checkpoint=init_checkpoint,
    )
    path = run_dir / "config.yaml"
    with atomic_path(path) as tmp:
        tmp.write_text(yaml.dump(config, Dumper=_NoAliasDumper, sort_keys=False))
    return path


class _NoAliasDumper(yaml.SafeDumper):
    """Write repeated objects in full (no YAML anchors): readable configs."""

    def ignore_aliases(self, data):
        return True
