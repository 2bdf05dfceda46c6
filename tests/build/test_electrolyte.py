"""Molecule templates and the packed electrolyte block: chemistry and geometry facts."""

import importlib.util
import io
import itertools
import math
import tempfile

import ase.io
import numpy as np
import pytest
from ase.neighborlist import natural_cutoffs, neighbor_list

from constpot.build import electrolyte, molecules
from constpot.build.electrolyte import (
    MOLECULE_KEY,
    electrolyte_box,
    electrolyte_counts,
)
from constpot.build.molecules import MOLECULES, load_molecule, molar_mass
from constpot.keys import MOL_ID, REGION
from constpot.units import AVOGADRO_PER_MOL, LITRE_IN_A3

HAS_TBLITE = importlib.util.find_spec("tblite") is not None

# Test box: 20 × 20 × 25 Å = 10 nm³ holds c·V·N_A = 6.02 LiPF₆ at 1 M, which
# rounds to 6 (−0.4 %). The rounding error is at most 0.5/(c·V·N_A): a demo box
# of 15 × 15 × 20 Å (2.71 pairs → 3, +10.7 %) cannot meet 5 %, and no box is
# guaranteed to below c·V·N_A = 10 (V ≈ 16.6 nm³ at 1 M).
CELL_XY = [[20.0, 0.0], [0.0, 20.0]]
THICKNESS = 25.0


def test_public_names():
    for module in (molecules, electrolyte):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


# --------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MOLECULES))
def test_template_matches_table(name):
    atoms = load_molecule(name)
    info = MOLECULES[name]
    assert atoms.get_chemical_formula() == info.formula
    assert len(info.atomic_charges) == len(atoms)
    # Formal charges are integers and add up to the molecule's charge exactly.
    assert sum(info.atomic_charges) == info.charge
    np.testing.assert_array_equal(atoms.get_initial_charges(), info.atomic_charges)
    assert not atoms.pbc.any()


def test_molar_masses():
    # Standard atomic weights (IUPAC, as in ase.data): EC 88.06, DMC 90.08,
    # PF6 144.96, Li 6.94 g/mol; atol 0.01 g/mol = the rounding of those values.
    expected = {"EC": 88.062, "DMC": 90.078, "PF6": 144.964, "Li": 6.94}
    for name, mass in expected.items():
        assert molar_mass(name) == pytest.approx(mass, abs=0.01)


def _bonds(atoms):
    """Bonded pairs (i < j) by ASE's covalent radii, with their lengths."""
    i, j, d = neighbor_list("ijd", atoms, natural_cutoffs(atoms, mult=1.1))
    symbols = atoms.get_chemical_symbols()
    return [
        ("-".join(sorted((symbols[a], symbols[b]))), a, b, r)
        for a, b, r in zip(i, j, d, strict=True)
        if a < b
    ]


@pytest.mark.parametrize("name", ["EC", "DMC"])
def test_carbonate_bond_lengths(name):
    # GFN2-xTB reproduces organic bond lengths to about ±0.02 Å (Bannwarth,
    # Ehlert, Grimme, JCTC 15, 1652 (2019)); experiment: C=O 1.19–1.21,
    # C(sp2)–O 1.33–1.34, C(sp3)–O 1.43–1.45 Å, C–H ≈ 1.09 Å, C–C 1.53 Å.
    atoms = load_molecule(name)
    bonds = _bonds(atoms)
    symbols = atoms.get_chemical_symbols()
    degree = np.bincount(
        [k for _, a, b, _ in bonds for k in (a, b)], minlength=len(atoms)
    )
    co = [(a, b, r) for kind, a, b, r in bonds if kind == "C-O"]
    carbonyl = [r for a, b, r in co if degree[a if symbols[a] == "O" else b] == 1]
    single = [r for a, b, r in co if degree[a if symbols[a] == "O" else b] == 2]
    assert len(carbonyl) == 1 and len(single) == 4
    assert carbonyl[0] == pytest.approx(1.20, abs=0.03)
    assert all(1.33 <= r <= 1.45 for r in single), single
    assert all(1.07 <= r <= 1.11 for kind, *_, r in bonds if kind == "C-H")
    assert all(1.50 <= r <= 1.56 for kind, *_, r in bonds if kind == "C-C")
    n_h = symbols.count("H")
    assert sum(kind == "C-H" for kind, *_ in bonds) == n_h


def test_pf6_is_octahedral():
    atoms = load_molecule("PF6")
    d = atoms.get_distances(0, range(1, 7))
    # P–F 1.58–1.60 Å in crystals, ~1.63 Å in DFT; GFN2 lands in between.
    assert np.all((d >= 1.60) & (d <= 1.65)), d
    # Oₕ: all six bonds equal, F–P–F angles 90° or 180°. atol: BFGS stopped at
    # 0.01 eV/Å, which leaves bond and angle noise far below 1e-3 Å / 0.1°.
    np.testing.assert_allclose(d, d.mean(), atol=1e-3)
    angles = [
        atoms.get_angle(a, 0, b) for a, b in itertools.combinations(range(1, 7), 2)
    ]
    off = [min(abs(x - 90.0), abs(x - 180.0)) for x in angles]
    assert max(off) < 0.1


@pytest.mark.skipif(not HAS_TBLITE, reason="tblite not installed")
@pytest.mark.parametrize("name", ["PF6", "EC"])
def test_templates_are_gfn2_minima(name):
    from tblite.ase import TBLite

    atoms = load_molecule(name)
    atoms.calc = TBLite(
        method="GFN2-xTB", charge=MOLECULES[name].charge, multiplicity=1, verbosity=0
    )
    forces = atoms.get_forces()
    # Relaxed to 0.01 eV/Å; 0.05 eV/Å leaves room for the 1e-8 Å rounding of the
    # file and SCF noise, and is far below any non-stationary geometry.
    assert np.linalg.norm(forces, axis=1).max() < 0.05
    # The energy recorded in the file is reproduced: 1e-4 eV covers SCF
    # convergence (tblite default accuracy) and the rounding of positions.
    assert atoms.get_potential_energy() == pytest.approx(
        atoms.info["xtb_energy_eV"], abs=1e-4
    )


@pytest.mark.skipif(not HAS_TBLITE, reason="tblite not installed")
def test_relax_templates_reproduces_shipped_pf6(tmp_path):
    # The recorded recipe regenerates the shipped file (PF6: 3 BFGS steps).
    # atol 1e-6 Å: the file keeps 8 decimals; BFGS from the same start on the
    # same code is deterministic, so only round-off could differ.
    result = molecules.relax_templates(tmp_path, names=("PF6",))
    assert result["PF6"]["fmax_eV_A"] < 0.01
    regenerated = ase.io.read(tmp_path / "PF6.xyz")
    np.testing.assert_allclose(
        regenerated.positions, load_molecule("PF6").positions, rtol=0, atol=1e-6
    )


# --------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fractions", [{"EC": 0.5, "DMC": 0.5}, {"EC": 0.3, "DMC": 0.7}]
)
def test_counts_follow_mole_fractions(fractions):
    volume = 30.0 * 30.0 * 40.0
    counts = electrolyte_counts(volume, fractions, salt_molarity=1.2)
    total = counts["EC"] + counts["DMC"]
    for name, x in fractions.items():
        # Largest-remainder rounding: |n_i/N − x_i| < 1/N.
        assert abs(counts[name] / total - x) < 1.0 / total
    assert (
        counts["Li"]
        == counts["PF6"]
        == round(1.2 * volume / LITRE_IN_A3 * AVOGADRO_PER_MOL)
    )


def test_counts_neat_solvent_and_minimum_one():
    assert electrolyte_counts(1000.0, {"DMC": 1.0}, salt_molarity=0.0)["Li"] == 0
    # A box too small for a whole solvent molecule still gets one.
    counts = electrolyte_counts(10.0, {"EC": 1.0}, salt_molarity=0.0)
    assert counts["EC"] == 1


# --------------------------------------------------------------------------
# The packed box
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def box():
    return electrolyte_box(CELL_XY, THICKNESS, salt_molarity=1.0, density_g_cm3=1.3)


def test_box_composition_matches_request(box):
    volume = 20.0 * 20.0 * THICKNESS
    exact = 1.0 * volume / LITRE_IN_A3 * AVOGADRO_PER_MOL
    # rtol 5 %, and the integer-rounding bound 0.5/(c·V·N_A) it must also obey.
    assert box.info["molarity_M"] == pytest.approx(1.0, rel=0.05)
    assert abs(box.info["molarity_M"] - 1.0) <= 0.5 / exact + 1e-12
    # One solvent molecule (88 amu) in ≈ 7800 amu: ≤ 0.6 % from rounding.
    assert box.info["density_g_cm3"] == pytest.approx(1.3, rel=0.05)
    counts = box.info["counts"]
    names, sizes = np.unique(box.arrays[MOLECULE_KEY], return_counts=True)
    for name, n_atoms in zip(names, sizes, strict=True):
        assert n_atoms == counts[name] * len(load_molecule(name))
    np.testing.assert_array_equal(box.cell.array[:2, :2], CELL_XY)
    assert box.cell[2, 2] == THICKNESS and box.pbc.all()
    assert np.all(box.arrays[REGION] == "electrolyte")


def test_box_is_neutral_with_integer_ions(box):
    q = box.get_initial_charges()
    mol = box.arrays[MOL_ID]
    # Formal charges are small integers: the sums are exact in floating point.
    assert q.sum() == 0.0
    per_molecule = np.bincount(mol, weights=q)
    names = [box.arrays[MOLECULE_KEY][mol == m][0] for m in range(mol.max() + 1)]
    np.testing.assert_array_equal(per_molecule, [MOLECULES[k].charge for k in names])
    np.testing.assert_array_equal(np.unique(mol), np.arange(mol.max() + 1))


def test_no_close_contacts_across_periodic_images(box):
    # Minimum image with the full cell: packmol's pbc covers x and y, and the
    # wall margin tolerance/2 keeps the z images apart too. Packmol enforces
    # 2.0 Å to its precision; 1.6 Å is a clear-cut overlap criterion.
    i, j, d = neighbor_list("ijd", box, 1.6)
    mol = box.arrays[MOL_ID]
    assert not np.any(mol[i] != mol[j]), d[mol[i] != mol[j]].min()
    # Atoms between the walls, to packmol's constraint precision (0.1 Å).
    z = box.positions[:, 2]
    margin = box.info["margin_A"]
    assert z.min() >= margin - 0.1 and z.max() <= THICKNESS - margin + 0.1


def test_molecules_are_rigid_copies_of_templates(box):
    mol = box.arrays[MOL_ID]
    for m in range(mol.max() + 1):
        sel = mol == m
        name = box.arrays[MOLECULE_KEY][sel][0]
        template = load_molecule(name)
        assert box[sel].get_chemical_symbols() == template.get_chemical_symbols()
        # Sorted distance matrices are invariant under rotation + translation;
        # the Kabsch reconstruction reproduces them to round-off (1e-6 Å is far
        # above float64 noise and far below any distortion).
        got = np.sort(box[sel].get_all_distances().ravel())
        ref = np.sort(template.get_all_distances().ravel())
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


def test_rigid_copies_recover_exact_rotations_and_are_least_squares():
    """The Kabsch fit (scipy's Rotation.align_vectors) of the packmol copies.

    Copies that are exact rotations + translations of the template are
    recovered to round-off (1e-12 Å); for copies with noise the fit is the
    least-squares optimum: no nearby rotation fits better. The old
    hand-written SVD gave the same result on this input to 2e-15 Å.
    """
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(3)
    template = load_molecule("EC").positions
    rotations = Rotation.random(6, random_state=1)
    shifts = rng.normal(size=(6, 1, 3)) * 10.0
    centred = template - template.mean(axis=0)
    exact = np.stack([r.apply(centred) for r in rotations]) + shifts
    np.testing.assert_allclose(
        electrolyte._rigid_copies(template, exact), exact, rtol=0, atol=1e-12
    )
    noisy = exact + rng.normal(size=exact.shape) * 0.01
    fitted = electrolyte._rigid_copies(template, noisy)
    best = ((fitted - noisy) ** 2).sum(axis=(1, 2))
    centre = noisy.mean(axis=1, keepdims=True)
    for k in range(20):
        nudge = Rotation.from_rotvec(rng.normal(size=3) * 1e-3)
        other = np.einsum("ij,mkj->mki", nudge.as_matrix(), fitted - centre) + centre
        assert np.all(((other - noisy) ** 2).sum(axis=(1, 2)) >= best), k
    # A monatomic ion is only translated.
    ion = rng.normal(size=(4, 1, 3))
    np.testing.assert_array_equal(electrolyte._rigid_copies(np.zeros((1, 3)), ion), ion)


def test_extxyz_round_trip_keeps_arrays(box):
    buffer = io.StringIO()
    ase.io.write(buffer, box, format="extxyz")
    back = ase.io.read(io.StringIO(buffer.getvalue()), format="extxyz")
    np.testing.assert_array_equal(back.arrays[MOL_ID], box.arrays[MOL_ID])
    np.testing.assert_array_equal(back.arrays[MOLECULE_KEY], box.arrays[MOLECULE_KEY])
    np.testing.assert_array_equal(back.get_initial_charges(), box.get_initial_charges())
    assert back.info["counts"] == box.info["counts"]


def _extxyz(atoms):
    buffer = io.StringIO()
    ase.io.write(buffer, atoms, format="extxyz")
    return buffer.getvalue()


def test_seed_reproducible(box):
    again = electrolyte_box(CELL_XY, THICKNESS, salt_molarity=1.0, density_g_cm3=1.3)
    assert _extxyz(again) == _extxyz(box)
    other = electrolyte_box(
        CELL_XY, THICKNESS, salt_molarity=1.0, density_g_cm3=1.3, seed=1
    )
    assert other.info["counts"] == box.info["counts"]
    assert not np.allclose(other.positions, box.positions)


def test_mixture_box():
    fractions = {"EC": 0.5, "DMC": 0.5}
    atoms = electrolyte_box(
        [[16.0, 0.0], [0.0, 16.0]], 20.0, solvents=fractions, seed=3
    )
    counts = atoms.info["counts"]
    total = counts["EC"] + counts["DMC"]
    for name, x in fractions.items():
        assert abs(counts[name] / total - x) <= 0.5 / total  # two species: ≤ ½ molecule
    molecule = atoms.arrays[MOLECULE_KEY]
    assert np.count_nonzero(molecule == "DMC") == 12 * counts["DMC"]
    assert atoms.get_initial_charges().sum() == 0.0
    # Independent of the order of the mapping.
    swapped = electrolyte_box(
        [[16.0, 0.0], [0.0, 16.0]], 20.0, solvents={"DMC": 0.5, "EC": 0.5}, seed=3
    )
    np.testing.assert_array_equal(swapped.positions, atoms.positions)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"solvents": {"PC": 1.0}}, "solvents.*PC"),
        ({"solvents": {"EC": 0.5, "DMC": 0.4}}, "solvents.*sum to 1.*0.9"),
        ({"solvents": {"EC": 1.2, "DMC": -0.2}}, "solvents.*DMC"),
        ({"salt_molarity": -1.0}, "salt_molarity"),
        ({"density_g_cm3": 0.0}, "density_g_cm3"),
        ({"salt_molarity": 20.0}, "salt_molarity.*density_g_cm3"),
        ({"density_g_cm3": 3.0}, r"too many molecules.*fraction 0\.\d+.*above 0.5"),
        ({"thickness_A": 7.0}, r"thickness_A = 7 Å.*2·tolerance_A"),
        ({"cell_xy": [[20.0, 0.0], [5.0, 20.0]]}, "cell_xy.*rectangular"),
        ({"cell_xy": [20.0, 20.0]}, r"cell_xy.*\(2, 2\)"),
        ({"cell_xy": [[5.0, 0.0], [0.0, 20.0]]}, "cell_xy.*own periodic image"),
        ({"seed": -1}, "seed"),
        ({"tolerance_A": -2.0}, "tolerance_A"),
    ],
)
def test_bad_arguments_name_the_key(kwargs, match):
    args = {"cell_xy": CELL_XY, "thickness_A": THICKNESS, **kwargs}
    cell_xy = args.pop("cell_xy")
    thickness = args.pop("thickness_A")
    with pytest.raises(ValueError, match=match):
        electrolyte_box(cell_xy, thickness, **args)


def test_missing_packmol_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="packmol"):
        electrolyte_box(CELL_XY, THICKNESS, packmol=tmp_path / "no-such-packmol")


@pytest.mark.parametrize(
    ("script", "match"),
    [
        # A failing run: non-zero exit status.
        (
            "echo 'ERROR: Packmol was unable to put the molecules'; exit 173",
            "(?s)exit status 173.*unable to put the molecules",
        ),
        # Exit status 0 but no "Success!": not trusted.
        (
            "echo ' Version 21.2.3 '; echo 'something odd'; exit 0",
            "(?s)exit status 0.*something odd",
        ),
    ],
)
def test_packmol_failure_raises_with_tail_and_cleans_up(
    tmp_path, monkeypatch, script, match
):
    fake = tmp_path / "packmol"
    fake.write_text(f"#!/bin/sh\ncat > /dev/null\n{script}\n")
    fake.chmod(0o755)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(RuntimeError, match=match):
        electrolyte_box(CELL_XY, THICKNESS, packmol=fake)
    assert list(scratch.iterdir()) == []


def test_packmol_leaves_nothing_behind_on_success(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    atoms = electrolyte_box([[12.0, 0.0], [0.0, 12.0]], 12.0, salt_molarity=0.0)
    assert atoms.info["counts"]["EC"] > 0
    assert list(tmp_path.iterdir()) == []


def test_template_volume_sanity():
    # Union-of-spheres volume of a single atom is the sphere volume (grid
    # error ≲ 1 % at 0.05 Å spacing).
    assert molecules.vdw_volume_A3("Li", 1.0) == pytest.approx(
        4 / 3 * math.pi, rel=0.01
    )
