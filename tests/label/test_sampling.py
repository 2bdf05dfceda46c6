"""Tests of constpot.label.sampling: contract and physics facts of the frames."""

import warnings

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from constpot.build.amorphous import amorphous_block
from constpot.build.molecules import load_molecule
from constpot.build.recipe import build_interface
from constpot.keys import MOL_ID, MOLECULE, REGION
from constpot.label.sampling import CATEGORIES, sample_configurations

FAST = [c for c in CATEGORIES if "amorphous" not in c]


@pytest.fixture(scope="module")
def interface(demo_interface):
    return demo_interface("crystalline", system="t")


@pytest.fixture(scope="module")
def blocks():
    # Short melt-quench (a few s): the sampler's contract, not glass quality.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            comp: amorphous_block(
                comp,
                [[10.1, 0.0], [0.0, 10.1]],
                10.1,
                seed=1,
                melt_K=1500.0,
                melt_steps=40,
                quench_steps=40,
                equil_steps=10,
                max_attempts=1,
                relax_fmax=0.2,
            )
            for comp in ("LiF", "Li2O")
        }


@pytest.fixture(scope="module")
def counts():
    return {c: 2 + k % 2 for k, c in enumerate(CATEGORIES)}


@pytest.fixture(scope="module")
def frames(interface, blocks, counts):
    return sample_configurations(
        [interface], counts, max_atoms=120, seed=0, amorphous_blocks=blocks
    )


def _mol_groups(atoms):
    mol = atoms.arrays[MOL_ID]
    for m in np.unique(mol[mol >= 0]):
        idx = np.flatnonzero(mol == m)
        yield str(atoms.arrays[MOLECULE][idx[0]]), idx


def test_every_category_with_its_count(frames, counts):
    got = [f.info["category"] for f in frames]
    assert {c: got.count(c) for c in CATEGORIES} == counts
    assert [f.info["sample_index"] for f in frames] == list(range(len(frames)))
    assert all(f.info["category"] in CATEGORIES for f in frames)


def test_size_periodicity_and_sources(frames):
    for f in frames:
        assert len(f) <= 120
        assert f.pbc.all()
        assert f.info["source"] in ("bulk", "t", "template", "electrolyte_box")
    by_cat = {f.info["category"]: f.info["source"] for f in frames}
    # Interface windows come from the interface's info["system"].
    assert by_cat["li_sei_contact"] == "t"
    assert by_cat["sei_electrolyte_contact"] == "t"


def test_minimum_distance_with_images(frames):
    for f in frames:
        # Contract: no pair (images included) closer than 0.7 Å.
        assert len(neighbor_list("i", f, 0.7)) == 0, f.info["category"]


def test_total_charge_is_integer_sum(frames):
    for f in frames:
        total = f.get_initial_charges().sum()
        # Formal charges are integers; 1e-9 allows float summation only.
        assert abs(total - round(total)) < 1e-9
        assert f.info["total_charge"] == round(total)
        # Every frame is neutral, li_solvent_cluster (Li⁺ + PF₆⁻) included.
        assert f.info["total_charge"] == 0


def test_vacuum_of_slabs_and_clusters(frames):
    for f in frames:
        kind = f.info["kind"]
        axes = {"slab": [2], "cluster": [0, 1, 2], "bulk": []}[kind]
        for ax in axes:
            extent = np.ptp(f.positions[:, ax])
            # ≥ 8 Å vacuum requested; the frame has 10 Å minus the rattle.
            assert f.cell[ax, ax] - extent >= 8.0, (f.info["category"], ax)


def test_contacts_hold_both_phases(frames):
    for f in frames:
        regions = set(f.arrays[REGION].tolist())
        if f.info["category"] == "li_sei_contact":
            assert regions == {"anode", "sei"}
        if f.info["category"] == "sei_electrolyte_contact":
            assert regions == {"sei", "electrolyte"}
        if f.info["category"] == "li_electrolyte_contact":
            assert regions == {"anode", "electrolyte"}


def _check_ion_pair_cluster(f):
    """A neutral Li⁺ + 3–4 solvents + PF₆⁻ cluster, molecules apart."""
    names = [name for name, _ in _mol_groups(f)]
    assert names.count("Li") == 1
    assert names.count("PF6") == 1
    assert 3 <= sum(n in ("EC", "DMC") for n in names) <= 4
    assert len(names) in (5, 6)
    sym = np.array(f.get_chemical_symbols())
    assert (sym == "Li").sum() == 1
    assert (sym == "P").sum() == 1 and (sym == "F").sum() == 6
    pf6 = f.arrays[MOL_ID][(sym == "P") | (sym == "F")]
    assert len(set(pf6.tolist())) == 1
    assert set(f.arrays[MOLECULE][f.arrays[MOL_ID] == pf6[0]]) == {"PF6"}
    assert f.info["total_charge"] == 0
    assert f.get_initial_charges().sum() == pytest.approx(0.0, abs=1e-9)


def test_li_solvent_cluster(frames):
    clusters = [f for f in frames if f.info["category"] == "li_solvent_cluster"]
    assert clusters
    for f in clusters:
        _check_ion_pair_cluster(f)


def _min_image_gap(atoms, i, idx):
    """Smallest minimum-image distance from atom i to the atoms idx."""
    d = atoms.get_distances(i, idx, mic=True)
    return float(d.min())


def test_li_solvent_cluster_is_a_neutral_ion_pair(interface):
    """Charged periodic cells carry a convention-dependent background offset
    (GFN1-xTB vs QEq), so the clusters hold one PF₆⁻: contact ion pairs (Li–F
    ≈ 1.95 Å) with 3 template solvents, solvent-separated (Li–P ≈ 6 Å) with 4;
    from an interface, the PF₆⁻ nearest the Li⁺, whole."""
    frames = sample_configurations(
        [interface], {"li_solvent_cluster": 24}, seed=7, rattle_A=0.0, strain=0.0
    )
    n_template = {3: 0, 4: 0}
    n_interface = 0
    for f in frames:
        _check_ion_pair_cluster(f)
        mol = f.arrays[MOL_ID]
        d = f.get_all_distances()
        # No two atoms of different molecules closer than 1.5 Å.
        assert d[mol[:, None] != mol[None, :]].min() >= 1.5
        sym = np.array(f.get_chemical_symbols())
        li = int(np.flatnonzero(sym == "Li")[0])
        li_f = d[li, sym == "F"].min()
        li_p = d[li, sym == "P"][0]
        n_solvent = len(np.unique(mol)) - 2
        if f.info["source"] == "template":
            n_template[n_solvent] += 1
            if n_solvent == 3:  # contact ion pair
                assert 1.8 <= li_f <= 2.2
                # The F bound to the P points at the Li⁺ (P, F, Li collinear).
                assert li_p == pytest.approx(li_f + 1.629, abs=0.02)
            else:  # solvent-separated
                assert li_p == pytest.approx(6.0, abs=1e-6)
                assert li_f > 4.0
        else:
            assert f.info["source"] == "t"
            n_interface += 1
            # The PF₆⁻ nearest the Li⁺ (minimum image) in the interface.
            region, names = interface.arrays[REGION], interface.arrays[MOLECULE]
            isym = np.array(interface.get_chemical_symbols())
            lis = np.flatnonzero((isym == "Li") & (region == "electrolyte"))
            anions = np.flatnonzero(np.isin(isym, ["P", "F"]) & (names == "PF6"))
            nearest = min(_min_image_gap(interface, i, anions) for i in lis)
            farthest = max(_min_image_gap(interface, i, anions) for i in lis)
            got = d[li, (sym == "P") | (sym == "F")].min()
            assert nearest - 1e-6 <= got <= farthest + 1e-6
            assert any(
                abs(got - _min_image_gap(interface, i, anions)) < 1e-6 for i in lis
            )
    assert n_template[3] > 0 and n_template[4] > 0 and n_interface > 0


def test_li_solvent_cluster_without_pf6_source_uses_template(interface):
    keep = interface.arrays[MOLECULE] != "PF6"
    no_salt = interface[keep]
    frames = sample_configurations(
        [no_salt], {"li_solvent_cluster": 6}, seed=1, rattle_A=0.0, strain=0.0
    )
    for f in frames:
        assert f.info["source"] == "template"
        _check_ion_pair_cluster(f)


def test_li_adatom_height(frames):
    for f in (f for f in frames if f.info["category"] == "li_adatom"):
        assert f.info["total_charge"] == 0
        assert 1.5 <= f.info["adatom_height_A"] <= 2.5


def test_molecules_exactly_whole_without_perturbation(interface):
    counts = {"sei_electrolyte_contact": 3, "electrolyte": 3, "li_solvent_cluster": 4}
    frames = sample_configurations(
        [interface], counts, seed=3, rattle_A=0.0, strain=0.0
    )
    n_checked = 0
    for f in frames:
        for name, idx in _mol_groups(f):
            ref = load_molecule(name).get_all_distances()
            # Rigid copies of the templates: equal up to float rounding.
            np.testing.assert_allclose(
                f.get_all_distances()[np.ix_(idx, idx)], ref, atol=1e-6
            )
            n_checked += 1
    assert n_checked > 20


def test_bond_lengths_within_rattle(frames):
    for f in frames:
        if f.info["perturbation"] != "rattle":
            continue
        for name, idx in _mol_groups(f):
            if len(idx) == 1:
                continue
            ref = load_molecule(name).get_all_distances()
            bonded = (ref > 0) & (ref < 1.7)
            got = f.get_all_distances()[np.ix_(idx, idx)]
            # σ = 0.05 Å per component gives bond-length changes of σ√2 ≈ 0.07 Å
            # plus ≤ 2 % strain (≈ 0.03 Å): 0.3 Å is > 3σ.
            assert np.abs(got - ref)[bonded].max() < 0.3, name


def test_hot_frames_use_larger_rattle(interface):
    frames = sample_configurations([interface], {"li_bulk": 8}, hot_snapshots=1.0)
    assert all(f.info["perturbation"] == "hot" for f in frames)
    assert all(f.info["rattle_A"] == pytest.approx(0.15) for f in frames)
    cold = sample_configurations([interface], {"li_bulk": 8}, hot_snapshots=0.0)
    assert all(f.info["perturbation"] == "rattle" for f in cold)


def test_metal_frames_take_the_thermal_amplitude(interface):
    # Frames of metallic Li only are displaced by metal_rattle_A (the metal's
    # thermal amplitude), every other frame exactly as without it: the random
    # draws are the same, only the width of the metal frames changes.
    counts = {"li_bulk": 3, "li_surface": 3, "lif_crystal": 2, "electrolyte": 2}
    base = sample_configurations([interface], counts, seed=3, strain=0.0)
    hot = sample_configurations(
        [interface], counts, seed=3, strain=0.0, metal_rattle_A=0.2
    )
    for a, b in zip(base, hot, strict=True):
        if set(a.get_chemical_symbols()) == {"Li"}:
            assert b.info["perturbation"] == "thermal"
            assert b.info["rattle_A"] == pytest.approx(0.2)
            # The same unit normal draws, scaled by the width (no strain): the
            # displacements from the unperturbed frame are 0.2/σ_a as large.
            scale = 0.2 / a.info["rattle_A"]
            ideal = a.positions - (b.positions - a.positions) / (scale - 1.0)
            np.testing.assert_allclose(
                b.positions - ideal, scale * (a.positions - ideal), atol=1e-9
            )
            assert np.std(b.positions - ideal) == pytest.approx(0.2, rel=0.25)
        else:
            assert b.info["perturbation"] == a.info["perturbation"]
            np.testing.assert_array_equal(a.positions, b.positions)
    with pytest.raises(ValueError, match="metal_rattle_A"):
        sample_configurations([interface], {"li_bulk": 1}, metal_rattle_A=1.5)


def test_reproducible_by_seed(interface, blocks):
    counts = {c: 2 for c in CATEGORIES}
    a = sample_configurations([interface], counts, seed=5, amorphous_blocks=blocks)
    b = sample_configurations([interface], counts, seed=5, amorphous_blocks=blocks)
    c = sample_configurations([interface], counts, seed=6, amorphous_blocks=blocks)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.positions, y.positions)
        np.testing.assert_array_equal(x.cell.array, y.cell.array)
    assert any(
        len(x) != len(z) or not np.allclose(x.positions, z.positions)
        for x, z in zip(a, c, strict=True)
    )


def test_strain_within_bounds(interface):
    counts = {c: 3 for c in FAST}
    strained = sample_configurations([interface], counts, seed=2, strain=0.02)
    plain = sample_configurations([interface], counts, seed=2, strain=0.0)
    for s, p in zip(strained, plain, strict=True):
        assert np.abs(s.info["strain"]).max() <= 0.02
        assert len(s) == len(p)
        ratio = s.cell.lengths() / p.cell.lengths()
        # |ε_ij| ≤ 0.02 stretches a cell edge by at most √3·0.02 (+1e-12 rounding).
        assert np.all(np.abs(ratio - 1.0) <= np.sqrt(3) * 0.02 + 1e-12)
        if s.info["kind"] == "slab":
            # The vacuum direction is not strained (exact up to rounding).
            assert ratio[2] == pytest.approx(1.0, abs=1e-12)
    assert any(np.abs(s.info["strain"]).max() > 0.01 for s in strained)


def test_amorphous_cut_from_amorphous_sei(interface):
    # An interface whose SEI is disordered (crystal rattled by 0.25 Å) is cut
    # from, not melt-quenched: source is the interface.
    glassy = interface.copy()
    rng = np.random.default_rng(0)
    sei = glassy.arrays[REGION] == "sei"
    glassy.positions[sei] += rng.normal(scale=0.25, size=(sei.sum(), 3))
    glassy.info["system"] = "glassy"
    frames = sample_configurations([glassy], {"lif_amorphous": 2, "li2o_amorphous": 2})
    for f in frames:
        assert f.info["source"] == "glassy"
        assert f.info["total_charge"] == 0
        anion = "F" if f.info["category"] == "lif_amorphous" else "O"
        assert set(f.get_chemical_symbols()) == {"Li", anion}


def test_amorphous_block_too_large_is_carved(interface, blocks):
    frames = sample_configurations(
        [interface], {"lif_amorphous": 2}, max_atoms=60, amorphous_blocks=blocks
    )
    for f in frames:
        assert len(f) <= 60
        assert f.info["total_charge"] == 0


def test_bulk_only_without_interfaces():
    counts = {"li_bulk": 1, "li_surface": 1, "lif_crystal": 1, "li_solvent_cluster": 2}
    frames = sample_configurations([], counts, seed=1)
    assert len(frames) == 5
    assert {f.info["source"] for f in frames} <= {"bulk", "template"}


def test_impossible_category_is_named(interface, demo_interface):
    bare = demo_interface("no_sei", system="bare")
    with pytest.raises(ValueError, match=r"li_sei_contact.*sei"):
        sample_configurations([bare], {"li_sei_contact": 1})
    with pytest.raises(ValueError, match="sei_electrolyte_contact"):
        sample_configurations([], {"sei_electrolyte_contact": 1})
    with pytest.raises(ValueError, match=r"li_bulk.*max_atoms"):
        sample_configurations([interface], {"li_bulk": 1}, max_atoms=10)
    with pytest.raises(ValueError, match=r"li_electrolyte_contact.*max_atoms"):
        sample_configurations([interface], {"li_electrolyte_contact": 1}, max_atoms=50)


def test_bad_arguments(interface):
    with pytest.raises(ValueError, match=r"unknown category 'li_gas'.*li_bulk"):
        sample_configurations([interface], {"li_gas": 1})
    with pytest.raises(ValueError, match=r"counts\['li_bulk'\]"):
        sample_configurations([interface], {"li_bulk": -1})
    with pytest.raises(ValueError, match=r"counts\['li_bulk'\]"):
        sample_configurations([interface], {"li_bulk": 1.5})
    with pytest.raises(ValueError, match="strain"):
        sample_configurations([interface], {"li_bulk": 1}, strain=0.5)
    with pytest.raises(ValueError, match="rattle_A"):
        sample_configurations([interface], {"li_bulk": 1}, rattle_A=-0.1)
    with pytest.raises(TypeError, match="interfaces"):
        sample_configurations(interface, {"li_bulk": 1})
    assert sample_configurations([interface], {"li_bulk": 0}) == []


def test_hot_frames_keep_covalent_bonds_physical(interface):
    """Even hot frames keep every bond of a molecule within 15% of the
    template: stretched as at high temperature, never collapsed (a C=O squeezed
    to 0.8 Å, −35%, gave GFN1 forces above 100 eV/Å before molecules were
    rattled less than the ions)."""
    iface = interface
    frames = sample_configurations(
        [iface],
        {"electrolyte": 4, "li_solvent_cluster": 4},
        seed=3,
        hot_snapshots=1.0,
    )
    for frame in frames:
        mol = frame.arrays["mol_id"]
        for m in np.unique(mol[mol >= 0]):
            sel = np.flatnonzero(mol == m)
            ref = load_molecule(str(frame.arrays["molecule"][sel[0]]))
            d_ref = ref.get_all_distances()
            bonded = (d_ref > 0) & (d_ref < 1.8)
            d = frame[sel].get_all_distances()
            ratio = d[bonded] / d_ref[bonded]
            assert np.all(np.abs(ratio - 1.0) < 0.15), (frame.info["category"], m)


def test_metal_frames_share_the_anode_lateral_cell(interface):
    """GFN1-xTB at Γ has a cell-dependent finite-size error for metallic Li, so
    every frame with metallic Li has the anode's lateral cell, whole, and one
    shape per kind (module docstring)."""
    from constpot.build.lithium import LI_BCC_A_A
    from constpot.label.sampling import (
        CONTACT_LI_LAYERS,
        LI_BULK_CELLS_Z,
        LI_SLAB_LAYERS,
    )

    counts = {
        "li_bulk": 3,
        "li_surface": 3,
        "li_sei_contact": 4,
        "li_adatom": 6,
        "li_electrolyte_contact": 3,
    }
    max_atoms = 120
    frames = sample_configurations(
        [interface], counts, max_atoms=max_atoms, seed=4, rattle_A=0.0, strain=0.0
    )
    lateral = np.diag(interface.cell.array)[:2]
    per_layer = round(np.prod(lateral) / LI_BCC_A_A**2)  # (100): one atom per a²
    assert per_layer == 25  # the crystalline demo's 5 × 5 anode
    # Whole bcc cells / (100) layers of that cell, as many as max_atoms allows
    # up to the sampler's defaults: 2 cells (100 atoms; 3 would be 150) and
    # 4 layers (100 atoms; 6 would be 150, and 4 + the adatom is 101).
    bulk_cells_z = min(LI_BULK_CELLS_Z, max_atoms // (2 * per_layer))
    slab_layers = min(LI_SLAB_LAYERS, (max_atoms - 1) // per_layer)
    assert (bulk_cells_z, slab_layers) == (2, 4)
    n_metal = 0
    for f in frames:
        n_anode = int((f.arrays[REGION] == "anode").sum())
        if n_anode < 2:  # a lone adatom on the SEI is not metallic
            continue
        n_metal += 1
        # Unstrained copies of the anode's cell: equal up to float rounding.
        np.testing.assert_allclose(f.cell.array[:2, :2], np.diag(lateral), atol=1e-9)
        cat = f.info["category"]
        if cat == "li_bulk":
            assert f.cell[2, 2] == pytest.approx(bulk_cells_z * LI_BCC_A_A, abs=1e-9)
            assert n_anode == 2 * per_layer * bulk_cells_z
        elif cat in ("li_sei_contact", "li_electrolyte_contact"):
            assert n_anode == per_layer * CONTACT_LI_LAYERS
        else:  # li_surface, li_adatom on Li (+ the adatom)
            adatom = cat == "li_adatom"
            assert n_anode - adatom == per_layer * slab_layers
    assert n_metal >= 13


def test_anodes_with_different_lateral_cells_are_refused(interface, demo_interface):
    """The crystalline demo's 5 × 5 anode and the bare demo's 4 × 4: a Γ-only
    labeller refuses the pair, a k-point labeller takes it."""
    bare = demo_interface("no_sei", system="bare")
    with pytest.raises(ValueError, match=r"interfaces.*lateral cells.*\(4, 4\)"):
        sample_configurations([interface, bare], {"li_bulk": 1})
    (f,) = sample_configurations([interface, bare], {"li_bulk": 1}, labeller=GPAW)
    assert f.info["category"] == "li_bulk"


def test_liquid_frames_have_no_clash_across_the_boundary(interface):
    """Electrolyte frames are periodic packings: atoms of different molecules
    (periodic images included) are ≥ LIQUID_TOLERANCE_A apart, so no molecule
    faces another across the boundary at a bonding distance."""
    from constpot.label.sampling import LIQUID_TOLERANCE_A

    frames = sample_configurations(
        [interface], {"electrolyte": 6}, seed=1, rattle_A=0.0, strain=0.0
    )
    for f in frames:
        assert f.info["source"] == "t"
        mol = f.arrays[MOL_ID]
        i, j, d = neighbor_list("ijd", f, LIQUID_TOLERANCE_A + 1.0)
        inter = mol[i] != mol[j]
        # packmol meets its tolerance to ~1e-2 Å (its convergence criterion).
        assert d[inter].min() >= LIQUID_TOLERANCE_A - 0.02
        assert len(np.unique(mol)) >= 4  # a liquid, not a few molecules


def test_li_electrolyte_contact(interface):
    """Metallic Li touching the liquid (the counter electrode, the anode without
    SEI): a fresh CONTACT_LI_LAYERS-layer Li(100) slab on the anode's lateral
    cell under whole electrolyte molecules of the interface's composition, no
    atom closer to a Li than the contact heights, neutral with ions in pairs."""
    from constpot.build.lithium import LI_BCC_A_A
    from constpot.build.molecules import MOLECULES
    from constpot.label.sampling import (
        CONTACT_LI_LAYERS,
        METAL_CONTACT_A,
        METAL_CONTACT_H_A,
    )

    counts = {"li_electrolyte_contact": 6}
    frames = sample_configurations(
        [interface], counts, seed=2, rattle_A=0.0, strain=0.0
    )
    again = sample_configurations([interface], counts, seed=2, rattle_A=0.0, strain=0.0)
    lateral = np.diag(interface.cell.array)[:2]
    per_layer = round(np.prod(lateral) / LI_BCC_A_A**2)  # (100): one atom per a²
    liquid_names = set(
        interface.arrays[MOLECULE][interface.arrays[REGION] == "electrolyte"]
    )
    for f, g in zip(frames, again, strict=True):
        np.testing.assert_array_equal(f.positions, g.positions)  # same seed
        assert f.info["source"] == "t" and f.info["kind"] == "slab"
        assert len(f) <= 120
        region = f.arrays[REGION]
        metal = region == "anode"
        # The anode's lateral cell (unstrained: equal up to float rounding) and
        # exactly CONTACT_LI_LAYERS (100) layers of it.
        np.testing.assert_allclose(f.cell.array[:2, :2], np.diag(lateral), atol=1e-9)
        assert metal.sum() == per_layer * CONTACT_LI_LAYERS
        assert len(np.unique(np.round(f.positions[metal, 2], 6))) == CONTACT_LI_LAYERS
        assert (f.arrays[MOL_ID][metal] == -1).all()
        # Whole molecules: every mol_id holds one rigid copy of its template.
        groups = list(_mol_groups(f))
        assert len(groups) >= 4
        assert {name for name, _ in groups} <= liquid_names
        assert set(np.flatnonzero(~metal)) == {i for _, idx in groups for i in idx}
        for name, idx in groups:
            ref = load_molecule(name)
            assert len(idx) == len(ref)
            np.testing.assert_allclose(
                f.get_all_distances()[np.ix_(idx, idx)],
                ref.get_all_distances(),
                atol=1e-6,
            )
        # No clash with the slab, periodic images included (1e-9: rounding).
        i, j, d = neighbor_list("ijd", f, METAL_CONTACT_A + 0.5)
        pair = metal[i] & ~metal[j]
        is_h = np.array(f.get_chemical_symbols())[j[pair]] == "H"
        assert (d[pair][~is_h] >= METAL_CONTACT_A - 1e-9).all()
        assert (d[pair][is_h] >= METAL_CONTACT_H_A - 1e-9).all()
        # Σ formal charges of what is included: Li⁺/PF₆⁻ in pairs, neutral.
        formal = sum(sum(MOLECULES[name].atomic_charges) for name, _ in groups)
        assert f.get_initial_charges().sum() == pytest.approx(formal, abs=1e-9)
        assert f.info["total_charge"] == round(formal) == 0
        names = [name for name, _ in groups]
        assert names.count("Li") == names.count("PF6")
        # Slab vacuum along z: 10 Å requested.
        assert f.cell[2, 2] - np.ptp(f.positions[:, 2]) >= 10.0 - 1e-9


# --------------------------------------------------------------------------
# labellers with a k-point rule: metal frames of any cell

GPAW = {"kind": "gpaw", "kpt_spacing_inv_A": 0.2}


def _layers(z, tol=0.1):
    """Distinct heights (Å) of a set of atomic planes, lowest first."""
    z = np.sort(z)
    return z[np.concatenate([[True], np.diff(z) > tol])]


def _check_bcc_window(f, a_xy):
    """The metal of a frame is a perfect bcc(100) crystal across its lateral
    boundaries: whole cells, the same atoms in every (100) layer, and every
    atom with its bulk nearest neighbours (8 inside, 4 at a surface plane)."""
    metal = f.arrays[REGION] == "anode"
    lateral = np.diag(f.cell.array)[:2]
    cells = lateral / a_xy
    # Whole cells, unstrained: equal up to float rounding.
    np.testing.assert_allclose(cells, np.round(cells), atol=1e-9)
    per_layer = round(np.prod(np.round(cells)))  # (100): one atom per a²
    z = f.positions[metal, 2]
    planes = _layers(z)
    for plane in planes:
        assert np.sum(np.abs(z - plane) < 0.1) == per_layer
    i = neighbor_list("i", f[metal], 0.5 * np.sqrt(3) * a_xy[0] + 0.05)
    nn = np.bincount(i, minlength=int(metal.sum()))
    outer = (np.abs(z - planes[0]) < 0.1) | (np.abs(z - planes[-1]) < 0.1)
    assert np.all(nn[~outer] == 8) and np.all(nn[outer] == 4)
    return len(planes), np.round(cells).astype(int)


def test_kpoint_labeller_metal_frames_need_no_common_cell(interface):
    """With a k-point labeller, li_bulk and the Li slabs are fresh cells of
    2–4 bcc cells per edge, and li_sei_contact a periodic window of whole bcc
    cells of the anode: the metal stays a perfect crystal across the new
    boundaries, and no two units meet closer than CUT_PAD_A across them."""
    from constpot.build.lithium import LI_BCC_A_A
    from constpot.label.sampling import (
        CONTACT_LI_LAYERS,
        CUT_PAD_A,
        FRESH_LI_CELLS,
        LI_SLAB_LAYERS,
        LI_SLAB_MIN_LAYERS,
        MIN_WINDOW_CELLS,
    )

    counts = {
        "li_bulk": 6,
        "li_surface": 4,
        "li_sei_contact": 6,
        "li_adatom": 6,
        "li_electrolyte_contact": 3,
    }
    max_atoms = 70  # below the 75 Li of 3 layers of the 5 × 5 anode: forces cuts
    frames = sample_configurations(
        [interface],
        counts,
        max_atoms=max_atoms,
        seed=4,
        rattle_A=0.0,
        strain=0.0,
        labeller=GPAW,
    )
    lateral = np.diag(interface.cell.array)[:2]
    a_xy = lateral / np.round(lateral / LI_BCC_A_A)
    shapes, cut = set(), 0
    for f in frames:
        cat = f.info["category"]
        assert len(f) <= max_atoms and f.info["total_charge"] == 0
        if cat == "li_bulk":
            cells = np.diag(f.cell.array) / LI_BCC_A_A
            np.testing.assert_allclose(cells, np.round(cells), atol=1e-9)
            assert set(np.round(cells).astype(int)) <= set(FRESH_LI_CELLS)
            assert len(f) == 2 * np.prod(np.round(cells))
            shapes.add(tuple(np.round(cells).astype(int)))
            continue
        if cat == "li_adatom" and f.info["adatom_site"] == "sei":
            continue
        metal = f.arrays[REGION] == "anode"
        if cat == "li_adatom":  # the adatom sits above the slab
            f = f[np.argsort(f.positions[:, 2])[:-1]]
        n_layers, cells = _check_bcc_window(f, a_xy)
        if cat == "li_sei_contact":
            assert n_layers == CONTACT_LI_LAYERS
            assert np.all(cells >= MIN_WINDOW_CELLS)
            assert np.all(cells <= np.round(lateral / a_xy))
            cut += bool(np.any(cells < np.round(lateral / a_xy)))
            # No new contact closer than CUT_PAD_A across a cut boundary
            # (between two SEI units, or the metal and an SEI unit).
            cut_axes = [k for k in range(2) if cells[k] < round(lateral[k] / a_xy[k])]
            i, j, shift = neighbor_list("ijS", f, CUT_PAD_A)
            across_cut = np.any(shift[:, cut_axes] != 0, axis=1)
            assert not np.any(across_cut & ~(metal[i] & metal[j]))
        else:
            assert set(cells) <= set(FRESH_LI_CELLS)
            if cat == "li_electrolyte_contact":
                assert n_layers == CONTACT_LI_LAYERS
            elif cat == "li_surface":  # films of 4 to LI_SLAB_LAYERS layers
                assert LI_SLAB_MIN_LAYERS <= n_layers <= LI_SLAB_LAYERS
            else:
                assert n_layers == LI_SLAB_LAYERS
            shapes.add(tuple(cells))
    assert cut >= 3  # the contact windows were cut laterally
    assert len(shapes) >= 4  # fresh cells of several sizes


def test_surface_films_of_several_thicknesses_only_when_cells_are_consistent(
    interface,
):
    """li_surface films are 4 to 6 layers thick for a labeller consistent
    across cells (so that the model knows thin films, whose two surfaces it
    sees at once), and of one thickness for a Γ-only one (whose error
    changes with the film's thickness)."""
    from constpot.label.sampling import LI_SLAB_LAYERS, LI_SLAB_MIN_LAYERS

    def thickness(labeller):
        frames = sample_configurations(
            [interface], {"li_surface": 12}, seed=2, rattle_A=0.0, labeller=labeller
        )
        return [len(_layers(f.positions[:, 2])) for f in frames]

    varied = thickness(GPAW)
    assert set(varied) == set(range(LI_SLAB_MIN_LAYERS, LI_SLAB_LAYERS + 1))
    # Γ-only: the anode's cell, as many layers as max_atoms allows, always.
    assert len(set(thickness(None))) == 1


@pytest.fixture(scope="module")
def paper_interface():
    """The paper preset's crystalline interface (31.59 × 17.55 Å anode of
    9 × 5 bcc cells, ≈ 3100 atoms): its metal frames cannot share the
    anode's lateral cell within 120 atoms."""
    return build_interface(
        {
            "preset": "paper",
            "seed": 1,
            "sei": {
                "phase": "crystalline",
                "layout": "mosaic",
                "components": {"LiF": 0.5, "Li2O": 0.5},
            },
        },
        "crystalline",
    )


def _every_category_twice(interface, blocks, max_atoms):
    """Two frames of every category with the gpaw labeller, checked against
    the sampler's contract: sizes, neutrality, no pair closer than 0.7 Å."""
    counts = {c: 2 for c in CATEGORIES}
    frames = sample_configurations(
        [interface],
        counts,
        max_atoms=max_atoms,
        seed=0,
        amorphous_blocks=blocks,
        labeller=GPAW,
    )
    got = [f.info["category"] for f in frames]
    assert {c: got.count(c) for c in CATEGORIES} == counts
    for f in frames:
        assert len(f) <= max_atoms
        assert f.info["total_charge"] == 0
        assert len(neighbor_list("i", f, 0.7)) == 0
    return frames


@pytest.mark.slow
def test_paper_interface_samples_with_a_kpoint_labeller(paper_interface, blocks):
    """config/paper.yaml's sampling: every category from a paper-size
    interface with the gpaw labeller and max_atoms 120; a Γ-only labeller
    refuses it and names the way out."""
    with pytest.raises(ValueError, match=r"li_bulk.*max_atoms.*k-point"):
        sample_configurations([paper_interface], {"li_bulk": 1}, max_atoms=120)
    frames = _every_category_twice(paper_interface, blocks, max_atoms=120)
    contact = [f for f in frames if f.info["category"] == "li_sei_contact"]
    assert all(f.info["source"] == "crystalline" for f in contact)
    assert all(set(f.arrays[REGION]) == {"anode", "sei"} for f in contact)


def test_kpoint_labeller_samples_every_category_within_60_atoms(interface, blocks):
    """config/dft_small.yaml's sampling: with a k-point labeller every
    category fits 60 atoms. Crystals then take supercells of 2-4 cubic cells
    (no 6.5 Å supercell of LiF or Li2O fits: 64 and 96 atoms), and liquid
    cubes stay wide enough for packmol to hold their largest molecule."""
    with pytest.raises(ValueError, match=r"lif_crystal.*max_atoms = 60"):
        sample_configurations([interface], {"lif_crystal": 1}, max_atoms=60)
    frames = _every_category_twice(interface, blocks, max_atoms=60)
    for f in frames:
        if f.info["category"] in ("lif_crystal", "li2o_crystal"):
            unit = 8 if f.info["category"] == "lif_crystal" else 12
            assert len(f) % unit == 0 and 2 * unit <= len(f) <= 60
        if f.info["category"] == "electrolyte":  # EC (4.07 Å) + 2 × 2 Å tolerance
            assert f.cell.lengths().min() > 0.97 * 8.07


def test_labeller_argument_is_checked(interface):
    with pytest.raises(TypeError, match="labeller"):
        sample_configurations([interface], {"li_bulk": 1}, labeller="gpaw")
    with pytest.raises(ValueError, match="kind"):
        sample_configurations([interface], {"li_bulk": 1}, labeller={"kind": "dft"})
    # A Γ-only labeller (xtb) keeps the anode's lateral cell.
    (f,) = sample_configurations(
        [interface], {"li_bulk": 1}, labeller={"kind": "xtb"}, strain=0.0
    )
    np.testing.assert_allclose(
        np.diag(f.cell.array)[:2], np.diag(interface.cell.array)[:2], atol=1e-9
    )
