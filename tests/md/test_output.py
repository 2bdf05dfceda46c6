"""Run files: truncation for resume, checkpoints, settings, run names."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase.io import read

from constpot.md import (
    THERMO_COLUMNS,
    Checkpoint,
    MDSettings,
    MDSetupError,
    ThermoWriter,
    TrajectoryWriter,
    potential_label,
    read_checkpoint,
    read_thermo,
    write_checkpoint,
)
from constpot.md.output import frame_atoms


def _row(step):
    return {
        k: (step if k in ("step", "cg_iterations") else 0.5 * step)
        for k in THERMO_COLUMNS
    }


def test_trajectory_truncation_drops_later_and_partial_frames(cell, tmp_path):
    path = tmp_path / "traj.extxyz"
    q = np.linspace(-1, 1, len(cell))
    with TrajectoryWriter(path) as w:
        for step in range(0, 50, 10):
            w.write(frame_atoms(cell, q, cell.arrays["electrode"], {"step": step}))
    text = path.read_text()
    path.write_text(text + text.splitlines(keepends=True)[0] + "garbage\nLi 0 0")
    assert TrajectoryWriter.truncate_after(path, 25) == 3
    frames = read(path, index=":")
    assert [f.info["step"] for f in frames] == [0, 10, 20]
    back = frames[-1]
    np.testing.assert_allclose(back.get_charges(), q, atol=1e-8)  # 8 decimals
    assert back.info["system"] == "test" and back.arrays["region"][0] == "anode"
    assert back.arrays["frozen"].dtype == bool


def test_thermo_truncation_and_append(tmp_path):
    path = tmp_path / "thermo.csv"
    with ThermoWriter(path) as w:
        for step in range(6):
            w.write(_row(step))
    with open(path, "a") as fh:
        fh.write("6,3.0,1")  # a row cut off by a kill
    assert ThermoWriter.truncate_after(path, 3) == 4
    with ThermoWriter(path, append=True) as w:
        w.write(_row(4))
    data = read_thermo(path)
    assert data["step"].tolist() == [0, 1, 2, 3, 4]
    assert data["time_fs"][-1] == 2.0
    assert b"\r" not in path.read_bytes()  # one line ending: \n


def test_checkpoint_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    rng.standard_normal(7)
    ckpt = Checkpoint(
        step=42,
        positions=rng.random((3, 3)),
        momenta=rng.random((3, 3)),
        forces=rng.random((3, 3)),
        guess=rng.random(3),
        electrode=np.array([1, 0, 2]),
        initial_electrode=np.array([1, 0, 0]),
        rng_state=rng.bit_generator.state,
        numbers=np.array([3, 9, 3]),
        results={"energy": -1.5},
        wall_time_s=12.0,
        settings={"mode": "constq"},
    )
    write_checkpoint(tmp_path / "c.npz", ckpt)
    back = read_checkpoint(tmp_path / "c.npz")
    assert back.step == 42 and back.results == {"energy": -1.5}
    np.testing.assert_array_equal(back.momenta, ckpt.momenta)
    restored = np.random.default_rng()
    restored.bit_generator.state = back.rng_state
    np.testing.assert_array_equal(restored.random(4), rng.random(4))
    assert list(tmp_path.iterdir()) == [tmp_path / "c.npz"]  # no temp files left
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        read_checkpoint(tmp_path / "missing.npz")


def test_settings_validation_and_config():
    with pytest.raises(MDSetupError, match="timestep_fs must be a number > 0"):
        MDSettings(mode="constq", timestep_fs=0.0)
    with pytest.raises(MDSetupError, match="anode_potential_V"):
        MDSettings(mode="constp")
    with pytest.raises(MDSetupError, match="mode must be one of"):
        MDSettings(mode="constv")
    with pytest.raises(MDSetupError, match="qeq_every must be int >= 1"):
        MDSettings(mode="constq", qeq_every=0)
    s = MDSettings.from_config(
        {
            "n_steps": 5,
            "anode_potentials_V": [0, -3],
            "guards": {"min_distance_A": 0.7},
        },
        mode="constp",
        anode_potential_V=-3.0,
        seed=None,
    )
    assert s.n_steps == 5 and s.min_distance_A == 0.7 and s.seed == 0
    assert s.potentials == (-3.0, 2.0)
    assert all(math.isnan(v) for v in MDSettings(mode="constq").potentials)


def test_potential_label():
    assert potential_label("constp", -6) == "-6.0V"
    assert potential_label("constp", 0.0) == "0.0V"
    assert potential_label("constp", -0.0) == "0.0V"
    assert potential_label("constp", -2.25) == "-2.25V"
    assert potential_label("constq", None) == "none"


def test_public_api_imports():
    import constpot.md as md

    for name in md.__all__:
        assert hasattr(md, name), name
