"""``constpot md``: run files, summary, exit statuses 2 (bad input), 3 (guard)."""

from __future__ import annotations

import json

import pytest
import yaml
from ase.io import read, write

from constpot.cli import main
from constpot.md.commands import parse_potential, run_seed


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "config.yaml"
    md = {
        "n_steps": 4,
        "traj_every": 2,
        "log_every": 2,
        "method": "dense",
        "device": "cpu",
        "walls": "molecules",
    }
    path.write_text(yaml.safe_dump({"seed": 0, "md": md}))
    return path


def test_cli_run_writes_run_folder(cell, config, tmp_path, capsys):
    structure = tmp_path / "interface.extxyz"
    write(structure, cell)
    out = tmp_path / "constp_-1.0V_r0"
    argv = [
        "md", str(config), "--structure", str(structure), "--mode", "constp",
        "--potential=-1.0V", "--replica", "0", "--outdir", str(out),
        "--progress", "lines",
    ]  # fmt: skip
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 4 and summary["anode_potential_V"] == -1.0
    assert summary["run"]["potential_label"] == "-1.0V"
    assert summary["settings"]["seed"] == run_seed(0, 0)
    frames = read(out / "traj.extxyz", index=":")
    assert [f.info["step"] for f in frames] == [0, 2, 4]
    assert frames[-1].info["mode"] == "constp"
    assert "step 4/4" in capsys.readouterr().out
    # --resume of a finished run changes nothing and exits cleanly
    assert main([*argv, "--resume"]) == 0
    assert len(read(out / "traj.extxyz", index=":")) == 3


def test_cli_guard_exit_status_3(cell, config, tmp_path, capsys):
    cell.positions[17] = cell.positions[16] + [0.3, 0.2, 0.0]
    structure = tmp_path / "overlap.extxyz"
    write(structure, cell)
    out = tmp_path / "run"
    argv = [
        "md", str(config), "--structure", str(structure), "--mode", "constq",
        "--potential", "none", "--outdir", str(out),
    ]  # fmt: skip
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert "stopped: step 0: atoms 16 (Li), 17 (F)" in err
    assert (out / "checkpoint.npz").is_file()
    # --on-guard record: stopped before the first frame, nothing to record
    assert main([*argv, "--on-guard", "record"]) == 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "stopped" and summary["stop_reason"] == "overlap"


def test_cli_bad_input_exit_status_2(cell, config, tmp_path, capsys):
    structure = tmp_path / "interface.extxyz"
    write(structure, cell)
    base = ["md", str(config), "--structure", str(structure), "--outdir", str(tmp_path)]
    assert main([*base, "--mode", "constq", "--potential=-1.0V"]) == 2
    assert "constq applies no potential" in capsys.readouterr().err
    assert main([*base, "--mode", "constp", "--potential", "none"]) == 2
    assert "constp needs an anode potential" in capsys.readouterr().err
    missing = ["--structure", str(tmp_path / "nope.extxyz")]
    assert main(base + missing + ["--mode", "constq"]) == 2


def test_parse_potential():
    assert parse_potential("-6.0V", "constp") == -6.0
    assert parse_potential("0.0V", "constp") == 0.0
    assert parse_potential("none", "constq") is None
    with pytest.raises(ValueError, match="expected volts"):
        parse_potential("minus six", "constp")


def test_cli_on_guard_record_keeps_a_stopped_run(cell, tmp_path, capsys):
    """A run stopped mid-way by a guard: exit 3 by default; with on_guard
    record, exit 0 and summary.json says where and why it stopped."""
    path = tmp_path / "config.yaml"
    md = {
        "n_steps": 400,
        "ensemble": "nve",
        "timestep_fs": 1.0,
        "electrodes": "static",
        "method": "dense",
        "device": "cpu",
        "guards": {"max_temperature_factor": 1.5},
    }
    path.write_text(yaml.safe_dump({"seed": 3, "md": md}))
    structure = tmp_path / "interface.extxyz"
    write(structure, cell)
    argv = [
        "md", str(path), "--structure", str(structure), "--mode", "constp",
        "--potential=-1.0V", "--outdir", str(tmp_path / "run"),
    ]  # fmt: skip
    assert main(argv) == 3
    assert main([*argv, "--on-guard", "record"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "stopped"
    assert summary["stop_reason"] == "temperature" and summary["steps"] > 0
    assert "run recorded as stopped" in capsys.readouterr().out
