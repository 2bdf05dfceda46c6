"""Li transport: mean-squared displacement and diffusivity per region.

User guide
----------
Positions in the trajectory are wrapped. :func:`unwrap_positions` rebuilds
continuous paths by adding, frame to frame, the minimum-image displacement
along the periodic directions — valid when no atom moves more than half a cell
length between two saved frames (always true for MD frames a few hundred fs
apart). **Unwrap before any MSD**: wrapped coordinates give a spurious plateau.

Li atoms are grouped by the builder's region (fixed for the run): ``sei`` and
``electrolyte``; when the SEI holds both F and O, SEI Li are further split by
their nearest anion in the first frame (``sei:LiF`` / ``sei:Li2O``). Each group
is passed to pymatgen-analysis-diffusion's ``DiffusionAnalyzer`` (Ong et al.,
Energy Environ. Sci. 6, 148 (2013)), which returns the MSD(Δt) averaged over
time origins and D = slope/6 with its error estimate (the standard deviation
of the fitted slope; pymatgen notes it is meaningful for unsmoothed MSDs).
The frozen electrode layers hold the frame still, so there is no drift to
remove: pymatgen's "framework" is one static ghost site.

The ``"max"`` smoothing fits from Δt = 1 ps; shorter runs fall back to the
unsmoothed single-origin MSD (``smoothed`` column says which was used). In a
slab, Li in a thin SEI is confined along z: compare ``D_xy_cm2_s`` as well.
Units: MSD in Å², time in fs/ps, D in cm²/s (1 Å²/fs = 0.1 cm²/s).

Example
-------
>>> run = "results/md/mosaic_amorphous/constq_none_r0"
>>> dif = LiDiffusion(f"{run}/traj.extxyz").run()             # doctest: +SKIP
>>> dif.results["table"][["group", "D_cm2_s", "D_std_cm2_s"]] # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..keys import REGION
from ._frames import load_frames

__all__ = ["LiDiffusion", "group_indices", "unwrap_positions"]

#: Initial regions whose Li are analysed.
GROUPS = ("sei", "electrolyte")


def unwrap_positions(frames: Sequence[Atoms]) -> np.ndarray:
    """Continuous (unwrapped) Cartesian positions of a wrapped trajectory.

    Parameters
    ----------
    frames : sequence of ase.Atoms
        Same atoms in the same order; the cell of the first frame is used.

    Returns
    -------
    (n_frames, n_atoms, 3) ndarray, Å
        Frame 0 as given; later frames displaced by the sum of minimum-image
        steps along the periodic directions.
    """
    cell = frames[0].cell.array
    inv = np.linalg.inv(cell)
    pbc = np.asarray(frames[0].pbc, bool)
    out = np.empty((len(frames), len(frames[0]), 3))
    out[0] = frames[0].positions
    for k in range(1, len(frames)):
        step = (frames[k].positions - frames[k - 1].positions) @ inv
        step[:, pbc] -= np.rint(step[:, pbc])
        out[k] = out[k - 1] + step @ cell
    return out


def group_indices(atoms: Atoms, element: str = "Li") -> dict[str, np.ndarray]:
    """Indices of ``element`` atoms per initial region (and SEI component).

    Returns
    -------
    dict of str to int ndarray
        ``"sei"``, ``"electrolyte"`` (when present) and, if the SEI holds both
        F and O, ``"sei:LiF"`` / ``"sei:Li2O"`` by the nearest anion.
    """
    region = atoms.arrays[REGION].astype(str)
    is_el = atoms.symbols == element
    groups: dict[str, np.ndarray] = {}
    for name in GROUPS:
        idx = np.flatnonzero(is_el & (region == name))
        if idx.size:
            groups[name] = idx
    sei = groups.get("sei")
    anions = np.flatnonzero((region == "sei") & np.isin(atoms.symbols, ["F", "O"]))
    if sei is not None and {"F", "O"} <= set(atoms.symbols[anions]):
        d = atoms.get_distances  # minimum image through ASE
        nearest = np.array(
            [anions[np.argmin(d(i, anions, mic=True))] for i in sei], dtype=int
        )
        is_f = atoms.symbols[nearest] == "F"
        groups["sei:LiF"] = sei[is_f]
        groups["sei:Li2O"] = sei[~is_f]
        groups = {k: v for k, v in groups.items() if v.size}
    return groups


def _analyse(
    displacements: np.ndarray,
    positions0: np.ndarray,
    cell: np.ndarray,
    element: str,
    temperature_K: float,
    frame_interval_fs: float,
    smoothed: str | bool,
    min_obs: int,
):
    try:
        from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
        from pymatgen.core import Lattice, Structure
    except ImportError as err:  # pragma: no cover - dependency of the package
        raise ImportError(
            "LiDiffusion needs pymatgen-analysis-diffusion: "
            "pip install pymatgen-analysis-diffusion"
        ) from err

    n = len(displacements)
    # One static ghost site is pymatgen's "framework" (drift stays zero).
    species = [element] * n + ["He"]
    coords = np.vstack([positions0, np.zeros((1, 3))])
    disp = np.concatenate([displacements, np.zeros((1, *displacements.shape[1:]))])
    structure = Structure(Lattice(cell), species, coords, coords_are_cartesian=True)
    modes = [smoothed] if not smoothed else [smoothed, False]
    last = None
    for mode in modes:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                da = DiffusionAnalyzer(
                    structure,
                    disp,
                    element,
                    temperature_K,
                    frame_interval_fs,
                    1,
                    smoothed=mode,
                    min_obs=min_obs,
                )
            return da, mode
        except ValueError as err:  # "Not enough data to calculate diffusivity"
            last = err
    raise ValueError(str(last))


class LiDiffusion:
    """MSD and diffusivity of Li per region with ``DiffusionAnalyzer``.

    Parameters
    ----------
    trajectory : path or sequence of ase.Atoms
        Frames with per-atom ``region``; info ``time_fs`` (evenly spaced) and,
        optionally, ``temperature_K``.
    element : str
        Default "Li".
    smoothed : {"max", False}
        pymatgen's MSD smoothing ("max": all time origins, fit from 1 ps);
        falls back to False when the run is too short.
    min_obs : int
        pymatgen's minimum number of observations per lag (default 30).

    Attributes
    ----------
    results["table"] : pandas.DataFrame
        Per group: ``group, n_atoms, D_cm2_s, D_std_cm2_s, D_x_cm2_s,
        D_y_cm2_s, D_z_cm2_s, D_xy_cm2_s, smoothed, temperature_K,
        duration_ps``; D is NaN (with the reason in ``note``) when the run
        has fewer than 3 frames.
    results["msd"] : pandas.DataFrame
        ``group, dt_fs, dt_ps, msd_A2, msd_x_A2, msd_y_A2, msd_z_A2``.
    """

    def __init__(
        self,
        trajectory: str | Path | Sequence[Atoms],
        element: str = "Li",
        smoothed: str | bool = "max",
        min_obs: int = 30,
    ):
        self.frames, self.source = load_frames(trajectory, (REGION,), ("time_fs",))
        self.element = element
        self.smoothed = smoothed
        self.min_obs = int(min_obs)
        self.results: dict = {}

    def todict(self) -> dict:
        return {
            "element": self.element,
            "smoothed": self.smoothed,
            "min_obs": self.min_obs,
        }

    def run(self):
        """Unwrap, group, analyse; returns self."""
        import pandas as pd

        frames = self.frames
        times = np.array([float(a.info["time_fs"]) for a in frames])
        duration_ps = float(times[-1] - times[0]) / 1000.0
        temps = [a.info.get("temperature_K") for a in frames]
        temps = [float(t) for t in temps if t is not None and np.isfinite(float(t))]
        temperature = float(np.mean(temps)) if temps else 300.0
        rows, msd_rows = [], []
        groups = group_indices(frames[0], self.element)
        if len(frames) >= 3:
            steps = np.diff(times)
            if not np.allclose(steps, steps[0], rtol=1e-6, atol=1e-9):
                raise ValueError(
                    f"{self.source}: info 'time_fs' must be evenly spaced for MSD"
                )
            unwrapped = unwrap_positions(frames)
            interval = float(steps[0])
        for name, idx in groups.items():
            row = {
                "group": name,
                "n_atoms": int(idx.size),
                "temperature_K": temperature,
                "duration_ps": duration_ps,
            }
            if len(frames) < 3:
                row.update(_nan_row(f"{len(frames)} frames, need >= 3"))
                rows.append(row)
                continue
            disp = np.transpose(unwrapped[:, idx] - unwrapped[:1, idx], (1, 0, 2))
            try:
                da, mode = _analyse(
                    disp,
                    frames[0].positions[idx],
                    frames[0].cell.array,
                    self.element,
                    temperature,
                    interval,
                    self.smoothed,
                    self.min_obs,
                )
            except ValueError as err:
                row.update(_nan_row(str(err)))
                rows.append(row)
                continue
            comps = np.asarray(da.diffusivity_components, float)
            row.update(
                {
                    "D_cm2_s": float(da.diffusivity),
                    "D_std_cm2_s": float(da.diffusivity_std_dev),
                    "D_x_cm2_s": comps[0],
                    "D_y_cm2_s": comps[1],
                    "D_z_cm2_s": comps[2],
                    "D_xy_cm2_s": 0.5 * (comps[0] + comps[1]),
                    "smoothed": str(mode),
                    "note": "",
                }
            )
            rows.append(row)
            dt = np.asarray(da.dt, float)
            comp = np.asarray(da.msd_components, float)
            msd_rows.append(
                pd.DataFrame(
                    {
                        "group": name,
                        "dt_fs": dt,
                        "dt_ps": dt / 1000.0,
                        "msd_A2": np.asarray(da.msd, float),
                        "msd_x_A2": comp[:, 0],
                        "msd_y_A2": comp[:, 1],
                        "msd_z_A2": comp[:, 2],
                    }
                )
            )
        columns = [
            "group",
            "n_atoms",
            "D_cm2_s",
            "D_std_cm2_s",
            "D_x_cm2_s",
            "D_y_cm2_s",
            "D_z_cm2_s",
            "D_xy_cm2_s",
            "smoothed",
            "temperature_K",
            "duration_ps",
            "note",
        ]
        self.results["table"] = pd.DataFrame(rows, columns=columns)
        msd_columns = ["group", "dt_fs", "dt_ps", "msd_A2"]
        msd_columns += ["msd_x_A2", "msd_y_A2", "msd_z_A2"]
        self.results["msd"] = (
            pd.concat(msd_rows, ignore_index=True)
            if msd_rows
            else pd.DataFrame(columns=msd_columns)
        )
        return self


def _nan_row(note: str) -> dict:
    nan = math.nan
    return {
        "D_cm2_s": nan,
        "D_std_cm2_s": nan,
        "D_x_cm2_s": nan,
        "D_y_cm2_s": nan,
        "D_z_cm2_s": nan,
        "D_xy_cm2_s": nan,
        "smoothed": "",
        "note": note,
    }
