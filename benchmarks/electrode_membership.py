"""Electrode membership through MD runs: does the metal hold together?

Issue 14 asks that ≥ 95 % of the non-frozen electrode Li, surface layers
included, stay members of the paper's metallic-Li rule (≥ 8 Li within 3.5 Å)
in ≥ 95 % of the frames of a 300 K run. For each run's ``traj.extxyz`` this
takes the non-frozen Li that are electrode members in the first frame and
reports, over the frames, the fraction of them that still are: mean, lowest,
and the share of frames at ≥ 95 %. The membership is the one the run wrote
(the ``electrode`` array, updated every ``md.electrode_every`` steps).

Run from the repository root after ``make run``::

    python benchmarks/electrode_membership.py [results/md/*/*/traj.extxyz ...]

Prints a Markdown table (a second or two per run).
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import numpy as np
from ase.io import read

from constpot.keys import ELECTRODE, FROZEN, NOT_ELECTRODE, TRAJ_FILE

#: Share of the first frame's members, and of frames, that issue 14 asks for.
TARGET = 0.95


def membership(path: str | Path) -> dict:
    """Members at the first frame and their fraction kept, per frame."""
    frames = read(path, index=":")
    first = frames[0]
    start = (first.arrays[ELECTRODE] != NOT_ELECTRODE) & ~first.arrays[FROZEN].astype(
        bool
    )
    if not start.any():
        raise ValueError(f"{path}: no non-frozen electrode Li in the first frame")
    kept = (
        np.array(
            [((a.arrays[ELECTRODE] != NOT_ELECTRODE) & start).sum() for a in frames]
        )
        / start.sum()
    )
    return {
        "members": int(start.sum()),
        "mean": float(kept.mean()),
        "lowest": float(kept.min()),
        "frames_at_target": float((kept >= TARGET).mean()),
        "frames": len(frames),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "trajectories",
        nargs="*",
        default=sorted(glob.glob(f"results/md/*/*/{TRAJ_FILE}")),
        help=f"run trajectories (default: results/md/*/*/{TRAJ_FILE})",
    )
    args = parser.parse_args()
    if not args.trajectories:
        parser.error(f"no trajectories given and none under results/md/*/*/{TRAJ_FILE}")
    print(
        "| run | members at t = 0 | mean kept | lowest | frames ≥ 95 % | frames |\n"
        "|---|---|---|---|---|---|"
    )
    for path in args.trajectories:
        m = membership(path)
        run = str(Path(path).parent)
        print(
            f"| {run} | {m['members']} | {m['mean']:.3f} | {m['lowest']:.3f} | "
            f"{100 * m['frames_at_target']:.0f} % | {m['frames']} |"
        )


if __name__ == "__main__":
    main()
