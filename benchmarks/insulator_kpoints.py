"""How coarse may the k-point grid of a frame without metal be?

Labels rattled (0.05 Å, seed 0) cubic cells of LiF (8 atoms) and Li₂O
(12 atoms), tagged SEI, with ``config/paper.yaml``'s GPAW labeller at
several spacings of ``kpt_spacing_insulator_inv_A`` and prints, against the
metal's 0.2 Å⁻¹, the energy per atom, the largest force and charge change,
and the wall time (docs/labels.md, "Frames without metal").

Run from the repository root (GPAW and dftd3 installed; about 15 min of one
core)::

    OMP_NUM_THREADS=1 python benchmarks/insulator_kpoints.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from ase.build import bulk

from constpot.keys import REGION, SEI_REGION
from constpot.label.labellers import make_labeller

#: config/paper.yaml's labeller, without the insulator spacing.
LABELLER = {"kind": "gpaw", "kpt_spacing_inv_A": 0.2}
SPACINGS = (0.5, 0.35, 0.2)


def main() -> None:
    rng = np.random.default_rng(0)
    cells = {
        "LiF": bulk("LiF", "rocksalt", a=4.036, cubic=True),
        "Li2O": bulk("OLi2", "fluorite", a=4.61, cubic=True),
    }
    print("cell   spacing  grid      dE meV/atom  max|dF| meV/A  max|dq| e  time s")
    for name, atoms in cells.items():
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        atoms.set_array(REGION, np.array([SEI_REGION] * len(atoms)))
        labels, seconds = {}, {}
        for spacing in SPACINGS:
            labeller = make_labeller(
                {**LABELLER, "kpt_spacing_insulator_inv_A": spacing}
            )
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                labels[spacing] = labeller.label(atoms)
            seconds[spacing] = time.perf_counter() - start
        ref = labels[0.2]
        for spacing in SPACINGS:
            lab = labels[spacing]
            grid = " × ".join(map(str, lab.settings["kpts"]))
            print(
                f"{name:5s}  {spacing:5.2f}   {grid:9s} "
                f"{1000 * (lab.energy - ref.energy) / len(atoms):+8.2f}   "
                f"{1000 * np.abs(lab.forces - ref.forces).max():10.1f}   "
                f"{np.abs(lab.charges - ref.charges).max():9.4f}  "
                f"{seconds[spacing]:6.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
