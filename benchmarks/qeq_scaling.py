"""Charge-solver scaling: dense vs matrix-free CG (cold and warm) vs N.

Systems are cut from / replicated of the paper's example cell
(data/dpqeq_constp_example.POSCAR, 3070 atoms, normal rotated to z) under the
paper's constant potential (anode ψ = −6 V, counter ψ = +2 V), slab geometry.
Smaller cells keep the first fraction of the cell along y (atoms closer than
1 Å across the new periodic seam removed); larger ones replicate it in x and y.

For each N the table gives seconds per solve (best of ``--repeat`` wall times)
for

- dense: build kG and solve the bordered system (only while it fits),
- CG cold: a new solver from zero charges, to ``--tol`` (default 1e-6),
  including the whole geometry set-up (neighbour list, Ewald tables),
- CG warm: the same solver again after a 0.01 Å random displacement, from the
  previous charges, as in an MD step: the neighbour list (kept with a skin)
  and the cell's k-space tables are reused,

with CG iteration counts and the k-space method chosen (Ewald or PME).

CG is preconditioned by ``--preconditioner`` (default ``longrange``, the
matrix-free path that scales to 10⁵ atoms). The MD default up to 2048 atoms,
the reference Hessian kept along a trajectory (``auto``), pays off over many
steps, not in one solve: ``benchmarks/md_throughput.py`` measures it.

Run:  python benchmarks/qeq_scaling.py [--device cuda] [--max-dense 6200]
      [--preconditioner longrange|auto|reference|jacobi]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from ase.io import read

from constpot.io import frozen_mask
from constpot.qeq import (
    ChargeSolver,
    electrode_potentials,
    metallic_li,
    rotate_normal_to_z,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "dpqeq_constp_example.POSCAR"


def example_cell():
    atoms = read(EXAMPLE)
    frozen = frozen_mask(atoms)
    atoms = rotate_normal_to_z(atoms, "y")
    atoms.set_constraint()
    atoms.arrays["frozen"] = frozen
    return atoms


def crop_y(atoms, fraction: float):
    """Keep atoms with y < fraction·L_y, shrink the cell, clear the seam."""
    keep = atoms.positions[:, 1] < fraction * atoms.cell[1, 1]
    sub = atoms[keep]
    cell = sub.cell.array.copy()
    cell[1] *= fraction
    sub.set_cell(cell, scale_atoms=False)
    while True:
        d = sub.get_all_distances(mic=True)
        np.fill_diagonal(d, np.inf)
        i, j = np.unravel_index(np.argmin(d), d.shape)
        if d[i, j] >= 1.0:
            return sub
        del sub[max(i, j)]


def system(n_target: int, base):
    n0 = len(base)
    if n_target < n0:
        return crop_y(base, n_target / n0)
    reps = {1: (1, 1), 2: (2, 1), 4: (2, 2), 5: (5, 1)}[round(n_target / n0)]
    return base.repeat((*reps, 1))


def timed(fn, repeat: int = 1):
    """Result and the best wall time of ``repeat`` calls, s."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return out, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tol", type=float, default=1e-6)
    parser.add_argument("--max-dense", type=int, default=6200)
    parser.add_argument(
        "--preconditioner",
        default="longrange",
        choices=("longrange", "auto", "reference", "jacobi"),
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="best of this many calls per timing, for N <= 6200 (default 3)",
    )
    parser.add_argument(
        "--sizes",
        default="500,1000,2000,3070,6140,12280,15350",
        help="comma-separated target atom counts",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    base = example_cell()
    rng = np.random.default_rng(0)
    print(
        f"device {args.device}, torch threads {torch.get_num_threads()}, "
        f"CG tol {args.tol:g}, preconditioner {args.preconditioner}"
    )
    # Warm-up: first-call costs of torch and vesin are not the solver's.
    ChargeSolver(slab=True, compute_forces=False).solve(crop_y(base, 0.1))
    header = (
        f"{'N':>6} {'kspace':>6} {'dense s':>8} {'CG cold s':>9} "
        f"{'iters':>5} {'CG warm s':>9} {'iters':>5} {'dense/CG':>8} "
        f"{'max|Δq| e':>10}"
    )
    print(header)
    print("-" * len(header))
    for n_target in (int(s) for s in args.sizes.split(",")):
        atoms = system(n_target, base)
        labels = metallic_li(atoms, always=np.flatnonzero(atoms.arrays["frozen"]))
        psi = electrode_potentials(labels, -6.0, 2.0)
        options = dict(
            slab=True,
            method="cg",
            tol=args.tol,
            device=args.device,
            compute_forces=False,
            preconditioner=args.preconditioner,
        )
        rep = args.repeat if len(atoms) <= 6200 else 1
        cold, t_cold = timed(
            lambda: ChargeSolver(**options).solve(atoms, potential=psi),  # noqa: B023
            rep,
        )
        cg = ChargeSolver(**options)
        cg.solve(atoms, potential=psi)  # its neighbour list and tables
        moved = atoms.copy()
        moved.positions += rng.normal(scale=0.01, size=moved.positions.shape)
        warm, t_warm = timed(
            lambda: cg.solve(moved, potential=psi, guess=cold.charges),  # noqa: B023
            rep,
        )
        dense_s, ratio, dq = "-", "-", "-"
        if len(atoms) <= args.max_dense:
            dense = ChargeSolver(
                slab=True, method="dense", device=args.device, compute_forces=False
            )
            ref, t_dense = timed(
                lambda: dense.solve(atoms, potential=psi),  # noqa: B023
                rep,
            )
            dense_s = f"{t_dense:8.2f}"
            ratio = f"{t_dense / t_cold:8.1f}"
            dq = f"{np.abs(ref.charges - cold.charges).max():10.2e}"
        print(
            f"{len(atoms):>6} {cold.settings['kspace']:>6} {dense_s:>8} "
            f"{t_cold:9.2f} {cold.iterations:>5} {t_warm:9.2f} "
            f"{warm.iterations:>5} {ratio:>8} {dq:>10}",
            flush=True,
        )


if __name__ == "__main__":
    main()
