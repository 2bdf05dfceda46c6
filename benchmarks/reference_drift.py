"""Does the MD stay on the reference's energy surface? The model against its labeller.

A trained model is only as good as its labels where the run goes. This takes
frames of MD runs (``traj.extxyz``: the hybrid model's potential energy of
each frame is in its header, less the confining walls' share where the
frame records it), labels them with the reference method the
model was trained on (the config's ``label.labeller``), and compares the
energy change from the run's first frame: the model's against the
reference's, in meV/atom. A model that describes the run keeps the two
together (within its error, tens of meV/atom for the demo's); a run that
slides into a region the model has not learned shows the model's energy
falling while the reference's does not.

Constant-charge runs only by default (``--constp`` adds the others): there the
paper's model and the reference describe the same neutral ground state; at
constant potential the model's energy includes the bias's charges, which the
reference does not have.

Run from the repository root after ``make run``::

    python benchmarks/reference_drift.py [--config config/config.yaml]
        [--every 10] [--csv drift.csv] [RUN_FOLDER ...]

With no folders: every ``results/md/*/start`` (the constant-charge
equilibration) and ``results/md/*/constq_*`` run. Prints a Markdown table
(one row per run, first and last frame) and, with ``--csv``, every labelled
frame. The demo's teacher labels a 382-atom frame in ~8 s on one core.
"""

from __future__ import annotations

import argparse
import csv
import glob
import sys
import time
from pathlib import Path

import numpy as np
import yaml
from ase.io import read

from constpot.keys import TRAJ_FILE
from constpot.label import make_labeller

#: Header keys the MD writes into each trajectory frame.
ENERGY_KEY = "potential_energy_eV"
WALL_KEY = "wall_energy_eV"  # the walls' share, not the model's (0 if absent)
TIME_KEY = "time_fs"
TEMPERATURE_KEY = "temperature_K"
ANODE_CHARGE_KEY = "anode_charge_e"


def default_runs() -> list[Path]:
    """The equilibration and constant-charge runs of ``results/md``."""
    runs = sorted(glob.glob("results/md/*/start")) + sorted(
        glob.glob("results/md/*/constq_*")
    )
    return [Path(r) for r in runs if (Path(r) / TRAJ_FILE).is_file()]


def frame_indices(n_frames: int, every: int) -> list[int]:
    """Every ``every``-th frame from the first, and always the last."""
    indices = list(range(0, n_frames, every))
    if indices[-1] != n_frames - 1:
        indices.append(n_frames - 1)
    return indices


def drift(run: Path, labeller, every: int) -> list[dict]:
    """One row per labelled frame: energy changes from the first frame."""
    frames = read(run / TRAJ_FILE, index=":")
    if ENERGY_KEY not in frames[0].info:
        raise ValueError(f"{run / TRAJ_FILE}: frames carry no {ENERGY_KEY}")
    n_atoms = len(frames[0])
    rows = []
    for k in frame_indices(len(frames), every):
        atoms = frames[k].copy()
        atoms.calc = None
        started = time.perf_counter()
        reference_eV = labeller.label(atoms).energy
        rows.append(
            {
                "run": str(run),
                "frame": k,
                "time_ps": frames[k].info.get(TIME_KEY, np.nan) / 1000.0,
                "temperature_K": frames[k].info.get(TEMPERATURE_KEY, np.nan),
                "anode_charge_e": frames[k].info.get(ANODE_CHARGE_KEY, np.nan),
                "model_eV": float(frames[k].info[ENERGY_KEY])
                - float(frames[k].info.get(WALL_KEY, 0.0)),
                "reference_eV": float(reference_eV),
                "n_atoms": n_atoms,
                "label_s": time.perf_counter() - started,
            }
        )
    first = rows[0]
    for row in rows:
        row["model_change_meV_per_atom"] = (
            1000.0 * (row["model_eV"] - first["model_eV"]) / n_atoms
        )
        row["reference_change_meV_per_atom"] = (
            1000.0 * (row["reference_eV"] - first["reference_eV"]) / n_atoms
        )
        row["gap_meV_per_atom"] = (
            row["model_change_meV_per_atom"] - row["reference_change_meV_per_atom"]
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="*", type=Path, help="MD run folders")
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--every", type=int, default=10, help="frame stride")
    parser.add_argument("--constp", action="store_true", help="constp runs too")
    parser.add_argument("--csv", type=Path, help="every labelled frame")
    args = parser.parse_args(argv)
    if args.every < 1:
        parser.error("--every must be >= 1")
    runs = args.runs or default_runs()
    if args.constp and not args.runs:
        runs += [Path(r) for r in sorted(glob.glob("results/md/*/constp_*"))]
    if not runs:
        parser.error("no MD runs: run `make run` first or name run folders")
    with open(args.config) as fh:
        labeller_config = yaml.safe_load(fh)["label"]["labeller"]
    labeller = make_labeller(labeller_config)
    print(f"reference: {labeller_config}", file=sys.stderr)
    all_rows = []
    print(
        "| run | atoms | ps | T first → mean of 2nd half, K | anode q, e "
        "| model ΔE | reference ΔE | model − reference |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for run in runs:
        rows = drift(run, labeller, args.every)
        all_rows += rows
        first, last = rows[0], rows[-1]
        half = [r["temperature_K"] for r in rows if r["frame"] >= last["frame"] / 2]
        print(
            f"| {run} | {first['n_atoms']} | {last['time_ps']:.2f} "
            f"| {first['temperature_K']:.0f} → {np.mean(half):.0f} "
            f"| {first['anode_charge_e']:+.2f} → {last['anode_charge_e']:+.2f} "
            f"| {last['model_change_meV_per_atom']:+.1f} "
            f"| {last['reference_change_meV_per_atom']:+.1f} "
            f"| {last['gap_meV_per_atom']:+.1f} |",
            flush=True,
        )
    print("\nΔE: last frame minus first, meV/atom.")
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(all_rows[0]))
            writer.writeheader()
            writer.writerows(all_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
