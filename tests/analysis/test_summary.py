"""Summary table and the paper-claims logic on synthetic numbers; the
analysis CLI end to end on synthetic runs."""

import json

import numpy as np
import pandas as pd
import pytest

from constpot.analysis import FIGURES, evaluate_claims, sei_phases
from constpot.analysis.summary import NO_SUPPORT, NOT_TESTABLE, SUPPORT
from constpot.cli import main

from .synthetic import deposition_run, frames, write_run

PHASES = {"amor": "amorphous", "cryst": "crystalline"}


def _run(system, mode, psi, **numbers):
    row = {
        "system": system,
        "mode": mode,
        "potential": "none" if mode == "constq" else f"{psi}V",
        "replica": 0,
        "anode_potential_V": np.nan if mode == "constq" else psi,
        "duration_ps": 10.0,
        "deposited_li": 0.0,
        "largest_cluster": 0.0,
        "largest_cluster_max": 0.0,
        "roughness_end_A": 0.1,
        "anode_charge_e": 0.0,
        "electrode_drop_V": np.nan,
        "vacuum_drop_V": np.nan,
        "imposed_drop_V": np.nan,
        "D_li_sei_cm2_s": np.nan,
        "D_li_sei_std_cm2_s": np.nan,
    }
    row.update(numbers)
    return row


def _runs(*rows):
    return pd.DataFrame(list(rows))


def _verdicts(runs, **kw):
    return {c.number: c for c in evaluate_claims(runs, PHASES, **kw)}


def test_claim1_deposition_constp_vs_constq():
    runs = _runs(
        _run("amor", "constp", -6.0, deposited_li=4),
        _run("amor", "constp", 0.0, deposited_li=1),
        _run("amor", "constq", None, deposited_li=0),
    )
    c = _verdicts(runs)[1]
    assert c.verdict == SUPPORT
    assert c.numbers["amor"]["deposited_constp"] == 4  # most negative ψ used
    assert c.figure == FIGURES["deposition_vs_time"]
    runs.loc[2, "deposited_li"] = 5
    assert _verdicts(runs)[1].verdict == NO_SUPPORT
    runs["deposited_li"] = 0
    c = _verdicts(runs)[1]
    assert c.verdict == NOT_TESTABLE and "too short" in c.reason
    only_p = runs[runs["mode"] == "constp"]
    assert "needs ConstP and ConstQ" in _verdicts(only_p)[1].reason


def test_claim2_growth_with_potential():
    rows = [
        _run("amor", "constp", psi, deposited_li=d)
        for psi, d in [(-6.0, 5), (-3.0, 2), (0.0, 0)]
    ]
    assert _verdicts(_runs(*rows))[2].verdict == SUPPORT
    rows[0]["deposited_li"] = 0
    rows[2]["deposited_li"] = 3
    assert _verdicts(_runs(*rows))[2].verdict == NO_SUPPORT
    one = _runs(_run("amor", "constp", -6.0, deposited_li=3))
    assert _verdicts(one)[2].verdict == NOT_TESTABLE


def test_claim3_amorphous_vs_crystalline_aggregation():
    runs = _runs(
        _run(
            "amor",
            "constp",
            -6.0,
            largest_cluster=6,
            largest_cluster_max=6,
            roughness_end_A=0.9,
        ),
        _run(
            "cryst",
            "constp",
            -6.0,
            largest_cluster=2,
            largest_cluster_max=3,
            roughness_end_A=0.4,
        ),
    )
    c = _verdicts(runs)[3]
    assert c.verdict == SUPPORT
    assert c.numbers["largest_cluster_amorphous"] == 6
    runs.loc[1, "roughness_end_A"] = 2.0
    assert _verdicts(runs)[3].verdict == NO_SUPPORT
    runs[["largest_cluster", "largest_cluster_max"]] = 0
    assert _verdicts(runs)[3].verdict == NOT_TESTABLE
    assert _verdicts(runs[:1])[3].verdict == NOT_TESTABLE


def test_claim4_capacitance_and_potential_drop():
    runs = _runs(
        _run(
            "amor",
            "constp",
            -6.0,
            anode_charge_e=-3.0,
            vacuum_drop_V=8.1,
            imposed_drop_V=8.0,
        ),
        _run(
            "amor",
            "constp",
            -2.0,
            anode_charge_e=-1.0,
            vacuum_drop_V=4.2,
            imposed_drop_V=4.0,
        ),
        _run("amor", "constq", None, vacuum_drop_V=0.1),
    )
    c = _verdicts(runs)[4]
    assert c.verdict == SUPPORT, c.reason
    assert c.numbers["amor: dQ/dψ (e/V)"] == pytest.approx(0.5)
    # drop measured relative to ConstQ: 8.1 - 0.1 = 8.0
    assert c.numbers["amor -6.0V r0"]["measured_V"] == pytest.approx(8.0)
    runs.loc[0, "vacuum_drop_V"] = 2.0  # far from the imposed 8 V
    assert _verdicts(runs)[4].verdict == NO_SUPPORT
    # tolerance from the criteria
    assert _verdicts(runs, criteria={"potential_drop_rtol": 0.9})[4].verdict == SUPPORT
    runs.loc[0, "anode_charge_e"] = 1.0  # charge rises as ψ is lowered
    assert (
        "capacitance"
        in _verdicts(runs, criteria={"potential_drop_rtol": 0.9})[4].reason
    )
    assert _verdicts(_runs(_run("amor", "constq", None)))[4].verdict == NOT_TESTABLE


def test_claim5_accuracy_thresholds():
    good = {
        "energy_per_atom": {
            "rmse": 0.004,
            "mae": 0.003,
            "unit": "eV/atom",
            "split": "test",
            "n_models": 2,
        },
        "force": {
            "rmse": 0.10,
            "mae": 0.07,
            "unit": "eV/Å",
            "split": "test",
            "n_models": 2,
        },
    }
    runs = _runs(_run("amor", "constq", None))
    assert _verdicts(runs, accuracy=good)[5].verdict == SUPPORT
    bad = {**good, "force": {**good["force"], "rmse": 0.3}}
    c = _verdicts(runs, accuracy=bad)[5]
    assert c.verdict == NO_SUPPORT and "force" in c.reason
    assert _verdicts(runs)[5].verdict == NOT_TESTABLE


def test_claim6_diffusivity_resolved_by_its_error():
    runs = _runs(
        _run("amor", "constq", None, D_li_sei_cm2_s=3e-6, D_li_sei_std_cm2_s=1e-7),
        _run("cryst", "constq", None, D_li_sei_cm2_s=1e-6, D_li_sei_std_cm2_s=1e-7),
    )
    assert _verdicts(runs)[6].verdict == SUPPORT
    runs.loc[0, "D_li_sei_cm2_s"] = 0.5e-6
    assert _verdicts(runs)[6].verdict == NO_SUPPORT
    runs.loc[0, "D_li_sei_std_cm2_s"] = 1e-6  # difference within the error
    c = _verdicts(runs)[6]
    assert c.verdict == NOT_TESTABLE and "within the error" in c.reason


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


@pytest.fixture
def analysed(tmp_path):
    """Two systems x (ConstP at -2 V and 0 V, ConstQ), analysed by the CLI."""
    runs = []
    for system in ("amor", "cryst"):
        for mode, label, psi in [
            ("constp", "-2.0V", -2.0),
            ("constp", "0.0V", 0.0),
            ("constq", "none", None),
        ]:
            kw = (
                {"mode": mode}
                if psi is None
                else {"mode": mode, "anode_potential_V": psi}
            )
            traj = deposition_run(6, **kw) if psi == -2.0 else frames(6, **kw)
            run = f"{mode}_{label}_r0"
            path = write_run(tmp_path / "md" / system / run, traj)
            out = tmp_path / "analysis" / system / run
            assert main(["analyse-run", "--traj", path, "--out-dir", str(out)]) == 0
            runs.append(str(out))
    return tmp_path, runs


def test_cli_summarise_and_figures(analysed, tmp_path):
    root, runs = analysed
    config = root / "config.yaml"
    config.write_text(
        "systems:\n  amor: {sei: {phase: amorphous}}\n"
        "  cryst: {sei: {phase: crystalline}}\n"
        "analysis:\n  claims: {potential_drop_rtol: 0.3}\n"
    )
    predictions = root / "predictions.csv"
    rng = np.random.default_rng(0)
    ref = rng.normal(size=30)
    pd.DataFrame(
        {
            "model": 0,
            "frame": np.arange(30),
            "category": "li_bulk",
            "split": "test",
            "quantity": ["energy_per_atom", "force", "charge"] * 10,
            "reference": ref,
            "predicted": ref + 0.001,
        }
    ).to_csv(predictions, index=False)
    out = root / "out"
    args = ["--runs", *runs, "--predictions", str(predictions)]
    assert main(["figures", str(config), *args, "--out-dir", str(out / "fig")]) == 0
    for name in FIGURES.values():
        assert (out / "fig" / name).stat().st_size > 0
    assert (
        main(
            [
                "summarise",
                str(config),
                *args,
                "--json",
                str(out / "s.json"),
                "--md",
                str(out / "s.md"),
                "--claims",
                str(out / "claims.md"),
            ]
        )
        == 0
    )
    doc = json.loads((out / "s.json").read_text())
    assert len(doc["runs"]) == 6 and len(doc["table"]) == 6
    verdicts = {c["number"]: c["verdict"] for c in doc["claims"]}
    assert verdicts[1] == SUPPORT  # 1 Li deposited at -2 V, none at ConstQ
    assert verdicts[2] == SUPPORT
    assert verdicts[5] == SUPPORT  # RMSE 0.001
    claims = (out / "claims.md").read_text()
    for n in range(1, 7):
        assert f"## Claim {n}:" in claims
    assert "Criterion:" in claims and "Verdict:" in claims
    table = (out / "s.md").read_text()
    assert "| amor | amorphous | constp | -2.0V |" in table


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


def test_workflow_lists_every_figure_with_a_caption():
    """analysis_common.smk names each figure of FIGURES; each has a caption."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    helpers = (root / "workflow" / "rules" / "analysis_common.smk").read_text()
    rules = (root / "workflow" / "rules" / "analysis.smk").read_text()
    for name in FIGURES.values():
        stem = name.removesuffix(".png")
        assert f'"{stem}"' in helpers
        assert f"results/figures/{name}" in rules
        assert (root / "workflow" / "report" / f"analysis_{stem}.rst").is_file()
