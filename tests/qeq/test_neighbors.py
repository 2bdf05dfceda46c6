"""Facts of the skin neighbour list (:mod:`constpot.qeq.neighbors`).

- the pairs within the cutoff are exactly those of an independent search
  (ASE's ``neighbor_list``), with the same distances;
- between rebuilds (every atom within skin/2 of the build) the list returned
  is, bit for bit, the one a list built at the current positions returns:
  same pairs, same order, same vectors and distances;
- it is rebuilt when an atom moves more than skin/2, when the cell changes and
  when the atom count does;
- the image blocks (``PairList.blocks``) hold every candidate once: image r of
  atom pair p at ``blocks[r][0] + p``, so slice sums over the blocks are the
  sums over each atom pair's images; ``pair_order`` lists every atom pair.

float64 throughout.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.neighborlist import neighbor_list

from constpot.qeq.neighbors import SkinNeighborList

from .test_solver import random_cell

CUTOFF_A = 5.0
SKIN_A = 1.0


def _pairs(nl: SkinNeighborList, positions, cell):
    return nl.pairs(positions, cell, torch.as_tensor(positions)).compact()


def _as_set(pl) -> dict:
    """{(i, j, S): distance} of a PairList, both orientations folded to i <= j."""
    out = {}
    shifts = pl.shifts.numpy().astype(int)
    for i, j, s, d in zip(
        pl.i.tolist(), pl.j.tolist(), shifts, pl.distances, strict=True
    ):
        out[(i, j, *s)] = float(d)
    return out


def _same(a, b) -> None:
    for name in ("i", "j", "shifts", "distances", "inside"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    for x, y in zip(a.vectors, b.vectors, strict=True):
        assert torch.equal(x, y)


def test_pairs_match_an_independent_search():
    atoms = random_cell(3, n_atoms=40)
    nl = SkinNeighborList(CUTOFF_A, SKIN_A)
    got = _as_set(_pairs(nl, atoms.positions, atoms.cell.array))
    i, j, shifts, dist = neighbor_list("ijSd", atoms, CUTOFF_A)
    want = {}
    for a, b, s, d in zip(i, j, shifts, dist, strict=True):
        if a < b or (a == b and tuple(s) > (0, 0, 0)):
            want[(int(a), int(b), *map(int, s))] = float(d)
    assert got.keys() == want.keys()
    # Distances from the same positions by two formulas: rounding only.
    np.testing.assert_allclose(
        [got[k] for k in want], list(want.values()), rtol=0, atol=1e-12
    )


def test_list_within_the_skin_equals_a_fresh_one_bit_for_bit():
    atoms = random_cell(4, n_atoms=40)
    cell = atoms.cell.array
    nl = SkinNeighborList(CUTOFF_A, SKIN_A)
    nl.pairs(atoms.positions, cell, torch.as_tensor(atoms.positions))
    rng = np.random.default_rng(0)
    moved = atoms.positions + rng.uniform(-0.28, 0.28, atoms.positions.shape)
    kept = nl.pairs(moved, cell, torch.as_tensor(moved))
    assert nl.builds == 1
    fresh = SkinNeighborList(CUTOFF_A, SKIN_A).pairs(
        moved, cell, torch.as_tensor(moved)
    )
    _same(kept.compact(), fresh.compact())
    assert kept.n_inside == fresh.n_inside


@pytest.mark.parametrize("change", ["beyond_skin", "cell", "atom_count"])
def test_list_is_rebuilt_when_it_may_be_stale(change):
    atoms = random_cell(5, n_atoms=40)
    nl = SkinNeighborList(CUTOFF_A, SKIN_A)
    nl.pairs(atoms.positions, atoms.cell.array, torch.as_tensor(atoms.positions))
    positions, cell = atoms.positions.copy(), atoms.cell.array.copy()
    if change == "beyond_skin":
        positions[7, 0] += 0.51 * SKIN_A
    elif change == "cell":
        cell = cell * (1.0 + 1e-9)
    else:
        positions = positions[:-1]
    got = nl.pairs(positions, cell, torch.as_tensor(positions))
    assert nl.builds == 2
    fresh = SkinNeighborList(CUTOFF_A, SKIN_A).pairs(
        positions, cell, torch.as_tensor(positions)
    )
    _same(got, fresh)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="cutoff"):
        SkinNeighborList(0.0)
    with pytest.raises(ValueError, match="skin"):
        SkinNeighborList(5.0, skin=-1.0)


def test_image_blocks_hold_each_candidate_once_at_its_atom_pair():
    # A small cell with a long cutoff: atom pairs with up to dozens of images.
    atoms = random_cell(6, n_atoms=12)
    nl = SkinNeighborList(CUTOFF_A + 2.0, SKIN_A)
    pl = nl.pairs(atoms.positions, atoms.cell.array, torch.as_tensor(atoms.positions))
    n_pairs = len(pl.pair_i)
    owner = torch.full((len(pl.i),), -1, dtype=torch.int64)
    for start, size in pl.blocks:
        assert size <= n_pairs
        owner[start : start + size] = torch.arange(size)
    assert bool((owner >= 0).all())  # blocks tile the candidate list
    assert sum(size for _, size in pl.blocks) == len(pl.i)
    assert torch.equal(pl.i, pl.pair_i[owner]) and torch.equal(pl.j, pl.pair_j[owner])
    assert max(size for _, size in pl.blocks[1:]) > 0  # several images per pair
    # every atom pair once, in pair_order too
    keys = (pl.pair_i * len(atoms) + pl.pair_j).tolist()
    assert len(set(keys)) == n_pairs
    assert sorted(pl.pair_order.tolist()) == list(range(n_pairs))
    # slice sums over the blocks = sums over each pair's images (integers:
    # exact in float64)
    values = torch.arange(len(pl.i), dtype=torch.float64)
    want = torch.zeros(n_pairs, dtype=torch.float64).index_add_(0, owner, values)
    got = values[: pl.blocks[0][1]].clone()
    for start, size in pl.blocks[1:]:
        got[:size] += values[start : start + size]
    assert torch.equal(got, want)
