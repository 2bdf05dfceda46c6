"""Constant-potential molecular dynamics of an electrode | electrolyte interface.

The driver integrates Newton's (NVE, velocity Verlet) or Langevin's (NVT,
ASE's :class:`~ase.md.langevin.Langevin` with an explicitly seeded NumPy
generator) equations of motion with forces from a
:class:`~constpot.potential.HybridCalculator`: short-range model + QEq whose
charges minimise the grand energy (docs/design.md §4)

.. math::

    \\Omega(q, R) = E_\\text{QEq}(q, R) - \\sum_i \\psi_i q_i ,
    \\qquad \\sum_i q_i = Q .

The calculator is the atoms' calculator and owns each step's physics
(membership, charges, forces, timings). The driver configures it only through
``calc.set(...)``: the potentials, total charge and charge predictor of the
settings, then, before every step, the :class:`~constpot.md.schedule.Schedule`'s
membership update and charge solve (or evaluation at held charges). It
integrates, guards, writes and checkpoints. Each solve starts where the
calculator's :class:`~constpot.potential.predictor.ChargePredictor` predicts
from the solves of the previous steps and converges to the solver's tolerance.

Modes
-----
``constp``
    Electrode atoms held at the applied potentials ψ (anode, counter
    electrode; volts). Lowering ψ puts electrons on the electrode; the paper's
    electronegativity shift is φ = −ψ (Hu et al., Nat. Commun. 16, 7379
    (2025): anode +6 eV is ψ = −6 V, counter −2 eV is ψ = +2 V).
``constq``
    No applied potential; total charge fixed (the paper's control).

Conserved quantity
------------------
With exactly minimised charges the forces −dΩ/dR are the Hellmann–Feynman
forces at the solved charges, and NVE conserves

.. math::

    H = K + E_\\text{short} + \\Omega(q^*(R), R) + U_\\text{walls}

(``conserved_eV`` in ``thermo.csv``; in NVT the thermostat exchanges energy
with the system and H drifts accordingly). H is a constant of motion only while
the electrode membership is fixed: when atoms join or leave an electrode, ψ
jumps on them and so does Ω.

Electrode membership
--------------------
``electrodes="metallic"`` re-applies the calculator's metallic-Li rule every
``electrode_every`` steps, so Li that deposits joins the anode. ``"static"``
keeps the membership of step 0 (the calculator's ``electrode_labels``, the
structure's ``electrode`` array, or the rule applied once). Charges every n
steps (``qeq_every``): see :mod:`constpot.md.schedule`.

Sessions
--------
A run may take several sessions (processes): :mod:`constpot.md.start` starts
each, afresh or from the folder's checkpoint (``resume``), and
``until_step`` / ``segment_steps`` end one early. SIGTERM (a batch system's
wall-time kill) or SIGINT ends a session after the step in progress, with
that step's checkpoint (:mod:`constpot.md.interrupt`,
:class:`~constpot.errors.Interrupted`).

(The module runs a little over 600 lines: one class whose step loop, guards
and finish share the session's state; the start of a session is already
:mod:`constpot.md.start`'s.)

Before anything in the folder changes, the inputs are validated and the folder
is locked (:mod:`constpot.md.lock`: a second writer is refused); a fresh start
replaces an earlier run only once its step 0 has been computed and passed the
guards. The run folder (``traj.extxyz``, ``thermo.csv``, ``checkpoint.npz``,
``md.log``, ``work/``) is :mod:`constpot.md.record`'s, ``summary.json``
:mod:`constpot.md.summary`'s.

Example
-------
>>> from constpot.md import MDSettings, run
>>> from constpot.potential import HybridCalculator           # doctest: +SKIP
>>> calc = HybridCalculator.from_models(["model.nequip.zip"])   # doctest: +SKIP
>>> settings = MDSettings(mode="constp", anode_potential_V=-6.0,
...                       counter_potential_V=2.0, n_steps=2000)
>>> summary = run(atoms, calc, settings, "results/md/demo")     # doctest: +SKIP
>>> summary = run(atoms, calc, settings, "results/md/demo",
...               resume="auto", segment_steps=1000)            # doctest: +SKIP
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.constraints import FixAtoms
from ase.md.langevin import Langevin
from ase.md.verlet import VelocityVerlet

from ..errors import Interrupted
from ..io import frozen_mask
from ..keys import FROZEN, WALL_LOWER_A, WALL_UPPER_A
from ..potential import HybridCalculator
from ..qeq.errors import ConvergenceError
from .checkpoint import Checkpoint
from .guards import MDGuardError, check_forces, check_geometry, check_temperature
from .identity import RunIdentity
from .interrupt import StopOnSignal
from .lock import RunLock
from .output import read_thermo
from .record import SUMMARY_FILE, THERMO_FILE, RunRecord, Snapshot
from .settings import MDSettings, MDSetupError
from .start import SessionStart
from .summary import describe, hms, summarise, write_summary
from .walls import HarmonicWalls, wall_indices

__all__ = ["RESUME_MODES", "ConstantPotentialMD", "run"]

#: Values of ``resume``: start afresh, continue (a checkpoint is required),
#: continue when a fitting checkpoint exists.
RESUME_MODES = (False, True, "auto")


class ConstantPotentialMD(SessionStart):
    """One constant-potential (or constant-charge) MD run.

    Parameters
    ----------
    atoms : ase.Atoms
        Starting structure (a built interface: normal z; per-atom ``frozen``,
        ``region``, ``molecule`` arrays and the ``wall_lower_A``/
        ``wall_upper_A`` info when walls are on). Copied.
    calc : HybridCalculator
        Forces and charges; the driver sets its potentials, total charge,
        membership and charge parameters (``calc.set``) from ``settings``.
    settings : MDSettings
    outdir : path-like
        Run folder.
    resume : {False, True, "auto"}
        False: start afresh (an earlier run in ``outdir`` is replaced once step
        0 has been computed). True: continue from ``outdir/checkpoint.npz``
        (frames and rows after its step are dropped first); refuse when there
        is none or it does not fit. ``"auto"``: continue when a checkpoint
        fits, else start afresh (the reason is logged). A checkpoint past
        ``settings.n_steps`` is refused in both modes.
    models : sequence of path-like
        The model files behind ``calc``'s short range; their SHA-256 goes into
        the checkpoints, and a resume with other files is refused.
    until_step : int, optional
        End this session at this step (absolute), with a checkpoint and a
        summary of status ``"segment"``, unless the run ends first.
    segment_steps : int, optional
        End this session after this many steps (counted from where it
        started), likewise.
    log : callable, optional
        Receives each log line (default: print to stdout); lines also go to
        ``outdir/md.log``.
    progress : bool or None
        tqdm bar on stderr; None: only when stderr is a terminal.
    callback : callable, optional
        ``callback(md, step)`` after each completed step (tests use it to
        interrupt a run).
    metadata : dict, optional
        Provenance stored under ``"run"`` in ``summary.json`` (system, models,
        versions, ...).

    Attributes
    ----------
    atoms : ase.Atoms
        The simulated atoms (with FixAtoms and walls constraints; ``calc`` is
        their calculator).
    step : int
        Steps completed.
    labels : (n_atoms,) int ndarray
        Electrode labels of the last evaluation.
    last : dict
        Energies (eV), charges (e), electrode charges (e), CG iterations and
        ``solved`` of the last evaluation.
    record : RunRecord
        The run folder's files.
    identity : RunIdentity
        Hashes of the model files, starting structure and physics (stored in
        every checkpoint; a resume must match them).
    timings : dict
        Seconds this session spent in short_range, qeq, neighbour_list
        (membership rule and overlap guard), integrator (the rest of a step);
        the summary adds io.

    Raises
    ------
    TypeError
        ``calc`` is not a HybridCalculator or ``settings`` not MDSettings.
    ValueError
        ``resume``, ``until_step`` or ``segment_steps`` out of range.
    MDSetupError
        Empty or non-periodic atoms, or walls without their info keys.
    FileNotFoundError
        A model file is missing.
    """

    def __init__(
        self,
        atoms: Atoms,
        calc: HybridCalculator,
        settings: MDSettings,
        outdir,
        *,
        resume: bool | str = False,
        models: Sequence[str | os.PathLike] = (),
        until_step: int | None = None,
        segment_steps: int | None = None,
        log: Callable[[str], None] | None = None,
        progress: bool | None = None,
        callback: Callable | None = None,
        metadata: dict | None = None,
    ):
        if not isinstance(settings, MDSettings):
            raise TypeError(
                f"settings must be an MDSettings, got {type(settings).__name__}"
            )
        if not isinstance(calc, HybridCalculator):
            raise TypeError(
                f"calc must be a constpot HybridCalculator, got {type(calc).__name__}"
            )
        if len(atoms) == 0:
            raise MDSetupError("atoms is empty")
        if not np.all(atoms.pbc):
            raise MDSetupError(f"atoms must be periodic (pbc {atoms.pbc.tolist()})")
        if resume not in RESUME_MODES:
            raise ValueError(f"resume must be False, True or 'auto', got {resume!r}")
        for name, value, low in (
            ("until_step", until_step, 0),
            ("segment_steps", segment_steps, 1),
        ):
            if value is not None and not (
                isinstance(value, (int, np.integer))
                and not isinstance(value, bool)
                and value >= low
            ):
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        self.settings = settings
        self.schedule = settings.schedule
        self.resume = "auto" if resume == "auto" else bool(resume)
        self.until_step = until_step
        self.segment_steps = segment_steps
        self.progress = sys.stderr.isatty() if progress is None else bool(progress)
        self.callback = callback
        self.metadata = dict(metadata or {})
        self.calc = calc

        self.atoms = atoms.copy()
        self.atoms.calc = None
        self.frozen = frozen_mask(self.atoms)
        self.atoms.set_constraint()
        self.atoms.arrays[FROZEN] = self.frozen
        self.walls = self._walls()
        constraints = [FixAtoms(mask=self.frozen)] if self.frozen.any() else []
        if self.walls is not None:
            constraints.append(self.walls)
        self.atoms.set_constraint(constraints)

        calc.set(**settings.calculator_parameters())
        self.identity = RunIdentity.of(atoms, settings, calc, models)
        self.record = RunRecord(
            Path(outdir),
            self.atoms,
            settings,
            walls=self.walls,
            frozen=self.frozen,
            identity=self.identity.todict(),
            log=log,
            progress=self.progress,
        )
        self.atoms.calc = calc

        self.rng = np.random.default_rng(settings.seed)
        dt = settings.timestep_fs * units.fs
        if settings.ensemble == "nvt":
            self.dyn = Langevin(
                self.atoms,
                dt,
                temperature_K=settings.temperature_K,
                friction=settings.friction_per_fs / units.fs,
                fixcm=False,
                rng=self.rng,
            )
        else:
            self.dyn = VelocityVerlet(self.atoms, dt)
        self.timings = dict.fromkeys(
            ("short_range", "qeq", "neighbour_list", "integrator"), 0.0
        )
        self.n_evaluations = 0
        self.step = 0
        self.labels: np.ndarray | None = None
        self.solved_charges: np.ndarray | None = None
        self.last: dict = {}

    def _walls(self) -> HarmonicWalls | None:
        s = self.settings
        if s.walls == "none":
            return None
        info = self.atoms.info
        if WALL_LOWER_A not in info or WALL_UPPER_A not in info:
            raise MDSetupError(
                f"walls={s.walls!r} need info {WALL_LOWER_A!r} and "
                f"{WALL_UPPER_A!r} (written by constpot build); use walls='none'"
            )
        return HarmonicWalls(
            wall_indices(self.atoms, s.walls),
            info[WALL_LOWER_A],
            info[WALL_UPPER_A],
            s.wall_spring_eV_A2,
        )

    # ----------------------------------------------------------- evaluation
    def _configure(self, step: int) -> None:
        """The calculator's parameters for the evaluation at ``step``."""
        params = self.schedule.parameters(step, self.labels, self.solved_charges)
        self.calc.set(**params)

    def _evaluate(self, step: int) -> np.ndarray:
        """Forces at the current positions, with the schedule of ``step``."""
        self._configure(step)
        forces = self.atoms.get_forces(md=True)
        self._collect()
        return forces

    def _collect(self) -> None:
        """Keep the calculator's results of the evaluation just done."""
        r = self.calc.results
        self.timings["short_range"] += r["short_seconds"]
        self.timings["qeq"] += r["qeq_seconds"]
        self.timings["neighbour_list"] += r["electrode_seconds"]
        self.n_evaluations += 1
        charges = np.array(r["charges"], dtype=float)
        self.labels = np.array(r["electrode"], dtype=np.int64)
        if r["qeq_solved"]:
            self.solved_charges = charges.copy()
        anode, counter = r["electrode_charges"]
        self.last = {
            "energy": float(r["energy"]),
            "free_energy": float(r["free_energy"]),
            "charges": charges,
            "electrode": self.labels.copy(),
            "anode_charge_e": float(anode),
            "counter_charge_e": float(counter),
            "cg_iterations": int(r["cg_iterations"]),
            "solved": bool(r["qeq_solved"]),
            # ensemble only: max over atoms of the members' force spread
            "force_deviation": float(r.get("force_deviation", np.nan)),
        }

    def _timed(self) -> float:
        """Seconds counted so far in evaluations and neighbour searches."""
        t = self.timings
        return t["short_range"] + t["qeq"] + t["neighbour_list"]

    def _check_geometry(self, step: int) -> None:
        start = time.perf_counter()
        check_geometry(self.atoms, step, self.settings.min_distance_A)
        self.timings["neighbour_list"] += time.perf_counter() - start

    def _snapshot(self, forces) -> Snapshot:
        guess = self.calc.guess
        return Snapshot(
            step=self.step,
            positions=self.atoms.positions.copy(),
            momenta=self.atoms.get_momenta().copy(),
            forces=None if forces is None else np.array(forces, dtype=float),
            guess=None if guess is None else np.array(guess, dtype=float),
            labels=self.labels.copy(),
            rng_state=self.rng.bit_generator.state,
            last=self.last,
            predictor=self.calc.predictor.state(),
            qeq_reference=self.calc.solver.reference.positions,
        )

    # ------------------------------------------------------------------ run
    def run(self) -> dict:
        """Run to ``settings.n_steps`` (or the segment's end); returns the
        summary (also written).

        Raises
        ------
        MDGuardError
            A guard stopped the run (last good frame and checkpoint written).
        MDSetupError
            Bad structure, settings or checkpoint; the folder is locked by
            another process (:class:`~constpot.md.lock.RunLockedError`).
        """
        record = self.record
        record.outdir.mkdir(parents=True, exist_ok=True)
        with RunLock(record.outdir) as lock:
            record.begin()
            if lock.unsupported:
                record.log(
                    f"warning: cannot lock the run folder ({lock.unsupported}); "
                    "make sure no other process writes it"
                )
            removed = record.clean_leftovers()
            if removed:
                record.log(
                    f"removed {len(removed)} temporary file(s) of a killed "
                    f"session: {', '.join(p.name for p in removed)}"
                )
            ckpt = self._plan()
            self._log_start(ckpt)
            return self._session(ckpt)

    def _session(self, ckpt: Checkpoint | None) -> dict:
        record = self.record
        stopped = interrupted = None
        try:
            if ckpt is None:
                forces = self._start_fresh()
            else:
                forces = self._start_resume(ckpt)
            self._loop(forces)
        except MDGuardError as err:
            stopped = err
        except Interrupted as err:
            interrupted = err
        finally:
            record.close()
        if interrupted is not None:
            # Like a segment's end (checkpoint of this step, files published),
            # then the error: the session did not reach its target.
            self._finish(interrupted=interrupted)
            raise interrupted
        if stopped is not None and not record.taken:
            raise stopped  # nothing of this run written: the folder is as it was
        if stopped is not None:
            # The summary of what ran (status "stopped"), then the error.
            self._finish(stopped)
            raise stopped
        return self._finish()

    def _guard(self, state: Snapshot, forces) -> None:
        """The guards in their order: geometry, energy and forces, temperature."""
        s = self.settings
        self._check_geometry(state.step)
        check_forces(
            self.atoms, state.step, state.last["free_energy"], forces, s.max_force_eV_A
        )
        row = self.record.thermo_row(state)
        check_temperature(
            self.atoms,
            state.step,
            row["temperature_K"],
            s.max_temperature_factor * s.temperature_K,
        )

    def _advance(self, forces) -> np.ndarray:
        """One integrator step; returns the forces at the new positions.

        An evaluation that fails on overlapping atoms is reported as the
        geometry guard reports them.
        """
        step = self.step + 1
        self._configure(step)
        try:
            forces = self.dyn.step(forces)
        except ConvergenceError:
            raise
        except Exception:
            self._check_geometry(step)  # raises MDGuardError on an overlap
            raise
        self.step = step
        self._collect()
        return forces

    def _loop(self, forces) -> None:
        s = self.settings
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(
                total=s.n_steps,
                initial=self.step,
                unit="step",
                file=sys.stderr,
                dynamic_ncols=True,
            )
        good = self._snapshot(forces)
        t_loop = time.perf_counter()
        first = self.step
        target = self._target()
        with StopOnSignal() as stop:
            try:
                while self.step < target:
                    if stop.signum is not None:
                        self._interrupt(stop, good)
                    start, timed = time.perf_counter(), self._timed()
                    try:
                        forces = self._advance(forces)
                        state = self._snapshot(forces)
                        self._guard(state, forces)
                    except (MDGuardError, ConvergenceError) as err:
                        self._stop(good, err)
                    spent = time.perf_counter() - start
                    self.timings["integrator"] += spent - (self._timed() - timed)
                    last = self.step == s.n_steps
                    end = self.step == target or stop.signum is not None
                    # A segment's end gets a checkpoint but no extra frame or row:
                    # the files stay those of a run that never stopped.
                    row = self.record.write(state, force_frame=last, force_ckpt=end)
                    good = state
                    if bar is not None:
                        bar.update(1)
                    if self.step % s.log_every == 0 or end:
                        rate = (self.step - first) / (time.perf_counter() - t_loop)
                        self._log_step(row, rate)
                    if self.callback is not None:
                        self.callback(self, self.step)
            finally:
                if bar is not None:
                    bar.close()

    def _interrupt(self, stop: StopOnSignal, good: Snapshot):
        """End the session at the last completed step: its checkpoint (unless
        written with the step), then :class:`~constpot.errors.Interrupted`."""
        if self.record.last_ckpt_step != good.step:
            self.record.checkpoint(good)
        text = (
            f"{stop.name} received: stopped after step {good.step} of "
            f"{self.settings.n_steps}, its checkpoint written; resume to continue"
        )
        self.record.log(text)
        raise Interrupted(text, stop.signum, good.step)

    def _log_step(self, row: dict, rate: float) -> None:
        """The progress line of a step: time, T, H, anode charge, CG, rate, ETA."""
        s = self.settings
        eta = (s.n_steps - self.step) / max(rate, 1e-9)
        self.record.log(
            f"step {self.step}/{s.n_steps} t {row['time_fs'] / 1000:.3f} ps "
            f"T {row['temperature_K']:.1f} K H {row['conserved_eV']:.4f} eV "
            f"anode {row['anode_charge_e']:+.4f} e CG {row['cg_iterations']} | "
            f"{rate:.2f} steps/s ETA {hms(eta)}"
        )

    def _stop(self, good: Snapshot, err: Exception):
        """Write the last good frame and checkpoint, then raise MDGuardError."""
        self.record.write_frame(good)
        self.record.checkpoint(good)
        if isinstance(err, MDGuardError):
            message, guard = str(err), err
        else:
            message = (
                f"step {good.step + 1}: charge solve failed ({err}; "
                f"{err.iterations} iterations, residual {err.residual:.2e})"
            )
            guard = MDGuardError(message, good.step + 1, "qeq")
        text = (
            f"{message}; stopped after writing the frame and checkpoint of "
            f"step {good.step} to {self.record.outdir}"
        )
        self.record.log(f"guard: {text}")
        raise MDGuardError(text, guard.step, guard.reason, guard.atoms) from err

    # --------------------------------------------------------------- summary
    def _finish(
        self,
        stopped: MDGuardError | None = None,
        interrupted: Interrupted | None = None,
    ) -> dict:
        """Publish the outputs and write the summary (completed, segment or
        stopped; an interrupted session is a segment that names its signal);
        returns it."""
        record = self.record
        thermo_path = record.work(THERMO_FILE)
        summary = summarise(
            self.settings,
            self.atoms,
            read_thermo(thermo_path) if thermo_path.is_file() else {},
            record.initial_labels,
            self.labels,
            stopped=stopped,
            segment=self.step < self.settings.n_steps,
            steps=self.step,
            wall_time_s=record.wall_time_s,
            timings={**self.timings, "io": record.io_seconds},
            n_evaluations=self.n_evaluations,
            calculator=self.calc.todict(),
            identity=self.identity,
            metadata=self.metadata,
        )
        if interrupted is not None:
            summary["interrupted_by"] = signal.Signals(interrupted.signum).name
        record.publish()
        write_summary(record.path(SUMMARY_FILE), summary)
        if "time_ps" in summary:  # something ran
            record.log(describe(summary))
        return summary


def run(
    atoms: Atoms,
    calc: HybridCalculator,
    settings: MDSettings,
    outdir,
    resume: bool | str = False,
    **kwargs,
) -> dict:
    """Run one MD (see :class:`ConstantPotentialMD`); returns the summary.

    Parameters
    ----------
    atoms : ase.Atoms
    calc : HybridCalculator
    settings : MDSettings
    outdir : path-like
        Run folder (``traj.extxyz``, ``thermo.csv``, ``checkpoint.npz``,
        ``summary.json``, ``md.log``; see :mod:`constpot.md.record`).
    resume : {False, True, "auto"}
        Start afresh, continue from the folder's checkpoint (required), or
        continue when a fitting checkpoint exists.
    **kwargs
        ``models``, ``until_step``, ``segment_steps``, ``log``, ``progress``,
        ``callback``, ``metadata`` of :class:`ConstantPotentialMD`.

    Raises
    ------
    MDGuardError
        A guard stopped the run.
    MDSetupError
        Bad settings, structure or checkpoint, or the folder is in use.
    """
    return ConstantPotentialMD(
        atoms, calc, settings, outdir, resume=resume, **kwargs
    ).run()
