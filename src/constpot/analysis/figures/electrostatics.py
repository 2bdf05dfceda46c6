"""Claim 4: profiles along z with the imposed drop, and the electrode charge.

Profiles are :class:`constpot.analysis.Profiles`' ``profiles.csv`` (number
densities, Gaussian charge density and Poisson potential φ, in V with the
physical sign); electrode charges are the ``anode_charge_e`` and
``counter_charge_e`` columns of ``deposition.csv`` (the MD's electrode
labels), whose slope against ψ_anode is the integral capacitance.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ...keys import ANODE_REGION, COUNTER_REGION, SEI_REGION
from ...runs import LABEL_COLUMNS
from ...units import E_PER_V_A2_IN_UF_PER_CM2
from .._frames import final_window_count
from . import style

__all__ = ["electrode_charges", "plot_electrode_charge", "plot_potential_profiles"]

#: Region → shade of its z-range on the profile panels.
_REGION_SHADES = (
    (ANODE_REGION, "0.85"),
    (COUNTER_REGION, "0.85"),
    (SEI_REGION, "#f5e6cc"),
)


def _shade_regions(ax, sub) -> None:
    for region, shade in _REGION_SHADES:
        lo, hi = f"{region}_z_lo_A", f"{region}_z_hi_A"
        if lo in sub.columns and sub[lo].notna().any():
            ax.axvspan(sub[lo].iloc[0], sub[hi].iloc[0], color=shade, alpha=0.5, lw=0)


def _plot_densities(ax, sub) -> None:
    """Number densities of the most negative potential run (or the first)."""
    ref = sub.sort_values("anode_potential_V")
    ref_key = ref[["mode", "potential"]].iloc[0]
    ref = sub[
        (sub["mode"] == ref_key["mode"]) & (sub["potential"] == ref_key["potential"])
    ]
    for col in [
        c for c in sub.columns if c.startswith("density_") and c.endswith("_per_A3")
    ]:
        if ref[col].notna().any() and ref[col].max() > 0:
            ax.plot(
                ref["z_A"],
                ref[col],
                lw=0.8,
                label=col[len("density_") : -len("_per_A3")],
            )
    system = sub["system"].iloc[0]
    label = style.run_label(ref_key["mode"], ref["anode_potential_V"].iloc[0])
    ax.set_title(f"{system}: {label}", fontsize=9)
    ax.set_ylabel("number density (Å⁻³)")
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(0.0, -0.28), ncol=4)


def _mark_imposed_drop(ax, grp, colour) -> None:
    """Anode interior level + ψ_counter − ψ_anode over the counter electrode."""
    imposed = grp["imposed_drop_V"].iloc[0] if "imposed_drop_V" in grp else math.nan
    if not (
        np.isfinite(imposed)
        and "counter_z_lo_A" in grp
        and grp["counter_z_lo_A"].notna().any()
    ):
        return
    level = grp["anode_level_V"].iloc[0] + imposed
    ax.hlines(
        level,
        grp["counter_z_lo_A"].iloc[0] - 3,
        grp["counter_z_hi_A"].iloc[0] + 3,
        color=colour,
        ls="--",
        lw=1.2,
    )
    # Above the start of the line, where the curve is still rising below it:
    # the label covers no data.
    ax.annotate(
        f"Δψ = {imposed:+.1f} V",
        (grp["counter_z_lo_A"].iloc[0] - 3, level),
        xytext=(0, 2),
        textcoords="offset points",
        fontsize=7,
        color=colour,
        ha="left",
        va="bottom",
    )


def plot_potential_profiles(profiles, out: str | Path) -> Path:
    """Claim 4: number density, charge density and Poisson potential along z.

    The imposed potential difference is marked: a dashed line, in each
    constant-potential run's colour, at the anode interior level plus
    ψ_counter − ψ_anode over the counter electrode. From the ``profiles.csv``
    tables, first replica of each run type.
    """
    title = "Profiles along the surface normal"
    if profiles is None or profiles.empty:
        return style.no_data_figure(out, title, "no profile tables")
    colours = style.psi_colours(profiles["anode_potential_V"])
    systems = style.systems_of(profiles)
    first = style.first_replica(profiles)
    with style.plot_style() as plt:
        fig, axes = style.panel_grid(plt, len(systems), 3, width=3.8, height=2.8)
        for r, system in enumerate(systems):
            sub = first[first["system"] == system]
            ax_n, ax_q, ax_p = axes[r]
            for ax in (ax_n, ax_q, ax_p):
                _shade_regions(ax, sub)
            _plot_densities(ax_n, sub)
            for (mode, _), grp in sub.groupby(["mode", "potential"]):
                psi = float(grp["anode_potential_V"].iloc[0])
                colour = style.run_colour(mode, psi, colours)
                label = style.run_label(mode, psi)
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
                if mode == "constp":
                    _mark_imposed_drop(ax_p, grp, colour)
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
        style.figure_legend(fig, axes[:, 1:])
        fig.suptitle(title)
        return style.save_figure(fig, out)


def electrode_charges(deposition, window: float = 0.5):
    """Final-window mean electrode charges of each run.

    Parameters
    ----------
    deposition : pandas.DataFrame
        Concatenated ``deposition.csv`` tables.
    window : float
        Final fraction of each run's frames
        (:func:`~constpot.analysis._frames.final_window_count`).

    Returns
    -------
    pandas.DataFrame
        One row per run: ``system, mode, potential, replica, psi`` (V),
        ``anode, counter`` (e), ``area`` (Å², NaN without ``area_A2``).
    """
    import pandas as pd

    rows = []
    for key, grp in deposition.groupby(list(LABEL_COLUMNS)):
        grp = grp.sort_values("time_fs")
        tail = grp.iloc[-final_window_count(len(grp), window) :]
        rows.append(
            dict(
                zip(LABEL_COLUMNS, key, strict=True),
                psi=float(grp["anode_potential_V"].iloc[0]),
                anode=float(tail["anode_charge_e"].mean()),
                counter=float(tail["counter_charge_e"].mean()),
                area=float(grp["area_A2"].iloc[0]) if "area_A2" in grp else math.nan,
            )
        )
    return pd.DataFrame(rows)


def plot_electrode_charge(deposition, out: str | Path, window: float = 0.5) -> Path:
    """Claim 4: electrode charge vs anode potential; slope = capacitance.

    Mean anode (and counter) charge over the final ``window`` of each run vs
    ψ_anode, with a least-squares line per system whose slope dQ/dψ is the
    integral capacitance over the range (e/V, and µF/cm² per lateral area).

    Parameters
    ----------
    deposition : pandas.DataFrame
        The ``deposition.csv`` tables (:func:`electrode_charges`).
    out : path
        PNG.
    window : float
        Final fraction of each run's frames (0.5).
    """
    title = "Electrode charge vs anode potential"
    if deposition is None or deposition.empty:
        return style.no_data_figure(out, title, "no deposition tables")
    table = electrode_charges(deposition, window)
    constp = table[table["mode"] == "constp"]
    if constp.empty:
        return style.no_data_figure(out, title, "no constant-potential runs")
    with style.plot_style() as plt:
        systems = style.systems_of(constp)
        colours = style.system_colours(systems)
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
                c_uf = slope / sub["area"].iloc[0] * E_PER_V_A2_IN_UF_PER_CM2
                label += f"\n  dQ/dψ = {slope:.3g} e/V ({c_uf:.3g} µF/cm²)"
            ax.plot([], [], color=colour, label=label)
            q = table[(table["mode"] == "constq") & (table["system"] == system)]
            if len(q):
                ax.axhline(q["anode"].mean(), color=colour, ls=":", lw=1)
        ax.axhline(0, color="0.5", lw=0.5)
        ax.set_xlabel("anode potential ψ (V)")
        ax.set_ylabel("electrode charge, final-window mean (e)")
        ax.set_title(title + "\n(dotted: anode at ConstQ)", fontsize=9)
        style.figure_legend(fig)
        return style.save_figure(fig, out)
