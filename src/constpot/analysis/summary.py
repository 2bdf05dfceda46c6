"""Headline numbers per run, the summary table, and the written summary.

User guide
----------
:func:`run_headline` reads the tables :func:`constpot.analysis.run.analyse_run`
wrote for one run and returns its headline numbers: whether the MD completed,
Li deposited by the end (structural arrivals on the anode) and its rate per
nm² per ns, reduced Li⁺ (Δq from the reference) and its change, the mean
anode charge over the final window, roughness and rise of the anode surface,
Li aggregated in the SEI since t = 0 and its rate, the co-location excess of
the run's deposits, and the in-plane D_Li per group with its interval and the
diffusive check. :func:`summary_table` averages them over replicas (one row
per system × mode × potential; incomplete runs left out and counted).
:func:`summarise` writes ``summary.json`` (runs, left-out runs, table,
claims with every interval), ``summary.md`` and ``paper_claims.md``; the
claims themselves are :mod:`constpot.analysis.claims`.

Example
-------
>>> summarise(["results/analysis/no_sei/constp_-6.0V_r0"], "summary.json",
...           "summary.md", "paper_claims.md")                # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..io import atomic_path
from ..keys import ANODE, ELECTRODE_NAMES, ELECTROLYTE_REGION, RUN_FILE, SEI_REGION
from ..runs import LABEL_COLUMNS
from ._frames import final_window_count
from .accuracy import headline_accuracy, read_predictions
from .catalogue import load_tables, sei_phases
from .claims import CLAIM_CRITERIA, ClaimResult, evaluate_claims, incomplete
from .validation import read_drift_table

__all__ = [
    "rate_per_nm2_ns",
    "run_headline",
    "sei_phases",
    "summarise",
    "summary_table",
]

#: Headline columns shown in summary.md (column → header).
_TABLE_COLUMNS = {
    "system": "system",
    "sei_phase": "SEI",
    "mode": "mode",
    "potential": "ψ label",
    "anode_potential_V": "ψ_anode (V)",
    "n_replicas": "replicas",
    "n_incomplete": "left out (stopped)",
    "duration_ps": "time (ps)",
    "temperature_mean_K": "T mean (K)",
    "deposited_li": "deposited Li",
    "deposition_rate_per_nm2_ns": "deposition (Li/nm²/ns)",
    "reduced_li_change": "reduced Li⁺ since t = 0",
    "aggregated_change": "aggregated SEI Li since t = 0",
    "anode_charge_e": "anode charge (e)",
    "roughness_end_A": "roughness (Å)",
    "max_rise_A": "largest rise (Å)",
    "D_xy_sei_cm2_s": "D_xy Li SEI (cm²/s)",
    "D_xy_electrolyte_cm2_s": "D_xy Li electrolyte (cm²/s)",
}

#: Diffusion groups summarised per run (group → column stem).
_DIFFUSION_GROUPS = {
    SEI_REGION: "sei",
    "sei:LiF": "sei_LiF",
    "sei:Li2O": "sei_Li2O",
    ELECTROLYTE_REGION: "electrolyte",
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


def rate_per_nm2_ns(count: float, area_A2: float, duration_ps: float) -> float:
    """Events per lateral area and time: count / (area · duration), nm⁻² ns⁻¹.

    NaN for a run of zero duration or area (1 nm² = 100 Å², 1 ns = 1000 ps).
    """
    scale = (area_A2 / 100.0) * (duration_ps / 1000.0)
    return float(count) / scale if scale > 0 else math.nan


def _nan(value) -> float:
    return math.nan if value is None else float(value)


def run_headline(run_dir: str | Path) -> dict:
    """Headline numbers of one analysed run (from its tables and run.json).

    Returns
    -------
    dict
        Labels (system, mode, potential, replica, anode_potential_V) and
        ``complete, md_status, fraction_done, duration_ps, area_nm2,
        deposited_li, deposited_counter_li, deposition_rate_per_nm2_ns,
        reduced_li, reduced_li_change, anode_charge_e, counter_charge_e,
        roughness_start_A, roughness_end_A, protrusion_end_A, max_rise_A,
        largest_cluster_change, aggregated_change, aggregation_events,
        aggregation_rate_per_nm2_ns, colocation_excess, lif_area_fraction``,
        ``D_xy_<group>_{cm2_s,lo_cm2_s,hi_cm2_s,se_cm2_s,status,slope}`` for
        the groups sei, sei_LiF, sei_Li2O, electrolyte, and the potential
        drops.

    Raises
    ------
    ValueError
        A missing table, or a table without a needed column.
    """
    run_dir = Path(run_dir)
    meta_path = run_dir / RUN_FILE
    if not meta_path.is_file():
        raise ValueError(f"{meta_path}: not found (run `constpot analyse-run`)")
    meta = json.loads(meta_path.read_text())
    window = float(meta.get("settings", {}).get("window", 0.5))
    row = {k: meta[k] for k in LABEL_COLUMNS}
    row["anode_potential_V"] = _nan(meta.get("anode_potential_V"))
    md = meta.get("md") or {}
    row["complete"] = meta.get("complete", md.get("complete"))
    row["md_status"] = md.get("status", "unknown")
    row["fraction_done"] = _nan(md.get("fraction_done"))
    row["temperature_mean_K"] = _nan(md.get("temperature_mean_K"))
    duration_ps = float(meta.get("duration_ps", math.nan))
    row["duration_ps"] = duration_ps
    area_A2 = float(meta.get("area_A2", math.nan))
    row["area_nm2"] = area_A2 / 100.0
    row["electrode_drop_V"] = _nan(meta.get("electrode_drop_V"))
    row["vacuum_drop_V"] = _nan(meta.get("vacuum_drop_V"))
    row["imposed_drop_V"] = _nan(meta.get("imposed_drop_V"))
    row["lif_area_fraction"] = float(
        (meta.get("sei_patch_fraction") or {}).get("LiF", math.nan)
    )

    def rate(count: float) -> float:
        return rate_per_nm2_ns(count, area_A2, duration_ps)

    path = run_dir / "deposition.csv"
    dep = _read_csv(path)
    n_tail = final_window_count(len(dep), window)
    row["deposited_li"] = float(_column(dep, path, "deposited").iloc[-1])
    row["deposited_counter_li"] = float(
        _column(dep, path, "deposited_counter").iloc[-1]
    )
    row["deposition_rate_per_nm2_ns"] = rate(row["deposited_li"])
    reduced = _column(dep, path, "reduced_total")
    row["reduced_li"] = float(reduced.iloc[-1])
    row["reduced_li_change"] = float(reduced.iloc[-1] - reduced.iloc[0])
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
    row["max_rise_A"] = float(_column(surf, path, "max_rise_A").iloc[-1])

    path = run_dir / "clusters.csv"
    clus = _read_csv(path)
    row["largest_cluster_change"] = float(
        _column(clus, path, "largest_cluster_change").iloc[-1]
    )
    row["aggregated_change"] = float(_column(clus, path, "aggregated_change").iloc[-1])

    path = run_dir / "events.csv"
    events = _read_csv(path)
    if len(events):
        kind = _column(events, path, "kind")
        first = int(clus["frame"].iloc[0]) if len(clus) else 0
        agg = events[(kind == "aggregation") & (events["frame"] > first)]
        scored = events[
            (kind == "deposition")
            & (events["electrode"] == ELECTRODE_NAMES[ANODE])
            & events["aggregated_before"].notna()
        ]
        row["aggregation_events"] = float(len(agg))
        row["colocation_excess"] = (
            float((scored["aggregated_before"] - scored["p_random"]).mean())
            if len(scored)
            else math.nan
        )
    else:
        row["aggregation_events"] = 0.0
        row["colocation_excess"] = math.nan
    row["aggregation_rate_per_nm2_ns"] = rate(row["aggregation_events"])

    path = run_dir / "diffusion.csv"
    diff = _read_csv(path)
    for group, stem in _DIFFUSION_GROUPS.items():
        sel = diff[diff["group"] == group] if "group" in diff.columns else diff[:0]
        first_row = sel.iloc[0] if len(sel) else {}
        for key in ("cm2_s", "lo_cm2_s", "hi_cm2_s", "se_cm2_s"):
            value = first_row.get(f"D_xy_{key}", math.nan) if len(sel) else math.nan
            row[f"D_xy_{stem}_{key}"] = float(value)
        row[f"D_xy_{stem}_status"] = str(first_row["status"]) if len(sel) else "absent"
        row[f"D_xy_{stem}_slope"] = float(first_row["slope"]) if len(sel) else math.nan
    return row


def summary_table(runs, phases: Mapping[str, str] | None = None):
    """Replica means of the complete runs: one row per system × mode × potential.

    Parameters
    ----------
    runs : pandas.DataFrame
        Rows of :func:`run_headline`.

    Returns
    -------
    pandas.DataFrame
        Means of the numeric headline columns over complete runs (runs of
        unknown status count as complete), ``<col>_std`` over replicas,
        ``n_replicas``, ``n_incomplete`` and ``sei_phase``.
    """
    import pandas as pd

    if runs.empty:
        return pd.DataFrame(columns=list(_TABLE_COLUMNS))
    keys = [c for c in LABEL_COLUMNS if c != "replica"]
    left_out = runs["complete"].map(incomplete).astype(bool)
    numeric = [
        c
        for c in runs.columns
        if c not in (*keys, "replica", "complete")
        and pd.api.types.is_numeric_dtype(runs[c])
    ]
    grouped = runs[~left_out].groupby(keys, sort=True)
    table = grouped[numeric].mean()
    std = grouped[numeric].std(ddof=1).add_suffix("_std")
    table = table.join(std)
    table["n_replicas"] = grouped.size()
    counts = runs.assign(_out=left_out).groupby(keys)["_out"].sum()
    table = table.reindex(counts.index)
    table["n_replicas"] = table["n_replicas"].fillna(0).astype(int)
    table["n_incomplete"] = counts.astype(int)
    table = table.reset_index()
    phases = phases or {}
    table.insert(1, "sei_phase", [phases.get(s, "unknown") for s in table["system"]])
    return table.sort_values(["system", "mode", "anode_potential_V"]).reset_index(
        drop=True
    )


def _fmt(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return f"{x:.{digits}g}"


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
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def _load_events(run_dirs: Sequence[str | Path]):
    """The events tables of the runs (:func:`.catalogue.load_tables`)."""
    return load_tables(run_dirs, "events")


def summarise(
    run_dirs: Sequence[str | Path],
    out_json: str | Path,
    out_md: str | Path,
    out_claims: str | Path,
    predictions: str | Path | None = None,
    phases: Mapping[str, str] | None = None,
    criteria: Mapping[str, float] | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    validation: str | Path | None = None,
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
        Overrides of :data:`~constpot.analysis.claims.CLAIM_CRITERIA`.
    bootstrap, seed, confidence
        Bootstrap replicates, seed and coverage of every interval.
    validation : path, optional
        ``results/validation/drift.csv``
        (:func:`~constpot.analysis.validation.drift_table`): the MD's own
        constant-charge runs against the reference, for claim 5 and the
        summary's "Model on the MD's frames" table.

    Returns
    -------
    list of ClaimResult
    """
    import pandas as pd

    runs = pd.DataFrame([run_headline(d) for d in run_dirs])
    if len(runs):
        runs["potential"] = runs["potential"].astype(str)
    names = sorted(set(runs["system"])) if len(runs) else []
    phases = {**sei_phases(None, names), **(phases or {})}
    pred = accuracy = None
    if predictions is not None and Path(predictions).is_file():
        pred = read_predictions(predictions)
        accuracy = headline_accuracy(pred)
    drift = read_drift_table(validation) if validation is not None else None
    events = _load_events(run_dirs)
    claims = evaluate_claims(
        runs, phases, pred, criteria, events, bootstrap, seed, confidence, drift
    )
    table = summary_table(runs, phases)
    crit = {**CLAIM_CRITERIA, **(criteria or {})}
    left_out = (
        runs[runs["complete"].map(incomplete).astype(bool)]
        if len(runs)
        else pd.DataFrame()
    )
    excluded = [
        {
            "system": r["system"],
            "run": f"{r['mode']}_{r['potential']}_r{r['replica']}",
            "md_status": r["md_status"],
            "fraction_done": r["fraction_done"],
        }
        for _, r in left_out.iterrows()
    ]

    doc = {
        "runs": runs.to_dict(orient="records"),
        "excluded_runs": excluded,
        "table": table.to_dict(orient="records"),
        "phases": phases,
        "accuracy": accuracy,
        "md_validation": (
            drift.to_dict(orient="records") if drift is not None else None
        ),
        "criteria": crit,
        "statistics": {
            "method": "percentile bootstrap",
            "bootstrap": int(bootstrap),
            "seed": int(seed),
            "confidence": float(confidence),
        },
        "claims": [c.todict() for c in claims],
    }
    with atomic_path(out_json) as tmp:
        tmp.write_text(json.dumps(_json_safe(doc), indent=2) + "\n")

    md = [
        "# constpot summary",
        "",
        f"{len(runs)} runs ({len(excluded)} left out: the MD stopped before "
        "its planned steps); one row per system × mode × anode potential, "
        "replica mean ± standard deviation over complete runs. Deposited Li: "
        "Li that started in the SEI or electrolyte and joined the anode's "
        "metal network (counted once, at arrival); reduced Li⁺: Li of the SEI "
        "or electrolyte whose charge dropped by the threshold from its "
        "reference, change since t = 0; aggregated SEI Li: reduced Li in SEI "
        "clusters, change since t = 0; anode charge: mean over the final "
        "window; roughness at the end, largest rise of the surface since "
        "t = 0; D_xy: in-plane, only where the MSD is diffusive.",
        "",
        _markdown_table(table) if len(table) else "(no runs)",
        "",
    ]
    if excluded:
        md += ["## Left out of the claims", ""]
        md += [
            f"- {e['system']}/{e['run']}: MD {e['md_status']}, "
            f"{_fmt(e['fraction_done'])} of the planned steps"
            for e in excluded
        ]
        md.append("")
    if accuracy:
        md += ["## Model accuracy", "", "| quantity | split | RMSE | MAE | unit |"]
        md += ["|---|---|---|---|---|"]
        for q, a in accuracy.items():
            md.append(
                f"| {q} | {a['split']} | {_fmt(a['rmse'])} | {_fmt(a['mae'])} | "
                f"{a['unit']} |"
            )
        md.append("")
    if drift is not None:
        md += [
            "## Model on the MD's frames",
            "",
            "Constant-charge runs, first and last frames labelled by the "
            "reference: the energy change along the run, model and reference, "
            "and their difference (drift), meV/atom.",
            "",
            "| run | atoms | ps | model ΔE | reference ΔE | drift |",
            "|---|---|---|---|---|---|",
        ]
        md += [
            f"| {r['run']} | {r['n_atoms']} | {_fmt(r['duration_ps'])} | "
            f"{_fmt(r['model_change_meV_per_atom'])} | "
            f"{_fmt(r['reference_change_meV_per_atom'])} | "
            f"{_fmt(r['drift_meV_per_atom'])} |"
            for _, r in drift.iterrows()
        ]
        md.append("")
    with atomic_path(out_md) as tmp:
        tmp.write_text("\n".join(md))

    pct = f"{100 * confidence:g} %"
    lines = [
        "# Paper claims: what this run shows",
        "",
        "Hu et al., Nat. Commun. 16, 7379 (2025). Each claim is tested by the "
        "figure named and the criterion stated, computed from the numbers in "
        f"summary.json. Intervals: {pct} percentile bootstrap, {bootstrap} "
        f"replicates, seed {seed}. Verdicts: supported / not supported / not "
        "testable (runs missing, too few replicas or events, motion not yet "
        "diffusive, or an interval that holds zero). Runs whose MD stopped "
        f"early are left out ({len(excluded)}).",
        "",
    ]
    for c in claims:
        lines += [
            f"## Claim {c.number}: {c.claim}",
            "",
            f"- Figure: `{c.figure}`",
            f"- Criterion: {c.criterion}",
            f"- Verdict: **{c.verdict}**",
            f"- Numbers: {c.reason or 'none'}",
        ]
        for name, iv in c.intervals.items():
            lines.append(
                f"  - {name}: {_fmt(iv['value'])} "
                f"[{_fmt(iv['lo'])}, {_fmt(iv['hi'])}] {iv['unit']}".rstrip()
                + f" (n = {iv['n_units']})"
            )
        lines.append("")
    with atomic_path(out_claims) as tmp:
        tmp.write_text("\n".join(lines))
    return claims
