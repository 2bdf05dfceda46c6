"""QEq with molecules held at their formal charge (QEqSettings.molecule_charges).

The cell is a Li(100) slab with an EC molecule, a PF6⁻ anion and a Li⁺ above
it: plain QEq (one total-charge constraint) pulls charge from the metal onto
the EC, the long-range charge-transfer artefact; the molecule groups hold EC
at 0 and PF6 at −1 while the metal and Li⁺ stay free.
"""

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bcc100
from ase.calculators.lj import LennardJones
from ase.calculators.singlepoint import SinglePointCalculator

from constpot.build.molecules import load_molecule
from constpot.keys import ANODE, ELECTRODE, MOL_ID, MOLECULE
from constpot.potential import HybridCalculator, QEqSettings, qeq_targets
from constpot.potential.fit import _Frame

pytestmark = pytest.mark.filterwarnings("ignore:slab geometry")

CHARGES = {"EC": 0, "PF6": -1}


def _cell(vacuum_A: float = 0.0) -> Atoms:
    slab = bcc100("Li", size=(3, 3, 3), a=3.33)
    lx, ly = slab.cell[0, 0], slab.cell[1, 1]
    slab.positions[:, 2] += 1.0
    top = slab.positions[:, 2].max()
    atoms = Atoms(cell=[lx, ly, top + 14.0 + vacuum_A], pbc=True)
    atoms += slab
    names, ids = ["-"] * len(slab), [-1] * len(slab)
    for k, (name, z) in enumerate((("EC", 3.6), ("PF6", 8.5), ("Li", 11.5))):
        mol = load_molecule(name)
        mol.positions += [lx / 2, ly / 2, top + z] - mol.positions.mean(axis=0)
        atoms += mol
        names += [name] * len(mol)
        ids += [k] * len(mol)
    atoms.arrays[MOLECULE] = np.array(names)
    atoms.arrays[MOL_ID] = np.array(ids)
    return atoms


def _sums(atoms, q):
    names, ids = atoms.arrays[MOLECULE], atoms.arrays[MOL_ID]
    return {n: float(q[(names == n) & (ids >= 0)].sum()) for n in ("EC", "PF6", "Li")}


def test_groups_one_per_molecule_of_a_named_kind():
    atoms = _cell()
    groups = QEqSettings(molecule_charges=CHARGES).groups(atoms)
    assert [total for _, total in groups] == [0.0, -1.0]
    ec, pf6 = (set(idx.tolist()) for idx, _ in groups)
    names = atoms.arrays[MOLECULE]
    assert ec == set(np.flatnonzero(names == "EC").tolist())
    assert pf6 == set(np.flatnonzero(names == "PF6").tolist())
    assert QEqSettings().groups(atoms) is None


def test_plain_qeq_charges_the_ec_and_the_groups_hold_it():
    atoms = _cell()
    plain = QEqSettings().solver(slab=False, method="dense")
    q_free = plain.solve(atoms, total_charge=0.0).charges
    held = QEqSettings(molecule_charges=CHARGES)
    q_held = (
        held.solver(slab=False, method="dense")
        .solve(atoms, total_charge=0.0, groups=held.groups(atoms))
        .charges
    )
    # the artefact: a neutral EC takes charge from the metal 3 Å below
    assert abs(_sums(atoms, q_free)["EC"]) > 0.05
    sums = _sums(atoms, q_held)
    assert sums["EC"] == pytest.approx(0.0, abs=1e-9)
    assert sums["PF6"] == pytest.approx(-1.0, abs=1e-9)
    assert q_held.sum() == pytest.approx(0.0, abs=1e-9)
    # the Li⁺ stays free: it is not held at +1
    assert abs(sums["Li"] - 1.0) > 1e-3


def test_fit_kkt_solve_equals_the_charge_solver_with_groups():
    atoms = _cell()
    atoms.arrays["ref_charges"] = np.zeros(len(atoms))
    held = QEqSettings(molecule_charges=CHARGES, accuracy=1e-10)
    elements = list(held.params.elements)
    frame = _Frame(atoms, 0, held, elements)
    chi = np.array([held.params[e][0] for e in elements])
    j = np.array([held.params[e][1] for e in elements])
    q_fit = frame.solve(torch.as_tensor(chi), torch.as_tensor(j)).numpy()
    q_ref = (
        held.solver(slab=False, method="dense")
        .solve(atoms, total_charge=0.0, groups=held.groups(atoms))
        .charges
    )
    np.testing.assert_allclose(q_fit, q_ref, atol=1e-6)


def test_targets_use_the_groups_and_keep_the_bookkeeping():
    atoms = _cell()
    lj = atoms.copy()
    lj.calc = LennardJones(sigma=2.0, epsilon=0.01, rc=6.0)
    atoms.calc = SinglePointCalculator(
        atoms,
        energy=lj.get_potential_energy(),
        forces=lj.get_forces(),
        charges=np.zeros(len(atoms)),
    )
    held = QEqSettings(molecule_charges=CHARGES)
    (target,) = qeq_targets([atoms], held)
    sums = _sums(target, target.arrays["qeq_charges"])
    assert sums["EC"] == pytest.approx(0.0, abs=1e-9)
    assert sums["PF6"] == pytest.approx(-1.0, abs=1e-9)
    e = target.get_potential_energy() + target.info["qeq_energy"]
    assert e == pytest.approx(target.info["ref_energy"], abs=1e-10)
    (plain,) = qeq_targets([atoms], QEqSettings())
    # the charge-transfer energy the groups remove is not small
    assert plain.info["qeq_energy"] < target.info["qeq_energy"] - 0.05


def test_constant_potential_forces_are_minus_gradient_with_groups():
    atoms = _cell(vacuum_A=12.0)
    labels = np.zeros(len(atoms), int)
    labels[atoms.arrays[MOLECULE] == "-"] = ANODE
    atoms.arrays[ELECTRODE] = labels
    calc = HybridCalculator(
        None,  # QEq alone: the groups only enter there
        qeq=QEqSettings(molecule_charges=CHARGES, accuracy=1e-8),
        method="dense",
        anode_potential_V=-1.0,
    )
    atoms.calc = calc
    forces = atoms.get_forces()
    sums = _sums(atoms, calc.results["charges"])
    assert sums["EC"] == pytest.approx(0.0, abs=1e-8)
    assert sums["PF6"] == pytest.approx(-1.0, abs=1e-8)
    h = 1e-4
    for index in (int(np.flatnonzero(atoms.arrays[MOLECULE] == "EC")[0]), 3):
        for axis in range(3):
            values = []
            for sign in (1, -1):
                moved = atoms.copy()
                moved.positions[index, axis] += sign * h
                moved.calc = calc
                values.append(moved.get_potential_energy(force_consistent=True))
            fd = -(values[0] - values[1]) / (2 * h)
            assert forces[index, axis] == pytest.approx(fd, abs=1e-5)


def test_settings_round_trip_and_mismatch(tmp_path):
    held = QEqSettings(molecule_charges={"PF6": -1, "EC": 0.0})
    held.write(tmp_path / "q.json")
    again = QEqSettings.read(tmp_path / "q.json")
    assert again.molecule_charges == {"EC": 0.0, "PF6": -1.0}
    assert again.differences(held) == []
    diff = held.differences(QEqSettings())
    assert len(diff) == 1 and diff[0].startswith("molecule_charges")


def test_missing_arrays_and_mixed_molecules_are_named():
    atoms = _cell()
    held = QEqSettings(molecule_charges=CHARGES)
    bare = Atoms(atoms.symbols, atoms.positions, cell=atoms.cell, pbc=True)
    with pytest.raises(ValueError, match="'molecule', 'mol_id'"):
        held.groups(bare)
    mixed = atoms.copy()
    names = mixed.arrays[MOLECULE].copy()
    first = int(np.flatnonzero(names == "EC")[0])
    names[first] = "DMC"
    mixed.arrays[MOLECULE] = names
    with pytest.raises(ValueError, match=f"atom index {first}"):
        held.groups(mixed)
    with pytest.raises(ValueError, match="molecule_charges\\['EC'\\]"):
        QEqSettings(molecule_charges={"EC": "neutral"})


@pytest.mark.cuda
def test_cuda_groups_match_cpu():
    """CG with molecule constraints on the GPU gives the CPU's charges and forces."""
    results = {}
    for device in ("cpu", "cuda"):
        atoms = _cell(vacuum_A=12.0)
        labels = np.zeros(len(atoms), int)
        labels[atoms.arrays[MOLECULE] == "-"] = ANODE
        atoms.arrays[ELECTRODE] = labels
        atoms.calc = HybridCalculator(
            None,
            qeq=QEqSettings(molecule_charges=CHARGES),
            anode_potential_V=-3.0,
            method="cg",
            tol=1e-10,
            device=device,
        )
        results[device] = (atoms.get_forces(), atoms.get_charges())
        assert _sums(atoms, results[device][1])["EC"] == pytest.approx(0, abs=1e-8)
    np.testing.assert_allclose(results["cuda"][0], results["cpu"][0], atol=1e-7)
    np.testing.assert_allclose(results["cuda"][1], results["cpu"][1], atol=1e-8)
