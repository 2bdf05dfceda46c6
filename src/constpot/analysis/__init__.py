"""Science out of constpot's files: profiles, totals, events and figures.

Analyses read files (extended XYZ with per-atom ``charges``, ``electrode``
and ``region``) and write tidy CSV tables; figures are drawn from those
tables.

Per MD run (:func:`analyse_run`): :class:`Deposition` (Li that started as an
ion joining an electrode's metal network, :class:`NetworkRule`; Li⁺ reduced
by its charge drop from a constant-charge reference), :class:`Profiles`
(densities, charge and Poisson potential along z), :class:`AnodeSurface`
(height maps, roughness, growth since t = 0), :class:`LiClusters` (aggregates
of reduced Li in the SEI, counted from t = 0), :class:`LiDiffusion`
(in-plane MSD, D_Li once diffusive), :func:`colocation` (deposits on earlier
aggregates, beyond chance). Across runs: :func:`draw_figures` (one figure
per paper claim, from the CSVs) and :func:`summarise` (summary table and the
paper-claims check, :func:`evaluate_claims`, with bootstrap intervals).
"""

from ._frames import RunLabels, read_trajectory
from .accuracy import accuracy_metrics, headline_accuracy, read_predictions
from .catalogue import FIGURES, RUN_TABLES, sei_phases
from .claims import ClaimResult, evaluate_claims
from .clusters import LiClusters, cluster_labels, cluster_sizes
from .deposition import Deposition, reference_charges
from .diffusion import LiDiffusion, group_indices, unwrap_positions, windowed_msd
from .figures import draw_figures
from .lateral import colocation, sei_patches
from .miniature import MiniatureIon, miniature_report
from .network import NetworkRule
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
from .summary import run_headline, summarise
from .surface import AnodeSurface, height_map, surface_statistics
from .variants import compare_variants

__all__ = [
    "FIGURES",
    "RUN_TABLES",
    "AnalysisSettings",
    "AnodeSurface",
    "ClaimResult",
    "Deposition",
    "LiClusters",
    "LiDiffusion",
    "MiniatureIon",
    "NetworkRule",
    "Profiles",
    "RunLabels",
    "accuracy_metrics",
    "analyse_run",
    "charge_profile",
    "cluster_labels",
    "cluster_sizes",
    "colocation",
    "compare_variants",
    "draw_figures",
    "electrode_totals",
    "evaluate_claims",
    "gaussian_charge_density",
    "group_indices",
    "headline_accuracy",
    "height_map",
    "miniature_report",
    "plot_charge_profiles",
    "poisson_potential",
    "read_charged_frame",
    "read_predictions",
    "read_trajectory",
    "reference_charges",
    "run_headline",
    "sei_patches",
    "sei_phases",
    "smearing_widths",
    "summarise",
    "surface_statistics",
    "unwrap_positions",
    "windowed_msd",
]
