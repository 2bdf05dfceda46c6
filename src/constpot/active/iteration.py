"""One active-learning iteration's selection: runs in, frames to label out.

:func:`select_iteration` reads the exploration runs, classifies every frame
(:mod:`constpot.active.classify`), picks the candidates
(:mod:`constpot.active.selection`), carves them when ``max_atoms`` is set
(:mod:`constpot.active.carve`) and returns them as frames for ``constpot
label`` together with the iteration's report (:mod:`constpot.active.report`).

A selected frame has the MD frame's numbers, positions, cell, ``pbc`` and the
builder arrays it carries (``region``, ``mol_id``, ``molecule``, ``frozen``),
no charges, velocities or calculator, and:

- ``initial_charges``: the **formal** charges (Li⁺ +1, F⁻ −1, O²⁻ −2, PF₆⁻'s
  P +5 and F −1, metal Li and solvent 0) that the labellers sum to the
  frame's total charge. MD frames do not carry them (their ``charges`` are
  the QEq charges); they are taken, atom by atom, from the interface the run
  started from (``structures[system]``, the built ``interface.extxyz``:
  MD keeps the atom order), which must have the frame's atomic numbers. A
  frame that carries an ``initial_charges`` array itself uses that instead.
- info: ``category`` "active", ``system``, ``sample_index``
  (:func:`~constpot.active.keys.active_sample_index`: 1 000 000 × (k + 1) +
  0, 1, ... in pick order; ``constpot label`` shards on it), ``total_charge`` (int, e),
  ``step`` (the MD step) and the keys of :mod:`constpot.active.keys`
  (iteration, run, deviation, carve atom).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from ..errors import SetupError
from ..keys import (
    CATEGORY,
    FROZEN,
    MOL_ID,
    MOLECULE,
    REGION,
    SAMPLE_INDEX,
    STEP,
    SYSTEM,
    TOTAL_CHARGE,
)
from .carve import carve_window, ensemble_forces, per_atom_force_deviation
from .classify import classify
from .exploration import ExplorationRun, read_exploration
from .keys import (
    ACTIVE_CATEGORY,
    CARVE_ATOM,
    DEVIATION,
    ITERATION,
    RUN,
    active_sample_index,
)
from .report import iteration_report
from .selection import select_frames
from .settings import ActiveSettings

__all__ = ["IterationSelection", "select_iteration"]

#: Builder arrays a selected frame keeps (those MD frames carry).
KEPT_ARRAYS = (REGION, MOL_ID, MOLECULE, FROZEN)
#: Formal charges must sum to an integer within this (e).
_CHARGE_TOL_E = 1e-6


@dataclass
class IterationSelection:
    """What :func:`select_iteration` found.

    Attributes
    ----------
    runs : list of ExplorationRun
        In the order given.
    classes : list of (n_frames,) ndarray of str
        Each run's frame classes.
    picks : list of (int, int)
        ``(run index, frame index)`` of the selected frames, in pick order.
    frames : list of ase.Atoms
        The selected frames, ready for ``constpot label``.
    report : dict
        :func:`constpot.active.report.iteration_report`.
    """

    runs: list[ExplorationRun]
    classes: list[np.ndarray]
    picks: list[tuple[int, int]]
    frames: list[Atoms] = field(repr=False)
    report: dict = field(repr=False)


def _formal_charges(
    run: ExplorationRun, frame: Atoms, structures: Mapping[str, Atoms]
) -> np.ndarray:
    if "initial_charges" in frame.arrays:
        return np.asarray(frame.arrays["initial_charges"], dtype=float)
    if run.system not in structures:
        raise SetupError(
            f"{run.path}: frames carry no formal charges: give the interface of "
            f"system {run.system!r} (--structure {run.system}=PATH)"
        )
    ref = structures[run.system]
    if len(ref) != len(frame) or not np.array_equal(ref.numbers, frame.numbers):
        raise SetupError(
            f"structure of system {run.system!r}: its {len(ref)} atoms are not "
            f"those of the frames of {run.path} ({len(frame)} atoms, same order)"
        )
    return ref.get_initial_charges()


def _selected_frame(
    run: ExplorationRun,
    index: int,
    charges: np.ndarray,
    keep: np.ndarray,
    carve_atom: int,
    iteration: int,
    sample_index: int,
) -> Atoms:
    frame = run.frames[index]
    out = Atoms(
        numbers=frame.numbers[keep],
        positions=frame.positions[keep],
        cell=frame.cell,
        pbc=frame.pbc,
        charges=charges[keep],
    )
    for key in KEPT_ARRAYS:
        if key in frame.arrays:
            out.arrays[key] = frame.arrays[key][keep].copy()
    total = float(charges[keep].sum())
    if abs(total - round(total)) > _CHARGE_TOL_E:
        raise SetupError(
            f"{run.path}: formal charges of step {int(run.steps[index])} sum to "
            f"{total}, not an integer"
        )
    out.info = {
        CATEGORY: ACTIVE_CATEGORY,
        SYSTEM: run.system,
        SAMPLE_INDEX: sample_index,
        TOTAL_CHARGE: round(total),
        STEP: int(run.steps[index]),
        ITERATION: int(iteration),
        RUN: run.name,
        DEVIATION: float(run.deviation_eV_A[index]),
        CARVE_ATOM: int(carve_atom),
    }
    return out


def select_iteration(
    run_dirs: Sequence[str | os.PathLike],
    settings: ActiveSettings,
    *,
    seed: int,
    iteration: int,
    structures: Mapping[str, Atoms] | None = None,
    models: Sequence | None = None,
) -> IterationSelection:
    """Classify the exploration frames of one iteration and pick those to label.

    Parameters
    ----------
    run_dirs : sequence of path-like
        Exploration run folders ``.../{system}/{condition}/``; no two with
        the same system and condition.
    settings : ActiveSettings
    seed : int, >= 0
        The workflow's seed (the round robin's start, with ``iteration``).
    iteration : int, >= 0
    structures : mapping of str to ase.Atoms, optional
        System name → the interface its runs started from, for the formal
        charges (see the module docstring).
    models : sequence of ase Calculators, optional
        The ensemble's short-range models (at least two); needed when
        ``settings.max_atoms`` is set, for the per-atom deviation that
        centres the carved window.

    Returns
    -------
    IterationSelection

    Raises
    ------
    SetupError
        No run; a run given twice; ``max_atoms`` set without two models; a
        bad run folder (:func:`~constpot.active.exploration.read_exploration`);
        no formal charges for a picked frame.
    """
    if not run_dirs:
        raise SetupError("no exploration runs given")
    if settings.max_atoms is not None and (models is None or len(models) < 2):
        raise SetupError(
            f"active.max_atoms is {settings.max_atoms}: carving needs the ensemble "
            "(give --models with at least two models)"
        )
    structures = {} if structures is None else dict(structures)
    runs = [read_exploration(path) for path in run_dirs]
    seen: dict[str, str] = {}
    for run in runs:
        if run.name in seen:
            raise SetupError(f"{run.path}: run {run.name} given twice")
        seen[run.name] = str(run.path)
    classes = [
        classify(r.deviation_eV_A, settings.trust_lo_eV_A, settings.trust_hi_eV_A)
        for r in runs
    ]
    picks = select_frames(runs, settings, seed=seed, iteration=iteration)
    frames = []
    for sample_index, (r, k) in enumerate(picks):
        run, frame = runs[r], runs[r].frames[k]
        charges = _formal_charges(run, frame, structures)
        keep, centre = np.arange(len(frame)), -1
        if settings.max_atoms is not None and len(frame) > settings.max_atoms:
            sigma_i = per_atom_force_deviation(ensemble_forces(frame, models))
            centre = int(np.argmax(sigma_i))
            keep = carve_window(frame, centre, settings.max_atoms)
        frames.append(
            _selected_frame(
                run,
                k,
                charges,
                keep,
                centre,
                iteration,
                active_sample_index(iteration, sample_index),
            )
        )
    report = iteration_report(
        runs, classes, picks, settings, seed=seed, iteration=iteration, frames=frames
    )
    return IterationSelection(runs, classes, picks, frames, report)
