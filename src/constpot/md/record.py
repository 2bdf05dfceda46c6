"""The files of one run folder, written as the run goes.

:class:`RunRecord` owns a run folder: ``md.log``, the trajectory and thermo
table as they are written, ``checkpoint.npz``, and the published outputs. It
turns a :class:`Snapshot` of the state after a step into a thermo row, a
trajectory frame and a checkpoint, at the intervals of the settings, and on
resume checks the files against the checkpoint and cuts them back to its step
before appending. ``summary.json`` is :mod:`constpot.md.summary`'s.

Layout
------
::

    <outdir>/
        md.lock          lock of the writing process (constpot.md.lock)
        md.log           log of every session, appended
        checkpoint.npz   state at the last checkpoint (constpot.md.checkpoint)
        work/traj.extxyz, work/thermo.csv
                         frames and rows as they are written
        traj.extxyz, thermo.csv, summary.json
                         published when a session ends (completed, segment or
                         stopped): the work files, hard-linked (copied where
                         the file system has no hard links), then the summary

Only the published files are a workflow's outputs. A workflow engine deletes
the outputs of a failed or restarted job (Snakemake does, before and after the
job); the work files and the checkpoint, which it does not know, survive, so
the next job resumes (``resume="auto"``). A session that continues a run
removes the published files first (they would go stale), and publishes again
when it ends.

Nothing of an earlier run is removed or overwritten before the new run has
validated its inputs and computed (and guarded) its step 0
(:meth:`RunRecord.open_fresh`); leftover temporary files of
:func:`constpot.io.atomic_path` from a killed session are removed when the
next session starts (:meth:`RunRecord.clean_leftovers`).

Thermo rows and frames are computed from the snapshot alone (its momenta, its
positions, its evaluation's numbers), so the row of a checkpointed step can be
rebuilt on resume without a new force evaluation.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms, units

from ..io import atomic_leftovers, atomic_path
from ..keys import (
    CHECKPOINT_FILE,
    FORCE_DEVIATION,
    STEP,
    SUMMARY_FILE,
    THERMO_FILE,
    TIME_FS,
    TRAJ_FILE,
)
from .checkpoint import Checkpoint, write_checkpoint
from .output import ThermoWriter, TrajectoryWriter, frame_atoms
from .settings import MDSettings
from .walls import HarmonicWalls

__all__ = [
    "CHECKPOINT_FILE",
    "LOG_FILE",
    "SUMMARY_FILE",
    "THERMO_FILE",
    "TRAJ_FILE",
    "WORK_DIR",
    "RunRecord",
    "Snapshot",
]

#: File names inside a run folder.
#: (traj, thermo, checkpoint, summary: :mod:`constpot.keys`, which the
#: workflow and the analysis read them by).
LOG_FILE = "md.log"
#: Subfolder of the trajectory and thermo table being written.
WORK_DIR = "work"

#: Published outputs, in the order they are published (the summary last).
_PUBLISHED = (TRAJ_FILE, THERMO_FILE, SUMMARY_FILE)

#: Numbers of the last evaluation a checkpoint stores (its thermo row needs them).
_CHECKPOINT_RESULTS = (
    "energy",
    "free_energy",
    "anode_charge_e",
    "counter_charge_e",
    "cg_iterations",
)


@dataclass
class Snapshot:
    """The state after a step: what a checkpoint, a row and a frame need.

    Attributes
    ----------
    step : int
    positions, momenta : (n_atoms, 3) ndarray
        Å, amu·Å/(ASE time).
    forces : (n_atoms, 3) ndarray or None, eV/Å
        Constraints applied (the next half-kick's).
    guess : (n_atoms,) ndarray or None, e
        Charges of the calculator's last solve.
    labels : (n_atoms,) int ndarray
        Electrode labels of the step.
    rng_state : dict
        The thermostat generator's state.
    last : dict
        The step's evaluation: ``energy``, ``free_energy`` (eV), ``charges``
        (e), ``anode_charge_e``, ``counter_charge_e``, ``cg_iterations``,
        ``solved``.
    predictor : dict or None
        The calculator's charge-predictor history
        (:meth:`~constpot.potential.predictor.ChargePredictor.state`).
    qeq_reference : (n_atoms, 3) ndarray or None, Å
        The charge solver's reference preconditioner geometry.
    """

    step: int
    positions: np.ndarray
    momenta: np.ndarray
    forces: np.ndarray | None
    guess: np.ndarray | None
    labels: np.ndarray
    rng_state: dict
    last: dict
    predictor: dict | None = None
    qeq_reference: np.ndarray | None = None


class RunRecord:
    """Log, thermo rows, frames, checkpoints and outputs of one run folder.

    Parameters
    ----------
    outdir : Path
        The run folder (created by the caller).
    atoms : ase.Atoms
        The simulated atoms (masses, numbers, builder arrays and info).
    settings : MDSettings
    walls : HarmonicWalls or None
        Their energy is part of the potential energy in the rows.
    frozen : (n_atoms,) bool ndarray
        Frozen atoms (no kinetic degrees of freedom).
    identity : dict
        :meth:`RunIdentity.todict <constpot.md.identity.RunIdentity.todict>`,
        stored in every checkpoint.
    log : callable, optional
        Receives each log line (default: print); lines also go to ``md.log``.
    progress : bool
        A tqdm bar is on stderr: log lines go through ``tqdm.write``.

    Attributes
    ----------
    initial_labels : (n_atoms,) int ndarray or None
        Labels of step 0 (stored in every checkpoint).
    wall_before_s : float, s
        Wall time of earlier sessions (from the checkpoint).
    io_seconds : float, s
        Time spent writing rows, frames and checkpoints.
    taken : bool
        This session has taken the folder over (:meth:`open_fresh` or
        :meth:`open_resume`): its files are now this run's.
    """

    def __init__(
        self,
        outdir: Path,
        atoms: Atoms,
        settings: MDSettings,
        *,
        walls: HarmonicWalls | None,
        frozen: np.ndarray,
        identity: dict | None = None,
        log: Callable[[str], None] | None = None,
        progress: bool = False,
    ):
        self.outdir = Path(outdir)
        self.atoms = atoms
        self.settings = settings
        self.walls = walls
        self.frozen = frozen
        self.identity = dict(identity or {})
        self._print = print if log is None else log
        self.progress = progress
        self.initial_labels: np.ndarray | None = None
        self.wall_before_s = 0.0
        self.io_seconds = 0.0
        self.last_frame_step = -1
        self.last_ckpt_step = -1
        self.taken = False
        self._t0 = time.perf_counter()
        self.traj: TrajectoryWriter | None = None
        self.thermo: ThermoWriter | None = None

    @property
    def wall_time_s(self) -> float:
        """Wall time of the run so far, all sessions, s."""
        return self.wall_before_s + time.perf_counter() - self._t0

    def path(self, name: str) -> Path:
        """``outdir/name``: the checkpoint, log and published outputs."""
        return self.outdir / name

    def work(self, name: str) -> Path:
        """``outdir/work/name``: the trajectory and thermo table being written."""
        return self.outdir / WORK_DIR / name

    # -------------------------------------------------------------- files
    def begin(self) -> None:
        """Start the session's clock."""
        self._t0 = time.perf_counter()

    def has_run(self) -> bool:
        """Whether the folder holds files of a run (checkpoint or outputs)."""
        names = [self.path(n) for n in (CHECKPOINT_FILE, *_PUBLISHED)]
        names += [self.work(n) for n in (TRAJ_FILE, THERMO_FILE)]
        return any(p.exists() for p in names)

    def clean_leftovers(self) -> list[Path]:
        """Remove temporary files a killed session left (returns them).

        Only :func:`constpot.io.atomic_path` names of this folder's files;
        call it while holding the folder's lock.
        """
        targets = [self.path(n) for n in (CHECKPOINT_FILE, *_PUBLISHED)]
        targets += [self.work(n) for n in (TRAJ_FILE, THERMO_FILE)]
        removed = [p for t in targets for p in atomic_leftovers(t)]
        for p in removed:
            p.unlink(missing_ok=True)
        return removed

    def check_outputs(self, ckpt: Checkpoint) -> str | None:
        """Why the work files cannot continue from ``ckpt``, or None.

        They must exist and hold, up to the checkpoint's step, exactly the
        frames and rows (count and bytes) the checkpoint recorded; anything
        after that step is allowed (it is cut off on resume). Reads only.
        """
        want = ckpt.outputs
        for name, writer, unit, nbytes in (
            (TRAJ_FILE, TrajectoryWriter, "frames", "traj_bytes"),
            (THERMO_FILE, ThermoWriter, "rows", "thermo_bytes"),
        ):
            path = self.work(name)
            if not path.is_file():
                return f"{path} is missing"
            count, size = writer.scan(path, ckpt.step)
            expected = (int(want.get(unit, -1)), int(want.get(nbytes, -1)))
            if (count, size) != expected:
                short = count < expected[0] or size < expected[1]
                return (
                    f"{path} {'is shorter than' if short else 'does not match'} "
                    f"the checkpoint of step {ckpt.step}: {count} {unit} "
                    f"({size} bytes) up to that step, the checkpoint recorded "
                    f"{expected[0]} ({expected[1]} bytes)"
                )
        return None

    def _unpublish(self) -> None:
        for name in _PUBLISHED:
            self.path(name).unlink(missing_ok=True)

    def open_fresh(self) -> None:
        """Take the folder over for a new run: remove an earlier run's files
        (outputs, work files, checkpoint) and open new ones. ``md.log`` is
        kept (appended to)."""
        self._unpublish()
        self.path(CHECKPOINT_FILE).unlink(missing_ok=True)
        self.traj = TrajectoryWriter(self.work(TRAJ_FILE))
        self.thermo = ThermoWriter(self.work(THERMO_FILE))
        self.last_frame_step = -1
        self.last_ckpt_step = -1
        self.taken = True

    def open_resume(self, ckpt: Checkpoint) -> None:
        """Take the folder over to continue from ``ckpt``: remove the published
        outputs, cut the work files back to the checkpoint's step (they must
        pass :meth:`check_outputs`) and reopen them to append."""
        self._unpublish()
        self.initial_labels = ckpt.initial_electrode.copy()
        self.wall_before_s = ckpt.wall_time_s
        out = ckpt.outputs
        n_frames, n_rows = int(out["frames"]), int(out["rows"])
        os.truncate(self.work(TRAJ_FILE), int(out["traj_bytes"]))
        os.truncate(self.work(THERMO_FILE), int(out["thermo_bytes"]))
        self.traj = TrajectoryWriter(self.work(TRAJ_FILE), append=True, count=n_frames)
        self.thermo = ThermoWriter(self.work(THERMO_FILE), append=True, count=n_rows)
        self.last_frame_step = int(out.get("last_frame_step", -1))
        self.last_ckpt_step = ckpt.step
        self.taken = True
        self.log(
            f"resumed from step {ckpt.step} ({n_frames} frames, {n_rows} thermo "
            "rows kept)"
        )

    def publish(self) -> None:
        """Publish the work trajectory and thermo table as the outputs.

        Each is hard-linked (copied where the file system has no hard links)
        to a temporary name and renamed into place; the summary is written
        after them by the caller.
        """
        self.close()
        for name in (TRAJ_FILE, THERMO_FILE):
            source = self.work(name)
            if not source.is_file():
                continue
            with atomic_path(self.path(name)) as tmp:
                tmp.unlink()
                try:
                    os.link(source, tmp)
                except OSError:
                    shutil.copyfile(source, tmp)

    def close(self) -> None:
        for writer in (self.traj, self.thermo):
            if writer is not None:
                writer.close()

    def log(self, line: str) -> None:
        """A time-stamped line in ``md.log``, and to the log callable."""
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.path(LOG_FILE), "a", newline="") as fh:
            fh.write(f"{stamp} {line}\n")
        if not self.progress:
            self._print(line)
        else:
            from tqdm import tqdm

            tqdm.write(line, file=sys.stderr)

    # --------------------------------------------------------- rows, frames
    def thermo_row(self, snap: Snapshot) -> dict:
        """Thermo row of a snapshot (kinetic terms from its momenta)."""
        masses = self.atoms.get_masses()
        ke = float(0.5 * np.sum(snap.momenta**2 / masses[:, None]))
        dof = 3 * len(self.atoms) - 3 * int(self.frozen.sum())
        temp = 2.0 * ke / (max(dof, 1) * units.kB)
        e_wall = 0.0 if self.walls is None else self.walls.energy(snap.positions)
        last = snap.last
        grand = last["free_energy"] + e_wall
        return {
            "step": snap.step,
            "time_fs": snap.step * self.settings.timestep_fs,
            "temperature_K": temp,
            "potential_energy_eV": last["energy"] + e_wall,
            "wall_energy_eV": e_wall,  # frames only (not a thermo column)
            "grand_energy_eV": grand,
            "kinetic_energy_eV": ke,
            "conserved_eV": grand + ke,
            "anode_charge_e": last["anode_charge_e"],
            "counter_charge_e": last["counter_charge_e"],
            "cg_iterations": last["cg_iterations"],
            FORCE_DEVIATION: last.get("force_deviation", np.nan),
        }

    def frame(self, snap: Snapshot, row: dict) -> Atoms:
        """Trajectory frame of a snapshot (see :mod:`constpot.md.output`)."""
        s = self.settings
        anode_v, counter_v = s.potentials
        info = {
            STEP: int(snap.step),
            TIME_FS: float(row["time_fs"]),
            "temperature_K": float(row["temperature_K"]),
            "potential_energy_eV": float(row["potential_energy_eV"]),
            "wall_energy_eV": float(row["wall_energy_eV"]),
            "grand_energy_eV": float(row["grand_energy_eV"]),
            "kinetic_energy_eV": float(row["kinetic_energy_eV"]),
            "anode_charge_e": float(row["anode_charge_e"]),
            "counter_charge_e": float(row["counter_charge_e"]),
            "cg_iterations": int(row["cg_iterations"]),
            FORCE_DEVIATION: float(row[FORCE_DEVIATION]),
            "qeq_solved": bool(snap.last.get("solved", True)),
            "mode": s.mode,
            "anode_potential_V": anode_v,
            "counter_potential_V": counter_v,
            "total_charge_e": float(s.total_charge_e),
        }
        probe = self.atoms.copy()
        probe.positions = snap.positions
        return frame_atoms(probe, snap.last["charges"], snap.labels, info)

    def write(self, snap: Snapshot, force_frame=False, force_ckpt=False) -> dict:
        """Row, frame and checkpoint of a step, each when due; returns the row."""
        s = self.settings
        start = time.perf_counter()
        row = self.thermo_row(snap)
        if snap.step % s.thermo_every == 0 or force_frame:
            self.thermo.write(row)
        if (snap.step % s.traj_every == 0 or force_frame) and (
            snap.step != self.last_frame_step
        ):
            self.traj.write(self.frame(snap, row))
            self.last_frame_step = snap.step
        if (snap.step % s.checkpoint_every == 0 or force_ckpt) and (
            snap.step != self.last_ckpt_step
        ):
            self.checkpoint(snap)
        self.io_seconds += time.perf_counter() - start
        return row

    def write_frame(self, snap: Snapshot) -> None:
        """The frame of a snapshot, unless written already (a stopped run)."""
        if self.last_frame_step != snap.step and snap.last:
            self.traj.write(self.frame(snap, self.thermo_row(snap)))
            self.last_frame_step = snap.step

    def checkpoint(self, snap: Snapshot, resumable: bool = True) -> None:
        """Flush the files, then write the checkpoint of ``snap`` atomically.

        ``resumable=False`` marks the starting state of a run stopped at step
        0 (kept for inspection; a resume starts such a run afresh).
        """
        self.traj.flush()
        self.thermo.flush()
        results = {k: snap.last[k] for k in _CHECKPOINT_RESULTS if k in snap.last}
        write_checkpoint(
            self.path(CHECKPOINT_FILE),
            Checkpoint(
                step=snap.step,
                positions=snap.positions,
                momenta=snap.momenta,
                forces=snap.forces,
                guess=snap.guess,
                electrode=snap.labels,
                initial_electrode=self.initial_labels,
                rng_state=snap.rng_state,
                numbers=self.atoms.numbers,
                results=results,
                wall_time_s=self.wall_time_s,
                settings=self.settings.todict(),
                identity=self.identity,
                outputs={
                    "frames": self.traj.count,
                    "traj_bytes": self.traj.size(),
                    "rows": self.thermo.count,
                    "thermo_bytes": self.thermo.size(),
                    "last_frame_step": self.last_frame_step,
                },
                resumable=resumable,
                predictor=snap.predictor,
                qeq_reference=snap.qeq_reference,
            ),
        )
        self.last_ckpt_step = snap.step
