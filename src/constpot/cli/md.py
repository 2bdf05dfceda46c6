"""``constpot md``: one constant-potential (or constant-charge) MD run.

::

    constpot md CONFIG --structure results/build/no_sei/interface.extxyz \\
        --models results/train/model_0/model.nequip.zip \\
        --mode constp --potential=-6.0V --replica 0 \\
        --outdir results/md/no_sei/constp_-6.0V_r0

Settings come from the config's ``md:`` section (config/README.md), overridden
by the flags. The thermostat seed is derived from ``md.seed`` (default: the
master ``seed``) and the replica, so the runs of one replica start from the
same velocities whatever the potential.

``--resume auto`` continues from the run folder's checkpoint when it was
written by this run (same model files, structure and physics; trajectory and
thermo table complete up to it) and starts afresh otherwise; ``--resume``
requires such a checkpoint. ``--until-step N`` / ``--segment-steps N`` end the
session early with a checkpoint and ``summary.json`` status ``"segment"``
(exit 0); the next session resumes. Exit status: 0 done (completed or
segment), 2 bad input (also: the run folder is in use by another process, a
checkpoint that does not fit), 3 stopped by a guard (last good frame and
checkpoint written), 128 + n ended by signal n (SIGTERM 143, e.g. a batch
system's wall-time kill; SIGINT 130) after the step in progress, with its
checkpoint and a ``"segment"`` summary naming the signal: resume to continue.

A model file is code: loading a packaged NequIP model runs what it contains.
Use only models you trust (the log line names each file with its SHA-256).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from .. import __version__
from ..config import add_config_arguments, config_from_args, versions
from ..io import read_structure
from ..md import MDGuardError, MDSettings, MDSetupError, potential_label
from ..md import run as md_run
from ..md.identity import file_sha256
from ..potential import HybridCalculator
from ..runs import parse_potential, run_seed

__all__ = ["register"]


def register(sub) -> None:
    """Add ``constpot md`` to the CLI's subparsers."""
    p = sub.add_parser(
        "md",
        help="run constant-potential (constp) or constant-charge (constq) MD",
        description=(
            "Run MD of a built interface with the hybrid potential (NequIP short "
            "range + QEq with electrode potentials). Settings from the config's "
            "`md:` section, overridden by the flags. Writes traj.extxyz, "
            "thermo.csv, checkpoint.npz, summary.json and md.log in --outdir. "
            "Exit status 3 when a guard stops the run."
        ),
    )
    add_config_arguments(p, "`md:` and `seed`")
    p.add_argument("--structure", required=True, help="interface extxyz")
    p.add_argument(
        "--models",
        nargs="*",
        default=[],
        help="packaged NequIP model(s) with qeq.json beside them; several = "
        "ensemble mean; none = QEq only (no short range: for tests only)",
    )
    p.add_argument(
        "--qeq",
        help="QEq settings JSON (default: the models' qeq.json, else the paper table)",
    )
    p.add_argument("--mode", choices=("constp", "constq"), required=True)
    p.add_argument(
        "--potential",
        help="anode potential as in the run name: -6.0V (constp) or none (constq); "
        "write --potential=-6.0V for negative values",
    )
    p.add_argument(
        "--counter-potential",
        type=float,
        metavar="V",
        help="counter-electrode potential, V (default md.counter_potential_V)",
    )
    p.add_argument("--replica", type=int, default=0, help="replica index (seed)")
    p.add_argument("--outdir", required=True, help="run folder")
    p.add_argument(
        "--resume",
        nargs="?",
        const="yes",
        default="no",
        choices=("no", "yes", "auto"),
        help="continue from the run folder's checkpoint: --resume (it must exist "
        "and fit this run), --resume auto (when one fits, else start afresh; "
        "for workflows), or no (default: start afresh)",
    )
    p.add_argument(
        "--until-step",
        type=int,
        metavar="N",
        help="end this session at step N (absolute) with a checkpoint and "
        "summary status 'segment' (exit 0); resume to continue",
    )
    p.add_argument(
        "--segment-steps",
        type=int,
        metavar="N",
        help="end this session after N steps, likewise",
    )
    p.add_argument(
        "--on-guard",
        choices=("fail", "record"),
        help="when a guard stops the run: exit 3 (fail) or exit 0 with "
        "summary.json status 'stopped' (record); default md.on_guard or fail",
    )
    p.add_argument("--n-steps", type=int, help="total steps (default md.n_steps)")
    p.add_argument("--timestep-fs", type=float, help="time step, fs")
    p.add_argument("--temperature-K", type=float, help="temperature, K")
    p.add_argument("--ensemble", choices=("nvt", "nve"))
    p.add_argument("--electrodes", choices=("metallic", "static"))
    p.add_argument("--qeq-every", type=int, help="steps between charge solves")
    p.add_argument("--seed", type=int, help="base seed (default md.seed or seed)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"))
    p.add_argument("--threads", type=int, help="torch CPU threads (>= 1)")
    p.add_argument(
        "--progress",
        choices=("auto", "bar", "lines"),
        default="auto",
        help="tqdm bar or plain lines (auto: bar on a terminal)",
    )
    p.set_defaults(func=_run_md)


def _run_md(args) -> int:
    for flag, value, low in (
        ("--threads", args.threads, 1),
        ("--until-step", args.until_step, 0),
        ("--segment-steps", args.segment_steps, 1),
    ):
        if value is not None and value < low:
            raise MDSetupError(f"{flag} must be an integer >= {low}, got {value}")
    config = config_from_args(args, "md")
    md = config["md"]
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    anode = parse_potential(args.potential, args.mode)
    base_seed = args.seed
    if base_seed is None:
        base_seed = md.get("seed", config["seed"])
    settings = MDSettings.from_config(
        md,
        mode=args.mode,
        anode_potential_V=anode,
        counter_potential_V=args.counter_potential,
        n_steps=args.n_steps,
        timestep_fs=args.timestep_fs,
        temperature_K=args.temperature_K,
        ensemble=args.ensemble,
        electrodes=args.electrodes,
        qeq_every=args.qeq_every,
        seed=run_seed(base_seed, args.replica),
    )
    if args.mode == "constq":
        settings.anode_potential_V = None
    structure = Path(args.structure)
    atoms = read_structure(structure)
    device = args.device or md["device"]
    solver = {
        "slab": True,
        "method": md["method"],
        "tol": md["tol"],
        "solver_options": {"preconditioner": md["preconditioner"]},
        "metallic_exclude": tuple(md["metallic_exclude"]),
        "metallic_cutoff_A": md["metallic_cutoff_A"],
    }
    if args.models:
        for path in args.models:
            sha = file_sha256(path) if Path(path).is_file() else "missing"
            print(
                f"model {path} (sha256 {sha[:16]}): a model file runs code when "
                "loaded; use only models you trust",
                flush=True,
            )
        calc = HybridCalculator.from_models(
            args.models, qeq=args.qeq, device=device, **solver
        )
    else:
        print("warning: no --models: QEq only, no short-range repulsion", flush=True)
        calc = HybridCalculator(None, qeq=args.qeq, device=device, **solver)
    label = potential_label(settings.mode, settings.anode_potential_V)
    print(
        f"constpot {__version__} md: {structure} ({len(atoms)} atoms), "
        f"{settings.mode} {label}, replica {args.replica}, seed {settings.seed}, "
        f"{len(args.models)} model(s), device {device}",
        flush=True,
    )
    progress = {"auto": None, "bar": True, "lines": False}[args.progress]
    metadata = {
        "structure": str(structure),
        "system": atoms.info.get("system"),
        "potential_label": label,
        "replica": args.replica,
        "base_seed": base_seed,
        "models": list(args.models),
        "device": device,
        "versions": versions("torch", "ase", "nequip"),
    }
    try:
        summary = md_run(
            atoms,
            calc,
            settings,
            args.outdir,
            resume={"no": False, "yes": True, "auto": "auto"}[args.resume],
            models=args.models,
            until_step=args.until_step,
            segment_steps=args.segment_steps,
            log=lambda line: print(line, flush=True),
            progress=progress,
            metadata=metadata,
        )
    except MDGuardError as err:
        print(f"constpot md: stopped: {err}", file=sys.stderr, flush=True)
        on_guard = args.on_guard or md["on_guard"]
        if on_guard == "record" and err.step == 0:
            # nothing ran that could be analysed: that is a failure, not a result
            print("constpot md: stopped before the first frame", file=sys.stderr)
        elif on_guard == "record":
            # The sweep goes on; summary.json says "stopped" and why.
            print("constpot md: on_guard=record: run recorded as stopped", flush=True)
            return 0
        return 3
    if summary["status"] == "segment":
        print(
            f"constpot md: segment ended at step {summary['steps']} of "
            f"{settings.n_steps}; run again with --resume to continue",
            flush=True,
        )
    return 0
