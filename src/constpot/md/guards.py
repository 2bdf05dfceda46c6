"""Blow-up guards: stop a run before it writes nonsense.

After every step the driver checks, in this order,

1. geometry: no non-finite position, and no pair of atoms closer than
   ``min_distance_A`` (0.5 Å; any chemical bond is longer);
2. energy and forces: finite, and no atomic force above ``max_force_eV_A``;
3. temperature: below ``max_temperature_factor`` (5) × the target.

A failed check raises :class:`MDGuardError`, which names the step, the reason
and the atoms involved (indices and symbols). A force evaluation that fails
(atoms so close that the charge solver refuses them) is checked for overlaps
first, so it stops the run as the geometry guard would. The driver catches nothing: it
writes the last good frame and checkpoint first, then lets the error out; the
CLI turns it into exit status 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from vesin import NeighborList

from ..errors import GuardStop

__all__ = [
    "GuardLimits",
    "MDGuardError",
    "check_forces",
    "check_geometry",
    "check_temperature",
]


class MDGuardError(GuardStop):
    """A run stopped by a guard (a :class:`constpot.errors.GuardStop`: exit 3).

    Attributes
    ----------
    step : int
        MD step at which the check failed.
    reason : str
        ``"overlap"``, ``"nan"``, ``"force"`` or ``"temperature"``.
    atoms : list of int
        Indices of the atoms involved (may be empty for a global quantity).
    """

    def __init__(self, message: str, step: int, reason: str, atoms=()):
        super().__init__(message)
        self.step = int(step)
        self.reason = reason
        self.atoms = [int(i) for i in atoms]


@dataclass(frozen=True)
class GuardLimits:
    """Thresholds of the guards.

    Parameters
    ----------
    min_distance_A : float, Å
        Closest allowed pair distance (0.5).
    max_force_eV_A : float, eV/Å
        Largest allowed force on one atom (50).
    max_temperature_factor : float
        Largest allowed T / T_target (5).
    """

    min_distance_A: float = 0.5
    max_force_eV_A: float = 50.0
    max_temperature_factor: float = 5.0

    def __post_init__(self):
        for name in ("min_distance_A", "max_force_eV_A", "max_temperature_factor"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"guard {name} must be a number > 0, got {value}")


#: Neighbour-search radius of the overlap guard, Å (see check_geometry).
_SEARCH_A = 3.0


def _describe(atoms: Atoms, idx) -> str:
    symbols = atoms.get_chemical_symbols()
    return ", ".join(f"{int(i)} ({symbols[int(i)]})" for i in idx)


def check_geometry(atoms: Atoms, step: int, min_distance_A: float) -> None:
    """Raise :class:`MDGuardError` on non-finite positions or overlapping atoms.

    Parameters
    ----------
    atoms : ase.Atoms
        Periodic cell (minimum-image distances).
    step : int
        Step number, for the message.
    min_distance_A : float, Å
        Pairs strictly closer than this fail.
    """
    pos = atoms.positions
    bad = np.flatnonzero(~np.isfinite(pos).all(axis=1))
    if bad.size:
        raise MDGuardError(
            f"step {step}: non-finite positions of atoms {_describe(atoms, bad[:10])}",
            step,
            "nan",
            bad[:10],
        )
    # vesin's cell list is slow for cutoffs much shorter than the cell (many
    # near-empty cells): search to 3 Å and filter.
    nl = NeighborList(cutoff=max(float(min_distance_A), _SEARCH_A), full_list=False)
    i, j, d = nl.compute(
        points=pos,
        box=atoms.cell.array,
        periodic=bool(np.all(atoms.pbc)),
        quantities="ijd",
    )
    close = d < min_distance_A
    if np.any(close):
        k = int(np.argmin(np.where(close, d, np.inf)))
        pair = (int(i[k]), int(j[k]))
        raise MDGuardError(
            f"step {step}: atoms {_describe(atoms, pair)} are {d[k]:.3f} Å apart "
            f"(closer than {min_distance_A} Å; {int(close.sum())} such pairs)",
            step,
            "overlap",
            pair,
        )


def check_forces(
    atoms: Atoms,
    step: int,
    energy: float,
    forces: np.ndarray,
    max_force_eV_A: float,
) -> None:
    """Raise :class:`MDGuardError` on a non-finite energy or a too large force.

    Parameters
    ----------
    energy : float, eV
    forces : (n_atoms, 3) ndarray, eV/Å
    max_force_eV_A : float, eV/Å
    """
    bad = np.flatnonzero(~np.isfinite(forces).all(axis=1))
    if bad.size or not np.isfinite(energy):
        raise MDGuardError(
            f"step {step}: non-finite energy ({energy}) or forces"
            + (f" on atoms {_describe(atoms, bad[:10])}" if bad.size else ""),
            step,
            "nan",
            bad[:10],
        )
    norm = np.linalg.norm(forces, axis=1)
    big = np.flatnonzero(norm > max_force_eV_A)
    if big.size:
        worst = big[np.argsort(norm[big])[::-1][:10]]
        raise MDGuardError(
            f"step {step}: force {norm[worst[0]]:.1f} eV/Å above the limit "
            f"{max_force_eV_A} eV/Å on atoms {_describe(atoms, worst)}",
            step,
            "force",
            worst,
        )


def check_temperature(
    atoms: Atoms, step: int, temperature_K: float, limit_K: float
) -> None:
    """Raise :class:`MDGuardError` when ``temperature_K`` exceeds ``limit_K``.

    The message names the ten fastest atoms (largest kinetic energy).
    """
    if np.isfinite(temperature_K) and temperature_K <= limit_K:
        return
    ke = 0.5 * np.sum(atoms.get_velocities() ** 2, axis=1) * atoms.get_masses()
    hot = np.argsort(ke)[::-1][:10]
    raise MDGuardError(
        f"step {step}: temperature {temperature_K:.0f} K above the limit "
        f"{limit_K:.0f} K; hottest atoms {_describe(atoms, hot)}",
        step,
        "temperature",
        hot,
    )
