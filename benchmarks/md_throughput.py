"""MD throughput: steps/s and ns/day, split into NequIP, QEq, neighbour list, I/O.

Cells:

- ``demo``: a built demo interface (default
  results/build/mosaic_amorphous/interface.extxyz, 537 atoms), walls on;
- ``example``: the paper's released cell (data/dpqeq_constp_example.POSCAR,
  3070 atoms, normal y rotated to z as ``constpot qeq --normal y`` does, frozen
  atoms from its Selective dynamics), no walls.

Each is run with :func:`constpot.md.run` for ``--steps`` steps (NVT 300 K,
1 fs, constp ψ = −6 V anode / +2 V counter, metallic-Li membership every 10
steps, QEq every step, CG warm-started to ``--tol``), after a 2-step warm-up on
the same calculator (model loading, first solve and allocations not timed).
The columns are seconds per step spent in

- ``nequip``: the short-range model (its own neighbour list included);
- ``qeq``: the charge solve (Ewald/PME set-up and its real-space neighbour
  list included) and the QEq forces;
- ``nlist``: the driver's neighbour searches (metallic-Li membership, the
  0.5 Å overlap guard);
- ``io``: trajectory frames (every 10 steps), thermo rows, checkpoints
  (every 100 steps);
- ``other``: integrator, constraints, guards and bookkeeping;

and ns/day = steps/s × 1 fs × 86400 s/day / 10⁶ fs/ns (the demo's 1 fs step,
whatever ``--timestep-fs`` the timing run used: an untrained stand-in model can
be timed with a tiny step that keeps the structure intact). The guards'
force and temperature limits are lifted: this measures cost, not physics.

Run:  python benchmarks/md_throughput.py [--model PATH.nequip.zip]
      [--device cuda] [--steps 50] [--cells demo example]
Without a model (none at the default path) the short range is a Lennard-Jones
stand-in and the ``nequip`` column is labelled ``LJ``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from ase.io import read

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "dpqeq_constp_example.POSCAR"
DEMO = ROOT / "results" / "build" / "mosaic_amorphous" / "interface.extxyz"
MODEL = ROOT / "results" / "train" / "models" / "0" / "model.nequip.zip"


def example_cell():
    from constpot.io import frozen_mask
    from constpot.keys import FROZEN
    from constpot.qeq import rotate_normal_to_z

    atoms = read(EXAMPLE)
    frozen = frozen_mask(atoms)
    atoms = rotate_normal_to_z(atoms, "y")
    atoms.set_constraint()
    atoms.arrays[FROZEN] = frozen
    return atoms


def make_calc(model, device: str, tol: float):
    from ase.calculators.lj import LennardJones

    from constpot.potential import HybridCalculator

    options = {"slab": True, "method": "cg", "tol": tol}
    if model is not None:
        return HybridCalculator.from_models([model], device=device, **options), "NequIP"
    lj = LennardJones(sigma=2.0, epsilon=0.01, rc=5.0, smooth=True)
    return HybridCalculator(lj, device=device, **options), "LJ"


def bench(name: str, atoms, calc, steps: int, walls: str, dt_fs: float) -> dict:
    from constpot.md import MDSettings, run

    settings = dict(
        mode="constp",
        anode_potential_V=-6.0,
        counter_potential_V=2.0,
        electrodes="metallic",
        electrode_every=10,
        traj_every=10,
        checkpoint_every=100,
        walls=walls,
        timestep_fs=dt_fs,
        max_force_eV_A=1e12,
        max_temperature_factor=1e12,
        seed=0,
        log_every=10**6,
    )
    quiet = {"progress": False, "log": lambda line: None}
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(atoms, calc, MDSettings(n_steps=2, **settings), Path(tmp) / "w", **quiet)
        calc.guess = None
        start = time.perf_counter()
        summary = run(
            atoms, calc, MDSettings(n_steps=steps, **settings), Path(tmp) / "r", **quiet
        )
        wall = time.perf_counter() - start
    t = summary["timings_this_session_s"]
    n = steps + 1  # step 0 is evaluated and written too
    row = {
        "cell": name,
        "atoms": len(atoms),
        "steps_per_s": steps / wall,
        "ns_per_day": steps / wall * 1.0 * 86400 / 1e6,
        "nequip": t["short_range"] / n,
        "qeq": t["qeq"] / n,
        "nlist": t["neighbour_list"] / n,
        "io": t["io"] / n,
        "cg": summary["cg_iterations_mean"],
    }
    row["other"] = wall / n - row["nequip"] - row["qeq"] - row["nlist"] - row["io"]
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", help=f"packaged NequIP model (default {MODEL})")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--tol", type=float, default=1e-6, help="CG tolerance")
    p.add_argument(
        "--timestep-fs",
        type=float,
        default=1.0,
        help="time step of the timing runs (ns/day always quoted at 1 fs)",
    )
    p.add_argument("--demo", default=str(DEMO), help="demo interface extxyz")
    p.add_argument(
        "--cells", nargs="+", default=["demo", "example"], choices=("demo", "example")
    )
    args = p.parse_args(argv)
    model = args.model or (str(MODEL) if MODEL.is_file() else None)
    calc, short = make_calc(model, args.device, args.tol)
    threads = torch.get_num_threads()
    print(
        f"device {args.device}, torch threads {threads} "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), "
        f"short range {short}{'' if model is None else ': ' + model}, "
        f"{args.steps} steps of {args.timestep_fs:g} fs, CG tol {args.tol:g}"
    )
    rows = []
    for name in args.cells:
        if name == "demo":
            atoms, walls = read(args.demo), "molecules"
        else:
            atoms, walls = example_cell(), "none"
        rows.append(bench(name, atoms, calc, args.steps, walls, args.timestep_fs))
        print(f"  {name}: done", flush=True)
    cols = ("nequip", "qeq", "nlist", "io", "other")
    head = f"{'cell':<8}{'atoms':>6}{'steps/s':>9}{'ns/day':>8}"
    head += "".join(f"{(short if c == 'nequip' else c) + ' ms':>11}" for c in cols)
    print(head + f"{'CG it':>7}")
    for r in rows:
        line = f"{r['cell']:<8}{r['atoms']:>6}{r['steps_per_s']:>9.2f}"
        line += f"{r['ns_per_day']:>8.4f}"
        line += "".join(f"{1000 * r[c]:>11.1f}" for c in cols)
        print(line + f"{r['cg']:>7.1f}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
