"""Science out of constpot's files: profiles, totals and figures.

Analyses read files (extended XYZ with per-atom ``charges`` and ``electrode``)
and write tidy CSV tables; figures are drawn from those tables.

Per MD run (:func:`analyse_run`): :class:`Deposition` (Li joining the anode,
reduced Li⁺), :class:`Profiles` (densities, charge and Poisson potential along
z), :class:`AnodeSurface` (height maps, roughness), :class:`LiClusters`
(reduced-Li clusters in the SEI), :class:`LiDiffusion` (MSD, D_Li with
pymatgen-analysis-diffusion). Across runs: :func:`draw_figures` (one figure per
paper claim, from the CSVs) and :func:`summarise` (summary table and the
paper-claims check).
"""

from ._frames import RunLabels, read_trajectory
from .accuracy import accuracy_metrics, headline_accuracy, read_predictions
from .clusters import LiClusters, cluster_sizes
from .deposition import Deposition
from .diffusion import LiDiffusion, group_indices, unwrap_positions
from .figures import FIGURES, draw_figures
from .profiles import (
    Profiles,
    gaussian_charge_density,
    poisson_potential,
    smearing_widths,
)
from .qeq_profile import (
    charge_profile,
    electrode_totals,
    plot_charge_profiles,
    read_charged_frame,
)
from .run import AnalysisSettings, analyse_run
from .summary import evaluate_claims, run_headline, sei_phases, summarise
from .surface import AnodeSurface, height_map, surface_statistics

__all__ = [
    "FIGURES",
    "AnalysisSettings",
    "AnodeSurface",
    "Deposition",
    "LiClusters",
    "LiDiffusion",
    "Profiles",
    "RunLabels",
    "accuracy_metrics",
    "analyse_run",
    "charge_profile",
    "cluster_sizes",
    "draw_figures",
    "electrode_totals",
    "evaluate_claims",
    "gaussian_charge_density",
    "group_indices",
    "headline_accuracy",
    "height_map",
    "plot_charge_profiles",
    "poisson_potential",
    "read_charged_frame",
    "read_predictions",
    "read_trajectory",
    "run_headline",
    "sei_phases",
    "smearing_widths",
    "summarise",
    "surface_statistics",
    "unwrap_positions",
]
