"""The one look of every constpot figure: rc settings, palette, saving.

Every module that draws, in any stage (build's side view, label's dataset
histograms, the training parity plots, the QEq charge profile, the analysis
figures), draws inside :func:`plot_style` and writes with :func:`save_figure`;
a figure without data is :func:`no_data_figure`. This is the only module of
the package that imports ``matplotlib.pyplot`` or seaborn; it sits in the
bottom layer (beside :mod:`constpot.units` and :mod:`constpot.keys`) so that
every stage can use it.

The look: seaborn's 'ticks' axes in the 'paper' context (font scale 1.1), a
light grey grid, frameless legends, viridis for images and 150 dpi. Colours
are colour-blind safe: the Okabe–Ito palette (:data:`OKABE_ITO`) for
categories (:func:`label_colours`). Legends sit outside the axes
(:func:`figure_legend`); counts have integer ticks (:func:`integer_ticks`).
The analysis-specific colours (one per anode potential, constant charge,
SEI phases) live in :mod:`constpot.analysis.figures.style`.

matplotlib is imported only when a figure is drawn, and always through
:func:`plot_style` or :func:`save_figure`, which select the non-interactive
Agg backend before ``matplotlib.pyplot`` is first imported (pyplot fixes its
backend on import; a batch job has no display).

Example
-------
>>> with plot_style() as plt:                                  # doctest: +SKIP
...     fig, ax = plt.subplots(layout="constrained")
...     ax.plot([0, 1], [0, 1], color=OKABE_ITO[0], label="a line")
...     figure_legend(fig)
...     save_figure(fig, "line.png")
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .io import atomic_path

__all__ = [
    "OKABE_ITO",
    "count_limits",
    "figure_legend",
    "integer_ticks",
    "label_colours",
    "no_data_figure",
    "panel_grid",
    "plot_style",
    "save_figure",
]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)


def _pyplot():
    """``matplotlib.pyplot`` on the Agg backend.

    Imported here, not at the top of the module: matplotlib loads only when a
    figure is drawn, and the backend must be chosen before pyplot is first
    imported.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextlib.contextmanager
def plot_style():
    """Consistent look for every figure (seaborn 'ticks', paper context).

    Yields
    ------
    module
        ``matplotlib.pyplot`` (Agg backend) under the style's rc settings.

    """
    plt = _pyplot()
    import seaborn as sns  # heavy; loaded with the first figure only

    rc = {
        **sns.axes_style("ticks"),
        **sns.plotting_context("paper", font_scale=1.1),
        "figure.dpi": 150,
        "savefig.dpi": 150,
        "axes.grid": True,
        "grid.color": "0.9",
        "legend.frameon": False,
        "legend.fontsize": 8,
        "image.cmap": "viridis",
    }
    with plt.rc_context(rc):
        yield plt


def save_figure(fig, out: str | Path) -> Path:
    """Write ``fig`` to ``out`` atomically (tight bounding box) and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    out : path
        Output file; its suffix sets the format (PNG for every constpot figure).

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    with atomic_path(out) as tmp:
        fig.savefig(tmp, bbox_inches="tight")
    _pyplot().close(fig)
    return Path(out)


def no_data_figure(out: str | Path, title: str, message: str) -> Path:
    """A figure that says why it has no data (the workflow gets its output)."""
    with plot_style() as plt:
        fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
        ax.set_axis_off()
        ax.set_title(title)
        ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
        return save_figure(fig, out)


def label_colours(labels: Sequence[str]) -> dict[str, str]:
    """Label → Okabe–Ito colour, in the given order (cycling after eight)."""
    return {s: OKABE_ITO[k % len(OKABE_ITO)] for k, s in enumerate(labels)}


def panel_grid(plt, n_rows: int, n_cols: int, width=4.2, height=3.0, **kw):
    """A figure of ``n_rows × n_cols`` panels of ``width × height`` inches.

    Returns
    -------
    fig, (n_rows, n_cols) ndarray of Axes
    """
    kw.setdefault("layout", "constrained")
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(width * n_cols, height * n_rows),
        squeeze=False,
        **kw,
    )
    return fig, axes


def integer_ticks(axis) -> None:
    """Whole numbers only on a count axis."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def count_limits(ax) -> None:
    """A count axis from just below 0 (lines at zero stay visible) to ≥ 1."""
    lo, hi = ax.get_ylim()
    hi = max(hi, 1.0)
    ax.set_ylim(min(lo, -0.05 * hi), hi)


def figure_legend(fig, axes=None, below: bool = False) -> None:
    """One legend for the figure, outside the panels (right, or below),
    without duplicates."""
    axes = fig.axes if axes is None else list(np.ravel(axes))
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label and not label.startswith("_") and label not in seen:
                seen[label] = handle
    if not seen:
        return
    if below:
        fig.legend(list(seen.values()), list(seen), loc="outside lower center", ncols=4)
    else:
        fig.legend(list(seen.values()), list(seen), loc="outside right upper")
