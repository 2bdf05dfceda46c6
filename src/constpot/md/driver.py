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
``calc.set(...)``: the potentials and total charge of the settings, then, before
every step, the :class:`~constpot.md.schedule.Schedule`'s membership update and
charge solve (or evaluation at held charges). It integrates, guards, writes
and checkpoints.

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

Sessions: start, resume, segments
---------------------------------
A run may take several sessions (processes). ``resume=False`` starts afresh;
``resume=True`` continues from the folder's checkpoint and refuses when there
is none or it does not fit; ``resume="auto"`` continues when a checkpoint fits
and starts afresh otherwise (what a workflow passes: a job killed by a signal,
an OOM or a wall-time limit continues where its last checkpoint left it). A
checkpoint fits when it was written by this run: the same model files, starting
structure and physics (:mod:`constpot.md.identity`), and the trajectory and
thermo table hold everything it recorded; frames and rows written after it are
cut off, so that a resumed run is bit-identical to one that never stopped
(CPU, float64). ``n_steps`` may grow between sessions (the run continues);
below the checkpoint's step is refused. ``until_step`` / ``segment_steps`` end
a session early at a step, with a checkpoint and a summary of status
``"segment"``; the next session resumes.

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

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.constraints import FixAtoms
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import thermalize_momenta
from ase.md.verlet import VelocityVerlet
from ase.optimize import FIRE

from ..io import frozen_mask
from ..keys import FROZEN
from ..potential import HybridCalculator
from ..qeq.errors import ConvergenceError
from .checkpoint import Checkpoint, read_checkpoint
from .guards import MDGuardError, check_forces, check_geometry, check_temperature
from .identity import RunIdentity
from .lock import RunLock
from .output import read_thermo
from .record import CHECKPOINT_FILE, SUMMARY_FILE, THERMO_FILE, RunRecord, Snapshot
from .settings import MDSettings, MDSetupError
from .summary import describe, hms, summarise, write_summary
from .walls import HarmonicWalls, wall_indices

__all__ = ["RESUME_MODES", "ConstantPotentialMD", "run"]

#: Values of ``resume``: start afresh, continue (a checkpoint is required),
#: continue when a fitting checkpoint exists.
RESUME_MODES = (False, True, "auto")


class ConstantPotentialMD:
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
        if "wall_lower_A" not in info or "wall_upper_A" not in info:
            raise MDSetupError(
                f"walls={s.walls!r} need info 'wall_lower_A' and "
                "'wall_upper_A' (written by constpot build); use walls='none'"
            )
        return HarmonicWalls(
            wall_indices(self.atoms, s.walls),
            info["wall_lower_A"],
            info["wall_upper_A"],
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
        )

    # ---------------------------------------------------------------- start
    def _start_fresh(self) -> np.ndarray:
        """Step 0 of a new run; the folder is taken over only once it passed.

        Returns the forces at step 0. A guard that stops step 0 leaves an
        earlier run in the folder as it was; in an empty folder it leaves the
        starting state (a checkpoint that cannot be resumed) for inspection.
        """
        s = self.settings
        atoms = self.atoms
        record = self.record
        if s.initial_velocities:
            thermalize_momenta(atoms, s.temperature_K, rng=self.rng)
        self.step = 0
        self._configure(0)
        forces = None
        try:
            self._check_geometry(0)
            if s.relax_steps:
                self._relax()
            forces = self._evaluate(0)
            record.initial_labels = self.labels.copy()
            state = self._snapshot(forces)
            self._guard(state, forces)
        except MDGuardError as err:
            self._stopped_at_start(err, forces)
            raise
        record.open_fresh()
        record.write(state, force_frame=True, force_ckpt=True)
        return forces

    def _stopped_at_start(self, err: MDGuardError, forces) -> None:
        record = self.record
        if record.has_run():
            record.log(
                f"guard: {err}; nothing written, the earlier run in "
                f"{record.outdir} is left as it was"
            )
            return
        if self.labels is None:
            self.labels = self.calc.membership(self.atoms)
        if record.initial_labels is None:
            record.initial_labels = self.labels.copy()
        record.open_fresh()
        record.checkpoint(self._snapshot(forces), resumable=False)
        record.log(f"guard: {err}; checkpoint of step 0 written")

    def _relax(self) -> None:
        """FIRE on Ω + E_short at the starting membership (fresh runs only)."""
        s = self.settings
        start = time.perf_counter()
        labels = self.calc.membership(self.atoms)
        self.calc.set(electrodes="static", electrode_labels=labels, fixed_charges=None)
        energy0 = self.atoms.get_potential_energy(force_consistent=True)
        # FIRE would carry a NaN force into the positions: stop here instead
        check_forces(self.atoms, 0, energy0, self.atoms.get_forces(), math.inf)
        opt = FIRE(self.atoms, logfile=None)
        converged = opt.run(fmax=s.relax_fmax_eV_A, steps=s.relax_steps)
        fmax = float(np.linalg.norm(self.atoms.get_forces(), axis=1).max())
        energy1 = self.atoms.get_potential_energy(force_consistent=True)
        self.record.log(
            f"relaxed: {opt.nsteps} FIRE steps "
            f"({'converged' if converged else 'not converged'} to "
            f"{s.relax_fmax_eV_A} eV/Å), max force {fmax:.3f} eV/Å, "
            f"Ω + E_short {energy0:.4f} -> {energy1:.4f} eV "
            f"in {time.perf_counter() - start:.1f} s"
        )

    def _resume_problem(self, ckpt: Checkpoint) -> str | None:
        """Why this run cannot continue from ``ckpt`` (None: it can)."""
        if not ckpt.resumable:
            return (
                "its checkpoint is the starting state of a run a guard stopped "
                "at step 0 (nothing to continue)"
            )
        if not np.array_equal(ckpt.numbers, self.atoms.numbers):
            return (
                "the checkpoint's atoms do not match the structure (different "
                "elements or order)"
            )
        try:
            saved = RunIdentity.fromdict(ckpt.identity)
        except (KeyError, TypeError, ValueError):
            return "the checkpoint records no run identity"
        problem = self.identity.mismatch(saved)
        if problem is not None:
            return problem
        return self.record.check_outputs(ckpt)

    def _plan(self) -> Checkpoint | None:
        """The checkpoint to continue from, or None for a fresh start.

        Raises
        ------
        MDSetupError
            ``resume=True`` and no fitting checkpoint; or a fitting checkpoint
            past ``n_steps`` (either mode).
        """
        if self.resume is False:
            return None
        record = self.record
        path = record.path(CHECKPOINT_FILE)
        try:
            ckpt = read_checkpoint(path)
        except FileNotFoundError:
            problem = f"no checkpoint {path}"
        except ValueError as err:
            problem = str(err)
        else:
            problem = self._resume_problem(ckpt)
        if problem is not None:
            if self.resume is True:
                raise MDSetupError(f"cannot resume {record.outdir}: {problem}")
            record.log(f"resume auto: {problem}; starting a fresh run")
            return None
        if ckpt.step > self.settings.n_steps:
            raise MDSetupError(
                f"cannot resume {record.outdir}: its checkpoint is at step "
                f"{ckpt.step}, past n_steps {self.settings.n_steps} (raise "
                "n_steps, or remove the run folder to start afresh)"
            )
        return ckpt

    def _start_resume(self, ckpt: Checkpoint) -> np.ndarray:
        self.record.open_resume(ckpt)  # files cut back to the checkpoint's step
        self.atoms.set_positions(ckpt.positions, apply_constraint=False)
        self.atoms.set_momenta(ckpt.momenta, apply_constraint=False)
        self.rng.bit_generator.state = ckpt.rng_state
        guess = None if ckpt.guess is None else ckpt.guess.copy()
        self.calc.guess = guess
        self.solved_charges = None if guess is None else guess.copy()
        self.labels = ckpt.electrode.copy()
        self.step = ckpt.step
        if ckpt.forces is None:
            return self._evaluate(self.step)
        # Restore the evaluation the checkpoint was written after.
        self.last = {
            **ckpt.results,
            "charges": guess,
            "electrode": self.labels.copy(),
            "solved": True,
        }
        return ckpt.forces.copy()

    def _target(self) -> int:
        """The step this session ends at."""
        target = self.settings.n_steps
        if self.until_step is not None:
            target = min(target, int(self.until_step))
        if self.segment_steps is not None:
            target = min(target, self.step + int(self.segment_steps))
        return max(target, self.step)

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

    def _log_start(self, ckpt: Checkpoint | None) -> None:
        s = self.settings
        n_walled = 0 if self.walls is None else self.walls.index.size
        start = "fresh start" if ckpt is None else f"resuming at step {ckpt.step}"
        self.record.log(
            f"constpot md: {start}; {len(self.atoms)} atoms, mode {s.mode}, "
            f"potentials (anode, counter) {s.potentials} V, {s.ensemble} "
            f"{s.temperature_K} K, dt {s.timestep_fs} fs, {s.n_steps} steps, "
            f"electrodes {s.electrodes}/{s.electrode_every}, qeq every "
            f"{s.qeq_every}, walls {s.walls} ({n_walled} atoms), "
            f"frozen {int(self.frozen.sum())}"
        )

    def _session(self, ckpt: Checkpoint | None) -> dict:
        record = self.record
        stopped = None
        try:
            if ckpt is None:
                forces = self._start_fresh()
            else:
                forces = self._start_resume(ckpt)
            self._loop(forces)
        except MDGuardError as err:
            stopped = err
        finally:
            record.close()
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
        try:
            while self.step < target:
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
                end = self.step == target
                # A segment's end gets a checkpoint but no extra frame or row:
                # the files stay those of a run that never stopped.
                row = self.record.write(state, force_frame=last, force_ckpt=end)
                good = state
                if bar is not None:
                    bar.update(1)
                if self.step % s.log_every == 0 or end:
                    done = self.step - first
                    rate = done / max(time.perf_counter() - t_loop, 1e-9)
                    eta = (s.n_steps - self.step) / max(rate, 1e-9)
                    self.record.log(
                        f"step {self.step}/{s.n_steps} "
                        f"t {row['time_fs'] / 1000:.3f} ps "
                        f"T {row['temperature_K']:.1f} K "
                        f"H {row['conserved_eV']:.4f} eV "
                        f"anode {row['anode_charge_e']:+.4f} e "
                        f"CG {row['cg_iterations']} | {rate:.2f} steps/s "
                        f"ETA {hms(eta)}"
                    )
                if self.callback is not None:
                    self.callback(self, self.step)
        finally:
            if bar is not None:
                bar.close()

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
    def _finish(self, stopped: MDGuardError | None = None) -> dict:
        """Publish the outputs and write the summary (completed, segment or
        stopped); returns it."""
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
