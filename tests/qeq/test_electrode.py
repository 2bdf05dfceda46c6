"""Electrode membership (metallic-Li rule) and slab-geometry helpers.

Facts checked: in bcc Li (a = 3.51 Å) every atom has 8 nearest neighbours at
√3a/2 = 3.04 Å and the next shell at a = 3.51 Å lies just beyond the paper's
3.5 Å cutoff, so bulk Li is metallic (≥ 8) while a (100) surface atom, with
4 neighbours in the layer below only, is not; membership is strict in the
cutoff; lower/upper halves map to anode/counter; the geometry helpers keep
distances and put the normal on z.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bcc100
from ase.constraints import FixAtoms
from ase.neighborlist import neighbor_list

from constpot.keys import ANODE, COUNTER, NOT_ELECTRODE
from constpot.qeq import (
    QEqSetupError,
    electrode_potentials,
    metallic_li,
    pad_vacuum,
    rotate_normal_to_z,
    slab_thickness,
)

LI_BCC_A = 3.51  # Å
N_LAYERS = 6
N_LATERAL = 3
GAP = 15.0  # Å between the inner surfaces


@pytest.fixture
def two_slabs():
    """Two 6-layer bcc(100) Li slabs, a gap of 15 Å, one Li atom mid-gap.

    Returns (atoms, layer) where ``layer`` is the (n_atoms,) layer index
    0..11 from the bottom (−1 for the gap atom). Vacuum of 10 Å below and
    above; fully periodic, as the solver needs.
    """
    lower = bcc100(
        "Li", size=(N_LATERAL, N_LATERAL, N_LAYERS), a=LI_BCC_A, orthogonal=True
    )
    per_layer = N_LATERAL**2
    layer = np.repeat(np.arange(N_LAYERS), per_layer)
    order = np.argsort(lower.positions[:, 2], kind="stable")
    lower = lower[order]
    thickness = slab_thickness(lower)
    upper = lower.copy()
    upper.positions[:, 2] += thickness + GAP
    gap_atom = Atoms(
        "Li",
        positions=[[0.25 * LI_BCC_A, 0.25 * LI_BCC_A, thickness + 0.5 * GAP]],
    )
    atoms = lower + upper + gap_atom
    atoms.positions[:, 2] += 10.0
    atoms.set_cell([lower.cell[0], lower.cell[1], [0, 0, 2 * thickness + GAP + 20]])
    atoms.pbc = True
    layers = np.concatenate([layer, layer + N_LAYERS, [-1]])
    return atoms, layers


def test_bcc_neighbour_shells(two_slabs):
    """The premise: 8 neighbours at 3.04 Å in the bulk, 4 at a (100) surface."""
    atoms, layer = two_slabs
    i, d = neighbor_list("id", atoms, 3.5)
    counts = np.bincount(i, minlength=len(atoms))
    # Nearest-neighbour distance √3 a / 2 (geometry of the build, 1e-10 Å).
    np.testing.assert_allclose(d, np.sqrt(3) / 2 * LI_BCC_A, rtol=0, atol=1e-10)
    surface = np.isin(layer, [0, N_LAYERS - 1, N_LAYERS, 2 * N_LAYERS - 1])
    bulk = (layer >= 0) & ~surface
    assert np.all(counts[bulk] == 8)
    assert np.all(counts[surface] == 4)
    assert counts[layer == -1] == 0


def test_metallic_li_bulk_surface_and_halves(two_slabs):
    """Bulk Li is metallic, surfaces and the isolated atom are not.

    Lower slab → ANODE, upper slab → COUNTER; without ``always`` the four
    surface layers (4 neighbours < 8) are not members.
    """
    atoms, layer = two_slabs
    labels = metallic_li(atoms)
    lower_bulk = (layer >= 1) & (layer <= N_LAYERS - 2)
    upper_bulk = (layer >= N_LAYERS + 1) & (layer <= 2 * N_LAYERS - 2)
    assert np.all(labels[lower_bulk] == ANODE)
    assert np.all(labels[upper_bulk] == COUNTER)
    others = ~(lower_bulk | upper_bulk)
    assert np.all(labels[others] == NOT_ELECTRODE)
    assert labels[layer == -1] == NOT_ELECTRODE
    assert labels.dtype.kind == "i"


@pytest.mark.parametrize("form", ["indices", "mask"])
def test_metallic_li_always_members(two_slabs, form):
    """Outermost (frozen) layers belong whatever their neighbour count.

    The inner surfaces, facing the gap, still are not members.
    """
    atoms, layer = two_slabs
    outer = np.isin(layer, [0, 2 * N_LAYERS - 1])
    always = np.flatnonzero(outer) if form == "indices" else outer
    labels = metallic_li(atoms, always=always)
    assert np.all(labels[layer == 0] == ANODE)
    assert np.all(labels[layer == 2 * N_LAYERS - 1] == COUNTER)
    inner_surface = np.isin(layer, [N_LAYERS - 1, N_LAYERS])
    assert np.all(labels[inner_surface] == NOT_ELECTRODE)
    assert labels[layer == -1] == NOT_ELECTRODE


def test_metallic_li_only_counts_the_metal(two_slabs):
    """Non-Li atoms are never members and are not counted as neighbours."""
    atoms, layer = two_slabs
    atoms = atoms.copy()
    # Turn layer 2 of the lower slab into F: layers 1 and 3 lose 4 Li each.
    atoms.symbols[layer == 2] = "F"
    labels = metallic_li(atoms)
    assert np.all(labels[layer == 2] == NOT_ELECTRODE)
    assert np.all(labels[np.isin(layer, [1, 3])] == NOT_ELECTRODE)
    assert np.all(labels[layer == 4] == ANODE)


def test_metallic_li_cutoff_is_strict():
    """Neighbours exactly at the cutoff distance do not count.

    Simple-cubic Li with a = 3 Å (exact in binary): 6 neighbours at exactly
    3 Å. With cutoff = 3 Å none counts (no member); just above, all 6 count.
    """
    atoms = Atoms(
        "Li8",
        scaled_positions=[
            [i / 2, j / 2, k / 2] for i in (0, 1) for j in (0, 1) for k in (0, 1)
        ],
        cell=np.diag([6.0, 6.0, 6.0]),
        pbc=True,
    )
    d = neighbor_list("d", atoms, 3.0 + 1e-6)
    assert np.all(d == 3.0)  # the premise, exactly
    assert np.all(metallic_li(atoms, cutoff=3.0, min_neighbors=6) == NOT_ELECTRODE)
    labels = metallic_li(atoms, cutoff=3.0 + 1e-6, min_neighbors=6)
    assert np.all(labels != NOT_ELECTRODE)
    assert np.all(metallic_li(atoms, cutoff=3.0 + 1e-6, min_neighbors=7) == 0)


def test_metallic_li_rejects_bad_arguments(two_slabs):
    atoms, _ = two_slabs
    with pytest.raises(QEqSetupError, match="cutoff must be > 0"):
        metallic_li(atoms, cutoff=0.0)
    with pytest.raises(QEqSetupError, match="min_neighbors must be >= 1"):
        metallic_li(atoms, min_neighbors=0)
    with pytest.raises(QEqSetupError, match="always: atom indices out of range"):
        metallic_li(atoms, always=[len(atoms)])
    with pytest.raises(QEqSetupError, match=r"always mask must have shape"):
        metallic_li(atoms, always=np.ones(3, bool))


def test_electrode_potentials_maps_labels():
    labels = np.array([NOT_ELECTRODE, ANODE, COUNTER, ANODE, NOT_ELECTRODE])
    psi = electrode_potentials(labels, -6.0, 2.0)
    np.testing.assert_array_equal(psi, [0.0, -6.0, 2.0, -6.0, 0.0])
    assert psi.dtype == np.float64
    np.testing.assert_array_equal(electrode_potentials(labels), np.zeros(5))


# ----------------------------------------------------------------- geometry
def y_normal_slab(seed: int = 0) -> Atoms:
    """Random slab with its normal along y and a skewed in-plane (x–z) cell."""
    rng = np.random.default_rng(seed)
    cell = np.array([[9.0, 0.0, 1.5], [0.0, 30.0, 0.0], [-2.0, 0.0, 8.0]])
    frac = rng.random((20, 3))
    frac[:, 1] = 0.35 + 0.3 * frac[:, 1]  # film in the middle along y
    atoms = Atoms("Li10F10", scaled_positions=frac, cell=cell, pbc=True)
    atoms.set_initial_charges(rng.normal(size=20))
    atoms.set_constraint(FixAtoms(indices=[0, 3, 5]))
    return atoms


@pytest.mark.parametrize("normal", ["x", "y", "z"])
def test_rotate_normal_to_z_keeps_distances(normal):
    """A proper rotation: distances (1e-12 Å) and handedness are kept."""
    atoms = y_normal_slab()
    if normal == "x":
        # Make an x-normal cell from the y-normal one by a cyclic permutation.
        atoms = rotate_normal_to_z(rotate_normal_to_z(atoms, "y"), "y")
    rotated = rotate_normal_to_z(atoms, normal)
    np.testing.assert_allclose(
        rotated.get_all_distances(mic=True),
        atoms.get_all_distances(mic=True),
        rtol=0,
        atol=1e-12,
    )
    assert np.linalg.det(rotated.cell.array) == pytest.approx(
        np.linalg.det(atoms.cell.array), rel=1e-12
    )
    np.testing.assert_array_equal(
        rotated.get_initial_charges(), atoms.get_initial_charges()
    )
    assert rotated.constraints[0].get_indices().tolist() == [0, 3, 5]
    if normal != "z":
        normal_vector = atoms.cell["xyz".index(normal)]
        np.testing.assert_array_equal(
            rotated.cell[2], [0.0, 0.0, np.linalg.norm(normal_vector)]
        )


def test_rotate_normal_to_z_maps_y_normal_to_z():
    """The y cell vector becomes c ∥ z; old y coordinates become z."""
    atoms = y_normal_slab()
    rotated = rotate_normal_to_z(atoms, "y")
    np.testing.assert_allclose(rotated.cell[2], [0.0, 0.0, 30.0], rtol=0, atol=0)
    np.testing.assert_allclose(rotated.cell[0, 2], 0.0, atol=0)
    np.testing.assert_allclose(rotated.cell[1, 2], 0.0, atol=0)
    np.testing.assert_array_equal(rotated.positions[:, 2], atoms.positions[:, 1])
    # The input is not modified.
    assert atoms.cell[1, 1] == 30.0
    with pytest.raises(QEqSetupError, match="normal must be"):
        rotate_normal_to_z(atoms, "w")


@pytest.mark.parametrize("factor", [3.0, 6.0])
def test_pad_vacuum_keeps_slab(two_slabs, factor):
    """Lz = factor × thickness; the slab is rigidly shifted and centred."""
    atoms, _ = two_slabs
    thickness = slab_thickness(atoms)
    padded = pad_vacuum(atoms, factor=factor)
    assert padded.cell[2, 2] == pytest.approx(factor * thickness, rel=1e-12)
    assert slab_thickness(padded) == pytest.approx(thickness, rel=1e-12)
    np.testing.assert_array_equal(padded.cell[:2], atoms.cell[:2])
    np.testing.assert_array_equal(padded.positions[:, :2], atoms.positions[:, :2])
    shift = padded.positions[:, 2] - atoms.positions[:, 2]
    np.testing.assert_allclose(shift, shift[0], rtol=0, atol=1e-12)
    z = padded.positions[:, 2]
    # Centred: equal vacuum below and above (1e-12 Å of rounding).
    assert z.min() == pytest.approx(padded.cell[2, 2] - z.max(), abs=1e-12)


def test_pad_vacuum_by_thickness_and_errors(two_slabs):
    atoms, _ = two_slabs
    thickness = slab_thickness(atoms)
    padded = pad_vacuum(atoms, vacuum=40.0)
    assert padded.cell[2, 2] == pytest.approx(thickness + 40.0, rel=1e-12)
    with pytest.raises(QEqSetupError, match="factor must be > 1"):
        pad_vacuum(atoms, factor=1.0)
    with pytest.raises(QEqSetupError, match="vacuum must be > 0"):
        pad_vacuum(atoms, vacuum=-1.0)
    skewed = atoms.copy()
    skewed.cell[2, 0] = 1.0
    with pytest.raises(QEqSetupError, match="third cell vector along z"):
        pad_vacuum(skewed)


def test_ionic_li_excluded_when_asked():
    """Rock-salt LiF: each Li has 12 Li at a/√2 = 2.85 Å, so the paper's rule
    alone calls it metallic; with exclude_bonded_to=("F",) (F at a/2 = 2.01 Å)
    no Li is. A bcc Li crystal is unaffected."""
    from ase.build import bulk

    lif = bulk("LiF", "rocksalt", a=4.03, cubic=True).repeat(2)
    li = lif.symbols == "Li"
    assert np.all(metallic_li(lif)[li] != NOT_ELECTRODE)
    assert np.all(metallic_li(lif, exclude_bonded_to=("F",)) == NOT_ELECTRODE)
    metal = bulk("Li", "bcc", a=3.51, cubic=True).repeat(3)
    np.testing.assert_array_equal(
        metallic_li(metal, exclude_bonded_to=("F", "O")), metallic_li(metal)
    )
    with pytest.raises(QEqSetupError, match="bond_cutoff"):
        metallic_li(lif, exclude_bonded_to=("F",), bond_cutoff=0.0)
