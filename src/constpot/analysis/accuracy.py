"""Model accuracy from the training stage's predictions table: a reader.

User guide
----------
The training stage writes ``results/train/predictions.csv`` (one row per
predicted number: energy per atom, force component, charge) and its
summary, ``results/train/summary.json``. The analysis stage reads the table
back and reduces it with the same functions
(:mod:`constpot.potential.evaluate`), so the accuracy in the analysis
summary (``results/summary.json``), claim 5 of the paper-claims check and the
training summary are one set of numbers: per quantity, the MAE and RMSE on
the test split (else val) of the ensemble's mean prediction (or of the
single model), and of the QEq charges; energies in meV/atom, forces in meV/Å
per Cartesian component, charges in e.

Example
-------
>>> table = read_predictions("results/train/predictions.csv")  # doctest: +SKIP
>>> headline_accuracy(table)["force"]["rmse"]                   # doctest: +SKIP
"""

from __future__ import annotations

from ..potential.evaluate import (
    PREDICTION_COLUMNS,
    QUANTITY_UNITS,
    metrics_from_predictions,
    model_accuracy,
    read_predictions,
)

__all__ = [
    "PREDICTION_COLUMNS",
    "QUANTITY_UNITS",
    "accuracy_metrics",
    "headline_accuracy",
    "read_predictions",
]


def accuracy_metrics(table):
    """MAE and RMSE per model, split and category of a predictions table.

    :func:`constpot.potential.evaluate.metrics_from_predictions`: columns
    ``model, split, category, quantity, target, count, mae, rmse, unit``
    (meV/atom, meV/A, e), the ensemble mean included.
    """
    return metrics_from_predictions(table)


def headline_accuracy(table) -> dict[str, dict]:
    """The headline error of each quantity (training summary's ``accuracy``).

    Returns
    -------
    dict
        quantity → ``{"split", "model", "mae", "rmse", "unit", "count",
        "n_models"}`` (:func:`constpot.potential.evaluate.model_accuracy`).
    """
    return model_accuracy(metrics_from_predictions(table))
