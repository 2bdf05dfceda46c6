"""Seeded bootstrap intervals and the three-way verdict."""

import math

import numpy as np
import pytest

from constpot.analysis._stats import (
    NOT_SUPPORTED,
    NOT_TESTABLE,
    SUPPORTED,
    Interval,
    bootstrap,
    combine,
    nested_bootstrap,
    pooled,
    verdict,
)


def test_bootstrap_of_a_mean_matches_its_standard_error(rng):
    """95 % percentile interval of a mean of 400 N(3, 1) draws: half-width
    1.96/√400 ≈ 0.098 (to 10 %, the bootstrap's own spread at 2000
    replicates)."""
    x = rng.normal(3.0, 1.0, 400)
    iv = bootstrap(np.mean, [x], 2000, seed=7)
    assert iv.value == pytest.approx(x.mean())
    assert 0.5 * (iv.hi - iv.lo) == pytest.approx(1.96 * x.std() / 20, rel=0.1)
    assert iv.n_units == 400 and iv.n_boot == 2000
    again = bootstrap(np.mean, [x], 2000, seed=7)
    assert (again.lo, again.hi) == (iv.lo, iv.hi)  # seeded
    assert bootstrap(np.mean, [x], 2000, seed=8).lo != iv.lo


def test_two_samples_are_resampled_separately():
    a, b = np.array([4.0, 5.0, 6.0]), np.array([0.0, 0.0, 0.0])
    iv = bootstrap(lambda u, v: u.mean() - v.mean(), [a, b], 500, seed=0)
    assert iv.value == 5.0 and 4.0 <= iv.lo <= iv.hi <= 6.0
    assert verdict(iv) == SUPPORTED
    empty = bootstrap(np.mean, [np.array([])], 10, seed=0)
    assert math.isnan(empty.lo) and verdict(empty) == NOT_TESTABLE


def test_nested_bootstrap_resamples_runs_then_events():
    """Two runs with different means: the interval spans both run means,
    wider than the event-level bootstrap of the pooled events."""
    runs = [np.full(50, 0.0), np.full(50, 1.0)]
    nested = nested_bootstrap(np.mean, runs, 1000, seed=0)
    flat = bootstrap(np.mean, [np.concatenate(runs)], 1000, seed=0)
    assert nested.value == pytest.approx(0.5)
    assert nested.lo == 0.0 and nested.hi == 1.0
    assert flat.hi - flat.lo < 0.5


def test_verdict_rules():
    def iv(lo, hi):
        return Interval(0.5 * (lo + hi), lo, hi, 0.95, 100, 10)

    assert verdict(iv(0.1, 0.5)) == SUPPORTED
    assert verdict(iv(-0.5, -0.1)) == NOT_SUPPORTED
    assert verdict(iv(-0.1, 0.2)) == NOT_TESTABLE  # holds zero
    assert verdict(iv(0.0, 0.0)) == NOT_TESTABLE
    # with a smallest effect that matters: a tight interval below it decides
    assert verdict(iv(-0.05, 0.05), min_effect=0.1) == NOT_SUPPORTED
    assert verdict(iv(-0.05, 0.3), min_effect=0.1) == NOT_TESTABLE
    assert combine([SUPPORTED, SUPPORTED]) == SUPPORTED
    assert combine([SUPPORTED, NOT_TESTABLE]) == NOT_TESTABLE
    assert combine([SUPPORTED, NOT_SUPPORTED]) == NOT_SUPPORTED
    assert combine([]) == NOT_TESTABLE
    assert pooled([SUPPORTED, NOT_TESTABLE]) == SUPPORTED
    assert pooled([NOT_TESTABLE]) == NOT_TESTABLE
    assert pooled([SUPPORTED, NOT_SUPPORTED]) == NOT_SUPPORTED
    assert "[0.1, 0.5]" in iv(0.1, 0.5).text()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="bootstrap"):
        bootstrap(np.mean, [np.ones(3)], 0, seed=0)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap(np.mean, [np.ones(3)], 10, seed=0, confidence=1.0)
