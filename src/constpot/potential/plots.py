"""Figures of the training stage: parity plots and learning curves.

- :func:`plot_parity`: reference vs predicted energy per atom, force
  components and charges (QEq vs the labeller's), from the predictions table of
  :mod:`.evaluate`; held-out (test) points in colour over the training points
  in grey, with the test MAE in each panel.
- :func:`plot_learning_curves`: validation energy-per-atom and force MAE per
  epoch of each model, from the CSV logs ``nequip-train`` writes
  (``logs/metrics.csv``, Lightning's CSVLogger).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..io import atomic_path

__all__ = ["plot_learning_curves", "plot_parity", "read_learning_curve"]

_PANELS = (
    ("energy_per_atom", "energy (eV/atom)", 1e3, "meV/atom"),
    ("force", "force component (eV/Å)", 1e3, "meV/Å"),
    ("charge", "charge (e)", 1.0, "e"),
)


def plot_parity(predictions, path: str | os.PathLike, model: str | None = None):
    """Parity plots of energy per atom, force components and charges.

    Parameters
    ----------
    predictions : pandas.DataFrame or path
        The predictions table of :func:`constpot.potential.evaluate.prediction_table`.
    path : path
        Output PNG.
    model : str, optional
        Which model's energies and forces; default the mean over all models
        (the ensemble prediction).

    Returns
    -------
    pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    df = predictions
    if not isinstance(df, pd.DataFrame):
        df = pd.read_csv(predictions, keep_default_na=False)
    if model is None:
        model = "ensemble mean"
        members = df[df["model"] != "qeq"]
        keys = ["frame", "category", "split", "quantity", "atom", "component"]
        mean = members.groupby(keys, as_index=False, sort=False, dropna=False)[
            ["reference", "predicted"]
        ].mean()
        df = pd.concat([df[df["model"] == "qeq"], mean.assign(model=model)])
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.4))
    for ax, (quantity, label, scale, unit) in zip(axes, _PANELS, strict=True):
        who = "qeq" if quantity == "charge" else model
        sel = df[(df["quantity"] == quantity) & (df["model"] == who)]
        if sel.empty:
            ax.set_axis_off()
            ax.set_title(f"{quantity}: no data")
            continue
        train = sel[sel["split"] != "test"]
        test = sel[sel["split"] == "test"]
        ax.scatter(
            train["reference"], train["predicted"], s=4, c="0.7", lw=0,
            label="train/val",
        )  # fmt: skip
        cats = sorted(set(test["category"]))
        cmap = plt.get_cmap("tab20", max(len(cats), 1))
        for k, cat in enumerate(cats):
            part = test[test["category"] == cat]
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
        if not test.empty:
            err = (test["predicted"] - test["reference"]).to_numpy()
            ax.text(
                0.04, 0.96,
                f"test MAE {np.mean(np.abs(err)) * scale:.3g} {unit}\n"
                f"test RMSE {np.sqrt(np.mean(err**2)) * scale:.3g} {unit}",
                transform=ax.transAxes, va="top", fontsize=9,
            )  # fmt: skip
        ax.set_title(
            "charges: QEq vs reference" if quantity == "charge" else f"{model}"
        )
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(
            handles, labels, loc="lower center", ncol=min(len(labels), 6),
            fontsize=8, markerscale=3, frameon=False,
        )  # fmt: skip
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)
    return Path(path)


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
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, log in logs.items():
        curve = read_learning_curve(log)
        axes[0].plot(curve["epoch"], curve["energy_mae_meV_atom"], label=name)
        axes[1].plot(curve["epoch"], curve["force_mae_meV_A"], label=name)
    for ax, label in zip(
        axes,
        ("validation energy MAE (meV/atom)", "validation force MAE (meV/Å)"),
        strict=True,
    ):
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)
    return Path(path)
