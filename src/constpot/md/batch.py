"""Batched sweeps: several MD runs of one system advanced together.

:func:`run_batch` runs several :func:`~constpot.md.run` runs (replicas,
potentials, a constant-charge control) of one system in one process: each in
its own thread with its own calculator, driver and folder (checkpoints,
resumes, guards, summaries: all as a single run's), the calculators joined in
a :class:`~constpot.potential.batch.BatchGroup` that evaluates each step of
every run in one model call and one charge solve
(:mod:`constpot.potential.batch`). A run that ends (finished, stopped by a
guard, failed) leaves the group and the others go on. The threads release the
interpreter during the model and the charge solve; the work of a round is done
by one thread, so the batch uses the device (or the torch threads) as one run
would, B frames at a time.

Each run's files are those of the run alone byte for byte where the model is
called frame by frame (CPU cores, a compiled model): a batch and its resume
then write what single runs would. With one model call over the batch (a
GPU) the energies and forces agree with single calls to float rounding
(~1e-12 eV), and so do the trajectories over short times.

SIGTERM/SIGINT: the main thread holds the handler
(:class:`~constpot.md.interrupt.StopOnSignal`) and every run ends after its
step in progress with a checkpoint, as a single run does.

Example
-------
>>> outcomes = run_batch(                                       # doctest: +SKIP
...     [BatchRun(atoms, settings_a, "results/md/x/constp_-6.0V_r0"),
...      BatchRun(atoms, settings_b, "results/md/x/constq_none_r0")],
...     models=["model.nequip.zip"], resume="auto")
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ase import Atoms

from ..potential import HybridCalculator
from ..potential.batch import BatchGroup
from .driver import run
from .interrupt import StopOnSignal
from .settings import MDSettings

__all__ = ["BatchRun", "run_batch"]

#: Seconds between the main thread's looks at its signal handler while runs go.
_POLL_S = 0.2


@dataclass
class BatchRun:
    """One run of a batch: its start, settings, folder and extra keywords of
    :func:`~constpot.md.run` (``metadata``, ``until_step``, ...)."""

    atoms: Atoms
    settings: MDSettings
    outdir: str | Path
    options: dict = field(default_factory=dict)


def run_batch(
    runs: Sequence[BatchRun],
    calculator: Callable[[], HybridCalculator],
    *,
    resume: bool | str = False,
    models: Sequence[str] = (),
    log: Callable[[str], None] | None = None,
) -> list[dict | BaseException]:
    """Run ``runs`` together; returns each one's summary or its error.

    Parameters
    ----------
    runs : sequence of BatchRun
        Runs of one system (any modes, potentials, replicas); their folders
        must differ.
    calculator : callable
        Makes one run's calculator. Every calculator must use the same
        short-range model objects (``short_range``): the group evaluates
        them for all runs at once.
    resume : {False, True, "auto"}
        As :func:`~constpot.md.run`, for every run.
    models : sequence of paths
        The model files (recorded in each run's identity).
    log : callable, optional
        Receives each run's log lines, prefixed with the run's folder name.

    Returns
    -------
    list
        Per run, in order: its summary (dict) or the exception that ended it
        (:class:`~constpot.md.MDGuardError`, :class:`~constpot.md.MDSetupError`,
        :class:`~constpot.errors.Interrupted`, ...).

    Raises
    ------
    ValueError
        No runs, two runs in one folder, or calculators that do not share
        their short-range models.
    """
    if not runs:
        raise ValueError("run_batch: no runs given")
    folders = [Path(r.outdir).resolve() for r in runs]
    if len(set(folders)) != len(folders):
        raise ValueError("run_batch: two runs share a folder")
    calcs = [calculator() for _ in runs]
    shared = calcs[0].short_range
    for calc in calcs[1:]:
        if len(calc.short_range) != len(shared) or any(
            a is not b for a, b in zip(calc.short_range, shared, strict=True)
        ):
            raise ValueError(
                "run_batch: the calculators must share their short-range model "
                "objects (build them once and pass the same list)"
            )
    group = BatchGroup(len(runs), shared)
    for calc in calcs:
        calc.batch = group
    outcomes: list = [None] * len(runs)

    def work(k: int) -> None:
        spec = runs[k]
        name = Path(spec.outdir).name
        line = None if log is None else (lambda text: log(f"[{name}] {text}"))
        try:
            outcomes[k] = run(
                spec.atoms,
                calcs[k],
                spec.settings,
                spec.outdir,
                resume=resume,
                models=models,
                log=line,
                progress=False,
                **spec.options,
            )
        except BaseException as err:  # reported per run, by the caller
            outcomes[k] = err
        finally:
            group.leave()

    threads = [
        threading.Thread(target=work, args=(k,), name=f"md-{k}", daemon=True)
        for k in range(len(runs))
    ]
    with StopOnSignal():  # the runs' own handlers defer to this one
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(_POLL_S)
    counts = Counter(group.sizes)
    rounds = ", ".join(
        f"{counts[b]} rounds of {b}" for b in sorted(counts, reverse=True)
    )
    (log or print)(f"batch: {len(runs)} runs, {rounds or 'no rounds'}")
    return outcomes
