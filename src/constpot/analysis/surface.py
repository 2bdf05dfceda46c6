"""Anode surface: height maps, roughness and protrusions over time.

User guide
----------
The anode is its structural metal network in each frame
(:class:`~constpot.analysis.network.NetworkRule`: connected metal-like Li
anchored in the frozen anode layers), so deposited Li belongs to it whatever
the MD's electrode labels say. The lateral cell (periodic in x and y) is cut
into ``n_x × n_y`` bins no narrower than ``bin_A``; the height of a bin is the
z of its top-most anode atom. Bins should be at least one surface lattice
spacing wide (default 3.5 Å, about the bcc Li lattice constant), so that every
bin holds a surface atom and a perfect crystal face is flat; an empty bin (a
hole through the whole anode) is NaN and left out of the statistics.

From the map h(x, y) with mean h̄ over bins:

- roughness = RMS(h − h̄) (Å);
- protrusion = max(h) − h̄ (Å), the tallest feature above the mean surface.

A single adatom of height Δ on a flat face of n bins gives roughness
Δ·√(n−1)/n and protrusion Δ·(1 − 1/n).

Growth is read against the first frame: ``change_A`` of a bin is h(t) − h(0),
and a bin whose height first rises by ``protrusion_A`` (default 1.5 Å, about
one bcc(100) layer spacing of 1.75 Å) gives a *protrusion event* at that
frame and the bin centre (``results["events"]``), for the co-location test of
claim 3.

Binning uses fractional coordinates, so any lateral cell works, provided the
third cell vector is along z. Positions may be wrapped.

Example
-------
>>> run = "results/md/mosaic_amorphous/constp_-6.0V_r0"
>>> surf = AnodeSurface(f"{run}/traj.extxyz").run()           # doctest: +SKIP
>>> surf.results["table"][["time_ps", "roughness_A", "protrusion_A"]]  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..keys import ANODE, ELECTRODE_NAMES, REGION, TIME_FS
from ._frames import FrameAnalysis
from .deposition import EVENT_COLUMNS
from .network import NetworkRule

__all__ = ["AnodeSurface", "height_map", "surface_statistics"]


def height_map(
    positions_A: np.ndarray, cell_A: np.ndarray, bin_A: float = 3.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-most atom height per lateral bin (periodic in x, y).

    Parameters
    ----------
    positions_A : (n_atoms, 3) ndarray, Å
        Surface atoms (e.g. the anode), wrapped or not.
    cell_A : (3, 3) ndarray, Å
        Cell vectors as rows; the third along z.
    bin_A : float, Å
        Smallest bin width; the number of bins along a is floor(|a|/bin_A).

    Returns
    -------
    heights : (n_x, n_y) ndarray, Å
        z of the highest atom per bin, NaN for an empty bin.
    x_A, y_A : (n_x, n_y) ndarray, Å
        Cartesian x, y of the bin centres.

    Raises
    ------
    ValueError
        A non-positive ``bin_A``.
    """
    if not bin_A > 0:
        raise ValueError(f"bin_A must be > 0 Å, got {bin_A}")
    cell = np.asarray(cell_A, float)
    # 1e-9: a cell of exactly k bins is not cut to k - 1 by round-off
    n_x = max(1, int(np.floor(np.linalg.norm(cell[0]) / bin_A + 1e-9)))
    n_y = max(1, int(np.floor(np.linalg.norm(cell[1]) / bin_A + 1e-9)))
    heights = np.full((n_x, n_y), -np.inf)
    positions = np.asarray(positions_A, float).reshape(-1, 3)
    if len(positions):
        frac = np.linalg.solve(cell.T, positions.T).T
        ix = np.floor(np.mod(frac[:, 0], 1.0) * n_x).astype(int) % n_x
        iy = np.floor(np.mod(frac[:, 1], 1.0) * n_y).astype(int) % n_y
        np.maximum.at(heights, (ix, iy), positions[:, 2])
    heights[~np.isfinite(heights)] = np.nan
    fx, fy = np.meshgrid(
        (np.arange(n_x) + 0.5) / n_x, (np.arange(n_y) + 0.5) / n_y, indexing="ij"
    )
    x = fx * cell[0, 0] + fy * cell[1, 0]
    y = fx * cell[0, 1] + fy * cell[1, 1]
    return heights, x, y


def surface_statistics(heights: np.ndarray) -> dict[str, float]:
    """Mean height, roughness (RMS) and tallest protrusion of a height map.

    Parameters
    ----------
    heights : ndarray, Å
        NaN bins are ignored.

    Returns
    -------
    dict
        ``mean_height_A``, ``roughness_A``, ``protrusion_A``, ``empty_bins``.
    """
    h = np.asarray(heights, float).ravel()
    ok = np.isfinite(h)
    if not ok.any():
        nan = math.nan
        return {
            "mean_height_A": nan,
            "roughness_A": nan,
            "protrusion_A": nan,
            "empty_bins": int(h.size),
        }
    mean = float(h[ok].mean())
    return {
        "mean_height_A": mean,
        "roughness_A": float(np.sqrt(np.mean((h[ok] - mean) ** 2))),
        "protrusion_A": float(h[ok].max() - mean),
        "empty_bins": int((~ok).sum()),
    }


class AnodeSurface(FrameAnalysis):
    """Height map, roughness and protrusion of the anode per frame.

    Parameters
    ----------
    trajectory : path or sequence of ase.Atoms
        Frames with per-atom ``region`` (and ``frozen``); info ``time_fs``.
    bin_A : float, Å
        Smallest lateral bin width (default 3.5).
    protrusion_A : float, Å
        Rise of a bin above its first-frame height that makes a protrusion
        event (1.5).
    rule : NetworkRule, optional
        The anode network (default :class:`NetworkRule()`).
    network : (n_frames, n_atoms) int ndarray, optional
        Network labels already found (``Deposition.results["network"]``);
        rows of -1 are computed here.

    Attributes
    ----------
    results["table"] : pandas.DataFrame
        Per frame: ``frame, time_fs, time_ps, n_anode, mean_height_A,
        roughness_A, protrusion_A, empty_bins, max_rise_A`` (largest
        h(t) − h(0) over bins).
    results["maps"] : pandas.DataFrame
        Height maps of the first and last analysed frames (``snapshot`` =
        "start" / "end"): ``snapshot, frame, time_ps, ix, iy, x_A, y_A,
        height_A, relative_height_A, change_A`` (relative to that map's
        mean; change from the first frame).
    results["events"] : pandas.DataFrame
        One row per bin that rose by ``protrusion_A`` (``kind``
        "protrusion", first frame, bin centre, height).
    """

    required_arrays = (REGION,)

    def __init__(
        self,
        trajectory: str | Path | Sequence[Atoms],
        bin_A: float = 3.5,
        protrusion_A: float = 1.5,
        rule: NetworkRule | None = None,
        network: np.ndarray | None = None,
    ):
        super().__init__(trajectory)
        if not bin_A > 0:
            raise ValueError(f"bin_A must be > 0 Å, got {bin_A}")
        if not protrusion_A > 0:
            raise ValueError(f"protrusion_A must be > 0 Å, got {protrusion_A}")
        self.bin_A = float(bin_A)
        self.protrusion_A = float(protrusion_A)
        self.rule = rule or NetworkRule()
        shape = (len(self.frames), len(self.frames[0]))
        if network is not None and np.shape(network) != shape:
            raise ValueError(
                f"network: expected shape {shape} (frames, atoms), "
                f"got {np.shape(network)}"
            )
        self._given = network

    def todict(self) -> dict:
        return {"bin_A": self.bin_A, "protrusion_A": self.protrusion_A}

    def _anode(self, index: int, atoms: Atoms) -> np.ndarray:
        if self._given is not None and self._given[index][0] >= 0:
            return np.asarray(self._given[index]) == ANODE
        return self.rule.labels(atoms, self._anchors)[0] == ANODE

    def _map(self, index: int, atoms: Atoms):
        anode = self._anode(index, atoms)
        heights, x, y = height_map(atoms.positions[anode], atoms.cell.array, self.bin_A)
        return heights, x, y, int(anode.sum())

    def _prepare(self) -> None:
        self._anchors = self.rule.anchors(self.frames[self._indices[0]])
        self._rows: list[dict] = []
        self._maps: dict[int, np.ndarray] = {}
        self._events: list[dict] = []

    def _single_frame(self, index: int, atoms: Atoms) -> None:
        heights, x, y, n_anode = self._map(index, atoms)
        if not self._maps:
            self._h0 = heights
            self._risen = np.zeros(heights.shape, bool)
        rise = heights - self._h0 if heights.shape == self._h0.shape else None
        time_fs = float(atoms.info[TIME_FS])
        row = {
            "frame": index,
            "time_fs": time_fs,
            "time_ps": time_fs / 1000.0,
            "n_anode": n_anode,
        }
        row.update(surface_statistics(heights))
        finite = rise is not None and np.isfinite(rise).any()
        row["max_rise_A"] = float(np.nanmax(rise)) if finite else math.nan
        if rise is not None:
            with np.errstate(invalid="ignore"):
                fresh = (rise >= self.protrusion_A) & ~self._risen
            self._risen |= fresh
            for ix, iy in zip(*np.nonzero(fresh), strict=True):
                self._events.append(
                    {
                        "kind": "protrusion",
                        "electrode": ELECTRODE_NAMES[ANODE],
                        "atom": -1,
                        "region": "",
                        "frame": index,
                        "time_fs": time_fs,
                        "time_ps": time_fs / 1000.0,
                        "x_A": float(x[ix, iy]),
                        "y_A": float(y[ix, iy]),
                        "z_A": float(heights[ix, iy]),
                        "dq_e": math.nan,
                        "n_anions": -1,
                        "size": 1,
                    }
                )
        if index in (self._indices[0], self._indices[-1]):
            self._maps[index] = (heights, x, y)
        self._rows.append(row)

    def _conclude(self) -> None:
        import pandas as pd

        self.results["table"] = pd.DataFrame(self._rows)
        maps = []
        ends = {"start": self._indices[0], "end": self._indices[-1]}
        for snapshot, index in ends.items():
            atoms = self.frames[index]
            heights, x, y = self._maps[index]
            mean = surface_statistics(heights)["mean_height_A"]
            ix, iy = np.meshgrid(
                np.arange(heights.shape[0]), np.arange(heights.shape[1]), indexing="ij"
            )
            change = (
                heights - self._h0
                if heights.shape == self._h0.shape
                else np.full(heights.shape, np.nan)
            )
            maps.append(
                pd.DataFrame(
                    {
                        "snapshot": snapshot,
                        "frame": index,
                        "time_ps": float(atoms.info[TIME_FS]) / 1000.0,
                        "ix": ix.ravel(),
                        "iy": iy.ravel(),
                        "x_A": x.ravel(),
                        "y_A": y.ravel(),
                        "height_A": heights.ravel(),
                        "relative_height_A": heights.ravel() - mean,
                        "change_A": change.ravel(),
                    }
                )
            )
        self.results["maps"] = pd.concat(maps, ignore_index=True)
        self.results["events"] = pd.DataFrame(self._events, columns=EVENT_COLUMNS)
