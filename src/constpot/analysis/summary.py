"""Headline numbers per run, the summary table and the paper-claims check.

User guide
----------
:func:`run_headline` reads the tables :func:`constpot.analysis.run.analyse_run`
wrote for one run and returns its headline numbers: Li deposited by the end,
Li reduced, the mean anode charge over the final window, the anode roughness
and protrusion at the start and end, the largest reduced-Li cluster in the SEI
at the end, and D_Li in the SEI and the electrolyte with their errors.
:func:`summary_table` averages them over replicas (one row per system ×
mode × potential). :func:`evaluate_claims` states each claim of the paper
(DESIGN §7), the figure that tests it, the criterion, and a verdict computed
from the numbers: ``support``, ``no support`` or ``not testable at demo
scale`` (the runs needed are missing, or nothing happened within the simulated
time, or a difference is within its error). :func:`summarise` writes
``summary.json``, ``summary.md`` and ``paper_claims.md``.

The criteria are ours, written down in the claims file; their thresholds are
the config's ``analysis.claims`` (:data:`CLAIM_CRITERIA` defaults).

Example
-------
>>> summarise(["results/analysis/no_sei/constp_-6.0V_r0"], "summary.json",
...           "summary.md", "paper_claims.md")                # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..io import atomic_path
from .figures import FIGURES

__all__ = [
    "CLAIM_CRITERIA",
    "NOT_TESTABLE",
    "NO_SUPPORT",
    "SUPPORT",
    "ClaimResult",
    "evaluate_claims",
    "run_headline",
    "sei_phases",
    "summarise",
    "summary_table",
]

SUPPORT = "support"
NO_SUPPORT = "no support"
NOT_TESTABLE = "not testable at demo scale"

#: Thresholds of the claims check (config ``analysis.claims``).
CLAIM_CRITERIA: dict[str, float] = {
    # claim 4: |(ΔΦ − ΔΦ_constq) − Δψ| ≤ rtol·|Δψ|
    "potential_drop_rtol": 0.3,
    # claim 5: ensemble-mean test RMSE at most these
    "energy_rmse_eV_per_atom": 0.010,
    "force_rmse_eV_A": 0.15,
    "charge_rmse_e": 0.10,
}

_ACCURACY_KEYS = {
    "energy_per_atom": "energy_rmse_eV_per_atom",
    "force": "force_rmse_eV_A",
    "charge": "charge_rmse_e",
}

#: Headline columns shown in summary.md (column → header).
_TABLE_COLUMNS = {
    "system": "system",
    "sei_phase": "SEI",
    "mode": "mode",
    "potential": "ψ label",
    "anode_potential_V": "ψ_anode (V)",
    "n_replicas": "replicas",
    "duration_ps": "time (ps)",
    "completed": "steps done",
    "temperature_mean_K": "T mean (K)",
    "deposited_li": "deposited Li",
    "reduced_li": "reduced Li⁺",
    "anode_charge_e": "anode charge (e)",
    "roughness_end_A": "roughness (Å)",
    "protrusion_end_A": "protrusion (Å)",
    "largest_cluster": "largest Li cluster",
    "D_li_sei_cm2_s": "D_Li SEI (cm²/s)",
    "D_li_electrolyte_cm2_s": "D_Li electrolyte (cm²/s)",
}


def _read_csv(path: Path):
    import pandas as pd

    if not path.is_file():
        raise ValueError(f"{path}: table not found (run `constpot analyse-run`)")
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def _column(table, path: Path, key: str):
    if key not in table.columns:
        raise ValueError(f"{path}: no column {key!r}")
    return table[key]


def run_headline(run_dir: str | Path) -> dict:
    """Headline numbers of one analysed run (from its CSV tables and run.json).

    Returns
    -------
    dict
        Labels (system, mode, potential, replica, anode_potential_V) and
        ``duration_ps, deposited_li, reduced_li, anode_charge_e,
        counter_charge_e, roughness_start_A, roughness_end_A,
        protrusion_end_A, largest_cluster, largest_cluster_max,
        D_li_sei_cm2_s, D_li_sei_std_cm2_s, D_li_electrolyte_cm2_s,
        D_li_electrolyte_std_cm2_s, electrode_drop_V, vacuum_drop_V,
        imposed_drop_V``.

    Raises
    ------
    ValueError
        A missing table, or a table without a needed column.
    """
    run_dir = Path(run_dir)
    meta_path = run_dir / "run.json"
    if not meta_path.is_file():
        raise ValueError(f"{meta_path}: not found (run `constpot analyse-run`)")
    meta = json.loads(meta_path.read_text())
    window = float(meta.get("settings", {}).get("window", 0.5))
    row = {k: meta[k] for k in ("system", "mode", "potential", "replica")}
    row["anode_potential_V"] = _nan(meta.get("anode_potential_V"))
    row["duration_ps"] = float(meta.get("duration_ps", math.nan))
    # fraction of the planned MD steps that ran (< 1: a guard stopped it)
    md = meta.get("md") or {}
    planned, ran = md.get("n_steps"), md.get("steps")
    row["temperature_mean_K"] = _nan(md.get("temperature_mean_K"))
    row["completed"] = (
        float(ran) / float(planned) if planned and ran is not None else math.nan
    )
    row["electrode_drop_V"] = _nan(meta.get("electrode_drop_V"))
    row["vacuum_drop_V"] = _nan(meta.get("vacuum_drop_V"))
    row["imposed_drop_V"] = _nan(meta.get("imposed_drop_V"))

    path = run_dir / "deposition.csv"
    dep = _read_csv(path)
    n_tail = max(1, math.ceil(window * len(dep)))
    row["deposited_li"] = float(_column(dep, path, "deposited").iloc[-1])
    row["reduced_li"] = float(_column(dep, path, "reduced_total").iloc[-1])
    row["anode_charge_e"] = float(
        _column(dep, path, "anode_charge_e").iloc[-n_tail:].mean()
    )
    row["counter_charge_e"] = float(
        _column(dep, path, "counter_charge_e").iloc[-n_tail:].mean()
    )

    path = run_dir / "surface.csv"
    surf = _read_csv(path)
    rough = _column(surf, path, "roughness_A")
    row["roughness_start_A"] = float(rough.iloc[0])
    row["roughness_end_A"] = float(rough.iloc[-1])
    row["protrusion_end_A"] = float(_column(surf, path, "protrusion_A").iloc[-1])

    path = run_dir / "clusters.csv"
    clus = _read_csv(path)
    largest = _column(clus, path, "largest_cluster")
    row["largest_cluster"] = float(largest.iloc[-1])
    row["largest_cluster_max"] = float(largest.max())

    path = run_dir / "diffusion.csv"
    diff = _read_csv(path)
    for group in ("sei", "electrolyte"):
        sel = diff[diff["group"] == group] if "group" in diff.columns else diff[:0]
        d = float(sel["D_cm2_s"].iloc[0]) if len(sel) else math.nan
        s = float(sel["D_std_cm2_s"].iloc[0]) if len(sel) else math.nan
        row[f"D_li_{group}_cm2_s"] = d
        row[f"D_li_{group}_std_cm2_s"] = s
    return row


def _nan(value) -> float:
    return math.nan if value is None else float(value)


def sei_phases(systems: Mapping | None, names: Iterable[str] = ()) -> dict[str, str]:
    """SEI phase per system: "amorphous", "crystalline", "none" or "unknown".

    Parameters
    ----------
    systems : mapping or None
        Config ``systems:`` (recipes; ``sei.phase`` defaults to amorphous as in
        the build presets).
    names : iterable of str
        Further system names (e.g. synced runs not in the config): guessed from
        the name ("crystal", "amorph", "no_sei").
    """
    out = {}
    for name, recipe in (systems or {}).items():
        out[str(name)] = str(
            ((recipe or {}).get("sei") or {}).get("phase", "amorphous")
        )
    for name in names:
        if name in out:
            continue
        low = name.lower()
        if "crystal" in low:
            out[name] = "crystalline"
        elif "amorph" in low:
            out[name] = "amorphous"
        elif "no_sei" in low or "nosei" in low:
            out[name] = "none"
        else:
            out[name] = "unknown"
    return out


def summary_table(runs, phases: Mapping[str, str] | None = None):
    """Replica means: one row per system × mode × potential.

    Parameters
    ----------
    runs : pandas.DataFrame
        Rows of :func:`run_headline`.

    Returns
    -------
    pandas.DataFrame
        Means of the numeric headline columns, ``<col>_std`` over replicas,
        ``n_replicas`` and ``sei_phase``.
    """
    import pandas as pd

    if runs.empty:
        return pd.DataFrame(columns=list(_TABLE_COLUMNS))
    keys = ["system", "mode", "potential"]
    numeric = [
        c
        for c in runs.columns
        if c not in (*keys, "replica") and pd.api.types.is_numeric_dtype(runs[c])
    ]
    grouped = runs.groupby(keys, sort=True)
    table = grouped[numeric].mean()
    std = grouped[numeric].std(ddof=1).add_suffix("_std")
    table = table.join(std)
    table["n_replicas"] = grouped.size()
    table = table.reset_index()
    phases = phases or {}
    table.insert(1, "sei_phase", [phases.get(s, "unknown") for s in table["system"]])
    return table.sort_values(["system", "mode", "anode_potential_V"]).reset_index(
        drop=True
    )


@dataclass
class ClaimResult:
    """One paper claim, its test and the verdict."""

    number: int
    claim: str
    figure: str
    criterion: str
    verdict: str
    reason: str
    numbers: dict = field(default_factory=dict)

    def todict(self) -> dict:
        return asdict(self)


def _by(table, **conditions):
    sel = np.ones(len(table), bool)
    for key, value in conditions.items():
        sel &= (table[key] == value).to_numpy()
    return table[sel]


def _fmt(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}g}"


def _claim1(table) -> ClaimResult:
    text = (
        "Li⁺ is reduced and deposits on the anode under constant potential, "
        "and not under constant charge."
    )
    crit = (
        "In every system with both modes: Li deposited by the end at the most "
        "negative anode potential (ConstP) > Li deposited under ConstQ "
        "(replica means)."
    )
    result = ClaimResult(1, text, FIGURES["deposition_vs_time"], crit, NOT_TESTABLE, "")
    constp, constq = _by(table, mode="constp"), _by(table, mode="constq")
    systems = sorted(set(constp["system"]) & set(constq["system"]))
    if not systems:
        result.reason = "needs ConstP and ConstQ runs of the same system"
        return result
    both = table[table["system"].isin(systems)]
    if not (both["deposited_li"].fillna(0) > 0).any():
        result.reason = (
            "no Li joined the anode in any run (longest run "
            f"{_fmt(both['duration_ps'].max())} ps): too short to see deposition"
        )
        return result
    failing = []
    for system in systems:
        p = _by(constp, system=system)
        p = p[p["anode_potential_V"] == p["anode_potential_V"].min()]
        dp = float(p["deposited_li"].mean())
        dq = float(_by(constq, system=system)["deposited_li"].mean())
        result.numbers[system] = {
            "constp_psi_V": float(p["anode_potential_V"].iloc[0]),
            "deposited_constp": dp,
            "deposited_constq": dq,
        }
        if not dp > dq:
            failing.append(system)
    parts = [
        f"{s}: {_fmt(v['deposited_constp'])} at {_fmt(v['constp_psi_V'])} V vs "
        f"{_fmt(v['deposited_constq'])} at ConstQ"
        for s, v in result.numbers.items()
    ]
    result.verdict = NO_SUPPORT if failing else SUPPORT
    result.reason = "; ".join(parts) + (
        f" (fails in {', '.join(failing)})" if failing else ""
    )
    return result


def _spearman(x, y) -> float:
    from scipy.stats import spearmanr

    if len(x) < 3:
        return math.nan
    rho = spearmanr(x, y).statistic
    return float(rho) if np.isfinite(rho) else math.nan


def _claim2(table) -> ClaimResult:
    text = "Deposition grows with the magnitude of the anode potential."
    crit = (
        "In every system with ≥ 2 ConstP anode potentials: deposited Li at the "
        "most negative ψ > at the least negative ψ, and the Spearman rank "
        "correlation of deposited Li with −ψ is not negative (≥ 3 potentials)."
    )
    result = ClaimResult(
        2, text, FIGURES["deposition_vs_potential"], crit, NOT_TESTABLE, ""
    )
    constp = _by(table, mode="constp")
    systems = [
        s
        for s in sorted(set(constp["system"]))
        if _by(constp, system=s)["anode_potential_V"].nunique() >= 2
    ]
    if not systems:
        result.reason = "needs ≥ 2 anode potentials at constant potential"
        return result
    sub = constp[constp["system"].isin(systems)]
    if not (sub["deposited_li"].fillna(0) > 0).any():
        result.reason = (
            "no Li deposited at any potential (longest run "
            f"{_fmt(sub['duration_ps'].max())} ps): too short to compare"
        )
        return result
    failing = []
    for system in systems:
        s = _by(sub, system=system).groupby("anode_potential_V")["deposited_li"].mean()
        s = s.sort_index()
        rho = _spearman(-s.index.to_numpy(), s.to_numpy())
        ok = s.iloc[0] > s.iloc[-1] and not (rho < 0)
        result.numbers[system] = {
            "deposited_by_psi": {str(k): float(v) for k, v in s.items()},
            "spearman": rho,
        }
        if not ok:
            failing.append(system)
    result.verdict = NO_SUPPORT if failing else SUPPORT
    result.reason = "; ".join(
        f"{s}: "
        + ", ".join(
            f"{_fmt(float(k))} V → {_fmt(v)}" for k, v in n["deposited_by_psi"].items()
        )
        for s, n in result.numbers.items()
    ) + (f" (fails in {', '.join(failing)})" if failing else "")
    return result


def _claim3(table, phases: Mapping[str, str]) -> ClaimResult:
    text = (
        "Deposition is inhomogeneous: Li aggregates in amorphous LiF/Li₂O SEI "
        "and the anode surface develops protrusions."
    )
    crit = (
        "At the most negative ConstP potential run by both: the largest "
        "reduced-Li cluster in the SEI at the end is larger for the amorphous "
        "than for the crystalline SEI system, and so is the anode roughness at "
        "the end (means over systems and replicas)."
    )
    figure = f"{FIGURES['li_clusters']}, {FIGURES['height_maps']}"
    result = ClaimResult(3, text, figure, crit, NOT_TESTABLE, "")
    constp = _by(table, mode="constp")
    phase = constp["system"].map(lambda s: phases.get(s, "unknown"))
    amorph, cryst = constp[phase == "amorphous"], constp[phase == "crystalline"]
    common = sorted(set(amorph["anode_potential_V"]) & set(cryst["anode_potential_V"]))
    if amorph.empty or cryst.empty or not common:
        result.reason = (
            "needs ConstP runs of an amorphous-SEI and a crystalline-SEI system "
            "at a common anode potential"
        )
        return result
    psi = common[0]
    a = amorph[amorph["anode_potential_V"] == psi]
    c = cryst[cryst["anode_potential_V"] == psi]
    if max(a["largest_cluster_max"].max(), c["largest_cluster_max"].max()) <= 0:
        result.reason = (
            f"no reduced Li in the SEI at {_fmt(psi)} V in any frame "
            f"(runs of {_fmt(max(a['duration_ps'].max(), c['duration_ps'].max()))} ps)"
        )
        return result
    la, lc = float(a["largest_cluster"].mean()), float(c["largest_cluster"].mean())
    ra, rc = float(a["roughness_end_A"].mean()), float(c["roughness_end_A"].mean())
    result.numbers = {
        "psi_V": float(psi),
        "largest_cluster_amorphous": la,
        "largest_cluster_crystalline": lc,
        "roughness_amorphous_A": ra,
        "roughness_crystalline_A": rc,
    }
    ok = la > lc and ra > rc
    result.verdict = SUPPORT if ok else NO_SUPPORT
    result.reason = (
        f"at {_fmt(psi)} V: largest cluster {_fmt(la)} (amorphous) vs {_fmt(lc)} "
        f"(crystalline); roughness {_fmt(ra)} Å vs {_fmt(rc)} Å"
    )
    return result


def _claim4(table, rtol: float) -> ClaimResult:
    text = (
        "The constant potential holds: the electrode charge follows ψ and the "
        "Poisson potential across the cell shows the imposed drop."
    )
    crit = (
        "(a) in every system with ≥ 2 ConstP potentials, the least-squares "
        "slope of the mean anode charge vs ψ_anode is positive (positive "
        "differential capacitance: lowering ψ puts electrons on the anode); "
        "(b) in every ConstP run, the Poisson potential drop between the "
        "vacuum levels above and below the stack minus the system's ConstQ "
        "drop matches "
        f"ψ_counter − ψ_anode within {rtol:g}·|Δψ|. Parts that cannot be "
        "computed are skipped; at least one must be."
    )
    figure = f"{FIGURES['potential_profiles']}, {FIGURES['electrode_charge']}"
    result = ClaimResult(4, text, figure, crit, NOT_TESTABLE, "")
    constp = _by(table, mode="constp")
    constq = _by(table, mode="constq")
    reasons, failing, tested = [], [], False
    for system in sorted(set(constp["system"])):
        p = _by(constp, system=system)
        m = p.groupby("anode_potential_V")["anode_charge_e"].mean()
        if len(m) >= 2:
            tested = True
            slope = float(np.polyfit(m.index.to_numpy(float), m.to_numpy(float), 1)[0])
            result.numbers[f"{system}: dQ/dψ (e/V)"] = slope
            reasons.append(f"{system}: dQ_anode/dψ = {_fmt(slope)} e/V")
            if not slope > 0:
                failing.append(f"{system} (capacitance)")
        q = _by(constq, system=system)["vacuum_drop_V"]
        ref = float(q.mean()) if q.notna().any() else 0.0
        for _, run in p.iterrows():
            drop, imposed = run["vacuum_drop_V"], run["imposed_drop_V"]
            if not (np.isfinite(drop) and np.isfinite(imposed)) or imposed == 0:
                continue
            tested = True
            measured = float(drop - ref)
            key = f"{system} {run['potential']} r{run['replica']}"
            result.numbers[key] = {"measured_V": measured, "imposed_V": float(imposed)}
            if abs(measured - imposed) > rtol * abs(imposed):
                failing.append(f"{key} (drop)")
        if len(p):
            drops = [
                v
                for k, v in result.numbers.items()
                if k.startswith(f"{system} ") and isinstance(v, dict)
            ]
            if drops:
                reasons.append(
                    f"{system}: drop "
                    + ", ".join(
                        f"{_fmt(d['measured_V'])} V (imposed {_fmt(d['imposed_V'])} V)"
                        for d in drops
                    )
                )
    if not tested:
        result.reason = (
            "needs ≥ 2 ConstP potentials or a potential profile between two electrodes"
        )
        return result
    result.verdict = NO_SUPPORT if failing else SUPPORT
    result.reason = "; ".join(reasons) + (
        f" (fails: {', '.join(failing)})" if failing else ""
    )
    return result


def _claim5(accuracy: Mapping | None, criteria: Mapping) -> ClaimResult:
    text = (
        "The hybrid model is accurate: energies, forces and charges match the "
        "reference."
    )
    limits = ", ".join(f"{q} ≤ {criteria[k]:g}" for q, k in _ACCURACY_KEYS.items())
    crit = (
        "Ensemble-mean RMSE on the test split (validation split, else all rows) "
        f"at most: {limits} (eV/atom, eV/Å, e) for every quantity present."
    )
    result = ClaimResult(5, text, FIGURES["parity"], crit, NOT_TESTABLE, "")
    if not accuracy:
        result.reason = "no predictions table (results/train/predictions.csv)"
        return result
    failing, parts = [], []
    for quantity, numbers in accuracy.items():
        key = _ACCURACY_KEYS.get(quantity)
        result.numbers[quantity] = numbers
        parts.append(f"{quantity} RMSE {_fmt(numbers['rmse'])} {numbers['unit']}")
        if key is not None and not numbers["rmse"] <= criteria[key]:
            failing.append(quantity)
    result.verdict = NO_SUPPORT if failing else SUPPORT
    result.reason = "; ".join(parts) + (
        f" (above threshold: {', '.join(failing)})" if failing else ""
    )
    return result


def _claim6(table, phases: Mapping[str, str]) -> ClaimResult:
    text = (
        "Li transport in the SEI components (MSD and diffusivity); tested here "
        "as: Li moves faster through amorphous than through crystalline SEI, "
        "the mobility behind Li aggregation in amorphous SEI (our reading)."
    )
    crit = (
        "Mean D_Li of SEI Li over all runs of amorphous-SEI systems > that of "
        "crystalline-SEI systems, by more than the combined error "
        "(DiffusionAnalyzer's standard deviations); a smaller difference is "
        "not resolved."
    )
    result = ClaimResult(6, text, FIGURES["li_msd"], crit, NOT_TESTABLE, "")
    phase = table["system"].map(lambda s: phases.get(s, "unknown"))
    stats = {}
    for name in ("amorphous", "crystalline"):
        sub = table[(phase == name) & table["D_li_sei_cm2_s"].notna()]
        if sub.empty:
            result.reason = f"no SEI diffusivity of a {name}-SEI system"
            return result
        d = float(sub["D_li_sei_cm2_s"].mean())
        err = float(np.sqrt(np.nansum(sub["D_li_sei_std_cm2_s"] ** 2)) / len(sub))
        stats[name] = (d, err)
    (da, ea), (dc, ec) = stats["amorphous"], stats["crystalline"]
    sigma = math.hypot(ea, ec)
    result.numbers = {
        "D_amorphous_cm2_s": da,
        "D_amorphous_err": ea,
        "D_crystalline_cm2_s": dc,
        "D_crystalline_err": ec,
    }
    detail = (
        f"D_Li(SEI) {_fmt(da)} ± {_fmt(ea)} cm²/s (amorphous) vs "
        f"{_fmt(dc)} ± {_fmt(ec)} cm²/s (crystalline)"
    )
    if abs(da - dc) <= sigma:
        result.reason = detail + ": difference within the error"
        return result
    result.verdict = SUPPORT if da > dc else NO_SUPPORT
    result.reason = detail
    return result


def evaluate_claims(
    runs,
    phases: Mapping[str, str] | None = None,
    accuracy: Mapping | None = None,
    criteria: Mapping[str, float] | None = None,
) -> list[ClaimResult]:
    """Check the paper's six claims (DESIGN §7) against the run numbers.

    Parameters
    ----------
    runs : pandas.DataFrame
        One row per run (:func:`run_headline`), replicas separate.
    phases : mapping, optional
        System → SEI phase (:func:`sei_phases`).
    accuracy : mapping, optional
        :func:`constpot.analysis.accuracy.headline_accuracy` output.
    criteria : mapping, optional
        Overrides of :data:`CLAIM_CRITERIA`.

    Returns
    -------
    list of ClaimResult
    """
    import pandas as pd

    crit = {**CLAIM_CRITERIA, **(criteria or {})}
    phases = phases or {}
    if runs is None or len(runs) == 0:
        runs = pd.DataFrame(
            columns=[
                "system",
                "mode",
                "potential",
                "replica",
                "anode_potential_V",
                "deposited_li",
                "duration_ps",
                "largest_cluster",
                "largest_cluster_max",
                "roughness_end_A",
                "anode_charge_e",
                "electrode_drop_V",
                "vacuum_drop_V",
                "imposed_drop_V",
                "D_li_sei_cm2_s",
                "D_li_sei_std_cm2_s",
            ]
        )
    return [
        _claim1(runs),
        _claim2(runs),
        _claim3(runs, phases),
        _claim4(runs, float(crit["potential_drop_rtol"])),
        _claim5(accuracy, crit),
        _claim6(runs, phases),
    ]


def _markdown_table(table) -> str:
    cols = [c for c in _TABLE_COLUMNS if c in table.columns]
    lines = [
        "| " + " | ".join(_TABLE_COLUMNS[c] for c in cols) + " |",
        "|" + "---|" * len(cols),
    ]
    for _, row in table.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if isinstance(v, (float, np.floating)):
                cell = _fmt(float(v))
                s = row.get(f"{c}_std")
                if s is not None and np.isfinite(s) and row.get("n_replicas", 1) > 1:
                    cell += f" ± {_fmt(float(s), 2)}"
            else:
                cell = str(v)
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _json_safe(obj):
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def summarise(
    run_dirs: Sequence[str | Path],
    out_json: str | Path,
    out_md: str | Path,
    out_claims: str | Path,
    predictions: str | Path | None = None,
    phases: Mapping[str, str] | None = None,
    criteria: Mapping[str, float] | None = None,
) -> list[ClaimResult]:
    """Write ``summary.json``, ``summary.md`` and ``paper_claims.md``.

    Parameters
    ----------
    run_dirs : sequence of path
        Folders written by :func:`constpot.analysis.run.analyse_run`.
    out_json, out_md, out_claims : path
        Outputs, each written atomically.
    predictions : path, optional
        ``results/train/predictions.csv`` for the accuracy claim; a missing
        file makes that claim "not testable".
    phases : mapping, optional
        System → SEI phase; default guessed from the names.
    criteria : mapping, optional
        Overrides of :data:`CLAIM_CRITERIA`.

    Returns
    -------
    list of ClaimResult
    """
    import pandas as pd

    from .accuracy import headline_accuracy, read_predictions

    runs = pd.DataFrame([run_headline(d) for d in run_dirs])
    names = sorted(set(runs["system"])) if len(runs) else []
    phases = {**sei_phases(None, names), **(phases or {})}
    accuracy = None
    if predictions is not None and Path(predictions).is_file():
        accuracy = headline_accuracy(read_predictions(predictions))
    claims = evaluate_claims(runs, phases, accuracy, criteria)
    table = summary_table(runs, phases)
    crit = {**CLAIM_CRITERIA, **(criteria or {})}

    doc = {
        "runs": runs.to_dict(orient="records"),
        "table": table.to_dict(orient="records"),
        "phases": phases,
        "accuracy": accuracy,
        "criteria": crit,
        "claims": [c.todict() for c in claims],
    }
    with atomic_path(out_json) as tmp:
        tmp.write_text(json.dumps(_json_safe(doc), indent=2) + "\n")

    md = [
        "# constpot summary",
        "",
        f"{len(runs)} runs; one row per system × mode × anode potential, "
        "replica mean ± standard deviation. Deposited Li: Li that joined the "
        "anode (counted once); reduced Li⁺: Li of SEI or electrolyte with "
        "charge below the threshold, at the end; anode charge: mean over the "
        "final window; roughness and protrusion of the anode surface and "
        "largest reduced-Li cluster in the SEI: at the end.",
        "",
        _markdown_table(table) if len(table) else "(no runs)",
        "",
    ]
    if accuracy:
        md += ["## Model accuracy", "", "| quantity | split | RMSE | MAE | unit |"]
        md += ["|---|---|---|---|---|"]
        for q, a in accuracy.items():
            md.append(
                f"| {q} | {a['split']} | {_fmt(a['rmse'])} | {_fmt(a['mae'])} | "
                f"{a['unit']} |"
            )
        md.append("")
    with atomic_path(out_md) as tmp:
        tmp.write_text("\n".join(md))

    lines = [
        "# Paper claims: what this run shows",
        "",
        "Hu et al., Nat. Commun. 16, 7379 (2025). Each claim is tested by the "
        "figure named and the criterion stated, computed from the numbers in "
        "summary.json. Verdicts: support / no support / not testable at demo "
        "scale (runs missing, nothing happened within the simulated time, or a "
        "difference within its error).",
        "",
    ]
    for c in claims:
        lines += [
            f"## Claim {c.number}: {c.claim}",
            "",
            f"- Figure: `{c.figure}`",
            f"- Criterion: {c.criterion}",
            f"- Verdict: **{c.verdict}**",
            f"- Numbers: {c.reason}",
            "",
        ]
    with atomic_path(out_claims) as tmp:
        tmp.write_text("\n".join(lines))
    return claims
