"""The reports of active learning: one per iteration, one across iterations.

**Per iteration** (:func:`iteration_report`, written by
:func:`write_iteration_report` as JSON and CSV). Each row counts frames by
class and gives the fractions (``n_<class> / n_frames``; None when a row has
no frame), the frames selected and the largest and mean model deviation
(eV/Å). Rows come in four scopes:

- ``run``: one per exploration run, with ``system``, ``condition``,
  ``mode``, ``potential`` (``"-6.0V"`` or ``"none"``), ``anode_potential_V``
  (None in constq), ``temperature_K``, ``status`` and ``completed`` (the run
  reached its planned steps; a run stopped by a guard has only the frames
  written before the stop);
- ``system``: the runs of one system summed;
- ``potential``: the runs at one anode potential (or constq), all systems;
- ``overall``: every run.

Sums are over frames, so a total's fraction is frame-weighted. The JSON
also holds ``iteration``, ``seed``, ``settings`` (the thresholds and caps)
and ``selected`` (run, step, deviation, atoms, carve atom of each pick).

**Across iterations** (:func:`across_iterations`): one row per iteration and
scope (``overall``, then each system) with the class counts and fractions;
the figure is :func:`constpot.active.figure.plot_fractions`.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import SetupError
from ..io import atomic_path, read_json_object
from ..keys import STEP
from .classify import class_counts
from .keys import CARVE_ATOM, CLASSES, DEVIATION, RUN

__all__ = [
    "ACROSS_COLUMNS",
    "REPORT_COLUMNS",
    "across_iterations",
    "iteration_report",
    "read_iteration_report",
    "write_across_csv",
    "write_iteration_report",
]

#: Counts, fractions and deviation statistics of every report row.
_TALLY = (
    "n_frames",
    *(f"n_{c}" for c in CLASSES),
    *(f"fraction_{c}" for c in CLASSES),
    "n_selected",
    "max_deviation_eV_A",
    "mean_deviation_eV_A",
)
#: Columns of the per-iteration CSV (empty where a scope has no value).
REPORT_COLUMNS = (
    "iteration",
    "scope",
    "system",
    "condition",
    "mode",
    "potential",
    "anode_potential_V",
    "temperature_K",
    "status",
    "completed",
    "n_runs",
    "n_completed",
    *_TALLY,
)
#: Columns of the across-iterations CSV.
ACROSS_COLUMNS = (
    "iteration",
    "scope",
    "system",
    "n_runs",
    "n_frames",
    *(f"n_{c}" for c in CLASSES),
    *(f"fraction_{c}" for c in CLASSES),
    "n_selected",
)


def _tally(classes: np.ndarray, sigma: np.ndarray, n_selected: int) -> dict:
    counts = class_counts(classes)
    n = len(classes)
    row = {"n_frames": n}
    row.update({f"n_{c}": counts[c] for c in CLASSES})
    row.update({f"fraction_{c}": counts[c] / n if n else None for c in CLASSES})
    row["n_selected"] = int(n_selected)
    row["max_deviation_eV_A"] = float(sigma.max()) if n else None
    row["mean_deviation_eV_A"] = float(sigma.mean()) if n else None
    return row


def iteration_report(
    runs,
    classes: Sequence[np.ndarray],
    picks: Sequence[tuple[int, int]],
    settings,
    *,
    seed: int,
    iteration: int,
    frames: Sequence = (),
) -> dict:
    """The report of one iteration (see the module docstring).

    Parameters
    ----------
    runs : sequence of ExplorationRun
    classes : sequence of (n_frames,) ndarray of str
        Each run's frame classes.
    picks : sequence of (int, int)
        (run index, frame index) of the selected frames.
    settings : ActiveSettings
    seed, iteration : int
    frames : sequence of ase.Atoms
        The selected frames (for their atom counts and carve atoms).

    Returns
    -------
    dict
        ``iteration``, ``seed``, ``settings``, ``runs`` (rows), ``systems``,
        ``potentials`` (rows), ``overall`` (a row), ``selected``,
        ``constpot_version``.
    """
    n_sel = np.zeros(len(runs), dtype=np.int64)
    for r, _ in picks:
        n_sel[r] += 1
    rows = []
    for r, run in enumerate(runs):
        rows.append(
            {
                "scope": "run",
                "system": run.system,
                "condition": run.condition,
                "mode": run.mode,
                "potential": run.potential,
                "anode_potential_V": run.anode_potential_V,
                "temperature_K": run.temperature_K,
                "status": run.status,
                "completed": run.completed,
                **_tally(np.asarray(classes[r]), run.deviation_eV_A, n_sel[r]),
            }
        )

    def total(scope: str, key: str | None, members: list[int]) -> dict:
        row = {"scope": scope}
        if key is not None:
            row[key] = getattr(runs[members[0]], key)
        row["n_runs"] = len(members)
        row["n_completed"] = sum(runs[r].completed for r in members)
        cls = np.concatenate([np.asarray(classes[r], dtype=object) for r in members])
        sig = np.concatenate([runs[r].deviation_eV_A for r in members])
        row.update(_tally(cls, sig, int(n_sel[members].sum())))
        return row

    def grouped(key: str) -> list[dict]:
        names = sorted({getattr(run, key) for run in runs})
        return [
            total(key, key, [r for r, run in enumerate(runs) if getattr(run, key) == n])
            for n in names
        ]

    selected = []
    for (r, k), frame in zip(picks, frames, strict=False):
        selected.append(
            {
                RUN: runs[r].name,
                STEP: int(runs[r].steps[k]),
                DEVIATION: float(runs[r].deviation_eV_A[k]),
                "n_atoms": len(frame),
                CARVE_ATOM: int(frame.info.get(CARVE_ATOM, -1)),
            }
        )
    return {
        "iteration": int(iteration),
        "seed": int(seed),
        "settings": settings.todict(),
        "runs": rows,
        "systems": grouped("system"),
        "potentials": grouped("potential"),
        "overall": total("overall", None, list(range(len(runs)))),
        "selected": selected,
        "constpot_version": __version__,
    }


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _rows(report: dict) -> list[dict]:
    rows = [*report["runs"], *report["systems"], *report["potentials"]]
    rows.append(report["overall"])
    return [{"iteration": report["iteration"], **row} for row in rows]


def write_iteration_report(
    report: dict, json_path: str | os.PathLike, csv_path: str | os.PathLike
) -> None:
    """Write the report as JSON and as a CSV of :data:`REPORT_COLUMNS`.

    The CSV has the run rows, then the system, potential and overall totals;
    an empty cell is a value that does not apply (None). Both files appear
    together or not at all.
    """
    with atomic_path(json_path) as tj, atomic_path(csv_path) as tc:
        tj.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        _write_csv(tc, REPORT_COLUMNS, _rows(report))


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_value(row.get(c)) for c in columns])


def read_iteration_report(path: str | os.PathLike) -> dict:
    """Read a report written by :func:`write_iteration_report`.

    Raises
    ------
    SetupError
        Missing file, not JSON, or a key of the report missing (named).
    """
    path = Path(path)
    report = read_json_object(path, "iteration report")
    for key in ("iteration", "systems", "overall"):
        if key not in report:
            raise SetupError(f"{path}: {key}: missing (not an iteration report)")
    return report


def _across_row(iteration: int, scope: str, system: str, row: dict) -> dict:
    out = {"iteration": iteration, "scope": scope, "system": system}
    out.update({c: row[c] for c in ACROSS_COLUMNS if c in row and c not in out})
    for c in CLASSES:
        n = row["n_frames"]
        out[f"fraction_{c}"] = row[f"n_{c}"] / n if n else None
    return out


def across_iterations(reports: Sequence[dict]) -> list[dict]:
    """Rows of :data:`ACROSS_COLUMNS`: per iteration, overall then each system.

    Parameters
    ----------
    reports : sequence of dict
        Iteration reports (:func:`read_iteration_report`), any order; sorted
        by iteration.

    Raises
    ------
    SetupError
        Two reports of the same iteration.
    """
    by_iteration: dict[int, dict] = {}
    for report in reports:
        k = int(report["iteration"])
        if k in by_iteration:
            raise SetupError(f"two reports of iteration {k}")
        by_iteration[k] = report
    rows = []
    for k in sorted(by_iteration):
        report = by_iteration[k]
        rows.append(_across_row(k, "overall", "all", report["overall"]))
        for row in report["systems"]:
            rows.append(_across_row(k, "system", row["system"], row))
    return rows


def write_across_csv(rows: Sequence[dict], path: str | os.PathLike) -> None:
    """Write :func:`across_iterations` rows (empty cell: fraction of no frame)."""
    with atomic_path(path) as tmp:
        _write_csv(tmp, ACROSS_COLUMNS, rows)
