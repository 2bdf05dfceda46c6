"""Slab-geometry helpers: normal orientation and vacuum padding.

constpot's slab convention: x and y periodic, surface normal along **z**, the
third cell vector parallel to z, every atom inside ``0 <= z < L_z``. The
Yeh–Berkowitz correction is applied in the cell as given; the true 2D-periodic
limit needs vacuum of at least twice the slab thickness (:func:`pad_vacuum`).
"""

from __future__ import annotations

import warnings

import numpy as np
from ase import Atoms

from .errors import QEqSetupError

__all__ = [
    "check_slab_cell",
    "check_vacuum",
    "pad_vacuum",
    "rotate_normal_to_z",
    "slab_thickness",
]

_AXES = {"x": 0, "y": 1, "z": 2}


def check_slab_cell(cell: np.ndarray, positions: np.ndarray) -> None:
    """Validate a slab cell: normal along z, atoms inside the cell along z.

    Parameters
    ----------
    cell : (3, 3) ndarray, Å
        Rows are the cell vectors; the third must be parallel to z and the first
        two must lie in the x–y plane (any angle between them).
    positions : (n_atoms, 3) ndarray, Å

    Raises
    ------
    QEqSetupError
        When the cell is not a slab cell with normal z, or an atom lies outside
        ``0 <= z < L_z`` (the message names the first such atom).
    """
    a, b, c = cell
    length_c = np.linalg.norm(c)
    tol = 1e-8 * max(length_c, 1.0)
    if abs(c[0]) > tol or abs(c[1]) > tol or c[2] <= 0:
        raise QEqSetupError(
            f"slab geometry needs the third cell vector along +z, got {c.tolist()}; "
            "rotate the structure so that the surface normal is z (e.g. "
            "`constpot qeq --normal y`)"
        )
    if abs(a[2]) > tol or abs(b[2]) > tol:
        raise QEqSetupError(
            "slab geometry needs the first two cell vectors in the x-y plane, got "
            f"a={a.tolist()}, b={b.tolist()}"
        )
    z = positions[:, 2]
    outside = np.flatnonzero((z < 0.0) | (z >= c[2]))
    if outside.size:
        i = int(outside[0])
        raise QEqSetupError(
            f"{outside.size} atom(s) outside the slab cell along z (0 <= z < "
            f"{c[2]:.4f} Å), first: atom index {i} at z = {z[i]:.4f} Å; wrap or "
            "pad the cell (constpot.qeq.pad_vacuum) instead of letting atoms cross "
            "the vacuum"
        )


def rotate_normal_to_z(atoms: Atoms, normal: str) -> Atoms:
    """Return a copy whose surface normal ``normal`` becomes z.

    A cyclic permutation of the axes (a proper rotation, so chirality and all
    per-atom arrays are kept): for ``normal="y"`` the new (x, y, z) are the old
    (z, x, y). The cell must be orthogonal along the normal (the normal cell
    vector parallel to its axis).

    Parameters
    ----------
    atoms : ase.Atoms
    normal : {"x", "y", "z"}

    Returns
    -------
    ase.Atoms
        Rotated copy; constraints are carried over.
    """
    if normal not in _AXES:
        raise QEqSetupError(f"normal must be 'x', 'y' or 'z', got {normal!r}")
    out = atoms.copy()
    axis = _AXES[normal]
    if axis == 2:
        return out
    # Cyclic shift that sends `axis` to position 2.
    order = [(axis + 1 + k) % 3 for k in range(3)]
    cell = atoms.cell.array[order][:, order]
    out.set_cell(cell, scale_atoms=False)
    out.positions = atoms.positions[:, order]
    for name in ("momenta",):
        if name in out.arrays:
            out.arrays[name] = atoms.arrays[name][:, order]
    return out


def slab_thickness(atoms: Atoms) -> float:
    """Extent of the atoms along z, Å."""
    z = atoms.positions[:, 2]
    return float(z.max() - z.min())


def check_vacuum(atoms: Atoms) -> float:
    """Warn when the vacuum along z is thinner than the slab.

    Returns
    -------
    float
        Vacuum thickness along z, Å.
    """
    thickness = slab_thickness(atoms)
    vacuum = float(atoms.cell[2, 2]) - thickness
    if vacuum < thickness:
        warnings.warn(
            f"slab geometry: vacuum along z ({vacuum:.2f} Å) is thinner than the "
            f"slab ({thickness:.2f} Å); the Yeh-Berkowitz correction is applied in "
            "the cell as given, not in the 2D-periodic limit (pad the cell to >= 3x "
            "the thickness with constpot.qeq.pad_vacuum for that limit)",
            stacklevel=3,
        )
    return vacuum


def pad_vacuum(
    atoms: Atoms, factor: float | None = 3.0, vacuum: float | None = None
) -> Atoms:
    """Return a copy with vacuum along z, the atoms centred.

    Parameters
    ----------
    atoms : ase.Atoms
        Slab cell with c along z.
    factor : float, optional
        New cell length as a multiple of the slab thickness (default 3).
    vacuum : float, optional, Å
        Vacuum to add instead: new length = thickness + vacuum.

    Returns
    -------
    ase.Atoms
    """
    cell = atoms.cell.array
    if abs(cell[2, 0]) > 1e-8 or abs(cell[2, 1]) > 1e-8:
        raise QEqSetupError("pad_vacuum needs the third cell vector along z")
    thickness = slab_thickness(atoms)
    if vacuum is not None:
        if vacuum <= 0:
            raise QEqSetupError(f"vacuum must be > 0 Å, got {vacuum}")
        length = thickness + vacuum
    else:
        if factor is None or factor <= 1:
            raise QEqSetupError(f"factor must be > 1, got {factor}")
        length = factor * thickness
    out = atoms.copy()
    new_cell = cell.copy()
    new_cell[2] = [0.0, 0.0, length]
    out.set_cell(new_cell, scale_atoms=False)
    z = out.positions[:, 2]
    out.positions[:, 2] = z - z.min() + 0.5 * (length - thickness)
    return out
