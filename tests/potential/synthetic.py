"""Small labelled frames for the potential-stage tests (no xTB needed).

Frames are tiny 3D-periodic cells of Li, F, O and H labelled by ASE's
Lennard-Jones calculator (energy, forces, stress), with "reference" charges
that are either random (targets tests) or the QEq charges of a known
parameter table (fit tests, where the fit must recover them).
"""

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.calculators.lj import LennardJones
from ase.calculators.singlepoint import SinglePointCalculator

CATEGORIES = ("lif", "li2o", "lioh")


def _cell(kind: str, rng) -> Atoms:
    if kind == "lif":
        atoms = bulk("LiF", "rocksalt", a=4.03, cubic=True)  # 8 atoms
    elif kind == "li2o":
        atoms = bulk("Li2O", "fluorite", a=4.61)  # 3 atoms, scaled below
        atoms = atoms.repeat((2, 1, 1))
        atoms.set_chemical_symbols(["O", "Li", "Li"] * 2)
    else:
        atoms = bulk("LiF", "rocksalt", a=4.03, cubic=True)
        symbols = atoms.get_chemical_symbols()
        symbols[symbols.index("F")] = "O"
        atoms.set_chemical_symbols(symbols)
        atoms += Atoms("H", positions=[atoms.positions[symbols.index("O")]])
        atoms.positions[-1] += [0.0, 0.0, 0.97]
    atoms.pbc = True
    atoms.positions += rng.normal(0.0, 0.05, atoms.positions.shape)
    return atoms


def labelled_frames(n_per_category: int = 4, seed: int = 0, charges=None):
    """Labelled frames with categories, total charge 0 and reference charges.

    Parameters
    ----------
    charges : callable, optional
        ``charges(atoms) -> (n,)`` reference charges; default random, neutral.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for cat in CATEGORIES:
        for _ in range(n_per_category):
            atoms = _cell(cat, rng)
            atoms.calc = LennardJones(sigma=0.9, epsilon=0.05, rc=4.0)
            energy = atoms.get_potential_energy()
            forces = atoms.get_forces()
            stress = atoms.get_stress()
            if charges is None:
                q = rng.normal(0.0, 0.3, len(atoms))
                q -= q.mean()
            else:
                q = charges(atoms)
            atoms.calc = SinglePointCalculator(
                atoms, energy=energy, forces=forces, stress=stress, charges=q
            )
            atoms.info["category"] = cat
            atoms.info["total_charge"] = 0
            frames.append(atoms)
    return frames
