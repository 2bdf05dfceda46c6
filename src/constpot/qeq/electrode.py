"""Electrode membership: the metallic-Li rule of Hu et al. (2025).

A Li atom is *metallic* when it has at least ``min_neighbors`` Li neighbours
strictly closer than ``cutoff`` (8 within 3.5 Å in the paper). Metallic Li in the
lower half of the cell along z belongs to the anode, in the upper half to the
counter electrode. Atoms listed as always-members (the frozen outermost layers)
belong whatever their neighbours, to the electrode of their half. Recomputed
during MD, the rule lets deposited Li join the anode.
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
        Periodic cell, surface normal z.
    cutoff : float, Å
        Li–Li neighbour distance (strictly less than).
    min_neighbors : int
        Li neighbours needed to count as metallic.
    always : array_like of int or bool mask, optional
        Atoms that always belong (e.g. frozen outer layers).
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
        :data:`constpot.keys.ANODE` (z below half the cell),
        :data:`constpot.keys.COUNTER` (upper half) or
        :data:`constpot.keys.NOT_ELECTRODE`.
    """
    n = len(atoms)
    if cutoff <= 0:
        raise QEqSetupError(f"cutoff must be > 0 Å, got {cutoff}")
    if min_neighbors < 1:
        raise QEqSetupError(f"min_neighbors must be >= 1, got {min_neighbors}")
    is_metal = atoms.symbols == element
    idx = np.flatnonzero(is_metal)
    member = np.zeros(n, bool)
    if idx.size:
        nl = NeighborList(cutoff=cutoff, full_list=True)
        i, d = nl.compute(
            points=atoms.positions[idx],
            box=atoms.cell.array,
            periodic=bool(np.all(atoms.pbc)),
            quantities="id",
        )
        counts = np.bincount(i[d < cutoff], minlength=idx.size)
        metallic = counts >= min_neighbors
        if len(exclude_bonded_to):
            if bond_cutoff <= 0:
                raise QEqSetupError(f"bond_cutoff must be > 0 Å, got {bond_cutoff}")
            metallic &= ~_bonded_to(atoms, idx, exclude_bonded_to, bond_cutoff)
        member[idx[metallic]] = True
    if always is not None:
        always = np.asarray(always)
        if always.dtype == bool:
            if always.shape != (n,):
                raise QEqSetupError(f"always mask must have shape ({n},)")
            member |= always
        elif always.size:
            if always.min() < 0 or always.max() >= n:
                raise QEqSetupError(f"always: atom indices out of range 0..{n - 1}")
            member[always.astype(int)] = True
    frac_z = atoms.get_scaled_positions(wrap=True)[:, 2]
    labels = np.full(n, NOT_ELECTRODE, dtype=np.int64)
    labels[member & (frac_z < 0.5)] = ANODE
    labels[member & (frac_z >= 0.5)] = COUNTER
    return labels


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
        periodic=bool(np.all(atoms.pbc)),
        quantities="ij",
    )
    hit = (i < idx.size) & (j >= idx.size)
    bonded[np.unique(i[hit])] = True
    return bonded


def electrode_potentials(
    labels, anode_potential_V: float = 0.0, counter_potential_V: float = 0.0
) -> np.ndarray:
    """Per-atom applied potential ψ (V) from electrode labels.

    Parameters
    ----------
    labels : (n_atoms,) int array_like
        Output of :func:`metallic_li`.
    anode_potential_V, counter_potential_V : float, V
        Applied potentials (the paper's electronegativity shift φ = −ψ).

    Returns
    -------
    (n_atoms,) ndarray, V
    """
    labels = np.asarray(labels)
    psi = np.zeros(labels.shape, dtype=float)
    psi[labels == ANODE] = anode_potential_V
    psi[labels == COUNTER] = counter_potential_V
    return psi
