"""Checks of what a charge solve is given, at the boundary.

Periodicity, devices and per-atom arrays (the messages name the argument or
the atom index), and the warning on implausible solved charges.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from ase import Atoms

from .errors import QEqSetupError

__all__ = [
    "IMPLAUSIBLE_CHARGE_E",
    "check_pbc",
    "override",
    "per_atom_values",
    "resolve_device",
    "warn_implausible",
]

#: |q| (e) above which a solved charge is reported as implausible. Measured on
#: the released example cell (3070 atoms, paper table): every |q| < 0.95 e at
#: the paper's −6/+2 V; at ±50 V 430 atoms exceed 2 e (up to 5.5 e).
IMPLAUSIBLE_CHARGE_E = 2.0


def check_pbc(atoms: Atoms, slab: bool) -> None:
    """Fully periodic cells, or ASE slabs ``pbc=(True, True, False)`` with ``slab``."""
    pbc = tuple(bool(p) for p in atoms.pbc)
    if pbc == (True, True, True):
        return
    if pbc == (True, True, False):
        if not slab:
            raise QEqSetupError(
                "atoms.pbc = (True, True, False) is a slab: use "
                "ChargeSolver(slab=True) (x, y periodic, normal z)"
            )
        if np.linalg.norm(atoms.cell.array[2]) == 0:
            raise QEqSetupError(
                "slab with pbc=(True, True, False) has no third cell vector: set "
                "L_z with vacuum (atoms.center(vacuum=..., axis=2) or "
                "constpot.qeq.pad_vacuum)"
            )
        return
    raise QEqSetupError(
        f"constpot.qeq needs a periodic cell (pbc all True, got {list(pbc)}); for "
        "slabs set slab=True with pbc all True or (True, True, False)"
    )


def warn_implausible(charges: np.ndarray, free: np.ndarray, atoms: Atoms) -> None:
    """Warn when a solved charge is beyond ±``IMPLAUSIBLE_CHARGE_E``.

    Only the ``free`` (solved) atoms: fixed charges are the caller's choice.
    """
    if not len(free):
        return
    solved = np.abs(charges[free])
    worst = int(free[np.argmax(solved)])
    if solved.max() > IMPLAUSIBLE_CHARGE_E:
        n_bad = int(np.count_nonzero(solved > IMPLAUSIBLE_CHARGE_E))
        warnings.warn(
            f"implausible charges: {n_bad} atom(s) beyond ±{IMPLAUSIBLE_CHARGE_E:g} "
            f"e, largest {charges[worst]:+.2f} e on atom index {worst} "
            f"({atoms.symbols[worst]}); QEq charges are unbounded, so applied "
            "potentials of tens of volts push them past any oxidation state",
            stacklevel=3,
        )


def resolve_device(device) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise QEqSetupError(f"device {device!r} requested but CUDA is not available")
    return dev


def per_atom_values(values, name: str, n: int) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.shape != (n,):
        raise QEqSetupError(f"{name} must have shape ({n},), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise QEqSetupError(f"{name} has non-finite values")
    return arr


def override(default: np.ndarray, values, name: str, n: int) -> np.ndarray:
    return default if values is None else per_atom_values(values, name, n)
