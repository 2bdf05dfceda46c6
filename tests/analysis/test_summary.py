"""analyse-run, summarise and figures end to end on synthetic runs."""

import json

import numpy as np
import pandas as pd
import pytest

from constpot import keys
from constpot.analysis import FIGURES, AnalysisSettings, analyse_run, sei_phases
from constpot.analysis.claims import NOT_TESTABLE, SUPPORTED
from constpot.cli import main

from .synthetic import deposition_run, frames, write_run

COMPLETED = {"status": "completed", "steps": 50, "settings": {"n_steps": 50}}
STOPPED = {
    "status": "stopped",
    "steps": 20,
    "stop_reason": "min_distance",
    "settings": {"n_steps": 50},
}


def test_analyse_run_scores_a_deposit_on_an_earlier_aggregate(tmp_path):
    """Four SEI Li over the LiF patch are reduced at 100 fs (an aggregate
    of 4 at 3.54 Å spacing); an electrolyte Li then deposits in the hollow
    under it at 300 fs: aggregated before, within 2.5 Å, over LiF."""
    traj = deposition_run(7, arrive=3)
    a = traj[0]
    sei_li = np.flatnonzero((a.arrays[keys.REGION] == "sei") & (a.symbols == "Li"))
    xy = a.positions[sei_li, :2]
    group = sei_li[np.linalg.norm(xy - (2.5, 2.5), axis=1) < 2.0]
    # (1.25, 1.25), (3.75, 3.75) at 24 Å; (1.25, 3.75), (3.75, 1.25) at 26.5 Å
    assert len(group) == 4
    for atoms in traj[1:]:
        atoms.arrays[keys.CHARGES][group] = 0.1
    run = tmp_path / "md" / "amor" / "constp_-1.0V_r0"
    path = write_run(run, traj, COMPLETED)
    settings = AnalysisSettings(cluster_cutoff_A=3.6, colocation_radius_A=2.5)
    meta = analyse_run(path, tmp_path / "out", settings=settings)
    assert meta["complete"] is True and meta["md"]["fraction_done"] == 1.0
    assert meta["sei_patch_fraction"] == pytest.approx({"LiF": 0.5, "Li2O": 0.5})
    events = pd.read_csv(tmp_path / "out" / "events.csv")
    # the adatom also raises its height-map bin by 1.8 Å: a protrusion event
    kinds = ["aggregation"] * 4 + ["deposition", "protrusion"]
    assert events["kind"].tolist() == kinds
    assert (events["size"].iloc[:4] == 4).all()
    assert events["aggregated_before"].iloc[-1] == 1.0
    dep = events.iloc[4]
    assert dep["time_ps"] == pytest.approx(0.3)
    assert dep["aggregated_before"] == 1.0 and dep["aggregated_near"] == 1.0
    assert 0.0 < dep["p_random"] < 0.5
    assert dep["sei_patch"] == "LiF"
    assert (events["system"] == "amor").all()
    clusters = pd.read_csv(tmp_path / "out" / "clusters.csv")
    assert clusters["aggregated_change"].tolist() == [0, 4, 4, 4, 4, 4, 4]


@pytest.fixture
def analysed(tmp_path):
    """Two systems x (ConstP at -2 V, 2 replicas; at 0 V; ConstQ, 2
    replicas), analysed by the CLI; and a ConstQ run that a guard stopped."""
    runs = []
    plan = [
        ("constp", "-2.0V", -2.0, 0),
        ("constp", "-2.0V", -2.0, 1),
        ("constp", "0.0V", 0.0, 0),
        ("constq", "none", None, 0),
        ("constq", "none", None, 1),
    ]
    for system in ("amor", "cryst"):
        for mode, label, psi, replica in plan:
            kw = {"mode": mode}
            if psi is not None:
                kw["anode_potential_V"] = psi
            traj = deposition_run(6, **kw) if psi == -2.0 else frames(6, **kw)
            run = f"{mode}_{label}_r{replica}"
            path = write_run(tmp_path / "md" / system / run, traj, COMPLETED)
            out = tmp_path / "analysis" / system / run
            assert main(["analyse-run", "--traj", path, "--out-dir", str(out)]) == 0
            runs.append(str(out))
    stopped = deposition_run(6, mode="constq")  # would count as ConstQ deposition
    path = write_run(tmp_path / "md" / "amor" / "constq_none_r2", stopped, STOPPED)
    out = tmp_path / "analysis" / "amor" / "constq_none_r2"
    assert main(["analyse-run", "--traj", path, "--out-dir", str(out)]) == 0
    runs.append(str(out))
    return tmp_path, runs


def test_cli_summarise_and_figures(analysed):
    root, runs = analysed
    config = json.dumps(
        {
            "systems": {
                "amor": {"sei": {"phase": "amorphous"}},
                "cryst": {"sei": {"phase": "crystalline"}},
            },
            "analysis": {
                "bootstrap": 300,
                "seed": 4,
                "claims": {"potential_drop_rtol": 0.3, "min_events": 2},
            },
        }
    )
    predictions = root / "predictions.csv"
    rng = np.random.default_rng(0)
    ref = rng.normal(size=60)
    pd.DataFrame(
        {
            "model": 0,
            "frame": np.repeat(np.arange(20), 3),
            "category": "li_bulk",
            "split": "test",
            "quantity": ["energy_per_atom", "force", "charge"] * 20,
            "reference": ref,
            "predicted": ref + 0.001 * rng.normal(size=60),
        }
    ).to_csv(predictions, index=False)
    out = root / "out"
    args = ["--runs", *runs, "--predictions", str(predictions)]
    args += ["--config-json", config]
    assert main(["figures", *args, "--out-dir", str(out / "fig")]) == 0
    for name in FIGURES.values():
        assert (out / "fig" / name).stat().st_size > 0
    files = ["--json", str(out / "s.json"), "--md", str(out / "s.md")]
    files += ["--claims", str(out / "claims.md")]
    assert main(["summarise", *args, *files]) == 0
    doc = json.loads((out / "s.json").read_text())
    assert len(doc["runs"]) == 11
    assert doc["statistics"] == {
        "method": "percentile bootstrap",
        "bootstrap": 300,
        "seed": 4,
        "confidence": 0.95,
    }
    assert doc["excluded_runs"] == [
        {
            "system": "amor",
            "run": "constq_none_r2",
            "md_status": "stopped",
            "fraction_done": 0.4,
        }
    ]
    claims = {c["number"]: c for c in doc["claims"]}
    # 1: one Li deposited at -2 V in each replica, none at ConstQ (the stopped
    # ConstQ run with its deposit is left out)
    assert claims[1]["verdict"] == SUPPORTED, claims[1]["reason"]
    # 2: one replica at 0 V: no spread
    assert claims[2]["verdict"] == NOT_TESTABLE
    assert "too few replicas" in claims[2]["reason"]
    assert claims[5]["verdict"] == SUPPORTED
    # 6: 0.5 ps of static ions is not diffusive
    assert claims[6]["verdict"] == NOT_TESTABLE
    for number in (1, 2, 4, 5):
        intervals = claims[number]["intervals"]
        assert intervals, number
        for iv in intervals.values():
            assert {"value", "lo", "hi", "confidence", "n_boot", "unit"} <= set(iv)
    iv = next(iter(claims[1]["intervals"].values()))
    # 1 Li / (1 nm² · 0.5 ps) = 2000 Li/nm²/ns in both replicas
    assert iv["value"] == pytest.approx(2000.0) and iv["lo"] == pytest.approx(2000.0)
    text = (out / "claims.md").read_text()
    for n in range(1, 7):
        assert f"## Claim {n}:" in text
    assert "Criterion:" in text and "Verdict:" in text and "[" in text
    table = (out / "s.md").read_text()
    assert "| amor | amorphous | constq | none |" in table
    assert "constq_none_r2: MD stopped" in table


def test_old_config_keys_are_named():
    with pytest.raises(ValueError, match=r"reduced_charge_e.*reduction_dq_e"):
        AnalysisSettings.from_config({"reduced_charge_e": 0.3})


def test_cli_bad_trajectory_fails_cleanly(tmp_path, capsys):
    run = tmp_path / "md" / "s" / "constp_-1.0V_r0"
    traj = frames(2)
    for atoms in traj:
        del atoms.arrays["region"]
    path = write_run(run, traj)
    out = tmp_path / "analysis"
    assert main(["analyse-run", "--traj", path, "--out-dir", str(out)]) == 2
    assert "'region'" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
    assert (
        main(
            [
                "analyse-run",
                "--traj",
                str(tmp_path / "nope" / "x.extxyz"),
                "--out-dir",
                str(out),
            ]
        )
        == 2
    )


def test_sei_phases_from_config_and_names():
    systems = {"a": {"sei": {"phase": "crystalline"}}, "b": {"preset": "demo"}}
    phases = sei_phases(systems, ["a", "my_crystal", "x_amorph", "no_sei", "zzz"])
    assert phases == {
        "a": "crystalline",
        "b": "amorphous",  # the build presets' default
        "my_crystal": "crystalline",
        "x_amorph": "amorphous",
        "no_sei": "none",
        "zzz": "unknown",
    }


def test_workflow_lists_every_table_and_figure_with_a_caption():
    """analysis_common.smk names each table of RUN_TABLES and figure of
    FIGURES; each figure has a caption."""
    from pathlib import Path

    from constpot.analysis import RUN_TABLES

    root = Path(__file__).resolve().parents[2]
    helpers = (root / "workflow" / "rules" / "analysis_common.smk").read_text()
    rules = (root / "workflow" / "rules" / "analysis.smk").read_text()
    for stem in RUN_TABLES:
        assert f'"{stem}"' in helpers, stem
    for name in FIGURES.values():
        stem = name.removesuffix(".png")
        assert f'"{stem}"' in helpers
        assert f"results/figures/{name}" in rules
        assert (root / "workflow" / "report" / f"analysis_{stem}.rst").is_file()


def test_schema_defaults_are_the_package_defaults():
    """The config schema's `analysis:` defaults and the package's agree."""
    from constpot.analysis.claims import CLAIM_CRITERIA
    from constpot.config import resolve_config

    section = resolve_config({}, "defaults", partial=True)["analysis"]
    assert AnalysisSettings.from_config(section) == AnalysisSettings()
    assert section["claims"] == CLAIM_CRITERIA
    # claims: the summary's thresholds; validation_replicas: which runs the
    # workflow validates (analysis_common.smk); neither is a per-run setting
    workflow_keys = {"claims", "validation_replicas"}
    assert set(section) - workflow_keys == set(AnalysisSettings().todict())
    assert section["validation_replicas"] == 0
