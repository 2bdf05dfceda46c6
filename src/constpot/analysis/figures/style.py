"""The analysis figures' colours and table helpers, over the shared look.

The look itself (rc settings, Okabe–Ito palette, saving, legends, panel
grids) is :mod:`constpot.plotstyle`, shared by every stage; its names are
re-exported here, so every analysis figure draws inside :func:`plot_style` and
writes with :func:`save_figure`; a figure without data is
:func:`no_data_figure`. Added here: one colour per anode potential from
viridis (:func:`psi_colours`, most negative darkest), grey
(:data:`CONSTQ_COLOUR`) for constant charge, the Okabe–Ito colours
(:data:`OKABE_ITO`) for systems (:func:`system_colours`) and SEI phases
(:data:`PHASE_COLOURS`: vermillion amorphous, blue crystalline), run labels
and the tables' run-type helpers (:func:`first_replica`, :func:`systems_of`).

How to draw a figure in this look: the example of :mod:`constpot.plotstyle`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ...plotstyle import (
    OKABE_ITO,
    count_limits,
    figure_legend,
    integer_ticks,
    label_colours,
    no_data_figure,
    panel_grid,
    plot_style,
    save_figure,
)
from ...runs import LABEL_COLUMNS

__all__ = [
    "CONSTQ_COLOUR",
    "OKABE_ITO",
    "PHASE_COLOURS",
    "RUN_TYPE_COLUMNS",
    "count_limits",
    "figure_legend",
    "first_replica",
    "integer_ticks",
    "no_data_figure",
    "panel_grid",
    "plot_style",
    "psi_colours",
    "psi_order",
    "run_colour",
    "run_label",
    "save_figure",
    "system_colours",
    "systems_of",
]

#: Colour per SEI phase (Okabe–Ito).
PHASE_COLOURS = {
    "amorphous": "#D55E00",
    "crystalline": "#0072B2",
    "none": "#009E73",
    "unknown": "#CC79A7",
}

#: Colour of constant-charge runs (matplotlib grey level).
CONSTQ_COLOUR = "0.5"

#: Labels of a run type, replicas pooled: system, mode, potential.
RUN_TYPE_COLUMNS = [c for c in LABEL_COLUMNS if c != "replica"]


def psi_order(values) -> list[float]:
    """The finite anode potentials (V) of ``values``, ascending, once each."""
    return sorted({float(v) for v in values if np.isfinite(v)})


def psi_colours(values) -> dict[float, tuple]:
    """Anode potential (V) → colour (viridis); most negative darkest."""
    import matplotlib

    vals = psi_order(values)
    cmap = matplotlib.colormaps["viridis"]
    # stop before viridis' pale yellow end, which vanishes on white
    levels = np.linspace(0.0, 0.8, max(len(vals), 2))
    return {v: cmap(levels[k]) for k, v in enumerate(vals)}


def system_colours(systems: Sequence[str]) -> dict[str, str]:
    """System name → Okabe–Ito colour, in the given order."""
    return label_colours(systems)


def run_label(mode: str, psi: float) -> str:
    """Legend label of a run type: "ConstQ" or "ψ = -1.0 V"."""
    return "ConstQ" if mode == "constq" or not np.isfinite(psi) else f"ψ = {psi:+.1f} V"


def run_colour(mode: str, psi: float, colours: Mapping) -> object:
    """Colour of a run type: grey for constant charge, else ``colours[psi]``."""
    if mode == "constq" or not np.isfinite(psi):
        return CONSTQ_COLOUR
    return colours.get(float(psi), "k")


def systems_of(table) -> list[str]:
    """The systems of a tidy table, sorted (none for an empty table)."""
    return sorted(set(table["system"])) if len(table) else []


def first_replica(table):
    """The rows of the lowest replica of each system × mode × potential."""
    lowest = table.groupby(RUN_TYPE_COLUMNS)["replica"].transform("min")
    return table[table["replica"] == lowest]
