"""Errors of trained hybrid models: the one definition of model accuracy.

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
  value — columns :data:`PREDICTION_COLUMNS` (``model, frame, category,
  split, quantity, atom, component, reference, predicted``) with
  ``quantity`` in ``energy_per_atom`` (eV/atom, total energy), ``force``
  (eV/Å, one row per Cartesian component of the total force) and ``charge``
  (e, model ``"qeq"``); :data:`QUANTITY_UNITS`. ``atom`` is −1 and
  ``component`` empty for frame values. Only the ensemble's members appear
  (no mean row); :func:`metrics_from_predictions` adds the mean.
- **metrics** (:func:`metrics_table`, :func:`metrics_from_predictions`):
  ``model, split, category, quantity, target, count, mae, rmse, unit`` — per
  model and the ensemble (``"ensemble"``, the mean prediction of two or more
  models, which is what MD with the ensemble integrates), per split and
  category (``"all"`` for the whole split), for ``target`` ``short`` and
  ``total`` (energies in meV/atom, forces in meV/Å per Cartesian component)
  and ``qeq`` (charges, e); :data:`METRIC_UNITS`.

The errors are computed once, per frame (:func:`frame_errors`: count, sum of
|error| and of error², in the table's units) and reduced by
:func:`frame_metrics`:

.. math::

    \\mathrm{MAE} = \\frac{\\sum_f w_f \\sum_{i \\in f} |e_i|}{\\sum_f w_f n_f},
    \\qquad
    \\mathrm{RMSE} = \\Big(\\frac{\\sum_f w_f \\sum_{i \\in f} e_i^2}
    {\\sum_f w_f n_f}\\Big)^{1/2},

with weights :math:`w_f = 1` for the metrics table and bootstrap counts for
an interval (the paper-claims check resamples frames). :func:`headline` picks
the numbers of the training summary (``overall``: per split and model, the
totals and charges over all categories) and :func:`model_accuracy` the one
line per quantity that the analysis stage reports and claim 5 tests: the test
split (else val, else train) of the ensemble (or the single model), and the
QEq charges; :func:`headline_rows` the predictions behind those numbers (the
parity plots). The analysis stage reads ``predictions.csv`` and calls these
functions (:mod:`constpot.analysis.accuracy`), so the training summary, the
analysis summary and claim 5 give the same numbers.

The summary JSON adds how each model's training ended (``training``: epochs,
``max_epochs``, ``stopped_by`` from the ``training_end.json`` beside the
model, or null for a model without one) and a ``warnings`` list: a model
that the opt-in ``max_minutes`` limit stopped early depends on the speed of
the machine that trained it, so its numbers are not reproducible.

(One module of ~770 lines, on purpose: it is the single definition of model
accuracy, from the predictions through the per-frame errors to the headline;
split, the formula and its readers would drift apart again.)

Example
-------
>>> import pandas as pd
>>> table = pd.DataFrame({"model": ["m0", "m1"], "frame": 0, "category": "bulk",
...                       "split": "test", "quantity": "energy_per_atom",
...                       "reference": -1.90, "predicted": [-1.89, -1.87]})
>>> accuracy = model_accuracy(metrics_from_predictions(table))["energy_per_atom"]
>>> accuracy["model"], round(accuracy["rmse"], 6), accuracy["unit"]
('ensemble', 20.0, 'meV/atom')
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..io import atomic_path
from ..keys import CATEGORY
from .nequip_config import TRAINING_END
from .nequip_io import load_calculator, model_qeq_settings
from .settings import QEqSettings
from .split import SPLITS, read_split
from .targets import (
    QEQ_CHARGES,
    QEQ_ENERGY,
    QEQ_FORCES,
    REF_CHARGES,
    REF_ENERGY,
    read_targets,
)
from .targets import REF_FORCES as _REF_FORCES

__all__ = [
    "ENSEMBLE",
    "HEADLINE_SPLITS",
    "METRIC_UNITS",
    "PREDICTION_COLUMNS",
    "QUANTITY_UNITS",
    "Prediction",
    "evaluate_models",
    "frame_errors",
    "frame_metrics",
    "headline",
    "headline_rows",
    "metrics_from_frames",
    "metrics_from_predictions",
    "metrics_table",
    "model_accuracy",
    "predict_short",
    "prediction_table",
    "read_metrics",
    "read_predictions",
    "split_labels",
    "with_ensemble",
]

#: Model name of the ensemble mean in the tables.
ENSEMBLE = "ensemble"
#: Model name of the charge rows (QEq vs reference).
QEQ_MODEL = "qeq"

#: Columns of the predictions table, in file order.
PREDICTION_COLUMNS = (
    "model",
    "frame",
    "category",
    "split",
    "quantity",
    "atom",
    "component",
    "reference",
    "predicted",
)
#: Columns a predictions table read from elsewhere may leave out: ``atom``
#: then counts the rows of a model, frame and quantity, ``component`` is empty.
_OPTIONAL_COLUMNS = ("atom", "component")

#: Unit of each quantity's values in the predictions table.
QUANTITY_UNITS = {"energy_per_atom": "eV/atom", "force": "eV/Å", "charge": "e"}
#: Unit of each quantity's errors in the metrics, and its factor from the
#: predictions table's unit.
METRIC_UNITS = {
    "energy_per_atom": ("meV/atom", 1e3),
    "force": ("meV/A", 1e3),
    "charge": ("e", 1.0),
}
#: The split of the headline numbers: the first of these that has frames.
HEADLINE_SPLITS = ("test", "val", "train")

#: Targets of the errors: the short-range part, the reconstructed total, and
#: the QEq charges.
_TARGETS = ("short", "total", "qeq")
_FRAME_KEYS = ["model", "split", "category", "quantity", "target", "frame"]

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


def _rows(targets, split, predictions, target: str):
    """The predictions table of ``target`` "total" (with the charges) or "short"."""
    import pandas as pd

    labels = split_labels(len(targets), split)
    blocks = []  # (model, frame, quantity, atom, component, reference, predicted)

    def add(model, k, quantity, reference, predicted, atom=(-1,), component=("",)):
        blocks.append((model, k, quantity, atom, component, reference, predicted))

    for k, frame in enumerate(targets):
        n = len(frame)
        if target == "short":
            e_ref, f_ref = frame.get_potential_energy(), frame.get_forces()
            e_add, f_add = 0.0, 0.0
        else:
            e_ref, f_ref = frame.info[REF_ENERGY], frame.arrays[_REF_FORCES]
            e_add, f_add = frame.info[QEQ_ENERGY], frame.arrays[QEQ_FORCES]
        atom, xyz = np.repeat(np.arange(n), 3), np.tile(["x", "y", "z"], n)
        for name, model in predictions.items():
            e_short, f_short = model[k]
            add(name, k, "energy_per_atom", [e_ref / n], [(e_short + e_add) / n])
            f_pred = np.ravel(f_short + f_add)
            add(name, k, "force", np.ravel(f_ref), f_pred, atom, xyz)
        if target == "total" and REF_CHARGES in frame.arrays:
            q_ref, q_qeq = frame.arrays[REF_CHARGES], frame.arrays[QEQ_CHARGES]
            add(QEQ_MODEL, k, "charge", q_ref, q_qeq, np.arange(n), [""] * n)
    sizes = [len(b[5]) for b in blocks]
    frame_of = [b[1] for b in blocks]

    def repeat(values):
        return np.repeat(values, sizes).astype(object)

    return pd.DataFrame(
        {
            "model": repeat([b[0] for b in blocks]),
            "frame": np.repeat(frame_of, sizes),
            "category": repeat([targets[k].info.get(CATEGORY, "") for k in frame_of]),
            "split": repeat([labels[k] for k in frame_of]),
            "quantity": repeat([b[2] for b in blocks]),
            "atom": np.concatenate([np.asarray(b[3], int) for b in blocks]),
            "component": np.concatenate([b[4] for b in blocks]).astype(object),
            "reference": np.concatenate([np.asarray(b[5], float) for b in blocks]),
            "predicted": np.concatenate([np.asarray(b[6], float) for b in blocks]),
        }
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
        Columns :data:`PREDICTION_COLUMNS`; see the module docstring.
    """
    _check(targets, predictions)
    return _rows(targets, split, predictions, "total")


def _checked(table):
    """A copy of a predictions table with every column :func:`frame_errors` uses.

    Text columns become str (missing: ""); a missing ``atom`` counts the rows
    of each model, frame and quantity; a missing ``target`` is ``qeq`` for
    charges and ``total`` otherwise.
    """
    missing = [
        c
        for c in PREDICTION_COLUMNS
        if c not in table.columns and c not in _OPTIONAL_COLUMNS
    ]
    if missing:
        raise ValueError(f"predictions table: no column {', '.join(missing)}")
    if len(table) == 0:
        raise ValueError("predictions table: no rows")
    out = table.copy()
    for column in ("model", "category", "split", "quantity", "component"):
        if column in out.columns:
            out[column] = out[column].fillna("").astype(str)
    if "component" not in out.columns:
        out["component"] = ""
    if "atom" not in out.columns:
        out["atom"] = out.groupby(["model", "frame", "quantity"]).cumcount()
    if "target" not in out.columns:
        out["target"] = np.where(out["quantity"] == "charge", "qeq", "total")
    out["frame"] = out["frame"].astype(int)
    return out


def with_ensemble(table):
    """A predictions table checked, with the ensemble mean of two or more models.

    The rows of model :data:`ENSEMBLE` (the mean prediction per value) are
    added per target and quantity, once; the parity figure and every metric
    read this one table.
    """
    return _with_ensemble(_checked(table))


def _with_ensemble(table):
    """Add the ensemble mean per target and quantity of two or more models."""
    import pandas as pd

    parts = [table]
    keys = ["target", "quantity", "frame", "atom", "component"]
    for (_, quantity), sub in table.groupby(["target", "quantity"], sort=False):
        models = sub["model"].unique()
        if ENSEMBLE in models or len(models) < 2:
            continue
        groups = sub.groupby(keys, sort=False, dropna=False)
        ref = groups["reference"].agg(["min", "max"])
        same = ref["max"] - ref["min"] <= 1e-12 * np.maximum(1.0, ref["max"].abs())
        if not ((groups.size() == len(models)).all() and same.all()):
            raise ValueError(
                f"predictions table: the models {', '.join(models)} do not "
                f"predict the same {quantity} values (rows or references differ)"
            )
        mean = groups.agg(
            category=("category", "first"),
            split=("split", "first"),
            reference=("reference", "first"),
            predicted=("predicted", "mean"),
        ).reset_index()
        parts.append(mean.assign(model=ENSEMBLE)[table.columns])
    return pd.concat(parts, ignore_index=True)


def frame_errors(table):
    """Per-frame error sums of a predictions table, the ensemble mean added.

    Parameters
    ----------
    table : pandas.DataFrame
        Columns :data:`PREDICTION_COLUMNS` (:func:`prediction_table`, or
        ``predictions.csv`` read back; ``atom`` and ``component`` may be left
        out) and optionally ``target``.

    Returns
    -------
    pandas.DataFrame
        ``model, split, category, quantity, target, frame, count, abs_error,
        squared_error``: the number of values, Σ|e| and Σe² of each model's
        errors e = predicted − reference in one frame, in the table's units
        (:data:`QUANTITY_UNITS`). Models ``"ensemble"`` (mean prediction of
        two or more models) and ``"qeq"`` (charges) included.

    Raises
    ------
    ValueError
        A missing column, no rows, or models that do not predict the same
        values.
    """
    table = _with_ensemble(_checked(table))
    err = table["predicted"].to_numpy(float) - table["reference"].to_numpy(float)
    sums = table[_FRAME_KEYS].assign(
        count=1, abs_error=np.abs(err), squared_error=err**2
    )
    return sums.groupby(_FRAME_KEYS, sort=False, as_index=False).sum()


def frame_metrics(frames, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """MAE and RMSE over frames of one quantity, each frame weighted.

    Parameters
    ----------
    frames : pandas.DataFrame
        Rows of :func:`frame_errors`, one quantity.
    weights : (n_frames,) or (n_replicates, n_frames) array, optional
        Weight of each row (bootstrap counts); default 1.

    Returns
    -------
    mae, rmse : float or (n_replicates,) ndarray
        In :data:`METRIC_UNITS` (meV/atom, meV/Å, e); NaN where the weights
        select no value.
    """
    quantities = set(frames["quantity"])
    if len(quantities) != 1:
        raise ValueError(f"frame_metrics: one quantity at a time, got {quantities}")
    scale = METRIC_UNITS.get(quantities.pop(), ("", 1.0))[1]
    count = frames["count"].to_numpy(float)
    abs_sum = frames["abs_error"].to_numpy(float)
    sq_sum = frames["squared_error"].to_numpy(float)
    if weights is None:
        n, a, s = count.sum(), abs_sum.sum(), sq_sum.sum()
    else:
        w = np.asarray(weights, float)
        n, a, s = w @ count, w @ abs_sum, w @ sq_sum
    with np.errstate(invalid="ignore", divide="ignore"):
        return a / n * scale, np.sqrt(s / n) * scale


def metrics_from_predictions(table):
    """Errors per model, split and category of a predictions table.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`frame_errors` takes it.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, split, category, quantity, target, count, mae, rmse,
        unit``; energies in meV/atom, forces in meV/Å (per Cartesian
        component), charges in e; splits of :data:`SPLITS` only.
    """
    return metrics_from_frames(frame_errors(table))


def metrics_from_frames(frames):
    """:func:`metrics_from_predictions` of the per-frame sums (:func:`frame_errors`).

    Rows in the order split, category ("all" first), model (the members, the
    ensemble, then the QEq charges), target, quantity.
    """
    import pandas as pd

    predicting = set(frames.loc[frames["target"] != "qeq", "model"])
    models = [m for m in frames["model"].unique() if m != ENSEMBLE]
    models = [m for m in models if m in predicting] + [ENSEMBLE]
    models += [m for m in frames["model"].unique() if m not in models]
    order = {m: i for i, m in enumerate(models)}
    quantities = [q for q in METRIC_UNITS if q in set(frames["quantity"])]
    quantities += sorted(set(frames["quantity"]) - set(quantities))
    targets = [t for t in _TARGETS if t in set(frames["target"])]
    targets += sorted(set(frames["target"]) - set(targets))
    rows = []
    for sp in SPLITS:
        in_split = frames[frames["split"] == sp]
        for cat in ["all", *sorted(set(in_split["category"]))]:
            sel = in_split if cat == "all" else in_split[in_split["category"] == cat]
            groups = dict(list(sel.groupby(["model", "target", "quantity"])))
            for model in sorted(set(sel["model"]), key=order.get):
                for target in targets:
                    for quantity in quantities:
                        grp = groups.get((model, target, quantity))
                        if grp is None:
                            continue
                        mae, rmse = frame_metrics(grp)
                        rows.append(
                            {
                                "model": model,
                                "split": sp,
                                "category": cat,
                                "quantity": quantity,
                                "target": target,
                                "count": int(grp["count"].sum()),
                                "mae": float(mae),
                                "rmse": float(rmse),
                                "unit": METRIC_UNITS.get(quantity, ("",))[0],
                            }
                        )
    columns = ["model", "split", "category", "quantity", "target", "count"]
    return pd.DataFrame(rows, columns=[*columns, "mae", "rmse", "unit"])


def metrics_table(
    targets: Sequence[Atoms],
    split: Mapping[str, Sequence[int]],
    predictions: Mapping[str, Sequence[Prediction]],
):
    """Errors per model, split and category (see the module docstring).

    Parameters
    ----------
    targets, split, predictions
        As :func:`prediction_table` takes them.

    Returns
    -------
    pandas.DataFrame
        :func:`metrics_from_predictions` of the short-range and the total
        predictions (``target`` ``short``, ``total``, ``qeq``).
    """
    import pandas as pd

    _check(targets, predictions)
    table = pd.concat(
        [
            _rows(targets, split, predictions, "short").assign(target="short"),
            _checked(_rows(targets, split, predictions, "total")),
        ],
        ignore_index=True,
    )
    return metrics_from_predictions(table)


def headline(metrics) -> dict:
    """Overall errors of the totals (and charges): split -> model -> quantity.

    Parameters
    ----------
    metrics : pandas.DataFrame
        :func:`metrics_table` or :func:`metrics_from_predictions`.

    Returns
    -------
    dict
        ``{split: {model: {quantity: {"mae", "rmse", "unit"}}}}`` over all
        categories: the ``overall`` numbers of the training summary.
    """
    out: dict = {}
    sel = (metrics["category"] == "all") & (metrics["target"] != "short")
    for row in metrics[sel].itertuples():
        out.setdefault(row.split, {}).setdefault(row.model, {})[row.quantity] = {
            "mae": row.mae,
            "rmse": row.rmse,
            "unit": row.unit,
        }
    return out


def model_accuracy(metrics) -> dict[str, dict]:
    """The headline error of each quantity: one split, the ensemble's numbers.

    The split is the first of :data:`HEADLINE_SPLITS` in ``metrics``; the
    model is ``"ensemble"`` where there is one (two or more models), else the
    single model (``"qeq"`` for charges).

    Parameters
    ----------
    metrics : pandas.DataFrame
        :func:`metrics_table` or :func:`metrics_from_predictions`.

    Returns
    -------
    dict
        quantity → ``{"split", "model", "mae", "rmse", "unit", "count",
        "n_models"}``, the numbers of :func:`headline` (meV/atom, meV/Å, e);
        ``n_models`` counts the members. Empty when no split has rows.
    """
    sel = metrics[(metrics["category"] == "all") & (metrics["target"] != "short")]
    split = next((s for s in HEADLINE_SPLITS if s in set(sel["split"])), None)
    out: dict[str, dict] = {}
    if split is None:
        return out
    sel = sel[sel["split"] == split]
    for quantity, grp in sel.groupby("quantity", sort=False):
        models = list(grp["model"])
        if ENSEMBLE in models:
            model = ENSEMBLE
        elif len(models) == 1:
            model = models[0]
        else:
            raise ValueError(
                f"metrics: {quantity} of models {', '.join(models)} without the "
                f"{ENSEMBLE!r} row (use metrics_from_predictions)"
            )
        row = grp[grp["model"] == model].iloc[0]
        out[str(quantity)] = {
            "split": split,
            "model": str(model),
            "mae": float(row["mae"]),
            "rmse": float(row["rmse"]),
            "unit": str(row["unit"]),
            "count": int(row["count"]),
            "n_models": len([m for m in models if m != ENSEMBLE]),
        }
    return out


def headline_rows(table):
    """The predictions behind :func:`model_accuracy`: parity data of the headline.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`frame_errors` takes it.

    Returns
    -------
    pandas.DataFrame
        The rows of the headline split and model of each quantity (the
        ensemble mean of the members for energies and forces, QEq for
        charges), columns of the table plus ``target``; table units.
    """
    import pandas as pd

    table = _with_ensemble(_checked(table))
    parts = [
        table[
            (table["model"] == a["model"])
            & (table["split"] == a["split"])
            & (table["quantity"] == quantity)
            & (table["target"] != "short")
        ]
        for quantity, a in model_accuracy(metrics_from_predictions(table)).items()
    ]
    return pd.concat(parts, ignore_index=True) if parts else table.iloc[:0]


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
        Headline numbers (``overall``: :func:`headline`; ``accuracy``:
        :func:`model_accuracy`, what the analysis stage reports and claim 5
        tests) and how each model's training ended (see the module
        docstring).
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
    overall = headline(metrics)
    for line in _headline_lines(overall):
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
                        "overall": overall,
                        "accuracy": model_accuracy(metrics),
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
    # progress imports lightning (heavy)
    from .progress import read_training_end

    path = Path(model).parent / TRAINING_END
    if not path.is_file():
        return None
    end = read_training_end(path)
    return {k: end[k] for k in ("epochs", "max_epochs", "stopped_by")}


def _headline_lines(overall: dict) -> list[str]:
    lines = []
    for sp, models in overall.items():
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


def read_predictions(path: str | os.PathLike):
    """Read and check a predictions table (``predictions.csv``).

    Returns
    -------
    pandas.DataFrame
        The table with text columns as str ("" where empty), ``atom`` and
        ``component`` filled where the file leaves them out, and ``target``
        (``total``, or ``qeq`` for charges).

    Raises
    ------
    FileNotFoundError
        No file.
    ValueError
        No rows, or a missing column (named).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"predictions file not found: {path}")
    try:
        return _checked(pd.read_csv(path))
    except pd.errors.EmptyDataError as err:
        raise ValueError(f"{path}: empty predictions table") from err
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err
