"""Sessions of one run (issue 16): resume, refusals, segments, lock, reruns.

Facts checked on the Li | Li⁺F⁻Li⁺F⁻ | Li slab cell with the Lennard-Jones
stand-in that builds its neighbour list at every call, as the NequIP models do
(tests/md/conftest.py), CPU float64:

- a process killed with SIGKILL and resumed with ``resume="auto"`` writes
  byte-for-byte the trajectory and thermo table of a run that never stopped;
  so do segments (``until_step``, ``segment_steps``) and a run extended to more
  steps, and a run whose CG starts from the charge predictor's extrapolation
  (its history is in the checkpoint), and one preconditioned by the charge
  Hessian of a recent geometry (that geometry is in the checkpoint);
- the preconditioner changes the CG iterations, not the run: positions to
  1e-6 Å and electrode charges to 1e-6 e against the long-range one;
- ``resume="auto"`` starts afresh without a fitting checkpoint and says why;
- an explicit resume is refused, naming the reason and changing no file, when
  the trajectory or thermo table is missing or short, or the models, the
  starting structure or the physics differ from the checkpoint's;
- a second writer of a folder is refused with the holder's PID while the first
  run finishes;
- a rerun that fails (bad structure, missing model, step-0 guard) leaves the
  finished run byte-identical;
- temporary files of a killed session are removed; ``thermo.csv`` ends its
  lines in ``\\n`` only;
- a checkpoint is read whole while other code parses Python at every garbage
  collection (on CPython before 3.11.8 such a parse broke the reading of a
  good checkpoint: the runs of a batch resume in threads).
"""

from __future__ import annotations

import ast
import gc
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from ase.io import write

from constpot.md import (
    MDGuardError,
    MDSettings,
    MDSetupError,
    RunLock,
    RunLockedError,
    read_checkpoint,
    run,
)
from constpot.potential import HybridCalculator

from .conftest import STALL_AT_45, make_cell, short_range, signal_child

QUIET = {"progress": False, "log": lambda line: None}
HERE = Path(__file__).resolve().parent
#: Files a session may append to without changing the run.
SESSION_FILES = {"md.log", "md.lock"}


#: The runs the kill tests interrupt at step 45: 60 steps, checkpoints every 20.
KILLED_RUN = dict(n_steps=60, traj_every=4, checkpoint_every=20, seed=9)


def _settings(**overrides) -> MDSettings:
    base = dict(
        mode="constp",
        anode_potential_V=-1.0,
        counter_potential_V=1.0,
        n_steps=6,
        traj_every=2,
        checkpoint_every=3,
        seed=4,
    )
    return MDSettings(**{**base, **overrides})


def _calc(sigma: float = 2.6, **kwargs) -> HybridCalculator:
    short = short_range(sigma, stateless=True)
    return HybridCalculator(short, method="dense", slab=True, **kwargs)


def _files(folder: Path) -> dict[str, bytes]:
    """Every file of a run folder but the log and lock, by relative path."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in SESSION_FILES
    }


def _same_outputs(a: Path, b: Path) -> None:
    for name in ("traj.extxyz", "thermo.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 6-step run with model file A, and model files A and B."""
    root = tmp_path_factory.mktemp("finished")
    models = {}
    for name in ("a", "b"):
        models[name] = root / f"{name}.nequip.zip"
        models[name].write_bytes(f"model {name}".encode())
    out = root / "run"
    run(make_cell(), _calc(), _settings(), out, models=[models["a"]], **QUIET)
    return out, models


@pytest.fixture
def folder(finished, tmp_path):
    """A copy of the finished run to change."""
    out, models = finished
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    return copy, models


def test_a_checkpoint_reads_while_collections_parse_python(finished):
    """CPython before 3.11.8 shares the AST constructor's depth counter
    (gh-106905): a parse run by a gc callback or finalizer in the middle of
    ``np.load``'s header parse made that parse fail, so a resumed batch found
    a good checkpoint unreadable about once in 200 batches. Here a
    collection starts at every allocation, and each runs such a parse."""
    out, _ = finished
    expected = read_checkpoint(out / "checkpoint.npz")
    busy = []

    def parse_too(phase, info):
        if phase == "start" and not busy:
            busy.append(True)
            try:
                ast.parse("x = [1, 2]")
            finally:
                busy.clear()

    threshold = gc.get_threshold()
    gc.callbacks.append(parse_too)
    gc.set_threshold(1)
    try:
        ckpt = read_checkpoint(out / "checkpoint.npz")
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(parse_too)
    assert ckpt.step == expected.step == 6
    assert np.array_equal(ckpt.positions, expected.positions)
    assert gc.isenabled()


# ------------------------------------------------------------------ auto
def test_auto_starts_fresh_then_continues_and_extends_bit_identically(tmp_path):
    """auto in an empty folder runs from step 0; auto with more n_steps continues
    the finished run: the files equal those of a straight 12-step run."""
    out = tmp_path / "auto"
    first = run(make_cell(), _calc(), _settings(), out, resume="auto", **QUIET)
    assert first["status"] == "completed" and first["steps"] == 6
    log = (out / "md.log").read_text()
    assert "resume auto: no checkpoint" in log and "fresh start" in log
    longer = _settings(n_steps=12)
    again = run(make_cell(), _calc(), longer, out, resume="auto", **QUIET)
    assert again["status"] == "completed" and again["steps"] == 12
    assert "resuming at step 6" in (out / "md.log").read_text()
    straight = tmp_path / "straight"
    run(make_cell(), _calc(), longer, straight, **QUIET)
    _same_outputs(out, straight)


def test_auto_with_other_physics_starts_fresh(folder):
    out, models = folder
    summary = run(
        make_cell(),
        _calc(),
        _settings(temperature_K=350.0),
        out,
        resume="auto",
        models=[models["a"]],
        **QUIET,
    )
    assert summary["settings"]["temperature_K"] == 350.0
    assert summary["steps"] == 6
    log = (out / "md.log").read_text()
    assert "physics differ: temperature_K 300.0 -> 350.0; starting a fresh run" in log
    assert read_checkpoint(out / "checkpoint.npz").settings["temperature_K"] == 350.0


# -------------------------------------------------------------- refusals
def _cut(path: Path, n_bytes: int) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - n_bytes])


def _moved(atoms):
    atoms.positions[18] += [0.0, 0.0, 0.01]
    return atoms


# (id, change to the folder, run keywords, message)
REFUSALS = [
    ("no checkpoint", lambda d: (d / "checkpoint.npz").unlink(), {}, "no checkpoint"),
    (
        "unreadable checkpoint",
        lambda d: (d / "checkpoint.npz").write_bytes(b"PK\x03\x04 cut"),
        {},
        "not a readable checkpoint",
    ),
    (
        "trajectory missing",
        lambda d: (d / "work" / "traj.extxyz").unlink(),
        {},
        r"work/traj\.extxyz is missing",
    ),
    (
        "thermo missing",
        lambda d: (d / "work" / "thermo.csv").unlink(),
        {},
        r"work/thermo\.csv is missing",
    ),
    (
        "trajectory short",
        lambda d: _cut(d / "work" / "traj.extxyz", 200),
        {},
        r"traj\.extxyz is shorter than the checkpoint of step 6: 3 frames",
    ),
    (
        "thermo short",
        lambda d: _cut(d / "work" / "thermo.csv", 5),
        {},
        r"thermo\.csv is shorter than the checkpoint of step 6: 6 rows",
    ),
    ("other models", None, {"models": "b"}, r"models differ: \[a\.nequip\.zip"),
    ("no models", None, {"models": None}, r"models differ: .* -> none"),
    (
        "other structure",
        None,
        {"atoms": _moved},
        "the starting structure differs",
    ),
    (
        "other settings",
        None,
        {"settings": {"qeq_every": 2}},
        "physics differ: qeq_every 1 -> 2",
    ),
    (
        "other short range",
        None,
        {"calc": {"sigma": 2.7}},
        r"physics differ: calculator short_range\.0\.parameters\.sigma 2\.6 -> 2\.7",
    ),
    (
        "other solver tolerance",
        None,
        {"calc": {"tol": 1e-6}},
        r"calculator solver\.tol 1e-08 -> 1e-06",
    ),
    (
        "other charge predictor",
        None,
        {"settings": {"charge_predictor": {"method": "previous", "order": 2}}},
        r"physics differ: charge_predictor\.method 'aspc' -> 'previous'",
    ),
]


@pytest.mark.parametrize(
    ("change", "keywords", "message"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_resume_refuses_what_does_not_fit_and_changes_nothing(
    folder, change, keywords, message
):
    out, models = folder
    if change is not None:
        change(out)
    before = _files(out)
    atoms = keywords.get("atoms", lambda a: a)(make_cell())
    model = keywords.get("models", "a")
    with pytest.raises(MDSetupError, match=message):
        run(
            atoms,
            _calc(**keywords.get("calc", {})),
            _settings(**keywords.get("settings", {})),
            out,
            resume=True,
            models=[] if model is None else [models[model]],
            **QUIET,
        )
    assert _files(out) == before


@pytest.mark.parametrize("resume", [True, "auto"])
def test_resume_refuses_fewer_steps_than_the_checkpoint(folder, resume):
    out, models = folder
    before = _files(out)
    with pytest.raises(MDSetupError, match="checkpoint is at step 6, past n_steps 4"):
        run(
            make_cell(),
            _calc(),
            _settings(n_steps=4),
            out,
            resume=resume,
            models=[models["a"]],
            **QUIET,
        )
    assert _files(out) == before


# ---------------------------------------------------- failing reruns
def _no_walls(atoms):
    del atoms.info["wall_lower_A"]
    return atoms


def _overlap(atoms):
    atoms.positions[17] = atoms.positions[16] + [0.3, 0.0, 0.0]
    return atoms


def _unknown_element(atoms):
    atoms.symbols[17] = "Xe"
    return atoms


# (id, change to the structure, model, error, message)
FAILING_RERUNS = [
    ("walls without planes", _no_walls, "a", MDSetupError, "wall_lower_A"),
    ("element without QEq parameters", _unknown_element, "a", ValueError, "Xe"),
    ("missing model file", None, "missing", FileNotFoundError, "model file"),
    ("overlap at step 0", _overlap, "a", MDGuardError, "step 0: atoms 16"),
]


@pytest.mark.parametrize(
    ("change", "model", "error", "message"),
    [case[1:] for case in FAILING_RERUNS],
    ids=[case[0] for case in FAILING_RERUNS],
)
def test_failing_rerun_leaves_the_finished_run_intact(
    folder, change, model, error, message
):
    out, models = folder
    models["missing"] = out.parent / "missing.nequip.zip"
    before = _files(out)
    atoms = make_cell() if change is None else change(make_cell())
    with pytest.raises(error, match=message):
        run(atoms, _calc(), _settings(), out, models=[models[model]], **QUIET)
    assert _files(out) == before
    assert json.loads((out / "summary.json").read_text())["status"] == "completed"


# --------------------------------------------------------------- segments
@pytest.mark.parametrize(
    ("sessions", "expected"),
    [
        ([{"until_step": 10}, {}], [("segment", 10), ("completed", 20)]),
        (
            [{"segment_steps": 8}] * 3,
            [("segment", 8), ("segment", 16), ("completed", 20)],
        ),
    ],
    ids=["until-step", "segment-steps"],
)
def test_segments_equal_a_straight_run(tmp_path, sessions, expected):
    """Sessions ending at step 10 (or every 8 steps), each resumed, write the
    files of a straight 20-step run: a segment's end adds a checkpoint, no
    frame or row (10 and 16 are not multiples of traj_every or
    checkpoint_every)."""
    settings = _settings(n_steps=20, traj_every=3, checkpoint_every=7)
    straight = tmp_path / "straight"
    run(make_cell(), _calc(), settings, straight, **QUIET)
    out = tmp_path / "segments"
    statuses = []
    for session in sessions:
        summary = run(
            make_cell(), _calc(), settings, out, resume="auto", **session, **QUIET
        )
        statuses.append((summary["status"], summary["steps"]))
        assert read_checkpoint(out / "checkpoint.npz").step == summary["steps"]
        published = json.loads((out / "summary.json").read_text())
        assert published["status"] == summary["status"]
    assert statuses == expected
    _same_outputs(out, straight)


# ------------------------------------------------------- kill and resume
def _aspc_settings(**overrides) -> MDSettings:
    """16 steps, membership every 5, CG started from the ASPC prediction."""
    return _settings(
        n_steps=16,
        electrodes="metallic",
        electrode_every=5,
        charge_predictor={"method": "aspc", "order": 2},
        **overrides,
    )


def test_resume_with_the_charge_predictor_is_bit_identical(tmp_path):
    """CG (tol 1e-6: a few iterations, so the start shows in every bit) from
    the ASPC prediction, membership every 5 steps: a session stopped at step
    12 after its checkpoint at 9 resumes with the checkpoint's history of
    solves and writes the files of a straight run byte for byte."""
    settings = _aspc_settings(checkpoint_every=9)

    def cg() -> HybridCalculator:
        short = short_range(stateless=True)
        return HybridCalculator(short, method="cg", tol=1e-6, slab=True)

    class Kill(Exception):
        pass

    def kill_at_12(md, step):
        if step == 12:
            raise Kill

    straight, out = tmp_path / "straight", tmp_path / "resumed"
    run(make_cell(), cg(), settings, straight, **QUIET)
    with pytest.raises(Kill):
        run(make_cell(), cg(), settings, out, callback=kill_at_12, **QUIET)
    ckpt = read_checkpoint(out / "checkpoint.npz")
    assert ckpt.step == 9 and ckpt.predictor["charges"].shape == (4, len(ckpt.guess))
    summary = run(make_cell(), cg(), settings, out, resume="auto", **QUIET)
    assert summary["status"] == "completed"
    _same_outputs(out, straight)
    ends = [read_checkpoint(d / "checkpoint.npz").predictor for d in (out, straight)]
    assert ends[0]["key"] == ends[1]["key"]
    assert ends[0]["charges"].tobytes() == ends[1]["charges"].tobytes()


def test_the_preconditioner_changes_the_iterations_not_the_run(tmp_path):
    """The same run (CG to tol 1e-9, ASPC, membership every 5 steps) with the
    reference preconditioner (auto) and with the long-range one: positions
    after 16 steps agree to 1e-6 Å and the electrode charges of every step to
    1e-6 e, in fewer CG iterations; only the reference run's checkpoint
    carries a geometry of the preconditioner, the one of a recent step."""
    from constpot.io import read_structure
    from constpot.md import read_thermo

    settings = _aspc_settings(checkpoint_every=8)
    out = {}
    for kind in ("auto", "longrange"):
        calc = HybridCalculator(
            short_range(stateless=True),
            method="cg",
            tol=1e-9,
            slab=True,
            solver_options={"preconditioner": kind},
        )
        run(make_cell(), calc, settings, tmp_path / kind, **QUIET)
        out[kind] = (
            read_thermo(tmp_path / kind / "thermo.csv"),
            read_structure(tmp_path / kind / "traj.extxyz"),
            read_checkpoint(tmp_path / kind / "checkpoint.npz"),
        )
    (t_ref, last_ref, ck_ref), (t_lr, last_lr, ck_lr) = out["auto"], out["longrange"]
    assert np.abs(last_ref.positions - last_lr.positions).max() < 1e-6
    for key in ("anode_charge_e", "counter_charge_e"):
        np.testing.assert_allclose(t_ref[key], t_lr[key], rtol=0, atol=1e-6)
    assert t_ref["cg_iterations"][1:].mean() < t_lr["cg_iterations"][1:].mean()
    assert ck_lr.qeq_reference is None
    moved = np.linalg.norm(ck_ref.qeq_reference - ck_ref.positions, axis=1)
    assert ck_ref.qeq_reference.shape == ck_ref.positions.shape
    assert moved.max() <= 0.5


_CHILD = """
import os, sys, time
sys.path.insert(0, {here!r})
from conftest import make_cell, short_range
from constpot.md import MDSettings, run
from constpot.potential import HybridCalculator

def stall(md, step):
    if step == 45:
        open({marker!r}, "w").close()
        time.sleep(120)

settings = MDSettings(**{settings!r})
calc = HybridCalculator(short_range(stateless=True), method="dense", slab=True)
run(make_cell(), calc, settings, {out!r}, resume="auto", callback=stall,
    progress=False, log=lambda line: None)
"""


def test_sigkill_then_resume_auto_is_bit_identical(tmp_path):
    """A process killed (SIGKILL) at step 45, checkpoint at 40, frames and rows
    past it partly buffered: resume="auto" ends byte-identical to a straight
    run, leaves no temporary file, and thermo.csv has only \\n line ends."""
    kw = _settings(**KILLED_RUN).todict()
    out, marker = tmp_path / "killed", tmp_path / "at45"
    code = _CHILD.format(here=str(HERE), marker=str(marker), settings=kw, out=str(out))
    assert signal_child(code, marker, signal.SIGKILL) == -signal.SIGKILL
    assert read_checkpoint(out / "checkpoint.npz").step == 40
    assert not (out / "summary.json").exists()

    summary = run(make_cell(), _calc(), MDSettings(**kw), out, resume="auto", **QUIET)
    assert summary["status"] == "completed" and summary["steps"] == 60
    assert "resuming at step 40" in (out / "md.log").read_text()
    straight = tmp_path / "straight"
    run(make_cell(), _calc(), MDSettings(**kw), straight, **QUIET)
    _same_outputs(out, straight)
    assert not list(out.rglob(".*"))  # no temporary file left
    assert b"\r" not in (out / "thermo.csv").read_bytes()


_SIGNALLED = (
    """
import os, sys, time
sys.path.insert(0, {here!r})
from conftest import make_cell, short_range
from constpot.errors import Interrupted, exit_code
from constpot.md import MDSettings, run
from constpot.potential import HybridCalculator
"""
    + STALL_AT_45
    + """
settings = MDSettings(**{settings!r})
calc = HybridCalculator(short_range(stateless=True), method="dense", slab=True)
try:
    run(make_cell(), calc, settings, {out!r}, resume="auto", callback=stall,
        progress=False, log=lambda line: None)
except Interrupted as err:
    sys.exit(exit_code(err))
"""
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_checkpoints_the_current_step_then_resume_is_bit_identical(
    tmp_path, sig
):
    """SIGTERM (a wall-time kill) or SIGINT at step 45 of 60, periodic
    checkpoints every 20: the run ends after the step in progress with its
    own checkpoint (45, not 40), exit status 128 + n, a summary of status
    "segment" naming the signal; resume="auto" continues from 45 and ends
    byte-identical to a straight run."""
    kw = _settings(**KILLED_RUN).todict()
    out, marker, go = tmp_path / "run", tmp_path / "at45", tmp_path / "go"
    code = _SIGNALLED.format(
        here=str(HERE), marker=str(marker), go=str(go), settings=kw, out=str(out)
    )
    assert signal_child(code, marker, sig, go) == 128 + sig
    assert read_checkpoint(out / "checkpoint.npz").step == 45
    stopped = json.loads((out / "summary.json").read_text())
    assert stopped["status"] == "segment" and stopped["steps"] == 45
    assert stopped["interrupted_by"] == signal.Signals(sig).name

    summary = run(make_cell(), _calc(), MDSettings(**kw), out, resume="auto", **QUIET)
    assert summary["status"] == "completed" and summary["steps"] == 60
    assert "resuming at step 45" in (out / "md.log").read_text()
    straight = tmp_path / "straight"
    run(make_cell(), _calc(), MDSettings(**kw), straight, **QUIET)
    _same_outputs(out, straight)


def test_leftover_temporaries_are_removed_on_the_next_start(folder):
    out, models = folder
    leftovers = [
        out / ".checkpoint.npz.k2j4_x9q.npz",
        out / ".summary.json.abcdefgh.json",
        out / "work" / ".thermo.csv.0a1b2c3d.csv",
    ]
    keep = out / ".notes.txt"
    for path in [*leftovers, keep]:
        path.write_bytes(b"partial")
    run(
        make_cell(),
        _calc(),
        _settings(n_steps=8),
        out,
        resume=True,
        models=[models["a"]],
        **QUIET,
    )
    assert not any(p.exists() for p in leftovers)
    assert keep.exists()
    assert "removed 3 temporary file(s)" in (out / "md.log").read_text()
    assert b"\r" not in (out / "thermo.csv").read_bytes()


# -------------------------------------------------------------------- lock
def test_lock_is_exclusive_and_released_on_errors(tmp_path):
    """Two locks of one folder (even in one process) exclude each other; an
    exception inside releases the lock."""
    with RunLock(tmp_path) as held:
        assert held.locked
        assert (tmp_path / "md.lock").read_text().split()[0] == str(os.getpid())
        with pytest.raises(RunLockedError, match=f"in use by process {os.getpid()}"):
            RunLock(tmp_path).acquire()
    with pytest.raises(RuntimeError, match="inside"), RunLock(tmp_path):
        raise RuntimeError("inside the lock")
    with RunLock(tmp_path) as again:
        assert again.locked


def test_second_writer_is_refused_while_the_first_finishes(tmp_path):
    """A second `constpot md` on a folder being written exits 2 naming the
    folder and this process; the first run completes."""
    structure = tmp_path / "interface.extxyz"
    write(structure, make_cell())
    config = tmp_path / "config.yaml"
    md = {"n_steps": 4, "method": "dense", "device": "cpu"}
    config.write_text(yaml.safe_dump({"seed": 0, "md": md}))
    out = tmp_path / "run"
    second = {}

    def start_second_writer(md_run, step):
        if step != 2:
            return
        argv = [
            sys.executable, "-m", "constpot.cli", "md", str(config),
            "--structure", str(structure), "--mode", "constp",
            "--potential=-1.0V", "--outdir", str(out), "--resume", "auto",
        ]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        done = subprocess.run(
            argv, capture_output=True, text=True, env=env, timeout=300
        )
        second["rc"], second["err"] = done.returncode, done.stderr

    summary = run(
        make_cell(),
        _calc(),
        _settings(n_steps=5),
        out,
        callback=start_second_writer,
        **QUIET,
    )
    assert second["rc"] == 2, second["err"]
    line = second["err"].strip().splitlines()[-1]
    assert f"run folder {out} is in use by process {os.getpid()}" in line
    assert summary["status"] == "completed" and summary["steps"] == 5
    assert json.loads((out / "summary.json").read_text())["steps"] == 5
    assert (out / "md.lock").read_text() == ""  # released
