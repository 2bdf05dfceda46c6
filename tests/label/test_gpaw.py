"""GPAW labels (PBE + D3(BJ), k-point rule): physics facts on small cells.

Marked ``gpaw``; skipped when GPAW or dftd3 is not installed (the ``dft``
extra). Settings are reduced for speed (PW 300 eV: Li's 1-electron PAW
setup converges there; LiF at PW 350 eV and a coarse grid only for signs and
identities), so the numbers test the method's consistency, not its
convergence. Cells are unrattled where symmetry keeps GPAW fast.
About 1 min of CPU on one core (the finite-difference test is also
marked slow).
"""

import re

import numpy as np
import pytest
from ase.build import bulk

from constpot.label.kpoints import KPointRule
from constpot.label.labellers import GPAWLabeller

pytest.importorskip("gpaw", reason="needs GPAW: pip install constpot[dft]")
pytest.importorskip("dftd3", reason="needs dftd3: pip install constpot[dft]")

pytestmark = pytest.mark.gpaw

#: bcc Li lattice constant (Å): the 2-atom cell gets a 9³ grid at 0.2 Å⁻¹, its
#: 2 × 2 × 2 supercell 5³ (≡ 10³ of the cubic cell), so the two sample
#: different k-points and the test measures the rule's convergence.
A_LI = 3.51


def test_li_energy_per_atom_same_in_2_and_16_atom_cells():
    """The fact a metal's labels need: with the k-density rule, bcc Li's
    energy per atom does not depend on the cell. Measured 0.8 meV/atom
    (GPAW 26.7, PW 300 eV, FD 0.1 eV); one fixed 4³ grid for both cells
    gives 23 meV/atom, Γ-only GFN1-xTB up to 189 meV/atom."""
    labeller = GPAWLabeller(ecut_eV=300.0, kpt_spacing_inv_A=0.2)
    unit = bulk("Li", "bcc", a=A_LI, cubic=True)
    supercell = unit.repeat((2, 2, 2))
    small, large = labeller.label(unit), labeller.label(supercell)
    assert small.settings["kpts"] == [9, 9, 9]
    assert large.settings["kpts"] == [5, 5, 5]
    # Within 3 meV/atom: the k-point convergence of bcc Li at this spacing
    # and 0.1 eV smearing (≈ 1 meV/atom from 9³ to 14³).
    assert small.energy / 2 == pytest.approx(large.energy / 16, abs=3e-3)
    # D3 is cell-independent too (a pair sum, converged in real space).
    d3_small = small.settings["dispersion_energy_eV"] / 2
    assert d3_small == pytest.approx(
        large.settings["dispersion_energy_eV"] / 16, abs=1e-6
    )
    assert d3_small < 0.0
    # A perfect crystal: forces vanish by symmetry (GPAW SCF noise < 1e-3).
    assert np.abs(large.forces).max() < 1e-3
    # Hirshfeld charges of a one-element metal: zero up to grid noise.
    assert np.abs(large.charges).max() < 1e-2
    assert abs(large.settings["hirshfeld_sum_error_e"]) < 0.1


@pytest.fixture(scope="module")
def lif():
    atoms = bulk("LiF", "rocksalt", a=4.03, cubic=True)
    atoms.rattle(0.03, seed=1)
    return atoms


@pytest.fixture(scope="module")
def lif_labeller():
    # 0.8 Å⁻¹ gives 2³ for the 8-atom cell: an insulator, enough for signs
    # and identities.
    return GPAWLabeller(ecut_eV=350.0, kpt_spacing_inv_A=0.8)


@pytest.fixture(scope="module")
def lif_scf_lines():
    """Progress lines of the LiF label's SCF."""
    return []


@pytest.fixture(scope="module")
def lif_label(lif, lif_labeller, lif_scf_lines):
    lif_labeller.progress = lif_scf_lines.append
    try:
        return lif_labeller.label(lif)
    finally:
        lif_labeller.progress = None


def test_scf_progress_one_line_per_iteration(lif_label, lif_scf_lines):
    """A frame of minutes to hours reports each SCF iteration; the last
    line's free energy is the label's, less D3."""
    found = [
        re.search(r"SCF iteration (\d+): free energy (\S+) eV", line)
        for line in lif_scf_lines
    ]
    assert all(found) and len(found) >= 3
    assert [int(m.group(1)) for m in found] == list(range(1, len(found) + 1))
    d3 = lif_label.settings.get("dispersion_energy_eV", 0.0)
    assert float(found[-1].group(2)) == pytest.approx(lif_label.energy - d3, abs=1e-4)


def test_lif_label_contents_and_settings(lif, lif_label):
    s = lif_label.settings
    assert s["labeller"] == "gpaw"
    assert s["method"] == "PBE+D3(BJ), PW 350 eV"
    assert s["kpts"] == list(KPointRule(0.8).grid(lif)) == [2, 2, 2]
    assert s["vacuum_axes"] == "none" and s["molecular"] is False
    # No region array: counted as metallic, the rule's spacing applied.
    assert s["metallic"] is True and s["kpt_spacing_applied_inv_A"] == 0.8
    assert s["scf_criteria"] == "energy=0.0005 density=0.0001 eigenstates=4e-08"
    assert s["charges_model"] == "Hirshfeld"
    assert s["code"].startswith("gpaw ") and "dftd3" in s["code"]
    assert lif_label.forces.shape == (8, 3)
    assert lif_label.stress.shape == (6,)
    # Translational invariance: periodic forces sum to zero. On the 0.15 Å
    # grid the egg-box error leaves ~1e-4 eV/Å (0.05 eV/Å on GPAW's default
    # grid at this cutoff).
    np.testing.assert_allclose(lif_label.forces.sum(axis=0), 0.0, atol=2e-3)


def test_lif_hirshfeld_charges_are_ionic(lif, lif_label):
    q = lif_label.charges
    li = lif.symbols == "Li"
    assert np.all(q[li] > 0.1) and np.all(q[~li] < -0.1)
    # The grid's offset (≈ 0.005 e/atom, recorded) is spread evenly: Σq is
    # the total charge up to float rounding.
    assert q.sum() == pytest.approx(0.0, abs=1e-12)
    assert abs(lif_label.settings["hirshfeld_sum_error_e"]) < 0.1


@pytest.mark.slow
def test_forces_are_minus_free_energy_gradient(lif, lif_labeller, lif_label):
    """The label's energy is the free energy E − TS + E_D3, the one whose
    gradient the forces are."""
    h = 1e-3  # Å
    i, k = 1, 0
    energies = []
    for sign in (1, -1):
        displaced = lif.copy()
        displaced.positions[i, k] += sign * h
        energies.append(lif_labeller.label(displaced).energy)
    fd = -(energies[0] - energies[1]) / (2 * h)
    # GPAW's default SCF criteria give forces to ~1e-3 eV/Å; truncation
    # h² F'''/6 is far below.
    assert lif_label.forces[i, k] == pytest.approx(fd, abs=5e-3)


def test_looser_eigenstate_criterion_gives_the_same_label():
    """scf_convergence {eigenstates: 1e-6} (config/paper.yaml) stops the
    SCF earlier and changes nothing that is fitted: on a rattled 4-atom Li
    cell energy within 0.1 meV, forces within 1 meV/Å of GPAW's defaults;
    each label records its criteria."""
    atoms = bulk("Li", "bcc", a=A_LI, cubic=True).repeat((2, 1, 1))
    atoms.rattle(0.1, seed=2)
    strict = GPAWLabeller(ecut_eV=300.0, kpt_spacing_inv_A=0.3).label(atoms)
    loose = GPAWLabeller(
        ecut_eV=300.0, kpt_spacing_inv_A=0.3, scf_convergence={"eigenstates": 1e-6}
    ).label(atoms)
    assert loose.energy == pytest.approx(strict.energy, abs=1e-4)
    np.testing.assert_allclose(loose.forces, strict.forces, atol=1e-3)
    assert loose.settings["scf_criteria"].endswith("eigenstates=1e-06")
    assert strict.settings["scf_criteria"].endswith("eigenstates=4e-08")


def test_slab_gets_one_kpoint_along_vacuum():
    """A Li(100) film with vacuum: the rule's grid in-plane, 1 along z, and
    the grid is recorded."""
    from constpot.build.lithium import li_slab

    slab = li_slab((1, 1), 3, "100", A_LI, frozen_layers=0)
    slab.center(vacuum=4.0, axis=2)
    label = GPAWLabeller(ecut_eV=300.0, kpt_spacing_inv_A=0.3).label(slab)
    assert label.settings["kpts"] == [6, 6, 1]
    assert label.settings["vacuum_axes"] == "z"
    # The outer layers relax inwards, symmetrically (mirror plane at the
    # middle layer); 5e-3 eV/Å: GPAW's force noise.
    z = label.forces[np.argsort(slab.positions[:, 2]), 2]
    assert z[0] == pytest.approx(-z[2], abs=5e-3)
    assert abs(z[1]) < 5e-3
