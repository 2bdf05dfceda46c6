"""Test metrics and predictions of trained hybrid models.

Each model predicts the short-range energy and forces of every target frame;
adding the stored constant-charge QEq part reconstructs the total,

.. math::

    \\hat E = \\hat E_\\mathrm{short} + E_\\mathrm{QEq}, \\qquad
    \\hat E - E_\\mathrm{ref} = \\hat E_\\mathrm{short} - E_\\mathrm{short},

so short-range and total errors are the same numbers by construction (up to
round-off); both are reported, and the test suite checks the identity against
a fresh QEq solve. Charges are the QEq model's alone (the network does not
predict charges): their error is QEq vs the labeller's (Mulliken for
GFN1-xTB) charges.

Two tables, both tidy CSV:

- **predictions** (:func:`prediction_table`): one row per model, frame and
  value — columns ``model, frame, category, split, quantity, atom, component,
  reference, predicted`` with ``quantity`` in ``energy_per_atom`` (eV/atom,
  total energy), ``force`` (eV/Å, one row per Cartesian component of the total
  force) and ``charge`` (e, model ``"qeq"``). ``atom`` is −1 and
  ``component`` empty for frame values. Only the ensemble's members appear
  (no mean row, so that averages over models are averages over members).
  The analysis stage reads this file (:mod:`constpot.analysis.accuracy`).
- **metrics** (:func:`metrics_table`): ``model, split, category, quantity,
  target, count, mae, rmse, unit`` — per model and the ensemble mean
  (``"ensemble"``, two or more models), per split and category (``"all"``
  for the whole split), for ``target`` ``short`` and ``total`` (energies in
  meV/atom, forces in meV/Å per component) and ``qeq`` (charges, e).

The summary JSON adds how each model's training ended (``training``: epochs,
``max_epochs``, ``stopped_by`` from the ``training_end.json`` beside the
model, or null for a model without one) and a ``warnings`` list: a model
that the opt-in ``max_minutes`` limit stopped early depends on the speed of
the machine that trained it, so its numbers are not reproducible.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..io import atomic_path
from .targets import QEQ_CHARGES, QEQ_ENERGY, QEQ_FORCES, REF_CHARGES, REF_ENERGY
from .targets import REF_FORCES as _REF_FORCES
from .training import SPLITS, TRAINING_END

__all__ = [
    "ENSEMBLE",
    "Prediction",
    "evaluate_models",
    "metrics_table",
    "predict_short",
    "prediction_table",
    "split_labels",
]

#: Model name of the ensemble mean in the tables.
ENSEMBLE = "ensemble"
#: Model name of the charge rows (QEq vs reference).
QEQ_MODEL = "qeq"

#: A model's short-range prediction of one frame: (energy eV, forces (n, 3) eV/Å).
Prediction = tuple[float, np.ndarray]


def predict_short(calc, frames: Sequence[Atoms]) -> list[Prediction]:
    """Short-range energy and forces of each frame with an ASE calculator.

    Parameters
    ----------
    calc : ase Calculator
        E.g. :func:`constpot.potential.nequip_io.load_calculator`.
    frames : sequence of ase.Atoms

    Returns
    -------
    list of (float, (n_atoms, 3) ndarray)
        eV and eV/Å.
    """
    out = []
    for frame in frames:
        atoms = Atoms(
            numbers=frame.numbers,
            positions=frame.positions,
            cell=frame.cell,
            pbc=frame.pbc,
        )
        atoms.calc = calc
        out.append((float(atoms.get_potential_energy()), np.array(atoms.get_forces())))
    return out


def split_labels(n_frames: int, split: Mapping[str, Sequence[int]]) -> list[str]:
    """The split name of each frame ("" for frames in no split)."""
    labels = [""] * n_frames
    for name in SPLITS:
        for i in split.get(name, ()):
            labels[int(i)] = name
    return labels


def _with_ensemble(predictions: Mapping[str, Sequence[Prediction]]) -> dict:
    preds = dict(predictions)
    if len(preds) > 1 and ENSEMBLE not in preds:
        models = list(preds.values())
        preds[ENSEMBLE] = [
            (
                float(np.mean([m[k][0] for m in models])),
                np.mean([m[k][1] for m in models], axis=0),
            )
            for k in range(len(models[0]))
        ]
    return preds


def _check(targets, predictions):
    for name, preds in predictions.items():
        if len(preds) != len(targets):
            raise ValueError(
                f"model {name}: {len(preds)} predictions for {len(targets)} frames"
            )
        for k, (frame, (_, forces)) in enumerate(zip(targets, preds, strict=True)):
            if np.shape(forces) != (len(frame), 3):
                raise ValueError(
                    f"model {name}, frame {k}: forces of shape {np.shape(forces)}"
                )


def prediction_table(
    targets: Sequence[Atoms],
    split: Mapping[str, Sequence[int]],
    predictions: Mapping[str, Sequence[Prediction]],
):
    """Tidy table of reference vs predicted totals and charges.

    Parameters
    ----------
    targets : sequence of ase.Atoms
        Frames of a targets file (:mod:`.targets`).
    split : mapping
        ``{"train": [...], "val": [...], "test": [...]}``.
    predictions : mapping of str to list of (energy, forces)
        Short-range predictions per model name (eV, eV/Å).

    Returns
    -------
    pandas.DataFrame
        See the module docstring.
    """
    import pandas as pd

    _check(targets, predictions)
    preds = dict(predictions)
    labels = split_labels(len(targets), split)
    parts = []
    for k, frame in enumerate(targets):
        n = len(frame)
        common = {"frame": k, "category": frame.info.get("category", ""),
                  "split": labels[k]}  # fmt: skip
        e_qeq, f_qeq = frame.info[QEQ_ENERGY], frame.arrays[QEQ_FORCES]
        f_ref = frame.arrays[_REF_FORCES]
        atom = np.repeat(np.arange(n), 3)
        comp = np.tile(np.array(["x", "y", "z"]), n)
        for name, model in preds.items():
            e_short, f_short = model[k]
            parts.append(
                pd.DataFrame(
                    {
                        "model": name,
                        **common,
                        "quantity": "energy_per_atom",
                        "atom": -1,
                        "component": "",
                        "reference": frame.info[REF_ENERGY] / n,
                        "predicted": (e_short + e_qeq) / n,
                    },
                    index=[0],
                )
            )
            parts.append(
                pd.DataFrame(
                    {
                        "model": name,
                        **common,
                        "quantity": "force",
                        "atom": atom,
                        "component": comp,
                        "reference": f_ref.ravel(),
                        "predicted": (f_short + f_qeq).ravel(),
                    }
                )
            )
        if REF_CHARGES in frame.arrays:
            parts.append(
                pd.DataFrame(
                    {
                        "model": QEQ_MODEL,
                        **common,
                        "quantity": "charge",
                        "atom": np.arange(n),
                        "component": "",
                        "reference": frame.arrays[REF_CHARGES],
                        "predicted": frame.arrays[QEQ_CHARGES],
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def _errors(targets, preds, idx, target):
    """Energy-per-atom errors (eV) and force component errors (eV/Å)."""
    de, df = [], []
    for k in idx:
        frame = targets[k]
        n = len(frame)
        e_short, f_short = preds[k]
        if target == "short":
            de.append((e_short - frame.get_potential_energy()) / n)
            df.append((f_short - frame.get_forces()).ravel())
        else:
            e_tot = e_short + frame.info[QEQ_ENERGY]
            de.append((e_tot - frame.info[REF_ENERGY]) / n)
            f_tot = f_short + frame.arrays[QEQ_FORCES]
            df.append((f_tot - frame.arrays[_REF_FORCES]).ravel())
    return np.asarray(de), (np.concatenate(df) if df else np.zeros(0))


def metrics_table(
    targets: Sequence[Atoms],
    split: Mapping[str, Sequence[int]],
    predictions: Mapping[str, Sequence[Prediction]],
):
    """Errors per model, split and category (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Columns ``model, split, category, quantity, target, count, mae, rmse,
        unit``; energies in meV/atom, forces in meV/Å (per Cartesian
        component), charges in e.
    """
    import pandas as pd

    _check(targets, predictions)
    preds = _with_ensemble(predictions)
    labels = np.asarray(split_labels(len(targets), split))
    cats = np.asarray([f.info.get("category", "") for f in targets])
    rows = []

    def add(model, sp, cat, quantity, target, err, unit, scale):
        if err.size == 0:
            return
        rows.append(
            {
                "model": model,
                "split": sp,
                "category": cat,
                "quantity": quantity,
                "target": target,
                "count": int(err.size),
                "mae": float(np.mean(np.abs(err)) * scale),
                "rmse": float(np.sqrt(np.mean(err**2)) * scale),
                "unit": unit,
            }
        )

    for sp in SPLITS:
        for cat in ["all", *sorted(set(cats[labels == sp].tolist()))]:
            sel = (labels == sp) & ((cats == cat) | (cat == "all"))
            idx = np.flatnonzero(sel)
            if idx.size == 0:
                continue
            for name, model in preds.items():
                for target in ("short", "total"):
                    de, df = _errors(targets, model, idx, target)
                    add(name, sp, cat, "energy_per_atom", target, de, "meV/atom", 1e3)
                    add(name, sp, cat, "force", target, df, "meV/A", 1e3)
            dq = [
                targets[k].arrays[QEQ_CHARGES] - targets[k].arrays[REF_CHARGES]
                for k in idx
                if REF_CHARGES in targets[k].arrays
            ]
            if dq:
                add(QEQ_MODEL, sp, cat, "charge", "qeq", np.concatenate(dq), "e", 1.0)
    return pd.DataFrame(rows)


def evaluate_models(
    models: Mapping[str, str | os.PathLike],
    targets_path: str | os.PathLike,
    split_path: str | os.PathLike,
    qeq_settings: str | os.PathLike,
    metrics_csv: str | os.PathLike,
    predictions_csv: str | os.PathLike,
    summary_json: str | os.PathLike | None = None,
    device: str = "cpu",
    log=print,
):
    """Predict every target frame with every model; write both tables.

    Parameters
    ----------
    models : mapping of str to path
        Model name (e.g. ``"seed0"``) -> packaged model; each must have the
        ``qeq.json`` of ``qeq_settings`` beside it.
    targets_path, split_path, qeq_settings : path
        The targets, the split, and the QEq settings the targets were made
        with.
    metrics_csv, predictions_csv : path
        Outputs (written atomically).
    summary_json : path, optional
        Headline test numbers (overall MAE per model) and how each model's
        training ended (see the module docstring).
    device : str

    Returns
    -------
    pandas.DataFrame
        The metrics.

    Raises
    ------
    ValueError
        A model trained with other QEq settings than the targets'.
    """
    from .nequip_io import load_calculator, model_qeq_settings
    from .settings import QEqSettings
    from .targets import read_targets
    from .training import read_split

    if not models:
        raise ValueError("evaluate_models: no models given")
    settings = QEqSettings.read(qeq_settings)
    targets = read_targets(targets_path)
    split = read_split(split_path)
    predictions = {}
    for name, path in models.items():
        settings.check_compatible(model_qeq_settings(path), what=f"model {name}")
        calc = load_calculator(path, device=device)
        predictions[name] = predict_short(calc, targets)
        log(f"model {name}: predicted {len(targets)} frames")
    metrics = metrics_table(targets, split, predictions)
    table = prediction_table(targets, split, predictions)
    with atomic_path(metrics_csv) as tmp:
        metrics.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_path(predictions_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.8g")
    headline = _headline(metrics)
    for line in _headline_lines(headline):
        log(line)
    training = {name: _training_end(path) for name, path in models.items()}
    warnings = [
        f"model {name} stopped by {end['stopped_by']} after {end['epochs']} of "
        f"{end['max_epochs']} epochs: not reproducible on another machine"
        for name, end in training.items()
        if end is not None and end["stopped_by"] != "max_epochs"
    ]
    for line in warnings:
        log(f"WARNING: {line}")
    if summary_json is not None:
        with atomic_path(summary_json) as tmp:
            tmp.write_text(
                json.dumps(
                    {
                        "models": {k: str(v) for k, v in models.items()},
                        "targets": str(targets_path),
                        "n_frames": len(targets),
                        "split_sizes": {k: len(v) for k, v in split.items()},
                        "overall": headline,
                        "training": training,
                        "warnings": warnings,
                    },
                    indent=2,
                )
                + "\n"
            )
    return metrics


def _training_end(model: str | os.PathLike) -> dict | None:
    """Epochs and stop reason of a model's training (None: no record)."""
    from .progress import read_training_end

    path = Path(model).parent / TRAINING_END
    if not path.is_file():
        return None
    end = read_training_end(path)
    return {k: end[k] for k in ("epochs", "max_epochs", "stopped_by")}


def _headline(metrics) -> dict:
    """Overall errors of the totals (and charges): split -> model -> quantity."""
    out: dict = {}
    sel = (metrics["category"] == "all") & (metrics["target"] != "short")
    for row in metrics[sel].itertuples():
        out.setdefault(row.split, {}).setdefault(row.model, {})[row.quantity] = {
            "mae": row.mae,
            "rmse": row.rmse,
            "unit": row.unit,
        }
    return out


def _headline_lines(headline: dict) -> list[str]:
    lines = []
    for sp, models in headline.items():
        for model, values in models.items():
            parts = [
                f"{q} MAE {v['mae']:.4g} RMSE {v['rmse']:.4g} {v['unit']}"
                for q, v in values.items()
            ]
            lines.append(f"{sp:<5} {model:<9} " + "; ".join(parts))
    return lines


def read_metrics(path: str | os.PathLike):
    """Read a metrics CSV (pandas.DataFrame)."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"metrics file not found: {path}")
    return pd.read_csv(path)
