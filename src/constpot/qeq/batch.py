"""Several charge solves advanced together.

:func:`solve_batch` sets up each problem with its own solver (each keeps its
own Ewald workspace and reference preconditioner: the systems of a batch are
independent runs), then iterates all their CGs in lockstep
(:func:`~constpot.qeq.cg.advance_together`): one read-back of every residual
per check instead of one per system and iteration. Each solve runs the
iterations it would run alone, so each result is its single solve's bit for
bit at the same ``check_every``. A solve that fails (bad input, no
convergence) fails alone: its slot holds the exception and the others go on.

Example
-------
>>> jobs = [(solver_a, {"atoms": a, "potential": psi_a}),     # doctest: +SKIP
...         (solver_b, {"atoms": b, "potential": psi_b})]
>>> res_a, res_b = solve_batch(jobs)                          # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from .cg import advance_together
from .errors import ConvergenceError, QEqSetupError
from .problem import ChargeResult
from .solver import ChargeSolver

__all__ = ["solve_batch"]


def solve_batch(
    jobs: Sequence[tuple[ChargeSolver, dict]], errors: str = "raise"
) -> list[ChargeResult | Exception]:
    """Solve ``(solver, keyword arguments of solver.solve)`` jobs together.

    The check interval is the smallest ``check_every`` of the solvers.

    Parameters
    ----------
    errors : {"raise", "return"}
        Raise the first job's error (:class:`QEqSetupError`,
        :class:`ConvergenceError`), or return it in that job's slot.

    Returns
    -------
    list
        One :class:`ChargeResult` per job, in order (or its exception).
    """
    if errors not in ("raise", "return"):
        raise ValueError(f"errors must be 'raise' or 'return', got {errors!r}")
    if not jobs:
        return []
    out: list = [None] * len(jobs)
    prepared = {}
    for k, (solver, kwargs) in enumerate(jobs):
        try:
            prepared[k] = solver.prepare(**kwargs)
        except (QEqSetupError, ConvergenceError) as err:
            out[k] = err
    start = time.perf_counter()
    solves = {k: p.cg for k, p in prepared.items() if p.cg is not None}
    check_every = min(solver.check_every for solver, _ in jobs)
    failed = advance_together(list(solves.values()), check_every)
    for k, err in zip(solves, failed, strict=True):
        if err is not None:
            out[k] = err
            del prepared[k]
    for k, p in prepared.items():
        p.seconds["solve_start"] = start
        try:
            out[k] = jobs[k][0].finish(p)
        except ConvergenceError as err:
            out[k] = err
    if errors == "raise":
        for item in out:
            if isinstance(item, Exception):
                raise item
    return out
