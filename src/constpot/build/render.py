"""Side-view picture of a built interface (x horizontal, z vertical)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase import Atoms
from ase.data import covalent_radii
from ase.data.colors import jmol_colors

from ..io import atomic_path
from ..keys import REGION

__all__ = ["render_side_view"]


def render_side_view(atoms: Atoms, out: str | Path, title: str | None = None) -> None:
    """Draw atoms projected on the x–z plane, coloured by element.

    Atoms are drawn back to front (by y) as discs of their covalent radius, so
    the picture reads like a ball model seen along y. Region bounds from
    ``atoms.info`` and the electrolyte walls are marked at the right edge.

    Parameters
    ----------
    atoms : ase.Atoms
    out : path
        PNG file, written atomically.
    title : str, optional
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import EllipseCollection

    x, y, z = atoms.positions.T
    order = np.argsort(-y)
    numbers = atoms.numbers[order]
    lx = float(atoms.cell[0, 0])
    z_lo, z_hi = z.min() - 3.0, z.max() + 3.0
    height = 7.0
    width = max(3.0, height * (lx + 8.0) / (z_hi - z_lo))
    fig, ax = plt.subplots(figsize=(width, height))
    diam = 2.0 * covalent_radii[numbers] * 0.8
    coll = EllipseCollection(
        diam,
        diam,
        np.zeros_like(diam),
        units="xy",
        offsets=np.column_stack([x[order], z[order]]),
        offset_transform=ax.transData,
        facecolors=jmol_colors[numbers],
        edgecolors="k",
        linewidths=0.2,
    )
    ax.add_collection(coll)
    for key, style in (("wall_lower_A", "--"), ("wall_upper_A", "--")):
        if key in atoms.info:
            ax.axhline(atoms.info[key], color="tab:blue", lw=0.8, ls=style)
    if REGION in atoms.arrays:
        regions = atoms.arrays[REGION]
        for name in dict.fromkeys(regions):
            zr = z[regions == name]
            ax.text(
                lx + 0.5, 0.5 * (zr.min() + zr.max()), name, va="center", fontsize=8
            )
    ax.set_xlim(-1.0, lx + 7.0)
    ax.set_ylim(z_lo, z_hi)
    ax.set_aspect("equal")
    ax.set_xlabel("x (Å)")
    ax.set_ylabel("z (Å)")
    symbols = sorted(set(atoms.get_chemical_symbols()))
    handles = [
        plt.Line2D(
            [],
            [],
            marker="o",
            ls="",
            markeredgecolor="k",
            markerfacecolor=jmol_colors[atoms.numbers[atoms.symbols == s][0]],
            label=s,
        )
        for s in symbols
    ]
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(handles),
        fontsize=7,
        frameon=False,
        handletextpad=0.1,
        columnspacing=0.8,
    )
    fig.suptitle(title or f"{len(atoms)} atoms", fontsize=9)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)
