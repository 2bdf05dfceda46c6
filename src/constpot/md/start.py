"""The start of a session of an MD run: a fresh step 0, or a checkpoint's state.

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

A fresh start draws the velocities, optionally relaxes the structure (FIRE on
Ω + E_short at the starting membership), evaluates step 0, guards it and only
then takes the folder over; the calculator's charge-predictor history is
emptied first, so that nothing of an earlier run on the same calculator
changes it. A resume restores the checkpoint's positions,
momenta, forces, thermostat generator, electrode labels and the calculator's
charge-predictor history (:mod:`constpot.potential.predictor`): everything the
next step depends on.

:class:`SessionStart` holds these steps as methods of
:class:`~constpot.md.driver.ConstantPotentialMD` (its base class): they use the
driver's evaluation (``_configure``, ``_evaluate``, ``_snapshot``, ``_guard``,
``_check_geometry``) and state (``settings``, ``atoms``, ``calc``, ``record``,
``identity``, ``rng``, ``step``, ``labels``).
"""

from __future__ import annotations

import math
import time

import numpy as np
from ase.md.velocitydistribution import thermalize_momenta
from ase.optimize import FIRE

from .checkpoint import Checkpoint, read_checkpoint
from .guards import MDGuardError, check_forces
from .identity import RunIdentity
from .record import CHECKPOINT_FILE
from .settings import MDSetupError

__all__ = ["SessionStart"]


class SessionStart:
    """Starting a session: the start methods of ``ConstantPotentialMD``."""

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
        # Nothing of an earlier run carried over: no predictor history, no
        # reference preconditioner.
        self.calc.predictor.reset()
        self.calc.solver.reference.load(None)
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
        """Log a guard that stopped step 0, leaving an earlier run intact."""
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
        # FIRE's steps are no time steps: predict step 1 from step 0 on
        self.calc.predictor.restart(self.calc.guess)
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
        """The state of ``ckpt`` (the files cut back to its step); returns the
        forces of its step."""
        self.record.open_resume(ckpt)  # files cut back to the checkpoint's step
        self.atoms.set_positions(ckpt.positions, apply_constraint=False)
        self.atoms.set_momenta(ckpt.momenta, apply_constraint=False)
        self.rng.bit_generator.state = ckpt.rng_state
        guess = None if ckpt.guess is None else ckpt.guess.copy()
        if ckpt.predictor is not None:
            self.calc.predictor.load_state(ckpt.predictor)
        else:  # a checkpoint of an earlier version: the last charges only
            self.calc.predictor.restart(guess)
        self.calc.solver.reference.load(ckpt.qeq_reference)
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

    def _log_start(self, ckpt: Checkpoint | None) -> None:
        """The session's first log line: the run and how it starts."""
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
