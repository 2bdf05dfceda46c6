"""Claim 6: in-plane Li mean-squared displacement, log–log, per group.

Drawn from :class:`constpot.analysis.LiDiffusion`'s ``msd.csv`` and
``diffusion.csv`` tables; D_xy is quoted only where the MSD is diffusive in
the fit window.
"""

from __future__ import annotations

from pathlib import Path

from ...keys import ELECTROLYTE_REGION, SEI_REGION
from . import style

__all__ = ["plot_li_msd"]

#: Panel order of the diffusion groups (others follow, sorted).
_GROUP_ORDER = (SEI_REGION, "sei:LiF", "sei:Li2O", ELECTROLYTE_REGION)


def _diffusion_note(diffusion, system, mode, potential, group) -> str:
    """ ": D_xy … cm²/s" when diffusive, ": not diffusive (slope …)", or ""."""
    if diffusion is None or not len(diffusion):
        return ""
    d = diffusion[
        (diffusion["system"] == system)
        & (diffusion["mode"] == mode)
        & (diffusion["potential"].astype(str) == str(potential))
        & (diffusion["group"] == group)
    ]
    if len(d) and (d["status"] == "diffusive").all():
        return f": D_xy {d['D_xy_cm2_s'].mean():.2e} cm²/s"
    if len(d) and d["slope"].notna().any():
        return f": not diffusive (slope {d['slope'].mean():.2f})"
    return ""


def plot_li_msd(msd, diffusion, out: str | Path) -> Path:
    """Claim 6: in-plane Li MSD vs lag time, log–log, per group.

    One panel per group (SEI, its LiF and Li₂O parts, electrolyte); one line
    per system and run type (replica mean); constant-charge runs only when
    there are any (diffusivities come from them). A dotted line of slope 1
    shows diffusive motion; the legend gives D_xy where the MSD is
    diffusive in the fit window and the log–log slope where it is not.

    From the ``msd.csv`` and ``diffusion.csv`` tables.
    """
    title = "Li in-plane mean-squared displacement"
    if msd is None or msd.empty or "msd_xy_A2" not in msd.columns:
        return style.no_data_figure(out, title, "no MSD tables")
    if (msd["mode"] == "constq").any():
        msd = msd[msd["mode"] == "constq"]
        title += " (constant charge)"
    msd = msd[msd["dt_ps"] > 0]
    present = set(msd["group"])
    groups = [g for g in _GROUP_ORDER if g in present]
    groups += sorted(present - set(_GROUP_ORDER))
    colours = style.psi_colours(msd["anode_potential_V"])
    systems = style.systems_of(msd)
    by_system = style.system_colours(systems)
    line_styles = dict(zip(systems, ["-", "--", ":", "-."] * 4, strict=False))
    with style.plot_style() as plt:
        fig, axes = style.panel_grid(plt, 1, max(len(groups), 1), width=3.4, height=3.2)
        for c, group in enumerate(groups):
            ax = axes[0, c]
            sub = msd[msd["group"] == group]
            for (system, mode, potential), grp in sub.groupby(style.RUN_TYPE_COLUMNS):
                psi = float(grp["anode_potential_V"].iloc[0])
                mean = grp.groupby("dt_ps")["msd_xy_A2"].mean()
                label = f"{system}, {style.run_label(mode, psi)}" + _diffusion_note(
                    diffusion, system, mode, potential, group
                )
                colour = (
                    by_system[system]
                    if mode == "constq"
                    else style.run_colour(mode, psi, colours)
                )
                mean = mean[mean > 0]
                ax.loglog(
                    mean.index,
                    mean.values,
                    color=colour,
                    ls=line_styles[system],
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
            ax.set_title(f"Li in {_group_label(group)}", fontsize=9)
            ax.set_xlabel("lag time Δt (ps)")
            ax.set_ylabel("in-plane MSD (Å²)")
            # per panel (D differs by group), below the axes, not over data
            ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.3), fontsize=6, ncols=1)
        fig.suptitle(title)
        return style.save_figure(fig, out)


def _group_label(group: str) -> str:
    """``sei`` → "the SEI", ``sei:LiF`` → "SEI LiF", ``electrolyte`` → "the
    electrolyte"."""
    if group == "sei":
        return "the SEI"
    if group.startswith("sei:"):
        return f"SEI {group[4:]}"
    return f"the {group}"
