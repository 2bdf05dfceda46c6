"""The side view: one disc per atom where the atom is, nearest on top.

Facts checked on a small cell with atoms off the origin: every atom is one
disc centred on its (x, z) in Å (1e-9 Å: a translation only), of radius
0.8 × its covalent radius, in its Jmol colour; discs are stacked back to
front (larger y first, as seen along +y); the PNG is written.
"""

import numpy as np
from ase import Atoms
from ase.data import covalent_radii
from ase.data.colors import jmol_colors

from constpot import keys
from constpot.build import render_side_view
from constpot.build.render import _draw_atoms
from constpot.plotstyle import plot_style


def _atoms():
    return Atoms(
        "LiFOCH",
        positions=[
            [1.0, 2.0, 13.0],
            [4.0, 5.0, 16.0],
            [-0.3, 0.5, 19.0],
            [7.5, 3.5, 11.5],
            [2.0, 6.5, 21.0],
        ],
        cell=[10.0, 8.0, 40.0],
        pbc=True,
    )


def test_one_disc_per_atom_at_its_x_and_z():
    atoms = _atoms()
    with plot_style() as plt:
        fig, ax = plt.subplots()
        _draw_atoms(atoms, ax, (-1.0, 8.0, 17.0, 24.0))
        fig.canvas.draw()
    patches = ax.patches
    assert len(patches) == len(atoms)
    to_data = ax.transData.inverted()
    centres = np.array(
        [to_data.transform(p.get_data_transform().transform(p.center)) for p in patches]
    )
    order = np.argsort(-atoms.positions[:, 1])  # far (large y) drawn first
    np.testing.assert_allclose(
        centres, atoms.positions[order][:, [0, 2]], rtol=0, atol=1e-9
    )
    radii = np.array([p.radius for p in patches])
    np.testing.assert_allclose(
        radii, 0.8 * covalent_radii[atoms.numbers[order]], rtol=1e-12
    )
    colours = np.array([p.get_facecolor()[:3] for p in patches])
    np.testing.assert_allclose(colours, jmol_colors[atoms.numbers[order]], atol=1e-9)
    plt.close(fig)


def test_writes_the_png(tmp_path):
    atoms = _atoms()
    atoms.arrays[keys.REGION] = np.array(
        [keys.ANODE_REGION] * 2 + [keys.ELECTROLYTE_REGION] * 3
    )
    atoms.info[keys.WALL_LOWER_A] = 17.0
    render_side_view(atoms, tmp_path / "side.png", title="test")
    assert (tmp_path / "side.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
