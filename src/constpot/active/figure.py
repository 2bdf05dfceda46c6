"""The figure of active learning: class fractions against iteration."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..plotstyle import (
    OKABE_ITO,
    figure_legend,
    integer_ticks,
    no_data_figure,
    panel_grid,
    plot_style,
    save_figure,
)
from .keys import ACCURATE, CANDIDATE, CLASSES, FAILED

__all__ = ["CLASS_COLOURS", "plot_fractions"]

#: Okabe–Ito colours of the frame classes (bluish green, orange, vermillion).
CLASS_COLOURS = {ACCURATE: OKABE_ITO[2], CANDIDATE: OKABE_ITO[4], FAILED: OKABE_ITO[1]}


def plot_fractions(rows: Sequence[dict], out: str | os.PathLike):
    """Stacked bars of the accurate / candidate / failed fractions per iteration.

    One panel for all systems together, then one per system; the legend sits
    outside the panels.

    Parameters
    ----------
    rows : sequence of dict
        :func:`constpot.active.report.across_iterations`.
    out : path
        PNG.

    Returns
    -------
    pathlib.Path
    """
    panels = list(dict.fromkeys((r["scope"], r["system"]) for r in rows))
    if not panels:
        return no_data_figure(out, "Active learning", "no iteration report")
    n_cols = min(len(panels), 3)
    n_rows = -(-len(panels) // n_cols)
    with plot_style() as plt:
        fig, axes = panel_grid(plt, n_rows, n_cols, width=3.4, height=2.8)
        for ax, (scope, system) in zip(axes.flat, panels, strict=False):
            sel = [r for r in rows if (r["scope"], r["system"]) == (scope, system)]
            x = np.array([r["iteration"] for r in sel])
            bottom = np.zeros(len(sel))
            for c in CLASSES:
                y = np.array([r[f"fraction_{c}"] or 0.0 for r in sel], dtype=float)
                ax.bar(x, y, bottom=bottom, color=CLASS_COLOURS[c], width=0.7, label=c)
                bottom += y
            ax.set_title("all systems" if scope == "overall" else system)
            ax.set_xlabel("iteration")
            ax.set_ylabel("fraction of frames")
            ax.set_ylim(0, 1)
            integer_ticks(ax.xaxis)
        for ax in axes.flat[len(panels) :]:
            ax.set_axis_off()
        figure_legend(fig)
        return save_figure(fig, out)
