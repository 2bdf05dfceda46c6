"""Seeded bootstrap intervals and the three-way verdict of the claims check.

Private helpers of :mod:`constpot.analysis` (diffusion, claims). A percentile
bootstrap (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993,
ch. 13): resample the independent units with replacement, recompute the
statistic, take the ``(1 ± confidence)/2`` quantiles of the replicates.
Randomness comes only from the ``seed`` argument: same inputs, same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

__all__ = [
    "NOT_SUPPORTED",
    "NOT_TESTABLE",
    "SUPPORTED",
    "VERDICTS",
    "Interval",
    "bootstrap",
    "combine",
    "nested_bootstrap",
    "pooled",
    "verdict",
]

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
NOT_TESTABLE = "not testable"
#: The three verdicts of a claim (and of each of its parts).
VERDICTS = (SUPPORTED, NOT_SUPPORTED, NOT_TESTABLE)


@dataclass(frozen=True)
class Interval:
    """A number, its bootstrap interval and how it was made.

    Attributes
    ----------
    value : float
        The statistic on the data as observed.
    lo, hi : float
        Percentile bootstrap interval (NaN when it could not be made).
    confidence : float
        Two-sided coverage of ``[lo, hi]`` (0.95).
    n_boot : int
        Bootstrap replicates that gave a finite statistic.
    n_units : int
        Independent units resampled (replicas, runs, atoms or frames).
    unit : str
        Unit of ``value``.
    """

    value: float
    lo: float
    hi: float
    confidence: float
    n_boot: int
    n_units: int
    unit: str = ""

    def todict(self) -> dict:
        return asdict(self)

    def text(self, digits: int = 3) -> str:
        """``value [lo, hi] unit``."""

        def f(x: float) -> str:
            return f"{x:.{digits}g}" if math.isfinite(x) else "n/a"

        unit = f" {self.unit}" if self.unit else ""
        return f"{f(self.value)} [{f(self.lo)}, {f(self.hi)}]{unit}"


def _quantiles(reps: np.ndarray, confidence: float) -> tuple[float, float]:
    reps = reps[np.isfinite(reps)]
    if reps.size == 0:
        return math.nan, math.nan
    alpha = 0.5 * (1.0 - confidence)
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def bootstrap(
    statistic: Callable[..., float],
    samples: Sequence[np.ndarray],
    n_boot: int,
    seed: int,
    confidence: float = 0.95,
    unit: str = "",
) -> Interval:
    """Percentile bootstrap of ``statistic(*samples)``.

    Parameters
    ----------
    statistic : callable
        Takes one array per sample (rows along axis 0), returns a float
        (NaN for a replicate where it is undefined; such replicates are
        dropped).
    samples : sequence of ndarray
        Independent samples; each is resampled on its own, with replacement,
        keeping its size (e.g. the replicas of two groups being compared).
    n_boot : int
        Number of bootstrap replicates (≥ 1).
    seed : int
        Seed of ``numpy.random.default_rng``.
    confidence : float
        Two-sided coverage, 0 < confidence < 1.
    unit : str
        Unit of the statistic, carried into the Interval.

    Returns
    -------
    Interval
    """
    _check(n_boot, confidence)
    samples = [np.asarray(s) for s in samples]
    if any(len(s) == 0 for s in samples):
        return Interval(math.nan, math.nan, math.nan, confidence, 0, 0, unit)
    value = float(statistic(*samples))
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for b in range(n_boot):
        reps[b] = statistic(*[s[rng.integers(0, len(s), len(s))] for s in samples])
    lo, hi = _quantiles(reps, confidence)
    n_units = int(sum(len(s) for s in samples))
    return Interval(
        value, lo, hi, confidence, int(np.isfinite(reps).sum()), n_units, unit
    )


def nested_bootstrap(
    statistic: Callable[[np.ndarray], float],
    clusters: Sequence[np.ndarray],
    n_boot: int,
    seed: int,
    confidence: float = 0.95,
    unit: str = "",
) -> Interval:
    """Two-level bootstrap: resample clusters, then rows within each.

    For events grouped by run: events of one run are not independent (a
    growing deposit gives many arrivals at one spot), so runs are resampled
    first and events within each chosen run second (Davison & Hinkley,
    *Bootstrap Methods*, 1997, §3.8). With one run this is the plain
    bootstrap of its events.

    Parameters
    ----------
    statistic : callable
        Takes the concatenated rows (axis 0) of the chosen clusters.
    clusters : sequence of ndarray
        Rows per cluster (run); empty clusters are skipped.
    n_boot, seed, confidence, unit
        As :func:`bootstrap`.
    """
    _check(n_boot, confidence)
    clusters = [np.asarray(c) for c in clusters if len(c)]
    if not clusters:
        return Interval(math.nan, math.nan, math.nan, confidence, 0, 0, unit)
    value = float(statistic(np.concatenate(clusters)))
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    k = len(clusters)
    for b in range(n_boot):
        chosen = [clusters[i] for i in rng.integers(0, k, k)]
        rows = [c[rng.integers(0, len(c), len(c))] for c in chosen]
        reps[b] = statistic(np.concatenate(rows))
    lo, hi = _quantiles(reps, confidence)
    n_units = int(sum(len(c) for c in clusters))
    return Interval(
        value, lo, hi, confidence, int(np.isfinite(reps).sum()), n_units, unit
    )


def verdict(interval: Interval, min_effect: float = 0.0) -> str:
    """Three-way verdict on an effect that the claim says is positive.

    - ``not supported`` when the whole interval lies below ``min_effect``
      (the data rule out an effect as large as the smallest one that
      matters; with ``min_effect`` = 0: the effect has the opposite sign);
    - ``supported`` when the whole interval lies above zero;
    - ``not testable`` otherwise: the interval holds zero (and effects of
      ``min_effect`` or more), or could not be made. Never a verdict on noise.

    Parameters
    ----------
    interval : Interval
    min_effect : float
        Smallest effect that matters, ≥ 0, in the interval's unit.
    """
    lo, hi = interval.lo, interval.hi
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return NOT_TESTABLE
    if hi < min_effect:
        return NOT_SUPPORTED
    if lo > 0:
        return SUPPORTED
    return NOT_TESTABLE


def combine(verdicts: Sequence[str]) -> str:
    """One verdict from the verdicts of parts that must all hold.

    Any part ``not supported`` → not supported; else all ``supported`` →
    supported; else not testable (an empty list is not testable).
    """
    verdicts = list(verdicts)
    if NOT_SUPPORTED in verdicts:
        return NOT_SUPPORTED
    if verdicts and all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    return NOT_TESTABLE


def _check(n_boot: int, confidence: float) -> None:
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 1):
        raise ValueError(f"bootstrap must be an integer >= 1, got {n_boot!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")


def pooled(verdicts: Sequence[str]) -> str:
    """One verdict from independent tests of the same claim (e.g. per system).

    Any ``not supported`` → not supported; else any ``supported`` →
    supported; else not testable. The reason text names the systems that
    could not be tested.
    """
    verdicts = list(verdicts)
    if NOT_SUPPORTED in verdicts:
        return NOT_SUPPORTED
    if SUPPORTED in verdicts:
        return SUPPORTED
    return NOT_TESTABLE
