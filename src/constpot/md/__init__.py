"""Constant-potential molecular dynamics (docs/design.md §4, §6).

Public API::

    from constpot.md import MDSettings, run
    settings = MDSettings(mode="constp", anode_potential_V=-6.0,
                          counter_potential_V=2.0, n_steps=2000)
    summary = run(atoms, calc, settings, "results/md/demo/constp_-6.0V_r0")

``calc`` is a :class:`constpot.potential.HybridCalculator`: it owns each step's
physics and the driver configures it through ``calc.set``. A run folder holds
``traj.extxyz``, ``thermo.csv``, ``summary.json`` (published when a session
ends), ``checkpoint.npz``, ``md.log`` and the files being written (``work/``);
``run(..., resume="auto")`` continues from a checkpoint of the same run,
``resume=True`` requires one, and ``until_step``/``segment_steps`` end a
session early (status ``"segment"``).

Modules: ``settings`` (:class:`MDSettings`), ``schedule`` (membership updates
and charge solves per step), ``driver`` (integration, guards, sessions),
``start`` (relaxation, step 0, checkpoint or fresh start), ``interrupt``
(SIGTERM/SIGINT), ``record`` (the run folder's files), ``summary``
(``summary.json``), ``identity`` (what a resume must match), ``lock`` (one
writer per folder), ``output``, ``checkpoint``, ``guards``, ``walls``. The
``constpot md`` command is :mod:`constpot.cli.md`.
"""

from .checkpoint import Checkpoint, read_checkpoint, write_checkpoint
from .driver import ConstantPotentialMD, run
from .guards import GuardLimits, MDGuardError
from .identity import RunIdentity
from .lock import RunLock, RunLockedError
from .output import THERMO_COLUMNS, ThermoWriter, TrajectoryWriter, read_thermo
from .schedule import Schedule
from .settings import MODES, MDSettings, MDSetupError, potential_label
from .walls import WALL_ATOMS, HarmonicWalls, wall_indices

__all__ = [
    "MODES",
    "THERMO_COLUMNS",
    "WALL_ATOMS",
    "Checkpoint",
    "ConstantPotentialMD",
    "GuardLimits",
    "HarmonicWalls",
    "MDGuardError",
    "MDSettings",
    "MDSetupError",
    "RunIdentity",
    "RunLock",
    "RunLockedError",
    "Schedule",
    "ThermoWriter",
    "TrajectoryWriter",
    "potential_label",
    "read_checkpoint",
    "read_thermo",
    "run",
    "wall_indices",
    "write_checkpoint",
]
