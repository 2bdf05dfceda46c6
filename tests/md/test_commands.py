"""``constpot md``: run files, summary, exit statuses 2 (bad input), 3 (guard)."""

from __future__ import annotations

import json

import pytest
import yaml
from ase.io import read, write

from constpot.cli import main
from constpot.runs import parse_potential, run_seed


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


def _argv(config, structure, out, *extra):
    return [
        "md", str(config), "--structure", str(structure), "--mode", "constp",
        "--potential=-1.0V", "--outdir", str(out), "--progress", "lines", *extra,
    ]  # fmt: skip


def test_cli_segments_and_resume_modes(cell, config, tmp_path, capsys):
    """--until-step ends a session with status 'segment' (exit 0); --resume auto
    continues it; --resume needs a checkpoint; --threads 0 is refused."""
    structure = tmp_path / "interface.extxyz"
    write(structure, cell)
    out = tmp_path / "run"
    assert (
        main(_argv(config, structure, out, "--resume", "auto", "--until-step", "2"))
        == 0
    )
    assert "segment ended at step 2 of 4" in capsys.readouterr().out
    assert json.loads((out / "summary.json").read_text())["status"] == "segment"
    assert main(_argv(config, structure, out, "--resume", "auto")) == 0
    assert "resuming at step 2" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["status"], summary["steps"]) == ("completed", 4)
    assert [f.info["step"] for f in read(out / "traj.extxyz", index=":")] == [0, 2, 4]

    empty = tmp_path / "empty"
    assert main(_argv(config, structure, empty, "--resume")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot resume {empty}: no checkpoint" in err[0]
    assert main(_argv(config, structure, empty, "--threads", "0")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["constpot md: error: --threads must be an integer >= 1, got 0"]
    assert not (empty / "summary.json").exists()


def test_cli_models_are_hashed_and_checked_on_resume(
    cell, config, tmp_path, capsys, monkeypatch
):
    """The model files' SHA-256 goes into the checkpoint: --resume with another
    file, or none, exits 2 and names the models. Loading is stubbed (the LJ
    stand-in for any file); the trust note is printed per model."""
    from constpot.potential import HybridCalculator

    from .conftest import short_range

    def from_models(cls, paths, qeq=None, *, device="cpu", **kwargs):
        return cls(short_range(), qeq, device=device, **kwargs)

    monkeypatch.setattr(HybridCalculator, "from_models", classmethod(from_models))
    structure = tmp_path / "interface.extxyz"
    write(structure, cell)
    a, b = tmp_path / "a.nequip.zip", tmp_path / "b.nequip.zip"
    a.write_bytes(b"model a")
    b.write_bytes(b"model b")
    out = tmp_path / "run"
    assert main(_argv(config, structure, out, "--models", str(a))) == 0
    assert "a model file runs code when loaded; use only models you trust" in (
        capsys.readouterr().out
    )
    longer = ["--n-steps", "6", "--resume"]
    assert main(_argv(config, structure, out, "--models", str(b), *longer)) == 2
    assert "models differ: [a.nequip.zip" in capsys.readouterr().err
    assert main(_argv(config, structure, out, *longer)) == 2
    assert "-> none" in capsys.readouterr().err
    assert main(_argv(config, structure, out, "--models", str(a), *longer)) == 0
    assert json.loads((out / "summary.json").read_text())["steps"] == 6


def test_cli_bad_structure_on_rerun_keeps_the_finished_run(
    cell, config, tmp_path, capsys
):
    """Issue 16 item 4: a rerun with a structure that cannot be read exits 2
    and leaves every file of the finished run as it was."""
    structure = tmp_path / "interface.extxyz"
    write(structure, cell)
    out = tmp_path / "run"
    assert main(_argv(config, structure, out)) == 0
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    bad = tmp_path / "bad.extxyz"
    bad.write_text("36\nnot a comment line\nLi 0 0\n")
    for structure in (bad, tmp_path / "absent.extxyz"):
        assert main(_argv(config, structure, out)) == 2
        assert "error" in capsys.readouterr().err
    after = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    assert after == before
