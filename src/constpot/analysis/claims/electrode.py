"""Claim 4: the constant potential holds.

(a) Positive differential capacitance: slope of the replica-mean anode
charge (final-window mean) against ψ_anode > 0, per system with ≥ 2 ConstP
potentials, replicas resampled per potential. (b) The Poisson drop across the
cell between the vacuum levels, minus the system's ConstQ drop, over the
imposed ψ_counter − ψ_anode lies within 1 ± ``potential_drop_rtol`` (runs
resampled; entirely outside: not supported).
"""

from __future__ import annotations

import numpy as np

from .._stats import combine, pooled, verdict
from ..catalogue import FIGURES
from ._common import (
    NOT_TESTABLE,
    Bootstrap,
    ClaimResult,
    rows_where,
    slope_of_means,
    too_few,
    within,
)

__all__ = ["claim4"]


def claim4(runs, crit, boot: Bootstrap) -> ClaimResult:
    """Claim 4: differential capacitance (a) and the Poisson drop (b)."""
    rtol = float(crit["potential_drop_rtol"])
    result = ClaimResult(
        4,
        "The constant potential holds: the electrode charge follows ψ and the "
        "Poisson potential across the cell shows the imposed drop.",
        f"{FIGURES['potential_profiles']}, {FIGURES['electrode_charge']}",
        "(a) Per system with ≥ 2 ConstP potentials: slope of the replica-mean "
        "anode charge (final-window mean) against ψ_anode above zero "
        "(positive differential capacitance; replicas resampled per "
        "potential). (b) Over all ConstP runs: the Poisson drop between the "
        "vacuum levels minus the system's ConstQ drop, over the imposed "
        f"ψ_counter − ψ_anode, with its interval inside 1 ± {rtol:g} "
        "(entirely outside: not supported). A part whose runs are missing is "
        "skipped.",
    )
    constp, constq = rows_where(runs, mode="constp"), rows_where(runs, mode="constq")
    reasons, capacitance = [], {}
    for system in sorted(set(constp["system"])):
        p = rows_where(constp, system=system)
        groups = {
            float(psi): grp["anode_charge_e"].to_numpy(float)
            for psi, grp in p.groupby("anode_potential_V")
        }
        if len(groups) < 2:
            continue
        psis = sorted(groups)
        interval = result.add(
            f"(a) {system}: dQ_anode/dψ",
            boot(slope_of_means(psis), [groups[x] for x in psis], "e/V"),
        )
        why = too_few(
            {f"at {x:+.1f} V": len(groups[x]) for x in psis},
            int(crit["min_replicas"]),
        )
        capacitance[system] = NOT_TESTABLE if why else verdict(interval)
        reasons.append(
            f"(a) {system}: dQ/dψ {interval.text()}"
            + (f" ({why})" if why else f" → {capacitance[system]}")
        )
    if capacitance:
        result.parts["(a) capacitance"] = pooled(capacitance.values())
    ratios = []
    for _, run in constp.iterrows():
        drop, imposed = run["vacuum_drop_V"], run["imposed_drop_V"]
        if not (np.isfinite(drop) and np.isfinite(imposed)) or imposed == 0:
            continue
        q = rows_where(constq, system=run["system"])["vacuum_drop_V"]
        ref = float(q.mean()) if q.notna().any() else 0.0
        ratios.append((drop - ref) / imposed)
    if ratios:
        ratios = np.asarray(ratios, float)
        interval = result.add(
            "(b) measured / imposed drop",
            boot(lambda r: float(np.mean(r)), [ratios]),
        )
        result.numbers["drop_runs"] = len(ratios)
        if len(ratios) < int(crit["min_replicas"]):
            v = NOT_TESTABLE
            reasons.append(f"(b) {interval.text()} (too few runs: {len(ratios)})")
        else:
            v = within(interval, 1.0 - rtol, 1.0 + rtol)
            reasons.append(f"(b) measured/imposed {interval.text()} → {v}")
        result.parts["(b) potential drop"] = v
    if not result.parts:
        result.reason = (
            "needs ConstP runs at ≥ 2 potentials or a potential profile between "
            "two electrodes"
        )
        return result
    result.verdict = combine(result.parts.values())
    result.reason = "; ".join(reasons)
    return result
