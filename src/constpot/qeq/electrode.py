"""Electrode membership: the metallic-Li rule of Hu et al. (2025).

A Li atom is *metallic* when it has at least ``min_neighbors`` Li neighbours
strictly closer than ``cutoff`` (8 within 3.5 Å in the paper). Atoms listed as
always-members (the frozen outermost layers) belong whatever their neighbours,
but only atoms of the metal: a frozen C, H, O, P or F atom is never an
electrode member. Recomputed during MD, the rule lets deposited Li join the
anode.

Which electrode a member belongs to is decided by structure, not by position
in the cell: the members are cut into layers along the surface normal z at
every gap of at least ``cutoff`` between consecutive members (periodically in z
when the cell is periodic in z, so an electrode may straddle the cell
boundary). Members bonded to each other (closer than ``cutoff``) are never
separated, so a connected metal slab is always one layer.

- No layer: no electrode atoms.
- One layer (a single metal slab, or metal filling the cell): it is the
  **anode**; the counter electrode is empty.
- Two or more: the two layers with the most members are the electrodes; the
  one whose centre (midpoint of its extent along z, wrapped into the cell) is
  lower is the **anode**, the other the **counter electrode**. Any further
  layer (a detached metallic cluster) joins the electrode nearer to it along
  z.

For a stack centred in the cell this is the paper's rule (metallic Li in the
lower half is the anode, in the upper half the counter electrode); unlike the
paper's rule it does not depend on where the stack sits in the cell.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from vesin import NeighborList

from ..keys import ANODE, COUNTER, NOT_ELECTRODE
from .errors import QEqSetupError

__all__ = ["electrode_potentials", "metallic_li"]


def metallic_li(
    atoms: Atoms,
    cutoff: float = 3.5,
    min_neighbors: int = 8,
    always=None,
    element: str = "Li",
    exclude_bonded_to=(),
    bond_cutoff: float = 2.6,
) -> np.ndarray:
    """Label electrode atoms by the metallic-Li rule.

    Parameters
    ----------
    atoms : ase.Atoms
        Cell with surface normal z; periodic along x and y, and along z or not
        (``pbc=(True, True, False)``).
    cutoff : float, Å
        Li–Li neighbour distance (strictly less than). Also the smallest gap
        along z that separates two electrodes (see the module docstring).
    min_neighbors : int
        Li neighbours needed to count as metallic.
    always : array_like of int or bool mask, optional
        Atoms that always belong (e.g. frozen outer layers). Atoms of an
        element other than ``element`` are ignored: they are never members.
    element : str
        The metal.
    exclude_bonded_to : sequence of str, optional
        Elements (e.g. ``("F", "O")``) whose presence closer than
        ``bond_cutoff`` makes a metal atom ionic, never metallic. Not part of
        the paper's rule: without it, Li of crystalline LiF (12 Li at 2.85 Å)
        and Li₂O (6 at 2.31 Å, 12 at 3.27 Å) counts as metallic, so SEI Li
        next to the anode is held at the anode's potential.
    bond_cutoff : float, Å
        Distance for ``exclude_bonded_to``.

    Returns
    -------
    (n_atoms,) int ndarray
        :data:`constpot.keys.ANODE` (the lower electrode, or the only one),
        :data:`constpot.keys.COUNTER` (the upper electrode) or
        :data:`constpot.keys.NOT_ELECTRODE`; see the module docstring.
    """
    n = len(atoms)
    if not cutoff > 0:
        raise QEqSetupError(f"cutoff must be > 0 Å, got {cutoff}")
    if min_neighbors < 1:
        raise QEqSetupError(f"min_neighbors must be >= 1, got {min_neighbors}")
    is_metal = np.asarray(atoms.symbols == element)
    idx = np.flatnonzero(is_metal)
    member = np.zeros(n, bool)
    if idx.size:
        nl = NeighborList(cutoff=cutoff, full_list=True)
        i, d = nl.compute(
            points=atoms.positions[idx],
            box=atoms.cell.array,
            periodic=atoms.pbc,
            quantities="id",
        )
        counts = np.bincount(i[d < cutoff], minlength=idx.size)
        metallic = counts >= min_neighbors
        if len(exclude_bonded_to):
            if not bond_cutoff > 0:
                raise QEqSetupError(f"bond_cutoff must be > 0 Å, got {bond_cutoff}")
            metallic &= ~_bonded_to(atoms, idx, exclude_bonded_to, bond_cutoff)
        member[idx[metallic]] = True
    if always is not None:
        always = np.asarray(always)
        if always.dtype == bool:
            if always.shape != (n,):
                raise QEqSetupError(f"always mask must have shape ({n},)")
            member |= always & is_metal
        elif always.size:
            if always.min() < 0 or always.max() >= n:
                raise QEqSetupError(f"always: atom indices out of range 0..{n - 1}")
            chosen = always.astype(int)
            member[chosen[is_metal[chosen]]] = True
    labels = np.full(n, NOT_ELECTRODE, dtype=np.int64)
    members = np.flatnonzero(member)
    if members.size:
        height, period = _height(atoms, members)
        labels[members] = _split_layers(height, period, cutoff)
    return labels


def _height(atoms: Atoms, idx: np.ndarray) -> tuple[np.ndarray, float | None]:
    """Position of atoms ``idx`` along the normal, Å, and its period.

    Periodic along z: the fractional coordinate along the third cell vector,
    wrapped into [0, 1), times the distance between the x–y lattice planes
    V / |a × b| (= L_z for a slab cell). Otherwise: Cartesian z, no period.
    """
    if not atoms.pbc[2]:
        return atoms.positions[idx, 2].copy(), None
    cell = atoms.cell.array
    area = np.linalg.norm(np.cross(cell[0], cell[1]))
    spacing = abs(np.linalg.det(cell)) / area
    frac = atoms.cell.scaled_positions(atoms.positions[idx])[:, 2] % 1.0
    return frac * spacing, spacing


def _split_layers(height: np.ndarray, period: float | None, gap: float) -> np.ndarray:
    """ANODE/COUNTER for members at ``height`` (Å) cut at gaps >= ``gap`` Å.

    See the module docstring for the rule.
    """
    order = np.argsort(height, kind="stable")
    h = height[order]
    steps = np.diff(h)
    cuts = list(np.flatnonzero(steps >= gap) + 1)  # a layer starts at each cut
    wraps = period is not None and h[0] + period - h[-1] < gap
    # Layers as (start, stop) ranges of the sorted members; a layer that
    # continues across the periodic boundary is the last range joined to the
    # first.
    bounds = [0, *cuts, len(h)]
    ranges = [(bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1)]
    layers = [np.arange(a, b) for a, b in ranges]
    lows = [h[a] for a, _ in ranges]
    highs = [h[b - 1] for _, b in ranges]
    if wraps and len(layers) > 1:
        layers[0] = np.concatenate([layers[-1], layers[0]])
        lows[0] = lows[-1] - period
        del layers[-1], lows[-1], highs[-1]
    out = np.empty(len(h), dtype=np.int64)
    if len(layers) == 1:
        out[:] = ANODE
        return _unsort(out, order)
    sizes = np.array([len(layer) for layer in layers])
    # The two largest layers; ties go to the lower one (stable order).
    first, second = np.argsort(-sizes, kind="stable")[:2]
    centres = [_wrap(0.5 * (lows[k] + highs[k]), period) for k in range(len(layers))]
    anode, counter = sorted((first, second), key=lambda k: centres[k])
    for k, layer in enumerate(layers):
        if k == anode:
            out[layer] = ANODE
        elif k == counter:
            out[layer] = COUNTER
        else:
            d_anode = _layer_distance(lows, highs, k, anode, period)
            d_counter = _layer_distance(lows, highs, k, counter, period)
            out[layer] = ANODE if d_anode <= d_counter else COUNTER
    return _unsort(out, order)


def _wrap(x: float, period: float | None) -> float:
    return x if period is None else x % period


def _layer_distance(lows, highs, k: int, other: int, period: float | None) -> float:
    """Gap along z between layers ``k`` and ``other`` (Å), periodic if a period."""
    above = lows[other] - highs[k]
    below = lows[k] - highs[other]
    if period is None:
        return max(above, below)
    return min(above % period, below % period)


def _unsort(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[order] = values
    return out


def _bonded_to(atoms: Atoms, idx: np.ndarray, elements, cutoff: float) -> np.ndarray:
    """Which of the atoms ``idx`` have an atom of ``elements`` within ``cutoff``."""
    partners = np.flatnonzero(np.isin(atoms.symbols, list(elements)))
    bonded = np.zeros(idx.size, bool)
    if not partners.size:
        return bonded
    nl = NeighborList(cutoff=cutoff, full_list=True)
    sub = np.concatenate([idx, partners])
    i, j = nl.compute(
        points=atoms.positions[sub],
        box=atoms.cell.array,
        periodic=atoms.pbc,
        quantities="ij",
    )
    hit = (i < idx.size) & (j >= idx.size)
    bonded[np.unique(i[hit])] = True
    return bonded


def electrode_potentials(
    labels, anode_potential_V: float = 0.0, counter_potential_V: float = 0.0
) -> np.ndarray:
    """Per-atom applied potential ψ (V) from electrode labels.

    Calling it means constant potential is requested, so the labels must
    name electrode atoms: no member at all is an error, and so is an empty
    electrode given a non-zero potential. An empty electrode at 0 V is
    allowed: a single electrode (one metal slab, :func:`metallic_li` labels
    it the anode) held at ψ relative to the electrolyte.

    Parameters
    ----------
    labels : (n_atoms,) int array_like
        Output of :func:`metallic_li`.
    anode_potential_V, counter_potential_V : float, V
        Applied potentials (the paper's electronegativity shift φ = −ψ).

    Returns
    -------
    (n_atoms,) ndarray, V

    Raises
    ------
    QEqSetupError
        A potential is not finite; no atom is an electrode member; or an
        electrode with no atoms has a non-zero potential (the message names
        it).
    """
    labels = np.asarray(labels)
    electrodes = {
        "anode": (anode_potential_V, int(np.count_nonzero(labels == ANODE))),
        "counter": (counter_potential_V, int(np.count_nonzero(labels == COUNTER))),
    }
    for name, (value, _) in electrodes.items():
        if not np.isfinite(value):
            raise QEqSetupError(
                f"{name}_potential_V must be a finite number of volts, got {value}"
            )
    if not any(count for _, count in electrodes.values()):
        raise QEqSetupError(
            "constant potential needs electrode atoms, but no atom is labelled "
            "anode or counter electrode (no metallic Li found: check the "
            "structure, or the metallic-Li cutoff and neighbour count)"
        )
    for name, (value, count) in electrodes.items():
        if value != 0.0 and count == 0:
            other = "counter" if name == "anode" else "anode"
            raise QEqSetupError(
                f"{name}_potential_V = {value:g} V, but the {name} electrode has no "
                f"atoms ({other}: {electrodes[other][1]}); a single metal slab is "
                "one electrode, the anode: give the structure a second electrode "
                f"or leave {name}_potential_V at 0"
            )
    psi = np.zeros(labels.shape, dtype=float)
    psi[labels == ANODE] = anode_potential_V
    psi[labels == COUNTER] = counter_potential_V
    return psi
