"""Side-view picture of a built interface (x horizontal, z vertical).

The atoms are drawn by :func:`ase.visualize.plot.plot_atoms` seen along +y
(camera rotation ``-90x``: image plane (x, z), nearer atoms, smaller y, drawn
over farther ones), as discs of 0.8 × their covalent radius in Jmol colours.
The axes are in Å of the cell's own x and z; the electrolyte walls and the
region names are marked at the right edge, a legend of the elements above.
It is drawn in the shared look of :mod:`constpot.plotstyle`, without the grid
(a picture of atoms, not a chart).
"""

from __future__ import annotations

from pathlib import Path

from ase import Atoms
from ase.data import covalent_radii
from ase.data.colors import jmol_colors

from ..keys import REGION, WALL_LOWER_A, WALL_UPPER_A
from ..plotstyle import OKABE_ITO, plot_style, save_figure

__all__ = ["render_side_view"]

#: Disc radius as a fraction of the covalent radius (space for the bonds).
_RADIUS_SCALE = 0.8
#: Margin around the atoms, Å (below and above; the right edge holds labels).
_MARGIN_A = 3.0
#: Width of the label column at the right edge, Å.
_LABEL_COLUMN_A = 7.0


def render_side_view(atoms: Atoms, out: str | Path, title: str | None = None) -> None:
    """Draw atoms projected on the x–z plane, coloured by element.

    Parameters
    ----------
    atoms : ase.Atoms
        Surface normal z; ``atoms.info`` may hold ``wall_lower_A`` and
        ``wall_upper_A`` (drawn as dashed lines) and the ``region`` array
        (names written beside each region).
    out : path
        PNG file, written atomically.
    title : str, optional
        Default: the number of atoms.
    """
    z = atoms.positions[:, 2]
    lx = float(atoms.cell[0, 0])
    x_lo, x_hi = -1.0, lx + _LABEL_COLUMN_A
    z_lo, z_hi = z.min() - _MARGIN_A, z.max() + _MARGIN_A
    height = 7.0
    width = max(3.0, height * (x_hi - x_lo) / (z_hi - z_lo))
    with plot_style() as plt:
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        _draw_atoms(atoms, ax, (x_lo, z_lo, x_hi, z_hi))
        ax.grid(False)  # a picture of atoms: grid lines would cross the discs
        for key in (WALL_LOWER_A, WALL_UPPER_A):
            if key in atoms.info:
                ax.axhline(atoms.info[key], color=OKABE_ITO[0], lw=0.8, ls="--")
        if REGION in atoms.arrays:
            regions = atoms.arrays[REGION]
            for name in dict.fromkeys(regions):
                zr = z[regions == name]
                ax.text(
                    lx + 0.5, 0.5 * (zr.min() + zr.max()), name, va="center", fontsize=8
                )
        ax.set_xlim(x_lo, x_hi)
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
            handletextpad=0.1,
            columnspacing=0.8,
        )
        fig.suptitle(title or f"{len(atoms)} atoms", fontsize=9)
        save_figure(fig, out)


def _draw_atoms(atoms: Atoms, ax, bbox: tuple[float, float, float, float]) -> None:
    """Discs of the atoms seen along +y, in Å of x and z, on ``ax``.

    ``bbox`` is (x_lo, z_lo, x_hi, z_hi), Å: atoms outside it are not drawn.
    """
    # matplotlib-based: loaded with the picture only, after plot_style has
    # chosen the Agg backend.
    from ase.visualize.plot import plot_atoms
    from matplotlib.transforms import Affine2D

    plot_atoms(
        atoms,
        ax,
        rotation="-90x",
        radii=_RADIUS_SCALE * covalent_radii[atoms.numbers],
        colors=jmol_colors[atoms.numbers],
        show_unit_cell=0,
        bbox=bbox,
    )
    ax.set_axis_on()  # plot_atoms hides the axes; ours are in Å
    # plot_atoms draws relative to the bbox's lower-left corner: shift back to Å.
    to_cell = Affine2D().translate(bbox[0], bbox[1]) + ax.transData
    for patch in ax.patches:
        patch.set_transform(to_cell)
        patch.set_linewidth(0.2)
