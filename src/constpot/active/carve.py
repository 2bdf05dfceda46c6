"""Cut a large frame down to the part the models disagree on.

A frame of an interface (thousands of atoms) is too large for a DFT label.
:func:`carve_window` keeps a slab of it: the full lateral cell, and the
atoms of a z-window centred on the atom of largest per-atom force deviation
(:func:`per_atom_force_deviation`), widened symmetrically while at most
``max_atoms`` atoms fit. Molecules and ions (``mol_id`` ≥ 0) are kept whole
or left out whole: a molecule is in when all its atoms are in the window.
Atoms of extended phases (``mol_id`` −1, or no ``mol_id`` array) count one
by one. z distances are plain differences, not minimum-image: in a slab
cell nothing crosses the z boundary.

The window keeps the frame's cell and ``pbc``; the vacuum above and below it
is what the removed atoms leave. Its total formal charge is what the kept
atoms carry (an integer, since every formal charge is one).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms

from ..keys import MOL_ID

__all__ = ["carve_window", "ensemble_forces", "per_atom_force_deviation"]


def ensemble_forces(atoms: Atoms, calculators: Sequence) -> np.ndarray:
    """Forces of each ensemble member on ``atoms``.

    Parameters
    ----------
    atoms : ase.Atoms
        Not modified (each member sees a bare copy).
    calculators : sequence of ase Calculators
        The short-range models (``constpot.potential.load_calculator``).

    Returns
    -------
    (n_models, n_atoms, 3) ndarray, eV/Å
    """
    bare = Atoms(
        numbers=atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc
    )
    out = []
    for calc in calculators:
        bare.calc = calc
        out.append(np.asarray(bare.get_forces(), dtype=float))
        bare.calc = None
    return np.stack(out)


def per_atom_force_deviation(forces: np.ndarray) -> np.ndarray:
    """Per-atom norm of the ensemble's force standard deviation.

    .. math::

        \\sigma_i = \\sqrt{\\langle \\lVert \\mathbf F_i^m
                    - \\langle \\mathbf F_i \\rangle \\rVert^2 \\rangle_m}

    whose maximum over atoms is the frame's model deviation (the quantity
    :class:`constpot.potential.HybridCalculator` reports as
    ``force_deviation``; the QEq forces are the same for every member and
    drop out).

    Parameters
    ----------
    forces : (n_models, n_atoms, 3) ndarray, eV/Å

    Returns
    -------
    (n_atoms,) ndarray, eV/Å
    """
    forces = np.asarray(forces, dtype=float)
    spread = forces - forces.mean(axis=0)
    return np.sqrt((spread**2).sum(axis=2).mean(axis=0))


def carve_window(atoms: Atoms, centre: int, max_atoms: int) -> np.ndarray:
    """Indices of the atoms of the z-window around atom ``centre``.

    Parameters
    ----------
    atoms : ase.Atoms
        The frame; its ``mol_id`` array (if any) groups molecules.
    centre : int
        Index of the atom the window is centred on.
    max_atoms : int
        Most atoms kept.

    Returns
    -------
    (n_kept,) int ndarray
        Sorted indices, ``n_kept <= max_atoms``; all atoms when the frame
        fits. The units (molecules, single atoms) whose farthest atom is
        within half-width h of the centre's z, for the largest h that fits.

    Raises
    ------
    ValueError
        Not even the centre's own molecule fits in ``max_atoms``.
    """
    n = len(atoms)
    if n <= max_atoms:
        return np.arange(n)
    z = atoms.positions[:, 2]
    dz = np.abs(z - z[centre])
    mol = atoms.arrays[MOL_ID] if MOL_ID in atoms.arrays else np.full(n, -1)
    mol = np.asarray(mol, dtype=np.int64)
    # unit of an atom: its molecule, or itself (ids past the molecule ids)
    unit = np.where(mol >= 0, mol, mol.max(initial=-1) + 1 + np.arange(n))
    _, unit = np.unique(unit, return_inverse=True)
    reach = np.zeros(unit.max() + 1)
    np.maximum.at(reach, unit, dz)
    size = np.bincount(unit)
    order = np.lexsort((np.arange(len(reach)), reach))
    # take whole groups of equal reach: a window's edge cannot split a tie
    total = np.cumsum(size[order])
    cut = 0
    for k in range(len(order)):
        if total[k] > max_atoms:
            break
        if k + 1 == len(order) or reach[order[k + 1]] > reach[order[k]]:
            cut = k + 1
    if cut == 0:
        raise ValueError(
            f"max_atoms={max_atoms}: the {int(size[unit[centre]])}-atom unit of atom "
            f"{centre} does not fit in the window"
        )
    keep = np.isin(unit, order[:cut])
    return np.flatnonzero(keep)
