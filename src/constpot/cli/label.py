"""``constpot sample``, ``constpot label`` and ``constpot dataset``: reference data.

::

    constpot sample  CONFIG --interfaces I.extxyz ... --out frames.extxyz
    constpot label   CONFIG --frames frames.extxyz --shard K [--n-shards N] \\
                     --out shard_K.extxyz --failures shard_K.csv
    constpot dataset --shards S0 S1 ... --shard-failures F0 F1 ... \\
                     --out dataset.extxyz --failures failures.csv \\
                     --summary summary.csv [--figure histograms.png]
"""

from __future__ import annotations

import time

from ase.io import write

from .. import __version__
from ..config import add_config_arguments, config_from_args
from ..io import atomic_path, read_structure
from ..label import label_shard, make_labeller, merge_shards, sample_configurations

__all__ = ["register"]


def register(sub) -> None:
    """Add ``sample``, ``label`` and ``dataset`` to the CLI's subparsers."""
    p = sub.add_parser(
        "sample",
        help="sample small configurations for reference labelling",
        description=(
            "Cut and perturb labelled-size configurations (category counts, "
            "max_atoms, rattle and strain from the config's `label:` section) "
            "from the given built interfaces and from bulk references."
        ),
    )
    add_config_arguments(p, "`label:` and `seed`")
    p.add_argument(
        "--interfaces", nargs="*", default=[], help="built interface extxyz files"
    )
    p.add_argument("--out", required=True, help="frames to label (extxyz)")
    p.set_defaults(func=_run_sample)

    p = sub.add_parser(
        "label",
        help="label one shard of frames with the configured labeller (resumable)",
        description=(
            "Label frames i with i mod n_shards == SHARD using the labeller of "
            "the config's `label.labeller`; progress is saved after every frame "
            "and a rerun continues where a killed run stopped."
        ),
    )
    add_config_arguments(p, "`label:`")
    p.add_argument("--frames", required=True, help="frames from `constpot sample`")
    p.add_argument("--shard", type=int, required=True)
    p.add_argument("--n-shards", type=int, help="default: label.n_shards")
    p.add_argument("--out", required=True, help="labelled frames of the shard")
    p.add_argument("--failures", required=True, help="CSV of failed frames")
    p.set_defaults(func=_run_label)

    p = sub.add_parser(
        "dataset",
        help="merge labelled shards into the dataset, summary and histograms",
    )
    p.add_argument("--shards", nargs="+", required=True)
    p.add_argument("--shard-failures", nargs="+", required=True)
    p.add_argument("--out", required=True, help="dataset extxyz")
    p.add_argument("--failures", required=True, help="merged failures CSV")
    p.add_argument("--summary", required=True, help="per-category summary CSV")
    p.add_argument("--figure", help="histogram PNG")
    p.set_defaults(func=_run_dataset)


def _run_sample(args) -> int:
    config = config_from_args(args, "label", "seed")
    cfg = config["label"]
    interfaces = [read_structure(path) for path in args.interfaces]
    start = time.perf_counter()
    frames = sample_configurations(
        interfaces,
        counts=cfg["counts"],
        max_atoms=cfg["max_atoms"],
        seed=config["seed"],
        rattle_A=cfg["rattle_A"],
        metal_rattle_A=cfg.get("metal_rattle_A"),
        strain=cfg["strain"],
        labeller=cfg["labeller"],  # a k-point labeller lifts the Γ-only cell rule
        amorphous_store=config.get("amorphous_store"),
    )
    with atomic_path(args.out) as tmp:
        write(tmp, frames, format="extxyz")
    cats = {}
    for frame in frames:
        cats[frame.info["category"]] = cats.get(frame.info["category"], 0) + 1
    print(
        f"sampled {len(frames)} frames in {time.perf_counter() - start:.1f} s "
        f"(max {max(len(f) for f in frames)} atoms): {cats}"
    )
    return 0


def _run_label(args) -> int:
    cfg = config_from_args(args, "label")["label"]
    labeller = make_labeller(cfg["labeller"])
    n_shards = args.n_shards or cfg["n_shards"]
    print(
        f"constpot {__version__} label: shard {args.shard} of {n_shards}, "
        f"labeller {labeller.todict()}",
        flush=True,
    )
    n_ok, n_fail = label_shard(
        args.frames,
        labeller,
        args.shard,
        n_shards,
        args.out,
        args.failures,
        log=lambda line: print(line, flush=True),
    )
    print(f"shard {args.shard}: {n_ok} labelled, {n_fail} failed")
    return 0


def _run_dataset(args) -> int:
    table = merge_shards(
        args.shards,
        args.shard_failures,
        args.out,
        args.failures,
        args.summary,
        args.figure,
    )
    total = sum(row["frames"] for row in table.values())
    print(f"dataset: {total} frames in {len(table)} categories -> {args.out}")
    for cat, row in table.items():
        print(f"  {cat:<26}{row['frames']:>5} frames {row['atoms']:>7} atoms")
    return 0
