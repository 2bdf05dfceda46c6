"""Constant-potential MD (issue 6 acceptance): physics of the driver.

Facts checked, on a 40-atom Li | Li⁺F⁻Li⁺F⁻ | Li slab cell with a
Lennard-Jones stand-in for the short range and exact (dense) QEq:

- NVE with a static electrode set conserves K + E_short + Ω + U_walls;
- a run killed after its checkpoint and resumed ends where a straight run
  ends, to 1e-10 Å (Langevin, CPU float64, CG warm starts restored; the
  byte-for-byte comparisons of the files are in test_resume.py);
- the anode charge falls strictly as its potential is lowered, frame by frame
  from the same start, and lies below the constant-charge value at negative
  potential; in constq every frame carries the set total charge;
- charges solved every n steps are reused (and only then) in between.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import read

from constpot.md import MDSettings, read_thermo, run
from constpot.md.checkpoint import read_checkpoint

from .conftest import NVE_STATIC

QUIET = {"progress": False, "log": lambda line: None}


def test_nve_conserves_grand_energy(cell, hybrid, tmp_path):
    """500 steps of 0.5 fs: |H(t) − H(0)| < 1e-4 eV/atom (measured ≈ 7e-6).

    H = K + E_short + Ω + U_walls with static electrodes (ψ = −1 V anode,
    +1 V counter). The walls act on all four ions (walls="electrolyte") and
    the start is far from equilibrium (the slabs heat to ~600 K), so large
    forces, charge transfer and the walls are all exercised.
    """
    settings = MDSettings(
        **NVE_STATIC, n_steps=500, traj_every=100, checkpoint_every=500
    )
    run(cell, hybrid("dense"), settings, tmp_path, **QUIET)
    thermo = read_thermo(tmp_path / "thermo.csv")
    assert len(thermo["step"]) == 501
    h = thermo["conserved_eV"]
    drift = np.abs(h - h[0]).max() / len(cell)
    # 1e-4 eV/atom is the acceptance bound of issue 6.
    assert drift < 1e-4, f"energy drift {drift:.2e} eV/atom"
    # The dynamics did something: charges moved and kinetic energy changed.
    assert np.ptp(thermo["anode_charge_e"]) > 1e-3
    assert np.ptp(thermo["kinetic_energy_eV"]) > 0.1
    # Each frame records the walls' share of its potential energy (validation
    # compares the rest with a reference that has no walls).
    from ase.io import read

    from constpot.md.walls import HarmonicWalls, wall_indices

    frames = read(tmp_path / "traj.extxyz", ":")
    info = frames[0].info
    walls = HarmonicWalls(
        wall_indices(frames[0], "electrolyte"),
        info["wall_lower_A"],
        info["wall_upper_A"],
        settings.wall_spring_eV_A2,
    )
    recorded = [f.info["wall_energy_eV"] for f in frames]
    assert recorded == pytest.approx([walls.energy(f.positions) for f in frames])
    assert max(recorded) > 0


def test_resume_is_bit_identical(cell, hybrid, tmp_path):
    """200 straight steps == 100 steps, a kill at 130, resume to 200 (1e-10 Å)."""
    common = dict(
        mode="constp",
        anode_potential_V=-2.0,
        counter_potential_V=1.0,
        ensemble="nvt",
        n_steps=200,
        electrodes="metallic",
        electrode_every=7,
        traj_every=10,
        checkpoint_every=50,
        seed=11,
    )
    straight = tmp_path / "straight"
    run(cell, hybrid("cg", tol=1e-8), MDSettings(**common), straight, **QUIET)

    class Kill(Exception):
        pass

    def kill_at_130(md, step):
        if step == 130:
            raise Kill

    resumed = tmp_path / "resumed"
    with pytest.raises(Kill):
        run(
            cell,
            hybrid("cg", tol=1e-8),
            MDSettings(**common),
            resumed,
            callback=kill_at_130,
            **QUIET,
        )
    assert read_checkpoint(resumed / "checkpoint.npz").step == 100
    # the killed session wrote past its checkpoint and published nothing
    assert read(resumed / "work" / "traj.extxyz", index=-1).info["step"] == 130
    assert not (resumed / "traj.extxyz").exists()
    assert not (resumed / "summary.json").exists()
    # A fresh calculator: nothing carried over in memory.
    summary = run(
        cell,
        hybrid("cg", tol=1e-8),
        MDSettings(**common),
        resumed,
        resume="auto",
        **QUIET,
    )
    assert summary["status"] == "completed" and summary["steps"] == 200
    assert "resumed from step 100" in (resumed / "md.log").read_text()

    a = read(straight / "traj.extxyz", index=":")
    b = read(resumed / "traj.extxyz", index=":")
    assert [f.info["step"] for f in b] == list(range(0, 201, 10))
    assert [f.info["step"] for f in a] == [f.info["step"] for f in b]
    # Frames hold positions to 1e-8 Å: the same text in both files.
    np.testing.assert_array_equal(b[-1].positions, a[-1].positions)
    np.testing.assert_array_equal(b[-1].get_charges(), a[-1].get_charges())
    ta = read_thermo(straight / "thermo.csv")
    tb = read_thermo(resumed / "thermo.csv")
    np.testing.assert_array_equal(tb["step"], np.arange(201))
    np.testing.assert_allclose(
        tb["conserved_eV"], ta["conserved_eV"], rtol=0, atol=1e-9
    )
    ca = read_checkpoint(straight / "checkpoint.npz")
    cb = read_checkpoint(resumed / "checkpoint.npz")
    assert ca.step == cb.step == 200
    # Full precision: CPU float64, the same operations in the same order.
    np.testing.assert_allclose(cb.positions, ca.positions, rtol=0, atol=1e-10)
    np.testing.assert_allclose(cb.momenta, ca.momenta, rtol=0, atol=1e-10)
    np.testing.assert_allclose(cb.guess, ca.guess, rtol=0, atol=1e-10)


def _anode_charges(cell, hybrid, tmp_path, **kw):
    settings = MDSettings(
        ensemble="nvt", n_steps=20, traj_every=5, electrodes="static", seed=5, **kw
    )
    sums = []

    def total(md, step):
        sums.append(md.calc.results["charges"].sum())

    run(cell, hybrid("dense"), settings, tmp_path, callback=total, **QUIET)
    # Every step, unrounded: Σq = Q is a constraint of the solve.
    np.testing.assert_allclose(sums, settings.total_charge_e, rtol=0, atol=1e-10)
    frames = read(tmp_path / "traj.extxyz", index=":")
    anode = np.array([f.info["anode_charge_e"] for f in frames])
    totals = np.array([f.get_charges().sum() for f in frames])
    labels = frames[0].arrays["electrode"]
    recomputed = np.array([f.get_charges()[labels == 1].sum() for f in frames])
    # extxyz stores charges to 1e-8 e; the info total is the unrounded sum.
    np.testing.assert_allclose(recomputed, anode, rtol=0, atol=1e-6)
    return anode, totals


def test_anode_charge_falls_with_potential_and_constq_holds_total(
    cell, hybrid, tmp_path
):
    """q_anode(0 V) > q_anode(−1 V) > q_anode(−2 V) in every one of the first
    five frames, all below constq at −1 and −2 V; constq frames sum to Q = 0."""
    charges = {}
    for psi in (0.0, -1.0, -2.0):
        charges[psi], totals = _anode_charges(
            cell,
            hybrid,
            tmp_path / f"p{psi}",
            mode="constp",
            anode_potential_V=psi,
            counter_potential_V=1.0,
        )
        np.testing.assert_allclose(totals, 0.0, rtol=0, atol=1e-6)
    q0, q1, q2 = charges[0.0], charges[-1.0], charges[-2.0]
    assert np.all(q0 > q1) and np.all(q1 > q2), (q0, q1, q2)
    constq, totals = _anode_charges(cell, hybrid, tmp_path / "q", mode="constq")
    # In the file, to its rounding (1e-8 e per atom, 40 atoms).
    np.testing.assert_allclose(totals, 0.0, rtol=0, atol=1e-6)
    assert np.all(q1 < constq) and np.all(q2 < constq), (q1, q2, constq)


def test_qeq_every_n_reuses_charges_between_solves(cell, hybrid, tmp_path):
    """qeq_every=3: CG runs at steps 0, 3, 6, ...; charges frozen in between."""
    settings = MDSettings(
        mode="constp",
        anode_potential_V=-1.0,
        counter_potential_V=1.0,
        n_steps=9,
        qeq_every=3,
        traj_every=1,
        electrodes="static",
    )
    run(cell, hybrid("cg"), settings, tmp_path, **QUIET)
    frames = read(tmp_path / "traj.extxyz", index=":")
    solved = [bool(f.info["qeq_solved"]) for f in frames]
    assert solved == [s % 3 == 0 for s in range(10)]
    for k, frame in enumerate(frames):
        if not solved[k]:
            np.testing.assert_array_equal(
                frame.get_charges(), frames[k - 1].get_charges()
            )
        else:
            assert frame.info["cg_iterations"] > 0
    thermo = read_thermo(tmp_path / "thermo.csv")
    assert np.all(thermo["cg_iterations"][1:][np.array(solved[1:]) == 0] == 0)


@pytest.mark.cuda
def test_cuda_run_follows_cpu_run(cell, hybrid, tmp_path):
    """50 NVE steps with the charge solver on the GPU end where the CPU run ends
    (float64 both; CG to 1e-12, so only round-off separates them)."""
    final = {}
    for device in ("cpu", "cuda"):
        settings = MDSettings(
            mode="constp",
            anode_potential_V=-1.0,
            counter_potential_V=1.0,
            ensemble="nve",
            timestep_fs=0.5,
            n_steps=50,
            electrodes="static",
            traj_every=50,
            checkpoint_every=50,
            seed=3,
        )
        out = tmp_path / device
        run(cell.copy(), hybrid("cg", tol=1e-12, device=device), settings, out, **QUIET)
        final[device] = read(out / "traj.extxyz", index=-1)
    np.testing.assert_allclose(
        final["cuda"].positions, final["cpu"].positions, rtol=0, atol=1e-7
    )
    np.testing.assert_allclose(
        final["cuda"].get_charges(), final["cpu"].get_charges(), rtol=0, atol=1e-6
    )


def test_relaxation_before_step_zero_lowers_the_grand_energy(cell, hybrid, tmp_path):
    """FIRE before a fresh run: step 0 starts lower in Ω + E_short + walls, and
    the same seed then gives the same velocities (the relaxation draws none)."""
    rows = {}
    for relax in (0, 100):
        settings = MDSettings(
            mode="constp",
            anode_potential_V=-1.0,
            counter_potential_V=1.0,
            n_steps=2,
            electrodes="static",
            relax_steps=relax,
            relax_fmax_eV_A=0.05,
            seed=3,
        )
        out = tmp_path / f"relax{relax}"
        run(cell.copy(), hybrid("dense"), settings, out, **QUIET)
        rows[relax] = read_thermo(out / "thermo.csv")
    drop = rows[0]["grand_energy_eV"][0] - rows[100]["grand_energy_eV"][0]
    assert drop > 0.01, drop
    assert rows[100]["kinetic_energy_eV"][0] == pytest.approx(
        rows[0]["kinetic_energy_eV"][0], rel=1e-12
    )


def test_model_deviation_is_recorded_and_flags_the_run(cell, tmp_path):
    """Two members that differ (LJ σ 2.6 vs 2.7 Å): every thermo row carries the
    ensemble's deviation, max over atoms of the rms spread of the members'
    forces (for two members |F_a − F_b| / 2), recomputed here from the
    members on the step-0 frame; the summary counts the rows above the
    threshold and flags the run. One model: no deviation, not flagged."""
    import json

    from constpot.potential import HybridCalculator

    from .conftest import short_range

    settings = MDSettings(
        mode="constq",
        n_steps=20,
        electrodes="static",
        traj_every=10,
        checkpoint_every=20,
        seed=5,
        deviation_flag_eV_A=1e-3,
    )
    members = [short_range(2.6), short_range(2.7)]
    calc = HybridCalculator(members, method="dense", slab=True)
    run(cell, calc, settings, tmp_path / "pair", **QUIET)
    thermo = read_thermo(tmp_path / "pair" / "thermo.csv")
    deviation = thermo["force_deviation_eV_A"]
    assert np.all(np.isfinite(deviation)) and np.all(deviation > 0)
    frame = read(tmp_path / "pair" / "traj.extxyz", index=0)
    forces = [m.get_forces(frame) for m in (short_range(2.6), short_range(2.7))]
    expected = (np.linalg.norm(forces[0] - forces[1], axis=1) / 2).max()
    assert frame.info["force_deviation_eV_A"] == pytest.approx(expected, rel=1e-6)
    summary = json.loads((tmp_path / "pair" / "summary.json").read_text())
    dev = summary["model_deviation"]
    assert dev["max_eV_A"] == pytest.approx(deviation.max())
    assert dev["frames_above"] == int(np.sum(deviation > 1e-3))
    assert dev["flagged"] is True

    run(cell, HybridCalculator(short_range(), method="dense", slab=True), settings,
        tmp_path / "one", **QUIET)  # fmt: skip
    one = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert one["model_deviation"]["flagged"] is None
    assert np.all(np.isnan(read_thermo(tmp_path / "one" / "thermo.csv")[
        "force_deviation_eV_A"]))  # fmt: skip
