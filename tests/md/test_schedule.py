"""The schedule: which steps update the membership and which solve the charges,
and the run that follows it (the calculator's own results, frame by frame)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ase.io import read

from constpot.md import MDSettings, Schedule, run

QUIET = {"progress": False, "log": lambda line: None}


def test_membership_steps_and_solve_steps():
    s = Schedule("metallic", electrode_every=4, qeq_every=3)
    assert [k for k in range(13) if s.updates_membership(k)] == [0, 4, 8, 12]
    # multiples of 3, and every membership update
    assert [k for k in range(13) if s.solves(k)] == [0, 3, 4, 6, 8, 9, 12]
    static = Schedule("static", electrode_every=4, qeq_every=3)
    assert not any(static.updates_membership(k) for k in range(13))
    assert [k for k in range(13) if static.solves(k)] == [0, 3, 6, 9, 12]


def test_parameters_for_the_calculator():
    s = Schedule("metallic", electrode_every=4, qeq_every=3)
    labels, q = np.array([1, 0, 2]), np.array([0.1, -0.2, 0.1])
    assert s.parameters(4, labels, q) == {
        "electrodes": "metallic",
        "fixed_charges": None,
    }
    held = s.parameters(5, labels, q)
    assert held["electrodes"] == "static" and held["electrode_labels"] is labels
    assert held["fixed_charges"] is q
    # no charges yet: solve; no labels yet: keep the calculator's own
    start = Schedule("static").parameters(1, None, None)
    assert start == {"electrodes": "static", "fixed_charges": None}
    with pytest.raises(ValueError, match="qeq_every"):
        Schedule(qeq_every=0)
    with pytest.raises(ValueError, match="electrodes"):
        Schedule(electrodes="dynamic")


def test_run_solves_on_schedule_and_reports_the_calculators_timings(
    cell, hybrid, tmp_path
):
    """Metallic membership every 2 steps, charges every 3: solved at 0, 2, 3, 4, 6;
    held charges in between. The summary's timings add up the calculator's."""
    settings = MDSettings(
        mode="constp",
        anode_potential_V=-1.0,
        counter_potential_V=1.0,
        n_steps=6,
        electrodes="metallic",
        electrode_every=2,
        qeq_every=3,
        traj_every=1,
    )
    summary = run(cell, hybrid("cg"), settings, tmp_path, **QUIET)
    frames = read(tmp_path / "traj.extxyz", index=":")
    solved = [k for k, f in enumerate(frames) if f.info["qeq_solved"]]
    assert solved == [0, 2, 3, 4, 6]
    np.testing.assert_array_equal(frames[5].get_charges(), frames[4].get_charges())
    timings = summary["timings_this_session_s"]
    assert set(timings) == {"short_range", "qeq", "neighbour_list", "io", "integrator"}
    assert timings["qeq"] > 0 and timings["short_range"] > 0
    assert summary["evaluations_this_session"] == 7  # steps 0..6
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["calculator"]["metallic_rule"]["cutoff_A"] == 3.5
