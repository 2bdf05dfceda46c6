"""Does a 4-layer Li(100) slab stay crystalline at 300 K with the trained model?

Issue 15's test of a demo labeller, run on the hybrid model (NequIP + QEq)
trained on its labels: a 4-layer bcc(100) Li slab (3 × 3 cells, 36 atoms, at
the builder's lattice constant :data:`constpot.build.lithium.LI_BCC_A_A`, 10 Å
of vacuum on each side, nothing frozen) runs ``--ps`` picoseconds of
constant-charge Langevin MD at ``--temperature`` K (``constpot.md.run``). The
trajectory is cut into blocks of ``--block-ps``; in each block every atom's
mean position (after removing the slab's centre-of-mass drift) is compared
with the sites of the bcc lattice the slab was cut from, extended by one layer
above and below (an atom that moves to a site of the lattice is still
crystalline). The slab stays crystalline when, in every block, ≥ 95 % of the
atoms are within 0.5 Å of a site; the table also gives the electrode
membership of the paper's rule (≥ 8 Li within 3.5 Å) and the largest
height change.

Run from the repository root, after ``make run`` (models of the last
active-learning iteration, else ``results/train``)::

    OMP_NUM_THREADS=1 python benchmarks/slab_stability.py \\
        [--models results/active/iter001/train/models/*/model.nequip.zip] \\
        [--ps 10] [--timestep-fs 1.0] [--out /tmp/slab_stability]

(36 atoms, 10 000 steps: about 5–10 min on one core.)
"""

from __future__ import annotations

import argparse
import glob
import json
from pathlib import Path

import numpy as np
from ase.io import read

from constpot.build.lithium import LI_BCC_A_A, li_slab
from constpot.keys import ANODE_REGION, ELECTRODE, NOT_ELECTRODE, REGION, TRAJ_FILE
from constpot.md import MDSettings, run
from constpot.potential import HybridCalculator
from constpot.qeq import MetallicRule

#: Fraction of atoms near a lattice site required in every block (issue 15).
TARGET = 0.95
#: Distance from a lattice site within which an atom counts as on it, Å.
SITE_TOLERANCE_A = 0.5
VACUUM_A = 10.0
#: The reference method's MD of this slab (benchmarks/teacher_slab_md.py).
REFERENCE = Path("data/teacher_li100_slab_300K.extxyz")


def _default_models() -> list[str]:
    for pattern in (
        "results/active/iter*/train/models/*/model.nequip.zip",
        "results/train/models/*/model.nequip.zip",
    ):
        found = sorted(glob.glob(pattern))
        if found:
            last = max(str(Path(p).parents[2]) for p in found)
            return [p for p in found if p.startswith(last)]
    raise SystemExit("no trained models: run `make run` or give --models")


def slab(reps: tuple[int, int], layers: int, a_A: float, surface: str = "100"):
    """The bcc slab (``surface`` "100" or "110") with vacuum, every atom an
    anode Li, nothing frozen."""
    atoms = li_slab(reps, layers=layers, surface=surface, a_A=a_A, frozen_layers=0)
    atoms.set_constraint()
    atoms.center(vacuum=VACUUM_A, axis=2)
    atoms.pbc = True
    atoms.arrays[REGION] = np.array([ANODE_REGION] * len(atoms), dtype="<U11")
    return atoms


def lattice_sites(start, a_A: float) -> np.ndarray:
    """Sites of the slab's bcc lattice: its atoms, plus one layer below and
    one above (ABAB stacking: the layer below the lowest has the pattern of
    the second lowest, 2 d lower; likewise at the top)."""
    d = a_A / 2.0
    z = start.positions[:, 2]
    layer = np.round((z - z.min()) / d).astype(int)
    top = layer.max()
    below = start.positions[layer == 1] - [0.0, 0.0, 2 * d]
    above = start.positions[layer == top - 1] + [0.0, 0.0, 2 * d]
    return np.concatenate([start.positions, below, above])


def distance_to_sites(positions, sites, cell) -> np.ndarray:
    """Distance of each position to its nearest site, Å (periodic in x, y)."""
    delta = positions[:, None, :] - sites[None, :, :]
    for axis in (0, 1):
        length = cell[axis, axis]
        delta[..., axis] -= length * np.round(delta[..., axis] / length)
    return np.linalg.norm(delta, axis=2).min(axis=1)


def blocks(frames, per_block: int):
    """Consecutive blocks of ``per_block`` frames; a shorter remainder (the
    trajectory's last frame, say) joins the block before it, since a mean
    over a few frames is not a thermal average."""
    cut = [frames[i : i + per_block] for i in range(0, len(frames), per_block)]
    if len(cut) > 1 and len(cut[-1]) < per_block:
        last = cut.pop()
        cut[-1] = cut[-1] + last
    return cut


def _members(frame) -> float:
    """Fraction of electrode members: the run's own record, else the paper's
    rule applied to the frame (the reference trajectory has no record)."""
    if ELECTRODE in frame.arrays:
        return float((frame.arrays[ELECTRODE] != NOT_ELECTRODE).mean())
    labels = MetallicRule().labels(frame, np.zeros(len(frame), bool))
    return float((labels != NOT_ELECTRODE).mean())


def analyse(traj: Path, a_A: float, block_frames: int) -> dict:
    frames = read(traj, index=":")
    start = frames[0]
    sites = lattice_sites(start, a_A)
    com0 = start.positions.mean(axis=0)
    rows = []
    for k, block in enumerate(blocks(frames, block_frames)):
        mean = np.mean(
            [f.positions - (f.positions.mean(axis=0) - com0) for f in block], axis=0
        )
        dist = distance_to_sites(mean, sites, start.cell.array)
        members = np.mean([_members(f) for f in block])
        rows.append(
            {
                "block": k,
                "frames": len(block),
                "on_site": float((dist <= SITE_TOLERANCE_A).mean()),
                "max_distance_A": float(dist.max()),
                "members": float(members),
            }
        )
    heights = [f.positions[:, 2].max() - f.positions[:, 2].min() for f in frames]
    return {
        "frames": len(frames),
        "blocks": rows,
        "lowest_on_site": min(r["on_site"] for r in rows),
        "crystalline": all(r["on_site"] >= TARGET for r in rows),
        "height_change_A": float(max(heights) - heights[0]),
    }


def report(result: dict) -> None:
    """Print the block table and the verdict."""
    print("| block | frames | on a site (≤ 0.5 Å) | max distance Å | members |")
    print("|---|---|---|---|---|")
    for r in result["blocks"]:
        print(
            f"| {r['block']} | {r['frames']} | {r['on_site']:.3f} | "
            f"{r['max_distance_A']:.2f} | {r['members']:.3f} |"
        )
    print(
        f"\nrun {result['status']} after {result['steps']} steps; lowest "
        f"on-site fraction {result['lowest_on_site']:.3f} -> "
        f"{'crystalline' if result['crystalline'] else 'NOT crystalline'} "
        f"(target ≥ {TARGET} in every block); height change "
        f"{result['height_change_A']:+.2f} Å"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+")
    parser.add_argument("--ps", type=float, default=10.0)
    parser.add_argument("--timestep-fs", type=float, default=1.0)
    parser.add_argument("--temperature", type=float, default=300.0)
    parser.add_argument("--block-ps", type=float, default=1.0)
    parser.add_argument("--reps", type=int, nargs=2, default=(3, 3))
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="/tmp/constpot_slab_stability")
    parser.add_argument(
        "--reference",
        nargs="?",
        const=REFERENCE,
        type=Path,
        help=f"analyse the reference method's own MD ({REFERENCE}, or the "
        "file given: benchmarks/teacher_slab_md.py --out) instead",
    )
    args = parser.parse_args()
    if args.reference:  # 10 fs between frames
        result = analyse(args.reference, LI_BCC_A_A, max(1, round(100 * args.block_ps)))
        result.update(status="reference", steps=10 * (result["frames"] - 1))
        report(result)
        return

    models = args.models or _default_models()
    atoms = slab(tuple(args.reps), args.layers, LI_BCC_A_A)
    n_steps = round(1000 * args.ps / args.timestep_fs)
    every = max(1, round(10 / args.timestep_fs))  # a frame every 10 fs
    settings = MDSettings(
        mode="constq",
        n_steps=n_steps,
        timestep_fs=args.timestep_fs,
        temperature_K=args.temperature,
        seed=args.seed,
        traj_every=every,
        thermo_every=every,
        relax_steps=0,
        walls="none",
    )
    calc = HybridCalculator.from_models(
        models, anode_potential_V=None, electrodes="metallic", device="cpu"
    )
    print(
        f"{len(atoms)}-atom Li(100) slab, a = {LI_BCC_A_A} Å, {args.ps} ps at "
        f"{args.temperature} K, models {models}",
        flush=True,
    )
    out = Path(args.out)
    summary = run(atoms, calc, settings, out, resume="auto")
    block_frames = max(1, round(1000 * args.block_ps / (every * args.timestep_fs)))
    result = analyse(out / TRAJ_FILE, LI_BCC_A_A, block_frames)
    result.update(status=summary["status"], steps=summary["steps"], models=list(models))
    report(result)
    (out / "stability.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
