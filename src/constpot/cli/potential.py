"""``constpot`` subcommands of the potential stage, one per workflow step.

::

    constpot split      CONFIG --dataset D --out split.json
    constpot qeq-table  CONFIG --out paper.json
    constpot fit-qeq    CONFIG --dataset D --split S --out fit.json \\
                        --report-json R.json --report-csv R.csv
    constpot targets    --dataset D --qeq-settings Q --out targets.extxyz \\
                        --settings-out qeq.json
    constpot train      CONFIG --targets T --split S --seed N --run-dir DIR
    constpot package    --checkpoint DIR/best.ckpt --qeq-settings Q \\
                        --out DIR/model.nequip.zip
    constpot compile-model --model DIR/model.nequip.zip \\
                        [--out DIR/model.nequip.pt2] [--device cpu]
    constpot evaluate   --targets T --split S --qeq-settings Q \\
                        --models A.nequip.zip B.nequip.zip --names seed0 seed1 \\
                        --metrics M.csv --predictions P.csv --summary S.json
    constpot plot-train --predictions P.csv --logs L0.csv L1.csv \\
                        --names seed0 seed1 --parity parity.png \\
                        --curves curves.png

CONFIG is the workflow config (its ``train:`` and ``qeq:`` sections). Errors
raise ValueError or FileNotFoundError, which the CLI prints on one line.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch

from ..config import add_config_arguments, config_from_args, versions
from ..io import atomic_path, read_frames
from ..keys import QEQ_FILE
from ..potential import (
    QEqSettings,
    cover_elements,
    evaluate_models,
    fit_qeq,
    package_model,
    qeq_targets,
    read_split,
    stratified_split,
    train_model,
    write_split,
    write_targets,
)
from ..potential.fit import write_fit_report
from ..potential.plots import plot_learning_curves, plot_parity
from ..potential.training import compile_model

__all__ = ["register"]


def register(sub) -> None:
    """Add the potential-stage subcommands to an argparse subparsers object."""
    p = sub.add_parser(
        "split",
        help="stratified train/val/test split of a labelled dataset",
        description="Split the frames of DATASET by category (train.split "
        "fractions, seed train.split_seed or the master seed); writes indices.",
    )
    add_config_arguments(p, "`train:` and `seed`")
    p.add_argument("--dataset", required=True, help="labelled extxyz")
    p.add_argument("--out", required=True, help="split JSON")
    p.set_defaults(func=_run_split)

    p = sub.add_parser(
        "qeq-table",
        help="write the paper's QEq table as QEq settings JSON",
    )
    add_config_arguments(p, "`qeq:` (accuracy) and `train.molecule_charges`")
    p.add_argument("--out", required=True, help="QEq settings JSON")
    p.set_defaults(func=_run_qeq_table)

    p = sub.add_parser(
        "fit-qeq",
        help="fit QEq chi and J per element to the reference charges",
        description="Minimise the charge error of constant-charge QEq against "
        "the labeller's charges (Mulliken for GFN1-xTB) over the training "
        "split, by L-BFGS through the dense solver; sigma fixed.",
    )
    add_config_arguments(p, "`train:` and `qeq:`")
    p.add_argument("--dataset", required=True, help="labelled extxyz")
    p.add_argument("--split", required=True, help="split JSON")
    p.add_argument("--out", required=True, help="fitted QEq settings JSON")
    p.add_argument("--report-json", required=True)
    p.add_argument("--report-csv", required=True)
    p.set_defaults(func=_run_fit_qeq)

    p = sub.add_parser(
        "targets",
        help="short-range training targets E_ref - E_QEq, F_ref - F_QEq",
    )
    p.add_argument("--dataset", required=True, help="labelled extxyz")
    p.add_argument("--qeq-settings", required=True, help="QEq settings JSON")
    p.add_argument("--out", required=True, help="targets extxyz")
    p.add_argument(
        "--settings-out", help="copy of the settings (default: qeq.json beside --out)"
    )
    p.add_argument("--method", choices=("dense", "cg"), default="dense")
    p.set_defaults(func=_run_targets)

    p = sub.add_parser(
        "train",
        help="train one NequIP short-range model (nequip-train)",
        description="Write the nequip config of the config's `train:` section "
        "and the split's extxyz files into RUN_DIR and run nequip-train there.",
    )
    add_config_arguments(p, "`train:`")
    p.add_argument("--targets", required=True)
    p.add_argument("--split", required=True)
    p.add_argument("--seed", type=int, required=True, help="model seed")
    p.add_argument("--run-dir", required=True)
    p.add_argument(
        "--threads", type=int, default=None, help="torch/OpenMP threads (default: 1)"
    )
    p.add_argument(
        "--init-checkpoint",
        help="fine-tune from this checkpoint's model (active learning's retraining)",
    )
    p.set_defaults(func=_run_train)

    p = sub.add_parser(
        "package",
        help="nequip-package a checkpoint; qeq.json beside the model",
    )
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--qeq-settings", required=True)
    p.add_argument("--out", required=True, help="*.nequip.zip")
    p.set_defaults(func=_run_package)

    p = sub.add_parser(
        "compile-model",
        help="AOT-compile a packaged model (nequip-compile); qeq.json beside it",
        description="nequip-compile --mode aotinductor --target ase of MODEL for "
        "one device: the same energies and forces, faster MD steps. Needs a C++ "
        "compiler; the result runs only on DEVICE.",
    )
    p.add_argument("--model", required=True, help="*.nequip.zip, qeq.json beside it")
    p.add_argument("--out", help="*.nequip.pt2 (default: beside --model)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.set_defaults(func=_run_compile_model)

    p = sub.add_parser(
        "evaluate",
        help="test metrics per category and a predictions table",
    )
    p.add_argument("--targets", required=True)
    p.add_argument("--split", required=True)
    p.add_argument("--qeq-settings", required=True)
    p.add_argument("--models", nargs="+", required=True, help="*.nequip.zip")
    p.add_argument("--names", nargs="+", help="model names (default seed0, ...)")
    p.add_argument("--metrics", required=True, help="metrics CSV")
    p.add_argument("--predictions", required=True, help="predictions CSV")
    p.add_argument("--summary", help="headline numbers JSON")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=_run_evaluate)

    p = sub.add_parser(
        "plot-train", help="parity plots and learning curves of trained models"
    )
    p.add_argument("--predictions", required=True)
    p.add_argument("--logs", nargs="+", required=True, help="logs/metrics.csv")
    p.add_argument("--names", nargs="+")
    p.add_argument("--parity", required=True, help="PNG")
    p.add_argument("--curves", required=True, help="PNG")
    p.set_defaults(func=_run_plot_train)


# ------------------------------------------------------------------ helpers
def _train_section(args) -> tuple[dict, dict]:
    config = config_from_args(args, "train")
    return config, config["train"]


def _names(names, n: int) -> list[str]:
    if names is None:
        return [f"seed{k}" for k in range(n)]
    if len(names) != n:
        raise ValueError(f"--names: {len(names)} names for {n} models/logs")
    return list(names)


# ----------------------------------------------------------------- commands
def _run_split(args) -> int:
    config, train = _train_section(args)
    frames = read_frames(args.dataset)
    seed = train.get("split_seed", config["seed"])
    fractions = train.get("split")
    categories = [str(f.info.get("category", "")) for f in frames]
    split = stratified_split(categories, fractions, seed)
    split = cover_elements(split, [set(f.get_chemical_symbols()) for f in frames])
    write_split(args.out, split, categories, seed=seed, fractions=fractions)
    print(
        f"split {len(frames)} frames (seed {seed}): "
        + ", ".join(f"{k} {len(v)}" for k, v in split.items())
    )
    return 0


def _run_qeq_table(args) -> int:
    config = config_from_args(args, "qeq", "train")
    settings = QEqSettings(
        accuracy=config["qeq"]["accuracy"],
        source="paper",
        molecule_charges=config["train"]["molecule_charges"],
    )
    settings.write(args.out)
    held = settings.molecule_charges or "none"
    print(f"wrote the paper's QEq table to {args.out} (molecule charges: {held})")
    return 0


def _run_fit_qeq(args) -> int:
    config = config_from_args(args, "train", "qeq")
    options = config["train"]["fit"]
    frames = read_frames(args.dataset)
    split = read_split(args.split)
    start = QEqSettings(
        accuracy=config["qeq"]["accuracy"],
        source="paper",
        molecule_charges=config["train"]["molecule_charges"],
    )
    fit = fit_qeq(
        frames,
        start,
        split["train"],
        split["val"] + split["test"],
        weight=options["weight"],
        max_iter=options["max_iter"],
        log=lambda line: print(line, flush=True),
    )
    fit.settings.write(args.out)
    write_fit_report(fit, args.report_json, args.report_csv)
    print(f"wrote {args.out}")
    return 0


def _run_targets(args) -> int:
    settings = QEqSettings.read(args.qeq_settings)
    frames = read_frames(args.dataset)
    print(
        f"targets: {len(frames)} frames, QEq table {settings.source}, "
        f"{args.method} solver",
        flush=True,
    )
    targets = qeq_targets(
        frames, settings, method=args.method, log=lambda s: print(s, flush=True)
    )
    path, spath = write_targets(targets, args.out, settings, args.settings_out)
    print(f"wrote {path} and {spath} (stress is not a target: no QEq stress)")
    return 0


def _run_train(args) -> int:
    _, train = _train_section(args)
    threads = args.threads or 1
    os.environ["OMP_NUM_THREADS"] = str(threads)  # nequip-train inherits it
    torch.set_num_threads(threads)
    run_dir = Path(args.run_dir)
    result = train_model(
        args.targets,
        args.split,
        train,
        args.seed,
        run_dir,
        log=lambda line: print(line, flush=True),
        init_checkpoint=args.init_checkpoint,
    )
    summary = {
        **result,
        "seed": args.seed,
        "threads": threads,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "versions": versions("torch", "nequip", "ase"),
    }
    with atomic_path(run_dir / "train_summary.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return 0


def _run_package(args) -> int:
    out = package_model(
        args.checkpoint,
        args.out,
        args.qeq_settings,
        log=lambda line: print(line, flush=True),
    )
    print(f"wrote {out} and {out.parent / 'qeq.json'}")
    return 0


def _run_compile_model(args) -> int:
    model = Path(args.model)
    out = args.out
    if out is None:
        stem = model.name.removesuffix(".nequip.zip")
        out = model.with_name(f"{stem}.nequip.pt2")
    out = compile_model(
        model, out, device=args.device, log=lambda line: print(line, flush=True)
    )
    print(f"wrote {out} (QEq settings: {out.parent / QEQ_FILE})")
    return 0


def _run_evaluate(args) -> int:
    names = _names(args.names, len(args.models))
    evaluate_models(
        dict(zip(names, args.models, strict=True)),
        args.targets,
        args.split,
        args.qeq_settings,
        args.metrics,
        args.predictions,
        args.summary,
        device=args.device,
        log=lambda line: print(line, flush=True),
    )
    print(f"wrote {args.metrics} and {args.predictions}")
    return 0


def _run_plot_train(args) -> int:
    names = _names(args.names, len(args.logs))
    plot_parity(args.predictions, args.parity)
    plot_learning_curves(dict(zip(names, args.logs, strict=True)), args.curves)
    print(f"wrote {args.parity} and {args.curves}")
    return 0
