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

Order: the candidate pairs are oriented ``i < j``, or ``i == j`` with the first
non-zero image shift positive, and stored grouped by atom pair: image ``r`` of
every atom pair in block ``r``, the atom pairs in the same order in each block
(most images first, then a fixed hash of ``(i, j)``), a pair's images by shift.
A sum over each pair's images is then a few slice additions
(:attr:`PairList.blocks`). The vectors and distances are computed here,
element by element. What a calculation takes from the list does not depend on
when it was built (a resumed MD run repeats the uninterrupted one exactly):

- :meth:`PairList.compact` returns the pairs within ``cutoff`` in one canonical
  order (a fixed hash of ``(i, j, shift)``), bit for bit those of a list built
  at the current positions;
- a sum over an atom pair's images is the same bits (candidates beyond the
  cutoff weighted by exactly 0 add nothing), and so are per-atom sums over
  atom pairs taken in :attr:`PairList.pair_order`.
"""

from __future__ import annotations

from collections.abc import Callable
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
    pair_i, pair_j : (n_atom_pairs,) long tensor
        The atom pairs ``i <= j`` with at least one candidate image, those
        with the most images first.
    blocks : tuple of (start, size)
        Image ``r`` of atom pair ``p`` is candidate ``blocks[r][0] + p``;
        block ``r`` holds the ``blocks[r][1]`` atom pairs with more than ``r``
        images (a prefix of ``pair_i, pair_j``). A sum over a pair's images
        is one slice addition per block. Empty after :meth:`compact` (whose
        pairs are not grouped).
    pair_order : (n_atom_pairs,) long tensor
        The atom pairs in an order that depends on the pairs alone (a fixed
        hash of ``(i, j)``), not on how many images each has in this list:
        per-atom sums over atom pairs in this order are the same bits
        whichever candidate list they come from.
    canonical : callable
        ``canonical()`` is an (n_pairs,) long tensor: the candidates in an
        order that depends on ``(i, j, shift)`` alone (a fixed hash of it),
        the order of :meth:`compact`; computed on first use, once per build.
    """

    i: torch.Tensor
    j: torch.Tensor
    shifts: torch.Tensor
    vectors: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    distances: torch.Tensor
    distances_sq: torch.Tensor
    inside: torch.Tensor
    n_inside: int
    pair_i: torch.Tensor
    pair_j: torch.Tensor
    blocks: tuple[tuple[int, int], ...]
    pair_order: torch.Tensor
    canonical: Callable[[], torch.Tensor]

    def compact(self) -> PairList:
        """The pairs within the cutoff only, in canonical order (the same
        pairs, vectors and order whichever candidate list they come from)."""
        order = self.canonical()
        keep = order[self.inside.index_select(0, order)]
        return PairList(
            self.i.index_select(0, keep),
            self.j.index_select(0, keep),
            self.shifts.index_select(0, keep),
            tuple(v.index_select(0, keep) for v in self.vectors),
            self.distances.index_select(0, keep),
            self.distances_sq.index_select(0, keep),
            self.inside.new_ones(len(keep)),
            self.n_inside,
            self.pair_i,
            self.pair_j,
            (),
            self.pair_order,
            lambda: torch.arange(len(keep), device=keep.device),
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
        i, j, shifts, image, pair_i, pair_j, blocks, pair_order, key = self._cand
        # Element by element (no reduction kernel whose rounding could depend
        # on the number of pairs): a pair's vector and distance are the same
        # bits whichever candidate list it comes from. r_j − r_i once per
        # atom pair, then + S @ cell for each of its images (block by block).
        # One component at a time: 1-D gathers are the fast ones.
        vec = []
        for x, shift in zip(positions_t.T.contiguous(), image, strict=True):
            diff = x.index_select(0, pair_j).sub_(x.index_select(0, pair_i))
            out = torch.empty_like(shift)
            for start, size in blocks:
                end = start + size
                torch.add(diff[:size], shift[start:end], out=out[start:end])
            vec.append(out)
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
            int(torch.count_nonzero(inside)),
            pair_i,
            pair_j,
            blocks,
            pair_order,
            lambda build=self.builds: self.per_build(
                ("canonical", build),
                lambda: torch.as_tensor(
                    np.argsort(key[0][key[1]].astype(np.uint64) * _HASH),
                    device=positions_t.device,
                ),
            ),
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
        n, m = len(positions), len(i)
        i = i.astype(np.int64)
        j = j.astype(np.int64)
        # Image shift S as one code, its components as base-``width`` digits
        # (S + half) of which S_x is the most significant: codes order the
        # shifts lexicographically, and −S has the code ``n_codes − 1 − code``.
        width = 2 * int(np.abs(shifts).max(initial=0)) + 1
        half, n_codes = width // 2, width**3
        code = shifts.astype(np.int64) @ np.array([width * width, width, 1])
        code += half * (width * width + width + 1)
        # Canonical orientation: i < j, or i == j with the first non-zero
        # shift component positive (S > 0 lexicographically).
        flip = (i > j) | ((i == j) & (code < n_codes // 2))
        np.subtract(n_codes - 1, code, out=code, where=flip)
        i, j = np.minimum(i, j), np.maximum(i, j)
        pair = i * n + j
        # Group the candidates by atom pair (i, j), a pair's images in the
        # order of their shifts: one int64 key per candidate, unique, so
        # that any sort gives the same order.
        key = pair * n_codes + code
        order = np.argsort(key)
        pair = pair[order]
        start = np.flatnonzero(np.r_[m > 0, pair[1:] != pair[:-1]])
        count = np.diff(np.r_[start, m])
        rank = np.arange(m) - np.repeat(start, count)
        unique = pair[start]
        # Atom pairs in the order of a multiplicative hash of (i, j) (odd
        # constant, mod 2⁶⁴: a bijection): an order that is a function of
        # the pairs alone, in which no atom's pairs sit together, so that
        # scatters into per-atom sums do not wait on one address (3x faster
        # than sorted by i). Stably by image count (most first): image r of
        # every pair goes to block r, at the pair's place, and block r holds
        # the pairs with more than r images, a prefix of block 0.
        hashed = np.argsort(unique.astype(np.uint64) * _HASH)
        fewer = count.max(initial=0) - count[hashed]
        fewer = fewer.astype(np.uint16 if fewer.max(initial=0) < 2**16 else np.int64)
        by = hashed[np.argsort(fewer, kind="stable")]  # radix sort
        place = np.empty(len(unique), dtype=np.int64)
        place[by] = np.arange(len(unique))
        sizes = np.bincount(rank)
        offsets = np.cumsum(sizes) - sizes
        final = np.empty_like(order)
        final[offsets[rank] + np.repeat(place, count)] = order
        # Shift and image vector S @ cell (element by element, in ``dtype``)
        # of each code, gathered per candidate (by numpy: far faster than
        # torch's gathers from a small table).
        digits = np.arange(n_codes)
        table = np.stack(
            [digits // (width * width), digits // width % width, digits % width]
        )
        table = torch.as_tensor((table - half).T.astype(np.float64)).to(dtype)
        cell_t = torch.as_tensor(cell, dtype=dtype)
        images = (
            table[:, 0:1] * cell_t[0]
            + table[:, 1:2] * cell_t[1]
            + table[:, 2:3] * cell_t[2]
        )
        code = code[final]
        unique = unique[by]
        self._cand = (
            torch.as_tensor(i[final], device=device),
            torch.as_tensor(j[final], device=device),
            torch.as_tensor(np.take(table.numpy(), code, axis=0), device=device),
            torch.as_tensor(np.take(images.numpy().T, code, axis=1), device=device),
            torch.as_tensor(unique // n, device=device),
            torch.as_tensor(unique % n, device=device),
            tuple(zip(offsets.tolist(), sizes.tolist(), strict=True)),
            torch.as_tensor(place[hashed], device=device),
            (key, final),
        )
        self._per_build = {}
        self._ref_positions = positions.copy()
        self._cell_bytes = cell.tobytes()
        self.builds += 1
