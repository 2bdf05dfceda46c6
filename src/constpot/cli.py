"""Command-line interface: ``constpot <stage> ...``.

Each subcommand is a thin wrapper over one library function; the workflow
rules call these. Errors in the input are reported on one line naming the
problem, with exit status 2, and leave no output file behind.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from .config import ConfigError, add_config_arguments, config_from_args, versions
from .errors import ConstpotError, exit_code

__all__ = ["main"]

#: Packages with a ``commands`` module whose ``register(subparsers)`` adds
#: subcommands (in pipeline order).
_STAGES: tuple[str, ...] = ("potential", "md", "analysis")


def _add_qeq(sub) -> None:
    p = sub.add_parser(
        "qeq",
        help="equilibrate charges of a structure (constant charge or potential)",
        description=(
            "Equilibrate the charges of STRUCTURE with Gaussian-charge QEq. With "
            "--anode-potential/--counter-potential the electrodes (metallic Li, "
            "paper rule) are held at those potentials (V; the paper's "
            "electronegativity shift is phi = -psi); without, the total charge "
            "is fixed at zero. Writes an extxyz with per-atom 'charges' and "
            "'electrode' (0 none, 1 anode, 2 counter)."
        ),
    )
    p.add_argument("structure", help="any file ASE reads (POSCAR, extxyz, ...)")
    p.add_argument("--out", required=True, help="output extxyz")
    p.add_argument("--summary", help="optional JSON summary file")
    p.add_argument(
        "--slab",
        action="store_true",
        help="x, y periodic with normal z (Yeh-Berkowitz correction, cell as given)",
    )
    p.add_argument(
        "--normal",
        choices=("x", "y", "z"),
        default="z",
        help="surface normal of the input; rotated to z (default z)",
    )
    p.add_argument(
        "--electrodes",
        choices=("paper", "none"),
        default="paper",
        help="electrode membership: paper = >= 8 Li neighbours within 3.5 Å, "
        "plus frozen (FixAtoms) atoms; none = no electrodes",
    )
    p.add_argument(
        "--anode-potential",
        type=float,
        metavar="V",
        help="anode potential psi in volts (enables constant potential)",
    )
    p.add_argument(
        "--counter-potential",
        type=float,
        metavar="V",
        help="counter-electrode potential psi in volts",
    )
    p.add_argument(
        "--total-charge",
        type=float,
        default=0.0,
        metavar="E",
        help="total charge of the cell in e (default 0)",
    )
    p.add_argument("--method", choices=("cg", "dense"), default="cg")
    p.add_argument(
        "--tol",
        type=float,
        default=1e-8,
        help="relative KKT residual for CG (default 1e-8)",
    )
    p.add_argument(
        "--accuracy",
        type=float,
        default=1e-6,
        help="Ewald/PME target accuracy (torch-pme error bounds)",
    )
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    p.set_defaults(func=_run_qeq)


def _add_plot_qeq(sub) -> None:
    p = sub.add_parser(
        "plot-qeq",
        help="plot charges along the normal and electrode totals",
        description="Compare a constant-charge and a constant-potential frame.",
    )
    p.add_argument("--constq", required=True, help="constant-charge extxyz")
    p.add_argument("--constp", required=True, help="constant-potential extxyz")
    p.add_argument("--out", required=True, help="figure (PNG)")
    p.add_argument("--csv", required=True, help="electrode totals table (CSV)")
    p.add_argument(
        "--bin-width",
        type=float,
        default=0.5,
        metavar="A",
        help="slice width along z in Å (default 0.5)",
    )
    p.set_defaults(func=_run_plot_qeq)


def _add_build(sub) -> None:
    p = sub.add_parser(
        "build",
        help="build an anode | SEI | electrolyte | counter-electrode interface",
        description=(
            "Build system NAME of CONFIG (a YAML file with a `systems:` mapping of "
            "named recipes; see config/README.md) and write it as extxyz with "
            "per-atom region, mol_id, frozen and formal initial charges."
        ),
    )
    add_config_arguments(p, "`systems:`")
    p.add_argument("--system", required=True, help="name under `systems:`")
    p.add_argument("--out", required=True, help="output extxyz")
    p.add_argument("--picture", help="optional side-view PNG")
    p.add_argument("--summary", help="optional JSON summary (counts, densities)")
    p.set_defaults(func=_run_build)


def _run_build(args) -> int:
    from ase.io import write

    from .build import build_interface, render_side_view, resolve_recipe
    from .io import atomic_path

    systems = config_from_args(args, "systems")["systems"] or {}
    if args.system not in systems:
        raise ConfigError(
            f"--system: no system {args.system!r} under `systems:` (have: "
            f"{', '.join(systems) or 'none'})"
        )
    recipe = systems[args.system]
    full = resolve_recipe(recipe, args.system)  # fails here, before any work
    print(
        f"constpot {__version__} build: system {args.system!r} "
        f"(preset {full['preset']}, seed {full['seed']})",
        flush=True,
    )
    start = time.perf_counter()
    atoms = build_interface(recipe, args.system)
    seconds = time.perf_counter() - start
    regions = atoms.arrays["region"]
    counts = {r: int((regions == r).sum()) for r in dict.fromkeys(regions)}
    print(
        f"built {len(atoms)} atoms in {seconds:.1f} s: "
        + ", ".join(f"{r} {n}" for r, n in counts.items()),
        flush=True,
    )
    with atomic_path(args.out) as tmp:
        write(tmp, atoms, format="extxyz")
    if args.picture:
        render_side_view(
            atoms, args.picture, title=f"{args.system}: {len(atoms)} atoms"
        )
    if args.summary:
        summary = {
            "system": args.system,
            "n_atoms": len(atoms),
            "regions": counts,
            "formula": atoms.get_chemical_formula(),
            "cell_A": atoms.cell.array.tolist(),
            "seconds": seconds,
            "recipe": full,
            "info": {
                k: v for k, v in atoms.info.items() if isinstance(v, (int, float, str))
            },
            "versions": versions("torch", "torch-pme", "ase"),
        }
        with atomic_path(args.summary) as tmp:
            tmp.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out}", flush=True)
    return 0


def _add_miniature_build(sub) -> None:
    p = sub.add_parser(
        "miniature-build",
        help="one Li⁺ above a Li(100) anode with a PF6⁻ above it (the miniature)",
        description="Build the miniature of constpot.build.li_ion_at_anode: a "
        "3x3x5 bcc(100) Li anode (demo preset lattice constant, 2 frozen "
        "layers), a Li⁺ above a hollow of its top layer and a PF6⁻ above the "
        "ion, padded with vacuum along z; by default no counter electrode (run "
        "constp with counter_potential_V 0). Deterministic: no seed.",
    )
    p.add_argument("--out", required=True, help="output extxyz")
    p.add_argument(
        "--height-A",
        type=float,
        default=3.0,
        help="ion height above the top layer, Å (default 3.0)",
    )
    p.add_argument(
        "--counter-layers",
        type=int,
        default=0,
        help="layers of a Li counter electrode above the anion (default 0: none)",
    )
    p.set_defaults(func=_run_miniature_build)


def _run_miniature_build(args) -> int:
    from ase.io import write

    from .build.miniature import ION_INFO, li_ion_at_anode
    from .io import atomic_path

    atoms = li_ion_at_anode(height_A=args.height_A, counter_layers=args.counter_layers)
    with atomic_path(args.out) as tmp:
        write(tmp, atoms, format="extxyz")
    print(
        f"built {len(atoms)} atoms ({atoms.get_chemical_formula()}), a = "
        f"{atoms.info['a_A']} Å, ion {atoms.info[ION_INFO]} at "
        f"{args.height_A:g} Å -> {args.out}",
        flush=True,
    )
    return 0


def _add_label(sub) -> None:
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
    from ase.io import write

    from .io import atomic_path, read_structure
    from .label import sample_configurations

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
        strain=cfg["strain"],
        labeller=cfg["labeller"],  # a k-point labeller lifts the Γ-only cell rule
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
    from .label import label_shard, make_labeller

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
    from .label import merge_shards

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


def _run_qeq(args) -> int:
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    from .io import atomic_path, frozen_mask, read_structure
    from .keys import ANODE, COUNTER, ELECTRODE, ELECTRODE_NAMES, FROZEN
    from .qeq import (
        ChargeSolver,
        QEqParameters,
        QEqSetupError,
        electrode_potentials,
        metallic_li,
        rotate_normal_to_z,
    )

    path = Path(args.structure)
    atoms = read_structure(path)
    frozen = frozen_mask(atoms)
    atoms = rotate_normal_to_z(atoms, args.normal)
    atoms.set_constraint()
    atoms.arrays[FROZEN] = frozen

    constant_potential = (
        args.anode_potential is not None or args.counter_potential is not None
    )
    if args.electrodes == "paper":
        labels = metallic_li(atoms, always=np.flatnonzero(frozen))
    else:
        labels = np.zeros(len(atoms), dtype=np.int64)
        if constant_potential:
            raise QEqSetupError(
                "--anode-potential/--counter-potential need electrodes; "
                "use --electrodes paper"
            )
    atoms.arrays[ELECTRODE] = labels
    psi = None
    if constant_potential:
        psi = electrode_potentials(
            labels, args.anode_potential or 0.0, args.counter_potential or 0.0
        )

    solver = ChargeSolver(
        QEqParameters.paper(),
        slab=args.slab,
        method=args.method,
        tol=args.tol,
        device=args.device,
        accuracy=args.accuracy,
    )
    mode = "constant potential" if constant_potential else "constant charge"
    print(
        f"constpot {__version__} qeq: {path} ({len(atoms)} atoms, {mode}, "
        f"{args.method}, slab={args.slab}, normal {args.normal} -> z)",
        flush=True,
    )
    print(
        "electrode atoms: "
        f"anode {int((labels == ANODE).sum())}, "
        f"counter {int((labels == COUNTER).sum())}",
        flush=True,
    )
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = solver.solve(atoms, potential=psi, total_charge=args.total_charge)
    for w in caught:
        print(f"warning: {w.message}", flush=True)
    seconds = time.perf_counter() - start
    print(
        f"solved in {seconds:.2f} s: {res.iterations} CG iterations, relative "
        f"residual {res.residual:.2e}; E_QEq = {res.energy:.6f} eV, "
        f"Omega = {res.grand_energy:.6f} eV",
        flush=True,
    )

    q = res.charges
    parts = {}
    for value, name in ELECTRODE_NAMES.items():
        sel = labels == value
        parts[name] = {"n_atoms": int(sel.sum()), "total_e": float(q[sel].sum())}
    elements = {}
    for sym in sorted(set(atoms.get_chemical_symbols())):
        v = q[atoms.symbols == sym]
        elements[sym] = {
            "n_atoms": int(v.size),
            "mean_e": float(v.mean()),
            "std_e": float(v.std()),
            "min_e": float(v.min()),
            "max_e": float(v.max()),
        }
    print(f"{'part':<10}{'atoms':>8}{'total (e)':>14}")
    for name, row in parts.items():
        print(f"{name:<10}{row['n_atoms']:>8}{row['total_e']:>14.6f}")
    print(f"{'element':<8}{'atoms':>7}{'mean':>10}{'std':>10}{'min':>10}{'max':>10}")
    for sym, row in elements.items():
        print(
            f"{sym:<8}{row['n_atoms']:>7}{row['mean_e']:>10.4f}"
            f"{row['std_e']:>10.4f}{row['min_e']:>10.4f}{row['max_e']:>10.4f}"
        )

    atoms.calc = SinglePointCalculator(
        atoms,
        energy=res.energy,
        free_energy=res.grand_energy,
        forces=res.forces,
        charges=q,
    )
    atoms.info.update(
        {
            "qeq_mode": "constp" if constant_potential else "constq",
            "anode_potential_V": float(args.anode_potential or 0.0),
            "counter_potential_V": float(args.counter_potential or 0.0),
            "cg_iterations": int(res.iterations),
            "qeq_residual": float(res.residual),
            "anode_charge_e": parts["anode"]["total_e"],
            "counter_charge_e": parts["counter"]["total_e"],
        }
    )
    with atomic_path(args.out) as tmp:
        write(tmp, atoms, format="extxyz")
    if args.summary:
        summary = {
            "structure": str(path),
            "n_atoms": len(atoms),
            "mode": atoms.info["qeq_mode"],
            "anode_potential_V": args.anode_potential,
            "counter_potential_V": args.counter_potential,
            "total_charge_e": float(q.sum()),
            "energy_eV": res.energy,
            "grand_energy_eV": res.grand_energy,
            "iterations": res.iterations,
            "residual": res.residual,
            "seconds": seconds,
            "parts": parts,
            "elements": elements,
            "solver": solver.todict(),
            "ewald": res.settings,
            "versions": versions("torch", "torch-pme", "ase"),
        }
        with atomic_path(args.summary) as tmp:
            tmp.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out}", flush=True)
    return 0


def _run_plot_qeq(args) -> int:
    from .analysis.qeq_profile import (
        electrode_totals,
        plot_charge_profiles,
        read_charged_frame,
        write_totals_csv,
    )

    frames = {
        "constant charge": read_charged_frame(args.constq),
        "constant potential": read_charged_frame(args.constp),
    }
    totals = {
        "constq": electrode_totals(frames["constant charge"]),
        "constp": electrode_totals(frames["constant potential"]),
    }
    write_totals_csv(args.csv, totals)
    plot_charge_profiles(frames, args.out, bin_width=args.bin_width)
    for mode, parts in totals.items():
        print(mode, {k: round(v["total_e"], 4) for k, v in parts.items()})
    print(f"wrote {args.out} and {args.csv}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="constpot",
        description="Constant-potential QEq + machine-learned interface simulations",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_build(sub)
    _add_miniature_build(sub)
    _add_label(sub)
    _add_qeq(sub)
    _add_plot_qeq(sub)
    # Later stages register their own subcommands (constpot.<stage>.commands).
    for stage in _STAGES:
        module = importlib.import_module(f"constpot.{stage}.commands")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``constpot`` console script.

    Exit status: 0 done; 2 bad input (config, structure, argument: one line
    on stderr naming it); 3 a guard stopped the run; 4 a solve did not
    converge; 5 an external program failed (:mod:`constpot.errors`).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ConstpotError, ValueError, OSError, RuntimeError) as err:
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"constpot {args.command}: error: {message}", file=sys.stderr)
        return exit_code(err)


if __name__ == "__main__":
    sys.exit(main())
