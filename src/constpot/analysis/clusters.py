"""Aggregation of reduced Li inside the SEI: clusters, counted from t = 0.

User guide
----------
The paper sees Li aggregate in amorphous LiF/Li₂O before deposition turns
uneven. :class:`LiClusters` selects, in every frame, the Li atoms that

- started as ions (builder region ``sei`` or ``electrolyte``),
- are reduced: Δq = q − q_ref ≤ −``reduction_dq_e`` against their
  constant-charge reference (:func:`~constpot.analysis.deposition.reference_charges`),
- lie inside the SEI slab of the built interface (``sei_z_min_A`` ≤ z ≤
  ``sei_z_max_A`` from the frame info; a system without SEI selects none),
- and are not part of an electrode's metal network (those are deposited:
  :class:`~constpot.analysis.network.NetworkRule`).

Two selected atoms closer than ``cutoff_A`` (3.5 Å) are bonded, periodic in x
and y; clusters are the connected components. Li in clusters of at least
``min_size`` atoms (3: more than a pair) are *aggregated*. Every count is
reported with its change from the first frame, so a structure that starts
with some reduced Li (e.g. against a constant-charge reference) is not read
as aggregation. An atom's first frame in an aggregate is an *aggregation
event* (``results["events"]``), with its x–y position: the input of the
co-location test of claim 3 (:mod:`constpot.analysis.lateral`).

Pitfall: the SEI slab is the *built* one; a deposit that pushes the SEI up
is still measured against it.

Example
-------
>>> run = "results/md/mosaic_amorphous/constp_-6.0V_r0"
>>> cl = LiClusters(f"{run}/traj.extxyz").run()               # doctest: +SKIP
>>> cl.results["table"][["time_ps", "aggregated_change"]]    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..keys import CHARGES, NOT_ELECTRODE, REGION, TIME_FS
from ._frames import FrameAnalysis
from .deposition import EVENT_COLUMNS, IONIC_REGIONS, REDUCTION_DQ_E, reference_charges
from .network import NetworkRule

__all__ = ["LiClusters", "cluster_labels", "cluster_sizes"]


def cluster_labels(
    positions_A: np.ndarray,
    cell_A: np.ndarray,
    pbc: Sequence[bool] = (True, True, False),
    cutoff_A: float = 3.5,
) -> np.ndarray:
    """Cluster index of each atom; atoms closer than a cutoff are connected.

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
    (n_atoms,) int ndarray
        Labels 0..n_clusters-1 (scipy's connected-component order).
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
    return labels.astype(np.int64)


def cluster_sizes(
    positions_A: np.ndarray,
    cell_A: np.ndarray,
    pbc: Sequence[bool] = (True, True, False),
    cutoff_A: float = 3.5,
) -> np.ndarray:
    """Sizes of the clusters of :func:`cluster_labels`, largest first.

    Returns
    -------
    (n_clusters,) int ndarray
        Empty for no atoms.
    """
    labels = cluster_labels(positions_A, cell_A, pbc, cutoff_A)
    return np.sort(np.bincount(labels))[::-1].astype(np.int64)


class LiClusters(FrameAnalysis):
    """Clusters of reduced Li inside the SEI slab, per frame.

    Parameters
    ----------
    trajectory : path or sequence of ase.Atoms
        Frames with per-atom ``charges`` (e) and ``region``, info ``time_fs``
        and, when the system has an SEI, ``sei_z_min_A`` / ``sei_z_max_A``.
    reference : path, ase.Atoms or ndarray, optional
        Constant-charge reference charges; default the run's first frame.
    reduction_dq_e : float, e
        Reduced when Δq ≤ −reduction_dq_e (0.3).
    cutoff_A : float, Å
        Connectivity cutoff (3.5).
    min_size : int
        Smallest cluster counted as an aggregate (3).
    rule : NetworkRule, optional
        Electrode networks whose members are left out (deposited Li).
    network : (n_frames, n_atoms) int ndarray, optional
        Network labels already found (``Deposition.results["network"]``);
        rows of -1 are computed here.

    Attributes
    ----------
    results["table"] : pandas.DataFrame
        Per frame: ``frame, time_fs, time_ps, n_selected, n_clusters,
        largest_cluster, aggregated`` and ``n_selected_change,
        largest_cluster_change, aggregated_change`` (minus the first frame).
    results["sizes"] : pandas.DataFrame
        Cluster-size distribution per frame: ``frame, time_ps, size, count``.
    results["events"] : pandas.DataFrame
        First frame of each atom in an aggregate (``kind`` "aggregation"),
        with position, Δq and the aggregate's ``size``.
    results["has_sei"] : bool
    """

    required_arrays = (CHARGES, REGION)

    def __init__(
        self,
        trajectory: str | Path | Sequence[Atoms],
        reference: str | Path | Atoms | np.ndarray | None = None,
        reduction_dq_e: float = REDUCTION_DQ_E,
        cutoff_A: float = 3.5,
        min_size: int = 3,
        rule: NetworkRule | None = None,
        network: np.ndarray | None = None,
    ):
        super().__init__(trajectory)
        if not cutoff_A > 0:
            raise ValueError(f"cutoff_A must be > 0 Å, got {cutoff_A}")
        if not reduction_dq_e > 0:
            raise ValueError(f"reduction_dq_e must be > 0 e, got {reduction_dq_e}")
        if not (isinstance(min_size, (int, np.integer)) and min_size >= 2):
            raise ValueError(f"min_size must be an integer >= 2, got {min_size!r}")
        self.reduction_dq_e = float(reduction_dq_e)
        self.cutoff_A = float(cutoff_A)
        self.min_size = int(min_size)
        self.rule = rule or NetworkRule()
        self.q_ref = reference_charges(self.frames, reference)
        shape = (len(self.frames), len(self.frames[0]))
        if network is not None and np.shape(network) != shape:
            raise ValueError(
                f"network: expected shape {shape} (frames, atoms), "
                f"got {np.shape(network)}"
            )
        self._given = network

    def todict(self) -> dict:
        return {
            "reduction_dq_e": self.reduction_dq_e,
            "cutoff_A": self.cutoff_A,
            "min_size": self.min_size,
        }

    def _prepare(self) -> None:
        first = self.frames[self._indices[0]]
        info = first.info
        self._has_sei = "sei_z_min_A" in info and "sei_z_max_A" in info
        if self._has_sei:
            self._z_range = (float(info["sei_z_min_A"]), float(info["sei_z_max_A"]))
        region = first.arrays[REGION].astype(str)
        self._ionic = (first.symbols == self.rule.element) & np.isin(
            region, IONIC_REGIONS
        )
        self._region = region
        self._anchors = self.rule.anchors(first)
        self._first_aggregate = np.full(len(first), -1, dtype=np.int64)
        self._events: list[dict] = []
        self._rows: list[dict] = []
        self._sizes: list[dict] = []

    def _labels(self, index: int, atoms: Atoms) -> np.ndarray:
        if self._given is not None and self._given[index][0] >= 0:
            return np.asarray(self._given[index])
        return self.rule.labels(atoms, self._anchors)[0]

    def _single_frame(self, index: int, atoms: Atoms) -> None:
        time_fs = float(atoms.info[TIME_FS])
        sizes = np.zeros(0, dtype=np.int64)
        n_aggregated = 0
        if self._has_sei:
            z = atoms.positions[:, 2]
            dq = atoms.arrays[CHARGES] - self.q_ref
            sel = np.flatnonzero(
                self._ionic
                & (dq <= -self.reduction_dq_e)
                & (z >= self._z_range[0])
                & (z <= self._z_range[1])
                & (self._labels(index, atoms) == NOT_ELECTRODE)
            )
            labels = cluster_labels(
                atoms.positions[sel], atoms.cell.array, atoms.pbc, self.cutoff_A
            )
            if sel.size:
                counts = np.bincount(labels)
                sizes = np.sort(counts)[::-1].astype(np.int64)
                size_of = counts[labels]
                big = size_of >= self.min_size
                n_aggregated = int(big.sum())
                fresh = np.flatnonzero(big & (self._first_aggregate[sel] < 0))
                self._first_aggregate[sel[fresh]] = index
                for k in fresh:
                    atom = sel[k]
                    x, y, zz = atoms.positions[atom]
                    self._events.append(
                        {
                            "kind": "aggregation",
                            "electrode": "",
                            "atom": int(atom),
                            "region": str(self._region[atom]),
                            "frame": index,
                            "time_fs": time_fs,
                            "time_ps": time_fs / 1000.0,
                            "x_A": float(x),
                            "y_A": float(y),
                            "z_A": float(zz),
                            "dq_e": float(dq[atom]),
                            "n_anions": -1,
                            "size": int(size_of[k]),
                        }
                    )
        self._rows.append(
            {
                "frame": index,
                "time_fs": time_fs,
                "time_ps": time_fs / 1000.0,
                "n_selected": int(sizes.sum()),
                "n_clusters": len(sizes),
                "largest_cluster": int(sizes[0]) if len(sizes) else 0,
                "aggregated": n_aggregated,
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

        table = pd.DataFrame(self._rows)
        for column in ("n_selected", "largest_cluster", "aggregated"):
            table[f"{column}_change"] = table[column] - table[column].iloc[0]
        self.results["table"] = table
        self.results["sizes"] = pd.DataFrame(
            self._sizes, columns=["frame", "time_ps", "size", "count"]
        )
        self.results["events"] = pd.DataFrame(self._events, columns=EVENT_COLUMNS)
        self.results["has_sei"] = self._has_sei
