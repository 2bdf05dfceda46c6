"""``constpot select-candidates`` and ``constpot active-report`` end to end."""

import csv
import json

import pytest
from ase.io import read

from constpot.cli import main

from .conftest import write_run

CONFIG = {
    "seed": 0,
    "active": {
        "trust_lo_eV_A": 0.05,
        "trust_hi_eV_A": 0.3,
        "max_candidates": 2,
        "min_step_gap": 0,
        "max_atoms": None,
    },
}


def _argv(tmp_path, runs, config, iteration=0, structure=True):
    out = tmp_path / f"iter{iteration}"
    argv = [
        "select-candidates",
        "--config-json", json.dumps(config),
        "--runs", *map(str, runs),
        "--iteration", str(iteration),
        "--out", str(out / "candidates.extxyz"),
        "--report-json", str(out / "report.json"),
        "--report-csv", str(out / "report.csv"),
    ]  # fmt: skip
    if structure:
        argv += ["--structure", f"toy={tmp_path / 'toy.extxyz'}"]
    return argv, out


@pytest.fixture
def interface(tmp_path, toy):
    toy.write(tmp_path / "toy.extxyz", format="extxyz")
    return tmp_path / "toy.extxyz"


def test_two_iterations_and_the_report(tmp_path, interface, capsys):
    explore0 = tmp_path / "explore0"
    run0 = write_run(explore0, "toy", "constq_T300K", [0.01, 0.1, 0.2, 0.4])
    argv, out0 = _argv(tmp_path, [run0], CONFIG, 0)
    assert main(argv) == 0
    frames = read(out0 / "candidates.extxyz", ":")
    assert len(frames) == 2 and frames[0].info["step"] == 20  # σ = 0.2 first
    assert all(round(f.get_initial_charges().sum()) == 1 for f in frames)
    report = json.loads((out0 / "report.json").read_text())
    assert report["settings"]["max_candidates"] == 2 and report["seed"] == 0

    explore1 = tmp_path / "explore1"
    run1 = write_run(explore1, "toy", "constq_T300K", [0.01, 0.02, 0.03, 0.04])
    argv, out1 = _argv(tmp_path, [run1], CONFIG, 1)
    assert main(argv) == 0
    assert (out1 / "candidates.extxyz").stat().st_size == 0  # empty, valid extxyz
    assert read(out1 / "candidates.extxyz", ":", format="extxyz") == []
    assert "no candidate frame" in capsys.readouterr().out

    argv = [
        "active-report",
        "--reports", str(out1 / "report.json"), str(out0 / "report.json"),
        "--csv", str(tmp_path / "fractions.csv"),
        "--figure", str(tmp_path / "fractions.png"),
    ]  # fmt: skip
    assert main(argv) == 0
    with open(tmp_path / "fractions.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["scope"] == "overall"]
    assert [float(r["fraction_accurate"]) for r in rows] == [0.25, 1.0]
    assert [int(r["n_selected"]) for r in rows] == [2, 0]
    assert (tmp_path / "fractions.png").read_bytes()[:4] == b"\x89PNG"


def _fails(argv, out, capsys, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err, err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"max_candidate": 3}, "active.max_candidate: unknown key"),
        ({"trust_lo_eV_A": 0.3}, "active.trust_lo_eV_A (0.3) must be below"),
    ],
)
def test_bad_config_fails_before_writing(tmp_path, interface, capsys, change, match):
    run = write_run(tmp_path / "e", "toy", "constq_T300K", [0.1])
    config = {**CONFIG, "active": {**CONFIG["active"], **change}}
    argv, out = _argv(tmp_path, [run], config)
    _fails(argv, out, capsys, match)


def test_unknown_top_level_key_is_named(tmp_path, interface, capsys):
    run = write_run(tmp_path / "e", "toy", "constq_T300K", [0.1])
    argv, out = _argv(tmp_path, [run], {**CONFIG, "sede": 1})
    _fails(argv, out, capsys, "sede")


def test_missing_thermo_row_fails_cleanly(tmp_path, interface, capsys):
    run = write_run(tmp_path / "e", "toy", "constq_T300K", [0.1, 0.1], drop_rows=(10,))
    argv, out = _argv(tmp_path, [run], CONFIG)
    _fails(argv, out, capsys, "thermo.csv: no row for step 10")


def test_missing_structure_is_named(tmp_path, capsys):
    run = write_run(tmp_path / "e", "toy", "constq_T300K", [0.1])
    argv, out = _argv(tmp_path, [run], CONFIG, structure=False)
    _fails(argv, out, capsys, "--structure toy=PATH")


def test_carving_without_models_fails(tmp_path, interface, capsys):
    run = write_run(tmp_path / "e", "toy", "constq_T300K", [0.1])
    config = {**CONFIG, "active": {**CONFIG["active"], "max_atoms": 5}}
    argv, out = _argv(tmp_path, [run], config)
    _fails(argv, out, capsys, "active.max_atoms is 5")


def test_structures_after_one_flag_as_the_workflow_passes_them(tmp_path, interface):
    """`--structure a=PATH b=PATH`: every system's interface is read."""
    other = tmp_path / "other.extxyz"
    other.write_bytes(interface.read_bytes())
    runs = [
        write_run(tmp_path / "explore", "toy", "constq_T300K", [0.1, 0.2]),
        write_run(tmp_path / "explore", "other", "constq_T300K", [0.1, 0.2]),
    ]
    argv, out = _argv(tmp_path, runs, CONFIG, structure=False)
    argv += ["--structure", f"toy={interface}", f"other={other}"]
    assert main(argv) == 0
    picked = {f.info["system"] for f in read(out / "candidates.extxyz", ":")}
    assert picked == {"toy", "other"}
