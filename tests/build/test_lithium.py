"""bcc Li slabs: facts of the bcc lattice and the slab conventions.

Facts checked: every atom below the surface has 8 nearest neighbours at
√3a/2 (2.88 Å for a = 3.33 Å), surface atoms 4 on (100) and 6 on (110); the
layers are a/2 (100) or a/√2 (110) apart, lowest at z = 0; the atom count is
layers × atoms per layer × nx × ny; the slab region (lateral cell × layers·d)
holds 2 atoms per a³, the density of bcc Li (0.534 g/cm³, experimental, 20 °C,
at a = 3.51 Å); the same slab, atom for atom, as the hand-written lattice that
ase.build.bcc100/bcc110 replaced (fingerprints taken from the old code), and
as ASE's builder (identical sorted neighbour distances); only the lowest
layers are frozen, and they stay frozen through an extended-XYZ round trip
(FixAtoms / move_mask); bad arguments are refused by name.

Positions are built from exact products of a, so geometric identities hold to
floating-point round-off: those comparisons use atol = 1e-9 Å.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
from ase.build import bcc100, bcc110
from ase.constraints import FixAtoms
from ase.io import read, write
from ase.neighborlist import neighbor_list

from constpot.build.lithium import (
    LI_BCC_A_A,
    atoms_per_layer,
    lateral_cell,
    layer_spacing_A,
    li_slab,
)
from constpot.keys import FROZEN
from constpot.units import mass_density_g_cm3

A = LI_BCC_A_A
NN = math.sqrt(3.0) / 2.0 * A  # first bcc shell
# Between the first shell (√3a/2 = 0.866a) and the second (a).
SHELL_CUT = 0.5 * (NN + A)
ATOL_GEOM = 1e-9  # Å: exact lattice construction, float round-off only

SURFACES = {
    # surface: (layer spacing, atoms per surface cell and layer, surface CN)
    "100": (A / 2.0, 1, 4),
    "110": (A / math.sqrt(2.0), 2, 6),
}


def _layer_index(atoms, d):
    return np.rint(atoms.positions[:, 2] / d).astype(int)


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_layers_count_and_spacing(surface):
    d, per_layer, _ = SURFACES[surface]
    reps, layers = (3, 2), 5
    slab = li_slab(reps, layers=layers, surface=surface)
    assert len(slab) == layers * per_layer * reps[0] * reps[1]
    assert atoms_per_layer(surface) == per_layer
    assert layer_spacing_A(surface, A) == pytest.approx(d, rel=0, abs=ATOL_GEOM)
    # Every atom sits on a plane k·d, k = 0 … layers − 1, lowest at z = 0.
    k = _layer_index(slab, d)
    np.testing.assert_allclose(slab.positions[:, 2], k * d, rtol=0, atol=ATOL_GEOM)
    assert slab.positions[:, 2].min() == 0.0
    counts = np.bincount(k)
    assert len(counts) == layers
    assert np.all(counts == per_layer * reps[0] * reps[1])
    np.testing.assert_allclose(
        slab.cell.array[:2, :2], lateral_cell(reps, surface, A), rtol=0, atol=0
    )
    assert slab.cell[2, 2] == pytest.approx(layers * d, rel=0, abs=ATOL_GEOM)
    assert slab.pbc.all()


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_nearest_neighbours_bulk_and_surface(surface):
    """8 neighbours at √3a/2 inside, 4 (100) or 6 (110) on the two surfaces."""
    d, _, surface_cn = SURFACES[surface]
    layers = 6
    slab = li_slab((3, 3), layers=layers, surface=surface)
    slab.pbc = (True, True, False)
    i, dist = neighbor_list("id", slab, SHELL_CUT)
    np.testing.assert_allclose(dist, NN, rtol=0, atol=ATOL_GEOM)
    cn = np.bincount(i, minlength=len(slab))
    layer = _layer_index(slab, d)
    interior = (layer > 0) & (layer < layers - 1)
    assert np.all(cn[interior] == 8)
    assert np.all(cn[~interior] == surface_cn)


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_even_layers_fully_periodic_is_bulk_bcc(surface):
    """With an even layer count the periodic cell is bulk bcc: CN 8 (then 6)."""
    slab = li_slab((2, 2), layers=4, surface=surface)
    i, dist = neighbor_list("id", slab, 1.05 * A)
    first = dist < SHELL_CUT
    assert np.all(np.bincount(i[first], minlength=len(slab)) == 8)
    assert np.all(np.bincount(i[~first], minlength=len(slab)) == 6)
    np.testing.assert_allclose(dist[~first], A, rtol=0, atol=ATOL_GEOM)


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_density_is_bcc_li(surface):
    slab = li_slab((3, 2), layers=7, surface=surface)
    rho = mass_density_g_cm3(slab.get_masses().sum(), slab.get_volume())
    # Exactly 2 atoms per a³ (float round-off).
    two_per_cell = mass_density_g_cm3(2 * slab.get_masses()[0], A**3)
    assert rho == pytest.approx(two_per_cell, rel=1e-12)
    assert slab.info["density_g_cm3"] == pytest.approx(rho, rel=1e-12)
    # At the experimental a = 3.51 Å (25 °C) the experimental density of Li at
    # 20 °C, 0.534 g/cm³ (1 %: 0.533 from the lattice).
    room = li_slab((3, 2), layers=7, surface=surface, a_A=3.51)
    assert room.info["density_g_cm3"] == pytest.approx(0.534, rel=0.01)


#: The slabs of the hand-written lattice that ase.build replaced, li_slab((2, 3),
#: layers, frozen_layers=2), by (surface, layers): sha256 (16 hex digits) of the
#: positions as integers in units of (a/2, a/2, a/2) on (100), (a/2, a/√2,
#: a/√2) on (110), atom order included; taken from the old code at a = 3.51
#: and 3.44 Å (same digest; checked here at 3.51 Å and LI_BCC_A_A). Odd and
#: even layer counts: ASE stacks from the top, so the parity decides which
#: lateral registry the lowest layer has.
OLD_SLAB_FINGERPRINTS = {
    ("100", 5): "0276d626115fd62e",
    ("100", 6): "52ea724d2aaa934d",
    ("110", 5): "3012119695252a57",
    ("110", 6): "b92b3f2b3cb8cf3f",
}
#: The first atoms, in those units, for a readable check (every case).
OLD_SLAB_FIRST = {
    "100": [[0, 0, 0], [0, 2, 0], [0, 4, 0], [2, 0, 0]],
    "110": [[0, 0, 0], [1, 1, 0], [0, 2, 0], [1, 3, 0]],
}


@pytest.mark.parametrize(("surface", "layers"), sorted(OLD_SLAB_FINGERPRINTS))
@pytest.mark.parametrize("a", [3.51, A])
def test_same_atoms_in_same_order_as_the_old_builder(surface, layers, a):
    slab = li_slab((2, 3), layers=layers, surface=surface, a_A=a, frozen_layers=2)
    unit = np.array([a / 2, a / 2, a / 2])
    if surface == "110":
        unit[1:] = a / math.sqrt(2.0)
    lattice = slab.positions / unit
    ints = np.rint(lattice).astype("<i8")
    # On the lattice to round-off (1e-9 of a unit).
    np.testing.assert_allclose(lattice, ints, rtol=0, atol=1e-9)
    assert ints[:4].tolist() == OLD_SLAB_FIRST[surface]
    digest = hashlib.sha256(ints.tobytes()).hexdigest()[:16]
    assert digest == OLD_SLAB_FINGERPRINTS[surface, layers]
    layer = _layer_index(slab, layer_spacing_A(surface, a))
    np.testing.assert_array_equal(slab.arrays[FROZEN], layer < 2)
    assert "tags" not in slab.arrays and "adsorbate_info" not in slab.info


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_frozen_layers_survive_an_extxyz_round_trip(surface, tmp_path):
    """FixAtoms on the frozen atoms: extxyz writes move_mask, ASE reads it back."""
    slab = li_slab((2, 2), layers=4, surface=surface, frozen_layers=2)
    (constraint,) = slab.constraints
    assert isinstance(constraint, FixAtoms)
    np.testing.assert_array_equal(
        np.sort(constraint.get_indices()), np.flatnonzero(slab.arrays[FROZEN])
    )
    write(tmp_path / "slab.extxyz", slab)
    assert "move_mask" in (tmp_path / "slab.extxyz").read_text().splitlines()[1]
    back = read(tmp_path / "slab.extxyz")
    (constraint,) = back.constraints
    np.testing.assert_array_equal(
        np.sort(constraint.get_indices()), np.flatnonzero(slab.arrays[FROZEN])
    )
    np.testing.assert_array_equal(back.arrays[FROZEN], slab.arrays[FROZEN])
    # Nothing frozen, no constraint.
    assert li_slab((2, 2), layers=4, surface=surface, frozen_layers=0).constraints == []


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_same_slab_as_ase_builder(surface):
    """Independent reference: ase.build.bcc100/bcc110 (orthogonal cells)."""
    layers = 4
    ours = li_slab((2, 2), layers=layers, surface=surface)
    if surface == "100":
        ref = bcc100("Li", size=(2, 2, layers), a=A, orthogonal=True)
    else:  # ASE's (110) cell is a × a/√2 with one atom per layer
        ref = bcc110("Li", size=(2, 4, layers), a=A, orthogonal=True)
    np.testing.assert_allclose(
        ours.cell.lengths()[:2], ref.cell.lengths()[:2], rtol=0, atol=ATOL_GEOM
    )
    assert len(ours) == len(ref)
    dists = []
    for atoms in (ours, ref):
        atoms = atoms.copy()
        atoms.pbc = (True, True, False)
        dists.append(np.sort(neighbor_list("d", atoms, 6.0)))
    np.testing.assert_allclose(dists[0], dists[1], rtol=0, atol=1e-6)


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("frozen_layers", [0, 2, 3])
def test_frozen_marks_lowest_layers_only(surface, frozen_layers):
    d, per_layer, _ = SURFACES[surface]
    reps = (2, 3)
    slab = li_slab(reps, layers=5, surface=surface, frozen_layers=frozen_layers)
    frozen = slab.arrays[FROZEN]
    assert frozen.dtype == bool
    np.testing.assert_array_equal(frozen, _layer_index(slab, d) < frozen_layers)
    assert frozen.sum() == frozen_layers * per_layer * reps[0] * reps[1]


def test_lateral_cell_values():
    np.testing.assert_allclose(
        lateral_cell((4, 3), "100", A), [[4 * A, 0], [0, 3 * A]], rtol=0, atol=0
    )
    np.testing.assert_allclose(
        lateral_cell((4, 3), "110", A),
        [[4 * A, 0], [0, 3 * A * math.sqrt(2.0)]],
        rtol=1e-15,
        atol=0,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lateral_reps": (0, 2)}, "lateral_reps"),
        ({"lateral_reps": (2,)}, "lateral_reps"),
        ({"lateral_reps": (1.5, 2)}, "lateral_reps"),
        ({"layers": 2, "frozen_layers": 2}, r"layers must be .*>= frozen_layers \+ 1"),
        ({"frozen_layers": -1}, "frozen_layers"),
        ({"surface": "111"}, "surface.*'111'"),
        ({"a_A": 0.0}, "a_A.*0.0"),
        ({"a_A": -3.5}, "a_A.*-3.5"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        li_slab(**kwargs)


def test_helpers_validate():
    with pytest.raises(ValueError, match="surface"):
        layer_spacing_A("111", A)
    with pytest.raises(ValueError, match="a_A"):
        layer_spacing_A("100", float("nan"))
    with pytest.raises(ValueError, match="lateral_reps"):
        lateral_cell((1, 0), "100", A)
