"""How hard does a Li(100) surface plane resist moving out, model against teacher?

A free Li surface relaxes by moving whole (100) planes. This benchmark moves
the two surface planes of an ideal 4-layer Li(100) film (3 × 3 cells, the
slab of ``benchmarks/slab_stability.py``) rigidly along the outward normal,
both by the same ``dz``, and prints at each ``dz`` the energy (relative to
``dz`` = 0) and the mean z force on the top plane and on the plane under it,
from the demo's teacher (SevenNet-0 + D3(BJ)) and from the trained hybrid
models (NequIP + QEq, constant charge). A model whose energy rises less than
the teacher's as the planes move out lets the film float outwards at 300 K.

Run from the repository root, after ``make run`` (models of the last
active-learning iteration, else ``results/train``)::

    OMP_NUM_THREADS=1 python benchmarks/surface_plane_scan.py \\
        [--models results/train/models/*/model.nequip.zip]

(Eleven teacher and model evaluations of 36 atoms: about a minute.)
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from slab_stability import _default_models, slab

from constpot.build.lithium import LI_BCC_A_A
from constpot.label.labellers import Labeller, make_labeller
from constpot.potential import HybridCalculator

#: The demo's teacher (config/config.yaml label.labeller).
TEACHER = {"kind": "teacher", "model": "7net-0", "dispersion": "d3bj"}
#: Rigid outward shifts of the surface planes, Å.
SHIFTS_A = np.round(np.arange(-0.2, 0.61, 0.1), 2)


def scan(calc, film, plane: np.ndarray, shifts) -> np.ndarray:
    """Rows (dz, E - E(dz=0) in eV, mean F_z of the top plane, of the plane
    under it, eV/Å) of ``calc`` (an ASE calculator or a labeller)."""
    top = plane.max()
    rows = []
    for dz in shifts:
        atoms = film.copy()
        atoms.positions[plane == top, 2] += dz
        atoms.positions[plane == 0, 2] -= dz
        if isinstance(calc, Labeller):
            lab = calc.label(atoms)
            energy, forces = lab.energy, lab.forces
        else:
            atoms.calc = calc
            energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        rows.append(
            (
                dz,
                energy,
                forces[plane == top, 2].mean(),
                forces[plane == top - 1, 2].mean(),
            )
        )
    rows = np.array(rows)
    rows[:, 1] -= rows[np.argmin(np.abs(rows[:, 0])), 1]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", help="model.nequip.zip files")
    args = parser.parse_args()
    models = args.models or _default_models()
    film = slab((3, 3), 4, LI_BCC_A_A)
    z = film.positions[:, 2]
    plane = np.round((z - z.min()) / (LI_BCC_A_A / 2)).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        teacher = scan(make_labeller(TEACHER), film, plane, SHIFTS_A)
        calc = HybridCalculator.from_models(
            models, anode_potential_V=None, electrodes="metallic", device="cpu"
        )
        model = scan(calc, film, plane, SHIFTS_A)
    print(f"4-layer Li(100) film, a = {LI_BCC_A_A} Å; models {models}")
    print(
        "dz Å   E teacher  E model eV   Fz top: teacher  model"
        "   Fz below: teacher  model"
    )
    for t, m in zip(teacher, model, strict=True):
        print(
            f"{t[0]:5.2f}  {t[1]:9.3f}  {m[1]:9.3f}       {t[2]:8.3f} {m[2]:6.3f}"
            f"            {t[3]:8.3f} {m[3]:6.3f}"
        )
    lo_t, lo_m = teacher[np.argmin(teacher[:, 1])], model[np.argmin(model[:, 1])]
    print(
        f"energy minimum at dz = {lo_t[0]:.1f} Å (teacher), {lo_m[0]:.1f} Å (models); "
        f"rise from it to dz = {SHIFTS_A[-1]:.1f} Å: {teacher[-1, 1] - lo_t[1]:.2f} eV "
        f"(teacher), {model[-1, 1] - lo_m[1]:.2f} eV (models)"
    )


if __name__ == "__main__":
    main()
