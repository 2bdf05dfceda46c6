"""Claim 3: the anode surface — height change maps with events, roughness.

Height maps are :class:`constpot.analysis.AnodeSurface`'s ``height_maps.csv``
(end-minus-start change of the anode's metal network, on a diverging
ColorBrewer map, RdBu); events are the ``events.csv`` tables (deposition:
black crosses; SEI Li aggregation: open circles).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import style

__all__ = ["plot_height_maps", "plot_surface_roughness"]

#: Event kind (and electrode) → marker style on the height maps.
_EVENT_MARKERS = (
    (
        "aggregation",
        None,
        {
            "s": 18,
            "facecolors": "white",
            "edgecolors": "k",
            "lw": 0.7,
            "label": "SEI Li aggregation (first frame in an aggregate)",
        },
    ),
    (
        "deposition",
        "anode",
        {
            "s": 26,
            "marker": "x",
            "color": "k",
            "lw": 1.0,
            "label": "Li deposition (arrival in the anode network)",
        },
    ),
)


def _events_of(events, system, mode, potential, replica):
    if events is None or events.empty:
        return events
    return events[
        (events["system"] == system)
        & (events["mode"] == mode)
        & (events["potential"].astype(str) == str(potential))
        & (events["replica"] == replica)
    ]


def _mark_events(ax, events, x_max: float, y_max: float) -> None:
    """Events of one run at their lateral positions, wrapped into the cell."""
    if events is None or not len(events):
        return
    for kind, electrode, marker in _EVENT_MARKERS:
        sel = events[events["kind"] == kind]
        if electrode is not None:
            sel = sel[sel["electrode"] == electrode]
        ax.scatter(np.mod(sel["x_A"], x_max), np.mod(sel["y_A"], y_max), **marker)


def plot_height_maps(maps, out: str | Path, events=None) -> Path:
    """Claim 3: change of the anode surface height from t = 0, with events.

    A grid of systems (rows) × run types (columns: constant charge, then each
    anode potential); each panel is the first replica's end-minus-start
    height map h(end) − h(0) of the anode's metal network, on one symmetric
    colour scale. Deposition events (Li arriving on the anode) are black
    crosses, SEI Li aggregation events open circles, so co-location and
    its absence can be seen.

    Parameters
    ----------
    maps : pandas.DataFrame
        The ``height_maps.csv`` tables.
    out : path
        PNG.
    events : pandas.DataFrame, optional
        The ``events.csv`` tables (no markers without them).
    """
    title = "Anode surface: height change from t = 0"
    if maps is None or maps.empty:
        return style.no_data_figure(out, title, "no height maps")
    first = style.first_replica(maps)
    end = first[first["snapshot"] == "end"]
    if "change_A" not in end.columns or end["change_A"].isna().all():
        return style.no_data_figure(out, title, "no height change (maps of one frame)")
    systems = style.systems_of(end)
    columns = []
    if (end["mode"] == "constq").any():
        columns.append(("constq", math.nan))
    columns += [("constp", psi) for psi in style.psi_order(end["anode_potential_V"])]
    limit = float(np.nanmax(np.abs(end["change_A"])))
    limit = limit if np.isfinite(limit) and limit > 0 else 1.0
    with style.plot_style() as plt:
        fig, axes = style.panel_grid(
            plt, len(systems), len(columns), width=2.6, height=2.5
        )
        image = None
        for r, system in enumerate(systems):
            for c, (mode, psi) in enumerate(columns):
                ax = axes[r, c]
                sub = end[(end["system"] == system) & (end["mode"] == mode)]
                if mode == "constp":
                    sub = sub[sub["anode_potential_V"] == psi]
                if r == 0:
                    ax.set_title(style.run_label(mode, psi), fontsize=9)
                if sub.empty:
                    ax.set_axis_off()
                    continue
                nx, ny = int(sub["ix"].max()) + 1, int(sub["iy"].max()) + 1
                grid = np.full((nx, ny), np.nan)
                grid[sub["ix"].to_numpy(int), sub["iy"].to_numpy(int)] = sub["change_A"]
                x_max = float(sub["x_A"].max() + sub["x_A"].min())
                y_max = float(sub["y_A"].max() + sub["y_A"].min())
                image = ax.imshow(
                    grid.T,
                    origin="lower",
                    extent=(0, x_max, 0, y_max),
                    cmap="RdBu_r",
                    vmin=-limit,
                    vmax=limit,
                )
                run = sub.iloc[0]
                ev = _events_of(events, system, mode, run["potential"], run["replica"])
                _mark_events(ax, ev, x_max, y_max)
                ax.set_xlim(0, x_max)
                ax.set_ylim(0, y_max)
                ax.set_xlabel("x (Å)")
                if c == 0:
                    ax.set_ylabel(f"{system}\ny (Å)")
                ax.grid(False)
        if image is not None:
            fig.colorbar(
                image,
                ax=axes,
                shrink=0.8,
                label="height change h(end) − h(0) (Å)",
                location="right",
            )
        style.figure_legend(fig, below=True)
        fig.suptitle(f"{title} (first replica; end of run)")
        return style.save_figure(fig, out)


def plot_surface_roughness(surface, out: str | Path) -> Path:
    """Claim 3: anode roughness and largest rise since t = 0 vs time.

    Replica mean per run type, from the ``surface.csv`` tables.
    """
    title = "Anode roughness and growth"
    if surface is None or surface.empty:
        return style.no_data_figure(out, title, "no surface tables")
    colours = style.psi_colours(surface["anode_potential_V"])
    systems = style.systems_of(surface)
    columns = [
        ("roughness_A", "roughness, RMS height (Å)"),
        ("max_rise_A", "largest rise since t = 0 (Å)"),
    ]
    with style.plot_style() as plt:
        fig, axes = style.panel_grid(plt, len(systems), 2, width=3.8, height=2.8)
        for r, system in enumerate(systems):
            sub = surface[surface["system"] == system]
            for c, (col, label) in enumerate(columns):
                ax = axes[r, c]
                if col not in sub.columns:
                    ax.set_axis_off()
                    continue
                for (mode, psi), grp in sub.groupby(
                    ["mode", "anode_potential_V"], dropna=False
                ):
                    mean = grp.groupby("time_ps")[col].mean()
                    ax.plot(
                        mean.index,
                        mean.values,
                        color=style.run_colour(mode, psi, colours),
                        label=style.run_label(mode, psi),
                    )
                ax.set_title(system, fontsize=9)
                ax.set_xlabel("time (ps)")
                ax.set_ylabel(label)
        style.figure_legend(fig)
        fig.suptitle(title)
        return style.save_figure(fig, out)
