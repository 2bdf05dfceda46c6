"""``constpot select-candidates`` and ``constpot active-report``: active learning.

::

    constpot select-candidates --config-json JSON \\
        --runs results/active/iter000/explore/no_sei/constq_T300K ... \\
        --iteration 0 --out candidates.extxyz \\
        --report-json report.json --report-csv report.csv \\
        [--structure no_sei=results/build/no_sei/interface.extxyz ...] \\
        [--models M1.nequip.zip M2.nequip.zip ...]
    constpot active-report --reports iter000/report.json iter001/report.json \\
        --csv fractions.csv --figure fractions.png

The config holds ``seed`` and the ``active:`` section (validated by the
config schema, which fills its defaults; the selection reads the keys of
:class:`constpot.active.ActiveSettings`). An iteration
without candidates writes an empty (valid) extxyz. Outputs appear together
or not at all.

A model file is code: loading a packaged NequIP model runs what it contains
(``--models``, read only when ``active.max_atoms`` is set).
"""

from __future__ import annotations

from dataclasses import fields

from ase.io import write

from ..active import (
    ActiveSettings,
    across_iterations,
    plot_fractions,
    read_iteration_report,
    select_iteration,
    write_across_csv,
    write_iteration_report,
)
from ..active.keys import DEVIATION, RUN
from ..config import ConfigError, add_config_arguments, config_from_args
from ..io import atomic_path, read_structure
from ..keys import STEP
from ..potential import load_calculator

__all__ = ["register"]

#: Config section of the selection settings.
SECTION = "active"


def register(sub) -> None:
    """Add ``select-candidates`` and ``active-report`` to the CLI's subparsers."""
    p = sub.add_parser(
        "select-candidates",
        help="classify exploration frames by model deviation and pick the "
        "candidates to label",
        description=(
            "Classify every frame of the given exploration runs as accurate, "
            "candidate or failed (the config's `active:` trust window), pick at "
            "most active.max_candidates candidates (round robin over runs, "
            "farthest-point sampling within a run), write them for `constpot "
            "label` and write the iteration's report."
        ),
    )
    add_config_arguments(p, "`seed` and `active:`")
    p.add_argument(
        "--runs",
        nargs="+",
        required=True,
        metavar="DIR",
        help="exploration run folders .../{system}/{condition}/",
    )
    p.add_argument("--iteration", type=int, required=True, help="iteration (0, 1, ...)")
    p.add_argument("--out", required=True, help="selected frames (extxyz)")
    p.add_argument("--report-json", required=True)
    p.add_argument("--report-csv", required=True)
    p.add_argument(
        "--structure",
        action="extend",
        nargs="+",
        default=[],
        metavar="SYSTEM=PATH",
        help="the interface each system's runs started from (formal charges): "
        "one SYSTEM=PATH per system, after one flag or repeated flags",
    )
    p.add_argument(
        "--models",
        nargs="+",
        default=[],
        help="the ensemble's model files (needed when active.max_atoms is set)",
    )
    p.set_defaults(func=_run_select)

    p = sub.add_parser(
        "active-report",
        help="class fractions across active-learning iterations (CSV + figure)",
    )
    p.add_argument("--reports", nargs="+", required=True, help="iteration JSONs")
    p.add_argument("--csv", required=True, help="fractions per iteration (CSV)")
    p.add_argument("--figure", required=True, help="PNG")
    p.set_defaults(func=_run_report)


def _config(args) -> tuple[int, ActiveSettings]:
    """The seed and the selection settings of the config's ``active:`` section.

    The schema validates the section and fills its defaults; the keys of
    :class:`ActiveSettings` are the selection's (the others, such as the
    exploration's temperatures, are the workflow's).
    """
    config = config_from_args(args, SECTION)
    if "seed" not in config:
        raise ConfigError("config: seed: missing")
    keys = {f.name for f in fields(ActiveSettings)}
    section = {k: v for k, v in config[SECTION].items() if k in keys}
    return int(config["seed"]), ActiveSettings.from_config(section, SECTION)


def _structures(items: list[str]) -> dict:
    out = {}
    for item in items:
        system, sep, path = item.partition("=")
        if not sep or not system or not path:
            raise ConfigError(f"--structure {item!r}: expected SYSTEM=PATH")
        if system in out:
            raise ConfigError(f"--structure: system {system!r} given twice")
        out[system] = read_structure(path)
    return out


def _models(paths: list[str]) -> list:
    for path in paths:
        print(f"loading model {path}: runs code from the file", flush=True)
    return [load_calculator(p) for p in paths]


def _run_select(args) -> int:
    seed, settings = _config(args)
    if args.iteration < 0:
        raise ConfigError(
            f"--iteration: expected an integer >= 0, got {args.iteration}"
        )
    structures = _structures(args.structure)
    models = None
    if settings.max_atoms is not None and len(args.models) >= 2:
        models = _models(args.models)
    elif settings.max_atoms is None and args.models:
        print("note: active.max_atoms is null: --models not needed, not loaded")
    sel = select_iteration(
        args.runs,
        settings,
        seed=seed,
        iteration=args.iteration,
        structures=structures,
        models=models,
    )
    with atomic_path(args.out) as tmp:
        write(tmp, sel.frames, format="extxyz")
        write_iteration_report(sel.report, args.report_json, args.report_csv)
    overall = sel.report["overall"]
    print(
        f"iteration {args.iteration}: {overall['n_frames']} frames in "
        f"{len(sel.runs)} runs: {overall['n_accurate']} accurate, "
        f"{overall['n_candidate']} candidate, {overall['n_failed']} failed"
    )
    for frame in sel.frames:
        print(
            f"  selected {frame.info[RUN]} step {frame.info[STEP]} "
            f"({len(frame)} atoms, deviation {frame.info[DEVIATION]:.3f} eV/Å)"
        )
    if not sel.frames:
        print(f"no candidate frame: {args.out} is empty")
    return 0


def _run_report(args) -> int:
    reports = [read_iteration_report(path) for path in args.reports]
    rows = across_iterations(reports)
    with atomic_path(args.csv) as tmp:
        write_across_csv(rows, tmp)
        plot_fractions(rows, args.figure)
    for row in rows:
        if row["scope"] == "overall":
            fa = row["fraction_accurate"]
            print(
                f"iteration {row['iteration']}: accurate fraction "
                f"{'n/a' if fa is None else f'{fa:.3f}'} of {row['n_frames']} frames"
            )
    return 0
