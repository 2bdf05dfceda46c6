"""Run every claim of the paper-claims check on the runs, events and predictions.

:func:`evaluate_claims` checks the criteria overrides, fills the run columns a
claim reads (missing: empty), leaves out runs that did not complete
(:func:`incomplete`) and returns claims 1–6 in order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ._common import CLAIM_CRITERIA, Bootstrap, ClaimResult
from .accuracy import claim5
from .aggregation import claim3
from .deposition import claim1, claim2
from .diffusion import claim6
from .electrode import claim4

__all__ = ["evaluate_claims", "incomplete"]


def evaluate_claims(
    runs,
    phases: Mapping[str, str] | None = None,
    predictions=None,
    criteria: Mapping[str, float] | None = None,
    events=None,
    bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    drift=None,
) -> list[ClaimResult]:
    """Check the paper's six claims (docs/design.md §7) against the run numbers.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run (:func:`~constpot.analysis.summary.run_headline`),
        replicas separate. Rows with ``complete`` False are left out.
    phases : mapping, optional
        System → SEI phase (:func:`~constpot.analysis.catalogue.sei_phases`).
    predictions : pandas.DataFrame, optional
        ``results/train/predictions.csv`` (claim 5).
    criteria : mapping, optional
        Overrides of :data:`CLAIM_CRITERIA`.
    events : pandas.DataFrame, optional
        Concatenated ``events.csv`` of the runs (claim 3).
    bootstrap : int
        Replicates of every interval (1000).
    seed : int
        Seed of every bootstrap (0): same inputs, same intervals.
    confidence : float
        Coverage of the intervals (0.95).
    drift : pandas.DataFrame, optional
        The MD's constant-charge runs against the reference
        (:func:`~constpot.analysis.validation.drift_table`; claim 5).

    Returns
    -------
    list of ClaimResult
    """
    import pandas as pd

    crit = {**CLAIM_CRITERIA, **(criteria or {})}
    unknown = set(crit) - set(CLAIM_CRITERIA)
    if unknown:
        raise ValueError(
            f"criteria: unknown keys {sorted(unknown)}; known: {sorted(CLAIM_CRITERIA)}"
        )
    boot = Bootstrap(int(bootstrap), int(seed), float(confidence))
    phases = phases or {}
    runs = pd.DataFrame(runs if runs is not None else [])
    for column in _RUN_COLUMNS:
        if column not in runs.columns:
            runs[column] = pd.Series(dtype=object if column in _TEXT else float)
    if "complete" in runs.columns and len(runs):
        runs = runs[~runs["complete"].map(incomplete).astype(bool)]
    return [
        claim1(runs, crit, boot),
        claim2(runs, crit, boot),
        claim3(runs, phases, events, crit, boot),
        claim4(runs, crit, boot),
        claim5(predictions, crit, boot, drift),
        claim6(runs, phases, crit, boot),
    ]


def incomplete(complete) -> bool:
    """True for a run known not to have completed (``complete`` False)."""
    if complete is None or (isinstance(complete, float) and math.isnan(complete)):
        return False
    return not bool(complete)


_TEXT = ("system", "mode", "potential", "D_xy_sei_status")
_RUN_COLUMNS = (
    "system",
    "mode",
    "potential",
    "replica",
    "anode_potential_V",
    "deposited_li",
    "deposition_rate_per_nm2_ns",
    "aggregation_events",
    "aggregation_rate_per_nm2_ns",
    "anode_charge_e",
    "vacuum_drop_V",
    "imposed_drop_V",
    "D_xy_sei_cm2_s",
    "D_xy_sei_lo_cm2_s",
    "D_xy_sei_hi_cm2_s",
    "D_xy_sei_se_cm2_s",
    "D_xy_sei_status",
    "D_xy_sei_slope",
)
