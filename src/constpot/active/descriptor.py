"""A cheap structural fingerprint of a frame, and farthest-point sampling on it.

The fingerprint is the set of element-pair radial distribution histograms:
for every unordered pair of elements (a, b) of the run, the number of
neighbours of type b around atoms of type a (and of a around b) at distance
r < ``cutoff_A``, counted in bins of ``bin_A``, divided by the number of atoms.
Two frames of one run (same atoms) are as far apart as their histograms are
(Euclidean norm). It sees what active learning cares about, local
environments (a Li⁺ that entered the SEI, a Li–Li contact, a reacted
fragment), is invariant under translation, rotation and permutation of like
atoms, and costs one neighbour list per frame.

Neighbours come from :func:`ase.neighborlist.neighbor_list`, not vesin: it
handles the mixed periodicity of a slab cell (x, y periodic, z not), and a
few hundred frames a run are cheap either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

__all__ = ["farthest_point_order", "pair_histograms"]

#: Default fingerprint range and resolution (Å): first and second shells.
CUTOFF_A = 5.0
BIN_A = 0.1


def pair_histograms(
    atoms: Atoms,
    numbers: Sequence[int],
    cutoff_A: float = CUTOFF_A,
    bin_A: float = BIN_A,
) -> np.ndarray:
    """The element-pair distance histograms of one frame, flattened.

    Parameters
    ----------
    atoms : ase.Atoms
        The frame (periodic directions from ``atoms.pbc``).
    numbers : sequence of int
        Atomic numbers that define the pairs (those of the run, sorted);
        every frame compared must use the same.
    cutoff_A, bin_A : float, Å
        Histogram range and bin width.

    Returns
    -------
    (n_pairs * n_bins,) ndarray
        Neighbour counts per atom; ``n_pairs = n (n + 1) / 2`` for n elements.
    """
    numbers = sorted(int(z) for z in numbers)
    index = {z: k for k, z in enumerate(numbers)}
    n_el, n_bins = len(numbers), int(np.ceil(cutoff_A / bin_A))
    i, j, d = neighbor_list("ijd", atoms, cutoff_A)
    a = np.array([index[int(z)] for z in atoms.numbers], dtype=np.int64)
    lo, hi = np.minimum(a[i], a[j]), np.maximum(a[i], a[j])
    pair = lo * n_el - lo * (lo - 1) // 2 + (hi - lo)  # upper-triangle index
    b = np.minimum((d / bin_A).astype(np.int64), n_bins - 1)
    n_pairs = n_el * (n_el + 1) // 2
    hist = np.bincount(pair * n_bins + b, minlength=n_pairs * n_bins)
    return hist.astype(float) / len(atoms)


def farthest_point_order(
    descriptors: np.ndarray,
    first: int,
    limit: int,
    excluded=None,
) -> list[int]:
    """Greedy farthest-point sampling from ``first``.

    Each next pick is the point whose distance to the nearest point already
    picked is largest (ties: the lower index); after each pick,
    ``excluded(k)`` names the points it rules out.

    Parameters
    ----------
    descriptors : (n, d) ndarray
    first : int
        The first pick.
    limit : int
        Most picks.
    excluded : callable (int -> bool mask of shape (n,)), optional
        Points a pick rules out besides itself (e.g. too close in time).

    Returns
    -------
    list of int
        Indices in pick order.
    """
    x = np.asarray(descriptors, dtype=float)
    n = len(x)
    open_ = np.ones(n, bool)
    nearest = np.full(n, np.inf)
    picks: list[int] = []
    k = int(first)
    while len(picks) < limit:
        picks.append(k)
        open_[k] = False
        if excluded is not None:
            open_ &= ~np.asarray(excluded(k), bool)
        if not open_.any():
            break
        nearest = np.minimum(nearest, np.linalg.norm(x - x[k], axis=1))
        k = int(np.argmax(np.where(open_, nearest, -1.0)))
    return picks
