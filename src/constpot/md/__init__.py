"""Constant-potential molecular dynamics (DESIGN §4, §6).

Public API::

    from constpot.md import MDSettings, run
    settings = MDSettings(mode="constp", anode_potential_V=-6.0,
                          counter_potential_V=2.0, n_steps=2000)
    summary = run(atoms, calc, settings, "results/md/demo/constp_-6.0V_r0")

``calc`` is a :class:`constpot.potential.HybridCalculator`. A run folder holds
``traj.extxyz``, ``thermo.csv``, ``checkpoint.npz``, ``summary.json`` and
``md.log``; ``run(..., resume=True)`` continues from the checkpoint.
"""

from .checkpoint import Checkpoint, read_checkpoint, write_checkpoint
from .driver import (
    MODES,
    ConstantPotentialMD,
    MDSettings,
    MDSetupError,
    potential_label,
    run,
)
from .guards import GuardLimits, MDGuardError
from .output import THERMO_COLUMNS, ThermoWriter, TrajectoryWriter, read_thermo
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
    "ThermoWriter",
    "TrajectoryWriter",
    "potential_label",
    "read_checkpoint",
    "read_thermo",
    "run",
    "wall_indices",
    "write_checkpoint",
]
