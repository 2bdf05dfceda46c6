"""``constpot qeq`` and ``constpot plot-qeq``: charges of one structure.

::

    constpot qeq STRUCTURE --out charged.extxyz [--summary qeq.json] --slab \\
        [--anode-potential V --counter-potential V]
    constpot plot-qeq --constq Q.extxyz --constp P.extxyz --out fig.png \\
        --csv totals.csv

The stage itself is :func:`constpot.qeq.stage.equilibrate_structure`; the
figure and table come from :mod:`constpot.analysis.qeq_profile`.
"""

from __future__ import annotations

from ..analysis import electrode_totals, plot_charge_profiles, read_charged_frame
from ..analysis.qeq_profile import write_totals_csv
from ..qeq.stage import equilibrate_structure

__all__ = ["register"]


def register(sub) -> None:
    """Add ``qeq`` and ``plot-qeq`` to the CLI's subparsers."""
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


def _run_qeq(args) -> int:
    equilibrate_structure(
        args.structure,
        args.out,
        summary=args.summary,
        slab=args.slab,
        normal=args.normal,
        electrodes=args.electrodes,
        anode_potential_V=args.anode_potential,
        counter_potential_V=args.counter_potential,
        total_charge_e=args.total_charge,
        method=args.method,
        tol=args.tol,
        accuracy=args.accuracy,
        device=args.device,
        log=lambda line: print(line, flush=True),
    )
    return 0


def _run_plot_qeq(args) -> int:
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
