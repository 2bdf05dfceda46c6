"""Aggregation of reduced Li inside the SEI: clusters and their sizes.

User guide
----------
The paper sees deposition start where Li aggregates in amorphous LiF/Li₂O.
:class:`LiClusters` selects, in every frame, the Li atoms whose charge is below
``reduced_charge_e`` (Li⁰-like, default +0.3 e) and whose z lies inside the
SEI slab of the built interface (``sei_z_min_A`` ≤ z ≤ ``sei_z_max_A`` from the
frame info, fixed for the run; a system without SEI has no selection). Two
selected atoms closer than ``cutoff_A`` (default 3.5 Å, the paper's metallic
neighbour radius) are bonded, with periodic images in x and y (the frame's
pbc and cell); clusters are the connected components of that graph
(scipy.sparse.csgraph). Anode members that grew into the SEI count too: they
are reduced Li in the SEI.

Pitfall: the SEI slab is the *initial* one; a deposit that pushes the SEI up is
still measured against the built slab.

Example
-------
>>> run = "results/md/mosaic_amorphous/constp_-6.0V_r0"
>>> cl = LiClusters(f"{run}/traj.extxyz").run()               # doctest: +SKIP
>>> cl.results["table"][["time_ps", "largest_cluster"]]       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..keys import CHARGES
from ._frames import FrameAnalysis
from .deposition import REDUCED_CHARGE_E

__all__ = ["LiClusters", "cluster_sizes"]


def cluster_sizes(
    positions_A: np.ndarray,
    cell_A: np.ndarray,
    pbc: Sequence[bool] = (True, True, False),
    cutoff_A: float = 3.5,
) -> np.ndarray:
    """Sizes of the clusters of atoms connected by distances below a cutoff.

    Parameters
    ----------
    positions_A : (n_atoms, 3) ndarray, Å
    cell_A : (3, 3) ndarray, Å
    pbc : 3 bools
        Periodic directions (minimum image through ASE's neighbour list).
    cutoff_A : float, Å
        Bond if the distance is < cutoff.

    Returns
    -------
    (n_clusters,) int ndarray
        Cluster sizes, largest first (empty for no atoms).
    """
    from ase.neighborlist import neighbor_list
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not cutoff_A > 0:
        raise ValueError(f"cutoff_A must be > 0 Å, got {cutoff_A}")
    positions = np.asarray(positions_A, float).reshape(-1, 3)
    n = len(positions)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    atoms = Atoms(
        numbers=np.ones(n, int), positions=positions, cell=cell_A, pbc=list(pbc)
    )
    i, j = neighbor_list("ij", atoms, float(cutoff_A), self_interaction=False)
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    return np.sort(sizes)[::-1].astype(np.int64)


class LiClusters(FrameAnalysis):
    """Clusters of reduced Li inside the SEI slab, per frame.

    Parameters
    ----------
    trajectory : path or sequence of ase.Atoms
        Frames with per-atom ``charges`` (e), info ``time_fs`` and, when the
        system has an SEI, ``sei_z_min_A`` / ``sei_z_max_A``.
    reduced_charge_e : float, e
        Charge threshold of a reduced Li (default 0.3).
    cutoff_A : float, Å
        Connectivity cutoff (default 3.5).
    element : str
        Default "Li".

    Attributes
    ----------
    results["table"] : pandas.DataFrame
        Per frame: ``frame, time_fs, time_ps, n_selected, n_clusters,
        largest_cluster, mean_cluster_size``.
    results["sizes"] : pandas.DataFrame
        Cluster-size distribution per frame: ``frame, time_ps, size, count``.
    results["has_sei"] : bool
    """

    required_arrays = (CHARGES,)

    def __init__(
        self,
        trajectory: str | Path | Sequence[Atoms],
        reduced_charge_e: float = REDUCED_CHARGE_E,
        cutoff_A: float = 3.5,
        element: str = "Li",
    ):
        super().__init__(trajectory)
        if not cutoff_A > 0:
            raise ValueError(f"cutoff_A must be > 0 Å, got {cutoff_A}")
        self.reduced_charge_e = float(reduced_charge_e)
        self.cutoff_A = float(cutoff_A)
        self.element = element

    def todict(self) -> dict:
        return {
            "reduced_charge_e": self.reduced_charge_e,
            "cutoff_A": self.cutoff_A,
            "element": self.element,
        }

    def _prepare(self) -> None:
        info = self.frames[0].info
        self._has_sei = "sei_z_min_A" in info and "sei_z_max_A" in info
        if self._has_sei:
            self._z_range = (float(info["sei_z_min_A"]), float(info["sei_z_max_A"]))
        self._rows: list[dict] = []
        self._sizes: list[dict] = []

    def _single_frame(self, index: int, atoms: Atoms) -> None:
        time_fs = float(atoms.info["time_fs"])
        if self._has_sei:
            z = atoms.positions[:, 2]
            sel = (
                (atoms.symbols == self.element)
                & (atoms.arrays[CHARGES] < self.reduced_charge_e)
                & (z >= self._z_range[0])
                & (z <= self._z_range[1])
            )
            sizes = cluster_sizes(
                atoms.positions[sel], atoms.cell.array, atoms.pbc, self.cutoff_A
            )
        else:
            sizes = np.zeros(0, dtype=np.int64)
        self._rows.append(
            {
                "frame": index,
                "time_fs": time_fs,
                "time_ps": time_fs / 1000.0,
                "n_selected": int(sizes.sum()),
                "n_clusters": len(sizes),
                "largest_cluster": int(sizes[0]) if len(sizes) else 0,
                "mean_cluster_size": float(sizes.mean()) if len(sizes) else 0.0,
            }
        )
        values, counts = np.unique(sizes, return_counts=True)
        for size, count in zip(values, counts, strict=True):
            self._sizes.append(
                {
                    "frame": index,
                    "time_ps": time_fs / 1000.0,
                    "size": int(size),
                    "count": int(count),
                }
            )

    def _conclude(self) -> None:
        import pandas as pd

        self.results["table"] = pd.DataFrame(self._rows)
        self.results["sizes"] = pd.DataFrame(
            self._sizes, columns=["frame", "time_ps", "size", "count"]
        )
        self.results["has_sei"] = self._has_sei
