"""The built electrodes under the paper's metallic-Li rule (issue 14).

The rule (:func:`constpot.qeq.metallic_li`): a Li is metallic with ≥ 8 Li
neighbours closer than 3.5 Å. bcc has 8 neighbours at √3a/2 and 6 at a, so
the rule is robust only if a sits clearly inside the cutoff: the builder
uses the lattice constant of the presets' reference methods, PBE+D3(BJ),
3.33 Å (3.3265 Å measured with GPAW and 3.328 Å with SevenNet-0 + D3(BJ),
``benchmarks/labeller_candidates.py``), not the experimental 3.51 Å that put
the second shell on the cutoff (surface layer 4 neighbours, bulk exactly 8)
nor PBE's 3.44 Å that left it 0.06 Å inside.

Facts checked: the presets build at that a, with 0.17 Å between the second
shell and the cutoff and the third shell (√2·a = 4.71 Å) far outside; Li
neighbours per layer of the demo slab, bottom to top, (100) 9, 13, 14, 14,
13, 9 and (110) 10, 14, 14, 14, 14, 10; every non-frozen Li of both built
demo electrodes, surface layers included, is a member; random displacements
of 0.05 Å rms (σ = 0.05/√3 Å per Cartesian component) keep ≥ 95 % members
(mean over 10 seeds; measured 100 %) and displacements of σ = 0.1 Å per
component keep every Li below the surface layer; σ = 0.1 Å per component
keeps ≥ 95 % of all non-frozen electrode Li (measured 97.8 %; the (100)
surface layer, which needs 4 of its 5 second-shell neighbours, 93 %). At
PBE's 3.44 Å that last check failed (80 %, the surface layer 38 %) and was
a strict xfail. A (110) surface, needing 2 of 4, keeps ≥ 95 % at both
(measured 100 % and 99.9 %).
"""

import math

import numpy as np
import pytest

from constpot.build import PRESETS, build_interface
from constpot.build.lithium import LI_BCC_A_A, li_slab
from constpot.keys import ANODE, COUNTER, FROZEN, NOT_ELECTRODE, REGION
from constpot.qeq import metallic_li

#: The paper's rule.
CUTOFF_A = 3.5
MIN_NEIGHBOURS = 8
#: The margin issue 14 asks for between bcc's second shell (at a) and the
#: cutoff, Å: thermal motion of that size must not cross it.
MARGIN_A = 0.05
#: Fraction of non-frozen electrode Li that must be members.
MEMBERS = 0.95
SEEDS = range(10)


def _neighbour_counts(atoms):
    """Li neighbours closer than the cutoff, per atom (all atoms are Li)."""
    from vesin import NeighborList

    nl = NeighborList(cutoff=CUTOFF_A, full_list=True)
    i, d = nl.compute(
        points=atoms.positions, box=atoms.cell.array, periodic=atoms.pbc,
        quantities="id",
    )  # fmt: skip
    return np.bincount(i[d < CUTOFF_A], minlength=len(atoms))


@pytest.fixture(scope="module")
def demo(demo_interface):
    """The demo preset without SEI (the electrodes are the same with one)."""
    return demo_interface("no_sei")


def _electrode(atoms):
    regions = atoms.arrays[REGION]
    return np.isin(regions, ["anode", "counter"]) & ~atoms.arrays[FROZEN]


def _member_fraction(atoms, sigma_A, seed):
    """Members among the non-frozen electrode Li after a Gaussian rattle of
    the electrode Li, ``sigma_A`` per Cartesian component."""
    moved = atoms.copy()
    moved.set_constraint()
    electrode = np.isin(moved.arrays[REGION], ["anode", "counter"])
    rng = np.random.default_rng(seed)
    moved.positions[electrode] += rng.normal(size=(electrode.sum(), 3)) * sigma_A
    labels = metallic_li(moved, always=moved.arrays[FROZEN])
    sel = _electrode(moved)
    return float(np.mean(labels[sel] != NOT_ELECTRODE))


def test_presets_build_the_metal_at_the_reference_lattice_constant():
    for preset in ("demo", "paper"):
        assert PRESETS[preset]["li"]["a_A"] == LI_BCC_A_A
    a = LI_BCC_A_A
    assert a == pytest.approx(3.3265, abs=0.005)  # PBE+D3(BJ), GPAW (docstring)
    # Second shell inside the cutoff by the margin, first and third far away.
    assert a <= CUTOFF_A - MARGIN_A
    assert math.sqrt(3.0) / 2.0 * a < CUTOFF_A - 0.5
    assert math.sqrt(2.0) * a > CUTOFF_A + 1.0


@pytest.mark.parametrize(
    ("surface", "expected"),
    [("100", [9, 13, 14, 14, 13, 9]), ("110", [10, 14, 14, 14, 14, 10])],
)
def test_neighbours_per_layer(surface, expected):
    slab = li_slab((4, 4), layers=6, surface=surface)
    slab.pbc = (True, True, False)
    counts = _neighbour_counts(slab)
    z = np.round(slab.positions[:, 2], 6)
    layers = np.unique(z)
    per_layer = [sorted(set(counts[z == h].tolist())) for h in layers]
    assert per_layer == [[n] for n in expected]
    # The experimental a would put the second shell outside: 4/6 and 8.
    old = li_slab((4, 4), layers=6, surface=surface, a_A=3.51)
    old.pbc = (True, True, False)
    assert _neighbour_counts(old).max() == 8


def test_every_non_frozen_electrode_li_is_a_member(demo):
    labels = metallic_li(demo, always=demo.arrays[FROZEN])
    regions = demo.arrays[REGION]
    sel = _electrode(demo)
    assert sel.sum() == 16 * (4 + 2)  # 4 + 2 non-frozen layers of 16
    assert np.all(labels[sel] != NOT_ELECTRODE)
    assert np.all(labels[regions == "anode"] == ANODE)
    assert np.all(labels[regions == "counter"] == COUNTER)
    # The SEI-free electrolyte holds no metallic Li.
    assert np.all(labels[regions == "electrolyte"] == NOT_ELECTRODE)


def test_membership_survives_small_displacements(demo):
    # 0.05 Å rms displacement: σ = 0.05/√3 per component.
    fractions = [_member_fraction(demo, MARGIN_A / math.sqrt(3.0), s) for s in SEEDS]
    assert np.mean(fractions) >= MEMBERS, fractions
    # Below the surface layer nothing is lost even at σ = 0.1 Å per component:
    # those Li have 13-14 neighbours, 5-6 more than the rule needs.
    sub = demo.copy()
    z = sub.positions[:, 2]
    regions = sub.arrays[REGION]
    top = z[regions == "anode"].max()
    bottom = z[regions == "counter"].min()
    surface = ((regions == "anode") & (z > top - 0.1)) | (
        (regions == "counter") & (z < bottom + 0.1)
    )
    sub.arrays[FROZEN] = sub.arrays[FROZEN] | surface  # count only the rest
    for seed in SEEDS:
        assert _member_fraction(sub, 0.1, seed) == 1.0, seed


def test_membership_survives_a_0p1_angstrom_rattle(demo):
    fractions = [_member_fraction(demo, 0.1, s) for s in SEEDS]
    assert np.mean(fractions) >= MEMBERS, fractions


@pytest.mark.parametrize("sigma_A", [0.05, 0.1])
def test_a_110_surface_survives_rattles(sigma_A):
    demo_110 = build_interface(
        {"li": {"surface": "110", "lateral_reps": [4, 3]}, "sei": {"phase": "none"}},
        "no_sei_110",
    )
    fractions = [_member_fraction(demo_110, sigma_A, s) for s in SEEDS]
    assert np.mean(fractions) >= MEMBERS, fractions


def test_thermal_motion_of_the_reference_method_at_300_K():
    """On the reference method's own MD of a free 4-layer Li(100) slab at
    300 K (data/teacher_li100_slab_300K.extxyz, SevenNet-0 + D3(BJ)): Li
    moves ~0.21 Å per component about its mean (the basis of
    label.metal_rattle_A); the paper's 3.5 Å rule keeps every inner Li a
    member but each surface Li only about half of the time (its second-shell
    neighbours, 3.33 Å at rest, cross 3.5 Å), so no thermal run of a free
    (100) surface can keep ≥ 95 % of it; 4.0 Å, the middle of the gap to the
    third shell (4.71 Å), keeps ≥ 95 % of it (the shell_gap_rule variant)."""
    from pathlib import Path

    from ase.io import read

    from constpot.qeq import MetallicRule

    path = Path(__file__).parents[2] / "data" / "teacher_li100_slab_300K.extxyz"
    frames = read(path, index=":")
    assert len(frames) == 137 and frames[-1].info["time_fs"] == 1360.0
    positions = np.array([f.positions for f in frames])
    positions -= positions.mean(axis=1, keepdims=True)  # the slab's drift
    assert np.std(positions - positions.mean(axis=0)) == pytest.approx(0.21, abs=0.02)
    z0 = frames[0].positions[:, 2]
    layer = np.round((z0 - z0.min()) / (LI_BCC_A_A / 2)).astype(int)
    surface = (layer == 0) | (layer == layer.max())

    def kept(cutoff_A):
        rule = MetallicRule(cutoff_A=cutoff_A)
        return np.array(
            [rule.labels(f, np.zeros(len(f), bool)) != NOT_ELECTRODE for f in frames]
        )

    paper, wide = kept(CUTOFF_A), kept(4.0)
    assert paper[:, ~surface].all() and wide[:, ~surface].all()
    assert 0.3 < paper[:, surface].mean() < 0.7  # measured 0.51
    assert wide[:, surface].mean() >= 0.95  # measured 0.99
