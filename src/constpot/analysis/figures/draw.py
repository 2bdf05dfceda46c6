"""Every figure of :data:`~constpot.analysis.catalogue.FIGURES` from run folders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ..accuracy import read_predictions
from ..catalogue import FIGURES, load_tables, sei_phases
from . import style
from .accuracy import plot_parity
from .clusters import plot_li_clusters
from .deposition import plot_deposition_vs_potential, plot_deposition_vs_time
from .diffusion import plot_li_msd
from .electrostatics import plot_electrode_charge, plot_potential_profiles
from .surface import plot_height_maps, plot_surface_roughness

__all__ = ["draw_figures"]


def draw_figures(
    run_dirs: Sequence[str | Path],
    out_dir: str | Path,
    predictions: str | Path | None = None,
    phases: Mapping[str, str] | None = None,
    window: float = 0.5,
) -> dict[str, Path]:
    """Draw every figure of :data:`FIGURES` from the run tables.

    Parameters
    ----------
    run_dirs : sequence of path
        Folders written by :func:`constpot.analysis.run.analyse_run`.
    out_dir : path
        Folder for the PNGs.
    predictions : path, optional
        ``results/train/predictions.csv``; the parity figure says "no data"
        without it.
    phases : mapping, optional
        System → SEI phase (colours of the cluster figure).
    window : float
        Final fraction of frames for window means (default 0.5).

    Returns
    -------
    dict
        Figure key → written path.
    """
    out = Path(out_dir)
    dep = load_tables(run_dirs, "deposition")
    pred = None
    if predictions is not None and Path(predictions).is_file():
        pred = read_predictions(predictions)
    if phases is None:
        phases = sei_phases(None, style.systems_of(dep))
    return {
        "deposition_vs_time": plot_deposition_vs_time(
            dep, out / FIGURES["deposition_vs_time"]
        ),
        "deposition_vs_potential": plot_deposition_vs_potential(
            dep, out / FIGURES["deposition_vs_potential"]
        ),
        "height_maps": plot_height_maps(
            load_tables(run_dirs, "height_maps"),
            out / FIGURES["height_maps"],
            load_tables(run_dirs, "events"),
        ),
        "surface_roughness": plot_surface_roughness(
            load_tables(run_dirs, "surface"), out / FIGURES["surface_roughness"]
        ),
        "li_clusters": plot_li_clusters(
            load_tables(run_dirs, "clusters"),
            load_tables(run_dirs, "cluster_sizes"),
            out / FIGURES["li_clusters"],
            phases,
            window,
        ),
        "potential_profiles": plot_potential_profiles(
            load_tables(run_dirs, "profiles"), out / FIGURES["potential_profiles"]
        ),
        "electrode_charge": plot_electrode_charge(
            dep, out / FIGURES["electrode_charge"], window
        ),
        "parity": plot_parity(pred, out / FIGURES["parity"]),
        "li_msd": plot_li_msd(
            load_tables(run_dirs, "msd"),
            load_tables(run_dirs, "diffusion"),
            out / FIGURES["li_msd"],
        ),
    }
