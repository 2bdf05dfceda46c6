"""One exploration run read back: its frames, their model deviation, its settings.

An exploration run is a ``constpot md`` run folder with an ensemble of models
(``traj.extxyz``, ``thermo.csv``, ``summary.json``). Its identity is its
path: ``.../{system}/{condition}/``, the folder name the condition
(``constq_T300K``, ``constp_-6.0V_T400K``) and its parent's name the system.
Each trajectory frame is matched to the thermo row of the same MD step
(``atoms.info["step"]``), whose ``force_deviation_eV_A`` is the frame's model
deviation σ; the two files are written at the same interval, and a frame
without its row is an error, not a guess.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from ..errors import SetupError
from ..io import read_frames, read_json_object
from ..keys import STEP, SUMMARY_FILE, THERMO_FILE, TRAJ_FILE
from ..md import read_thermo
from ..runs import CONSTQ, potential_label
from .keys import THERMO_DEVIATION

__all__ = ["ExplorationRun", "read_exploration"]


@dataclass
class ExplorationRun:
    """The frames of one exploration run and what the models thought of them.

    Attributes
    ----------
    path : Path
        The run folder.
    system, condition : str
        The parent folder's name and the folder's name.
    mode : {"constp", "constq"}
    anode_potential_V : float or None, V
        None in constq.
    temperature_K : float, K
        Thermostat temperature of the run.
    status : str
        ``summary.json``'s ``status``: "completed", "segment" or "stopped".
    frames : list of ase.Atoms
        The trajectory frames, in file order.
    steps : (n_frames,) int ndarray
        MD step of each frame.
    deviation_eV_A : (n_frames,) float ndarray, eV/Å
        Model deviation σ of each frame (max over atoms of the ensemble's
        per-atom force standard deviation).
    """

    path: Path
    system: str
    condition: str
    mode: str
    anode_potential_V: float | None
    temperature_K: float
    status: str
    frames: list[Atoms] = field(repr=False)
    steps: np.ndarray = field(repr=False)
    deviation_eV_A: np.ndarray = field(repr=False)

    @property
    def name(self) -> str:
        """``"{system}/{condition}"``: the run's name in reports and frames."""
        return f"{self.system}/{self.condition}"

    @property
    def potential(self) -> str:
        """The applied anode potential's label, ``"-6.0V"`` or ``"none"``."""
        return potential_label(self.mode, self.anode_potential_V)

    @property
    def completed(self) -> bool:
        """The run reached its planned number of steps (not stopped by a guard)."""
        return self.status == "completed"


def _summary(path: Path) -> dict:
    file = path / SUMMARY_FILE
    summary = read_json_object(file, "run summary")
    settings = summary.get("settings")
    if not isinstance(settings, dict) or "status" not in summary:
        raise SetupError(f"{file}: no `status` or `settings` (not an md summary)")
    for key in ("mode", "temperature_K"):
        if key not in settings:
            raise SetupError(f"{file}: settings.{key}: missing")
    return summary


def read_exploration(path: str | os.PathLike) -> ExplorationRun:
    """Read one exploration run folder.

    Parameters
    ----------
    path : path-like
        ``.../{system}/{condition}/`` holding ``traj.extxyz``, ``thermo.csv``
        and ``summary.json``.

    Returns
    -------
    ExplorationRun

    Raises
    ------
    SetupError
        A missing or unreadable file; a thermo table without the
        ``force_deviation_eV_A`` column; a frame without a ``step``; a frame
        whose step has no thermo row, or whose deviation is NaN (a run with a
        single model); the message names the file and the step.
    """
    path = Path(path)
    if not path.is_dir():
        raise SetupError(f"{path}: exploration run folder not found")
    summary = _summary(path)
    settings = summary["settings"]
    thermo_file = path / THERMO_FILE
    if not thermo_file.is_file():
        raise SetupError(f"{thermo_file}: not found")
    try:
        thermo = read_thermo(thermo_file)
    except (ValueError, StopIteration) as err:
        raise SetupError(f"{thermo_file}: cannot read ({err})") from None
    if THERMO_DEVIATION not in thermo:
        raise SetupError(f"{thermo_file}: no {THERMO_DEVIATION} column")
    steps_col, sigma_col = thermo["step"].tolist(), thermo[THERMO_DEVIATION].tolist()
    by_step = dict(zip(steps_col, sigma_col, strict=True))
    frames = read_frames(path / TRAJ_FILE)
    steps, deviation = [], []
    for number, frame in enumerate(frames):
        if STEP not in frame.info:
            raise SetupError(f"{path / TRAJ_FILE}: frame {number} has no `{STEP}`")
        step = int(frame.info[STEP])
        if step not in by_step:
            raise SetupError(f"{thermo_file}: no row for step {step} (frame {number})")
        sigma = float(by_step[step])
        if not math.isfinite(sigma):
            raise SetupError(
                f"{thermo_file}: {THERMO_DEVIATION} is {sigma} at step {step} "
                "(explore with an ensemble of at least two models)"
            )
        steps.append(step)
        deviation.append(sigma)
    mode = str(settings["mode"])
    anode_V = settings.get("anode_potential_V")
    if mode != CONSTQ and not isinstance(anode_V, (int, float)):
        raise SetupError(
            f"{path / SUMMARY_FILE}: settings.anode_potential_V: expected a number "
            f"in mode {mode!r}, got {anode_V!r}"
        )
    named = Path(os.path.abspath(path))  # the names as given, links not followed
    return ExplorationRun(
        path=path,
        system=named.parent.name,
        condition=named.name,
        mode=mode,
        anode_potential_V=None if mode == CONSTQ else float(anode_V),
        temperature_K=float(settings["temperature_K"]),
        status=str(summary["status"]),
        frames=frames,
        steps=np.array(steps, dtype=np.int64),
        deviation_eV_A=np.array(deviation, dtype=float),
    )
