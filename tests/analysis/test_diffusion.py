"""Li diffusivity: in-plane MSD, the diffusive check, a random walk of known D."""

import numpy as np
import pytest
from ase import Atoms

from constpot import keys
from constpot.analysis import (
    LiDiffusion,
    group_indices,
    unwrap_positions,
    windowed_msd,
)


def _trajectory(paths, dt_fs, side=12.0, regions=None):
    """Frames of Li at ``paths`` (n_frames, n_atoms, 3), wrapped."""
    n = paths.shape[1]
    region = (
        np.array(regions)
        if regions is not None
        else np.array(["sei"] * (n // 2) + ["electrolyte"] * (n - n // 2))
    )
    traj = []
    for k, pos in enumerate(paths):
        atoms = Atoms("Li" * n, positions=pos, cell=np.diag([side, side, 60.0]))
        atoms.pbc = True
        atoms.wrap()
        atoms.arrays[keys.REGION] = region
        atoms.info.update(time_fs=k * dt_fs, temperature_K=300.0)
        traj.append(atoms)
    return traj


def _random_walk(rng, d_A2_fs, n_atoms=64, n_frames=1000, dt_fs=10.0, side=12.0):
    """Li in two regions doing independent Gaussian random walks."""
    steps = rng.normal(
        scale=np.sqrt(2 * d_A2_fs * dt_fs), size=(n_frames - 1, 2 * n_atoms, 3)
    )
    start = rng.uniform(0, side, (2 * n_atoms, 3))
    start[:, 2] = rng.uniform(20, 40, 2 * n_atoms)
    paths = np.concatenate([start[None], start[None] + np.cumsum(steps, 0)])
    return _trajectory(paths, dt_fs, side), paths


def test_random_walk_recovers_in_plane_d(rng):
    """D = 1e-4 Å²/fs = 1e-5 cm²/s in both regions, 128 walkers each over
    10 ps: D_xy within 10 % (over seeds 0-5 the estimate scatters by about
    5 %, at worst 9 %), its bootstrap interval holds the true value, and the
    log–log slope is 1 within the 0.15 tolerance."""
    d = 1e-4
    traj, _ = _random_walk(rng, d, n_atoms=128)
    table = LiDiffusion(traj, bootstrap=500, seed=1).run().results["table"]
    table = table.set_index("group")
    for group in ("sei", "electrolyte"):
        row = table.loc[group]
        assert row["status"] == "diffusive"
        assert abs(row["slope"] - 1.0) < 0.15
        # 1 Å²/fs = 1e-16 cm² / 1e-15 s = 0.1 cm²/s
        np.testing.assert_allclose(row["D_xy_cm2_s"], d * 0.1, rtol=0.1)
        assert row["D_xy_lo_cm2_s"] <= d * 0.1 <= row["D_xy_hi_cm2_s"]
        assert row["D_xy_lo_cm2_s"] < row["D_xy_cm2_s"] < row["D_xy_hi_cm2_s"]
        assert row["fit_start_ps"] == pytest.approx(0.05 * 9.99)
        assert row["fit_end_ps"] == pytest.approx(0.5 * 9.99)


def test_ballistic_msd_is_not_diffusive(rng):
    """Free flight at thermal Li speed (σ_v = √(kT/m) ≈ 6.0e-3 Å/fs at
    300 K) for 0.5 ps: MSD ∝ t², slope 2 on log–log axes: no diffusivity,
    however well a straight line would fit."""
    n, dt = 64, 10.0
    v = rng.normal(scale=6.0e-3, size=(n, 3))
    x0 = rng.uniform(0, 12, (n, 3))
    x0[:, 2] = rng.uniform(20, 40, n)
    t = np.arange(51) * dt
    paths = x0[None] + t[:, None, None] * v[None]
    table = LiDiffusion(_trajectory(paths, dt)).run().results["table"]
    assert (table["status"] == "not diffusive").all()
    np.testing.assert_allclose(table["slope"], 2.0, atol=1e-6)  # exact t²
    assert table["D_xy_cm2_s"].isna().all()
    assert "slope 2.00" in table["note"].iloc[0]


def test_caged_rattling_is_not_diffusive(rng):
    """Li vibrating about fixed sites (a solid over a short run): the MSD
    plateaus (slope about 0, far from 1)."""
    n, dt = 32, 10.0
    x0 = rng.uniform(0, 12, (n, 3))
    x0[:, 2] = 30.0
    phase = rng.uniform(0, 2 * np.pi, (n, 3))
    t = np.arange(400) * dt
    paths = x0[None] + 0.2 * np.sin(2 * np.pi * t[:, None, None] / 97.0 + phase)
    table = LiDiffusion(_trajectory(paths, dt)).run().results["table"]
    assert (table["status"] == "not diffusive").all()
    assert (table["slope"].abs() < 0.5).all()  # oscillates about 0


def test_windowed_msd_equals_the_direct_average(rng):
    """FFT algorithm vs the O(n²) average over time origins (round-off)."""
    x = np.cumsum(rng.normal(size=(40, 5, 3)), axis=0)
    fast = windowed_msd(x)
    for k in range(40):
        direct = ((x[k:] - x[: 40 - k]) ** 2).mean(axis=0)
        np.testing.assert_allclose(fast[k], direct, rtol=1e-9, atol=1e-9)


def test_windowed_msd_agrees_with_pymatgen(rng):
    """The all-origins MSD of pymatgen-analysis-diffusion's DiffusionAnalyzer
    (smoothed="max"; Ong et al., Energy Environ. Sci. 6, 148 (2013)) at its
    lags, for a random walk with a static framework site."""
    pytest.importorskip("pymatgen.analysis.diffusion")
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
    from pymatgen.core import Lattice, Structure

    traj, paths = _random_walk(rng, 1e-3, n_atoms=16, n_frames=300)
    disp = np.transpose(paths - paths[:1], (1, 0, 2))  # (atoms, frames, 3)
    n = disp.shape[0]
    structure = Structure(
        Lattice(traj[0].cell.array),
        ["Li"] * n + ["He"],
        np.vstack([paths[0], np.zeros((1, 3))]),
        coords_are_cartesian=True,
    )
    disp = np.concatenate([disp, np.zeros((1, *disp.shape[1:]))])
    da = DiffusionAnalyzer(structure, disp, "Li", 300.0, 10.0, 1, smoothed="max")
    lags = np.rint(np.asarray(da.dt) / 10.0).astype(int)
    ours = windowed_msd(paths)[lags].mean(axis=1)
    np.testing.assert_allclose(ours, np.asarray(da.msd_components), rtol=1e-8)


def test_unwrap_restores_continuous_paths(rng):
    traj, paths = _random_walk(rng, 5e-3, n_atoms=8, n_frames=200)
    np.testing.assert_allclose(unwrap_positions(traj), paths, atol=1e-9)


def test_short_run_is_too_short(rng):
    traj, _ = _random_walk(rng, 1e-3, n_atoms=8, n_frames=20)
    dif = LiDiffusion(traj).run()
    table = dif.results["table"]
    # 19 lags; the window 5-50 % of 190 fs holds lags 10..90 fs: 9 lags
    assert (table["n_lags"] == 9).all()
    table = LiDiffusion(traj[:8]).run().results["table"]
    assert (table["status"] == "too short").all()
    assert "need 5" in table["note"].iloc[0]
    table = LiDiffusion(traj[:2]).run().results["table"]
    assert table["D_xy_cm2_s"].isna().all()
    assert "need >= 3" in table["note"].iloc[0]
    assert not dif.results["msd"].empty


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


def test_bad_input(rng):
    traj, _ = _random_walk(rng, 1e-3, n_atoms=2, n_frames=5)
    with pytest.raises(ValueError, match="fit_window"):
        LiDiffusion(traj, fit_window=(0.5, 0.1))
    with pytest.raises(ValueError, match="slope_tol"):
        LiDiffusion(traj, slope_tol=0.0)
    with pytest.raises(ValueError, match="bootstrap"):
        LiDiffusion(traj, bootstrap=0)
    traj[3].info["time_fs"] = 31.0
    with pytest.raises(ValueError, match="evenly spaced"):
        LiDiffusion(traj).run()
