"""The miniature cell: one Li⁺ above a hollow of a bcc(100) Li anode (issue 14).

Facts checked: formal charges sum to zero (Li⁺ +1, PF₆⁻ −1, metal 0); the
ion sits ``height_A`` above the top layer's plane at a fourfold hollow
(equidistant, a/√2 laterally, from four surface atoms, straight above an
atom of the layer below); under the paper's rule (8 Li within 3.5 Å) every
slab Li is an anode member at the preset's lattice constant and the ion is
not (its Li count is 0 at the default 3 Å, 4 at 2.5 Å); the lowest layers
are frozen and nothing else is; the cell is padded along z as the stacker
pads it. Geometry is exact up to float rounding: atol 1e-9 Å.
"""

import math

import numpy as np
import pytest
from ase.io import read, write

from constpot.build import PRESETS, li_ion_at_anode
from constpot.build.miniature import HEIGHT_INFO, ION_INFO
from constpot.keys import (
    ANODE,
    ANODE_REGION,
    COUNTER,
    COUNTER_REGION,
    ELECTROLYTE_REGION,
    FROZEN,
    MOL_ID,
    MOLECULE,
    NOT_ELECTRODE,
    REGION,
)
from constpot.qeq import MetallicRule

ATOL_A = 1e-9  # positions are sums of a few exact products


def _li_neighbours(atoms, index, cutoff=3.5):
    """Li atoms closer than ``cutoff`` to atom ``index`` (minimum image)."""
    li = np.flatnonzero(atoms.symbols == "Li")
    li = li[li != index]
    d = atoms.get_distances(index, li, mic=True)
    return int(np.count_nonzero(d < cutoff))


@pytest.fixture(scope="module")
def mini():
    return li_ion_at_anode()


def test_composition_and_neutral_formal_charges(mini):
    ion = mini.info[ION_INFO]
    assert mini.get_chemical_formula() == "F6Li46P"
    assert 40 <= len(mini) <= 80
    assert mini.symbols[ion] == "Li"
    assert math.isclose(mini.get_initial_charges().sum(), 0.0, abs_tol=1e-12)
    assert mini.get_initial_charges()[ion] == 1.0
    assert mini.arrays[REGION][ion] == ELECTROLYTE_REGION
    assert mini.arrays[MOLECULE][ion] == "Li"
    pf6 = mini.arrays[MOLECULE] == "PF6"
    assert pf6.sum() == 7 and mini.get_initial_charges()[pf6].sum() == -1.0
    assert set(mini.arrays[MOL_ID][pf6]) == {1} and mini.arrays[MOL_ID][ion] == 0
    slab = mini.arrays[REGION] == ANODE_REGION
    assert slab.sum() == 45 and np.all(mini.arrays[MOL_ID][slab] == -1)
    assert set(mini.symbols[slab]) == {"Li"}


def test_lattice_constant_is_the_demo_presets(mini):
    assert mini.info["a_A"] == PRESETS["demo"]["li"]["a_A"]
    assert li_ion_at_anode(a_A=3.51).info["a_A"] == 3.51


@pytest.mark.parametrize("height", [2.5, 3.0])
def test_ion_height_and_hollow_site(height):
    atoms = li_ion_at_anode(height_A=height)
    a = atoms.info["a_A"]
    ion = atoms.info[ION_INFO]
    slab = np.flatnonzero(atoms.arrays[REGION] == ANODE_REGION)
    z = atoms.positions[slab, 2]
    top = slab[np.isclose(z, z.max(), atol=1e-6)]
    below = slab[np.isclose(z, z.max() - a / 2, atol=1e-6)]
    assert atoms.info[HEIGHT_INFO] == height
    assert math.isclose(
        atoms.positions[ion, 2] - z.max(), height, rel_tol=0, abs_tol=ATOL_A
    )
    # Four surface atoms at a/√2 laterally (fourfold hollow), none closer.
    vec = atoms.get_distances(ion, top, mic=True, vector=True)
    lateral = np.sort(np.hypot(vec[:, 0], vec[:, 1]))
    assert np.allclose(lateral[:4], a / math.sqrt(2), rtol=0, atol=ATOL_A)
    assert lateral[4] > a / math.sqrt(2) + 1.0
    # Straight above an atom of the layer below the top one.
    vec = atoms.get_distances(ion, below, mic=True, vector=True)
    assert np.min(np.hypot(vec[:, 0], vec[:, 1])) < ATOL_A
    assert np.allclose(atoms.info["hollow_xy_A"], atoms.positions[ion, :2])


def test_slab_metallic_ion_not():
    """The paper's rule: all slab Li are anode members, the ion is not."""
    rule = MetallicRule()
    for height, expected in ((3.0, 0), (2.5, 4)):
        atoms = li_ion_at_anode(height_A=height)
        ion = atoms.info[ION_INFO]
        labels = rule.labels(atoms, frozen=atoms.arrays[FROZEN])
        slab = atoms.arrays[REGION] == ANODE_REGION
        assert np.all(labels[slab] == ANODE)
        assert np.all(labels[~slab] == NOT_ELECTRODE)
        # Four surface atoms at √(a²/2 + h²): 3.81 Å at 3 Å, 3.43 Å at 2.5 Å.
        assert _li_neighbours(atoms, ion) == expected < rule.min_neighbors
    # Without the frozen layers as always-members the rule alone still
    # takes every slab Li (a = 3.33 Å: 9 or more neighbours each).
    atoms = li_ion_at_anode()
    slab = atoms.arrays[REGION] == ANODE_REGION
    assert np.all(rule.labels(atoms)[slab] == ANODE)


def test_frozen_layers():
    atoms = li_ion_at_anode(layers=5, frozen_layers=2)
    frozen = atoms.arrays[FROZEN]
    z = atoms.positions[:, 2]
    slab_z = z[atoms.arrays[REGION] == ANODE_REGION]
    d = atoms.info["layer_spacing_A"]
    assert frozen.sum() == 18  # 2 layers × 3 × 3
    assert np.all(z[frozen] < slab_z.min() + 1.5 * d)
    assert not frozen[atoms.arrays[REGION] == ELECTROLYTE_REGION].any()
    (constraint,) = atoms.constraints
    assert np.array_equal(np.sort(constraint.index), np.flatnonzero(frozen))


def test_vacuum_like_the_stacker(mini):
    z = mini.positions[:, 2]
    extent = z.max() - z.min()
    assert math.isclose(mini.cell[2, 2], 3.0 * extent, rel_tol=1e-12)
    assert math.isclose(z.min() + z.max(), mini.cell[2, 2], rel_tol=1e-12)
    assert np.allclose(mini.cell[:2, :2], np.diag([3, 3]) * mini.info["a_A"])


def test_extxyz_round_trip(mini, tmp_path):
    path = tmp_path / "mini.extxyz"
    write(path, mini, format="extxyz")
    back = read(path)
    assert back.info[ION_INFO] == mini.info[ION_INFO]
    assert np.array_equal(back.arrays[REGION], mini.arrays[REGION])
    assert np.array_equal(back.arrays[FROZEN], mini.arrays[FROZEN])
    assert np.allclose(back.get_initial_charges(), mini.get_initial_charges())


def test_optional_counter_electrode():
    """counter_layers=3: a mirrored slab above the anion, its own electrode."""
    atoms = li_ion_at_anode(counter_layers=3)
    counter = atoms.arrays[REGION] == COUNTER_REGION
    assert len(atoms) == 80 and counter.sum() == 27
    assert math.isclose(atoms.get_initial_charges().sum(), 0.0, abs_tol=1e-12)
    z = atoms.positions[:, 2]
    anion = atoms.arrays[MOLECULE] == "PF6"
    assert math.isclose(z[counter].min() - z[anion].max(), 3.0, abs_tol=ATOL_A)
    # frozen layers outermost: the top two of the counter electrode
    frozen = atoms.arrays[FROZEN]
    assert frozen[counter].sum() == 18
    assert z[counter & frozen].min() > z[counter & ~frozen].max()
    labels = MetallicRule().labels(atoms, frozen=frozen)
    assert np.all(labels[counter] == COUNTER)
    assert np.all(labels[atoms.arrays[REGION] == ANODE_REGION] == ANODE)
    assert labels[atoms.info[ION_INFO]] == NOT_ELECTRODE
    assert math.isclose(atoms.cell[2, 2], 3.0 * (z.max() - z.min()), rel_tol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"height_A": 0.0}, "height_A"),
        ({"height_A": float("nan")}, "height_A"),
        ({"anion_gap_A": -1.0}, "anion_gap_A"),
        ({"anion_gap_A": 3.0}, "anion_gap_A"),
        ({"a_A": 0}, "a_A"),
        ({"layers": 3, "frozen_layers": 2}, "layers"),
        ({"frozen_layers": -1}, "frozen_layers"),
        ({"vacuum_factor": 1.5}, "vacuum_factor"),
        ({"lateral_reps": (0, 3)}, "lateral_reps"),
        ({"counter_layers": 2}, "counter_layers"),
        ({"counter_layers": 3, "counter_gap_A": 0.0}, "counter_gap_A"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        li_ion_at_anode(**kwargs)


def test_cli_writes_the_miniature(tmp_path, capsys):
    from constpot.cli import main

    out = tmp_path / "mini.extxyz"
    assert main(["miniature-build", "--out", str(out), "--height-A", "2.5"]) == 0
    atoms = read(out)
    assert atoms.info[HEIGHT_INFO] == 2.5 and len(atoms) == 53
    assert "53 atoms" in capsys.readouterr().out
    bad = tmp_path / "bad.extxyz"
    assert main(["miniature-build", "--out", str(bad), "--height-A", "-1"]) == 2
    assert "height_A" in capsys.readouterr().err
    assert not bad.exists()
