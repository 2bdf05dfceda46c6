"""Active learning: which exploration frames the next data set needs.

One iteration k of the loop (the workflow runs it; see
``docs/active_learning.md``):

1. *explore*: the ensemble trained on data set k runs short MD
   (``constpot md``) at constant charge and at the sweep's potentials, over
   a temperature range; each frame's model deviation σ (max over atoms of the
   ensemble's force spread) goes to ``thermo.csv``;
2. *select* (this package, ``constpot select-candidates``): classify every
   frame by σ against the trust window (:mod:`~constpot.active.classify`),
   pick at most ``max_candidates`` candidates, spread over runs and far apart
   in structure (:mod:`~constpot.active.selection`), optionally carve each
   to ``max_atoms`` (:mod:`~constpot.active.carve`), and report the class
   fractions (:mod:`~constpot.active.report`);
3. *label* the candidates, merge them into data set k+1, retrain.

The accurate fraction rising from one iteration to the next is the sign that
the loop works (``constpot active-report``).

Example
-------
>>> from constpot.active import ActiveSettings, select_iteration
>>> settings = ActiveSettings(trust_lo_eV_A=0.05, trust_hi_eV_A=0.3)
>>> sel = select_iteration(["explore/no_sei/constq_T300K"], settings,
...                        seed=0, iteration=0,
...                        structures={"no_sei": interface})  # doctest: +SKIP
>>> sel.report["overall"]["fraction_accurate"]                 # doctest: +SKIP
"""

from .carve import carve_window, ensemble_forces, per_atom_force_deviation
from .classify import class_counts, classify
from .descriptor import farthest_point_order, pair_histograms
from .exploration import ExplorationRun, read_exploration
from .figure import CLASS_COLOURS, plot_fractions
from .iteration import IterationSelection, select_iteration
from .keys import ACCURATE, CANDIDATE, CLASSES, FAILED
from .report import (
    ACROSS_COLUMNS,
    REPORT_COLUMNS,
    across_iterations,
    iteration_report,
    read_iteration_report,
    write_across_csv,
    write_iteration_report,
)
from .selection import run_order, select_frames
from .settings import ActiveSettings

__all__ = [
    "ACCURATE",
    "ACROSS_COLUMNS",
    "CANDIDATE",
    "CLASSES",
    "CLASS_COLOURS",
    "FAILED",
    "REPORT_COLUMNS",
    "ActiveSettings",
    "ExplorationRun",
    "IterationSelection",
    "across_iterations",
    "carve_window",
    "class_counts",
    "classify",
    "ensemble_forces",
    "farthest_point_order",
    "iteration_report",
    "pair_histograms",
    "per_atom_force_deviation",
    "plot_fractions",
    "read_exploration",
    "read_iteration_report",
    "run_order",
    "select_frames",
    "select_iteration",
    "write_across_csv",
    "write_iteration_report",
]
