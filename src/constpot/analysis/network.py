"""The electrodes as connected networks of metallic Li, found from structure.

User guide
----------
Deposition is a structural event: a Li that started as an ion joins the
metal. The MD's electrode labels (the ψ-membership the charge solver uses)
cannot show it when the membership rule is static or excludes atoms near
anions, and a charge threshold cannot either (QEq gives Li⁺ near a charged
electrode a small charge before it moves). :class:`NetworkRule` therefore
finds each electrode from the positions alone:

1. a Li is *metal-like* when at most ``max_anions`` F or O atoms (of any
   region: SEI anions, solvent and PF₆⁻) lie within ``anion_cutoff_A``; Li⁺
   in LiF (6 F), Li₂O (4 O) or a solvation shell (4 O) is not;
2. two metal-like Li closer than ``li_cutoff_A`` are bonded (periodic images
   through ASE's neighbour list, with the frame's ``pbc``);
3. an electrode is every connected component of that graph that holds one of
   its *anchors*: the frozen Li of its builder region (``anode`` or
   ``counter``), or every Li of that region when none is frozen.

A component touching both electrodes (a short circuit) belongs to the anode.

Defaults: ``li_cutoff_A`` = 3.3 Å lies between the first (≈ 3.0 Å) and
second (≈ 3.4–3.5 Å) neighbour shells of bcc Li, so the network follows
nearest-neighbour contacts with room for thermal stretching; an adatom in a
bcc(100) hollow sits ≈ 3.0 Å from four surface atoms. ``anion_cutoff_A`` =
2.6 Å is the first minimum of the Li–F and Li–O pair distributions (the MD's
``metallic_exclude`` distance); ``max_anions`` = 1 lets a metal atom touch
one anion of the SEI above it.

Example
-------
>>> rule = NetworkRule()
>>> labels, n_anions = rule.labels(atoms)            # doctest: +SKIP
>>> (labels == ANODE).sum()                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from ase import Atoms

from ..keys import (
    ANODE,
    ANODE_REGION,
    COUNTER,
    COUNTER_REGION,
    FROZEN,
    NOT_ELECTRODE,
    REGION,
)

__all__ = ["NetworkRule"]


@dataclass(frozen=True)
class NetworkRule:
    """Which Li form each electrode's connected metal network.

    Parameters
    ----------
    li_cutoff_A : float, Å
        Two metal-like Li closer than this are bonded (3.3).
    anion_cutoff_A : float, Å
        An F or O closer than this is a neighbour of a Li (2.6).
    max_anions : int
        A Li with at most this many anion neighbours is metal-like (1).
    element : str
        The metal ("Li").
    anions : tuple of str
        Elements that make a Li ionic (("F", "O")).

    Raises
    ------
    ValueError
        A non-positive cutoff or a negative ``max_anions``.
    """

    li_cutoff_A: float = 3.3
    anion_cutoff_A: float = 2.6
    max_anions: int = 1
    element: str = "Li"
    anions: tuple[str, ...] = ("F", "O")

    def __post_init__(self):
        for name in ("li_cutoff_A", "anion_cutoff_A"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"{name} must be > 0 Å, got {value!r}")
        n = self.max_anions
        if not (isinstance(n, (int, np.integer)) and n >= 0):
            raise ValueError(
                f"max_anions must be an integer >= 0, got {self.max_anions!r}"
            )
        object.__setattr__(self, "anions", tuple(self.anions))

    def todict(self) -> dict:
        return asdict(self)

    def anchors(self, atoms: Atoms) -> dict[int, np.ndarray]:
        """Anchor atoms per electrode label (ANODE, COUNTER) of a frame.

        The frozen Li of the builder region, or all its Li when none is
        frozen; an electrode without Li is left out.
        """
        if REGION not in atoms.arrays:
            raise ValueError(
                f"NetworkRule: atoms have no per-atom array {REGION!r} "
                "(the builder's regions anchor the electrodes)"
            )
        region = atoms.arrays[REGION].astype(str)
        metal = atoms.symbols == self.element
        frozen = (
            np.asarray(atoms.arrays[FROZEN], bool)
            if FROZEN in atoms.arrays
            else np.zeros(len(atoms), bool)
        )
        out = {}
        for label, name in ((ANODE, ANODE_REGION), (COUNTER, COUNTER_REGION)):
            members = metal & (region == name)
            fixed = members & frozen
            idx = np.flatnonzero(fixed if fixed.any() else members)
            if idx.size:
                out[label] = idx
        return out

    def labels(
        self, atoms: Atoms, anchors: dict[int, Sequence[int]] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Electrode label of every atom and the anion count of every Li.

        Parameters
        ----------
        atoms : ase.Atoms
            One frame; ``region`` (and ``frozen``) name the anchors.
        anchors : dict, optional
            Electrode label → atom indices; default :meth:`anchors` (pass the
            first frame's anchors to keep them fixed over a run).

        Returns
        -------
        labels : (n_atoms,) int8 ndarray
            NOT_ELECTRODE, ANODE or COUNTER (:mod:`constpot.keys` values).
        n_anions : (n_atoms,) int ndarray
            F/O neighbours within ``anion_cutoff_A`` of each Li (0 for other
            atoms).
        """
        from ase.neighborlist import neighbor_list
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        anchors = self.anchors(atoms) if anchors is None else anchors
        symbols = np.asarray(atoms.symbols)
        is_metal = symbols == self.element
        is_anion = np.isin(symbols, self.anions)
        sel = np.flatnonzero(is_metal | is_anion)
        labels = np.full(len(atoms), NOT_ELECTRODE, dtype=np.int8)
        n_anions = np.zeros(len(atoms), dtype=np.int64)
        if sel.size == 0:
            return labels, n_anions
        sub = Atoms(
            numbers=atoms.numbers[sel],
            positions=atoms.positions[sel],
            cell=atoms.cell,
            pbc=atoms.pbc,
        )
        cutoff = max(self.li_cutoff_A, self.anion_cutoff_A)
        i, j, d = neighbor_list("ijd", sub, cutoff, self_interaction=False)
        metal_sub, anion_sub = is_metal[sel], is_anion[sel]
        touch = metal_sub[i] & anion_sub[j] & (d < self.anion_cutoff_A)
        count = np.bincount(i[touch], minlength=sel.size)
        n_anions[sel] = np.where(metal_sub, count, 0)
        metal_like = metal_sub & (count <= self.max_anions)
        bond = metal_like[i] & metal_like[j] & (d < self.li_cutoff_A)
        n = sel.size
        graph = coo_matrix((np.ones(int(bond.sum())), (i[bond], j[bond])), (n, n))
        _, comp = connected_components(graph, directed=False)
        position = np.full(len(atoms), -1)
        position[sel] = np.arange(n)
        # the anode first: a component touching both electrodes stays anode
        for label in sorted(anchors, key=lambda lab: lab != ANODE):
            idx = position[np.asarray(anchors[label], dtype=int)]
            idx = idx[(idx >= 0) & metal_like[np.maximum(idx, 0)]]
            if idx.size == 0:
                continue
            member = metal_like & np.isin(comp, np.unique(comp[idx]))
            free = labels[sel] == NOT_ELECTRODE
            labels[sel[member & free]] = label
        return labels, n_anions
