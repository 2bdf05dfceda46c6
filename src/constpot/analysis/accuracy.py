"""Model accuracy from the training stage's predictions table.

User guide
----------
The training stage writes ``results/train/predictions.csv``: one row per
predicted number with columns ``model, frame, category, split, quantity,
reference, predicted``; ``quantity`` is ``energy_per_atom`` (eV/atom),
``force`` (one Cartesian component, eV/Å) or ``charge`` (e).
:func:`accuracy_metrics` gives MAE and RMSE per model, split and quantity;
:func:`headline_accuracy` the numbers the paper-claims check uses: the RMSE on
the test split (the validation split, else all rows, when there is none),
averaged over the ensemble's models.

Example
-------
>>> table = read_predictions("results/train/predictions.csv")  # doctest: +SKIP
>>> accuracy_metrics(table)                                     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = [
    "PREDICTION_COLUMNS",
    "QUANTITY_UNITS",
    "accuracy_metrics",
    "headline_accuracy",
    "read_predictions",
]

#: Columns of ``results/train/predictions.csv``.
PREDICTION_COLUMNS = (
    "model",
    "frame",
    "category",
    "split",
    "quantity",
    "reference",
    "predicted",
)

#: Unit of each predicted quantity.
QUANTITY_UNITS = {"energy_per_atom": "eV/atom", "force": "eV/Å", "charge": "e"}


def read_predictions(path: str | Path):
    """Read and check a predictions table.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        Missing file, no rows, or a missing column (named).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: predictions file not found")
    try:
        table = pd.read_csv(path)
    except pd.errors.EmptyDataError as err:
        raise ValueError(f"{path}: empty predictions table") from err
    for column in PREDICTION_COLUMNS:
        if column not in table.columns:
            raise ValueError(f"{path}: no column {column!r}")
    if table.empty:
        raise ValueError(f"{path}: empty predictions table")
    return table


def accuracy_metrics(table):
    """MAE and RMSE of predicted − reference per model, split and quantity.

    Returns
    -------
    pandas.DataFrame
        ``model, split, quantity, unit, n, mae, rmse``.
    """
    import pandas as pd

    rows = []
    for (model, split, quantity), grp in table.groupby(
        ["model", "split", "quantity"], sort=True
    ):
        err = grp["predicted"].to_numpy(float) - grp["reference"].to_numpy(float)
        rows.append(
            {
                "model": model,
                "split": split,
                "quantity": quantity,
                "unit": QUANTITY_UNITS.get(quantity, ""),
                "n": int(err.size),
                "mae": float(np.mean(np.abs(err))),
                "rmse": float(np.sqrt(np.mean(err**2))),
            }
        )
    return pd.DataFrame(
        rows, columns=["model", "split", "quantity", "unit", "n", "mae", "rmse"]
    )


def headline_accuracy(table) -> dict[str, dict]:
    """Ensemble-mean RMSE per quantity on the test split (or validation, or all).

    Returns
    -------
    dict
        quantity → ``{"split", "rmse", "mae", "unit", "n_models"}``.
    """
    splits = set(table["split"].astype(str))
    split = next((s for s in ("test", "validation", "val") if s in splits), None)
    rows = table if split is None else table[table["split"].astype(str) == split]
    metrics = accuracy_metrics(rows)
    out = {}
    for quantity, grp in metrics.groupby("quantity"):
        out[str(quantity)] = {
            "split": split or "all",
            "rmse": float(grp["rmse"].mean()),
            "mae": float(grp["mae"].mean()),
            "unit": QUANTITY_UNITS.get(str(quantity), ""),
            "n_models": int(grp["model"].nunique()),
        }
    return out
