"""MD throughput: steps/s and ns/day, split into NequIP, QEq, neighbour list, I/O.

Cells:

- ``demo``: a built demo interface (default
  results/build/mosaic_amorphous/interface.extxyz, 537 atoms), walls on;
- ``example``: the paper's released cell (data/dpqeq_constp_example.POSCAR,
  3070 atoms, normal y rotated to z as ``constpot qeq --normal y`` does, frozen
  atoms from its Selective dynamics), no walls.

Each is run with :func:`constpot.md.run` for ``--steps`` steps (NVT 300 K,
1 fs, constp ψ = −6 V anode / +2 V counter, metallic-Li membership every 10
steps, QEq every step, CG to ``--tol``), after a 2-step warm-up on the same
calculator (model loading, first solve and allocations not timed), once per
charge predictor of ``--predictors`` (``md.charge_predictor``: where each
step's CG starts; ``previous`` is the last step's charges, ``aspc:2`` Kolafa's
predictor of order 2, ``polynomial:3`` a cubic extrapolation; see
:mod:`constpot.potential.predictor`). The columns are seconds per step spent in

- ``nequip``: the short-range model (its own neighbour list included);
- ``qeq``: the charge solve (Ewald/PME set-up and its real-space neighbour
  list included) and the QEq forces; split below the table into its fixed
  part per step (``set-up``: operator, preconditioner and reference norm;
  ``forces``; the part of ``solve`` not proportional to the iterations: the
  first and the true residual) and ``ms/it``, the cost of one CG iteration
  (the slope of a straight-line fit of each step's ``solve`` time against its
  CG iterations);
- ``nlist``: the driver's neighbour searches (metallic-Li membership, the
  0.5 Å overlap guard);
- ``io``: trajectory frames (every 10 steps), thermo rows, checkpoints
  (every 100 steps);
- ``other``: integrator, constraints, guards and bookkeeping;

and ns/day = steps/s × 1 fs × 86400 s/day / 10⁶ fs/ns (the demo's 1 fs step,
whatever ``--timestep-fs`` the timing run used: an untrained stand-in model can
be timed with a tiny step that keeps the structure intact). ``CG it`` is the
mean number of CG iterations per step (steps 1 to ``--steps``): the robust
number on a shared machine, where the times are noisy. The guards' force and
temperature limits are lifted: this measures cost, not physics.

With ``--drift-steps N`` each cell and predictor also runs N steps of NVE
(velocity Verlet, static electrodes: H = K + E_short + Ω + U_walls is then a
constant of motion) and reports the drift of H: the slope of a straight-line
fit of H(t), and the largest |H(t) − H(0)|, per atom (meV/atom/ps, meV/atom).
Equal drifts say that the predictor costs no energy conservation at ``--tol``.

Measured on the shared 2-core CPU (OMP_NUM_THREADS=1; times noisy, iteration
counts robust), demo interface of 476 atoms, a demo NequIP model, CG tol 1e-6,
200 NVT steps: CG iterations per step 9.28 from the previous charges, 7.54 with
``aspc:2`` (QEq 96.6 → 91.2 ms/step: on the CPU the per-step set-up of the
Ewald sums and the QEq forces, ~60 ms, outweighs the ~3 ms of each iteration);
500 NVE steps: 9.01 → 6.07 (``aspc:2``), 4.99 (``polynomial:3``), drift
−0.144 meV/atom/ps with each (tol 1e-7: 11.07 → 8.15, 7.15; −0.133).
The preconditioner (``--preconditioner``, ``md.preconditioner``), 2026-12-07,
demo interface of 471 atoms, the demo's iteration-1 model (not compiled),
aspc:2, tol 1e-6, 300 NVT and 500 NVE steps: ``longrange`` 8.40 CG
iterations per NVT step, QEq 27.6 ms/step, NVE 7.24 iterations, drift
−0.225 meV/atom/ps; ``auto`` (the reference Hessian) 2.24 iterations, QEq
23.0 ms/step, NVE 1.85 iterations, drift −0.201 meV/atom/ps. Charges in
float32 (``--qeq-dtype float32``, tol 2e-5, 100 NVT and 500 NVE steps): the
same drift as float64 at that tolerance, −0.267 meV/atom/ps for both (1.10
CG iterations per NVE step), QEq 19.2 against 21.7 ms/step on the CPU.

Run:  python benchmarks/md_throughput.py [--model PATH.nequip.zip]
      [--device cuda] [--steps 50] [--cells demo example]
      [--predictors previous aspc:2] [--drift-steps 500]
      [--preconditioner auto|reference|longrange|jacobi] [--qeq-dtype float32]
      [--check-every 4]
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


def _timed_calculator_class():
    from constpot.potential import HybridCalculator

    class TimedCalculator(HybridCalculator):
        """Keeps each solving call's QEq phase times (s) and CG iterations."""

        def calculate(self, *args, **kwargs):
            super().calculate(*args, **kwargs)
            r = self.results
            if r["qeq_solved"]:
                self.phases.append(
                    (
                        r["cg_iterations"],
                        r["qeq_setup_seconds"],
                        r["qeq_cg_seconds"],
                        r["qeq_forces_seconds"],
                    )
                )

    return TimedCalculator


def make_calc(
    model,
    device: str,
    tol: float,
    preconditioner: str = "auto",
    qeq_dtype="float64",
    check_every: int = 1,
):
    from ase.calculators.lj import LennardJones

    timed = _timed_calculator_class()
    options = {
        "slab": True,
        "method": "cg",
        "tol": tol,
        "solver_options": {
            "preconditioner": preconditioner,
            "dtype": getattr(torch, qeq_dtype),
            "check_every": check_every,
        },
    }
    if model is not None:
        calc, short = timed.from_models([model], device=device, **options), "NequIP"
    else:
        lj = LennardJones(sigma=2.0, epsilon=0.01, rc=5.0, smooth=True)
        calc, short = timed(lj, device=device, **options), "LJ"
    calc.phases = []
    return calc, short


def parse_predictor(text: str) -> dict:
    """``"aspc:2"`` -> ``{"method": "aspc", "order": 2}`` (order 2 if none)."""
    method, _, order = text.partition(":")
    return {"method": method, "order": int(order or 2)}


def bench(
    name: str,
    atoms,
    calc,
    steps: int,
    walls: str,
    dt_fs: float,
    predictor: dict,
    ensemble: str = "nvt",
) -> dict:
    """One timed run; NVE runs keep the electrodes of step 0 (H conserved)."""
    from constpot.md import MDSettings, read_thermo, run

    settings = dict(
        mode="constp",
        anode_potential_V=-6.0,
        counter_potential_V=2.0,
        ensemble=ensemble,
        charge_predictor=predictor,
        electrodes="metallic" if ensemble == "nvt" else "static",
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
        calc.phases = []
        start = time.perf_counter()  # a fresh run starts cold: no warm-up charges
        summary = run(
            atoms, calc, MDSettings(n_steps=steps, **settings), Path(tmp) / "r", **quiet
        )
        wall = time.perf_counter() - start
        thermo = read_thermo(Path(tmp) / "r" / "thermo.csv")
    t = summary["timings_this_session_s"]
    n = steps + 1  # step 0 is evaluated and written too
    h_per_atom = (thermo["conserved_eV"] - thermo["conserved_eV"][0]) / len(atoms)
    row = {
        "cell": name,
        "predictor": f"{predictor['method']}:{predictor['order']}",
        "atoms": len(atoms),
        "steps_per_s": steps / wall,
        "ns_per_day": steps / wall * 1.0 * 86400 / 1e6,
        "nequip": t["short_range"] / n,
        "qeq": t["qeq"] / n,
        "nlist": t["neighbour_list"] / n,
        "io": t["io"] / n,
        "cg": float(np.mean(thermo["cg_iterations"][1:])),
        "drift": np.polyfit(thermo["time_fs"] / 1000.0, h_per_atom, 1)[0],
        "max_dev": float(np.abs(h_per_atom).max()),
        "ps": steps * dt_fs / 1000.0,
    }
    row["other"] = wall / n - row["nequip"] - row["qeq"] - row["nlist"] - row["io"]
    its, setup, solve, forces = np.array(calc.phases[1:], dtype=float).T  # steps 1..
    per_it, solve_fixed = np.polyfit(its, solve, 1) if np.ptp(its) else (0.0, 0.0)
    if not np.ptp(its):
        per_it = float(np.mean(solve / np.maximum(its, 1)))
    row.update(
        setup=float(np.mean(setup)),
        forces=float(np.mean(forces)),
        solve_fixed=float(solve_fixed),
        fixed=float(np.mean(setup) + np.mean(forces) + solve_fixed),
        per_it=float(per_it),
    )
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", help=f"packaged NequIP model (default {MODEL})")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--tol", type=float, default=1e-6, help="CG tolerance")
    p.add_argument(
        "--preconditioner",
        default="auto",
        choices=("auto", "reference", "longrange", "jacobi"),
        help="CG preconditioner (md.preconditioner; default auto)",
    )
    p.add_argument(
        "--qeq-dtype",
        default="float64",
        choices=("float64", "float32"),
        help="precision of the charge solve (float32 needs --tol >= 1.2e-5)",
    )
    p.add_argument(
        "--timestep-fs",
        type=float,
        default=1.0,
        help="time step of the timing runs (ns/day always quoted at 1 fs)",
    )
    p.add_argument(
        "--check-every",
        type=int,
        default=1,
        help="CG residual read back every k iterations (md.cg_check_every)",
    )
    p.add_argument("--demo", default=str(DEMO), help="demo interface extxyz")
    p.add_argument(
        "--cells", nargs="+", default=["demo", "example"], choices=("demo", "example")
    )
    p.add_argument(
        "--predictors",
        nargs="+",
        default=["previous", "aspc:2"],
        help="charge predictors METHOD[:ORDER] to compare (default previous aspc:2)",
    )
    p.add_argument(
        "--drift-steps",
        type=int,
        default=0,
        help="steps of the NVE energy-drift run per cell and predictor (0: none)",
    )
    args = p.parse_args(argv)
    predictors = [parse_predictor(text) for text in args.predictors]
    model = args.model or (str(MODEL) if MODEL.is_file() else None)
    calc, short = make_calc(
        model,
        args.device,
        args.tol,
        args.preconditioner,
        args.qeq_dtype,
        args.check_every,
    )
    threads = torch.get_num_threads()
    print(
        f"device {args.device}, torch threads {threads} "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}), "
        f"short range {short}{'' if model is None else ': ' + model}, "
        f"{args.steps} steps of {args.timestep_fs:g} fs, CG tol {args.tol:g}, "
        f"preconditioner {args.preconditioner}, QEq {args.qeq_dtype}, "
        f"CG checked every {args.check_every}"
    )
    rows, drifts = [], []
    for name in args.cells:
        if name == "demo":
            atoms, walls = read(args.demo), "molecules"
        else:
            atoms, walls = example_cell(), "none"
        for pred in predictors:
            rows.append(
                bench(name, atoms, calc, args.steps, walls, args.timestep_fs, pred)
            )
            if args.drift_steps:
                drifts.append(
                    bench(
                        name,
                        atoms,
                        calc,
                        args.drift_steps,
                        walls,
                        args.timestep_fs,
                        pred,
                        ensemble="nve",
                    )
                )
            print(f"  {name} {rows[-1]['predictor']}: done", flush=True)
    cols = ("nequip", "qeq", "nlist", "io", "other")
    head = f"{'cell':<8}{'predictor':<13}{'atoms':>6}{'steps/s':>9}{'ns/day':>8}"
    head += "".join(f"{(short if c == 'nequip' else c) + ' ms':>11}" for c in cols)
    print(head + f"{'CG it':>7}")
    for r in rows:
        line = f"{r['cell']:<8}{r['predictor']:<13}{r['atoms']:>6}"
        line += f"{r['steps_per_s']:>9.2f}{r['ns_per_day']:>8.4f}"
        line += "".join(f"{1000 * r[c]:>11.1f}" for c in cols)
        print(line + f"{r['cg']:>7.2f}")
    print(
        f"{'cell':<8}{'predictor':<13}{'QEq fixed ms':>13}{'set-up':>8}"
        f"{'forces':>8}{'solve':>7}{'ms/it':>7}"
    )
    for r in rows:
        print(
            f"{r['cell']:<8}{r['predictor']:<13}{1000 * r['fixed']:>13.1f}"
            f"{1000 * r['setup']:>8.1f}{1000 * r['forces']:>8.1f}"
            f"{1000 * r['solve_fixed']:>7.1f}{1000 * r['per_it']:>7.2f}"
        )
    if drifts:
        print(
            f"NVE, static electrodes, CG tol {args.tol:g}, "
            f"{args.drift_steps} steps of {args.timestep_fs:g} fs:"
        )
        print(
            f"{'cell':<8}{'predictor':<13}{'ps':>6}{'CG it':>7}{'qeq ms':>8}"
            f"{'drift meV/atom/ps':>19}{'max |dH| meV/atom':>19}"
        )
        for r in drifts:
            print(
                f"{r['cell']:<8}{r['predictor']:<13}{r['ps']:>6.3f}{r['cg']:>7.2f}"
                f"{1000 * r['qeq']:>8.1f}{1000 * r['drift']:>+19.4f}"
                f"{1000 * r['max_dev']:>19.4f}"
            )
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
