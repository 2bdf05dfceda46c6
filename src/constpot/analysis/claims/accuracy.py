"""Claim 5: the hybrid model is accurate (energies, forces, charges).

The numbers are the training summary's (:mod:`constpot.potential.evaluate`):
per quantity, the RMSE on the test split (else val, else train) of the
ensemble's mean prediction, or of the single model, and of the QEq charges
(:func:`~constpot.potential.evaluate.model_accuracy`), in meV/atom, meV/Å per
Cartesian component and e. The interval resamples frames: each replicate
weights the per-frame error sums
(:func:`~constpot.potential.evaluate.frame_errors`) by multinomial counts and
reduces them with the same formula
(:func:`~constpot.potential.evaluate.frame_metrics`). A quantity is supported
when the whole interval lies below its limit (:data:`CLAIM_CRITERIA`, given in
eV/atom, eV/Å and e), not supported when it lies above.

With a drift table (:mod:`~constpot.analysis.validation`: the MD's own
constant-charge runs, first and last frames labelled by the reference), a
part ``md_drift`` tests the runs themselves: the mean over runs of
|drift|, how far the model's per-atom energy error moved along a run,
with an interval that resamples runs, against the same energy limit. Its
unit is the run, so it needs ``min_replicas`` runs.
"""

from __future__ import annotations

import numpy as np

from ...potential.evaluate import (
    METRIC_UNITS,
    frame_errors,
    frame_metrics,
    metrics_from_frames,
    model_accuracy,
)
from .._stats import Interval, combine
from ..catalogue import FIGURES
from ._common import NOT_TESTABLE, Bootstrap, ClaimResult, within

__all__ = ["claim5"]

#: The criterion that limits each quantity's RMSE (eV/atom, eV/Å, e).
ACCURACY_KEYS = {
    "energy_per_atom": "energy_rmse_eV_per_atom",
    "force": "force_rmse_eV_A",
    "charge": "charge_rmse_e",
}


def _rmse_interval(frames, accuracy: dict, boot: Bootstrap) -> Interval:
    """The headline RMSE with a bootstrap interval over frames."""
    n = len(frames)
    rng = np.random.default_rng(boot.seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=boot.n).astype(float)
    _, reps = frame_metrics(frames, weights)
    finite = reps[np.isfinite(reps)]
    alpha = 0.5 * (1.0 - boot.confidence)
    lo, hi = np.quantile(finite, [alpha, 1.0 - alpha])
    return Interval(
        accuracy["rmse"],
        float(lo),
        float(hi),
        boot.confidence,
        int(finite.size),
        n,
        accuracy["unit"],
    )


def _drift_part(drift, crit, boot: Bootstrap, result: ClaimResult) -> str | None:
    """The ``md_drift`` part: its verdict's reason, or None without runs."""
    if drift is None or len(drift) == 0:
        return None
    limit = float(crit["energy_rmse_eV_per_atom"]) * 1000.0
    size = np.abs(drift["drift_meV_per_atom"].to_numpy(float))
    interval = boot(lambda d: float(np.mean(d)), [size], "meV/atom")
    result.add("MD drift |model − reference| over a run", interval)
    result.numbers["md_drift"] = {
        str(r["run"]): float(r["drift_meV_per_atom"]) for _, r in drift.iterrows()
    }
    need = int(crit["min_replicas"])
    if len(size) < need:
        result.parts["md_drift"] = NOT_TESTABLE
        return f"MD drift: {len(size)} run(s), need {need} → {NOT_TESTABLE}"
    v = within(interval, 0.0, limit)
    result.parts["md_drift"] = v
    return (
        f"MD drift: mean |drift| {interval.text()} over {len(size)} "
        f"constant-charge runs (limit {limit:g} meV/atom) → {v}"
    )


def claim5(predictions, crit, boot: Bootstrap, drift=None) -> ClaimResult:
    """Claim 5 from a predictions table (``results/train/predictions.csv``)
    and, when given, a drift table (``results/validation/drift.csv``)."""
    limits = ", ".join(f"{q} ≤ {crit[k]:g}" for q, k in ACCURACY_KEYS.items())
    result = ClaimResult(
        5,
        "The hybrid model is accurate: energies, forces and charges match the "
        "reference.",
        FIGURES["parity"],
        "RMSE on the test split (validation split, else train) of the "
        "ensemble's mean prediction (of the single model, of QEq for charges) "
        "as in the training summary, frames resampled, at most: "
        f"{limits} (eV/atom, eV/Å, e): supported when the whole interval is "
        "below the limit, not supported when it is above, for every quantity "
        "present. On the MD's own constant-charge runs (when validated): the "
        "mean over runs of |drift|, the change of the model's per-atom energy "
        "error from a run's first frame to its last (reference labels of "
        "both), runs resampled, at most the energy limit.",
    )
    reasons = []
    drift_reason = _drift_part(drift, crit, boot, result)
    if predictions is None or len(predictions) == 0:
        reasons.append("no predictions table (results/train/predictions.csv)")
        if drift_reason:
            reasons.append(drift_reason)
        result.verdict = combine(result.parts.values())
        result.reason = "; ".join(reasons)
        return result
    frames = frame_errors(predictions)
    for quantity, accuracy in model_accuracy(metrics_from_frames(frames)).items():
        result.numbers[quantity] = accuracy
        sel = (
            (frames["model"] == accuracy["model"])
            & (frames["split"] == accuracy["split"])
            & (frames["quantity"] == quantity)
            & (frames["target"] != "short")
        )
        interval = _rmse_interval(frames[sel], accuracy, boot)
        result.add(f"{quantity} RMSE ({accuracy['split']})", interval)
        key = ACCURACY_KEYS.get(quantity)
        if key is None:
            continue
        limit = float(crit[key]) * METRIC_UNITS[quantity][1]
        v = within(interval, 0.0, limit)
        result.parts[quantity] = v
        reasons.append(
            f"{quantity} RMSE {interval.text()} of {accuracy['model']} "
            f"(limit {limit:g} {accuracy['unit']}) → {v}"
        )
    if drift_reason:
        reasons.append(drift_reason)
    result.verdict = combine(result.parts.values())
    result.reason = "; ".join(reasons)
    return result
