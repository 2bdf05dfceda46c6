"""Short-range targets: exact bookkeeping, QEq forces, file round trip, errors."""

import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator

from constpot.potential import QEqSettings
from constpot.potential.targets import (
    QEQ_CHARGES,
    QEQ_ENERGY,
    QEQ_FORCES,
    REF_CHARGES,
    REF_ENERGY,
    REF_FORCES,
    REF_STRESS,
    qeq_targets,
    read_targets,
    write_targets,
)

from .synthetic import labelled_frames


@pytest.fixture(scope="module")
def frames():
    return labelled_frames(n_per_category=1)


@pytest.fixture(scope="module")
def targets(frames):
    return qeq_targets(frames, QEqSettings())


def test_short_plus_qeq_is_reference(frames, targets):
    """E_short + E_QEq = E_ref and F_short + F_QEq = F_ref to round-off.

    The subtraction is one float operation, so adding back is exact up to one
    ulp of the larger term (rtol 1e-15, atol 1e-12 eV or eV/Å).
    """
    for frame, t in zip(frames, targets, strict=True):
        e = t.get_potential_energy() + t.info[QEQ_ENERGY]
        assert e == pytest.approx(frame.get_potential_energy(), rel=1e-15, abs=1e-12)
        assert t.info[REF_ENERGY] == frame.get_potential_energy()
        f = t.get_forces() + t.arrays[QEQ_FORCES]
        np.testing.assert_allclose(f, frame.get_forces(), rtol=1e-15, atol=1e-12)
        np.testing.assert_array_equal(t.arrays[REF_FORCES], frame.get_forces())
        np.testing.assert_array_equal(t.arrays[REF_CHARGES], frame.get_charges())
        np.testing.assert_allclose(t.info[REF_STRESS], frame.get_stress())
        # Charges solved at the frame's total charge (0).
        assert t.arrays[QEQ_CHARGES].sum() == pytest.approx(0.0, abs=1e-10)
        # nequip reads energy and forces only: no stress, no charges as labels.
        assert set(t.calc.results) == {"energy", "forces"}
        assert "charges" not in t.arrays


def test_qeq_parts_match_a_fresh_solve(frames, targets):
    """The stored QEq energy, forces and charges are the dense solver's."""
    solver = QEqSettings().solver(slab=False, method="dense")
    for frame, t in zip(frames, targets, strict=True):
        res = solver.solve(frame, total_charge=0.0)
        assert t.info[QEQ_ENERGY] == pytest.approx(res.energy, rel=1e-12)
        np.testing.assert_allclose(t.arrays[QEQ_FORCES], res.forces, atol=1e-12)
        np.testing.assert_allclose(t.arrays[QEQ_CHARGES], res.charges, atol=1e-12)


def test_qeq_forces_are_minus_finite_difference(frames, targets):
    """F_QEq = −dE_QEq/dR with charges re-equilibrated at each displacement.

    Central differences with h = 1e-4 Å: truncation error ~h²·E''' ≲ 1e-7
    eV/Å, Ewald error (accuracy 1e-6) enters both sides alike; atol 2e-5 eV/Å.
    """
    frame, t = frames[2], targets[2]  # Li, F, O and H
    solver = QEqSettings().solver(slab=False, method="dense")
    h = 1e-4
    for atom, axis in [(0, 0), (4, 2), (len(frame) - 1, 1)]:
        energies = []
        for sign in (1, -1):
            moved = frame.copy()
            moved.positions[atom, axis] += sign * h
            energies.append(solver.solve(moved, total_charge=0.0).energy)
        fd = -(energies[0] - energies[1]) / (2 * h)
        assert t.arrays[QEQ_FORCES][atom, axis] == pytest.approx(fd, abs=2e-5)


def test_write_read_round_trip(tmp_path, frames, targets):
    """extxyz keeps the parts to its 8 decimals; settings JSON beside it."""
    path, spath = write_targets(targets, tmp_path / "t.extxyz", QEqSettings())
    assert spath == tmp_path / "qeq.json"
    QEqSettings.read(spath).check_compatible(QEqSettings())
    back = read_targets(path)
    for frame, t in zip(frames, back, strict=True):
        assert t.get_potential_energy() + t.info[QEQ_ENERGY] == pytest.approx(
            frame.get_potential_energy(), abs=1e-10
        )
        f = t.get_forces() + t.arrays[QEQ_FORCES]
        np.testing.assert_allclose(f, frame.get_forces(), atol=2e-8)
        assert t.info["category"] == frame.info["category"]


def test_total_charge_is_respected():
    """A +1 frame gets charges summing to +1 (periodic cell, background)."""
    frame = labelled_frames(n_per_category=1)[0]
    frame.info["total_charge"] = 1
    (t,) = qeq_targets([frame], QEqSettings())
    assert t.arrays[QEQ_CHARGES].sum() == pytest.approx(1.0, abs=1e-10)


def test_errors_name_the_frame(frames):
    bad = frames[1].copy()
    bad.calc = SinglePointCalculator(bad, energy=1.0)  # no forces
    with pytest.raises(ValueError, match="frame 1: no reference energy"):
        qeq_targets([frames[0], bad], QEqSettings())
    slab = frames[0].copy()
    slab.calc = frames[0].calc
    slab.pbc = [True, True, False]
    with pytest.raises(ValueError, match="frame 0: targets need 3D-periodic"):
        qeq_targets([slab], QEqSettings())
    other = frames[0].copy()
    other.calc = frames[0].calc
    other.symbols[0] = "Na"
    with pytest.raises(ValueError, match=r"frame 0: QEq failed.*Na"):
        qeq_targets([other], QEqSettings())


def test_read_targets_checks_keys(tmp_path, frames):
    from ase.io import write

    write(tmp_path / "plain.extxyz", frames)
    with pytest.raises(ValueError, match=r"frame 0 has no info\['ref_energy'\]"):
        read_targets(tmp_path / "plain.extxyz")
    with pytest.raises(FileNotFoundError, match="targets file not found"):
        read_targets(tmp_path / "missing.extxyz")
