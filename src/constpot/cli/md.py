"""``constpot md``: one constant-potential (or constant-charge) MD run;
``constpot md-batch``: several runs of one system advanced together.

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

``constpot md-batch --outroot results/md/no_sei --runs constp_-6.0V_r0
constq_none_r0 ...`` runs the named runs (folders ``OUTROOT/NAME``) in one
process, each step of all of them in one model call and one charge solve
(:mod:`constpot.md.batch`; config ``md.batch``): each run's files are those of
its own ``constpot md``. Exit status: the first of 128 + n (a signal), 2 (a
run's bad input), 3 (a run stopped by a guard), else 0; one line per run says
how it ended.

A model file is code: loading a packaged NequIP model runs what it contains.
Use only models you trust (the log line names each file with its SHA-256).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from .. import __version__
from ..config import add_config_arguments, config_from_args, versions
from ..errors import Interrupted
from ..io import read_structure
from ..md import MDGuardError, MDSettings, MDSetupError, potential_label
from ..md import run as md_run
from ..md.batch import BatchRun, run_batch
from ..md.identity import file_sha256
from ..potential import HybridCalculator
from ..runs import RunLabels, parse_potential, run_seed

__all__ = ["register"]


def register(sub) -> None:
    """Add ``constpot md`` and ``constpot md-batch`` to the CLI's subparsers."""
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
    _common_arguments(p)
    p.add_argument("--mode", choices=("constp", "constq"), required=True)
    p.add_argument(
        "--potential",
        help="anode potential as in the run name: -6.0V (constp) or none (constq); "
        "write --potential=-6.0V for negative values",
    )
    p.add_argument("--replica", type=int, default=0, help="replica index (seed)")
    p.add_argument("--outdir", required=True, help="run folder")
    p.add_argument(
        "--progress",
        choices=("auto", "bar", "lines"),
        default="auto",
        help="tqdm bar or plain lines (auto: bar on a terminal)",
    )
    p.set_defaults(func=_run_md)

    b = sub.add_parser(
        "md-batch",
        help="run several MD runs of one system together (batched sweep)",
        description=(
            "Run the named runs of one structure in one process, every step of "
            "all of them in one model call and one charge solve. Each run writes "
            "its own folder OUTROOT/NAME as `constpot md` would."
        ),
    )
    _common_arguments(b)
    b.add_argument(
        "--runs",
        nargs="+",
        required=True,
        metavar="NAME",
        help="run names {mode}_{potential}_r{replica}, e.g. constp_-6.0V_r0 "
        "constq_none_r0",
    )
    b.add_argument("--outroot", required=True, help="folder of the run folders")
    b.set_defaults(func=_run_md_batch)


def _common_arguments(p) -> None:
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
    p.add_argument(
        "--counter-potential",
        type=float,
        metavar="V",
        help="counter-electrode potential, V (default md.counter_potential_V)",
    )
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


def _check_flags(args) -> None:
    for flag, value, low in (
        ("--threads", args.threads, 1),
        ("--until-step", args.until_step, 0),
        ("--segment-steps", args.segment_steps, 1),
    ):
        if value is not None and value < low:
            raise MDSetupError(f"{flag} must be an integer >= {low}, got {value}")
    if args.threads is not None:
        torch.set_num_threads(args.threads)


def _base_seed(args, config) -> int:
    if args.seed is not None:
        return args.seed
    return config["md"].get("seed", config["seed"])


def _settings(args, config, mode: str, potential: str | None, replica: int):
    """One run's MDSettings: the config's md: section, then the flags."""
    anode = parse_potential(potential, mode)
    settings = MDSettings.from_config(
        config["md"],
        mode=mode,
        anode_potential_V=anode,
        counter_potential_V=args.counter_potential,
        n_steps=args.n_steps,
        timestep_fs=args.timestep_fs,
        temperature_K=args.temperature_K,
        ensemble=args.ensemble,
        electrodes=args.electrodes,
        qeq_every=args.qeq_every,
        seed=run_seed(_base_seed(args, config), replica),
    )
    if mode == "constq":
        settings.anode_potential_V = None
    return settings


def _solver(md) -> dict:
    """HybridCalculator keywords of the config's md: section."""
    return {
        "slab": True,
        "method": md["method"],
        "tol": md["tol"],
        "solver_options": {
            "preconditioner": md["preconditioner"],
            "check_every": md["cg_check_every"],
        },
        "metallic_exclude": tuple(md["metallic_exclude"]),
        "metallic_cutoff_A": md["metallic_cutoff_A"],
    }


def _calculator(args, md, device: str) -> HybridCalculator:
    """The hybrid calculator of the config's md: section and the models."""
    solver = _solver(md)
    if args.models:
        for path in args.models:
            sha = file_sha256(path) if Path(path).is_file() else "missing"
            print(
                f"model {path} (sha256 {sha[:16]}): a model file runs code when "
                "loaded; use only models you trust",
                flush=True,
            )
        return HybridCalculator.from_models(
            args.models, qeq=args.qeq, device=device, **solver
        )
    print("warning: no --models: QEq only, no short-range repulsion", flush=True)
    return HybridCalculator(None, qeq=args.qeq, device=device, **solver)


def _metadata(args, config, structure, atoms, label, replica, device) -> dict:
    return {
        "structure": str(structure),
        "system": atoms.info.get("system"),
        "potential_label": label,
        "replica": replica,
        "base_seed": _base_seed(args, config),
        "models": list(args.models),
        "device": device,
        "versions": versions("torch", "ase", "nequip"),
    }


def _guard_status(err: MDGuardError, args, md, name: str = "") -> int:
    """Exit status of a run a guard stopped (3, or 0 when recorded)."""
    where = f" {name}" if name else ""
    print(f"constpot md{where}: stopped: {err}", file=sys.stderr, flush=True)
    on_guard = args.on_guard or md["on_guard"]
    if on_guard == "record" and err.step == 0:
        # nothing ran that could be analysed: that is a failure, not a result
        print(f"constpot md{where}: stopped before the first frame", file=sys.stderr)
    elif on_guard == "record":
        # The sweep goes on; summary.json says "stopped" and why.
        print(
            f"constpot md{where}: on_guard=record: run recorded as stopped", flush=True
        )
        return 0
    return 3


def _run_md(args) -> int:
    _check_flags(args)
    config = config_from_args(args, "md")
    md = config["md"]
    settings = _settings(args, config, args.mode, args.potential, args.replica)
    structure = Path(args.structure)
    atoms = read_structure(structure)
    device = args.device or md["device"]
    calc = _calculator(args, md, device)
    label = potential_label(settings.mode, settings.anode_potential_V)
    print(
        f"constpot {__version__} md: {structure} ({len(atoms)} atoms), "
        f"{settings.mode} {label}, replica {args.replica}, seed {settings.seed}, "
        f"{len(args.models)} model(s), device {device}",
        flush=True,
    )
    progress = {"auto": None, "bar": True, "lines": False}[args.progress]
    metadata = _metadata(args, config, structure, atoms, label, args.replica, device)
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
        return _guard_status(err, args, md)
    if summary["status"] == "segment":
        print(
            f"constpot md: segment ended at step {summary['steps']} of "
            f"{settings.n_steps}; run again with --resume to continue",
            flush=True,
        )
    return 0


def _run_md_batch(args) -> int:
    _check_flags(args)
    config = config_from_args(args, "md")
    md = config["md"]
    structure = Path(args.structure)
    labels = []
    for name in args.runs:
        try:
            labels.append(RunLabels.from_name(name))
        except ValueError as err:
            raise MDSetupError(f"--runs: {err}") from None
    if len({r.name for r in labels}) != len(labels):
        raise MDSetupError("--runs: a run is named twice")
    atoms = read_structure(structure)
    device = args.device or md["device"]
    first = _calculator(args, md, device)
    made = iter([first])

    def calculator() -> HybridCalculator:
        # the first run's calculator, then copies on its model objects
        calc = next(made, None)
        if calc is None:
            calc = HybridCalculator(
                first.short_range, first.qeq, device=device, **_solver(md)
            )
        return calc

    runs = []
    for r in labels:
        settings = _settings(args, config, r.mode, r.potential, r.replica)
        label = potential_label(settings.mode, settings.anode_potential_V)
        options = {
            "until_step": args.until_step,
            "segment_steps": args.segment_steps,
            "metadata": _metadata(
                args, config, structure, atoms, label, r.replica, device
            ),
        }
        runs.append(
            BatchRun(atoms.copy(), settings, Path(args.outroot) / r.name, options)
        )
    print(
        f"constpot {__version__} md-batch: {structure} ({len(atoms)} atoms), "
        f"{len(runs)} runs ({', '.join(args.runs)}), {len(args.models)} model(s), "
        f"device {device}",
        flush=True,
    )
    outcomes = run_batch(
        runs,
        calculator,
        resume={"no": False, "yes": True, "auto": "auto"}[args.resume],
        models=args.models,
        log=lambda line: print(line, flush=True),
    )
    codes = []
    for r, out in zip(labels, outcomes, strict=True):
        if isinstance(out, dict):
            print(f"constpot md-batch: {r.name}: {out['status']}", flush=True)
            codes.append(0)
        elif isinstance(out, MDGuardError):
            codes.append(_guard_status(out, args, md, r.name))
        elif isinstance(out, Interrupted):
            print(f"constpot md-batch: {r.name}: {out}", file=sys.stderr, flush=True)
            codes.append(128 + int(out.signum))
        elif isinstance(out, (MDSetupError, ValueError)):
            print(f"constpot md-batch: {r.name}: {out}", file=sys.stderr, flush=True)
            codes.append(2)
        else:
            raise out
    for code in (c for c in codes if c > 128):
        return code
    return 2 if 2 in codes else (3 if 3 in codes else 0)
