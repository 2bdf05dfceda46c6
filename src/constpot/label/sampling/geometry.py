"""Geometry of sampled frames: windows cut from interfaces, boxes, checks.

The operations every recipe shares: tagging bulk-phase frames with the
per-atom arrays, making molecules whole, cutting a neutral window out of an
unwrapped interface (:func:`_cut`, :func:`_lateral_window`), setting a cell
length to the atoms' extent plus a pad (:func:`_box`) and the final
minimum-distance check. A *unit* is what is kept or dropped whole: one atom
of an extended phase (``mol_id`` −1) or one molecule.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from ase.geometry import find_mic
from ase.neighborlist import neighbor_list

from ...keys import FORMAL_CHARGES, FROZEN, MOL_ID, MOLECULE, REGION, SEI_REGION

#: Vacuum (Å) added along z for slabs and around clusters.
VACUUM_A = 10.0
#: Gap (Å) between the kept atoms and their images across a new cut boundary.
CUT_PAD_A = 2.0
#: Smallest interatomic distance (Å, images included) of an accepted frame.
MIN_DISTANCE_A = 0.7
#: Formal charges of the extended phases.


def _has(atoms: Atoms, *regions: str) -> bool:
    if REGION not in atoms.arrays:
        return False
    present = set(atoms.arrays[REGION].tolist())
    return all(r in present for r in regions)


def _tag(atoms: Atoms, region: str) -> Atoms:
    """Fill the per-atom arrays of a frame made from a bulk phase."""
    n = len(atoms)
    atoms.set_array(REGION, np.array([region] * n, dtype=object).astype(str))
    atoms.set_array(MOL_ID, np.full(n, -1, dtype=int))
    atoms.set_array(MOLECULE, np.array(["-"] * n).astype(str))
    atoms.set_array(FROZEN, np.zeros(n, dtype=bool))
    if not np.any(atoms.get_initial_charges()) and region == SEI_REGION:
        atoms.set_initial_charges([FORMAL_CHARGES.get(s, 0) for s in atoms.symbols])
    return atoms


def _ensure_arrays(atoms: Atoms) -> None:
    n = len(atoms)
    if MOLECULE not in atoms.arrays:
        atoms.set_array(MOLECULE, np.array(["-"] * n).astype(str))
    if FROZEN not in atoms.arrays:
        atoms.set_array(FROZEN, np.zeros(n, dtype=bool))


def _unwrap_molecules(atoms: Atoms) -> Atoms:
    """A copy with every molecule whole (minimum image about its first atom)."""
    atoms = atoms.copy()
    _ensure_arrays(atoms)
    mol = atoms.arrays[MOL_ID]
    pos = atoms.positions
    for m in np.unique(mol[mol >= 0]):
        idx = np.flatnonzero(mol == m)
        d, _ = find_mic(pos[idx] - pos[idx[0]], atoms.cell, atoms.pbc)
        pos[idx] = pos[idx[0]] + d
    atoms.positions = pos
    return atoms


def _units(atoms: Atoms) -> list[np.ndarray]:
    """Index groups moved and kept together: whole molecules, single atoms."""
    mol = atoms.arrays[MOL_ID]
    units = [np.array([i]) for i in np.flatnonzero(mol < 0)]
    units += [np.flatnonzero(mol == m) for m in np.unique(mol[mol >= 0])]
    return units


def _box(atoms: Atoms, axes, pad: float) -> Atoms:
    """Set the cell lengths along ``axes`` to the atoms' extent + ``pad``,
    the atoms centred (other axes unchanged)."""
    cell = atoms.cell.array.copy()
    pos = atoms.positions
    for ax in axes:
        lo, hi = pos[:, ax].min(), pos[:, ax].max()
        cell[ax] = 0.0
        cell[ax, ax] = hi - lo + pad
        pos[:, ax] += 0.5 * pad - lo
    atoms.positions = pos
    atoms.set_cell(cell)
    atoms.pbc = True
    return atoms


def _total_charge(atoms: Atoms) -> int:
    total = float(atoms.get_initial_charges().sum())
    if abs(total - round(total)) > 1e-6:
        raise RuntimeError(f"formal charges sum to {total}, not an integer")
    return round(total)


def _min_distance_ok(atoms: Atoms) -> bool:
    return len(neighbor_list("i", atoms, MIN_DISTANCE_A)) == 0


def _cut(
    atoms: Atoms,
    center_xy: np.ndarray,
    window_xy: tuple[float, float],
    z_range: tuple[float, float],
    regions: Sequence[str],
    z_periodic: bool = False,
    periodic_cut: bool = False,
    fixed_regions: Sequence[str] = (),
) -> Atoms | None:
    """Cut a window from an unwrapped interface and make it neutral.

    A lateral axis whose window is ≥ the cell length is kept whole and
    periodic. A cut axis gets, by default, a new length from the kept atoms'
    extent + :data:`CUT_PAD_A`; with ``periodic_cut`` its new length is the
    window itself (a commensurate period of a crystal, e.g. whole bcc cells
    of the metal), and every unit that comes closer than :data:`CUT_PAD_A` to
    another unit across the new boundary is dropped (never a unit of
    ``fixed_regions``; else the one nearer a cut). z gets the extent +
    :data:`VACUUM_A` (+ :data:`CUT_PAD_A` when ``z_periodic``). Units (single
    atoms of extended phases, whole molecules) are kept by their centroid;
    the charged units nearest a cut are then dropped until the frame is
    neutral. Returns None when nothing is left or it cannot be neutralised.
    """
    lengths = np.diag(atoms.cell.array)[:2]
    full = [window_xy[k] >= lengths[k] - 1e-9 for k in range(2)]
    pos = atoms.positions
    charges = atoms.get_initial_charges()
    in_region = np.isin(atoms.arrays[REGION], list(regions))
    keep, shifts, edges = [], [], []
    for unit in _units(atoms):
        if not in_region[unit].all():
            continue
        c = pos[unit].mean(axis=0)
        if not (z_range[0] <= c[2] < z_range[1]):
            continue
        d = c[:2] - center_xy
        d -= lengths * np.round(d / lengths)
        edge = [c[2] - z_range[0], z_range[1] - c[2]]
        inside = True
        for k in range(2):
            if not full[k]:
                inside &= abs(d[k]) < 0.5 * window_xy[k]
                edge.append(0.5 * window_xy[k] - abs(d[k]))
        if not inside:
            continue
        keep.append(unit)
        shifts.append(d - (c[:2] - center_xy))
        edges.append(min(edge))
    if not keep:
        return None
    edges = np.array(edges)
    alive = np.ones(len(keep), dtype=bool)
    # New lateral frame: coordinates relative to the centre, shifted into
    # [0, L) on a whole axis and into [0, window) on a periodic cut axis.
    offset = np.where(full, 0.5 * lengths, 0.5 * np.asarray(window_xy, dtype=float))
    if periodic_cut and not all(full):
        fixed = np.array(
            [np.isin(atoms.arrays[REGION][u], list(fixed_regions)).any() for u in keep]
        )
        alive &= ~_seam_clashes(
            atoms, keep, shifts, edges, fixed, center_xy, offset, window_xy, full
        )
    # Neutralise: drop the charged unit of the needed sign nearest a cut.
    q = np.array([charges[u].sum() for u in keep])
    total = round(float(q[alive].sum()))
    while total != 0:
        sign = 1.0 if total > 0 else -1.0
        cand = np.flatnonzero(alive & (np.sign(np.round(q)) == sign))
        if len(cand) == 0:
            return None
        drop = cand[np.argmin(edges[cand])]
        alive[drop] = False
        total -= round(float(q[drop]))
    if not alive.any():
        return None
    idx = np.concatenate([u for u, a in zip(keep, alive, strict=True) if a])
    shift = np.concatenate(
        [
            np.repeat(s[None], len(u), axis=0)
            for u, s, a in zip(keep, shifts, alive, strict=True)
            if a
        ]
    )
    order = np.argsort(idx, kind="stable")
    idx, shift = idx[order], shift[order]
    out = atoms[idx]
    p = out.positions
    p[:, :2] += shift - center_xy + offset
    out.positions = p
    cut_axes = [k for k in range(2) if not full[k]]
    if periodic_cut:
        cell = out.cell.array.copy()
        for k in cut_axes:
            cell[k] = 0.0
            cell[k, k] = window_xy[k]
        out.set_cell(cell)
        out.pbc = True
    else:
        out = _box(out, cut_axes, CUT_PAD_A)
    return _box(out, [2], CUT_PAD_A if z_periodic else VACUUM_A)


def _seam_clashes(
    atoms, keep, shifts, edges, fixed, center_xy, offset, window_xy, full
) -> np.ndarray:
    """Units to drop so that no two units are closer than :data:`CUT_PAD_A`
    across a new periodic boundary (``_cut`` with ``periodic_cut``).

    A pair of atoms is across a new boundary when the neighbour list of the
    window, periodic with period ``window_xy`` along the cut axes, joins them
    through an image along such an axis. For each such pair, closest first,
    with neither unit dropped yet: drop the one not in a fixed region, else
    the one nearer a cut (smaller ``edges``).
    """
    owner = np.concatenate([np.full(len(u), k) for k, u in enumerate(keep)])
    idx = np.concatenate(keep)
    shift = np.concatenate(
        [np.repeat(s[None], len(u), axis=0) for u, s in zip(keep, shifts, strict=True)]
    )
    window = atoms[idx]
    p = window.positions
    p[:, :2] += shift - center_xy + offset
    window.positions = p
    cell = window.cell.array.copy()
    cut = [k for k in range(2) if not full[k]]
    for k in cut:
        cell[k] = 0.0
        cell[k, k] = window_xy[k]
    window.set_cell(cell)
    window.pbc = [True, True, False]
    i, j, d, S = neighbor_list("ijdS", window, CUT_PAD_A)
    across = (owner[i] != owner[j]) & (np.abs(S[:, cut]).sum(axis=1) > 0)
    dropped = np.zeros(len(keep), dtype=bool)
    for n in np.argsort(d[across], kind="stable"):
        a, b = owner[i[across][n]], owner[j[across][n]]
        if dropped[a] or dropped[b]:
            continue
        if fixed[a] != fixed[b]:
            dropped[b if fixed[a] else a] = True
        else:
            dropped[a if edges[a] <= edges[b] else b] = True
    return dropped


def _lateral_window(
    atoms: Atoms, rng, regions, z_range, max_atoms, z_periodic=False, side_A=None
) -> Atoms | None:
    """The largest window (full cell if it fits) around a random centre with
    ≤ ``max_atoms`` atoms after neutralisation."""
    lengths = np.diag(atoms.cell.array)[:2]
    center = rng.random(2) * lengths
    window = lengths.copy() if side_A is None else np.minimum(side_A, lengths)
    for _ in range(40):
        frame = _cut(atoms, center, tuple(window), z_range, regions, z_periodic)
        if frame is None:
            return None
        if len(frame) <= max_atoms:
            return frame
        window = np.minimum(window, lengths) * max(
            0.5, min(0.95, np.sqrt(max_atoms / len(frame)))
        )
    return None


def _boundary(atoms: Atoms, lower: str, upper: str) -> float:
    z, region = atoms.positions[:, 2], atoms.arrays[REGION]
    return 0.5 * (z[region == lower].max() + z[region == upper].min())
