"""Stacking blocks along z: gaps, region order, ids, frozen layers, centring."""

import itertools

import numpy as np
import pytest
from ase import Atoms

from constpot.build import Block, min_distance_between, stack_blocks
from constpot.keys import FROZEN, MOL_ID, REGION

CELL = np.array([[8.0, 0.0, 0.0], [0.0, 7.0, 0.0], [0.0, 0.0, 10.0]])


def _block(rng, n, thickness, symbol="Li", mol=None, frozen_bottom=0):
    pos = np.column_stack(
        [rng.uniform(0, 8, n), rng.uniform(0, 7, n), rng.uniform(0, thickness, n)]
    )
    atoms = Atoms(symbol * n, positions=pos, cell=CELL, pbc=True)
    if mol is not None:
        atoms.arrays[MOL_ID] = np.asarray(mol)
    if frozen_bottom:
        atoms.arrays[FROZEN] = np.argsort(np.argsort(pos[:, 2])) < frozen_bottom
    return atoms


def _brute_min_distance(a, b, cell):
    best = np.inf
    for i in (-1, 0, 1):
        for j in (-1, 0, 1):
            shift = i * cell[0] + j * cell[1]
            d = np.linalg.norm(
                a.positions[:, None, :] - (b.positions[None, :, :] + shift), axis=-1
            )
            best = min(best, d.min())
    return best


def test_min_distance_includes_lateral_images(rng):
    a = _block(rng, 12, 3.0)
    b = _block(rng, 9, 3.0)
    b.positions[:, 2] += 3.5
    # Exact (brute force over the 9 lateral images), to round-off.
    np.testing.assert_allclose(
        min_distance_between(a, b, CELL), _brute_min_distance(a, b, CELL), rtol=1e-12
    )


def test_stack_order_gap_ids_and_centre(rng):
    anode = _block(rng, 20, 4.0, frozen_bottom=4)
    ely = _block(rng, 12, 6.0, symbol="O", mol=np.repeat([7, 3, 5, 9], 3))
    counter = _block(rng, 16, 3.0, frozen_bottom=4)
    gap = 2.0
    atoms = stack_blocks(
        [
            Block(anode, "anode"),
            Block(ely, "electrolyte"),
            Block(counter, "counter", True),
        ],
        gap_A=gap,
        vacuum_factor=3.0,
    )
    regions = atoms.arrays[REGION]
    z = atoms.positions[:, 2]
    # Regions ordered along z, with at least `gap` between blocks (images too).
    order = ["anode", "electrolyte", "counter"]
    for lower, upper in itertools.pairwise(order):
        assert z[regions == lower].max() < z[regions == upper].min()
        d = min_distance_between(atoms[regions == lower], atoms[regions == upper], CELL)
        assert d >= gap - 1e-9
    # Molecule ids renumbered 0..n-1 in order, metal atoms -1.
    ids = atoms.arrays[MOL_ID]
    assert set(ids[regions == "electrolyte"]) == {0, 1, 2, 3}
    assert np.all(ids[regions != "electrolyte"] == -1)
    # Frozen atoms are the outermost: bottom of the anode, top of the (flipped)
    # counter electrode.
    frozen = atoms.arrays[FROZEN]
    za, zc = z[regions == "anode"], z[regions == "counter"]
    assert z[frozen & (regions == "anode")].max() <= np.sort(za)[3] + 1e-12
    assert z[frozen & (regions == "counter")].min() >= np.sort(zc)[-4] - 1e-12
    # Electrolyte centred; L_z = 3 × the extent about that centre; inside cell.
    ze = z[regions == "electrolyte"]
    lz = atoms.cell[2, 2]
    np.testing.assert_allclose(0.5 * (ze.min() + ze.max()), 0.5 * lz, atol=1e-9)
    assert z.min() > 0 and z.max() < lz
    assert atoms.info["electrolyte_z_min_A"] == pytest.approx(ze.min())


def test_mismatched_lateral_cell_is_an_error(rng):
    a = _block(rng, 5, 2.0)
    b = _block(rng, 5, 2.0)
    b.set_cell(CELL * [[1.1], [1], [1]], scale_atoms=False)
    with pytest.raises(ValueError, match="lateral cell"):
        stack_blocks([Block(a, "anode"), Block(b, "electrolyte")])
