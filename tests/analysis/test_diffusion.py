"""Li diffusivity through DiffusionAnalyzer: random walk with a set D."""

import numpy as np
import pytest
from ase import Atoms

from constpot import keys
from constpot.analysis import LiDiffusion, group_indices, unwrap_positions


def _random_walk(rng, d_A2_fs, n_atoms=64, n_frames=1000, dt_fs=10.0, side=12.0):
    """Li in two regions doing independent Gaussian random walks, wrapped."""
    steps = rng.normal(
        scale=np.sqrt(2 * d_A2_fs * dt_fs), size=(n_frames - 1, 2 * n_atoms, 3)
    )
    start = rng.uniform(0, side, (2 * n_atoms, 3))
    start[:, 2] = rng.uniform(20, 40, 2 * n_atoms)
    paths = np.concatenate([start[None], start[None] + np.cumsum(steps, 0)])
    cell = np.diag([side, side, 60.0])
    region = np.array(["sei"] * n_atoms + ["electrolyte"] * n_atoms)
    traj = []
    for k, pos in enumerate(paths):
        atoms = Atoms("Li" * (2 * n_atoms), positions=pos, cell=cell, pbc=True)
        atoms.wrap()
        atoms.arrays[keys.REGION] = region
        atoms.info.update(time_fs=k * dt_fs, temperature_K=300.0)
        traj.append(atoms)
    return traj, paths


def test_random_walk_recovers_d_within_10_percent(rng):
    """D = 1e-4 Å²/fs = 1e-5 cm²/s in both regions. 10%: the spread of the
    "max"-smoothed estimate for 128 walkers over 10 ps is about 5% (seeds
    0-5); the test uses the fixed seed of the ``rng`` fixture."""
    d = 1e-4
    traj, _ = _random_walk(rng, d, n_atoms=128)
    table = LiDiffusion(traj).run().results["table"].set_index("group")
    for group in ("sei", "electrolyte"):
        assert table.loc[group, "smoothed"] == "max"
        # 1 Å²/fs = 1e-16 cm² / 1e-15 s = 0.1 cm²/s
        np.testing.assert_allclose(table.loc[group, "D_cm2_s"], d * 0.1, rtol=0.1)
        assert table.loc[group, "D_std_cm2_s"] >= 0


def test_unwrap_restores_continuous_paths(rng):
    traj, paths = _random_walk(rng, 5e-3, n_atoms=8, n_frames=200)
    np.testing.assert_allclose(unwrap_positions(traj), paths, atol=1e-9)


def test_short_run_falls_back_to_unsmoothed_and_too_short_is_nan(rng):
    traj, _ = _random_walk(rng, 1e-3, n_atoms=8, n_frames=20)
    dif = LiDiffusion(traj).run()
    table = dif.results["table"]
    assert set(table["smoothed"]) == {"False"}
    assert np.isfinite(table["D_cm2_s"]).all()
    assert not dif.results["msd"].empty
    table = LiDiffusion(traj[:2]).run().results["table"]
    assert table["D_cm2_s"].isna().all()
    assert "need >= 3" in table["note"].iloc[0]


def test_sei_components_by_nearest_anion():
    atoms = Atoms(
        "LiFLiO",
        positions=[(1, 1, 20), (2.5, 1, 20), (6, 6, 20), (7.5, 6, 20)],
        cell=[12, 12, 60],
        pbc=True,
    )
    atoms.arrays[keys.REGION] = np.array(["sei"] * 4)
    groups = group_indices(atoms)
    assert groups["sei"].tolist() == [0, 2]
    assert groups["sei:LiF"].tolist() == [0]
    assert groups["sei:Li2O"].tolist() == [2]


def test_uneven_time_is_an_error(rng):
    traj, _ = _random_walk(rng, 1e-3, n_atoms=2, n_frames=5)
    traj[3].info["time_fs"] = 31.0
    with pytest.raises(ValueError, match="evenly spaced"):
        LiDiffusion(traj).run()
