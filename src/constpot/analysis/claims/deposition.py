"""Claims 1 and 2: Li⁺ deposits under constant potential, more at larger −ψ.

1. ConstP deposits more than ConstQ: rate(most negative ψ) − rate(ConstQ)
   > 0, per system, replicas resampled per mode.
2. Deposition grows with −ψ: least-squares slope of the replica-mean rate
   against −ψ over the ConstP potentials > 0, per system, replicas resampled
   per potential.

Rates are deposited Li per nm² of lateral area per ns; per-system verdicts
are pooled (:func:`~constpot.analysis._stats.pooled`).
"""

from __future__ import annotations

import numpy as np

from .._stats import pooled, verdict
from ..catalogue import FIGURES
from ._common import (
    NOT_TESTABLE,
    RATE_UNIT,
    Bootstrap,
    ClaimResult,
    mean_difference,
    rows_where,
    slope_of_means,
    too_few,
)

__all__ = ["claim1", "claim2"]


def claim1(runs, crit, boot: Bootstrap) -> ClaimResult:
    """Claim 1: per system, ConstP (most negative ψ) minus ConstQ deposition rate."""
    result = ClaimResult(
        1,
        "Li⁺ is reduced and deposits on the anode under constant potential, "
        "and not under constant charge.",
        FIGURES["deposition_vs_time"],
        "Per system: deposition rate (Li that started in the SEI or "
        "electrolyte and joined the anode's metal network, per nm² per ns) at "
        "the most negative ConstP potential minus the ConstQ rate; supported "
        "when its bootstrap interval (replicas resampled per mode) lies above "
        "zero.",
    )
    constp, constq = rows_where(runs, mode="constp"), rows_where(runs, mode="constq")
    systems = sorted(set(constp["system"]) & set(constq["system"]))
    if not systems:
        result.reason = "needs complete ConstP and ConstQ runs of the same system"
        return result
    reasons = []
    for system in systems:
        p = rows_where(constp, system=system)
        psi = float(p["anode_potential_V"].min())
        p = p[p["anode_potential_V"] == psi]
        q = rows_where(constq, system=system)
        a = p["deposition_rate_per_nm2_ns"].to_numpy(float)
        b = q["deposition_rate_per_nm2_ns"].to_numpy(float)
        events = int(p["deposited_li"].sum() + q["deposited_li"].sum())
        result.numbers[system] = {
            "psi_V": psi,
            "rate_constp": float(a.mean()),
            "rate_constq": float(b.mean()),
            "replicas": [len(a), len(b)],
            "deposited_li": events,
        }
        interval = result.add(
            f"{system}: rate(ConstP {psi:+.1f} V) − rate(ConstQ)",
            boot(mean_difference, [a, b], RATE_UNIT),
        )
        why = too_few({"ConstP": len(a), "ConstQ": len(b)}, int(crit["min_replicas"]))
        if why is None and events < int(crit["min_events"]):
            why = f"too few events ({events} deposited Li, need {crit['min_events']})"
        v = NOT_TESTABLE if why else verdict(interval)
        result.parts[system] = v
        reasons.append(
            f"{system}: {interval.text()} at {psi:+.1f} V"
            + (f" ({why})" if why else f" → {v}")
        )
    result.verdict = pooled(result.parts.values())
    result.reason = "; ".join(reasons)
    return result


def claim2(runs, crit, boot: Bootstrap) -> ClaimResult:
    """Claim 2: per system, slope of the deposition rate against −ψ."""
    result = ClaimResult(
        2,
        "Deposition grows with the magnitude of the anode potential.",
        FIGURES["deposition_vs_potential"],
        "Per system with ≥ 2 ConstP potentials: least-squares slope of the "
        "replica-mean deposition rate against −ψ (Li/nm²/ns per V); supported "
        "when its bootstrap interval (replicas resampled per potential) lies "
        "above zero.",
    )
    constp = rows_where(runs, mode="constp")
    systems = [
        s
        for s in sorted(set(constp["system"]))
        if rows_where(constp, system=s)["anode_potential_V"].nunique() >= 2
    ]
    if not systems:
        result.reason = "needs complete ConstP runs at ≥ 2 anode potentials"
        return result
    reasons = []
    for system in systems:
        sub = rows_where(constp, system=system)
        groups = {
            float(psi): grp["deposition_rate_per_nm2_ns"].to_numpy(float)
            for psi, grp in sub.groupby("anode_potential_V")
        }
        psis = sorted(groups)
        samples = [groups[p] for p in psis]
        interval = result.add(
            f"{system}: d rate / d(−ψ)",
            boot(slope_of_means([-p for p in psis]), samples, f"{RATE_UNIT}/V"),
        )
        events = int(sub["deposited_li"].sum())
        result.numbers[system] = {
            "rate_by_psi": {f"{p:+.1f}": float(np.mean(groups[p])) for p in psis},
            "replicas_by_psi": {f"{p:+.1f}": len(groups[p]) for p in psis},
            "deposited_li": events,
        }
        why = too_few(
            {f"at {p:+.1f} V": len(groups[p]) for p in psis},
            int(crit["min_replicas"]),
        )
        if why is None and events < int(crit["min_events"]):
            why = f"too few events ({events} deposited Li, need {crit['min_events']})"
        v = NOT_TESTABLE if why else verdict(interval)
        result.parts[system] = v
        reasons.append(
            f"{system}: slope {interval.text()}" + (f" ({why})" if why else f" → {v}")
        )
    result.verdict = pooled(result.parts.values())
    result.reason = "; ".join(reasons)
    return result
