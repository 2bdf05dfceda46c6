"""Reading MD trajectories for the analyses: validation, run labels, tables.

Private helpers shared by the analysis modules. A trajectory is the
``traj.extxyz`` of one MD run (``results/md/{system}/{mode}_{potential}_r{replica}/``):
frames of the same atoms in the same order, positions wrapped, per-atom
``charges``, ``electrode``, ``region`` and per-frame ``time_fs``. Bad input
(missing file, no frames, a missing array or info key, a changing atom count)
raises ValueError naming the file and the key. Run labels
(:class:`~constpot.runs.RunLabels`) live in :mod:`constpot.runs`, shared with
the MD and the workflow; they are re-exported here for the analyses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..io import atomic_path
from ..keys import CHARGES, TIME_FS
from ..runs import RunLabels

__all__ = [
    "TIME_KEY",
    "FrameAnalysis",
    "RunLabels",
    "final_window_count",
    "frame_charges",
    "frame_times_fs",
    "load_frames",
    "read_trajectory",
    "write_table",
]

#: Per-frame info key of the simulation time, fs (:data:`constpot.keys.TIME_FS`).
TIME_KEY = TIME_FS


def frame_charges(atoms: Atoms) -> np.ndarray | None:
    """Per-atom charges (e) from ``arrays['charges']`` or the calculator results.

    ASE's extxyz reader moves a ``charges`` column into a SinglePointCalculator;
    both places are looked at. Returns None when there are none.
    """
    if CHARGES in atoms.arrays:
        return np.asarray(atoms.arrays[CHARGES], dtype=float)
    calc = atoms.calc
    if calc is not None and CHARGES in getattr(calc, "results", {}):
        return np.asarray(calc.results[CHARGES], dtype=float)
    return None


def read_trajectory(
    path: str | Path,
    arrays: Iterable[str] = (),
    info: Iterable[str] = (TIME_KEY,),
    index: str | int | slice = ":",
) -> list[Atoms]:
    """Read and validate an extxyz trajectory.

    Parameters
    ----------
    path : path
        Extended XYZ file with one or more frames.
    arrays : iterable of str
        Per-atom arrays every frame must have (``charges`` may also be a
        calculator result; it is copied into ``atoms.arrays``).
    info : iterable of str
        Per-frame info keys every frame must have.
    index : str, int or slice
        Frames to read (ASE index syntax), default all.

    Returns
    -------
    list of ase.Atoms

    Raises
    ------
    ValueError
        Missing or unreadable file, no frames, a frame without one of
        ``arrays`` or ``info``, or frames with different numbers of atoms.
        The message names the file and the key.
    """
    from ase.io import read

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: trajectory file not found")
    try:
        frames = read(path, index=index, format="extxyz")
    except Exception as err:  # ASE raises several types for bad files
        if path.stat().st_size == 0:
            raise ValueError(f"{path}: empty trajectory (no frames)") from err
        raise ValueError(f"{path}: cannot read extxyz frames ({err})") from err
    if isinstance(frames, Atoms):
        frames = [frames]
    return validate_frames(frames, str(path), arrays, info)


def validate_frames(
    frames: Sequence[Atoms],
    source: str,
    arrays: Iterable[str] = (),
    info: Iterable[str] = (TIME_KEY,),
) -> list[Atoms]:
    """Check frames as :func:`read_trajectory` does; ``source`` names them."""
    frames = list(frames)
    if not frames:
        raise ValueError(f"{source}: empty trajectory (no frames)")
    arrays, info = tuple(arrays), tuple(info)
    n_atoms = len(frames[0])
    for i, atoms in enumerate(frames):
        if len(atoms) != n_atoms:
            raise ValueError(
                f"{source}: frame {i} has {len(atoms)} atoms, frame 0 has {n_atoms} "
                "(atoms must keep their order and number)"
            )
        if CHARGES in arrays and CHARGES not in atoms.arrays:
            q = frame_charges(atoms)
            if q is not None:
                atoms.arrays[CHARGES] = q
        for key in arrays:
            if key not in atoms.arrays:
                raise ValueError(f"{source}: frame {i} has no per-atom array {key!r}")
        for key in info:
            if key not in atoms.info:
                raise ValueError(f"{source}: frame {i} has no info key {key!r}")
    return frames


def load_frames(
    trajectory: str | Path | Sequence[Atoms],
    arrays: Iterable[str] = (),
    info: Iterable[str] = (TIME_KEY,),
) -> tuple[list[Atoms], str]:
    """Frames and a name for messages, from a path or from Atoms already read."""
    if isinstance(trajectory, (str, Path)):
        return read_trajectory(trajectory, arrays, info), str(trajectory)
    if isinstance(trajectory, Atoms):
        trajectory = [trajectory]
    return validate_frames(trajectory, "<frames>", arrays, info), "<frames>"


def frame_times_fs(frames: Sequence[Atoms]) -> np.ndarray:
    """(n_frames,) simulation times in fs from the ``time_fs`` info key."""
    return np.array([float(a.info[TIME_KEY]) for a in frames])


def final_window_count(n_frames: int, window: float) -> int:
    """Frames in the final ``window`` fraction of ``n_frames`` (at least one).

    The one rule for every final-window mean (charges, profiles, cluster
    sizes): ``max(1, ceil(window · n_frames))``.

    >>> [final_window_count(n, w) for n, w in ((10, 0.5), (3, 0.5), (4, 0.0))]
    [5, 2, 1]
    """
    return max(1, math.ceil(window * n_frames))


def info_float(atoms: Atoms, key: str) -> float:
    """A float info value, NaN when absent or not a number."""
    value = atoms.info.get(key, math.nan)
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class FrameAnalysis:
    """Base of the per-frame analyses: construct → :meth:`run` → ``results``.

    Subclasses set ``required_arrays`` / ``required_info`` and implement
    ``_prepare()``, ``_single_frame(index, atoms)`` and ``_conclude()``; the
    iteration over frames lives here only.

    Parameters
    ----------
    trajectory : path or sequence of ase.Atoms
        ``traj.extxyz`` of one run, or frames already read (validated the same
        way).
    """

    required_arrays: tuple[str, ...] = ()
    required_info: tuple[str, ...] = (TIME_KEY,)

    def __init__(self, trajectory: str | Path | Sequence[Atoms]):
        self.frames, self.source = load_frames(
            trajectory, self.required_arrays, self.required_info
        )
        self.results: dict = {}

    @property
    def times_fs(self) -> np.ndarray:
        return frame_times_fs(self.frames)

    def run(self, start: int | None = None, stop: int | None = None, step=None):
        """Analyse frames ``start:stop:step`` (default all); returns self."""
        self._indices = list(range(len(self.frames)))[slice(start, stop, step)]
        if not self._indices:
            raise ValueError(f"{self.source}: no frames in [{start}:{stop}:{step}]")
        self._prepare()
        for i in self._indices:
            self._single_frame(i, self.frames[i])
        self._conclude()
        return self

    def _prepare(self) -> None:  # pragma: no cover - hooks
        pass

    def _single_frame(self, index: int, atoms: Atoms) -> None:  # pragma: no cover
        raise NotImplementedError

    def _conclude(self) -> None:  # pragma: no cover
        pass


def write_table(path: str | Path, table, labels: Mapping | None = None) -> Path:
    """Write a pandas DataFrame (or list of row dicts) as CSV, atomically.

    ``labels`` (e.g. :meth:`RunLabels.todict`) are prepended as constant
    columns so that tables of many runs can be concatenated (tidy data).
    """
    import pandas as pd

    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(list(table))
    frame = frame.copy()
    for k, (key, value) in enumerate((labels or {}).items()):
        if key in frame.columns:
            frame = frame.drop(columns=key)
        frame.insert(k, key, value)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.8g")
    return Path(path)
