"""Claim 3: Li aggregates in amorphous SEI and the anode grows where it aggregated.

(a) Co-location and time order in ConstP runs of amorphous-SEI systems: each
deposition event scores hit = 1 when reduced SEI Li aggregated earlier within
the co-location radius in x–y, against p_random, the area fraction covered by
earlier aggregates (:func:`~constpot.analysis.lateral.colocation`); the excess
mean(hit − p_random) is bootstrapped over runs, then events within runs.
(b) Aggregation rate amorphous − crystalline at their most negative common
ConstP potential, replicas resampled per phase. Both parts must hold; a part
whose runs are absent is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...keys import ANODE, ELECTRODE_NAMES
from ...runs import LABEL_COLUMNS
from .._stats import Interval, combine, verdict
from ..catalogue import FIGURES
from ._common import (
    NOT_TESTABLE,
    RATE_UNIT,
    Bootstrap,
    ClaimResult,
    mean_difference,
    rows_where,
    too_few,
)

__all__ = ["claim3"]


def _event_clusters(events, runs, kind: str, columns: Sequence[str]):
    """Per run (of ``runs``), the rows of scored ``kind`` events."""
    keys = list(LABEL_COLUMNS)
    if events is None or events.empty:
        return []
    wanted = {tuple(r) for r in runs[keys].astype(str).itertuples(index=False)}
    sub = events[
        (events["kind"] == kind)
        & (events["electrode"].fillna("") == ELECTRODE_NAMES[ANODE])
        & events["aggregated_before"].notna()
    ]
    out = []
    for key, grp in sub.groupby(keys):
        if tuple(str(k) for k in key) in wanted:
            out.append(grp[list(columns)].to_numpy(float))
    return out


def _aggregation_events(events, runs) -> int:
    """Aggregation events (any frame) in the events of ``runs``."""
    if events is None or events.empty:
        return 0
    keys = list(LABEL_COLUMNS)
    wanted = {tuple(r) for r in runs[keys].astype(str).itertuples(index=False)}
    sub = events[events["kind"] == "aggregation"]
    tags = sub[keys].astype(str).itertuples(index=False)
    return int(sum(tuple(t) in wanted for t in tags))


def _excess(rows: np.ndarray) -> float:
    return float(np.mean(rows[:, 0] - rows[:, 1]))


def _order(rows: np.ndarray) -> float:
    near = rows[:, 2] > 0
    return float(rows[near, 0].mean()) if near.any() else math.nan


def claim3(runs, phases, events, crit, boot: Bootstrap) -> ClaimResult:
    """Claim 3: co-location of deposits (a) and aggregation by SEI phase (b)."""
    result = ClaimResult(
        3,
        "Deposition is inhomogeneous: Li aggregates in amorphous LiF/Li₂O SEI "
        "and the anode grows where it aggregated.",
        f"{FIGURES['height_maps']}, {FIGURES['li_clusters']}",
        "(a) Co-location and time order, ConstP runs of amorphous-SEI systems: "
        "each deposition event scores hit = 1 when reduced SEI Li aggregated "
        "earlier within the co-location radius in x–y, against p_random, the "
        "area fraction covered by earlier aggregates; the excess "
        "mean(hit − p_random) must lie above zero (runs, then events, "
        "resampled) and its interval reach "
        f"{crit['colocation_min_excess']:g} (entirely below: not supported; not "
        "testable when no SEI Li aggregated, or when earlier aggregates cover so "
        "much of the cell that no excess of that size is possible). "
        "(b) Amorphous vs crystalline SEI at their most negative common ConstP "
        "potential: aggregation rate (reduced SEI Li newly in clusters after "
        "t = 0, per nm² per ns) amorphous − crystalline above zero. Both parts "
        "must hold; a part whose runs are missing is skipped.",
    )
    constp = rows_where(runs, mode="constp")
    phase = constp["system"].map(lambda s: phases.get(s, "unknown"))
    amorph, cryst = constp[phase == "amorphous"], constp[phase == "crystalline"]
    reasons = []
    cols = ["aggregated_before", "p_random", "aggregated_near"]
    if len(amorph):
        clusters = _event_clusters(events, amorph, "deposition", cols)
        n_events = int(sum(len(c) for c in clusters))
        excess = result.add(
            "(a) co-location excess, deposition", boot.nested(_excess, clusters)
        )
        order = result.add(
            "(a) aggregation before deposition, share of deposits near an aggregate",
            boot.nested(_order, clusters),
        )
        protrusions = _event_clusters(events, amorph, "protrusion", cols)
        result.add(
            "(a) co-location excess, protrusion", boot.nested(_excess, protrusions)
        )
        result.numbers["deposition_events"] = n_events
        result.numbers["protrusion_events"] = int(sum(len(c) for c in protrusions))
        result.numbers["runs"] = len(clusters)
        rows = np.concatenate(clusters) if clusters else np.zeros((0, 3))
        # the largest excess the geometry allows: mean(1 − p_random)
        reach = float(np.mean(1.0 - rows[:, 1])) if len(rows) else math.nan
        result.numbers["largest_possible_excess"] = reach
        n_sites = _aggregation_events(events, amorph)
        result.numbers["aggregation_events"] = n_sites
        why = None
        if n_events < int(crit["min_events"]):
            why = f"too few events ({n_events} deposits, need {crit['min_events']})"
        elif n_sites == 0:
            why = "no SEI Li aggregated in these runs: nothing to co-locate with"
        elif reach < float(crit["colocation_min_excess"]):
            why = (
                f"earlier aggregates cover {100 * (1 - reach):.0f} % of the area: "
                "the co-location radius is too large for the cell to tell "
                "co-location from chance"
            )
        if why is not None:
            result.parts["(a) co-location"] = NOT_TESTABLE
            reasons.append(f"(a) {why}")
        else:
            v = verdict(excess, float(crit["colocation_min_excess"]))
            result.parts["(a) co-location"] = v
            reasons.append(
                f"(a) excess {excess.text()} over {n_events} deposits; "
                f"aggregate first in {order.text()} of those near one → {v}"
            )
        patch = _patch_enrichment(events, amorph, boot)
        if patch is not None:
            result.add("deposits over LiF − LiF area share", patch)
    if len(amorph) and len(cryst):
        common = sorted(
            set(amorph["anode_potential_V"]) & set(cryst["anode_potential_V"])
        )
        if common:
            psi = common[0]
            a = amorph[amorph["anode_potential_V"] == psi]
            c = cryst[cryst["anode_potential_V"] == psi]
            ra = a["aggregation_rate_per_nm2_ns"].to_numpy(float)
            rc = c["aggregation_rate_per_nm2_ns"].to_numpy(float)
            interval = result.add(
                f"(b) aggregation rate amorphous − crystalline at {psi:+.1f} V",
                boot(mean_difference, [ra, rc], RATE_UNIT),
            )
            result.add(
                f"(b) deposition rate amorphous − crystalline at {psi:+.1f} V",
                boot(
                    mean_difference,
                    [
                        a["deposition_rate_per_nm2_ns"].to_numpy(float),
                        c["deposition_rate_per_nm2_ns"].to_numpy(float),
                    ],
                    RATE_UNIT,
                ),
            )
            events_b = int(
                a["aggregation_events"].sum() + c["aggregation_events"].sum()
            )
            result.numbers["aggregation_events"] = events_b
            why = too_few(
                {"amorphous": len(ra), "crystalline": len(rc)},
                int(crit["min_replicas"]),
            )
            if why is None and events_b < int(crit["min_events"]):
                why = (
                    f"too few events ({events_b} aggregated Li, "
                    f"need {crit['min_events']})"
                )
            v = NOT_TESTABLE if why else verdict(interval)
            result.parts["(b) amorphous vs crystalline"] = v
            reasons.append(
                f"(b) {interval.text()} at {psi:+.1f} V"
                + (f" ({why})" if why else f" → {v}")
            )
    if not result.parts:
        result.reason = "needs complete ConstP runs of an amorphous-SEI system"
        return result
    result.verdict = combine(result.parts.values())
    result.reason = "; ".join(reasons)
    return result


def _patch_enrichment(events, runs, boot: Bootstrap) -> Interval | None:
    """Share of deposits over LiF minus the LiF area share (mosaic runs)."""
    if events is None or events.empty or "lif_area_fraction" not in runs.columns:
        return None
    keys = list(LABEL_COLUMNS)
    share = {
        tuple(str(v) for v in r[:4]): r[4]
        for r in runs[[*keys, "lif_area_fraction"]].itertuples(index=False)
        if 0 < r[4] < 1
    }
    sub = events[
        (events["kind"] == "deposition")
        & (events["electrode"].fillna("") == ELECTRODE_NAMES[ANODE])
    ]
    clusters = []
    for key, grp in sub.groupby(keys):
        f = share.get(tuple(str(k) for k in key))
        if f is not None:
            over = (grp["sei_patch"].astype(str) == "LiF").to_numpy(float)
            clusters.append(over - f)
    if not clusters:
        return None
    return boot.nested(lambda rows: float(np.mean(rows)), clusters)
