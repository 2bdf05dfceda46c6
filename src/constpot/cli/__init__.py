"""Command-line interface: ``constpot <stage> ...``.

One module per stage adds that stage's subcommands with ``register``:
:mod:`~constpot.cli.build` (``build``, ``miniature-build``),
:mod:`~constpot.cli.label` (``sample``, ``label``, ``dataset``),
:mod:`~constpot.cli.qeq` (``qeq``, ``plot-qeq``),
:mod:`~constpot.cli.potential` (``split`` ... ``plot-train``),
:mod:`~constpot.cli.md` (``md``), :mod:`~constpot.cli.active`
(``select-candidates``, ``active-report``) and :mod:`~constpot.cli.analysis`
(``analyse-run`` ... ``miniature-report``). Each subcommand is a thin wrapper
over one library function of its stage; the workflow rules call these.

Errors in the input are reported on one line naming the problem, with exit
status 2, and leave no output file behind; :func:`main` maps every error kind
to its exit status (:mod:`constpot.errors`).
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..errors import ConstpotError, exit_code
from . import active, analysis, build, label, md, potential, qeq

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``constpot`` parser: every stage's subcommands, in pipeline order."""
    parser = argparse.ArgumentParser(
        prog="constpot",
        description="Constant-potential QEq + machine-learned interface simulations",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    build.register(sub)
    label.register(sub)
    qeq.register(sub)
    potential.register(sub)
    md.register(sub)
    active.register(sub)
    analysis.register(sub)
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
