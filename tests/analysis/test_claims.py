"""The paper-claims check on synthetic numbers and events with known answers."""

import numpy as np
import pandas as pd
import pytest

from constpot.analysis import FIGURES, colocation, evaluate_claims
from constpot.analysis.claims import NOT_SUPPORTED, NOT_TESTABLE, SUPPORTED

PHASES = {"amor": "amorphous", "cryst": "crystalline"}


def _run(system, mode, psi, replica=0, **numbers):
    row = {
        "system": system,
        "mode": mode,
        "potential": "none" if mode == "constq" else f"{psi}V",
        "replica": replica,
        "anode_potential_V": np.nan if mode == "constq" else psi,
        "complete": True,
        "duration_ps": 100.0,
        "deposited_li": 0.0,
        "deposition_rate_per_nm2_ns": 0.0,
        "aggregation_events": 0.0,
        "aggregation_rate_per_nm2_ns": 0.0,
        "anode_charge_e": 0.0,
        "vacuum_drop_V": np.nan,
        "imposed_drop_V": np.nan,
        "D_xy_sei_status": "absent",
    }
    row.update(numbers)
    return row


def _replicas(system, mode, psi, rates, **numbers):
    """One row per replica with the given deposition rates (10 Li each)."""
    return [
        _run(
            system,
            mode,
            psi,
            k,
            deposition_rate_per_nm2_ns=r,
            deposited_li=10.0 * (r > 0),
            **numbers,
        )
        for k, r in enumerate(rates)
    ]


def _verdicts(runs, **kw):
    kw.setdefault("bootstrap", 400)
    return {c.number: c for c in evaluate_claims(pd.DataFrame(runs), PHASES, **kw)}


def test_claim1_needs_replicas_and_a_resolved_difference():
    runs = _replicas("amor", "constp", -6.0, [4.0, 5.0, 6.0]) + _replicas(
        "amor", "constq", None, [0.0, 0.0, 0.0]
    )
    c = _verdicts(runs)[1]
    assert c.verdict == SUPPORTED, c.reason
    interval = next(iter(c.intervals.values()))
    assert interval["value"] == pytest.approx(5.0)
    assert 4.0 <= interval["lo"] <= interval["hi"] <= 6.0
    assert interval["unit"] == "Li/nm²/ns" and interval["n_units"] == 6
    assert c.figure == FIGURES["deposition_vs_time"]
    # reversed: ConstQ deposits more
    flipped = _replicas("amor", "constp", -6.0, [0.0, 0.0, 1.0]) + _replicas(
        "amor", "constq", None, [4.0, 5.0, 6.0]
    )
    assert _verdicts(flipped)[1].verdict == NOT_SUPPORTED
    # overlapping replicas: the interval holds zero, no verdict on noise
    noisy = _replicas("amor", "constp", -6.0, [1.0, 6.0, 2.0]) + _replicas(
        "amor", "constq", None, [5.0, 0.5, 3.0]
    )
    c = _verdicts(noisy)[1]
    assert c.verdict == NOT_TESTABLE and "→ not testable" in c.reason
    # one replica: no spread
    one = runs[:1] + runs[3:4]
    c = _verdicts(one)[1]
    assert c.verdict == NOT_TESTABLE and "too few replicas" in c.reason
    # nothing deposited anywhere
    none = _replicas("amor", "constp", -6.0, [0.0] * 3) + _replicas(
        "amor", "constq", None, [0.0] * 3
    )
    c = _verdicts(none)[1]
    assert c.verdict == NOT_TESTABLE and "too few events" in c.reason
    assert "needs complete ConstP and ConstQ" in _verdicts(runs[:3])[1].reason


def test_stopped_runs_are_left_out():
    runs = _replicas("amor", "constp", -6.0, [4.0, 5.0, 6.0]) + _replicas(
        "amor", "constq", None, [0.0, 0.0, 0.0]
    )
    stopped = _run("amor", "constq", None, 3, deposition_rate_per_nm2_ns=50.0)
    stopped["complete"] = False
    c = _verdicts([*runs, stopped])[1]
    assert c.verdict == SUPPORTED
    assert c.numbers["amor"]["replicas"] == [3, 3]
    unknown = dict(stopped, complete=None)  # no MD summary: kept
    assert _verdicts([*runs, unknown])[1].numbers["amor"]["replicas"] == [3, 4]


def test_claim2_slope_of_rate_against_potential():
    runs = []
    for psi, rates in [(-6.0, [5.0, 6.0]), (-3.0, [2.0, 3.0]), (0.0, [0.0, 0.5])]:
        runs += _replicas("amor", "constp", psi, rates)
    c = _verdicts(runs)[2]
    assert c.verdict == SUPPORTED, c.reason
    interval = next(iter(c.intervals.values()))
    # least squares through (0, 0.25), (3, 2.5), (6, 5.5) against −ψ
    assert interval["value"] == pytest.approx(5.25 / 6.0)
    runs_down = []
    for psi, rates in [(-6.0, [0.0, 0.5]), (0.0, [5.0, 6.0])]:
        runs_down += _replicas("amor", "constp", psi, rates)
    assert _verdicts(runs_down)[2].verdict == NOT_SUPPORTED
    single = [_run("amor", "constp", -6.0, deposition_rate_per_nm2_ns=3.0)]
    assert _verdicts(single)[2].verdict == NOT_TESTABLE


CELL = np.diag([30.0, 30.0])


def _events(deposits_xy, deposits_t, sites_xy, sites_t, run, radius=5.0):
    """An events table of one run, scored as analyse_run scores it."""
    hit, p, near = colocation(deposits_xy, deposits_t, sites_xy, sites_t, CELL, radius)
    system, mode, potential, replica = run
    dep = pd.DataFrame(
        {
            "kind": "deposition",
            "electrode": "anode",
            "time_fs": deposits_t,
            "x_A": np.asarray(deposits_xy)[:, 0],
            "y_A": np.asarray(deposits_xy)[:, 1],
            "aggregated_before": hit.astype(float),
            "p_random": p,
            "aggregated_near": near.astype(float),
            "sei_patch": "LiF",
        }
    )
    agg = pd.DataFrame(
        {
            "kind": "aggregation",
            "electrode": "",
            "time_fs": sites_t,
            "x_A": np.asarray(sites_xy)[:, 0],
            "y_A": np.asarray(sites_xy)[:, 1],
            "aggregated_before": np.nan,
            "p_random": np.nan,
            "aggregated_near": np.nan,
            "sei_patch": "LiF",
        }
    )
    out = pd.concat([agg, dep], ignore_index=True)
    out.insert(0, "system", system)
    out.insert(1, "mode", mode)
    out.insert(2, "potential", potential)
    out.insert(3, "replica", replica)
    return out


def _claim3(events, runs=None, **kw):
    runs = runs or [_run("amor", "constp", -6.0, 0), _run("amor", "constp", -6.0, 1)]
    return _verdicts(runs, events=events, **kw)[3]


def test_claim3_deposits_on_earlier_aggregates_are_supported(rng):
    """Li aggregates in one x–y patch at 1 ps, then 12 Li deposit there
    (within 1.5 Å) in each of two runs: hit = 1 every time against a chance of
    about 0.1 (the area within 5 Å of the aggregate), an excess near 0.9."""
    sites = [(8.0, 8.0), (9.0, 8.0), (8.0, 9.0)]
    tables = []
    for replica in (0, 1):
        xy = 8.5 + rng.uniform(-1.0, 1.0, (12, 2))
        t = rng.uniform(2000.0, 3000.0, 12)
        run = ("amor", "constp", "-6.0V", replica)
        tables.append(_events(xy, t, sites, [1000.0] * 3, run))
    events = pd.concat(tables, ignore_index=True)
    c = _claim3(events)
    assert c.verdict == SUPPORTED, c.reason
    excess = c.intervals["(a) co-location excess, deposition"]
    # three overlapping discs of 5 Å cover a bit more than one (≈ 0.087)
    p = events["p_random"].dropna()
    assert np.pi * 25.0 / 900.0 < p.min() and p.max() < 3 * np.pi * 25.0 / 900.0
    assert excess["value"] == pytest.approx(1.0 - p.mean())
    assert excess["lo"] > 0.8
    order = c.intervals[
        "(a) aggregation before deposition, share of deposits near an aggregate"
    ]
    assert order["value"] == 1.0
    assert c.numbers["deposition_events"] == 24


def test_claim3_time_order_matters():
    """The same places, but the deposits come before the aggregation: no
    earlier aggregate under any deposit, an excess of exactly 0."""
    xy = np.full((12, 2), 8.5)
    events = _events(
        xy, [500.0] * 12, [(8.0, 8.0)] * 3, [1000.0] * 3, ("amor", "constp", "-6.0V", 0)
    )
    c = _claim3(events)
    assert c.intervals["(a) co-location excess, deposition"]["value"] == 0.0
    assert c.verdict == NOT_SUPPORTED  # the interval [0, 0] is below 0.1


@pytest.mark.parametrize("n_events", [40, 400])
def test_claim3_uncorrelated_deposits_are_not_supported(rng, n_events):
    """Deposits uniform over the cell, independent of where Li aggregated:
    the excess is about zero; never "supported"."""
    sites = rng.uniform(0, 30, (5, 2))
    xy = rng.uniform(0, 30, (n_events, 2))
    events = _events(
        xy,
        rng.uniform(2000, 3000, n_events),
        sites,
        [1000.0] * 5,
        ("amor", "constp", "-6.0V", 0),
    )
    c = _claim3(events)
    assert c.verdict in (NOT_SUPPORTED, NOT_TESTABLE), c.reason
    excess = c.intervals["(a) co-location excess, deposition"]
    assert excess["lo"] <= 0.0 <= excess["hi"]
    if n_events == 400:  # enough events to rule out an excess of 0.1
        assert c.verdict == NOT_SUPPORTED


def test_claim3_without_power_is_not_testable(rng):
    """A radius that covers the whole cell (p_random = 1: every deposit is
    'on' an aggregate by chance), or no aggregation at all: no verdict."""
    xy = rng.uniform(0, 30, (20, 2))
    t = rng.uniform(2000, 3000, 20)
    run = ("amor", "constp", "-6.0V", 0)
    events = _events(xy, t, [(8.0, 8.0)], [1000.0], run, radius=25.0)
    c = _claim3(events)
    assert c.verdict == NOT_TESTABLE and "too large for the cell" in c.reason
    assert c.numbers["largest_possible_excess"] < 0.1
    events = _events(xy, t, np.zeros((0, 2)), [], run)
    c = _claim3(events)
    assert c.verdict == NOT_TESTABLE and "no SEI Li aggregated" in c.reason


def test_claim3_too_few_events_and_the_phase_contrast():
    events = _events(
        np.full((3, 2), 8.5),
        [2000.0] * 3,
        [(8.0, 8.0)],
        [1000.0],
        ("amor", "constp", "-6.0V", 0),
    )
    c = _claim3(events)
    assert c.verdict == NOT_TESTABLE and "too few events" in c.reason
    # (b): amorphous aggregates faster than crystalline, 3 replicas each
    runs = [
        _run(
            "amor",
            "constp",
            -6.0,
            k,
            aggregation_rate_per_nm2_ns=r,
            aggregation_events=9,
        )
        for k, r in enumerate([8.0, 9.0, 10.0])
    ] + [
        _run(
            "cryst",
            "constp",
            -6.0,
            k,
            aggregation_rate_per_nm2_ns=r,
            aggregation_events=1,
        )
        for k, r in enumerate([0.0, 1.0, 0.5])
    ]
    c = _claim3(None, runs)
    assert c.parts["(b) amorphous vs crystalline"] == SUPPORTED
    assert c.verdict == NOT_TESTABLE  # (a) has no deposition events
    assert c.intervals["(b) aggregation rate amorphous − crystalline at -6.0 V"][
        "value"
    ] == pytest.approx(8.5)


def test_claim4_capacitance_and_potential_drop():
    runs = []
    for psi, q, drop in [(-6.0, -3.0, 8.1), (-2.0, -1.0, 4.2)]:
        for k, dq in enumerate([-0.05, 0.05]):
            runs.append(
                _run(
                    "amor",
                    "constp",
                    psi,
                    k,
                    anode_charge_e=q + dq,
                    vacuum_drop_V=drop + dq,
                    imposed_drop_V=2.0 - psi,
                )
            )
    runs.append(_run("amor", "constq", None, vacuum_drop_V=0.1))
    c = _verdicts(runs)[4]
    assert c.verdict == SUPPORTED, c.reason
    assert c.intervals["(a) amor: dQ_anode/dψ"]["value"] == pytest.approx(0.5)
    # (8.1 − 0.1)/8 = 1, (4.2 − 0.1)/4 = 1.025
    assert c.intervals["(b) measured / imposed drop"]["value"] == pytest.approx(
        (1.0 + 1.025) / 2, abs=0.01
    )
    for r in runs[:4]:
        r["vacuum_drop_V"] = 2.0  # far from the imposed drop
    c = _verdicts(runs)[4]
    assert c.parts["(b) potential drop"] == NOT_SUPPORTED
    assert c.verdict == NOT_SUPPORTED
    assert _verdicts([_run("amor", "constq", None)])[4].verdict == NOT_TESTABLE


def _predictions(rmse_force, n_models=1):
    """40 test frames (1 energy, 30 force rows each) of models with independent
    Gaussian errors: 2 meV/atom in the energy, ``rmse_force`` eV/Å per force
    component; one reference for all models."""
    rng = np.random.default_rng(3)
    rows = []
    for frame in range(40):
        for quantity, scale in [("energy_per_atom", 0.002), ("force", rmse_force)]:
            n = 1 if quantity == "energy_per_atom" else 30
            ref = rng.normal(size=n)
            for model in range(n_models):
                rows.append(
                    pd.DataFrame(
                        {
                            "model": f"seed{model}",
                            "frame": frame,
                            "category": "li_bulk",
                            "split": "test",
                            "quantity": quantity,
                            "reference": ref,
                            "predicted": ref + rng.normal(scale=scale, size=n),
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True)


def test_claim5_rmse_interval_against_the_limits():
    """RMSE in meV/Å against the 0.15 eV/Å limit: 1200 components of error
    sigma 0.05 eV/Å give 50 meV/Å within the sampling error (2 %, allow 5 %)."""
    runs = [_run("amor", "constq", None)]
    c = _verdicts(runs, predictions=_predictions(0.05))[5]
    assert c.verdict == SUPPORTED, c.reason
    force = c.intervals["force RMSE (test)"]
    assert force["unit"] == "meV/A"
    assert force["value"] == pytest.approx(50.0, rel=0.05)
    assert force["lo"] < force["value"] < force["hi"] < 150.0
    assert c.numbers["force"]["model"] == "seed0"
    c = _verdicts(runs, predictions=_predictions(0.3))[5]
    assert c.verdict == NOT_SUPPORTED and c.parts["force"] == NOT_SUPPORTED
    c = _verdicts(runs, predictions=_predictions(0.15))[5]
    assert c.parts["force"] == NOT_TESTABLE  # the interval holds the limit
    assert _verdicts(runs)[5].verdict == NOT_TESTABLE


def test_claim5_tests_the_ensemble_mean_prediction():
    """The mean of two models with independent errors sigma has RMSE sigma/sqrt 2
    (0.212 eV/Å per model: 150 meV/Å for the ensemble, 2 % sampling error)."""
    runs = [_run("amor", "constq", None)]
    c = _verdicts(runs, predictions=_predictions(0.15 * np.sqrt(2), n_models=2))[5]
    force = c.numbers["force"]
    assert force["model"] == "ensemble" and force["n_models"] == 2
    assert force["rmse"] == pytest.approx(150.0, rel=0.05)
    assert c.intervals["force RMSE (test)"]["value"] == force["rmse"]


def test_claim5_refuses_models_with_different_references():
    table = _predictions(0.05, n_models=2)
    table.loc[table["model"] == "seed1", "reference"] += 1.0
    with pytest.raises(ValueError, match="references differ"):
        _verdicts([_run("amor", "constq", None)], predictions=table)


def test_claim6_needs_diffusive_constant_charge_runs():
    def d_run(system, d, status="diffusive", se=1e-7, mode="constq", slope=1.0):
        return _run(
            system,
            mode,
            None if mode == "constq" else -6.0,
            D_xy_sei_cm2_s=d,
            D_xy_sei_lo_cm2_s=d - 2 * se,
            D_xy_sei_hi_cm2_s=d + 2 * se,
            D_xy_sei_se_cm2_s=se,
            D_xy_sei_status=status,
            D_xy_sei_slope=slope,
        )

    runs = [d_run("amor", 3e-6), d_run("cryst", 1e-6)]
    c = _verdicts(runs)[6]
    assert c.verdict == SUPPORTED, c.reason
    assert c.intervals["D_xy SEI amorphous − crystalline"]["value"] == pytest.approx(
        2e-6
    )
    assert _verdicts([d_run("amor", 0.5e-6), d_run("cryst", 1e-6)])[6].verdict == (
        NOT_SUPPORTED
    )
    close = [d_run("amor", 1.1e-6, se=1e-6), d_run("cryst", 1e-6, se=1e-6)]
    assert _verdicts(close)[6].verdict == NOT_TESTABLE
    ballistic = [
        d_run("amor", np.nan, "not diffusive", slope=1.9),
        d_run("cryst", np.nan, "not diffusive", slope=0.1),
    ]
    c = _verdicts(ballistic)[6]
    assert c.verdict == NOT_TESTABLE and "not diffusive" in c.reason
    # constant-potential diffusivities are not used
    constp = [d_run("amor", 3e-6, mode="constp"), d_run("cryst", 1e-6, mode="constp")]
    assert "constant-charge" in _verdicts(constp)[6].reason


def test_unknown_criteria_are_named():
    with pytest.raises(ValueError, match="min_replica"):
        evaluate_claims(pd.DataFrame(), criteria={"min_replica": 2})
