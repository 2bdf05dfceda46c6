"""Batched sweeps: runs of one system advanced together (constpot.md.batch).

Facts checked (CPU, float64, CG to 1e-6 from the ASPC prediction, membership
every 5 steps, so every bit of the charge solve shows in the files):

- three runs (two potentials and a constant-charge control, of different
  lengths) advanced together write each run's trajectory and thermo table
  byte for byte as run alone; while all three run, every round evaluates
  three calculations together;
- a run that cannot start (a bad setting) or that a guard stops fails alone:
  the others complete, as alone;
- a batch ended at a step (segments) and resumed writes the files of a
  straight batch byte for byte;
- calculators that do not share their model objects are refused;
- ``constpot md-batch`` writes the folders of ``constpot md`` byte for byte;
- SIGTERM ends every run of a batch after its step with a checkpoint (exit
  143), and the resumed batch ends byte-identical to a straight one.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import yaml
from ase.io import write

from constpot.cli import main
from constpot.md import MDGuardError, MDSettings, MDSetupError, read_checkpoint, run
from constpot.md.batch import BatchRun, run_batch
from constpot.potential import HybridCalculator

from .conftest import STALL_AT_45, make_cell, short_range, signal_child

QUIET = {"progress": False, "log": lambda line: None}


def _settings(**overrides) -> MDSettings:
    base = dict(
        mode="constp",
        anode_potential_V=-1.0,
        counter_potential_V=1.0,
        n_steps=16,
        traj_every=2,
        checkpoint_every=5,
        seed=4,
        electrodes="metallic",
        electrode_every=5,
        charge_predictor={"method": "aspc", "order": 2},
    )
    return MDSettings(**{**base, **overrides})


def _sweep() -> list[MDSettings]:
    return [
        _settings(),
        _settings(anode_potential_V=-2.0, seed=5),
        _settings(mode="constq", anode_potential_V=None, n_steps=10),
    ]


def _factory():
    short = short_range(stateless=True)
    return lambda: HybridCalculator(short, method="cg", tol=1e-6, slab=True)


def _alone(settings, folder: Path) -> None:
    run(make_cell(), _factory()(), settings, folder, **QUIET)


def _statuses(outcomes) -> list[str]:
    """Each run's summary status, or its error (shown when a test fails)."""
    return [o["status"] if isinstance(o, dict) else repr(o) for o in outcomes]


def _same(a: Path, b: Path) -> None:
    for name in ("traj.extxyz", "thermo.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), (a, name)


def test_a_batch_writes_each_runs_files_as_alone(tmp_path):
    lines = []
    runs = [
        BatchRun(make_cell(), s, tmp_path / f"b{k}") for k, s in enumerate(_sweep())
    ]
    out = run_batch(runs, _factory(), log=lines.append)
    assert _statuses(out) == ["completed"] * 3
    for k, settings in enumerate(_sweep()):
        _alone(settings, tmp_path / f"a{k}")
        _same(tmp_path / f"b{k}", tmp_path / f"a{k}")
    # steps 0..10 of all three together, then the two longer runs
    (report,) = [line for line in lines if line.startswith("batch:")]
    assert "11 rounds of 3" in report and "6 rounds of 2" in report


def test_a_failing_run_fails_alone(tmp_path):
    sweep = _sweep()
    bad = _settings(seed=6)
    bad.max_force_eV_A = 1e-3  # the force guard stops it at step 0
    missing = BatchRun(make_cell()[:0], sweep[1], tmp_path / "empty")
    runs = [
        BatchRun(make_cell(), sweep[0], tmp_path / "ok"),
        BatchRun(make_cell(), bad, tmp_path / "guarded"),
        missing,
    ]
    out = run_batch(runs, _factory(), **{"log": lambda line: None})
    assert out[0]["status"] == "completed"
    assert isinstance(out[1], MDGuardError) and out[1].step == 0
    assert isinstance(out[2], MDSetupError)
    _alone(sweep[0], tmp_path / "alone")
    _same(tmp_path / "ok", tmp_path / "alone")


def test_segments_of_a_batch_resume_to_the_straight_batch(tmp_path):
    straight = [
        BatchRun(make_cell(), s, tmp_path / f"s{k}") for k, s in enumerate(_sweep())
    ]
    run_batch(straight, _factory(), log=lambda line: None)
    first = [
        BatchRun(make_cell(), s, tmp_path / f"r{k}", {"until_step": 7})
        for k, s in enumerate(_sweep())
    ]
    out = run_batch(first, _factory(), log=lambda line: None)
    assert _statuses(out) == ["segment"] * 3
    rest = [
        BatchRun(make_cell(), s, tmp_path / f"r{k}") for k, s in enumerate(_sweep())
    ]
    out = run_batch(rest, _factory(), resume=True, log=lambda line: None)
    assert _statuses(out) == ["completed"] * 3
    for k in range(3):
        _same(tmp_path / f"r{k}", tmp_path / f"s{k}")


def test_calculators_must_share_their_models(tmp_path):
    runs = [
        BatchRun(make_cell(), s, tmp_path / f"x{k}") for k, s in enumerate(_sweep())
    ]

    def separate():
        return HybridCalculator(short_range(stateless=True), method="cg", slab=True)

    with pytest.raises(ValueError, match="share their short-range model"):
        run_batch(runs, separate)
    with pytest.raises(ValueError, match="share a folder"):
        run_batch([runs[0], runs[0]], _factory())
    assert not any(tmp_path.iterdir())


def test_md_batch_command_writes_the_folders_of_md(tmp_path, capsys):
    """QEq only (no models): the command's runs equal ``constpot md``'s."""
    structure = tmp_path / "cell.extxyz"
    write(structure, make_cell(), format="extxyz")
    config = tmp_path / "config.yaml"
    md = {"n_steps": 6, "traj_every": 2, "checkpoint_every": 3, "tol": 1e-6}
    md.update(electrodes="metallic", electrode_every=3, counter_potential_V=1.0)
    config.write_text(yaml.safe_dump({"seed": 3, "md": md}))
    common = [str(config), "--structure", str(structure)]
    names = ["constp_-1.0V_r0", "constq_none_r1"]
    batch = ["md-batch", *common, "--outroot", str(tmp_path / "batch")]
    assert main([*batch, "--runs", *names]) == 0
    printed = capsys.readouterr().out
    assert "constq_none_r1: completed" in printed
    assert "batch: 2 runs, 7 rounds of 2" in printed  # steps 0..6 together
    for name in names:
        mode, potential, replica = name.split("_")
        alone = ["md", *common, "--mode", mode, f"--potential={potential}"]
        alone += ["--replica", replica[1:], "--outdir", str(tmp_path / "alone" / name)]
        assert main(alone) == 0
        _same(tmp_path / "batch" / name, tmp_path / "alone" / name)
    bad = ["md-batch", *common, "--outroot", str(tmp_path / "bad")]
    assert main([*bad, "--runs", "constp_-1.0V"]) == 2
    assert "--runs" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


_SIGNALLED = (
    """
import os, sys, time
sys.path.insert(0, {here!r})
from conftest import make_cell, short_range
from constpot.errors import Interrupted, exit_code
from constpot.md import MDSettings
from constpot.md.batch import BatchRun, run_batch
from constpot.potential import HybridCalculator
"""
    + STALL_AT_45
    + """
short = short_range(stateless=True)
runs = [
    BatchRun(make_cell(), MDSettings(**{first!r}), {out0!r}, {{"callback": stall}}),
    BatchRun(make_cell(), MDSettings(**{second!r}), {out1!r}),
]
out = run_batch(runs, lambda: HybridCalculator(short, method="cg", tol=1e-6, slab=True),
                resume="auto", log=lambda line: None)
codes = [exit_code(o) for o in out if isinstance(o, Interrupted)]
sys.exit(codes[0] if len(codes) == len(out) else 1)
"""
)


def test_sigterm_ends_every_run_of_a_batch_with_a_checkpoint(tmp_path):
    """SIGTERM while the first run waits at step 45 of 60: every run of the
    batch ends after its step in progress with its checkpoint and a
    "segment" summary naming the signal (exit 143); resumed, the batch ends
    byte-identical to a straight batch."""
    kw = [
        _settings(n_steps=60, checkpoint_every=20).todict(),
        _settings(n_steps=60, checkpoint_every=20, anode_potential_V=-2.0).todict(),
    ]
    outs = [tmp_path / "run0", tmp_path / "run1"]
    marker, go = tmp_path / "at45", tmp_path / "go"
    code = _SIGNALLED.format(
        here=str(Path(__file__).resolve().parent), marker=str(marker), go=str(go),
        first=kw[0], second=kw[1], out0=str(outs[0]), out1=str(outs[1]),
    )  # fmt: skip
    assert signal_child(code, marker, signal.SIGTERM, go) == 128 + signal.SIGTERM
    steps = []
    for out in outs:
        summary = json.loads((out / "summary.json").read_text())
        assert summary["status"] == "segment"
        assert summary["interrupted_by"] == "SIGTERM"
        assert read_checkpoint(out / "checkpoint.npz").step == summary["steps"]
        steps.append(summary["steps"])
    assert steps[0] == 45 and steps[1] in (45, 46)

    resumed = [
        BatchRun(make_cell(), MDSettings(**k), out)
        for k, out in zip(kw, outs, strict=True)
    ]
    done = run_batch(resumed, _factory(), resume="auto", log=lambda line: None)
    assert _statuses(done) == ["completed"] * 2
    straight = [
        BatchRun(make_cell(), MDSettings(**k), tmp_path / f"straight{i}")
        for i, k in enumerate(kw)
    ]
    run_batch(straight, _factory(), log=lambda line: None)
    for i, out in enumerate(outs):
        _same(out, tmp_path / f"straight{i}")
