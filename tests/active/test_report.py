"""Reports: exact class counts, totals that are sums of rows, across iterations."""

import csv

import numpy as np
import pytest

from constpot.active import (
    ACROSS_COLUMNS,
    CLASSES,
    REPORT_COLUMNS,
    ActiveSettings,
    across_iterations,
    select_iteration,
    write_across_csv,
    write_iteration_report,
)
from constpot.errors import SetupError

from .conftest import write_run

#: The trust window these tests were written for (eV/Å).
WINDOW = {"trust_lo_eV_A": 0.05, "trust_hi_eV_A": 0.3}


#: 2 accurate, 3 candidate, 1 failed.
SIGMA_A = [0.01, 0.04, 0.05, 0.1, 0.2999, 0.3]
#: 1 accurate, 1 candidate, 2 failed.
SIGMA_B = [0.02, 0.1, 0.5, 1.0]
#: 4 accurate.
SIGMA_C = [0.0, 0.01, 0.02, 0.03]


@pytest.fixture
def selection(tmp_path, toy):
    runs = [
        write_run(tmp_path, "a", "constq_T300K", SIGMA_A),
        write_run(
            tmp_path, "a", "constp_-6.0V_T400K", SIGMA_B, mode="constp",
            anode_potential_V=-6.0, temperature_K=400.0, status="stopped",
        ),
        write_run(
            tmp_path, "b", "constp_-6.0V_T300K", SIGMA_C, mode="constp",
            anode_potential_V=-6.0,
        ),
    ]  # fmt: skip
    settings = ActiveSettings(**WINDOW, max_candidates=3, min_step_gap=0)
    return select_iteration(
        runs, settings, seed=0, iteration=0, structures={"a": toy, "b": toy}
    )


def test_exact_counts_per_run(selection):
    rows = {(r["system"], r["condition"]): r for r in selection.report["runs"]}
    a = rows["a", "constq_T300K"]
    assert (a["n_accurate"], a["n_candidate"], a["n_failed"]) == (2, 3, 1)
    assert a["fraction_candidate"] == 3 / 6 and a["completed"] is True
    assert a["anode_potential_V"] is None and a["potential"] == "none"
    b = rows["a", "constp_-6.0V_T400K"]
    assert (b["n_accurate"], b["n_candidate"], b["n_failed"]) == (1, 1, 2)
    assert b["completed"] is False and b["status"] == "stopped"
    assert b["temperature_K"] == 400.0 and b["anode_potential_V"] == -6.0
    assert b["max_deviation_eV_A"] == 1.0
    assert b["mean_deviation_eV_A"] == pytest.approx(np.mean(SIGMA_B), rel=1e-15)
    c = rows["b", "constp_-6.0V_T300K"]
    assert c["fraction_accurate"] == 1.0 and c["n_selected"] == 0


def test_totals_are_sums_of_rows(selection):
    report = selection.report
    runs = report["runs"]
    keys = ["n_frames", "n_selected", *(f"n_{c}" for c in CLASSES)]
    for scope, field in (("systems", "system"), ("potentials", "potential")):
        for total in report[scope]:
            members = [r for r in runs if r[field] == total[field]]
            assert total["n_runs"] == len(members)
            for key in keys:
                assert total[key] == sum(r[key] for r in members), (scope, key)
        for key in keys:
            assert sum(t[key] for t in report[scope]) == report["overall"][key]
    overall = report["overall"]
    assert (overall["n_accurate"], overall["n_candidate"], overall["n_failed"]) == (
        7,
        4,
        3,
    )
    assert overall["n_selected"] == 3 == len(selection.frames)
    assert sum(overall[f"fraction_{c}"] for c in CLASSES) == pytest.approx(1, abs=1e-15)
    assert overall["n_completed"] == 2
    assert [t["potential"] for t in report["potentials"]] == ["-6.0V", "none"]


def test_csv_rows_match_json(selection, tmp_path):
    write_iteration_report(selection.report, tmp_path / "r.json", tmp_path / "r.csv")
    with open(tmp_path / "r.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == REPORT_COLUMNS
    scopes = [r["scope"] for r in rows]
    assert scopes == ["run"] * 3 + ["system"] * 2 + ["potential"] * 2 + ["overall"]
    assert rows[-1]["n_frames"] == "14" and rows[0]["anode_potential_V"] == ""


def _report(k, systems):
    """A minimal iteration report: {system: (accurate, candidate, failed)}."""
    rows = []
    for name, counts in systems.items():
        row = {"system": name, "n_runs": 1, "n_frames": sum(counts), "n_selected": 0}
        row.update({f"n_{c}": n for c, n in zip(CLASSES, counts, strict=True)})
        rows.append(row)
    overall = {key: sum(r[key] for r in rows) for key in rows[0] if key != "system"}
    return {"iteration": k, "systems": rows, "overall": overall}


def test_across_iterations_fractions(tmp_path):
    reports = [
        _report(1, {"a": (6, 3, 1), "b": (9, 1, 0)}),
        _report(0, {"a": (2, 6, 2), "b": (5, 5, 0)}),
    ]
    rows = across_iterations(reports)
    overall = [r for r in rows if r["scope"] == "overall"]
    assert [r["iteration"] for r in overall] == [0, 1]
    assert overall[0]["fraction_accurate"] == 7 / 20
    assert overall[1]["fraction_accurate"] == 15 / 20
    a1 = next(r for r in rows if r["iteration"] == 1 and r["system"] == "a")
    assert (a1["fraction_accurate"], a1["fraction_candidate"]) == (0.6, 0.3)
    write_across_csv(rows, tmp_path / "x.csv")
    with open(tmp_path / "x.csv", newline="") as fh:
        back = list(csv.DictReader(fh))
    assert tuple(back[0]) == ACROSS_COLUMNS
    assert float(back[0]["fraction_failed"]) == 2 / 20
    with pytest.raises(SetupError, match="two reports of iteration 0"):
        across_iterations([reports[1], reports[1]])
