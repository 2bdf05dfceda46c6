"""The paper's model beside its variants, on the same observables.

A *variant* changes one piece of the paper's physics (the metallic-Li rule,
the QEq charge constraints, ...) and is run through the same sweep and the
same analysis as the paper's model (config ``variants:``). This module reads
the ``summary.json`` of each (written by
:func:`constpot.analysis.summary.summarise`) and puts them side by side:

- every claim's verdict and every interval behind it (value [lo, hi]), one
  column per model;
- the headline numbers of the summary table (deposited Li, reduced Li⁺,
  aggregated SEI Li, anode charge, roughness) per system, mode and
  potential, one column per model, so a variant's effect on an observable
  is read off one row.

Nothing is recomputed: a number here is the number in that model's summary.

Example
-------
>>> summaries = {"paper": "results/summary.json",                # doctest: +SKIP
...              "anion_exclusion": "results/variants/anion_exclusion/summary.json"}
>>> compare_variants(summaries, "results/variants.md", "results/variants.csv")
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path

from ..io import atomic_path
from .summary import _TABLE_COLUMNS

__all__ = ["HEADLINES", "compare_variants", "read_summaries"]

#: Summary-table columns compared across models (column → the summary's label).
HEADLINES: dict[str, str] = {
    column: _TABLE_COLUMNS[column]
    for column in (
        "deposited_li",
        "deposition_rate_per_nm2_ns",
        "reduced_li_change",
        "aggregated_change",
        "anode_charge_e",
        "roughness_end_A",
        "max_rise_A",
    )
}


def read_summaries(paths: Mapping[str, str | Path]) -> dict[str, dict]:
    """Load each model's ``summary.json``.

    Raises
    ------
    FileNotFoundError, ValueError
        A missing file, or one that is not a summary (no ``claims``).
    """
    out = {}
    for name, path in paths.items():
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"summary of {name!r} not found: {path}")
        doc = json.loads(path.read_text())
        if not isinstance(doc, dict) or "claims" not in doc:
            raise ValueError(f"{path}: not a constpot summary.json (no 'claims')")
        out[name] = doc
    return out


def _interval_text(iv: Mapping | None) -> str:
    if not iv:
        return "—"
    value, lo, hi = (iv.get(k) for k in ("value", "lo", "hi"))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    unit = f" {iv['unit']}" if iv.get("unit") else ""
    if lo is None or hi is None:
        return f"{value:.3g}{unit}"
    return f"{value:.3g} [{lo:.3g}, {hi:.3g}]{unit}"


def _claim_rows(docs: Mapping[str, dict]) -> list[dict]:
    """One row per claim verdict and per interval, one column per model."""
    rows: list[dict] = []
    numbers = sorted({int(c["number"]) for d in docs.values() for c in d["claims"]})
    for number in numbers:
        by_model = {
            m: next((c for c in d["claims"] if int(c["number"]) == number), None)
            for m, d in docs.items()
        }
        title = next(c["claim"] for c in by_model.values() if c is not None)
        rows.append(
            {
                "claim": number,
                "quantity": f"verdict: {title}",
                **{m: (c["verdict"] if c else "—") for m, c in by_model.items()},
            }
        )
        names = sorted(
            {k for c in by_model.values() if c for k in (c.get("intervals") or {})}
        )
        for key in names:
            rows.append(
                {
                    "claim": number,
                    "quantity": key,
                    **{
                        m: _interval_text((c or {}).get("intervals", {}).get(key))
                        for m, c in by_model.items()
                    },
                }
            )
    return rows


def _headline_rows(docs: Mapping[str, dict]) -> list[dict]:
    """One row per system × mode × potential × headline, one column per model."""
    keyed: dict[tuple, dict] = {}
    for model, doc in docs.items():
        for row in doc.get("table") or []:
            key = (row.get("system"), row.get("mode"), str(row.get("potential")))
            for column, label in HEADLINES.items():
                value = row.get(column)
                entry = keyed.setdefault((*key, label), {})
                entry[model] = value
    rows = []
    for (system, mode, potential, label), values in sorted(keyed.items()):
        rows.append(
            {
                "system": system,
                "mode": mode,
                "potential": potential,
                "quantity": label,
                **{m: values.get(m) for m in docs},
            }
        )
    return rows


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:.3g}"
    return str(value)


def compare_variants(
    summaries: Mapping[str, str | Path],
    out_md: str | Path,
    out_csv: str | Path,
    descriptions: Mapping[str, str] | None = None,
) -> dict[str, list[dict]]:
    """Write the side-by-side comparison of the paper's model and its variants.

    Parameters
    ----------
    summaries : mapping name → path
        ``summary.json`` of each model, the paper's first.
    out_md, out_csv : path
        Markdown report; CSV of the headline rows (one column per model).
    descriptions : mapping name → str, optional
        One line per variant (config ``variants.<name>.description``).

    Returns
    -------
    dict
        ``{"claims": rows, "headlines": rows}`` as written.
    """
    docs = read_summaries(summaries)
    models = list(docs)
    claims = _claim_rows(docs)
    headlines = _headline_rows(docs)

    with atomic_path(out_csv) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(
            fh, fieldnames=["system", "mode", "potential", "quantity", *models]
        )
        writer.writeheader()
        for row in headlines:
            writer.writerow({k: _fmt(v) for k, v in row.items()})

    lines = [
        "# The paper's model and its variants",
        "",
        "Each variant changes one piece of the paper's physics and runs "
        "through the same sweep and analysis; numbers are copied from each "
        "model's summary.json (intervals: the summary's bootstrap).",
        "",
    ]
    for model in models:
        text = (descriptions or {}).get(model, "")
        if model == models[0] and not text:
            text = "the paper's model (default)"
        lines.append(f"- **{model}**: {text}")
    lines += ["", "## Claims", ""]
    lines.append("| claim | quantity | " + " | ".join(models) + " |")
    lines.append("|---|---|" + "---|" * len(models))
    for row in claims:
        cells = [str(row["claim"]), row["quantity"], *(row[m] for m in models)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Observables (replica means)", ""]
    lines.append("| system | mode | ψ | quantity | " + " | ".join(models) + " |")
    lines.append("|---|---|---|---|" + "---|" * len(models))
    for row in headlines:
        cells = [row["system"], row["mode"], row["potential"], row["quantity"]]
        cells += [_fmt(row[m]) for m in models]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    with atomic_path(out_md) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return {"claims": claims, "headlines": headlines}
