"""Electrode membership (metallic-Li rule) and slab-geometry helpers.

Facts checked: in bcc Li (a = 3.51 Å) every atom has 8 nearest neighbours at
√3a/2 = 3.04 Å and the next shell at a = 3.51 Å lies just beyond the paper's
3.5 Å cutoff, so bulk Li is metallic (≥ 8) while a (100) surface atom, with
4 neighbours in the layer below only, is not; membership is strict in the
cutoff; the lower/upper slab is the anode/counter electrode wherever the stack
sits in the cell (split by gaps along z, not by the cell midpoint), a single
slab is the anode, frozen non-Li atoms are never members, and constant
potential refuses empty electrodes; the geometry helpers keep distances and
put the normal on z.
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


# ------------------------------------------------ electrodes by structure
def _bulk_layers(layer):
    """Members of the two_slabs fixture without ``always``: layers 1–4, 7–10."""
    lower = (layer >= 1) & (layer <= N_LAYERS - 2)
    upper = (layer >= N_LAYERS + 1) & (layer <= 2 * N_LAYERS - 2)
    return lower, upper


def _shifted(atoms, shift):
    """Rigid shift along z by ``shift`` Å, wrapped back into the cell."""
    out = atoms.copy()
    out.positions[:, 2] = (out.positions[:, 2] + shift) % out.cell[2, 2]
    return out


@pytest.mark.parametrize("shift", [-12.0, -5.0, 0.0, 8.0, 14.0, 20.0, 30.0])
def test_electrodes_follow_the_structure_not_the_cell_midpoint(two_slabs, shift):
    """Any rigid shift along z keeps the two slabs as the two electrodes.

    The cell is 52.55 Å long, the slabs' centres 23.8 Å apart. The shifts put
    both slabs in one half of the cell (8, 14 Å: the midpoint rule gave 0
    counter atoms), a slab across the periodic boundary (−12, 30 Å) or the
    upper slab's centre below the lower one's (20, 30 Å). Each electrode keeps
    its 36 bulk atoms (4 layers × 9); the anode is the slab whose centre,
    wrapped into the cell, is lower.
    """
    atoms, layer = two_slabs
    moved = _shifted(atoms, shift)
    labels = metallic_li(moved)
    lower, upper = _bulk_layers(layer)
    length = atoms.cell[2, 2]
    centre = {
        k: (atoms.positions[mask, 2].mean() + shift) % length
        for k, mask in (("lower", lower), ("upper", upper))
    }
    anode, counter = (
        (lower, upper) if centre["lower"] < centre["upper"] else (upper, lower)
    )
    assert np.all(labels[anode] == ANODE)
    assert np.all(labels[counter] == COUNTER)
    assert np.all(labels[~(lower | upper)] == NOT_ELECTRODE)
    assert np.count_nonzero(labels == ANODE) == 36
    assert np.count_nonzero(labels == COUNTER) == 36


def test_stack_off_centre_in_a_long_cell(two_slabs):
    """The issue's case: the stack in the lower half of a doubled cell.

    The midpoint rule labelled both slabs anode; by structure the lower slab
    is the anode and the upper the counter electrode, as in the centred cell.
    """
    atoms, _ = two_slabs
    long = atoms.copy()
    long.cell[2, 2] *= 2.0
    assert long.positions[:, 2].max() < 0.5 * long.cell[2, 2]  # the premise
    np.testing.assert_array_equal(metallic_li(long), metallic_li(atoms))


@pytest.mark.parametrize("shift", [0.0, 25.0, 45.0])
def test_single_slab_is_the_anode(two_slabs, shift):
    """One metal slab is one electrode, the anode, wherever it sits.

    The midpoint rule split it, or called it the counter electrode when in the
    upper half (shift 25 Å) — a slab across the boundary (45 Å) is still one.
    """
    atoms, layer = two_slabs
    single = _shifted(atoms[layer < N_LAYERS], shift)
    labels = metallic_li(single, always=layer[layer < N_LAYERS] == 0)
    inner = layer[layer < N_LAYERS]
    assert np.all(labels[(inner >= 0) & (inner <= N_LAYERS - 2)] == ANODE)
    assert np.all(labels[inner == N_LAYERS - 1] == NOT_ELECTRODE)
    assert not np.any(labels == COUNTER)


def test_non_periodic_z_gives_the_same_electrodes(two_slabs):
    """ASE's slab pbc=(True, True, False) keeps x, y periodic for the rule.

    The neighbour list is periodic per axis (the old all-or-nothing choice
    made a (T, T, F) slab non-periodic in x and y: no atom had 8 neighbours).
    With 20 Å of vacuum there is no bond across z, so the labels equal those
    of the fully periodic cell; also with no third cell vector at all.
    """
    atoms, _ = two_slabs
    slab = atoms.copy()
    slab.pbc = (True, True, False)
    np.testing.assert_array_equal(metallic_li(slab), metallic_li(atoms))
    slab.cell[2] = 0.0
    np.testing.assert_array_equal(metallic_li(slab), metallic_li(atoms))


@pytest.mark.parametrize("nearer", ["lower", "upper"])
def test_detached_metal_joins_the_nearer_electrode(two_slabs, nearer):
    """A metallic layer between the electrodes joins the nearer one.

    A 3-layer bcc(100) film (its middle 9 atoms have 8 neighbours) 5 Å from
    one slab's inner surface and 7.25 Å from the other's: it is neither of the
    two largest layers (36 members each), so it joins the nearer electrode.
    """
    atoms, layer = two_slabs
    film = bcc100("Li", size=(N_LATERAL, N_LATERAL, 3), a=LI_BCC_A, orthogonal=True)
    top_of_lower = atoms.positions[layer == N_LAYERS - 1, 2].max()
    bottom_of_upper = atoms.positions[layer == N_LAYERS, 2].min()
    z = film.positions[:, 2] - film.positions[:, 2].min()
    if nearer == "lower":
        film.positions[:, 2] = top_of_lower + 5.0 + z
    else:
        film.positions[:, 2] = bottom_of_upper - 5.0 - z.max() + z
    system = atoms[layer >= 0] + film
    labels = metallic_li(system)
    n = len(atoms) - 1
    middle = n + np.flatnonzero(np.isclose(z, z.max() / 2))
    expected = ANODE if nearer == "lower" else COUNTER
    assert middle.size == 9
    assert np.all(labels[middle] == expected)
    lower, upper = _bulk_layers(layer[layer >= 0])
    assert np.all(labels[:n][lower] == ANODE)
    assert np.all(labels[:n][upper] == COUNTER)
    assert np.count_nonzero(labels == expected) == 36 + 9


@pytest.mark.parametrize("form", ["indices", "mask"])
def test_frozen_non_metal_atoms_are_never_members(two_slabs, form):
    """Frozen C, H, O, P, F in ``always`` stay out of the electrodes.

    The outer layers are frozen; five of layer 0's Li become C, H, O, P, F
    and the gap atom becomes O, all frozen. Only the frozen Li are members.
    """
    atoms, layer = two_slabs
    atoms = atoms.copy()
    outer0 = np.flatnonzero(layer == 0)
    for i, symbol in zip(outer0[:5], "CHOPF", strict=True):
        atoms.symbols[i] = symbol
    gap = int(np.flatnonzero(layer == -1)[0])
    atoms.symbols[gap] = "O"
    frozen = np.isin(layer, [-1, 0, 2 * N_LAYERS - 1])
    always = np.flatnonzero(frozen) if form == "indices" else frozen
    labels = metallic_li(atoms, always=always)
    non_metal = ~(atoms.symbols == "Li")
    assert non_metal.sum() == 6
    assert np.all(labels[non_metal] == NOT_ELECTRODE)
    assert np.all(labels[frozen & ~non_metal & (layer == 0)] == ANODE)
    assert np.all(labels[layer == 2 * N_LAYERS - 1] == COUNTER)


# -------------------------------------------- constant potential needs atoms
def test_constant_potential_refuses_empty_electrodes(two_slabs):
    """No member at all, or an empty electrode at ψ ≠ 0, is a setup error.

    The issue's case: a single Li slab at the paper's −6/+2 V held half the
    slab 8 V from the other half; now it is the anode and the counter
    potential is refused, naming the counter electrode. An empty electrode
    at 0 V is allowed (one electrode held at ψ against the electrolyte).
    """
    atoms, layer = two_slabs
    single = atoms[layer < N_LAYERS]
    labels = metallic_li(single)
    with pytest.raises(
        QEqSetupError, match=r"counter_potential_V = 2 V, but the counter electrode"
    ):
        electrode_potentials(labels, -6.0, 2.0)
    psi = electrode_potentials(labels, -6.0, 0.0)
    np.testing.assert_array_equal(psi, np.where(labels == ANODE, -6.0, 0.0))
    only_counter = np.where(labels == ANODE, COUNTER, NOT_ELECTRODE)
    with pytest.raises(QEqSetupError, match=r"anode_potential_V = -6 V.*anode"):
        electrode_potentials(only_counter, -6.0, 2.0)
    with pytest.raises(QEqSetupError, match="no atom is labelled anode or counter"):
        electrode_potentials(np.zeros(len(single), int), -6.0, 2.0)
    with pytest.raises(QEqSetupError, match="no atom is labelled anode or counter"):
        electrode_potentials(np.zeros(len(single), int))


@pytest.mark.parametrize("name", ["anode_potential_V", "counter_potential_V"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_electrode_potentials_must_be_finite(name, value):
    labels = np.array([ANODE, COUNTER, NOT_ELECTRODE])
    with pytest.raises(QEqSetupError, match=rf"{name} must be a finite number"):
        electrode_potentials(labels, **{name: value})
