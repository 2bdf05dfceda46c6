"""What every claim of the paper-claims check shares: result, criteria, bootstrap.

:class:`ClaimResult` holds one claim's numbers, intervals and verdict;
:data:`CLAIM_CRITERIA` the thresholds (config ``analysis.claims``);
:class:`Bootstrap` the seeded percentile bootstrap every claim draws its
intervals from (:mod:`constpot.analysis._stats`); the small helpers below
select runs, phrase "too few" and turn an interval into a verdict against a
band (:func:`within`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .._stats import (
    NOT_SUPPORTED,
    NOT_TESTABLE,
    SUPPORTED,
    Interval,
    bootstrap,
    nested_bootstrap,
)

__all__ = [
    "CLAIM_CRITERIA",
    "NOT_SUPPORTED",
    "NOT_TESTABLE",
    "RATE_UNIT",
    "SUPPORTED",
    "Bootstrap",
    "ClaimResult",
    "fmt",
    "mean_difference",
    "rows_where",
    "slope_of_means",
    "too_few",
    "within",
]

#: Thresholds of the claims check (config ``analysis.claims``).
CLAIM_CRITERIA: dict[str, float] = {
    # claim 4b: |ΔΦ/Δψ − 1| ≤ rtol for the whole interval
    "potential_drop_rtol": 0.3,
    # claim 5: test RMSE of the ensemble's mean prediction at most these
    "energy_rmse_eV_per_atom": 0.010,
    "force_rmse_eV_A": 0.15,
    "charge_rmse_e": 0.10,
    # fewest replicas per compared group (spread needs two)
    "min_replicas": 2,
    # fewest events (deposited or aggregated Li) behind a rate or a co-location
    "min_events": 5,
    # claim 3a: smallest excess of co-location that matters
    "colocation_min_excess": 0.1,
}

#: Unit of deposition and aggregation rates.
RATE_UNIT = "Li/nm²/ns"


@dataclass
class ClaimResult:
    """One paper claim, its test, its numbers with intervals, and the verdict.

    Attributes
    ----------
    number : int
    claim, figure, criterion : str
    verdict : str
        "supported", "not supported" or "not testable".
    reason : str
        The numbers behind the verdict, in words.
    numbers : dict
        Point values and counts.
    intervals : dict
        Name → :meth:`Interval.todict` (value, lo, hi, confidence, n_boot,
        n_units, unit).
    parts : dict
        Verdict per part or per system.
    """

    number: int
    claim: str
    figure: str
    criterion: str
    verdict: str = NOT_TESTABLE
    reason: str = ""
    numbers: dict = field(default_factory=dict)
    intervals: dict = field(default_factory=dict)
    parts: dict = field(default_factory=dict)

    def todict(self) -> dict:
        return asdict(self)

    def add(self, name: str, interval: Interval) -> Interval:
        self.intervals[name] = interval.todict()
        return interval


@dataclass(frozen=True)
class Bootstrap:
    """Seeded percentile bootstrap of one claims check: replicates, seed, coverage."""

    n: int
    seed: int
    confidence: float

    def __call__(self, statistic, samples, unit="") -> Interval:
        return bootstrap(statistic, samples, self.n, self.seed, self.confidence, unit)

    def nested(self, statistic, clusters, unit="") -> Interval:
        return nested_bootstrap(
            statistic, clusters, self.n, self.seed, self.confidence, unit
        )


def rows_where(table, **conditions):
    """Rows of ``table`` whose columns equal the given values."""
    sel = np.ones(len(table), bool)
    for key, value in conditions.items():
        sel &= (table[key] == value).to_numpy()
    return table[sel]


def fmt(x, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits, "n/a" when missing."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}g}"


def mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Statistic: mean(a) − mean(b)."""
    return float(np.mean(a) - np.mean(b))


def slope_of_means(x: Sequence[float]):
    """Statistic: least-squares slope of the group means against x."""
    x = np.asarray(x, float)

    def statistic(*groups) -> float:
        y = np.array([np.mean(g) for g in groups])
        xc = x - x.mean()
        return float(xc @ (y - y.mean()) / (xc @ xc))

    return statistic


def too_few(counts: Mapping[str, int], need: int) -> str | None:
    """Why groups with fewer than ``need`` replicas decide nothing (None: enough)."""
    short = {k: n for k, n in counts.items() if n < need}
    if not short:
        return None
    listed = ", ".join(f"{n} {k}" for k, n in short.items())
    return f"too few replicas ({listed}; need {need} each)"


def within(interval: Interval, low: float, high: float) -> str:
    """Supported inside [low, high]; not supported when disjoint from it."""
    lo, hi = interval.lo, interval.hi
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return NOT_TESTABLE
    if low <= lo and hi <= high:
        return SUPPORTED
    if hi < low or lo > high:
        return NOT_SUPPORTED
    return NOT_TESTABLE
