"""Figures of the training stage: parity plots and learning curves.

- :func:`plot_parity`: reference vs predicted energy per atom, force
  components and charges (QEq vs the labeller's), from the predictions table of
  :mod:`.evaluate`; the headline split's points (test, else val) in colour
  over the others in grey, with that split's MAE and RMSE from
  :mod:`.evaluate` in each panel.
- :func:`plot_learning_curves`: validation energy-per-atom and force MAE per
  epoch of each model, from the CSV logs ``nequip-train`` writes
  (``logs/metrics.csv``, Lightning's CSVLogger).

Both draw in the shared look of :mod:`constpot.plotstyle`: held-out points
coloured by sampling category (tab20: the sampler has twelve categories, more
than the eight Okabe–Ito colours), models in the Okabe–Ito colours.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..plotstyle import label_colours, plot_style, save_figure
from .evaluate import (
    HEADLINE_SPLITS,
    headline,
    metrics_from_predictions,
    model_accuracy,
    read_predictions,
    with_ensemble,
)

__all__ = ["plot_learning_curves", "plot_parity", "read_learning_curve"]

#: Panels: quantity of the predictions table and its axis label (table units).
_PANELS = (
    ("energy_per_atom", "energy (eV/atom)"),
    ("force", "force component (eV/Å)"),
    ("charge", "charge (e)"),
)


def plot_parity(predictions, path: str | os.PathLike, model: str | None = None):
    """Parity plots of energy per atom, force components and charges.

    The points and the errors printed in each panel are those of
    :mod:`.evaluate` (one definition of accuracy): the headline split
    (:func:`~.evaluate.model_accuracy`: test, else val) in colour by category,
    the other splits in grey, and that split's MAE and RMSE.

    Parameters
    ----------
    predictions : pandas.DataFrame or path
        The predictions table of :func:`constpot.potential.evaluate.prediction_table`.
    path : path
        Output PNG.
    model : str, optional
        Which model's energies and forces; default the ensemble mean of two or
        more models (the headline model of the training summary).

    Returns
    -------
    pathlib.Path
    """
    if not hasattr(predictions, "columns"):  # a path, not a DataFrame
        predictions = read_predictions(predictions)
    df = with_ensemble(predictions)
    metrics = metrics_from_predictions(df)
    accuracy, overall = model_accuracy(metrics), headline(metrics)
    with plot_style() as plt:
        fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.4), layout="constrained")
        for ax, (quantity, label) in zip(axes, _PANELS, strict=True):
            best = accuracy.get(quantity, {})
            split = best.get("split", HEADLINE_SPLITS[0])
            who = best.get("model") if model is None or quantity == "charge" else model
            errors = overall.get(split, {}).get(who, {}).get(quantity)
            sel = df[(df["quantity"] == quantity) & (df["model"] == who)]
            sel = sel[sel["target"] != "short"]
            _parity_panel(plt, ax, sel, quantity, label, split, errors, who)
        handles, labels = axes[0].get_legend_handles_labels()
        if handles:
            fig.legend(
                handles, labels, loc="outside lower center",
                ncol=min(len(labels), 6), fontsize=8, markerscale=3,
            )  # fmt: skip
        return save_figure(fig, path)


def _parity_panel(plt, ax, sel, quantity, label, split, errors, who) -> None:
    """One quantity: other splits in grey, ``split`` by category, its errors."""
    if sel.empty:
        ax.set_axis_off()
        ax.set_title(f"{quantity}: no data")
        return
    rest = sel[sel["split"] != split]
    shown = sel[sel["split"] == split]
    ax.scatter(
        rest["reference"], rest["predicted"], s=4, c="0.7", lw=0,
        label="other splits",
    )  # fmt: skip
    cats = sorted(set(shown["category"]))
    cmap = plt.get_cmap("tab20", max(len(cats), 1))
    for k, cat in enumerate(cats):
        part = shown[shown["category"] == cat]
        ax.scatter(
            part["reference"], part["predicted"], s=6, color=cmap(k), lw=0,
            label=cat,
        )  # fmt: skip
    lo = float(min(sel["reference"].min(), sel["predicted"].min()))
    hi = float(max(sel["reference"].max(), sel["predicted"].max()))
    pad = 0.03 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "k-", lw=0.6)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel(f"reference {label}")
    ax.set_ylabel(("QEq " if quantity == "charge" else "predicted ") + label)
    if errors is not None:
        unit = errors["unit"]
        ax.text(
            0.04, 0.96,
            f"{split} MAE {errors['mae']:.3g} {unit}\n"
            f"{split} RMSE {errors['rmse']:.3g} {unit}",
            transform=ax.transAxes, va="top", fontsize=9,
        )  # fmt: skip
    ax.set_title("charges: QEq vs reference" if quantity == "charge" else f"{who}")


def read_learning_curve(path: str | os.PathLike):
    """Per-epoch validation metrics from a nequip/Lightning ``metrics.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns ``epoch``, ``energy_mae_meV_atom``, ``force_mae_meV_A`` and,
        when logged, ``train_loss``.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"learning-curve log not found: {path}")
    raw = pd.read_csv(path)
    e_col, f_col = "val0_epoch/per_atom_energy_mae", "val0_epoch/forces_mae"
    for col in (e_col, f_col):
        if col not in raw:
            raise ValueError(f"{path}: no column {col!r} (not a nequip-train log?)")
    val = raw.dropna(subset=[e_col]).groupby("epoch", as_index=False).last()
    out = pd.DataFrame(
        {
            "epoch": val["epoch"].astype(int),
            "energy_mae_meV_atom": 1e3 * val[e_col],
            "force_mae_meV_A": 1e3 * val[f_col],
        }
    )
    loss_col = "train_loss_epoch/weighted_sum"
    if loss_col in raw:
        loss = raw.dropna(subset=[loss_col]).groupby("epoch")[loss_col].last()
        out["train_loss"] = out["epoch"].map(loss)
    return out


def plot_learning_curves(
    logs: Mapping[str, str | os.PathLike], path: str | os.PathLike
) -> Path:
    """Validation energy and force MAE per epoch, one line per model.

    Parameters
    ----------
    logs : mapping of str to path
        Model name -> its ``logs/metrics.csv``.
    path : path
        Output PNG.

    Returns
    -------
    pathlib.Path
    """
    colours = label_colours(list(logs))
    with plot_style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
        for name, log in logs.items():
            curve = read_learning_curve(log)
            for ax, column in zip(
                axes, ("energy_mae_meV_atom", "force_mae_meV_A"), strict=True
            ):
                ax.plot(curve["epoch"], curve[column], color=colours[name], label=name)
        for ax, label in zip(
            axes,
            ("validation energy MAE (meV/atom)", "validation force MAE (meV/Å)"),
            strict=True,
        ):
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_ylabel(label)
            ax.grid(True, which="both")
        axes[0].legend(fontsize=8)
        return save_figure(fig, path)
