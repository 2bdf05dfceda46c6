"""Figures of the paper's evidence, drawn from the analysis CSV tables only.

One plotting function per figure; each takes tidy tables (pandas DataFrames,
concatenated over runs, with the run labels ``system, mode, potential,
replica, anode_potential_V``) and an output path, and writes a PNG atomically.
A figure without data is still written, with a "no data" note, so the workflow
always has its outputs. :func:`draw_figures` reads the tables of many run
folders and draws the whole set (:data:`FIGURES`).

Conventions, for a referee reading them side by side: time in ps, lengths in
Å, charges in e, potentials in V with the physical sign (the paper's
electronegativity shift is φ = −ψ); changes are from the first frame (t = 0)
of each run. Colours are colour-blind safe: one colour per anode potential
from viridis (most negative darkest), grey for constant charge, the
Okabe–Ito colours for systems and SEI phases (vermillion amorphous, blue
crystalline), a diverging ColorBrewer map (RdBu) for height changes.
Legends sit outside the axes; counts have integer ticks.

Example
-------
>>> runs = ["results/analysis/no_sei/constp_-6.0V_r0"]
>>> draw_figures(runs, "results/figures")                     # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..io import atomic_path
from .catalogue import FIGURES, load_tables, sei_phases

__all__ = [
    "FIGURES",
    "draw_figures",
    "load_tables",
    "plot_deposition_vs_potential",
    "plot_deposition_vs_time",
    "plot_electrode_charge",
    "plot_height_maps",
    "plot_li_clusters",
    "plot_li_msd",
    "plot_parity",
    "plot_potential_profiles",
    "plot_surface_roughness",
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

#: Colour per SEI phase (Okabe–Ito).
PHASE_COLOURS = {
    "amorphous": "#D55E00",
    "crystalline": "#0072B2",
    "none": "#009E73",
    "unknown": "#CC79A7",
}
CONSTQ_COLOUR = "0.5"

#: e/(V·Å²) in µF/cm²: 1.602176634e-19 C / 1e-16 cm² = 1.602e-3 F/cm².
_E_PER_V_A2_IN_UF_PER_CM2 = 1.602176634e3


@contextlib.contextmanager
def _style():
    """Consistent look for every figure (seaborn 'ticks', paper context)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

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


def _save(fig, out: str | Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(out) as tmp:
        fig.savefig(tmp, bbox_inches="tight")
    plt.close(fig)
    return Path(out)


def _no_data(out: str | Path, title: str, message: str) -> Path:
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
        ax.set_axis_off()
        ax.set_title(title)
        ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
        return _save(fig, out)


def _psi_colours(values) -> dict[float, tuple]:
    """Anode potential → colour (viridis); most negative darkest."""
    import matplotlib

    vals = sorted({float(v) for v in values if np.isfinite(v)})
    cmap = matplotlib.colormaps["viridis"]
    # stop before viridis' pale yellow end, which vanishes on white
    levels = np.linspace(0.0, 0.8, max(len(vals), 2))
    return {v: cmap(levels[k]) for k, v in enumerate(vals)}


def _system_colours(systems: Sequence[str]) -> dict[str, str]:
    return {s: OKABE_ITO[k % len(OKABE_ITO)] for k, s in enumerate(systems)}


def _run_label(mode: str, psi: float) -> str:
    return "ConstQ" if mode == "constq" or not np.isfinite(psi) else f"ψ = {psi:+.1f} V"


def _colour(mode: str, psi: float, colours: Mapping) -> object:
    if mode == "constq" or not np.isfinite(psi):
        return CONSTQ_COLOUR
    return colours.get(float(psi), "k")


def _systems(table) -> list[str]:
    return sorted(set(table["system"])) if len(table) else []


def _grid(plt, n_rows: int, n_cols: int, width=4.2, height=3.0, **kw):
    kw.setdefault("layout", "constrained")
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(width * n_cols, height * n_rows),
        squeeze=False,
        **kw,
    )
    return fig, axes


def _integer_ticks(axis) -> None:
    """Whole numbers only on a count axis."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _count_limits(ax) -> None:
    """A count axis from just below 0 (lines at zero stay visible) to ≥ 1."""
    lo, hi = ax.get_ylim()
    hi = max(hi, 1.0)
    ax.set_ylim(min(lo, -0.05 * hi), hi)


def _legend(fig, axes=None, below: bool = False) -> None:
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


def _psi_order(values) -> list[float]:
    return sorted({float(v) for v in values if np.isfinite(v)})


def plot_deposition_vs_time(deposition, out: str | Path) -> Path:
    """Claim 1: deposited Li vs time; constant potential | constant charge.

    Deposited Li: Li that started in the SEI or electrolyte and joined the
    anode's metal network (arrivals, counted once). Replica mean, with the
    replica range shaded.

    Parameters
    ----------
    deposition : pandas.DataFrame
        Concatenated ``deposition.csv`` tables.
    out : path
        PNG.
    """
    title = "Li deposition: constant potential vs constant charge"
    if deposition is None or deposition.empty:
        return _no_data(out, title, "no deposition tables")
    colours = _psi_colours(deposition["anode_potential_V"])
    systems = _systems(deposition)
    modes = [("constp", "constant potential"), ("constq", "constant charge")]
    with _style() as plt:
        fig, axes = _grid(plt, len(systems), 2, width=3.8, height=2.8, sharey=True)
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
                    colour = _colour(mode, psi, colours)
                    ax.plot(
                        stats.index,
                        stats["mean"],
                        color=colour,
                        label=_run_label(mode, psi),
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
                _integer_ticks(ax.yaxis)
                _count_limits(ax)
        _legend(fig)
        fig.suptitle(title)
        return _save(fig, out)


def _rates(deposition):
    """Deposition rate per run: arrivals by the end / (area · duration)."""
    from .summary import rate_per_nm2_ns

    keys = ["system", "mode", "potential", "replica"]
    rows = []
    for key, grp in deposition.groupby(keys):
        grp = grp.sort_values("time_fs")
        duration_ps = float(grp["time_ps"].iloc[-1] - grp["time_ps"].iloc[0])
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "anode_potential_V": float(grp["anode_potential_V"].iloc[0]),
                "rate": rate_per_nm2_ns(
                    float(grp["deposited"].iloc[-1]),
                    float(grp["area_A2"].iloc[0]),
                    duration_ps,
                ),
            }
        )
    import pandas as pd

    return pd.DataFrame(rows)


def plot_deposition_vs_potential(deposition, out: str | Path) -> Path:
    """Claim 2: deposition rate (Li/nm²/ns) vs anode potential, per system.

    One point per replica, the replica mean joined by a line with its
    standard deviation; the constant-charge rate as a dashed line.
    """
    title = "Deposition rate vs anode potential"
    if deposition is None or deposition.empty:
        return _no_data(out, title, "no deposition tables")
    final = _rates(deposition)
    systems = _systems(final)
    colours = _system_colours(systems)
    with _style() as plt:
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
        _legend(fig)
        return _save(fig, out)


def _events_of(events, system, mode, potential, replica):
    if events is None or events.empty:
        return events
    return events[
        (events["system"] == system)
        & (events["mode"] == mode)
        & (events["potential"].astype(str) == str(potential))
        & (events["replica"] == replica)
    ]


def plot_height_maps(maps, out: str | Path, events=None) -> Path:
    """Claim 3: change of the anode surface height from t = 0, with events.

    A grid of systems (rows) × run types (columns: constant charge, then each
    anode potential); each panel is the first replica's end-minus-start
    height map h(end) − h(0) of the anode's metal network, on one symmetric
    colour scale. Deposition events (Li arriving on the anode) are black
    crosses, SEI Li aggregation events open circles, so co-location and
    its absence can be seen.
    """
    title = "Anode surface: height change from t = 0"
    if maps is None or maps.empty:
        return _no_data(out, title, "no height maps")
    first = maps[
        maps["replica"]
        == maps.groupby(["system", "mode", "potential"])["replica"].transform("min")
    ]
    end = first[first["snapshot"] == "end"]
    if "change_A" not in end.columns or end["change_A"].isna().all():
        return _no_data(out, title, "no height change (maps of one frame)")
    systems = _systems(end)
    columns = []
    if (end["mode"] == "constq").any():
        columns.append(("constq", math.nan))
    columns += [("constp", psi) for psi in _psi_order(end["anode_potential_V"])]
    limit = float(np.nanmax(np.abs(end["change_A"])))
    limit = limit if np.isfinite(limit) and limit > 0 else 1.0
    with _style() as plt:
        fig, axes = _grid(plt, len(systems), len(columns), width=2.6, height=2.5)
        image = None
        for r, system in enumerate(systems):
            for c, (mode, psi) in enumerate(columns):
                ax = axes[r, c]
                sub = end[(end["system"] == system) & (end["mode"] == mode)]
                if mode == "constp":
                    sub = sub[sub["anode_potential_V"] == psi]
                if r == 0:
                    ax.set_title(_run_label(mode, psi), fontsize=9)
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
                if ev is not None and len(ev):
                    agg = ev[ev["kind"] == "aggregation"]
                    dep = ev[
                        (ev["kind"] == "deposition") & (ev["electrode"] == "anode")
                    ]
                    ax.scatter(
                        np.mod(agg["x_A"], x_max),
                        np.mod(agg["y_A"], y_max),
                        s=18,
                        facecolors="white",
                        edgecolors="k",
                        lw=0.7,
                        label="SEI Li aggregation (first frame in an aggregate)",
                    )
                    ax.scatter(
                        np.mod(dep["x_A"], x_max),
                        np.mod(dep["y_A"], y_max),
                        s=26,
                        marker="x",
                        color="k",
                        lw=1.0,
                        label="Li deposition (arrival in the anode network)",
                    )
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
        _legend(fig, below=True)
        fig.suptitle(f"{title} (first replica; end of run)")
        return _save(fig, out)


def plot_surface_roughness(surface, out: str | Path) -> Path:
    """Claim 3: anode roughness and largest rise since t = 0 vs time."""
    title = "Anode roughness and growth"
    if surface is None or surface.empty:
        return _no_data(out, title, "no surface tables")
    colours = _psi_colours(surface["anode_potential_V"])
    systems = _systems(surface)
    columns = [
        ("roughness_A", "roughness, RMS height (Å)"),
        ("max_rise_A", "largest rise since t = 0 (Å)"),
    ]
    with _style() as plt:
        fig, axes = _grid(plt, len(systems), 2, width=3.8, height=2.8)
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
                        color=_colour(mode, psi, colours),
                        label=_run_label(mode, psi),
                    )
                ax.set_title(system, fontsize=9)
                ax.set_xlabel("time (ps)")
                ax.set_ylabel(label)
        _legend(fig)
        fig.suptitle(title)
        return _save(fig, out)


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
    """
    title = "Reduced-Li aggregation in the SEI"
    if clusters is None or clusters.empty:
        return _no_data(out, title, "no cluster tables")
    phases = phases or {}
    constp = clusters[clusters["mode"] == "constp"]
    table = constp if len(constp) else clusters
    picked = []
    for system in _systems(table):
        sub = table[table["system"] == system]
        psi = sub["anode_potential_V"].min()
        picked.append((system, psi if np.isfinite(psi) else None))
    column = "aggregated_change" if "aggregated_change" in table else "largest_cluster"
    with _style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
        ax_t, ax_s = axes
        width = 0.8 / max(len(picked), 1)
        for k, (system, psi) in enumerate(picked):
            sub = table[table["system"] == system]
            if psi is not None:
                sub = sub[sub["anode_potential_V"] == psi]
            phase = phases.get(system, "unknown")
            colour = PHASE_COLOURS.get(phase, "k")
            ls = ["-", "--", ":", "-."][k % 4]
            mean = sub.groupby("time_ps")[column].mean()
            label = f"{system} ({phase} SEI)" + (
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
                tail = frames[-max(1, math.ceil(window * len(frames))) :]
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
        _integer_ticks(ax_t.yaxis)
        ax_s.set_xlabel("cluster size (reduced Li atoms)")
        ax_s.set_ylabel("clusters per frame, final window")
        ax_s.set_title("cluster-size distribution", fontsize=9)
        if ax_s.has_data():
            largest = max(round(p.get_x() + p.get_width()) for p in ax_s.patches)
            ax_s.set_xlim(0.5, largest + 0.5)
        _integer_ticks(ax_s.xaxis)
        if not ax_s.has_data():
            ax_s.text(
                0.5,
                0.5,
                "no reduced Li in the SEI",
                transform=ax_s.transAxes,
                ha="center",
            )
        _legend(fig, [ax_t])
        fig.suptitle(title)
        return _save(fig, out)


def plot_potential_profiles(profiles, out: str | Path) -> Path:
    """Claim 4: number density, charge density and Poisson potential along z.

    The imposed potential difference is marked: a dashed line, in each
    constant-potential run's colour, at the anode interior level plus
    ψ_counter − ψ_anode over the counter electrode.
    """
    title = "Profiles along the surface normal"
    if profiles is None or profiles.empty:
        return _no_data(out, title, "no profile tables")
    colours = _psi_colours(profiles["anode_potential_V"])
    systems = _systems(profiles)
    first = profiles[
        profiles["replica"]
        == profiles.groupby(["system", "mode", "potential"])["replica"].transform("min")
    ]
    with _style() as plt:
        fig, axes = _grid(plt, len(systems), 3, width=3.8, height=2.8)
        for r, system in enumerate(systems):
            sub = first[first["system"] == system]
            ax_n, ax_q, ax_p = axes[r]
            for ax in (ax_n, ax_q, ax_p):
                for region, shade in (
                    ("anode", "0.85"),
                    ("counter", "0.85"),
                    ("sei", "#f5e6cc"),
                ):
                    lo, hi = f"{region}_z_lo_A", f"{region}_z_hi_A"
                    if lo in sub.columns and sub[lo].notna().any():
                        ax.axvspan(
                            sub[lo].iloc[0],
                            sub[hi].iloc[0],
                            color=shade,
                            alpha=0.5,
                            lw=0,
                        )
            # densities of the most negative potential run (or the first run)
            ref = sub.sort_values("anode_potential_V")
            ref_key = ref[["mode", "potential"]].iloc[0]
            ref = sub[
                (sub["mode"] == ref_key["mode"])
                & (sub["potential"] == ref_key["potential"])
            ]
            for col in [
                c
                for c in sub.columns
                if c.startswith("density_") and c.endswith("_per_A3")
            ]:
                if ref[col].notna().any() and ref[col].max() > 0:
                    ax_n.plot(
                        ref["z_A"],
                        ref[col],
                        lw=0.8,
                        label=col[len("density_") : -len("_per_A3")],
                    )
            ax_n.set_title(
                f"{system}: "
                f"{_run_label(ref_key['mode'], ref['anode_potential_V'].iloc[0])}",
                fontsize=9,
            )
            ax_n.set_ylabel("number density (Å⁻³)")
            ax_n.legend(
                fontsize=6, loc="upper left", bbox_to_anchor=(0.0, -0.28), ncol=4
            )
            for (mode, _), grp in sub.groupby(["mode", "potential"]):
                psi = float(grp["anode_potential_V"].iloc[0])
                colour = _colour(mode, psi, colours)
                label = _run_label(mode, psi)
                ax_q.plot(
                    grp["z_A"],
                    grp["charge_density_e_per_A3"],
                    color=colour,
                    lw=0.8,
                    label=label,
                )
                ax_p.plot(
                    grp["z_A"], grp["potential_V"], color=colour, lw=1.0, label=label
                )
                imposed = (
                    grp["imposed_drop_V"].iloc[0]
                    if "imposed_drop_V" in grp
                    else math.nan
                )
                if (
                    mode == "constp"
                    and np.isfinite(imposed)
                    and "counter_z_lo_A" in grp
                    and grp["counter_z_lo_A"].notna().any()
                ):
                    level = grp["anode_level_V"].iloc[0] + imposed
                    ax_p.hlines(
                        level,
                        grp["counter_z_lo_A"].iloc[0] - 3,
                        grp["counter_z_hi_A"].iloc[0] + 3,
                        color=colour,
                        ls="--",
                        lw=1.2,
                    )
                    ax_p.annotate(
                        f"Δψ = {imposed:+.1f} V",
                        (grp["counter_z_hi_A"].iloc[0] + 3, level),
                        fontsize=7,
                        color=colour,
                        va="center",
                    )
            ax_q.axhline(0, color="0.5", lw=0.5)
            ax_q.set_ylabel("charge density (e/Å³)")
            ax_p.set_ylabel("electrostatic potential φ (V)")

            lo = sub.get("anode_z_lo_A", sub["z_A"]).min()
            hi = sub.get("counter_z_hi_A", sub["z_A"]).max()
            if not (np.isfinite(lo) and np.isfinite(hi)):
                lo, hi = sub["z_A"].min(), sub["z_A"].max()
            for ax in (ax_n, ax_q, ax_p):
                ax.set_xlabel("z (Å)")
                ax.set_xlim(lo - 10.0, hi + 15.0)
        _legend(fig, axes[:, 1:])
        fig.suptitle(title)
        return _save(fig, out)


def plot_electrode_charge(deposition, out: str | Path, window: float = 0.5) -> Path:
    """Claim 4: electrode charge vs anode potential; slope = capacitance.

    Mean anode (and counter) charge over the final ``window`` of each run vs
    ψ_anode, with a least-squares line per system whose slope dQ/dψ is the
    integral capacitance over the range (e/V, and µF/cm² per lateral area).
    """
    title = "Electrode charge vs anode potential"
    if deposition is None or deposition.empty:
        return _no_data(out, title, "no deposition tables")
    keys = ["system", "mode", "potential", "replica"]
    rows = []
    for key, grp in deposition.groupby(keys):
        grp = grp.sort_values("time_fs")
        tail = grp.iloc[-max(1, math.ceil(window * len(grp))) :]
        rows.append(
            dict(
                zip(keys, key, strict=True),
                psi=float(grp["anode_potential_V"].iloc[0]),
                anode=float(tail["anode_charge_e"].mean()),
                counter=float(tail["counter_charge_e"].mean()),
                area=float(grp["area_A2"].iloc[0]) if "area_A2" in grp else math.nan,
            )
        )
    import pandas as pd

    table = pd.DataFrame(rows)
    constp = table[table["mode"] == "constp"]
    if constp.empty:
        return _no_data(out, title, "no constant-potential runs")
    with _style() as plt:
        systems = _systems(constp)
        colours = _system_colours(systems)
        fig, ax = plt.subplots(figsize=(5.5, 3.8), layout="constrained")
        for system in systems:
            sub = constp[constp["system"] == system]
            colour = colours[system]
            ax.scatter(sub["psi"], sub["anode"], color=colour, marker="o", s=20)
            ax.scatter(
                sub["psi"],
                sub["counter"],
                color=colour,
                marker="s",
                s=20,
                facecolor="none",
            )
            label = f"{system}: anode (●), counter (□)"
            if sub["psi"].nunique() >= 2:
                slope, icpt = np.polyfit(sub["psi"], sub["anode"], 1)
                xs = np.linspace(sub["psi"].min(), sub["psi"].max(), 10)
                ax.plot(xs, slope * xs + icpt, color=colour, lw=1)
                c_uf = slope / sub["area"].iloc[0] * _E_PER_V_A2_IN_UF_PER_CM2
                label += f"\n  dQ/dψ = {slope:.3g} e/V ({c_uf:.3g} µF/cm²)"
            ax.plot([], [], color=colour, label=label)
            q = table[(table["mode"] == "constq") & (table["system"] == system)]
            if len(q):
                ax.axhline(q["anode"].mean(), color=colour, ls=":", lw=1)
        ax.axhline(0, color="0.5", lw=0.5)
        ax.set_xlabel("anode potential ψ (V)")
        ax.set_ylabel("electrode charge, final-window mean (e)")
        ax.set_title(title + " (dotted: anode at ConstQ)", fontsize=9)
        _legend(fig)
        return _save(fig, out)


def plot_li_msd(msd, diffusion, out: str | Path) -> Path:
    """Claim 6: in-plane Li MSD vs lag time, log–log, per group.

    One panel per group (SEI, its LiF and Li₂O parts, electrolyte); one line
    per system and run type (replica mean); constant-charge runs only when
    there are any (diffusivities come from them). A dotted line of slope 1
    shows diffusive motion; the legend gives D_xy where the MSD is
    diffusive in the fit window and the log–log slope where it is not.
    """
    title = "Li in-plane mean-squared displacement"
    if msd is None or msd.empty or "msd_xy_A2" not in msd.columns:
        return _no_data(out, title, "no MSD tables")
    if (msd["mode"] == "constq").any():
        msd = msd[msd["mode"] == "constq"]
        title += " (constant charge)"
    msd = msd[msd["dt_ps"] > 0]
    order = ["sei", "sei:LiF", "sei:Li2O", "electrolyte"]
    groups = [g for g in order if g in set(msd["group"])] + sorted(
        set(msd["group"]) - set(order)
    )
    colours = _psi_colours(msd["anode_potential_V"])
    systems = _systems(msd)
    system_colours = _system_colours(systems)
    styles = dict(zip(systems, ["-", "--", ":", "-."] * 4, strict=False))
    with _style() as plt:
        fig, axes = _grid(plt, 1, max(len(groups), 1), width=3.4, height=3.2)
        for c, group in enumerate(groups):
            ax = axes[0, c]
            sub = msd[msd["group"] == group]
            for (system, mode, potential), grp in sub.groupby(
                ["system", "mode", "potential"]
            ):
                psi = float(grp["anode_potential_V"].iloc[0])
                mean = grp.groupby("dt_ps")["msd_xy_A2"].mean()
                label = f"{system}, {_run_label(mode, psi)}"
                if diffusion is not None and len(diffusion):
                    d = diffusion[
                        (diffusion["system"] == system)
                        & (diffusion["mode"] == mode)
                        & (diffusion["potential"].astype(str) == str(potential))
                        & (diffusion["group"] == group)
                    ]
                    if len(d) and (d["status"] == "diffusive").all():
                        label += f": D_xy {d['D_xy_cm2_s'].mean():.2e} cm²/s"
                    elif len(d) and d["slope"].notna().any():
                        label += f": not diffusive (slope {d['slope'].mean():.2f})"
                colour = (
                    system_colours[system]
                    if mode == "constq"
                    else _colour(mode, psi, colours)
                )
                mean = mean[mean > 0]
                ax.loglog(
                    mean.index,
                    mean.values,
                    color=colour,
                    ls=styles[system],
                    label=label,
                )
            t = sub["dt_ps"]
            if len(t):
                t0, t1 = float(t.min()), float(t.max())
                y0 = float(sub["msd_xy_A2"][t == t.min()].mean())
                if y0 > 0:
                    ax.loglog(
                        [t0, t1],
                        [y0, y0 * t1 / t0],
                        color="0.4",
                        ls=":",
                        lw=0.8,
                        label="slope 1 (diffusive)",
                    )
            ax.set_title(f"Li in {group}", fontsize=9)
            ax.set_xlabel("lag time Δt (ps)")
            ax.set_ylabel("in-plane MSD (Å²)")
            # per panel (D differs by group), below the axes, not over data
            ax.legend(
                loc="upper left", bbox_to_anchor=(0.0, -0.22), fontsize=6, ncols=1
            )
        fig.suptitle(title)
        return _save(fig, out)


def plot_parity(
    predictions, out: str | Path, max_points: int = 20000, seed: int = 0
) -> Path:
    """Claim 5: parity (predicted vs reference) and error distributions.

    Uses the test split when present (else validation, else all rows); at most
    ``max_points`` points per panel (random subset, ``seed``).
    """
    title = "Model accuracy"
    if predictions is None or predictions.empty:
        return _no_data(
            out, title, "no predictions table (results/train/predictions.csv)"
        )
    from .accuracy import QUANTITY_UNITS

    splits = set(predictions["split"].astype(str))
    split = next((s for s in ("test", "validation", "val") if s in splits), None)
    table = (
        predictions
        if split is None
        else predictions[predictions["split"].astype(str) == split]
    )
    quantities = [
        q for q in ("energy_per_atom", "force", "charge") if q in set(table["quantity"])
    ]
    quantities += sorted(set(table["quantity"]) - set(quantities))
    rng = np.random.default_rng(seed)
    with _style() as plt:
        fig, axes = _grid(plt, 2, len(quantities), width=3.6, height=3.3)
        for c, quantity in enumerate(quantities):
            sub = table[table["quantity"] == quantity]
            if len(sub) > max_points:
                sub = sub.iloc[rng.choice(len(sub), max_points, replace=False)]
            unit = QUANTITY_UNITS.get(quantity, "")
            ref = sub["reference"].to_numpy(float)
            pred = sub["predicted"].to_numpy(float)
            err = pred - ref
            rmse = float(np.sqrt(np.mean(err**2)))
            ax = axes[0, c]
            ax.scatter(ref, pred, s=3, alpha=0.4, color=OKABE_ITO[0], rasterized=True)
            lo, hi = (
                float(min(ref.min(), pred.min())),
                float(max(ref.max(), pred.max())),
            )
            ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
            ax.set_xlabel(f"reference {quantity} ({unit})")
            ax.set_ylabel(f"predicted ({unit})")
            ax.set_title(f"{quantity}: RMSE {rmse:.3g} {unit}", fontsize=9)
            ax = axes[1, c]
            ax.hist(err, bins=50, color=OKABE_ITO[0], alpha=0.8)
            ax.set_xlabel(f"predicted − reference ({unit})")
            ax.set_ylabel("count")
        fig.suptitle(
            f"{title}, {split or 'all'} split, {table['model'].nunique()} model(s)"
        )
        return _save(fig, out)


def draw_figures(
    run_dirs: Sequence[str | Path],
    out_dir: str | Path,
    predictions: str | Path | None = None,
    phases: Mapping[str, str] | None = None,
    window: float = 0.5,
) -> dict[str, Path]:
    """Draw every figure of :data:`FIGURES` from the run tables.

    Parameters
    ----------
    run_dirs : sequence of path
        Folders written by :func:`constpot.analysis.run.analyse_run`.
    out_dir : path
        Folder for the PNGs.
    predictions : path, optional
        ``results/train/predictions.csv``; the parity figure says "no data"
        without it.
    phases : mapping, optional
        System → SEI phase (colours of the cluster figure).
    window : float
        Final fraction of frames for window means (default 0.5).

    Returns
    -------
    dict
        Figure key → written path.
    """
    out = Path(out_dir)
    dep = load_tables(run_dirs, "deposition")
    pred = None
    if predictions is not None and Path(predictions).is_file():
        from .accuracy import read_predictions

        pred = read_predictions(predictions)
    if phases is None:
        phases = sei_phases(None, _systems(dep))
    paths = {
        "deposition_vs_time": plot_deposition_vs_time(
            dep, out / FIGURES["deposition_vs_time"]
        ),
        "deposition_vs_potential": plot_deposition_vs_potential(
            dep, out / FIGURES["deposition_vs_potential"]
        ),
        "height_maps": plot_height_maps(
            load_tables(run_dirs, "height_maps"),
            out / FIGURES["height_maps"],
            load_tables(run_dirs, "events"),
        ),
        "surface_roughness": plot_surface_roughness(
            load_tables(run_dirs, "surface"), out / FIGURES["surface_roughness"]
        ),
        "li_clusters": plot_li_clusters(
            load_tables(run_dirs, "clusters"),
            load_tables(run_dirs, "cluster_sizes"),
            out / FIGURES["li_clusters"],
            phases,
            window,
        ),
        "potential_profiles": plot_potential_profiles(
            load_tables(run_dirs, "profiles"), out / FIGURES["potential_profiles"]
        ),
        "electrode_charge": plot_electrode_charge(
            dep, out / FIGURES["electrode_charge"], window
        ),
        "parity": plot_parity(pred, out / FIGURES["parity"]),
        "li_msd": plot_li_msd(
            load_tables(run_dirs, "msd"),
            load_tables(run_dirs, "diffusion"),
            out / FIGURES["li_msd"],
        ),
    }
    return paths
