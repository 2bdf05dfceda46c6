"""Reference MD of a free Li surface: the teacher's own 4-layer slab at 300 K.

Writes ``data/teacher_li100_slab_300K.extxyz``: the 36-atom, 4-layer
bcc(100) Li slab of ``benchmarks/slab_stability.py`` (3 × 3 cells at
:data:`constpot.build.lithium.LI_BCC_A_A`, 10 Å of vacuum on each side,
nothing frozen) run with the demo's reference method itself, SevenNet-0 +
D3(BJ) (``label.labeller: {kind: teacher}``), under Langevin dynamics at
300 K (1 fs, friction 0.01 /fs, Maxwell–Boltzmann velocities from seed 0,
thermostat seed 1), a frame every 10 fs with its energy and forces.

It is what the reference method says a free Li surface does at 300 K, the
yardstick of two checks:

- ``benchmarks/slab_stability.py --reference`` analyses it like a model's
  run (≥ 95 % of the atoms within 0.5 Å of a lattice site in every 1 ps
  block: the teacher keeps 100 %);
- ``benchmarks/electrode_membership.py --reference`` applies the
  metallic-Li rule to it at several cutoffs (the paper's 3.5 Å keeps each
  surface Li a member about half of the time).

Regenerate (about 4 min on one core; the first 200 steps reproduce the file
bit for bit; ``--steps 10000 --out /tmp/teacher_10ps.extxyz`` for 10 ps, about
30 min, then ``--reference /tmp/teacher_10ps.extxyz`` in either benchmark)::

    OMP_NUM_THREADS=1 python benchmarks/teacher_slab_md.py [--steps 1360]

``--surface 110`` runs a 48-atom, 4-layer Li(110) slab (3 × 2 rectangular
cells) instead; ``data/teacher_li110_slab_300K.extxyz`` is its 2 ps (``--steps
2000 --out data/teacher_li110_slab_300K.extxyz``, 17 min).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from ase import units
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from slab_stability import slab

from constpot.build.lithium import LI_BCC_A_A, SURFACES
from constpot.keys import TIME_FS
from constpot.label.labellers import make_labeller

OUT = Path("data/teacher_li100_slab_300K.extxyz")
EVERY = 10  # steps (fs) between frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1360)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--surface",
        choices=SURFACES,
        default="100",
        help="slab facet: 100 (3 x 3 cells, 36 atoms, the default and the "
        "committed file) or 110 (3 x 2 cells, 48 atoms)",
    )
    args = parser.parse_args()
    reps = (3, 3) if args.surface == "100" else (3, 2)
    atoms = slab(reps, 4, LI_BCC_A_A, surface=args.surface)
    atoms.calc = make_labeller({"kind": "teacher", "dispersion": "d3bj"}).calculator()
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(0))
    dyn = Langevin(
        atoms,
        1.0 * units.fs,
        temperature_K=300,
        friction=0.01 / units.fs,
        rng=np.random.default_rng(1),
    )
    frames = []

    def keep():
        frame = atoms.copy()
        frame.set_momenta(None)
        frame.info = {TIME_FS: float(EVERY * len(frames))}
        frame.calc = SinglePointCalculator(
            frame, energy=atoms.get_potential_energy(), forces=atoms.get_forces()
        )
        frames.append(frame)

    dyn.attach(keep, interval=EVERY)
    start = time.perf_counter()
    for done in range(0, args.steps, 100):
        dyn.run(min(100, args.steps - done))
        print(
            f"step {done + 100}/{args.steps}: T {atoms.get_temperature():.0f} K, "
            f"{time.perf_counter() - start:.0f} s",
            flush=True,
        )
    write(args.out, frames, format="extxyz")
    print(f"{len(frames)} frames -> {args.out}")


if __name__ == "__main__":
    main()
