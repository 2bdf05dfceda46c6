"""Claims 1 and 2: deposited Li vs time, and the deposition rate vs potential.

Deposited Li is :class:`constpot.analysis.Deposition`'s (Li that started in
the SEI or electrolyte and joined the anode's metal network, counted once),
read from the ``deposition.csv`` tables; the rate is
:func:`constpot.analysis.summary.rate_per_nm2_ns` of the arrivals by the end.
"""

from __future__ import annotations

from pathlib import Path

from ...runs import LABEL_COLUMNS
from ..summary import rate_per_nm2_ns
from . import style

__all__ = [
    "deposition_rates",
    "plot_deposition_vs_potential",
    "plot_deposition_vs_time",
]


def plot_deposition_vs_time(deposition, out: str | Path) -> Path:
    """Claim 1: deposited Li vs time; constant potential | constant charge.

    Deposited Li: Li that started in the SEI or electrolyte and joined the
    anode's metal network (arrivals, counted once). Replica mean, with the
    replica range shaded. From the ``deposition.csv`` tables.
    """
    title = "Li deposition: constant potential vs constant charge"
    if deposition is None or deposition.empty:
        return style.no_data_figure(out, title, "no deposition tables")
    colours = style.psi_colours(deposition["anode_potential_V"])
    systems = style.systems_of(deposition)
    modes = [("constp", "constant potential"), ("constq", "constant charge")]
    with style.plot_style() as plt:
        fig, axes = style.panel_grid(
            plt, len(systems), 2, width=3.8, height=2.8, sharey=True
        )
        for r, system in enumerate(systems):
            for c, (mode, name) in enumerate(modes):
                ax = axes[r, c]
                sub = deposition[
                    (deposition["system"] == system) & (deposition["mode"] == mode)
                ]
                for psi, grp in sub.groupby("anode_potential_V", dropna=False):
                    stats = grp.groupby("time_ps")["deposited"].agg(
                        ["mean", "min", "max"]
                    )
                    colour = style.run_colour(mode, psi, colours)
                    ax.plot(
                        stats.index,
                        stats["mean"],
                        color=colour,
                        label=style.run_label(mode, psi),
                        drawstyle="steps-post",
                    )
                    if grp["replica"].nunique() > 1:
                        ax.fill_between(
                            stats.index,
                            stats["min"],
                            stats["max"],
                            color=colour,
                            alpha=0.2,
                            lw=0,
                            step="post",
                        )
                if sub.empty:
                    ax.text(0.5, 0.5, "no runs", transform=ax.transAxes, ha="center")
                ax.set_title(f"{system}: {name}", fontsize=9)
                ax.set_xlabel("time (ps)")
                if c == 0:
                    ax.set_ylabel("deposited Li (atoms)")
                style.integer_ticks(ax.yaxis)
                style.count_limits(ax)
        style.figure_legend(fig)
        fig.suptitle(title)
        return style.save_figure(fig, out)


def deposition_rates(deposition):
    """Deposition rate per run: arrivals by the end / (area · duration).

    Parameters
    ----------
    deposition : pandas.DataFrame
        Concatenated ``deposition.csv`` tables.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``system, mode, potential, replica,
        anode_potential_V, rate`` (Li nm⁻² ns⁻¹).
    """
    import pandas as pd

    rows = []
    for key, grp in deposition.groupby(list(LABEL_COLUMNS)):
        grp = grp.sort_values("time_fs")
        duration_ps = float(grp["time_ps"].iloc[-1] - grp["time_ps"].iloc[0])
        rows.append(
            {
                **dict(zip(LABEL_COLUMNS, key, strict=True)),
                "anode_potential_V": float(grp["anode_potential_V"].iloc[0]),
                "rate": rate_per_nm2_ns(
                    float(grp["deposited"].iloc[-1]),
                    float(grp["area_A2"].iloc[0]),
                    duration_ps,
                ),
            }
        )
    return pd.DataFrame(rows)


def plot_deposition_vs_potential(deposition, out: str | Path) -> Path:
    """Claim 2: deposition rate (Li/nm²/ns) vs anode potential, per system.

    One point per replica, the replica mean joined by a line with its
    standard deviation; the constant-charge rate as a dashed line. From the
    ``deposition.csv`` tables (:func:`deposition_rates`).
    """
    title = "Deposition rate vs anode potential"
    if deposition is None or deposition.empty:
        return style.no_data_figure(out, title, "no deposition tables")
    final = deposition_rates(deposition)
    systems = style.systems_of(final)
    colours = style.system_colours(systems)
    with style.plot_style() as plt:
        fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
        for system in systems:
            sub = final[final["system"] == system]
            p = sub[sub["mode"] == "constp"].sort_values("anode_potential_V")
            colour = colours[system]
            if len(p):
                ax.scatter(
                    p["anode_potential_V"], p["rate"], color=colour, s=14, alpha=0.6
                )
                stats = p.groupby("anode_potential_V")["rate"].agg(["mean", "std"])
                ax.errorbar(
                    stats.index,
                    stats["mean"],
                    yerr=stats["std"].fillna(0.0),
                    color=colour,
                    marker="o",
                    capsize=3,
                    label=system,
                )
            q = sub[sub["mode"] == "constq"]
            if len(q):
                ax.axhline(
                    q["rate"].mean(),
                    color=colour,
                    ls="--",
                    lw=1,
                    label=f"{system}, ConstQ",
                )
        ax.set_xlabel("anode potential ψ (V)  [paper shift φ = −ψ]")
        ax.set_ylabel("deposition rate (Li nm⁻² ns⁻¹)")
        top = max(ax.get_ylim()[1], 1.0)
        ax.set_ylim(-0.03 * top, top)  # a zero rate stays visible
        ax.set_title(title)
        style.figure_legend(fig)
        return style.save_figure(fig, out)
