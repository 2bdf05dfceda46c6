"""The k-point rule: one Brillouin-zone sampling density for every frame.

A metal's energy per atom converges with the k-point sampling, not with the
cell: at the Γ point alone it depends on the supercell (GFN1-xTB: 189 meV/atom
between 54- and 432-atom bcc Li cells). Frames of different sizes and shapes
are labelled consistently when each gets a Monkhorst–Pack grid of the same
density, chosen per frame from its cell:

.. math::

    n_i = \\max\\left(1, \\left\\lceil \\frac{|\\mathbf b_i|}{\\Delta k}
    \\right\\rceil\\right), \\qquad |\\mathbf b_i| = \\frac{2\\pi}{d_i},

with :math:`\\mathbf b_i` the reciprocal lattice vectors (2π included),
:math:`d_i` the spacing of the lattice planes normal to it and
:math:`\\Delta k` (``spacing_inv_A``, Å⁻¹) the largest spacing between
k-points. This is VASP's ``KSPACING`` convention; ASE's and GPAW's
``kpts={"density": ρ}`` is the same rule with ρ = 1/Δk k-points per Å⁻¹.
Grids are Γ-centred.

Exceptions, each recorded by :meth:`KPointRule.describe`:

- an axis that is not periodic (``pbc`` False), or along which the atoms
  leave an empty layer at least ``vacuum_A`` thick (a slab's vacuum, a
  cluster's box), gets one k-point: no band disperses across the vacuum;
- a *molecular* frame, whose atoms all belong to molecules (per-atom
  ``mol_id`` ≥ 0: a liquid box, a solvation cluster), is computed at Γ when
  ``molecular_gamma``: an insulator with flat bands, whose Γ error is small,
  where a metal-converged grid would multiply the cost of the largest frames;
- a frame with no metal, no atom in an electrode region (per-atom
  ``region`` other than anode and counter: SEI crystals and glasses, SEI |
  electrolyte contacts, a Li adatom on SEI), gets the coarser spacing
  ``insulator_spacing_inv_A`` when one is set: LiF and Li₂O have band gaps
  of ~5–9 eV, their energy converges on a coarse grid, and the metal's grid
  is up to 30× more k-points in their 4–8 Å cells. A frame without a
  ``region`` array counts as metallic.

Worked numbers for Δk = 0.2 Å⁻¹: bcc Li (a = 3.51 Å) gets 9 × 9 × 9 in the
2-atom cubic cell and 5 × 5 × 5 in its 2 × 2 × 2 supercell; a Li(100) slab of
4 × 4 cells (14.04 Å) with 10 Å of vacuum gets 3 × 3 × 1; rock-salt LiF
(a = 4.03 Å, 8 atoms) 8 × 8 × 8.

With ``insulator_spacing_inv_A`` = 0.5 Å⁻¹ the 8-atom LiF cell gets
4 × 4 × 4.

Example
-------
>>> from ase.build import bulk
>>> rule = KPointRule(spacing_inv_A=0.2)
>>> rule.grid(bulk("Li", "bcc", a=3.51, cubic=True))
(9, 9, 9)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from ase import Atoms

from ..keys import ANODE_REGION, COUNTER_REGION, MOL_ID, REGION

__all__ = ["KPointRule", "vacuum_axes"]


def vacuum_axes(atoms: Atoms, vacuum_A: float) -> list[bool]:
    """Axes along which the frame is not extended.

    Parameters
    ----------
    atoms : ase.Atoms
    vacuum_A : float, Å
        Thickness of the thinnest empty layer that counts as vacuum.

    Returns
    -------
    list of 3 bool
        True for an axis that is not periodic, or along which the atoms'
        fractional coordinates leave a gap (periodically, i.e. across the
        boundary too) whose thickness, measured normal to the lattice planes,
        is ≥ ``vacuum_A``.
    """
    out = []
    if len(atoms) == 0:
        return [True, True, True]
    scaled = atoms.cell.scaled_positions(atoms.positions) % 1.0
    recip = np.linalg.norm(atoms.cell.reciprocal(), axis=1)  # 1/d_i
    for i in range(3):
        if not atoms.pbc[i]:
            out.append(True)
            continue
        s = np.sort(scaled[:, i])
        gaps = np.diff(np.concatenate([s, [s[0] + 1.0]]))
        out.append(bool(gaps.max() / recip[i] >= vacuum_A))
    return out


def _is_molecular(atoms: Atoms) -> bool:
    return MOL_ID in atoms.arrays and bool(np.all(atoms.arrays[MOL_ID] >= 0))


def _has_metal(atoms: Atoms) -> bool:
    """Any atom in an electrode region; True without a ``region`` array."""
    if REGION not in atoms.arrays:
        return True
    return bool(np.isin(atoms.arrays[REGION], [ANODE_REGION, COUNTER_REGION]).any())


@dataclass(frozen=True)
class KPointRule:
    """Monkhorst–Pack grid of a fixed density, per frame (module docstring).

    Parameters
    ----------
    spacing_inv_A : float, Å⁻¹
        Largest distance between k-points along each reciprocal axis, 2π
        included (VASP's ``KSPACING``). 0.2 converges bcc Li to ≈ 1 meV/atom
        with 0.1 eV Fermi–Dirac smearing.
    vacuum_A : float, Å
        An empty layer at least this thick makes its axis non-periodic
        (one k-point).
    molecular_gamma : bool
        Γ only for frames whose atoms all belong to molecules (``mol_id`` ≥ 0).
    insulator_spacing_inv_A : float or None, Å⁻¹
        The spacing of frames with no metal (module docstring); None:
        ``spacing_inv_A`` for them too.
    """

    spacing_inv_A: float = 0.2
    vacuum_A: float = 6.0
    molecular_gamma: bool = True
    insulator_spacing_inv_A: float | None = None

    def __post_init__(self):
        names = ["spacing_inv_A", "vacuum_A"]
        if self.insulator_spacing_inv_A is not None:
            names.append("insulator_spacing_inv_A")
        for name in names:
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float, np.number))
                or not np.isfinite(value)
                or value <= 0
            ):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
            object.__setattr__(self, name, float(value))
        if not isinstance(self.molecular_gamma, (bool, np.bool_)):
            raise TypeError(
                f"molecular_gamma must be a bool, got {self.molecular_gamma!r}"
            )

    def grid(self, atoms: Atoms) -> tuple[int, int, int]:
        """The Γ-centred Monkhorst–Pack grid ``(n1, n2, n3)`` of one frame."""
        return self.describe(atoms)["kpts"]

    def describe(self, atoms: Atoms) -> dict:
        """The grid and why: ``{"kpts": (n1, n2, n3), "vacuum_axes": [...],
        "molecular": bool, "metallic": bool, "spacing_inv_A": Δk}``
        (``vacuum_axes``: 0, 1, 2 for the axes with one k-point because of
        vacuum or ``pbc`` False; ``spacing_inv_A``: the spacing applied)."""
        vacuum = vacuum_axes(atoms, self.vacuum_A)
        molecular = _is_molecular(atoms)
        metallic = _has_metal(atoms)
        spacing = self.spacing_inv_A
        if not metallic and self.insulator_spacing_inv_A is not None:
            spacing = self.insulator_spacing_inv_A
        if molecular and self.molecular_gamma:
            kpts = (1, 1, 1)
        else:
            b = 2 * np.pi * np.linalg.norm(atoms.cell.reciprocal(), axis=1)
            kpts = tuple(
                1 if vacuum[i] else max(1, int(np.ceil(b[i] / spacing - 1e-9)))
                for i in range(3)
            )
        return {
            "kpts": kpts,
            "vacuum_axes": [i for i in range(3) if vacuum[i]],
            "molecular": molecular,
            "metallic": metallic,
            "spacing_inv_A": spacing,
        }

    def todict(self) -> dict:
        """The rule's parameters (JSON-able)."""
        return asdict(self)
