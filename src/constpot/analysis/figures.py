"""Figures of the paper's evidence, drawn from the analysis CSV tables only.

One plotting function per figure; each takes tidy tables (pandas DataFrames,
concatenated over runs, with the run labels ``system, mode, potential,
replica, anode_potential_V``) and an output path, and writes a PNG atomically.
A figure without data is still written, with a "no data" note, so the workflow
always has its outputs. :func:`draw_figures` reads the tables of many run
folders and draws the whole set (:data:`FIGURES`).

Conventions: time in ps, lengths in Å, charges in e, potentials in V with the
physical sign (the paper's electronegativity shift is φ = −ψ); one colour per
anode potential (a sequential palette, most negative darkest), grey for
constant charge, and the same colour per SEI phase in every figure.

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

#: Figure key → file name (paper claim in the comment).
FIGURES = {
    "deposition_vs_time": "deposition_vs_time.png",  # claim 1
    "deposition_vs_potential": "deposition_vs_potential.png",  # claim 2
    "height_maps": "height_maps.png",  # claim 3
    "surface_roughness": "surface_roughness.png",  # claim 3
    "li_clusters": "li_clusters.png",  # claim 3
    "potential_profiles": "potential_profiles.png",  # claim 4
    "electrode_charge": "electrode_charge.png",  # claim 4
    "parity": "parity.png",  # claim 5
    "li_msd": "li_msd.png",  # claim 6
}

#: Colour per SEI phase.
PHASE_COLOURS = {
    "amorphous": "#c0392b",
    "crystalline": "#2471a3",
    "none": "#7f8c8d",
    "unknown": "#8e44ad",
}
CONSTQ_COLOUR = "0.45"

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
    }
    with plt.rc_context(rc):
        yield plt


def _save(fig, out: str | Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    return Path(out)


def _no_data(out: str | Path, title: str, message: str) -> Path:
    with _style() as plt:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.set_axis_off()
        ax.set_title(title)
        ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
        return _save(fig, out)


def _psi_colours(values) -> dict[float, tuple]:
    """Anode potential → colour; most negative darkest."""
    import seaborn as sns

    vals = sorted({float(v) for v in values if np.isfinite(v)})
    palette = sns.color_palette("rocket", n_colors=max(len(vals), 1) + 1)
    return {v: palette[k] for k, v in enumerate(vals)}


def _run_label(mode: str, psi: float) -> str:
    return "ConstQ" if mode == "constq" or not np.isfinite(psi) else f"ψ = {psi:+.1f} V"


def _colour(mode: str, psi: float, colours: Mapping) -> object:
    if mode == "constq" or not np.isfinite(psi):
        return CONSTQ_COLOUR
    return colours.get(float(psi), "k")


def _systems(table) -> list[str]:
    return sorted(set(table["system"])) if len(table) else []


def _grid(plt, n_rows: int, n_cols: int, width=4.2, height=3.0, **kw):
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(width * n_cols, height * n_rows),
        squeeze=False,
        **kw,
    )
    return fig, axes


def plot_deposition_vs_time(deposition, out: str | Path) -> Path:
    """Claim 1: deposited Li vs time; constant potential | constant charge.

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
        fig, axes = _grid(plt, len(systems), 2, sharey=True)
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
                    )
                    if grp["replica"].nunique() > 1:
                        ax.fill_between(
                            stats.index,
                            stats["min"],
                            stats["max"],
                            color=colour,
                            alpha=0.2,
                        )
                if sub.empty:
                    ax.text(0.5, 0.5, "no runs", transform=ax.transAxes, ha="center")
                ax.set_title(f"{system}: {name}")
                ax.set_xlabel("time (ps)")
                if c == 0:
                    ax.set_ylabel("deposited Li (atoms)")
                if len(sub):
                    ax.legend(fontsize=8)
        return _save(fig, out)


def _final(table, value: str):
    """Last-frame value per run."""
    keys = ["system", "mode", "potential", "replica"]
    last = table.sort_values("time_fs").groupby(keys, as_index=False).tail(1)
    return last[[*keys, "anode_potential_V", value]]


def plot_deposition_vs_potential(deposition, out: str | Path) -> Path:
    """Claim 2: Li deposited by the end vs anode potential, per system."""
    title = "Deposition vs anode potential"
    if deposition is None or deposition.empty:
        return _no_data(out, title, "no deposition tables")
    final = _final(deposition, "deposited")
    systems = _systems(final)
    with _style() as plt:
        import seaborn as sns

        palette = dict(
            zip(systems, sns.color_palette("deep", len(systems)), strict=True)
        )
        fig, ax = plt.subplots(figsize=(5.5, 4.0))
        for system in systems:
            sub = final[final["system"] == system]
            p = sub[sub["mode"] == "constp"].sort_values("anode_potential_V")
            colour = palette[system]
            if len(p):
                ax.scatter(p["anode_potential_V"], p["deposited"], color=colour, s=18)
                mean = p.groupby("anode_potential_V")["deposited"].mean()
                ax.plot(mean.index, mean.values, "-o", color=colour, label=system)
            q = sub[sub["mode"] == "constq"]
            if len(q):
                ax.axhline(
                    q["deposited"].mean(),
                    color=colour,
                    ls="--",
                    lw=1,
                    label=f"{system}, ConstQ",
                )
        ax.set_xlabel("anode potential ψ (V)  [paper shift φ = −ψ]")
        ax.set_ylabel("deposited Li at the end (atoms)")
        ax.set_title(title)
        ax.legend(fontsize=8)
        return _save(fig, out)


def plot_height_maps(maps, out: str | Path) -> Path:
    """Claim 3: anode height maps at start and end, per system and potential.

    Uses the first replica of each (system, mode, potential); heights are
    relative to each map's mean, on one colour scale.
    """
    title = "Anode surface height maps"
    if maps is None or maps.empty:
        return _no_data(out, title, "no height maps")
    first = maps[
        maps["replica"]
        == maps.groupby(["system", "mode", "potential"])["replica"].transform("min")
    ]
    runs = (
        first[["system", "mode", "potential", "anode_potential_V"]]
        .drop_duplicates()
        .sort_values(["system", "mode", "anode_potential_V"])
        .to_records(index=False)
    )
    limit = float(np.nanmax(np.abs(first["relative_height_A"]))) if len(first) else 1.0
    limit = limit if np.isfinite(limit) and limit > 0 else 1.0
    with _style() as plt:
        fig, axes = _grid(
            plt, len(runs), 2, width=3.4, height=3.2, layout="constrained"
        )
        image = None
        for r, (system, mode, potential, psi) in enumerate(runs):
            for c, snapshot in enumerate(("start", "end")):
                ax = axes[r, c]
                sub = first[
                    (first["system"] == system)
                    & (first["mode"] == mode)
                    & (first["potential"] == potential)
                    & (first["snapshot"] == snapshot)
                ]
                if sub.empty:
                    ax.set_axis_off()
                    continue
                nx, ny = int(sub["ix"].max()) + 1, int(sub["iy"].max()) + 1
                grid = np.full((nx, ny), np.nan)
                grid[sub["ix"].to_numpy(int), sub["iy"].to_numpy(int)] = sub[
                    "relative_height_A"
                ]
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
                ax.set_title(
                    f"{system}, {_run_label(mode, psi)}\n{snapshot} "
                    f"({float(sub['time_ps'].iloc[0]):.2f} ps)",
                    fontsize=8,
                )
                ax.set_xlabel("x (Å)")
                ax.set_ylabel("y (Å)")
                ax.grid(False)
        if image is not None:
            fig.colorbar(
                image, ax=axes, shrink=0.6, label="height above mean surface (Å)"
            )
        with atomic_path(out) as tmp:
            fig.savefig(tmp)
        plt.close(fig)
        return Path(out)


def plot_surface_roughness(surface, out: str | Path) -> Path:
    """Claim 3: anode roughness and tallest protrusion vs time."""
    title = "Anode roughness and protrusions"
    if surface is None or surface.empty:
        return _no_data(out, title, "no surface tables")
    colours = _psi_colours(surface["anode_potential_V"])
    systems = _systems(surface)
    columns = [
        ("roughness_A", "roughness, RMS height (Å)"),
        ("protrusion_A", "tallest protrusion above mean (Å)"),
    ]
    with _style() as plt:
        fig, axes = _grid(plt, len(systems), 2)
        for r, system in enumerate(systems):
            sub = surface[surface["system"] == system]
            for c, (col, label) in enumerate(columns):
                ax = axes[r, c]
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
                ax.set_title(system)
                ax.set_xlabel("time (ps)")
                ax.set_ylabel(label)
                ax.legend(fontsize=8)
        return _save(fig, out)


def plot_li_clusters(
    clusters,
    sizes,
    out: str | Path,
    phases: Mapping[str, str] | None = None,
    window: float = 0.5,
) -> Path:
    """Claim 3: reduced-Li clusters in the SEI, amorphous vs crystalline.

    Left: largest cluster vs time at the most negative constant potential of
    each system. Right: mean number of clusters of each size per frame over
    the final ``window`` of that run.
    """
    title = "Reduced-Li clusters in the SEI"
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
    with _style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        ax_t, ax_s = axes
        width = 0.8 / max(len(picked), 1)
        for k, (system, psi) in enumerate(picked):
            sub = table[table["system"] == system]
            if psi is not None:
                sub = sub[sub["anode_potential_V"] == psi]
            phase = phases.get(system, "unknown")
            colour = PHASE_COLOURS.get(phase, "k")
            ls = ["-", "--", ":", "-."][k % 4]
            mean = sub.groupby("time_ps")["largest_cluster"].mean()
            label = f"{system} ({phase} SEI)" + (
                f", ψ = {psi:+.1f} V" if psi is not None else ""
            )
            ax_t.plot(mean.index, mean.values, color=colour, ls=ls, label=label)
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
                        alpha=0.8,
                        label=system,
                        hatch=["", "//", "..", "xx"][k % 4],
                    )
        ax_t.set_xlabel("time (ps)")
        ax_t.set_ylabel("largest reduced-Li cluster (atoms)")
        ax_t.set_title("largest cluster in the SEI")
        ax_t.legend(fontsize=7)
        ax_s.set_xlabel("cluster size (Li atoms)")
        ax_s.set_ylabel("clusters per frame, final window")
        ax_s.set_title("cluster-size distribution")
        if ax_s.has_data():
            ax_s.legend(fontsize=7)
        else:
            ax_s.text(
                0.5,
                0.5,
                "no reduced Li in the SEI",
                transform=ax_s.transAxes,
                ha="center",
            )
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
        fig, axes = _grid(plt, len(systems), 3, width=4.4, height=3.0)
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
            ax_n.legend(fontsize=7, ncol=2)
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
            ax_p.legend(fontsize=7)
            lo = sub.get("anode_z_lo_A", sub["z_A"]).min()
            hi = sub.get("counter_z_hi_A", sub["z_A"]).max()
            if not (np.isfinite(lo) and np.isfinite(hi)):
                lo, hi = sub["z_A"].min(), sub["z_A"].max()
            for ax in (ax_n, ax_q, ax_p):
                ax.set_xlabel("z (Å)")
                ax.set_xlim(lo - 10.0, hi + 15.0)
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
        import seaborn as sns

        systems = _systems(constp)
        palette = dict(
            zip(systems, sns.color_palette("deep", len(systems)), strict=True)
        )
        fig, ax = plt.subplots(figsize=(5.5, 4.0))
        for system in systems:
            sub = constp[constp["system"] == system]
            colour = palette[system]
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
        ax.legend(fontsize=7)
        return _save(fig, out)


def plot_li_msd(msd, diffusion, out: str | Path) -> Path:
    """Claim 6: Li MSD vs lag time per group (SEI components, electrolyte).

    One panel per group; one line per system and run type (replica mean), with
    the DiffusionAnalyzer diffusivity in the legend.
    """
    title = "Li mean-squared displacement"
    if msd is None or msd.empty:
        return _no_data(
            out, title, "no MSD tables (runs too short for DiffusionAnalyzer?)"
        )
    order = ["sei", "sei:LiF", "sei:Li2O", "electrolyte"]
    groups = [g for g in order if g in set(msd["group"])] + sorted(
        set(msd["group"]) - set(order)
    )
    colours = _psi_colours(msd["anode_potential_V"])
    systems = _systems(msd)
    styles = dict(zip(systems, ["-", "--", ":", "-."] * 4, strict=False))
    with _style() as plt:
        fig, axes = _grid(plt, 1, len(groups), width=4.0, height=3.4)
        for c, group in enumerate(groups):
            ax = axes[0, c]
            sub = msd[msd["group"] == group]
            for (system, mode, potential), grp in sub.groupby(
                ["system", "mode", "potential"]
            ):
                psi = float(grp["anode_potential_V"].iloc[0])
                mean = grp.groupby("dt_ps")["msd_A2"].mean()
                label = f"{system}, {_run_label(mode, psi)}"
                if diffusion is not None and len(diffusion):
                    d = diffusion[
                        (diffusion["system"] == system)
                        & (diffusion["mode"] == mode)
                        & (diffusion["potential"] == potential)
                        & (diffusion["group"] == group)
                    ]["D_cm2_s"]
                    if d.notna().any():
                        label += f"\n  D = {d.mean():.2e} cm²/s"
                ax.plot(
                    mean.index,
                    mean.values,
                    color=_colour(mode, psi, colours),
                    ls=styles[system],
                    label=label,
                )
            ax.set_title(f"Li in {group}")
            ax.set_xlabel("lag time Δt (ps)")
            ax.set_ylabel("MSD (Å²)")
            ax.legend(fontsize=6)
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
            ax.scatter(ref, pred, s=3, alpha=0.4, color="#2471a3", rasterized=True)
            lo, hi = (
                float(min(ref.min(), pred.min())),
                float(max(ref.max(), pred.max())),
            )
            ax.plot([lo, hi], [lo, hi], color="k", lw=0.8)
            ax.set_xlabel(f"reference {quantity} ({unit})")
            ax.set_ylabel(f"predicted ({unit})")
            ax.set_title(f"{quantity}: RMSE {rmse:.3g} {unit}", fontsize=9)
            ax = axes[1, c]
            ax.hist(err, bins=50, color="#2471a3", alpha=0.8)
            ax.set_xlabel(f"predicted − reference ({unit})")
            ax.set_ylabel("count")
        fig.suptitle(
            f"{title}, {split or 'all'} split, {table['model'].nunique()} model(s)"
        )
        return _save(fig, out)


def load_tables(run_dirs: Sequence[str | Path], name: str):
    """Concatenate ``<run_dir>/<name>.csv`` over runs (missing files skipped).

    Returns
    -------
    pandas.DataFrame
        Empty when no run has the table.
    """
    import pandas as pd

    frames = []
    for run_dir in run_dirs:
        path = Path(run_dir) / f"{name}.csv"
        if path.is_file() and path.stat().st_size > 0:
            try:
                table = pd.read_csv(path)
            except pd.errors.EmptyDataError:
                continue
            if len(table):
                frames.append(table)
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    if "potential" in table.columns:
        table["potential"] = table["potential"].astype(str)
    return table


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
        from .summary import sei_phases

        phases = sei_phases(None, _systems(dep))
    paths = {
        "deposition_vs_time": plot_deposition_vs_time(
            dep, out / FIGURES["deposition_vs_time"]
        ),
        "deposition_vs_potential": plot_deposition_vs_potential(
            dep, out / FIGURES["deposition_vs_potential"]
        ),
        "height_maps": plot_height_maps(
            load_tables(run_dirs, "height_maps"), out / FIGURES["height_maps"]
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
