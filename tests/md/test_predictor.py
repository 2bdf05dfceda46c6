"""Charge predictor (issue 17): exact extrapolations, same trajectory, fewer CG steps.

Facts checked:

- polynomial extrapolation of order k reproduces charges that are a polynomial
  of the step of degree ≤ k (k = 0…6); ASPC of every order reproduces linear
  ones, keeps a constant, and its coefficients are Kolafa's table;
- until the history is long enough, the highest order it allows is used;
- a change of the constraints rebases the history: charges linear in the step
  with a jump at the change are still predicted exactly after it; a new atom
  count empties the history; the constraint key tells constraints apart;
- the history survives a checkpoint bit for bit;
- on the 40-atom Li | Li⁺F⁻Li⁺F⁻ | Li slab cell (Lennard-Jones stand-in, CG to
  1e-8): NVE trajectories started from the predictions equal the one started
  from the previous charges to the solver's tolerance, with fewer CG iterations
  per step.

Resuming a run with the predictor bit-identically is in test_resume.py.
"""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from constpot.md import MDSettings, MDSetupError, read_checkpoint, read_thermo, run
from constpot.md.checkpoint import Checkpoint, write_checkpoint
from constpot.potential import HybridCalculator
from constpot.potential.predictor import ChargePredictor, constraint_key

from .conftest import NVE_STATIC, make_cell, short_range

QUIET = {"progress": False, "log": lambda line: None}
N_ATOMS = 7
RNG = np.random.default_rng(17)
#: Charge-like coefficients of the test polynomials (e per step^j).
COEFFS = RNG.normal(0.0, 0.3, (8, N_ATOMS))


def _poly(step: float, degree: int) -> np.ndarray:
    return sum(COEFFS[j] * step**j for j in range(degree + 1))


def _fed(method: str, order: int, degree: int, steps=range(10)) -> ChargePredictor:
    p = ChargePredictor(method, order)
    for step in steps:
        p.push(_poly(step, degree), key="k")
    return p


# --------------------------------------------------------------- exactness
@pytest.mark.parametrize("order", range(7))
def test_polynomial_extrapolation_is_exact_to_its_degree(order):
    """Degree ≤ k is extrapolated to rounding (|q| ≲ 10⁴ e at step 10, degree 6:
    1e-9 relative); degree k + 1 is not."""
    for degree in range(order + 1):
        predicted = _fed("polynomial", order, degree).predict(N_ATOMS)
        np.testing.assert_allclose(predicted, _poly(10, degree), rtol=1e-9, atol=1e-9)
    off = _fed("polynomial", order, order + 1).predict(N_ATOMS)
    assert np.abs(off - _poly(10, order + 1)).max() > 1e-3


@pytest.mark.parametrize("order", range(7))
def test_aspc_keeps_linear_charges_and_has_kolafas_coefficients(order):
    """ASPC is exact for degree ≤ 1 at every order (rounding: 1e-12)."""
    for degree in (0, 1):
        predicted = _fed("aspc", order, degree).predict(N_ATOMS)
        np.testing.assert_allclose(predicted, _poly(10, degree), rtol=1e-12, atol=1e-12)
    # q_pred = sum_j B_j q(t - (j - 1) h): the coefficients are the weights of
    # unit vectors placed one per history slot.
    p = ChargePredictor("aspc", order)
    for j in range(order + 2):
        p.push(np.eye(order + 2)[order + 1 - j], key="k")  # newest last
    weights = p.predict(order + 2)
    k = order
    expected = [
        (-1) ** (j + 1) * j * comb(2 * k + 4, k + 2 - j) / comb(2 * k + 2, k + 1)
        for j in range(1, k + 3)
    ]
    np.testing.assert_allclose(weights, expected, rtol=1e-14)
    table = {0: [2, -1], 1: [2.5, -2, 0.5], 2: [2.8, -2.8, 1.2, -0.2]}
    if k in table:  # Kolafa (2004), Table 1
        np.testing.assert_allclose(weights, table[k], rtol=1e-14)


def test_short_history_uses_the_highest_order_it_allows():
    """Two solves give the line through them; one gives the previous charges;
    none (or method "none") gives no start at all."""
    p = ChargePredictor("polynomial", 4)
    assert p.predict(N_ATOMS) is None
    p.push(_poly(0, 1), key="k")
    np.testing.assert_array_equal(p.predict(N_ATOMS), _poly(0, 1))
    p.push(_poly(1, 1), key="k")
    np.testing.assert_allclose(p.predict(N_ATOMS), _poly(2, 1), rtol=1e-14)
    assert _fed("none", 2, 1).predict(N_ATOMS) is None
    np.testing.assert_array_equal(_fed("previous", 2, 2).predict(N_ATOMS), _poly(9, 2))


# ------------------------------------------------------- constraint changes
def test_a_constraint_change_rebases_the_history():
    """Charges linear in the step that jump by a constant at step 6 (new
    constraints): the prediction is exact again right after the jump, where a
    history mixing both sides would be off by the jump."""
    jump = RNG.normal(0.0, 1.0, N_ATOMS)
    p = ChargePredictor("polynomial", 2)
    for step in range(6):
        p.push(_poly(step, 1), key="before")
    np.testing.assert_allclose(p.predict(N_ATOMS), _poly(6, 1), rtol=1e-12)
    p.push(_poly(6, 1) + jump, key="after")
    np.testing.assert_allclose(p.predict(N_ATOMS), _poly(7, 1) + jump, rtol=1e-12)
    assert p.key == "after"
    # another atom count: nothing to predict from, then a fresh history
    assert p.predict(N_ATOMS + 1) is None
    p.push(np.ones(N_ATOMS + 1), key="after")
    np.testing.assert_array_equal(p.state()["charges"], np.ones((1, N_ATOMS + 1)))


def test_constraint_key_tells_constraints_apart():
    n = 4
    psi = np.array([-1.0, -1.0, 0.0, 1.0])
    base = (n, psi, None, 0.0, None)
    key = constraint_key(*base)
    assert constraint_key(n, psi.copy(), None, 0.0, None) == key
    others = [
        (n, psi + np.array([0, 0, 0, 1e-12]), None, 0.0, None),  # ψ of one atom
        (n, None, None, 0.0, None),  # constant charge
        (n, psi, np.array([np.nan, 0.5, np.nan, np.nan]), 0.0, None),  # held
        (n, psi, None, 1.0, None),  # total charge
        (n, psi, None, 0.0, [(np.array([2, 3]), -1.0)]),  # a molecule
    ]
    assert len({key} | {constraint_key(*o) for o in others}) == 1 + len(others)


def test_bad_settings_name_the_argument():
    with pytest.raises(ValueError, match="charge_predictor method"):
        ChargePredictor("cubic")
    with pytest.raises(ValueError, match="charge_predictor order"):
        ChargePredictor("aspc", 7)
    with pytest.raises(ValueError, match="unknown key"):
        ChargePredictor.from_config({"method": "aspc", "k": 2})
    with pytest.raises(MDSetupError, match="charge_predictor order"):
        MDSettings(anode_potential_V=-1.0, charge_predictor={"order": -1})
    with pytest.raises(ValueError, match="charge_predictor method"):
        HybridCalculator(charge_predictor="cubic")


# -------------------------------------------------------------- checkpoint
def test_history_survives_a_checkpoint_bit_for_bit(tmp_path):
    p = _fed("aspc", 3, 3)
    n = N_ATOMS
    ckpt = Checkpoint(
        step=9,
        positions=np.zeros((n, 3)),
        momenta=np.zeros((n, 3)),
        forces=None,
        guess=p.last,
        electrode=np.zeros(n, np.int64),
        initial_electrode=np.zeros(n, np.int64),
        rng_state={},
        numbers=np.ones(n, np.int64),
        predictor=p.state(),
    )
    back = read_checkpoint(write_checkpoint(tmp_path / "c.npz", ckpt))
    restored = ChargePredictor("aspc", 3)
    restored.load_state(back.predictor)
    assert restored.key == p.key == "k"
    np.testing.assert_array_equal(restored.predict(n), p.predict(n))
    # a checkpoint without it (an earlier version) reads as None
    ckpt.predictor = None
    assert read_checkpoint(write_checkpoint(tmp_path / "d.npz", ckpt)).predictor is None


# ---------------------------------------------------------------------- MD
def _nve(tmp_path, predictor: str) -> tuple:
    """60 NVE steps of 0.5 fs, static electrodes at −1/+1 V, CG to 1e-8."""
    method, _, order = predictor.partition(":")
    settings = MDSettings(
        **NVE_STATIC,
        n_steps=60,
        traj_every=100,
        checkpoint_every=100,
        charge_predictor={"method": method, "order": int(order or 2)},
    )
    out = tmp_path / predictor.replace(":", "")
    calc = HybridCalculator(short_range(), method="cg", tol=1e-8, slab=True)
    run(make_cell(), calc, settings, out, **QUIET)
    ckpt = read_checkpoint(out / "checkpoint.npz")
    cg = read_thermo(out / "thermo.csv")["cg_iterations"][1:]
    return ckpt.positions, ckpt.guess, float(np.mean(cg))


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    return _nve(tmp_path_factory.mktemp("previous"), "previous")


@pytest.mark.parametrize(
    ("predictor", "max_ratio"),
    # measured 4.17 and 6.73 iterations per step against 8.75
    [("polynomial:3", 0.6), ("aspc:2", 0.85)],
)
def test_predicted_starts_give_the_same_trajectory_in_fewer_iterations(
    previous, tmp_path, predictor, max_ratio
):
    """After 60 steps positions agree to 1e-7 Å and charges to 1e-7 e (measured
    3e-10 Å, 1e-9 e: the solver's tolerance, not the start, sets them)."""
    positions, charges, cg = _nve(tmp_path, predictor)
    np.testing.assert_allclose(positions, previous[0], rtol=0, atol=1e-7)
    np.testing.assert_allclose(charges, previous[1], rtol=0, atol=1e-7)
    assert cg <= max_ratio * previous[2], (cg, previous[2])
