"""Guards stop a run with a message naming step and atoms, state written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase import units
from ase.io import read

from constpot.md import MDGuardError, MDSettings, read_checkpoint, run
from constpot.md.guards import GuardLimits, check_forces, check_geometry

QUIET = {"progress": False, "log": lambda line: None}


def _overlapping(cell):
    """The cell with the first F⁻ moved 0.4 Å from the first Li⁺."""
    li, f = 16, 17  # ions follow the 16 anode atoms
    cell.positions[f] = cell.positions[li] + [0.4, 0.0, 0.0]
    return cell, li, f


def test_guard_stops_run_from_overlapping_atoms(cell, hybrid, tmp_path):
    cell, li, f = _overlapping(cell)
    settings = MDSettings(mode="constp", anode_potential_V=-1.0, n_steps=10)
    with pytest.raises(MDGuardError, match=r"step 0: atoms 16 \(Li\), 17 \(F\)") as e:
        run(cell, hybrid("dense"), settings, tmp_path, **QUIET)
    assert e.value.step == 0 and e.value.reason == "overlap"
    assert e.value.atoms == [li, f]
    assert "0.400 Å" in str(e.value)
    ckpt = read_checkpoint(tmp_path / "checkpoint.npz")
    assert ckpt.step == 0
    np.testing.assert_allclose(ckpt.positions, cell.positions, atol=0)
    assert "guard" in (tmp_path / "md.log").read_text()


def test_guard_mid_run_keeps_last_good_frame_and_checkpoint(cell, hybrid, tmp_path):
    """NVE from a strained start heats up; a 1.2x temperature limit trips."""
    settings = MDSettings(
        mode="constp",
        anode_potential_V=-1.0,
        counter_potential_V=1.0,
        ensemble="nve",
        timestep_fs=1.0,
        n_steps=400,
        electrodes="static",
        traj_every=1000,
        checkpoint_every=1000,
        max_temperature_factor=1.2,
        seed=3,
    )
    with pytest.raises(
        MDGuardError, match=r"temperature \d+ K above the limit 360 K"
    ) as e:
        run(cell, hybrid("dense"), settings, tmp_path, **QUIET)
    step = e.value.step
    assert 0 < step < 400 and e.value.reason == "temperature"
    assert f"step {step}:" in str(e.value) and "hottest atoms" in str(e.value)
    assert read_checkpoint(tmp_path / "checkpoint.npz").step == step - 1
    frames = read(tmp_path / "traj.extxyz", index=":")
    assert [f.info["step"] for f in frames] == [0, step - 1]
    # the summary records what ran and why it stopped
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "stopped" and summary["stop_reason"] == "temperature"
    assert summary["stop_step"] == step and summary["steps"] == step - 1


def test_check_forces_names_atoms_and_nan(cell):
    forces = np.zeros((len(cell), 3))
    forces[5] = [0.0, 0.0, 80.0]
    with pytest.raises(MDGuardError, match=r"step 7: force 80.0 eV/Å .* 5 \(Li\)"):
        check_forces(cell, 7, 0.0, forces, 50.0)
    forces[5] = np.nan
    with pytest.raises(MDGuardError, match="non-finite"):
        check_forces(cell, 7, 0.0, forces, 50.0)
    check_geometry(cell, 0, 0.5)  # the test cell itself is fine


def test_guard_limits_are_validated():
    with pytest.raises(ValueError, match="min_distance_A"):
        GuardLimits(min_distance_A=-1.0)


def test_overlap_that_breaks_the_evaluation_is_reported_by_the_guard(cell, tmp_path):
    """Li⁺ and F⁻ fired at each other: at step 1 they are closer than the charge
    solver accepts (0.3 Å), the evaluation fails, and the run stops as the
    overlap guard stops it, naming the pair, with the state of step 0 kept."""
    from constpot.potential import HybridCalculator

    li, f = 16, 17
    cell.positions[f] = cell.positions[li] + [1.0, 0.0, 0.0]
    masses = cell.get_masses()
    velocities = np.zeros((len(cell), 3))
    velocities[li, 0] = 0.45 * units.fs**-1  # Å/fs in ASE units
    velocities[f, 0] = -0.45 * units.fs**-1
    cell.set_momenta(velocities * masses[:, None])
    settings = MDSettings(
        mode="constq",
        ensemble="nve",
        n_steps=5,
        initial_velocities=False,
        electrodes="static",
        walls="none",
        max_force_eV_A=1e6,
        max_temperature_factor=1e9,
    )
    calc = HybridCalculator(None, method="dense")  # no repulsion: QEq only
    with pytest.raises(MDGuardError, match=r"step 1: atoms 16 \(Li\), 17 \(F\)") as e:
        run(cell, calc, settings, tmp_path, **QUIET)
    assert e.value.reason == "overlap" and e.value.atoms == [li, f]
    assert read_checkpoint(tmp_path / "checkpoint.npz").step == 0
