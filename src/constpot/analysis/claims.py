"""The paper-claims check: each claim of docs/design.md §7 as a number with an interval.

User guide
----------
:func:`evaluate_claims` takes one row per analysed run
(:func:`~constpot.analysis.summary.run_headline`), the events of those runs
(``events.csv``) and the training predictions, and returns one
:class:`ClaimResult` per claim: the figure that shows it, the criterion, every
number with a seeded percentile bootstrap interval, and a verdict.

Verdicts are ``supported``, ``not supported`` or ``not testable``
(:func:`~constpot.analysis._stats.verdict`). *Not testable* is the answer
whenever the data cannot decide: runs of the needed kind are missing, fewer
than ``min_replicas`` replicas per group, fewer than ``min_events`` events,
an MSD that is not yet diffusive, or an interval that holds zero. A verdict is
never read off a difference of means without its spread. Runs that did not
complete (MD status "stopped", or fewer steps than planned) are left out and
listed.

The bootstrap unit is what is independent: replicas (runs of the same
setting, resampled within each group) for rates, capacitances and drops; runs
and then events within runs for the co-location of claim 3; atoms within runs
for diffusivities (each run's interval from :class:`LiDiffusion`); frames for
model errors. Rates are per lateral area and time: Li per nm² per ns.

Criteria (thresholds in :data:`CLAIM_CRITERIA`, config ``analysis.claims``):

1. ConstP deposits more than ConstQ: rate(most negative ψ) − rate(ConstQ) > 0,
   per system.
2. Deposition grows with −ψ: least-squares slope of the rate against −ψ
   over the ConstP potentials > 0, per system.
3. (a) Deposits land on earlier SEI Li aggregates beyond chance: the excess
   mean(hit − p_random) of :func:`~constpot.analysis.lateral.colocation` over
   the deposition events of amorphous-SEI runs > 0, and an interval that
   reaches ``colocation_min_excess``; (b) Li aggregates more in amorphous
   than in crystalline SEI: aggregation rate (new aggregated Li after t = 0)
   amorphous − crystalline > 0 at their most negative common ψ. Both parts
   must hold (a part whose runs are absent is skipped).
4. (a) Positive differential capacitance dQ_anode/dψ > 0 per system;
   (b) the Poisson drop across the cell (minus the system's ConstQ drop)
   over the imposed ψ_counter − ψ_anode lies within 1 ± ``potential_drop_rtol``.
5. Ensemble-mean test RMSE of energy, force and charge at most their limits.
6. D_xy of SEI Li from constant-charge runs, once diffusive: amorphous −
   crystalline > 0.

Per-system results of claims 1, 2 and 4a are pooled: any system not
supported → not supported, else any supported → supported.

Example
-------
>>> runs = pd.DataFrame([run_headline(d) for d in run_dirs])  # doctest: +SKIP
>>> claims = evaluate_claims(runs, phases, events=events, seed=0)  # doctest: +SKIP
>>> claims[2].verdict, claims[2].intervals                   # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ._stats import (
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
from .accuracy import QUANTITY_UNITS
from .catalogue import FIGURES

__all__ = [
    "CLAIM_CRITERIA",
    "NOT_SUPPORTED",
    "NOT_TESTABLE",
    "SUPPORTED",
    "ClaimResult",
    "evaluate_claims",
]

#: Thresholds of the claims check (config ``analysis.claims``).
CLAIM_CRITERIA: dict[str, float] = {
    # claim 4b: |ΔΦ/Δψ − 1| ≤ rtol for the whole interval
    "potential_drop_rtol": 0.3,
    # claim 5: ensemble-mean test RMSE at most these
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

_ACCURACY_KEYS = {
    "energy_per_atom": "energy_rmse_eV_per_atom",
    "force": "force_rmse_eV_A",
    "charge": "charge_rmse_e",
}

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
class _Boot:
    n: int
    seed: int
    confidence: float

    def __call__(self, statistic, samples, unit="") -> Interval:
        return bootstrap(statistic, samples, self.n, self.seed, self.confidence, unit)

    def nested(self, statistic, clusters, unit="") -> Interval:
        return nested_bootstrap(
            statistic, clusters, self.n, self.seed, self.confidence, unit
        )


def _by(table, **conditions):
    sel = np.ones(len(table), bool)
    for key, value in conditions.items():
        sel &= (table[key] == value).to_numpy()
    return table[sel]


def _fmt(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}g}"


def _mean_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a) - np.mean(b))


def _slope_of_means(x: Sequence[float]):
    """Statistic: least-squares slope of the group means against x."""
    x = np.asarray(x, float)

    def statistic(*groups) -> float:
        y = np.array([np.mean(g) for g in groups])
        xc = x - x.mean()
        return float(xc @ (y - y.mean()) / (xc @ xc))

    return statistic


def _too_few(counts: Mapping[str, int], need: int) -> str | None:
    short = {k: n for k, n in counts.items() if n < need}
    if not short:
        return None
    listed = ", ".join(f"{n} {k}" for k, n in short.items())
    return f"too few replicas ({listed}; need {need} each)"


def _claim1(runs, crit, boot: _Boot) -> ClaimResult:
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
    constp, constq = _by(runs, mode="constp"), _by(runs, mode="constq")
    systems = sorted(set(constp["system"]) & set(constq["system"]))
    if not systems:
        result.reason = "needs complete ConstP and ConstQ runs of the same system"
        return result
    reasons = []
    for system in systems:
        p = _by(constp, system=system)
        psi = float(p["anode_potential_V"].min())
        p = p[p["anode_potential_V"] == psi]
        q = _by(constq, system=system)
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
            boot(_mean_difference, [a, b], RATE_UNIT),
        )
        why = _too_few({"ConstP": len(a), "ConstQ": len(b)}, int(crit["min_replicas"]))
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


def _claim2(runs, crit, boot: _Boot) -> ClaimResult:
    result = ClaimResult(
        2,
        "Deposition grows with the magnitude of the anode potential.",
        FIGURES["deposition_vs_potential"],
        "Per system with ≥ 2 ConstP potentials: least-squares slope of the "
        "replica-mean deposition rate against −ψ (Li/nm²/ns per V); supported "
        "when its bootstrap interval (replicas resampled per potential) lies "
        "above zero.",
    )
    constp = _by(runs, mode="constp")
    systems = [
        s
        for s in sorted(set(constp["system"]))
        if _by(constp, system=s)["anode_potential_V"].nunique() >= 2
    ]
    if not systems:
        result.reason = "needs complete ConstP runs at ≥ 2 anode potentials"
        return result
    reasons = []
    for system in systems:
        sub = _by(constp, system=system)
        groups = {
            float(psi): grp["deposition_rate_per_nm2_ns"].to_numpy(float)
            for psi, grp in sub.groupby("anode_potential_V")
        }
        psis = sorted(groups)
        samples = [groups[p] for p in psis]
        interval = result.add(
            f"{system}: d rate / d(−ψ)",
            boot(_slope_of_means([-p for p in psis]), samples, f"{RATE_UNIT}/V"),
        )
        events = int(sub["deposited_li"].sum())
        result.numbers[system] = {
            "rate_by_psi": {f"{p:+.1f}": float(np.mean(groups[p])) for p in psis},
            "replicas_by_psi": {f"{p:+.1f}": len(groups[p]) for p in psis},
            "deposited_li": events,
        }
        why = _too_few(
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


def _event_clusters(events, runs, kind: str, columns: Sequence[str]):
    """Per run (of ``runs``), the rows of scored ``kind`` events."""
    keys = ["system", "mode", "potential", "replica"]
    if events is None or events.empty:
        return []
    wanted = {tuple(r) for r in runs[keys].astype(str).itertuples(index=False)}
    sub = events[
        (events["kind"] == kind)
        & (events["electrode"].fillna("") == "anode")
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
    keys = ["system", "mode", "potential", "replica"]
    wanted = {tuple(r) for r in runs[keys].astype(str).itertuples(index=False)}
    sub = events[events["kind"] == "aggregation"]
    tags = sub[keys].astype(str).itertuples(index=False)
    return int(sum(tuple(t) in wanted for t in tags))


def _excess(rows: np.ndarray) -> float:
    return float(np.mean(rows[:, 0] - rows[:, 1]))


def _order(rows: np.ndarray) -> float:
    near = rows[:, 2] > 0
    return float(rows[near, 0].mean()) if near.any() else math.nan


def _claim3(runs, phases, events, crit, boot: _Boot) -> ClaimResult:
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
    constp = _by(runs, mode="constp")
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
                boot(_mean_difference, [ra, rc], RATE_UNIT),
            )
            result.add(
                f"(b) deposition rate amorphous − crystalline at {psi:+.1f} V",
                boot(
                    _mean_difference,
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
            why = _too_few(
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


def _patch_enrichment(events, runs, boot: _Boot) -> Interval | None:
    """Share of deposits over LiF minus the LiF area share (mosaic runs)."""
    if events is None or events.empty or "lif_area_fraction" not in runs.columns:
        return None
    keys = ["system", "mode", "potential", "replica"]
    share = {
        tuple(str(v) for v in r[:4]): r[4]
        for r in runs[[*keys, "lif_area_fraction"]].itertuples(index=False)
        if 0 < r[4] < 1
    }
    sub = events[
        (events["kind"] == "deposition") & (events["electrode"].fillna("") == "anode")
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


def _claim4(runs, crit, boot: _Boot) -> ClaimResult:
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
    constp, constq = _by(runs, mode="constp"), _by(runs, mode="constq")
    reasons, capacitance = [], {}
    for system in sorted(set(constp["system"])):
        p = _by(constp, system=system)
        groups = {
            float(psi): grp["anode_charge_e"].to_numpy(float)
            for psi, grp in p.groupby("anode_potential_V")
        }
        if len(groups) < 2:
            continue
        psis = sorted(groups)
        interval = result.add(
            f"(a) {system}: dQ_anode/dψ",
            boot(_slope_of_means(psis), [groups[x] for x in psis], "e/V"),
        )
        why = _too_few(
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
        q = _by(constq, system=run["system"])["vacuum_drop_V"]
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
            v = _within(interval, 1.0 - rtol, 1.0 + rtol)
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


def _within(interval: Interval, low: float, high: float) -> str:
    """Supported inside [low, high]; not supported when disjoint from it."""
    lo, hi = interval.lo, interval.hi
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return NOT_TESTABLE
    if low <= lo and hi <= high:
        return SUPPORTED
    if hi < low or lo > high:
        return NOT_SUPPORTED
    return NOT_TESTABLE


def _rmse_intervals(predictions, boot: _Boot) -> dict[str, tuple[Interval, str]]:
    """Ensemble-mean RMSE per quantity on the test split, frames resampled."""
    splits = set(predictions["split"].astype(str))
    split = next((s for s in ("test", "validation", "val") if s in splits), None)
    table = (
        predictions
        if split is None
        else predictions[predictions["split"].astype(str) == split]
    )
    out = {}
    for quantity, grp in table.groupby("quantity"):
        err2 = (
            grp["predicted"].to_numpy(float) - grp["reference"].to_numpy(float)
        ) ** 2
        frame_ids, frame_index = np.unique(grp["frame"].to_numpy(), return_inverse=True)
        model_ids, model_index = np.unique(grp["model"].to_numpy(), return_inverse=True)
        shape = (len(frame_ids), len(model_ids))
        sse = np.zeros(shape)
        count = np.zeros(shape)
        np.add.at(sse, (frame_index, model_index), err2)
        np.add.at(count, (frame_index, model_index), 1.0)

        def rmse(weights: np.ndarray, sse=sse, count=count) -> np.ndarray:
            with np.errstate(invalid="ignore", divide="ignore"):
                per_model = np.sqrt((weights @ sse) / (weights @ count))
            return np.nanmean(per_model, axis=-1)

        value = float(rmse(np.ones(len(frame_ids))))
        rng = np.random.default_rng(boot.seed)
        n = len(frame_ids)
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=boot.n).astype(float)
        reps = rmse(weights)
        alpha = 0.5 * (1.0 - boot.confidence)
        lo, hi = np.quantile(reps[np.isfinite(reps)], [alpha, 1.0 - alpha])
        interval = Interval(
            value,
            float(lo),
            float(hi),
            boot.confidence,
            int(np.isfinite(reps).sum()),
            n,
            QUANTITY_UNITS.get(str(quantity), ""),
        )
        out[str(quantity)] = (interval, split or "all")
    return out


def _claim5(predictions, crit, boot: _Boot) -> ClaimResult:
    limits = ", ".join(f"{q} ≤ {crit[k]:g}" for q, k in _ACCURACY_KEYS.items())
    result = ClaimResult(
        5,
        "The hybrid model is accurate: energies, forces and charges match the "
        "reference.",
        FIGURES["parity"],
        "Ensemble-mean RMSE on the test split (validation split, else all "
        f"rows), frames resampled, at most: {limits} (eV/atom, eV/Å, e): "
        "supported when the whole interval is below the limit, not supported "
        "when it is above, for every quantity present.",
    )
    if predictions is None or len(predictions) == 0:
        result.reason = "no predictions table (results/train/predictions.csv)"
        return result
    reasons = []
    for quantity, (interval, split) in _rmse_intervals(predictions, boot).items():
        result.add(f"{quantity} RMSE ({split})", interval)
        key = _ACCURACY_KEYS.get(quantity)
        if key is None:
            continue
        v = _within(interval, 0.0, float(crit[key]))
        result.parts[quantity] = v
        reasons.append(f"{quantity} RMSE {interval.text()} (limit {crit[key]:g}) → {v}")
    result.verdict = combine(result.parts.values())
    result.reason = "; ".join(reasons)
    return result


def _claim6(runs, phases, crit, boot: _Boot) -> ClaimResult:
    result = ClaimResult(
        6,
        "Li transport in the SEI components (MSD and diffusivity); tested here "
        "as: Li moves faster through amorphous than through crystalline SEI, "
        "the mobility behind Li aggregation in amorphous SEI (our reading).",
        FIGURES["li_msd"],
        "In-plane D_xy of SEI Li from constant-charge runs only, and only "
        "where the MSD is diffusive (log–log slope within tolerance of 1): "
        "D_xy(amorphous) − D_xy(crystalline) above zero; runs resampled per "
        "phase and each run's D drawn from its bootstrap over atoms.",
    )
    constq = _by(runs, mode="constq")
    phase = constq["system"].map(lambda s: phases.get(s, "unknown"))
    samples, reasons = {}, []
    for name in ("amorphous", "crystalline"):
        sub = constq[phase == name]
        if sub.empty:
            result.reason = (
                f"needs a complete constant-charge run of a {name}-SEI system"
            )
            return result
        ok = sub[sub["D_xy_sei_status"] == "diffusive"]
        result.numbers[name] = {
            "runs": len(sub),
            "diffusive_runs": len(ok),
            "slopes": [float(s) for s in sub["D_xy_sei_slope"]],
        }
        if ok.empty:
            slopes = ", ".join(_fmt(float(s), 2) for s in sub["D_xy_sei_slope"])
            reasons.append(
                f"{name}: MSD of SEI Li not diffusive (log–log slope {slopes})"
            )
            continue
        samples[name] = ok[["D_xy_sei_cm2_s", "D_xy_sei_se_cm2_s"]].to_numpy(float)
        d = result.add(
            f"D_xy SEI {name}",
            Interval(
                float(ok["D_xy_sei_cm2_s"].mean()),
                float(ok["D_xy_sei_lo_cm2_s"].min()),
                float(ok["D_xy_sei_hi_cm2_s"].max()),
                boot.confidence,
                boot.n,
                len(ok),
                "cm²/s",
            ),
        )
        reasons.append(f"{name}: D_xy {d.text()}")
    if len(samples) < 2:
        result.reason = "; ".join(reasons)
        return result
    rng = np.random.default_rng(boot.seed)

    def draw(rows: np.ndarray) -> float:
        pick = rows[rng.integers(0, len(rows), len(rows))]
        noise = np.nan_to_num(pick[:, 1]) * rng.normal(size=len(pick))
        return float(np.mean(pick[:, 0] + noise))

    a, c = samples["amorphous"], samples["crystalline"]
    reps = np.array([draw(a) - draw(c) for _ in range(boot.n)])
    alpha = 0.5 * (1.0 - boot.confidence)
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    interval = result.add(
        "D_xy SEI amorphous − crystalline",
        Interval(
            float(a[:, 0].mean() - c[:, 0].mean()),
            float(lo),
            float(hi),
            boot.confidence,
            boot.n,
            len(a) + len(c),
            "cm²/s",
        ),
    )
    result.verdict = verdict(interval)
    result.parts["D amorphous − crystalline"] = result.verdict
    result.reason = "; ".join([*reasons, f"difference {interval.text()}"])
    return result


def evaluate_claims(
    runs,
    phases: Mapping[str, str] | None = None,
    predictions=None,
    criteria: Mapping[str, float] | None = None,
    events=None,
    bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
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
    boot = _Boot(int(bootstrap), int(seed), float(confidence))
    phases = phases or {}
    runs = pd.DataFrame(runs if runs is not None else [])
    for column in _RUN_COLUMNS:
        if column not in runs.columns:
            runs[column] = pd.Series(dtype=object if column in _TEXT else float)
    if "complete" in runs.columns and len(runs):
        runs = runs[~runs["complete"].map(incomplete).astype(bool)]
    return [
        _claim1(runs, crit, boot),
        _claim2(runs, crit, boot),
        _claim3(runs, phases, events, crit, boot),
        _claim4(runs, crit, boot),
        _claim5(predictions, crit, boot),
        _claim6(runs, phases, crit, boot),
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
