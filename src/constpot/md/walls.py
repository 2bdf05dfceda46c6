"""Flat-bottomed harmonic walls that keep the electrolyte between two planes.

The builder marks two planes normal to z (``wall_lower_A``, ``wall_upper_A`` in
``atoms.info``) halfway across the gaps that separate the electrolyte from the
SEI (or anode) below and the counter electrode above. A confined atom at height
z feels

.. math::

    U(z) = \\tfrac12 k\\,(z_\\text{lo} - z)^2 \\;[z < z_\\text{lo}]
         + \\tfrac12 k\\,(z - z_\\text{hi})^2 \\;[z > z_\\text{hi}],

zero in between. The walls are an ASE constraint that adds U to the potential
energy (``adjust_potential_energy``) and −dU/dz to the forces
(``adjust_forces``), so they are a proper term of the Hamiltonian and NVE runs
conserve the total energy including them. Positions are used as stored
(unwrapped along z: slab cells are not periodic along the normal in practice).

Which atoms are confined is the caller's choice (:func:`wall_indices`): by
default the electrolyte's molecules (solvent and anions) but not its free Li⁺
ions, which may cross towards the anode, where the paper sees them deposit.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from ..keys import ELECTROLYTE_REGION, MOLECULE, REGION

__all__ = ["WALL_ATOMS", "HarmonicWalls", "wall_indices"]

#: Choices of confined atoms (see :func:`wall_indices`).
WALL_ATOMS = ("molecules", "electrolyte", "none")


def wall_indices(atoms: Atoms, which: str = "molecules") -> np.ndarray:
    """Indices of the atoms the walls act on.

    Parameters
    ----------
    atoms : ase.Atoms
        A built interface with per-atom ``region`` (and ``molecule``) arrays.
    which : {"molecules", "electrolyte", "none"}
        ``"molecules"``: electrolyte atoms that belong to a molecule or
        polyatomic ion (``molecule`` not ``"Li"``), so Li⁺ ions are free to
        reach the SEI and the anode; ``"electrolyte"``: every atom of the
        electrolyte region; ``"none"``: no atom.

    Returns
    -------
    (n_confined,) int ndarray

    Raises
    ------
    ValueError
        Unknown ``which``, or the arrays it needs are missing.
    """
    if which not in WALL_ATOMS:
        raise ValueError(f"walls must be one of {WALL_ATOMS}, got {which!r}")
    if which == "none":
        return np.zeros(0, dtype=np.int64)
    if REGION not in atoms.arrays:
        raise ValueError(
            f"walls={which!r} needs the per-atom '{REGION}' array of a built "
            "interface (constpot build); use walls='none' for other structures"
        )
    mask = atoms.arrays[REGION] == ELECTROLYTE_REGION
    if which == "molecules":
        if MOLECULE not in atoms.arrays:
            raise ValueError(f"walls='molecules' needs the per-atom '{MOLECULE}' array")
        mask &= atoms.arrays[MOLECULE] != "Li"
    return np.flatnonzero(mask)


class HarmonicWalls:
    """Flat-bottomed harmonic walls along z as an ASE constraint.

    Parameters
    ----------
    indices : (n_confined,) array_like of int
        Atoms the walls act on.
    lower_A, upper_A : float, Å
        Heights of the lower and upper planes (``lower_A < upper_A``).
    spring_eV_A2 : float, eV/Å²
        Spring constant k (> 0).

    Examples
    --------
    >>> walls = HarmonicWalls([0, 1], 10.0, 20.0, 5.0)
    >>> atoms.set_constraint([walls])                   # doctest: +SKIP
    """

    def __init__(self, indices, lower_A: float, upper_A: float, spring_eV_A2: float):
        self.index = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.lower_A = float(lower_A)
        self.upper_A = float(upper_A)
        self.spring_eV_A2 = float(spring_eV_A2)
        if not (np.isfinite(self.lower_A) and np.isfinite(self.upper_A)):
            raise ValueError("wall planes lower_A and upper_A must be finite")
        if self.lower_A >= self.upper_A:
            raise ValueError(
                f"wall planes need lower_A < upper_A, got {self.lower_A} and "
                f"{self.upper_A} Å"
            )
        if not self.spring_eV_A2 > 0:
            raise ValueError(
                f"wall spring_eV_A2 must be > 0 eV/Å², got {self.spring_eV_A2}"
            )

    def _excess(self, positions: np.ndarray) -> np.ndarray:
        """Signed penetration z − plane beyond each wall (0 inside), Å."""
        z = positions[self.index, 2]
        return np.where(
            z < self.lower_A,
            z - self.lower_A,
            np.where(z > self.upper_A, z - self.upper_A, 0.0),
        )

    # ------------------------------------------------ ASE constraint protocol
    def adjust_positions(self, atoms: Atoms, new: np.ndarray) -> None:
        """Walls are soft: positions are not changed."""

    def adjust_momenta(self, atoms: Atoms, momenta: np.ndarray) -> None:
        """Walls are soft: momenta are not changed."""

    def adjust_forces(self, atoms: Atoms, forces: np.ndarray) -> None:
        """Add the wall force −dU/dz = −k·(penetration) in place, eV/Å."""
        if self.index.size:
            forces[self.index, 2] -= self.spring_eV_A2 * self._excess(atoms.positions)

    def adjust_potential_energy(self, atoms: Atoms) -> float:
        """Wall energy U, eV."""
        return self.energy(atoms.positions)

    def energy(self, positions: np.ndarray) -> float:
        """Wall energy U (eV) of ``positions`` ((n_atoms, 3) ndarray, Å)."""
        if not self.index.size:
            return 0.0
        excess = self._excess(np.asarray(positions))
        return float(0.5 * self.spring_eV_A2 * np.sum(excess**2))

    def get_removed_dof(self, atoms: Atoms) -> int:
        return 0

    def index_shuffle(self, atoms: Atoms, ind) -> None:
        """Keep the confined atoms when ``atoms[ind]`` is taken."""
        ind = np.arange(len(atoms))[ind]
        keep = np.flatnonzero(np.isin(ind, self.index))
        if not keep.size:
            raise IndexError("no confined atom left")
        self.index = keep

    def todict(self) -> dict:
        return {
            "name": type(self).__name__,
            "kwargs": {
                "indices": self.index.tolist(),
                "lower_A": self.lower_A,
                "upper_A": self.upper_A,
                "spring_eV_A2": self.spring_eV_A2,
            },
        }

    def __repr__(self) -> str:
        return (
            f"HarmonicWalls({self.index.size} atoms, {self.lower_A:.3f}.."
            f"{self.upper_A:.3f} Å, k={self.spring_eV_A2} eV/Å²)"
        )
