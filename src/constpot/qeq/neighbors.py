"""Real-space pair list with a skin, reused across MD steps.

:class:`SkinNeighborList` keeps the half neighbour list of every pair within
``cutoff + skin`` of the positions it was built at and, at each call, returns
the pairs now within ``cutoff``. Between rebuilds a call costs one distance
evaluation per candidate pair instead of a cell-list search.

Validity (Verlet's criterion): while no atom has moved more than ``skin / 2``
from the positions of the build, no pair distance has shrunk by more than
``skin``, so every pair now within ``cutoff`` is a candidate. The list is
rebuilt when that fails, when the cell changes (bit for bit) or when the atom
count does. Displacements are plain Cartesian differences: an atom wrapped
back into the cell has moved a lattice vector and triggers a rebuild.

Order: the candidate pairs are stored in one canonical order (oriented
``i < j``, or ``i == j`` with the first non-zero image shift positive; sorted
by a fixed hash of ``(i, j, shift)``) and the pairs within ``cutoff`` are
returned in that order, with their vectors and distances computed here. The
result is therefore bit for bit the one a list built at the current positions
returns: a calculation does not depend on when the list was built (a resumed
MD run repeats the uninterrupted one exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from vesin import NeighborList

__all__ = ["PairList", "SkinNeighborList"]

#: Multiplier of the pair-order hash (2⁶⁴ / golden ratio, odd).
_HASH = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class PairList:
    """Candidate pairs of a half list, in canonical order, and which are in range.

    Attributes
    ----------
    i, j : (n_pairs,) long tensor
        Atom indices, ``i <= j``.
    shifts : (n_pairs, 3) tensor
        Integer image shifts S (as floats): the pair vector is
        ``r_j - r_i + S @ cell``.
    vectors : tuple of three (n_pairs,) tensors, Å
        x, y and z components of the pair vectors.
    distances : (n_pairs,) tensor, Å
    distances_sq : (n_pairs,) tensor, Å²
    inside : (n_pairs,) bool tensor
        Pairs within the cutoff (the others are candidates of the skin).
    n_inside : int
        Number of pairs within the cutoff.
    """

    i: torch.Tensor
    j: torch.Tensor
    shifts: torch.Tensor
    vectors: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    distances: torch.Tensor
    distances_sq: torch.Tensor
    inside: torch.Tensor
    n_inside: int

    def compact(self) -> PairList:
        """The pairs within the cutoff only, in the same order."""
        keep = torch.nonzero(self.inside).squeeze(1)
        return PairList(
            self.i.index_select(0, keep),
            self.j.index_select(0, keep),
            self.shifts.index_select(0, keep),
            tuple(v.index_select(0, keep) for v in self.vectors),
            self.distances.index_select(0, keep),
            self.distances_sq.index_select(0, keep),
            self.inside.new_ones(len(keep)),
            self.n_inside,
        )


class SkinNeighborList:
    """Half neighbour list within ``cutoff``, rebuilt only when the skin is used up.

    Parameters
    ----------
    cutoff : float, Å
    skin : float, Å
        Extra search radius; the list is rebuilt once an atom has moved more
        than ``skin / 2`` since the last build. ``0`` rebuilds at every call.

    Attributes
    ----------
    builds : int
        Cell-list searches done so far (for tests and benchmarks).
    """

    def __init__(self, cutoff: float, skin: float = 1.0):
        if not cutoff > 0:
            raise ValueError(f"cutoff must be > 0 Å, got {cutoff}")
        if not skin >= 0:
            raise ValueError(f"skin must be >= 0 Å, got {skin}")
        self.cutoff = float(cutoff)
        self.skin = float(skin)
        self.builds = 0
        self._ref_positions: np.ndarray | None = None
        self._cell_bytes: bytes | None = None
        self._cand: tuple[torch.Tensor, ...] | None = None
        self._per_build: dict = {}

    def pairs(
        self,
        positions: np.ndarray,
        cell: np.ndarray,
        positions_t: torch.Tensor,
    ) -> PairList:
        """The candidate pairs at ``positions``, those within ``cutoff`` marked.

        A pair outside the cutoff is only a candidate of the skin: which such
        pairs are listed depends on the positions of the last build, so a
        calculation must give them exactly zero weight (or use
        :meth:`PairList.compact`) to stay independent of it.

        Parameters
        ----------
        positions : (n_atoms, 3) float64 ndarray, Å
        cell : (3, 3) float64 ndarray, Å
            Rows are the cell vectors; periodic in all three directions.
        positions_t : (n_atoms, 3) tensor, Å
            The same on the device and in the dtype of the calculation.

        Returns
        -------
        PairList
            ``positions_t``'s device and dtype.
        """
        if self._stale(positions, cell):
            self._build(positions, cell, positions_t.device, positions_t.dtype)
        i, j, shifts, image = self._cand
        # Element by element (no reduction kernel whose rounding could depend
        # on the number of pairs): a pair's vector and distance are the same
        # bits whichever candidate list it comes from.
        # One component at a time: 1-D gathers are the fast ones.
        vec = [
            x.index_select(0, j).sub_(x.index_select(0, i)).add_(shift)
            for x, shift in zip(positions_t.T.contiguous(), image, strict=True)
        ]
        dist_sq = (vec[0] * vec[0]).addcmul_(vec[1], vec[1]).addcmul_(vec[2], vec[2])
        inside = dist_sq < self.cutoff**2
        return PairList(
            i,
            j,
            shifts,
            tuple(vec),
            torch.sqrt(dist_sq),
            dist_sq,
            inside,
            int(inside.sum()),
        )

    def per_build(self, key, make):
        """``make()`` once per build of the list: per-candidate constants
        (e.g. pair widths) of the current candidates, kept until the next
        rebuild."""
        if key not in self._per_build:
            if len(self._per_build) >= 4:  # e.g. widths changed at every call
                self._per_build.clear()
            self._per_build[key] = make()
        return self._per_build[key]

    def _stale(self, positions: np.ndarray, cell: np.ndarray) -> bool:
        ref = self._ref_positions
        if ref is None or ref.shape != positions.shape:
            return True
        if cell.tobytes() != self._cell_bytes:
            return True
        moved_sq = np.einsum("ij,ij->i", positions - ref, positions - ref).max()
        return not (4.0 * moved_sq < self.skin**2)

    def _build(self, positions, cell, device, dtype) -> None:
        nl = NeighborList(cutoff=self.cutoff + self.skin, full_list=False)
        i, j, shifts = nl.compute(
            points=positions, box=cell, periodic=True, quantities="ijS"
        )
        i = i.astype(np.int64)
        j = j.astype(np.int64)
        shifts = shifts.astype(np.int64)
        # Canonical orientation: i < j, or i == j with the first non-zero
        # shift component positive; then one sorted order.
        first = np.where(
            shifts[:, 0] != 0,
            shifts[:, 0],
            np.where(shifts[:, 1] != 0, shifts[:, 1], shifts[:, 2]),
        )
        flip = (i > j) | ((i == j) & (first < 0))
        i, j = np.where(flip, j, i), np.where(flip, i, j)
        shifts = np.where(flip[:, None], -shifts, shifts)
        # One int64 key per pair (i, j, shift), scrambled by a multiplicative
        # hash (odd constant, mod 2⁶⁴: a bijection): sorted by it, the pairs
        # come in an order that is a function of the pairs alone, and in
        # which no atom's pairs sit together, so that scatters into per-atom
        # sums do not wait on one address (3x faster than sorted by i).
        n, width = len(positions), 2 * int(np.abs(shifts).max(initial=0)) + 1
        key = i * n + j
        for axis in range(3):
            key = key * width + (shifts[:, axis] + width // 2)
        order = np.argsort(key.astype(np.uint64) * _HASH, kind="stable")
        shifts_t = torch.as_tensor(shifts[order].astype(np.float64), device=device)
        shifts_t = shifts_t.to(dtype)
        cell_t = torch.as_tensor(cell, device=device, dtype=dtype)
        # (3, n_candidates) image vectors S @ cell, element by element.
        image = (
            shifts_t[:, 0:1] * cell_t[0]
            + shifts_t[:, 1:2] * cell_t[1]
            + shifts_t[:, 2:3] * cell_t[2]
        ).T.contiguous()
        self._cand = (
            torch.as_tensor(i[order], device=device),
            torch.as_tensor(j[order], device=device),
            shifts_t,
            image,
        )
        self._per_build = {}
        self._ref_positions = positions.copy()
        self._cell_bytes = cell.tobytes()
        self.builds += 1
