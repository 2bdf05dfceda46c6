"""Claim 3: reduced-Li aggregation in the SEI, amorphous vs crystalline.

Drawn from :class:`constpot.analysis.LiClusters`' ``clusters.csv`` and
``cluster_sizes.csv`` tables, coloured by SEI phase
(:data:`~constpot.analysis.figures.style.PHASE_COLOURS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .._frames import final_window_count
from . import style

__all__ = ["plot_li_clusters"]


def plot_li_clusters(
    clusters,
    sizes,
    out: str | Path,
    phases: Mapping[str, str] | None = None,
    window: float = 0.5,
) -> Path:
    """Claim 3: reduced-Li aggregation in the SEI, amorphous vs crystalline.

    Left: Li in aggregates (clusters of reduced SEI Li of the minimum size)
    minus their number at t = 0, vs time, at the most negative constant
    potential of each system (replica mean), coloured by SEI phase. Right:
    mean number of clusters of each size per frame over the final
    ``window`` of those runs.

    Parameters
    ----------
    clusters, sizes : pandas.DataFrame
        The ``clusters.csv`` and ``cluster_sizes.csv`` tables.
    out : path
        PNG.
    phases : mapping, optional
        System → SEI phase (:func:`~constpot.analysis.catalogue.sei_phases`).
    window : float
        Final fraction of frames of the size distribution (0.5).
    """
    title = "Reduced-Li aggregation in the SEI"
    if clusters is None or clusters.empty:
        return style.no_data_figure(out, title, "no cluster tables")
    phases = phases or {}
    constp = clusters[clusters["mode"] == "constp"]
    table = constp if len(constp) else clusters
    picked = []
    for system in style.systems_of(table):
        sub = table[table["system"] == system]
        psi = sub["anode_potential_V"].min()
        picked.append((system, psi if np.isfinite(psi) else None))
    column = "aggregated_change" if "aggregated_change" in table else "largest_cluster"
    with style.plot_style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
        ax_t, ax_s = axes
        width = 0.8 / max(len(picked), 1)
        for k, (system, psi) in enumerate(picked):
            sub = table[table["system"] == system]
            if psi is not None:
                sub = sub[sub["anode_potential_V"] == psi]
            phase = phases.get(system, "unknown")
            colour = style.PHASE_COLOURS.get(phase, "k")
            ls = ["-", "--", ":", "-."][k % 4]
            mean = sub.groupby("time_ps")[column].mean()
            sei = "no SEI" if phase == "none" else f"{phase} SEI"
            label = f"{system} ({sei})" + (
                f", ψ = {psi:+.1f} V" if psi is not None else ""
            )
            ax_t.plot(
                mean.index,
                mean.values,
                color=colour,
                ls=ls,
                label=label,
                drawstyle="steps-post",
            )
            if sizes is not None and len(sizes):
                s = sizes[
                    (sizes["system"] == system) & (sizes["mode"] == sub["mode"].iloc[0])
                ]
                if psi is not None:
                    s = s[s["anode_potential_V"] == psi]
                frames = sub["frame"].sort_values().unique()
                tail = frames[-final_window_count(len(frames), window) :]
                s = s[s["frame"].isin(tail)]
                n_frames = len(tail) * max(sub["replica"].nunique(), 1)
                if len(s):
                    hist = s.groupby("size")["count"].sum() / n_frames
                    ax_s.bar(
                        hist.index + (k - (len(picked) - 1) / 2) * width,
                        hist.values,
                        width,
                        color=colour,
                        alpha=0.85,
                        hatch=["", "//", "..", "xx"][k % 4],
                    )
        ax_t.axhline(0, color="0.5", lw=0.5)
        ax_t.set_xlabel("time (ps)")
        ax_t.set_ylabel("aggregated Li since t = 0 (atoms)")
        ax_t.set_title("Li in SEI aggregates, change from t = 0", fontsize=9)
        style.integer_ticks(ax_t.yaxis)
        ax_s.set_xlabel("cluster size (reduced Li atoms)")
        ax_s.set_ylabel("clusters per frame, final window")
        ax_s.set_title("cluster-size distribution", fontsize=9)
        if ax_s.has_data():
            largest = max(round(p.get_x() + p.get_width()) for p in ax_s.patches)
            ax_s.set_xlim(0.5, largest + 0.5)
        else:
            ax_s.text(
                0.5,
                0.5,
                "no reduced Li in the SEI",
                transform=ax_s.transAxes,
                ha="center",
            )
        style.integer_ticks(ax_s.xaxis)
        # Below the panels: a legend on the right would run into the title.
        style.figure_legend(fig, [ax_t], below=True)
        fig.suptitle(title)
        return style.save_figure(fig, out)
