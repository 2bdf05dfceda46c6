"""Claim 5: model accuracy — parity plots and error histograms.

Drawn from the training stage's ``predictions.csv``
(:func:`constpot.analysis.accuracy.read_predictions`): the rows behind the
headline numbers (:func:`constpot.potential.evaluate.headline_rows`: the test
split, else val, else train; the ensemble mean, or the single model, for
energies and forces, QEq for charges), so each panel's RMSE is the one the
summary and claim 5 report (there in meV, here in the table's units).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...potential.evaluate import headline_rows
from ..accuracy import QUANTITY_UNITS
from . import style

__all__ = ["plot_parity"]

#: Panel order of the quantities (others follow, sorted).
_QUANTITY_ORDER = ("energy_per_atom", "force", "charge")


def plot_parity(
    predictions, out: str | Path, max_points: int = 20000, seed: int = 0
) -> Path:
    """Claim 5: parity (predicted vs reference) and error distributions.

    One column per quantity, on its headline split and model; at most
    ``max_points`` points per panel (random subset, ``seed``).

    Parameters
    ----------
    predictions : pandas.DataFrame or None
        ``results/train/predictions.csv``; None draws a "no data" figure.
    out : path
        PNG.
    max_points : int
        Points per panel at most.
    seed : int
        Seed of the subset.
    """
    title = "Model accuracy"
    if predictions is None or predictions.empty:
        return style.no_data_figure(
            out, title, "no predictions table (results/train/predictions.csv)"
        )
    table = headline_rows(predictions)
    present = set(table["quantity"])
    quantities = [q for q in _QUANTITY_ORDER if q in present]
    quantities += sorted(present - set(quantities))
    rng = np.random.default_rng(seed)
    with style.plot_style() as plt:
        fig, axes = style.panel_grid(plt, 2, len(quantities), width=3.6, height=3.3)
        for c, quantity in enumerate(quantities):
            sub = table[table["quantity"] == quantity]
            model, split = sub["model"].iloc[0], sub["split"].iloc[0]
            if len(sub) > max_points:
                sub = sub.iloc[rng.choice(len(sub), max_points, replace=False)]
            unit = QUANTITY_UNITS.get(quantity, "")
            ref = sub["reference"].to_numpy(float)
            pred = sub["predicted"].to_numpy(float)
            err = pred - ref
            rmse = float(np.sqrt(np.mean(err**2)))
            ax = axes[0, c]
            ax.scatter(
                ref, pred, s=3, alpha=0.4, color=style.OKABE_ITO[0], rasterized=True
            )
            lo, hi = (
                float(min(ref.min(), pred.min())),
                float(max(ref.max(), pred.max())),
            )
            ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
            ax.set_xlabel(f"reference {quantity} ({unit})")
            ax.set_ylabel(f"predicted ({unit})")
            ax.set_title(
                f"{quantity}: model {model}, {split} split\nRMSE {rmse:.3g} {unit}",
                fontsize=9,
            )
            ax = axes[1, c]
            ax.hist(err, bins=50, color=style.OKABE_ITO[0], alpha=0.8)
            ax.set_xlabel(f"predicted − reference ({unit})")
            ax.set_ylabel("count")
            ax.locator_params(axis="x", nbins=4)  # error ticks stay legible
            style.integer_ticks(ax.yaxis)
        fig.suptitle(title)
        return style.save_figure(fig, out)
