"""Tests of constpot.label.kpoints: the per-frame k-point density rule."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.calculator import kptdensity2monkhorstpack

from constpot.build.lithium import li_slab
from constpot.keys import ANODE_REGION, MOL_ID, REGION, SEI_REGION
from constpot.label.kpoints import KPointRule, vacuum_axes

#: bcc Li lattice constant (Å) of the module docstring's worked numbers.
A_LI = 3.51


def _li(reps=(1, 1, 1)):
    return bulk("Li", "bcc", a=A_LI, cubic=True).repeat(reps)


def test_worked_numbers_of_the_docstring():
    rule = KPointRule(spacing_inv_A=0.2)
    assert rule.grid(_li()) == (9, 9, 9)
    assert rule.grid(_li((2, 2, 2))) == (5, 5, 5)
    slab = li_slab((4, 4), 6, "100", A_LI, frozen_layers=0)
    slab.center(vacuum=5.0, axis=2)  # 10 Å of vacuum along z
    assert rule.grid(slab) == (3, 3, 1)
    assert rule.grid(bulk("LiF", "rocksalt", a=4.03, cubic=True)) == (8, 8, 8)


@pytest.mark.parametrize("spacing", [0.1, 0.15, 0.2, 0.3, 0.5])
@pytest.mark.parametrize(
    "atoms",
    [
        _li(),
        _li((2, 3, 4)),
        bulk("Li", "bcc", a=3.33),  # primitive, non-orthogonal cell
        bulk("LiF", "rocksalt", a=4.03),
        bulk("Li2O", "fluorite", a=4.62, cubic=True).repeat((1, 2, 1)),
    ],
    ids=["li2", "li48", "li_prim", "lif_prim", "li2o24"],
)
def test_rule_is_the_smallest_grid_at_the_spacing(atoms, spacing):
    """n_i is the smallest integer with |b_i|/n_i ≤ Δk (2π included), the
    same grid as ASE's kptdensity2monkhorstpack at density 1/Δk."""
    rule = KPointRule(spacing_inv_A=spacing)
    n = np.array(rule.grid(atoms))
    b = 2 * np.pi * np.linalg.norm(atoms.cell.reciprocal(), axis=1)
    # 1e-12: float rounding of the division only.
    assert np.all(b / n <= spacing + 1e-12)
    assert np.all((n == 1) | (b > spacing * (n - 1)))
    # Two implementations of the same rule agree exactly.
    ase_grid = kptdensity2monkhorstpack(atoms, kptdensity=1 / spacing, even=False)
    assert tuple(n) == tuple(int(k) for k in ase_grid)


def test_supercell_grid_scales_down():
    """An n-fold supercell needs about n times fewer k-points per axis:
    N_super · n ≥ N_unit (the supercell is at least as well sampled)."""
    rule = KPointRule(spacing_inv_A=0.15)
    unit = np.array(rule.grid(_li()))
    for reps in [(2, 2, 2), (3, 1, 2), (4, 4, 1)]:
        sup = np.array(rule.grid(_li(reps)))
        assert np.all(sup * np.array(reps) >= unit)
        assert np.all((sup - 1) * np.array(reps) < unit)


def test_vacuum_and_non_periodic_axes_get_one_kpoint():
    rule = KPointRule(spacing_inv_A=0.2, vacuum_A=6.0)
    slab = _li((3, 3, 3))
    slab.center(vacuum=3.5, axis=2)  # a 7 Å gap along z
    described = rule.describe(slab)
    assert described["kpts"][2] == 1 and described["kpts"][0] > 1
    assert described["vacuum_axes"] == [2]
    # A 5 Å gap is below vacuum_A = 6: z stays k-sampled.
    thin = _li((3, 3, 3))
    thin.center(vacuum=2.5, axis=2)
    assert vacuum_axes(thin, 6.0) == [False, False, False]
    # pbc False counts as vacuum whatever the gap.
    open_z = _li((3, 3, 3))
    open_z.pbc = [True, True, False]
    assert rule.grid(open_z)[2] == 1
    # The gap may straddle the cell boundary (atoms wrapped to both sides).
    wrapped = slab.copy()
    wrapped.positions[:, 2] += 0.5 * wrapped.cell[2, 2]
    wrapped.wrap()
    assert rule.grid(wrapped) == described["kpts"]


def test_cluster_in_a_box_is_gamma():
    water = molecule("H2O")
    water.center(vacuum=5.0)
    water.pbc = True
    assert KPointRule().grid(water) == (1, 1, 1)


def test_molecular_frames_at_gamma_unless_asked():
    """A periodic liquid (every atom in a molecule, no vacuum) is at Γ with
    molecular_gamma, else follows the rule; one atom of an extended phase
    (mol_id −1) makes the frame non-molecular."""
    rng = np.random.default_rng(0)
    box = Atoms("H" * 64, positions=rng.random((64, 3)) * 8.0, cell=[8, 8, 8])
    box.pbc = True
    box.set_array(MOL_ID, np.repeat(np.arange(32), 2))
    assert KPointRule(0.2).describe(box) == {
        "kpts": (1, 1, 1),
        "vacuum_axes": [],
        "molecular": True,
        "metallic": True,  # no region array: counted as metallic
        "spacing_inv_A": 0.2,
    }
    assert KPointRule(0.2, molecular_gamma=False).grid(box) == (4, 4, 4)
    box.arrays[MOL_ID][0] = -1
    assert KPointRule(0.2).grid(box) == (4, 4, 4)


def test_bad_rule_parameters_are_named():
    with pytest.raises(ValueError, match="spacing_inv_A"):
        KPointRule(spacing_inv_A=0.0)
    with pytest.raises(ValueError, match="vacuum_A"):
        KPointRule(vacuum_A=-1.0)
    with pytest.raises(ValueError, match="spacing_inv_A"):
        KPointRule(spacing_inv_A=float("nan"))
    with pytest.raises(TypeError, match="molecular_gamma"):
        KPointRule(molecular_gamma="yes")
    with pytest.raises(ValueError, match="insulator_spacing_inv_A"):
        KPointRule(insulator_spacing_inv_A=-0.5)
    assert KPointRule(0.25).todict() == {
        "spacing_inv_A": 0.25,
        "vacuum_A": 6.0,
        "molecular_gamma": True,
        "insulator_spacing_inv_A": None,
    }


def test_frames_without_metal_take_the_insulator_spacing():
    """LiF tagged SEI gets the coarse grid (8 atoms, a = 4.03 Å: 4 × 4 × 4 at
    0.5 Å⁻¹ instead of 8 × 8 × 8); one Li in the anode region, or no region
    array at all, keeps the metal's spacing; without the option every frame
    has the metal's."""
    lif = bulk("LiF", "rocksalt", a=4.03, cubic=True)
    lif.set_array(REGION, np.array([SEI_REGION] * len(lif), dtype="<U11"))
    rule = KPointRule(0.2, insulator_spacing_inv_A=0.5)
    got = rule.describe(lif)
    assert got["kpts"] == (4, 4, 4) and got["metallic"] is False
    assert got["spacing_inv_A"] == 0.5
    assert KPointRule(0.2).grid(lif) == (8, 8, 8)
    lif.arrays[REGION][0] = ANODE_REGION
    assert rule.describe(lif)["kpts"] == (8, 8, 8)
    del lif.arrays[REGION]
    assert rule.describe(lif)["metallic"] is True
