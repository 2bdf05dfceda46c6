"""Subcommands of the analysis stage, from one MD run to the paper claims.

::

    constpot analyse-run      [CONFIG] --traj RUN/traj.extxyz --out-dir DIR
    constpot figures          [CONFIG] --runs DIR ... --out-dir FIGS
    constpot validation-frames --runs NAME=RUN/traj.extxyz ... --out F.extxyz
    constpot validation-report --labels L.extxyz ... --csv drift.csv
    constpot summarise        [CONFIG] --runs DIR ... --json S.json --md S.md \\
                              --claims paper_claims.md [--validation drift.csv]
    constpot compare-variants --summaries S0.json S1.json --names paper v1 \\
                              --md comparison.md --csv headlines.csv
    constpot miniature-report --constp P.extxyz --constq Q.extxyz \\
                              --json M.json --md M.md [--figure M.png]

Each is a thin wrapper over one library function of :mod:`constpot.analysis`;
settings come from the config's ``analysis:`` section (defaults when it is
absent) and the SEI phase of each system from ``systems:``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ase.io import write

from ..analysis import (
    AnalysisSettings,
    RunLabels,
    analyse_run,
    compare_variants,
    draw_figures,
    miniature_report,
    sei_phases,
    summarise,
)
from ..analysis.miniature import MODES
from ..analysis.validation import drift_table, validation_frames
from ..config import add_config_arguments, config_from_args, resolve_config
from ..io import atomic_path, read_frames
from ..runs import LABEL_COLUMNS

__all__ = ["register"]


def _config(args) -> tuple[dict, dict]:
    """(``analysis:``, ``systems:``) of the resolved config (defaults without one)."""
    if args.config is None and args.config_json is None:
        config = resolve_config({}, "defaults", partial=True)
    else:
        config = config_from_args(args)
    return config["analysis"], config.get("systems") or {}


def register(sub) -> None:
    """Add the analysis subcommands to an argparse subparsers object."""
    p = sub.add_parser(
        "analyse-run",
        help="all per-run analyses of one MD trajectory (tidy CSV tables)",
        description=(
            "Read TRAJ (traj.extxyz of one MD run) and write deposition, "
            "profiles, surface, height_maps, clusters, cluster_sizes, msd and "
            "diffusion CSV tables and run.json into OUT_DIR. Run labels default "
            "to the folder name {mode}_{potential}_r{replica} under {system}/."
        ),
    )
    add_config_arguments(p, "`analysis:`; default: the schema's defaults")
    p.add_argument("--traj", required=True, help="traj.extxyz of one MD run")
    p.add_argument("--out-dir", required=True, help="folder for the tables")
    p.add_argument("--system", help="system name (default: from the path)")
    p.add_argument("--mode", choices=("constp", "constq"))
    p.add_argument("--potential", help="potential label, e.g. -6.0V or none")
    p.add_argument("--replica", type=int)
    p.add_argument(
        "--reference",
        help="traj.extxyz of the matching constant-charge run: its first frame "
        "gives each atom's reference charge for Δq (default: this run's first "
        "frame)",
    )
    p.add_argument(
        "--settings",
        help="JSON mapping of `analysis:` keys, overriding the config "
        "(the workflow passes the section this way)",
    )
    p.set_defaults(func=_run_analyse)

    p = sub.add_parser(
        "figures",
        help="draw every analysis figure from the per-run CSV tables",
    )
    add_config_arguments(p, "`analysis:`, `systems:`")
    p.add_argument("--runs", nargs="*", default=[], help="analysed run folders")
    p.add_argument("--predictions", help="results/train/predictions.csv")
    p.add_argument("--out-dir", required=True, help="folder for the PNGs")
    p.set_defaults(func=_run_figures)

    p = sub.add_parser(
        "validation-frames",
        help="first and last frames of constant-charge runs, to label",
        description="Write the first and last frame of each constant-charge "
        "MD run, tagged with the run, the frame and the model's energy, for "
        "`constpot label`; `validation-report` compares the labelled frames.",
    )
    p.add_argument(
        "--runs",
        nargs="+",
        required=True,
        metavar="NAME=TRAJ",
        help="run name = its traj.extxyz (e.g. no_sei/constq_none_r0=...)",
    )
    p.add_argument("--out", required=True, help="frames to label (extxyz)")
    p.set_defaults(func=_run_validation_frames)

    p = sub.add_parser(
        "validation-report",
        help="the model's energy along each run against the reference's",
        description="Read labelled validation frames (constpot label of "
        "validation-frames) and write one row per run: the model's and the "
        "reference's energy change from the first frame to the last and "
        "their difference, the drift (meV/atom).",
    )
    p.add_argument("--labels", nargs="+", required=True, help="labelled extxyz")
    p.add_argument("--csv", required=True, help="drift table (CSV)")
    p.set_defaults(func=_run_validation_report)

    p = sub.add_parser(
        "summarise",
        help="summary table and the paper-claims check from the run tables",
    )
    add_config_arguments(p, "`analysis:`, `systems:`")
    p.add_argument("--runs", nargs="*", default=[], help="analysed run folders")
    p.add_argument("--predictions", help="results/train/predictions.csv")
    p.add_argument("--json", required=True, help="summary.json")
    p.add_argument("--md", required=True, help="summary.md")
    p.add_argument("--claims", required=True, help="paper_claims.md")
    p.add_argument(
        "--validation", help="results/validation/drift.csv (claim 5, MD drift)"
    )
    p.set_defaults(func=_run_summarise)

    p = sub.add_parser(
        "compare-variants",
        help="the paper's model beside its variants: claims and observables",
        description="Put the summary.json of the paper's model and of each "
        "variant (config variants:) side by side: every claim's verdict and "
        "interval, and the headline observables per system and potential.",
    )
    p.add_argument(
        "--summaries", nargs="+", required=True, help="summary.json, paper's first"
    )
    p.add_argument("--names", nargs="+", required=True, help="model names, same order")
    p.add_argument("--descriptions", help="JSON mapping name -> one-line description")
    p.add_argument("--md", required=True, help="comparison (Markdown)")
    p.add_argument("--csv", required=True, help="headline observables (CSV)")
    p.set_defaults(func=_run_compare_variants)

    p = sub.add_parser(
        "miniature-report",
        help="one Li⁺ at the anode: ConstP vs ConstQ (charge, membership, height)",
        description="Follow the ion of the miniature (constpot miniature-build) "
        "through its constant-potential and constant-charge trajectories: its "
        "charge, electrode membership, height above the top layer and distance "
        "to the nearest hollow per frame. Writes the series and headline "
        "numbers (JSON), a paragraph of them (Markdown) and a figure.",
    )
    p.add_argument("--constp", required=True, help="traj.extxyz, constant potential")
    p.add_argument("--constq", required=True, help="traj.extxyz, constant charge")
    p.add_argument("--json", required=True, help="series and headline (JSON)")
    p.add_argument("--md", required=True, help="the measured numbers (Markdown)")
    p.add_argument("--figure", help="charge, height, membership vs time (PNG)")
    p.set_defaults(func=_run_miniature_report)


def _run_analyse(args) -> int:
    section, _ = _config(args)
    if args.settings:
        try:
            extra = json.loads(args.settings)
        except json.JSONDecodeError as err:
            raise ValueError(f"--settings: not JSON ({err})") from err
        if not isinstance(extra, dict):
            raise ValueError(f"--settings: expected a JSON mapping, got {extra!r}")
        section = {**section, **extra}
    settings = AnalysisSettings.from_config(section)
    overrides = {
        k: getattr(args, k) for k in LABEL_COLUMNS if getattr(args, k) is not None
    }
    if len(overrides) == 4:
        labels = RunLabels(**overrides)
    else:
        labels = RunLabels(**{**RunLabels.from_path(args.traj).todict(), **overrides})
    print(f"analyse-run {labels.system}/{labels.name}: {args.traj}", flush=True)
    start = time.perf_counter()
    summary = analyse_run(
        args.traj, args.out_dir, labels, settings, reference=args.reference
    )
    print(
        f"{summary['n_frames']} frames, {summary['n_atoms']} atoms, "
        f"{summary['duration_ps']:.3f} ps analysed in "
        f"{time.perf_counter() - start:.1f} s -> {args.out_dir}",
        flush=True,
    )
    return 0


def _run_figures(args) -> int:
    section, systems = _config(args)
    settings = AnalysisSettings.from_config(section)
    names = [Path(r).parent.name for r in args.runs]
    paths = draw_figures(
        args.runs,
        args.out_dir,
        predictions=args.predictions,
        phases=sei_phases(systems, names),
        window=settings.window,
    )
    for key, path in paths.items():
        print(f"{key}: {path}")
    return 0


def _run_summarise(args) -> int:
    section, systems = _config(args)
    names = [Path(r).parent.name for r in args.runs]
    claims = summarise(
        args.runs,
        args.json,
        args.md,
        args.claims,
        predictions=args.predictions,
        phases=sei_phases(systems, names),
        criteria=section.get("claims"),
        bootstrap=int(section["bootstrap"]),
        seed=int(section["seed"]),
        confidence=float(section["confidence"]),
        validation=args.validation,
    )
    for claim in claims:
        print(f"claim {claim.number}: {claim.verdict} — {claim.reason}")
    print(f"wrote {args.json}, {args.md}, {args.claims}")
    return 0


def _run_validation_frames(args) -> int:
    runs = {}
    for item in args.runs:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--runs: expected NAME=TRAJ, got {item!r}")
        if name in runs:
            raise ValueError(f"--runs: run {name!r} given twice")
        runs[name] = path
    frames = validation_frames(runs)
    with atomic_path(args.out) as tmp:
        write(tmp, frames, format="extxyz")
    print(f"{len(frames)} frames of {len(runs)} runs -> {args.out}")
    return 0


def _run_validation_report(args) -> int:
    frames = [a for path in args.labels for a in read_frames(path)]
    table = drift_table(frames)
    with atomic_path(args.csv) as tmp:
        table.to_csv(tmp, index=False)
    for _, r in table.iterrows():
        print(
            f"{r['run']}: model {r['model_change_meV_per_atom']:+.1f}, reference "
            f"{r['reference_change_meV_per_atom']:+.1f}, drift "
            f"{r['drift_meV_per_atom']:+.1f} meV/atom over {r['duration_ps']:.2f} ps"
        )
    print(f"{len(table)} runs from {len(frames)} labelled frames -> {args.csv}")
    return 0


def _run_compare_variants(args) -> int:
    if len(args.names) != len(args.summaries):
        raise ValueError(
            f"--names: {len(args.names)} names for {len(args.summaries)} summaries"
        )
    descriptions = json.loads(args.descriptions) if args.descriptions else None
    rows = compare_variants(
        dict(zip(args.names, args.summaries, strict=True)),
        args.md,
        args.csv,
        descriptions=descriptions,
    )
    print(
        f"compared {', '.join(args.names)}: {len(rows['claims'])} claim rows, "
        f"{len(rows['headlines'])} observable rows -> {args.md}, {args.csv}"
    )
    return 0


def _run_miniature_report(args) -> int:
    report = miniature_report(
        args.constp, args.constq, args.json, args.md, figure=args.figure
    )
    for key, label in MODES.items():
        h = report["runs"][key]["headline"]
        print(
            f"{label}: q(0) {h['charge_initial_e']:+.3f} e, q(last half) "
            f"{h['charge_mean_last_half_e']:+.3f} e, member "
            f"{100 * h['member_fraction']:.0f} %, height "
            f"{h['height_initial_A']:.2f} -> {h['height_final_A']:.2f} Å"
        )
    written = [args.json, args.md] + ([args.figure] if args.figure else [])
    print(f"wrote {', '.join(written)}")
    return 0
