"""``constpot build`` and ``constpot miniature-build``: interfaces as extxyz.

::

    constpot build CONFIG --system no_sei --out interface.extxyz \\
        [--picture side.png] [--summary build.json]
    constpot miniature-build --out miniature.extxyz [--height-A 3.0]
"""

from __future__ import annotations

import json
import time

from ase.io import write

from .. import __version__
from ..build import build_interface, li_ion_at_anode, render_side_view, resolve_recipe
from ..build.miniature import ION_INFO
from ..config import ConfigError, add_config_arguments, config_from_args, versions
from ..io import atomic_path

__all__ = ["register"]


def register(sub) -> None:
    """Add ``build`` and ``miniature-build`` to the CLI's subparsers."""
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


def _run_build(args) -> int:
    config = config_from_args(args, "systems")
    systems = config["systems"] or {}
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
    atoms = build_interface(
        recipe,
        args.system,
        log=lambda line: print(line, flush=True),
        amorphous_store=config.get("amorphous_store"),
    )
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
            "amorphous_store": config.get("amorphous_store"),
            "info": {
                k: v for k, v in atoms.info.items() if isinstance(v, (int, float, str))
            },
            "versions": versions("torch", "torch-pme", "ase"),
        }
        with atomic_path(args.summary) as tmp:
            tmp.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out}", flush=True)
    return 0


def _run_miniature_build(args) -> int:
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
