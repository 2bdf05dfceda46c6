"""`MetallicRule`: the settings of the metallic-Li electrode rule, as one object.

Hu et al. (2025) put a Li atom on an electrode when it has at least 8 Li
neighbours within 3.5 Å; the outermost (frozen) layers always belong. The rule
itself is :func:`constpot.qeq.metallic_li` (which also decides anode versus
counter electrode); this frozen dataclass carries its settings, so that the
calculator, the MD driver and any analysis apply the same rule::

    rule = MetallicRule(exclude=("F", "O"))
    labels = rule.labels(atoms, frozen=atoms.arrays["frozen"])

``exclude`` is not part of the paper's rule: Li with an atom of these elements
within 2.6 Å counts as ionic, never metallic (crystalline LiF and Li₂O Li would
otherwise pass the neighbour test). The rule's 3.5 Å cutoff assumes the metal
at the reference method's lattice constant (docs/design.md §7).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from ase import Atoms

from .electrode import metallic_li

__all__ = ["MetallicRule"]


@dataclass(frozen=True)
class MetallicRule:
    """Settings of the metallic-Li electrode rule (validated on construction).

    Parameters
    ----------
    cutoff_A : float, Å
        Li–Li neighbour distance (strictly less than); 3.5 in the paper.
    min_neighbors : int
        Li neighbours within ``cutoff_A`` needed to be metallic; 8 in the paper.
    exclude : sequence of str
        Elements whose presence within 2.6 Å makes a Li ionic, never metallic
        (e.g. ``("F", "O")``); empty in the paper. Stored as a tuple.

    Raises
    ------
    ValueError
        ``cutoff_A`` not a number > 0, ``min_neighbors`` not an integer >= 1,
        or ``exclude`` not a sequence of element symbols.
    """

    cutoff_A: float = 3.5
    min_neighbors: int = 8
    exclude: tuple[str, ...] = ()

    def __post_init__(self):
        cutoff = self.cutoff_A
        if not (
            isinstance(cutoff, (int, float, np.integer, np.floating))
            and not isinstance(cutoff, bool)
            and math.isfinite(cutoff)
            and cutoff > 0
        ):
            raise ValueError(
                f"MetallicRule cutoff_A must be a number > 0 Å, got {cutoff!r}"
            )
        count = self.min_neighbors
        if not (
            isinstance(count, (int, np.integer))
            and not isinstance(count, bool)
            and count >= 1
        ):
            raise ValueError(
                f"MetallicRule min_neighbors must be an integer >= 1, got {count!r}"
            )
        exclude = self.exclude
        if isinstance(exclude, str) or not all(isinstance(e, str) for e in exclude):
            raise ValueError(
                "MetallicRule exclude must be a sequence of element symbols such "
                f"as ('F', 'O'), got {exclude!r}"
            )
        # frozen dataclass: normalise the stored values once, here
        object.__setattr__(self, "cutoff_A", float(cutoff))
        object.__setattr__(self, "min_neighbors", int(count))
        object.__setattr__(self, "exclude", tuple(exclude))

    def labels(self, atoms: Atoms, frozen=None) -> np.ndarray:
        """Electrode labels of ``atoms`` by this rule.

        Parameters
        ----------
        atoms : ase.Atoms
            Slab cell, surface normal z.
        frozen : (n_atoms,) bool array_like, or None
            Atoms that always belong (the frozen outer layers; only atoms of
            the metal, see :func:`~constpot.qeq.metallic_li`). None: none.

        Returns
        -------
        (n_atoms,) int ndarray
            :data:`~constpot.keys.ANODE`, :data:`~constpot.keys.COUNTER` or
            :data:`~constpot.keys.NOT_ELECTRODE` per atom.
        """
        always = None if frozen is None else np.asarray(frozen, dtype=bool)
        return metallic_li(
            atoms,
            cutoff=self.cutoff_A,
            min_neighbors=self.min_neighbors,
            always=always,
            exclude_bonded_to=self.exclude,
        )

    def todict(self) -> dict:
        """Plain values, for provenance records (``exclude`` as a list)."""
        out = asdict(self)
        out["exclude"] = list(self.exclude)
        return out
