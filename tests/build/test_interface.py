"""Whole interfaces from recipes: the acceptance facts of the builder.

Built once per module from the demo preset (crystalline and bare systems are
fast; the amorphous mosaic reads its SEI blocks from a copy of the committed
store, data/amorphous, as the demo config does: its melt-quench takes ~100 s
of one core and has its own tests in test_amorphous.py).
"""

import inspect
import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
from ase.io import read, write
from vesin import NeighborList

from constpot.build import build_interface, resolve_recipe
from constpot.build.crystal import crystalline_block
from constpot.build.lithium import LI_BCC_A_A
from constpot.build.molecules import load_molecule
from constpot.build.recipe import PRESETS
from constpot.keys import FROZEN, MOL_ID, MOLECULE, REGION
from constpot.units import AVOGADRO_PER_MOL, LITRE_IN_A3, mass_density_g_cm3

RECIPES = {
    "no_sei": {"seed": 1, "sei": {"phase": "none"}},
    "crystalline": {
        "seed": 1,
        "li": {"lateral_reps": [5, 5]},
        "sei": {"phase": "crystalline", "layout": "mosaic"},
    },
    "layered_crystalline": {
        "seed": 2,
        "li": {"lateral_reps": [5, 5]},
        "sei": {"phase": "crystalline", "layout": "layered", "thickness_A": 8.0},
    },
    "mosaic_amorphous": {"seed": 1},
}
FAST = ["no_sei", "crystalline", "layered_crystalline"]
#: The demo preset's SEI thickness (constpot.build.recipe.PRESETS).
RECIPES_SEI_THICKNESS_A = 6.0
ALL = [*FAST, "mosaic_amorphous"]


#: The committed amorphous SEI blocks (config/config.yaml amorphous_store).
COMMITTED_STORE = Path(__file__).resolve().parents[2] / "data" / "amorphous"


@pytest.fixture(scope="module")
def built(demo_interface, tmp_path_factory):
    cache = {}
    store = tmp_path_factory.mktemp("store") / "amorphous"
    shutil.copytree(COMMITTED_STORE, store)  # a new block lands in the copy

    def get(name):
        if name in demo_interface.recipes:
            assert RECIPES[name] == demo_interface.recipes[name]
            return demo_interface(name)
        if name not in cache:
            cache[name] = build_interface(RECIPES[name], name, amorphous_store=store)
        return cache[name]

    return get


def _electrolyte_volume_A3(atoms):
    area = abs(np.linalg.det(atoms.cell.array[:2, :2]))
    return area * (atoms.info["wall_upper_A"] - atoms.info["wall_lower_A"])


@pytest.mark.parametrize("name", ALL)
def test_neutral_and_electrolyte_composition(built, name):
    """Σ formal charges = 0 exactly; molarity and density between the walls
    within 5% of the request (the walls bound the volume the salt sees)."""
    atoms = built(name)
    assert atoms.get_initial_charges().sum() == pytest.approx(0.0, abs=1e-12)
    ely = atoms.arrays[REGION] == "electrolyte"
    volume = _electrolyte_volume_A3(atoms)
    n_salt = int(np.sum(atoms.arrays[MOLECULE][ely] == "PF6") / 7)
    molarity = n_salt / (AVOGADRO_PER_MOL * volume / LITRE_IN_A3)
    requested = PRESETS["demo"]["electrolyte"]["salt_molarity"]
    assert molarity == pytest.approx(requested, rel=0.05)
    assert n_salt >= 4  # enough ions that one atom does not decide a claim
    density = mass_density_g_cm3(atoms[ely].get_masses().sum(), volume)
    assert density == pytest.approx(1.3, rel=0.05)


@pytest.mark.parametrize("name", ALL)
def test_regions_ordered_and_frozen_outermost(built, name):
    atoms = built(name)
    z = atoms.positions[:, 2]
    regions = atoms.arrays[REGION]
    order = [r for r in ("anode", "sei", "electrolyte", "counter") if r in regions]
    for lower, upper in itertools.pairwise(order):
        assert z[regions == lower].max() < z[regions == upper].min()
    frozen = atoms.arrays[FROZEN]
    assert set(regions[frozen]) == {"anode", "counter"}
    # Frozen: the two lowest anode layers and the two highest counter layers.
    za, zc = z[regions == "anode"], z[regions == "counter"]
    assert z[frozen & (regions == "anode")].max() < np.unique(np.round(za, 3))[2]
    assert z[frozen & (regions == "counter")].min() > np.unique(np.round(zc, 3))[-3]
    # The paper's electrode rule splits the cell at L_z/2: anode below it.
    assert za.max() < 0.5 * atoms.cell[2, 2] < zc.min()


@pytest.mark.parametrize("name", ALL)
def test_no_close_contacts_and_molecules_intact(built, name):
    """No pair of atoms outside one molecule closer than 1.6 Å (periodic
    images included); each molecule's bonds equal the template's (1e-6 Å)."""
    atoms = built(name)
    nl = NeighborList(cutoff=1.6, full_list=False)
    i, j, d = nl.compute(
        points=atoms.positions,
        box=atoms.cell.array,
        periodic=True,
        quantities="ijd",
    )
    mol = atoms.arrays[MOL_ID]
    intra = (mol[i] == mol[j]) & (mol[i] >= 0)
    assert not np.any(~intra), (
        f"close pairs {list(zip(i[~intra], j[~intra], d[~intra], strict=True))[:5]}"
    )
    names = atoms.arrays[MOLECULE]
    for m in np.unique(mol[mol >= 0]):
        sel = mol == m
        template = load_molecule(str(names[sel][0]))
        got = np.sort(atoms[sel].get_all_distances().ravel())
        ref = np.sort(template.get_all_distances().ravel())
        np.testing.assert_allclose(got, ref, atol=1e-6)


def test_frozen_layers_survive_an_extxyz_round_trip(built, tmp_path):
    """The frozen atoms carry FixAtoms: extxyz writes ``move_mask``, and a
    read-back holds the same atoms fixed (constpot.io.frozen_mask agrees)."""
    from ase.constraints import FixAtoms

    from constpot.io import frozen_mask

    atoms = built("crystalline")
    frozen = np.flatnonzero(atoms.arrays[FROZEN])
    (constraint,) = atoms.constraints
    assert isinstance(constraint, FixAtoms)
    np.testing.assert_array_equal(np.sort(constraint.get_indices()), frozen)
    write(tmp_path / "interface.extxyz", atoms)
    back = read(tmp_path / "interface.extxyz")
    (constraint,) = back.constraints
    np.testing.assert_array_equal(np.sort(constraint.get_indices()), frozen)
    del back.arrays[FROZEN]  # frozen_mask falls back to the constraint
    np.testing.assert_array_equal(np.flatnonzero(frozen_mask(back)), frozen)


def test_crystalline_mosaic_needs_the_5x5_anode(built):
    """At a = LI_BCC_A_A = 3.33 Å the demo preset's 4 × 4 anode (13.32 Å) has
    no crystalline LiF/Li₂O mosaic within the builder's max_strain = 6 %, and
    the build is refused naming it; on 5 × 5 (16.65 Å, config/config.yaml)
    every patch takes whole surface cells along x (unstrained, to the 1e-4 Å
    of the stored widths) and at most 6 % along y (LiF −2.5 %, Li₂O +2.0 %),
    and the SEI holds exactly those two patches."""
    max_strain = inspect.signature(crystalline_block).parameters["max_strain"].default
    assert max_strain == 0.06
    assert LI_BCC_A_A == 3.33
    assert PRESETS["demo"]["li"]["lateral_reps"] == [4, 4]
    four = {**RECIPES["crystalline"], "li": {"lateral_reps": [4, 4]}}
    with pytest.raises(ValueError, match=r"LiF.*exceeds max_strain = 0\.06"):
        build_interface(four, "crystalline")

    atoms = built("crystalline")
    assert RECIPES["crystalline"]["li"]["lateral_reps"] == [5, 5]
    np.testing.assert_allclose(
        np.diag(atoms.cell.array)[:2], 5 * LI_BCC_A_A, rtol=0, atol=1e-12
    )
    components = resolve_recipe(RECIPES["crystalline"], "c")["sei"]["components"]
    widths = [float(w) for w in str(atoms.info["sei_patch_widths_A"]).split()]
    depth = atoms.cell[1, 1]
    n_sei = 0
    for comp, width in zip(components, widths, strict=True):
        patch = crystalline_block(
            comp, [[width, 0.0], [0.0, depth]], RECIPES_SEI_THICKNESS_A
        )
        ex, ey = patch.info["lateral_strain"]
        assert abs(ex) < 1e-4, comp  # widths stored to 1e-4 Å of ≥ 3 Å
        assert abs(ey) <= max_strain, comp
        n_sei += len(patch)
    assert int(np.sum(atoms.arrays[REGION] == "sei")) == n_sei


def test_same_seed_same_file_other_seed_differs(tmp_path):
    recipe = RECIPES["crystalline"]
    paths = []
    for k, seed in enumerate((1, 1, 2)):
        atoms = build_interface({**recipe, "seed": seed}, "crystalline")
        paths.append(tmp_path / f"{k}.extxyz")
        write(paths[-1], atoms)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    a, c = read(paths[0]), read(paths[2])
    assert len(a) != len(c) or not np.allclose(a.positions, c.positions)


@pytest.mark.parametrize(
    ("recipe", "match"),
    [
        ({"preset": "huge"}, "unknown preset 'huge'"),
        ({"sei": {"components": {"LiCl": 1.0}}}, "unknown component 'LiCl'"),
        ({"sei": {"components": {"LiF": 0.5, "Li2O": 0.2}}}, "sum to 0.7"),
        ({"electrolyte": {"salinity": 1}}, "electrolyte.salinity"),
        ({"cell_height_A": 30.0}, "more than cell_height_A = 30.0"),
        ({"sei": {"phase": "glassy"}}, "sei.phase"),
    ],
)
def test_bad_recipe_fails_before_building(recipe, match):
    with pytest.raises(ValueError, match=match):
        resolve_recipe(recipe, "bad")


def test_amorphous_mosaic_patches_at_target_density(built):
    """Each amorphous mosaic patch (its atoms' mass over width × depth × SEI
    thickness) is within 5% of its component's density: it takes the formula
    units that fill that box (exact to one formula unit). Crystalline blocks
    carry the crystal's density exactly (tests/build/test_crystal.py)."""
    from constpot.build.crystal import target_density_g_cm3

    atoms = built("mosaic_amorphous")
    widths = [float(w) for w in str(atoms.info["sei_patch_widths_A"]).split()]
    sei = atoms[atoms.arrays[REGION] == "sei"]
    length, depth = atoms.cell[0, 0], atoms.cell[1, 1]
    seam = (length - sum(widths)) / len(widths)
    starts = np.cumsum([0.5 * seam] + [w + seam for w in widths[:-1]])
    centres = starts + 0.5 * np.array(widths)
    x = sei.positions[:, 0] % length
    gap = np.abs(x[:, None] - centres[None, :])
    nearest = np.argmin(np.minimum(gap, length - gap), axis=1)
    thickness = RECIPES_SEI_THICKNESS_A
    for k, comp in enumerate(("Li2O", "LiF")):  # patches in name order
        part = sei[nearest == k]
        volume = widths[k] * depth * thickness
        rho = mass_density_g_cm3(part.get_masses().sum(), volume)
        target = target_density_g_cm3(comp, "amorphous")
        assert rho == pytest.approx(target, rel=0.05), comp


def test_committed_store_serves_the_demo_config(tmp_path, monkeypatch):
    """config/config.yaml's amorphous SEI comes from the committed store
    (data/amorphous): its systems build with the melt-quench switched off,
    the same interface on every CPU, and nothing is added to the store."""
    import constpot.build.amorphous as amorphous
    from constpot.config import load_config

    root = COMMITTED_STORE.parents[1]
    config = load_config(root / "config" / "config.yaml")
    assert root / config["amorphous_store"] == COMMITTED_STORE
    store = tmp_path / "amorphous"
    shutil.copytree(COMMITTED_STORE, store)
    stored = sorted(p.name for p in store.iterdir())

    def no_md(*_args, **_kwargs):
        raise AssertionError("the committed store lacks a block of the demo")

    monkeypatch.setattr(amorphous, "_run_melt_quench", no_md)
    amorphous_systems = [
        name
        for name, recipe in config["systems"].items()
        if resolve_recipe(recipe, name)["sei"]["phase"] == "amorphous"
    ]
    assert amorphous_systems == ["mosaic_amorphous"]
    for name in amorphous_systems:
        atoms = build_interface(config["systems"][name], name, amorphous_store=store)
        sei = atoms.arrays[REGION] == "sei"
        assert sei.sum() > 50
    assert sorted(p.name for p in store.iterdir()) == stored


def test_component_order_in_the_config_changes_no_cell():
    """A recipe's SEI components come in name order whatever order the
    config lists them in: the workflow passes its jobs JSON with sorted
    keys, and `constpot build` on the YAML must build the same cell."""
    listed = {"sei": {"phase": "crystalline", "layout": "mosaic"}}
    a = resolve_recipe(
        {**listed, "sei": {**listed["sei"], "components": {"LiF": 0.4, "Li2O": 0.6}}}
    )
    b = resolve_recipe(
        {**listed, "sei": {**listed["sei"], "components": {"Li2O": 0.6, "LiF": 0.4}}}
    )
    assert (
        list(a["sei"]["components"]) == ["Li2O", "LiF"] == list(b["sei"]["components"])
    )
    assert a == b
