"""Which candidate frames of an iteration go to the labeller.

At most ``max_candidates`` frames over all exploration runs, chosen for
diversity and reproducibly:

1. **Within a run**, farthest-point sampling on the element-pair distance
   histograms (:mod:`constpot.active.descriptor`) over the run's candidate
   frames, starting from the frame of highest model deviation (ties: the
   earlier frame). A frame less than ``min_step_gap`` MD steps from one already
   picked in the same run is skipped.
2. **Across runs**, round robin over the runs in (system, condition) order:
   each run's first pick, then each run's second, ..., until the cap. The
   round starts at a run drawn from ``(seed, iteration)``, so that when the
   cap is below the number of runs, successive iterations favour different
   runs; the same seed and iteration always give the same frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .classify import classify
from .descriptor import farthest_point_order, pair_histograms
from .exploration import ExplorationRun
from .keys import CANDIDATE
from .settings import ActiveSettings

__all__ = ["run_order", "select_frames"]


def run_order(run: ExplorationRun, settings: ActiveSettings) -> list[int]:
    """The run's candidate frames in pick order (at most ``max_candidates``).

    Parameters
    ----------
    run : ExplorationRun
    settings : ActiveSettings

    Returns
    -------
    list of int
        Frame indices into ``run.frames``.
    """
    classes = classify(
        run.deviation_eV_A, settings.trust_lo_eV_A, settings.trust_hi_eV_A
    )
    cand = np.flatnonzero(classes == CANDIDATE)
    if not cand.size or settings.max_candidates == 0:
        return []
    numbers = sorted({int(z) for k in cand for z in run.frames[k].numbers})
    desc = np.array([pair_histograms(run.frames[k], numbers) for k in cand])
    steps = run.steps[cand]
    sigma = run.deviation_eV_A[cand]
    # highest deviation first; among equals the earliest frame (argmax's rule)
    first = int(np.argmax(sigma))
    gap = settings.min_step_gap

    def too_close(k: int) -> np.ndarray:
        return np.abs(steps - steps[k]) < gap

    order = farthest_point_order(desc, first, settings.max_candidates, too_close)
    return [int(cand[k]) for k in order]


def select_frames(
    runs: Sequence[ExplorationRun],
    settings: ActiveSettings,
    *,
    seed: int,
    iteration: int,
) -> list[tuple[int, int]]:
    """Pick the iteration's frames to label (see the module docstring).

    Parameters
    ----------
    runs : sequence of ExplorationRun
    settings : ActiveSettings
    seed : int
        The workflow's seed.
    iteration : int
        The active-learning iteration (0, 1, ...).

    Returns
    -------
    list of (int, int)
        ``(run index, frame index)`` in pick order, at most
        ``settings.max_candidates``.
    """
    keyed = sorted(range(len(runs)), key=lambda r: (runs[r].system, runs[r].condition))
    orders = [(r, run_order(runs[r], settings)) for r in keyed]
    orders = [(r, order) for r, order in orders if order]
    if not orders:
        return []
    start = int(np.random.default_rng([seed, iteration]).integers(len(orders)))
    orders = orders[start:] + orders[:start]
    picks: list[tuple[int, int]] = []
    for depth in range(max(len(order) for _, order in orders)):
        for r, order in orders:
            if depth < len(order) and len(picks) < settings.max_candidates:
                picks.append((r, order[depth]))
    return picks
