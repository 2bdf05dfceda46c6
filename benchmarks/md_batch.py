"""Batched sweeps: the throughput of B runs of one system advanced together.

For each batch size B of ``--sizes`` the same cell is run B times at once with
:func:`constpot.md.batch.run_batch` (constp ψ = −6 V anode / +2 V counter,
each run its own seed, NVT 300 K, metallic-Li membership every 10 steps, QEq
every step to ``--tol`` from the ASPC prediction; one model call and one
charge solve per step for all B runs), after a 2-step warm-up. Reported per B:

- ``steps/s/run``: steps per second of each run;
- ``run-steps/s``: B × that, the sweep's throughput;
- ``speed-up``: run-steps/s over that of B = 1 (the issue's target: 4 runs at
  ≥ 3× one run's throughput, on a GPU);
- ``per round``: seconds per step of the whole batch, and ``CG it`` the mean
  CG iterations per step and run (the same as alone: each run's charge solve
  is its own).

On a CPU core the work of B runs is B times one run's, so the speed-up stays
near 1 (the frames go through the model one by one there:
:func:`~constpot.potential.batch.short_range_batch`): batching pays where one
call over B frames costs about what one frame does (a GPU below saturation).
A model compiled for ASE (``.nequip.pt2``) takes one frame per call and is
called frame by frame; pass the packaged model (``.nequip.zip``) to batch the
model call on a GPU.

Measured 2026-12-07 on the shared 2-core CPU, one torch thread
(OMP_NUM_THREADS=1), demo interface of 471 atoms, the demo's base model
(packaged, eager), 50 steps: B = 1, 2, 4 give 12.21, 12.53, 12.89 run-steps/s
(speed-up 1.03 and 1.06; 2.3 CG iterations per step and run in each).

Run:  python benchmarks/md_batch.py [--model PATH.nequip.zip] [--device cuda]
      [--cell demo|example] [--sizes 1 2 4] [--steps 50] [--tol 1e-6]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from ase.io import read
from md_throughput import DEMO, MODEL, example_cell


def _settings(n_steps: int, seed: int, dt_fs: float):
    from constpot.md import MDSettings

    return MDSettings(
        mode="constp",
        anode_potential_V=-6.0,
        counter_potential_V=2.0,
        charge_predictor={"method": "aspc", "order": 2},
        electrodes="metallic",
        electrode_every=10,
        traj_every=10,
        checkpoint_every=100,
        timestep_fs=dt_fs,
        max_force_eV_A=1e12,
        max_temperature_factor=1e12,
        seed=seed,
        n_steps=n_steps,
        log_every=10**6,
    )


def bench(atoms, factory, size: int, steps: int, dt_fs: float, walls: str) -> dict:
    """B = ``size`` runs together; returns the row of the table."""
    from constpot.md import read_thermo
    from constpot.md.batch import BatchRun, run_batch

    def runs(folder: Path, n_steps: int):
        out = []
        for k in range(size):
            s = _settings(n_steps, seed=k, dt_fs=dt_fs)
            s.walls = walls
            out.append(BatchRun(atoms.copy(), s, folder / f"constp_-6.0V_r{k}"))
        return out

    quiet = lambda line: None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_batch(runs(Path(tmp) / "warm", 2), factory, log=quiet)
        start = time.perf_counter()
        outcomes = run_batch(runs(Path(tmp) / "timed", steps), factory, log=quiet)
        wall = time.perf_counter() - start
        bad = [o for o in outcomes if not isinstance(o, dict)]
        if bad:
            raise RuntimeError(f"a run of the batch failed: {bad[0]!r}")
        cg = [
            read_thermo(Path(tmp) / "timed" / f"constp_-6.0V_r{k}" / "thermo.csv")[
                "cg_iterations"
            ][1:]
            for k in range(size)
        ]
    per_run = steps / wall
    return {
        "B": size,
        "steps_per_s_run": per_run,
        "run_steps_per_s": size * per_run,
        "round_s": wall / (steps + 1),
        "cg": float(np.mean(np.concatenate(cg))),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help=f"packaged NequIP model (default {MODEL})")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--cell", default="demo", choices=("demo", "example"))
    p.add_argument("--demo", default=str(DEMO), help="demo interface extxyz")
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--tol", type=float, default=1e-6, help="CG tolerance")
    p.add_argument(
        "--timestep-fs",
        type=float,
        default=1.0,
        help="MD step (a stand-in model may need a small one to stay intact)",
    )
    args = p.parse_args(argv)
    from ase.calculators.lj import LennardJones

    from constpot.potential import HybridCalculator
    from constpot.potential.nequip_io import load_calculator
    from constpot.potential.settings import QEqSettings

    model = args.model or (str(MODEL) if MODEL.is_file() else None)
    device = args.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    if model is not None:
        members = [load_calculator(model, device=device)]
        qeq = QEqSettings.read(Path(model).parent / "qeq.json")
        short = "NequIP" + (" compiled" if model.endswith(".pt2") else "")
    else:
        members = [LennardJones(sigma=2.0, epsilon=0.01, rc=5.0, smooth=True)]
        qeq, short = None, "LJ"

    def factory():
        return HybridCalculator(
            members, qeq, slab=True, method="cg", tol=args.tol, device=device
        )

    if args.cell == "demo":
        atoms, walls = read(args.demo), "molecules"
    else:
        atoms, walls = example_cell(), "none"
    print(
        f"cell {args.cell} ({len(atoms)} atoms), {short}, device {device}, "
        f"{args.steps} steps, tol {args.tol:g}"
    )
    rows = [
        bench(atoms, factory, b, args.steps, args.timestep_fs, walls)
        for b in args.sizes
    ]
    one = next((r for r in rows if r["B"] == 1), None)
    print(
        f"{'B':>3} {'steps/s/run':>12} {'run-steps/s':>12} {'speed-up':>9} "
        f"{'s/round':>8} {'CG it':>6}"
    )
    for r in rows:
        gain = r["run_steps_per_s"] / one["run_steps_per_s"] if one else float("nan")
        print(
            f"{r['B']:>3} {r['steps_per_s_run']:>12.2f} {r['run_steps_per_s']:>12.2f} "
            f"{gain:>9.2f} {r['round_s']:>8.3f} {r['cg']:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
