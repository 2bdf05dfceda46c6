"""All per-run analyses of one MD trajectory, written as tidy CSV tables.

:func:`analyse_run` reads ``traj.extxyz`` of one run once and writes, into one
folder (``results/analysis/{system}/{mode}_{potential}_r{replica}/`` in the
workflow), the tables listed in :data:`RUN_TABLES` plus ``run.json`` (labels,
settings, MD status, headline scalars, versions). Every table carries the
run's labels (``system, mode, potential, replica``) as leading columns, so
tables of many runs concatenate into one tidy table for the figures.

The electrode networks are found once (:class:`Deposition`) and shared by the
surface and cluster analyses. ``events.csv`` gathers the deposition,
aggregation and protrusion events; each deposition and protrusion event is
scored against the earlier aggregation events of the run
(:func:`~constpot.analysis.lateral.colocation`) and every event is labelled
with the SEI patch under it (:func:`~constpot.analysis.lateral.sei_patches`).

Example
-------
>>> md = "results/md/no_sei"
>>> analyse_run(f"{md}/constp_-6.0V_r0/traj.extxyz",         # doctest: +SKIP
...             "results/analysis/no_sei/constp_-6.0V_r0",
...             reference=f"{md}/constq_none_r0/traj.extxyz")
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from ..config import versions
from ..io import atomic_path
from ..keys import (
    ANODE,
    CHARGES,
    ELECTRODE,
    ELECTRODE_NAMES,
    REGION,
    RUN_FILE,
    SEI_REGION,
    SUMMARY_FILE,
    TIME_FS,
)
from ._frames import RunLabels, info_float, read_trajectory, write_table
from .catalogue import RUN_TABLES
from .clusters import LiClusters
from .deposition import Deposition
from .diffusion import LiDiffusion
from .lateral import colocation, lateral_grid, sei_patches
from .network import NetworkRule
from .profiles import Profiles
from .surface import AnodeSurface

__all__ = ["RUN_TABLES", "AnalysisSettings", "analyse_run"]

#: Keys of older configs and their replacements (a clear error, not a silent
#: default).
_RENAMED = {
    "reduced_charge_e": "reduction_dq_e (a charge drop from the reference, e)",
    "diffusion_smoothed": "diffusion_fit_window and diffusion_slope_tol",
    "diffusion_min_obs": "diffusion_fit_window and diffusion_slope_tol",
}


@dataclass(frozen=True)
class AnalysisSettings:
    """Parameters of the per-run analyses (config section ``analysis:``).

    Attributes
    ----------
    reduction_dq_e : float, e
        A Li of the SEI or electrolyte is reduced when its charge has dropped
        by at least this from its constant-charge reference (0.3).
    deposit_li_cutoff_A : float, Å
        Li–Li contact of the electrode networks (3.3).
    deposit_anion_cutoff_A : float, Å
        Li–F/O contact that counts an anion neighbour (2.6).
    deposit_max_anions : int
        Most anion neighbours of a metal-like Li (1).
    deposit_residence_fs : float, fs
        Shortest stay in an electrode network that confirms an arrival (100).
    cluster_cutoff_A : float, Å
        Connectivity cutoff of reduced-Li clusters in the SEI (3.5).
    aggregate_min_size : int
        Smallest cluster of reduced SEI Li counted as an aggregate (3).
    colocation_radius_A : float, Å
        Lateral distance within which a deposit lies on an earlier aggregate
        (5.0).
    height_bin_A : float, Å
        Smallest lateral bin of the anode height map (3.5).
    protrusion_A : float, Å
        Rise of a height-map bin that makes a protrusion event (1.5).
    profile_bin_A : float, Å
        Grid spacing of the z-profiles (0.2).
    window : float
        Fraction of the frames, at the end, averaged for profiles and the
        mean electrode charge (0.5).
    smearing_A : "qeq" or float, Å
        Gaussian widths of the charges in the Poisson profile: the QEq table's
        σ per element, or one width (0 = point charges).
    diffusion_fit_window : (float, float)
        Lag window of the MSD fits, fractions of the run (0.05, 0.5).
    diffusion_slope_tol : float
        Largest |slope − 1| of log MSD_xy vs log t for diffusive motion (0.15).
    bootstrap : int
        Bootstrap replicates of every interval (1000).
    seed : int
        Seed of the bootstraps (0).
    confidence : float
        Coverage of the intervals (0.95).
    """

    reduction_dq_e: float = 0.3
    deposit_li_cutoff_A: float = 3.3
    deposit_anion_cutoff_A: float = 2.6
    deposit_max_anions: int = 1
    deposit_residence_fs: float = 100.0
    cluster_cutoff_A: float = 3.5
    aggregate_min_size: int = 3
    colocation_radius_A: float = 5.0
    height_bin_A: float = 3.5
    protrusion_A: float = 1.5
    profile_bin_A: float = 0.2
    window: float = 0.5
    smearing_A: str | float = "qeq"
    diffusion_fit_window: tuple[float, float] = field(default=(0.05, 0.5))
    diffusion_slope_tol: float = 0.15
    bootstrap: int = 1000
    seed: int = 0
    confidence: float = 0.95

    def __post_init__(self):
        object.__setattr__(
            self, "diffusion_fit_window", tuple(self.diffusion_fit_window)
        )

    @classmethod
    def from_config(cls, section: Mapping | None) -> AnalysisSettings:
        """Settings from a config ``analysis:`` mapping (``claims`` belongs to
        the summary and is skipped).

        Raises
        ------
        ValueError
            A key of older configs that was replaced (named, with its
            replacement).
        """
        section = dict(section or {})
        for old, new in _RENAMED.items():
            if old in section:
                raise ValueError(f"analysis.{old} was replaced by analysis.{new}")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in section.items() if k in names})

    def rule(self) -> NetworkRule:
        """The electrode-network rule of these settings."""
        return NetworkRule(
            li_cutoff_A=float(self.deposit_li_cutoff_A),
            anion_cutoff_A=float(self.deposit_anion_cutoff_A),
            max_anions=int(self.deposit_max_anions),
        )

    def todict(self) -> dict:
        out = asdict(self)
        out["diffusion_fit_window"] = list(self.diffusion_fit_window)
        return out


def analyse_run(
    trajectory: str | Path,
    out_dir: str | Path,
    labels: RunLabels | None = None,
    settings: AnalysisSettings | None = None,
    reference: str | Path | None = None,
) -> dict:
    """Run every per-run analysis on one trajectory and write the tables.

    Parameters
    ----------
    trajectory : path
        ``traj.extxyz`` of one MD run.
    out_dir : path
        Folder for the tables (created); each file is written atomically.
    labels : RunLabels, optional
        Default: parsed from the trajectory's folder name.
    settings : AnalysisSettings, optional
    reference : path, optional
        ``traj.extxyz`` of the matching constant-charge run: its first frame
        gives each atom's reference charge (default: this run's first frame).

    Returns
    -------
    dict
        The content of ``run.json``.

    Raises
    ------
    ValueError
        Unreadable or empty trajectory, a frame missing ``charges``,
        ``electrode``, ``region`` or ``time_fs`` (the message names file and
        key), or a reference with other atoms.
    """

    start = time.perf_counter()
    settings = settings or AnalysisSettings()
    labels = labels or RunLabels.from_path(trajectory)
    frames = read_trajectory(trajectory, (CHARGES, ELECTRODE, REGION), (TIME_FS,))
    out = Path(out_dir)
    tag = labels.todict()
    rule = settings.rule()

    dep = Deposition(
        frames,
        reference=reference,
        reduction_dq_e=settings.reduction_dq_e,
        rule=rule,
        residence_fs=settings.deposit_residence_fs,
    ).run()
    network = dep.results["network"]
    prof = Profiles(
        frames,
        bin_width_A=settings.profile_bin_A,
        window=settings.window,
        smearing_A=settings.smearing_A,
    ).run()
    surf = AnodeSurface(
        frames,
        bin_A=settings.height_bin_A,
        protrusion_A=settings.protrusion_A,
        rule=rule,
        network=network,
    ).run()
    clus = LiClusters(
        frames,
        reference=dep.q_ref,
        reduction_dq_e=settings.reduction_dq_e,
        cutoff_A=settings.cluster_cutoff_A,
        min_size=settings.aggregate_min_size,
        rule=rule,
        network=network,
    ).run()
    diff = LiDiffusion(
        frames,
        fit_window=settings.diffusion_fit_window,
        slope_tol=settings.diffusion_slope_tol,
        bootstrap=settings.bootstrap,
        seed=settings.seed,
        confidence=settings.confidence,
    ).run()

    cell_xy = frames[0].cell.array[:2, :2]
    events, patch_fraction = _events(
        frames[0],
        [dep.results["events"], clus.results["events"], surf.results["events"]],
        settings.colocation_radius_A,
    )

    psi = {
        "anode_potential_V": info_float(frames[0], "anode_potential_V"),
        "counter_potential_V": info_float(frames[0], "counter_potential_V"),
    }
    with_psi = {**tag, **psi}
    write_table(out / "deposition.csv", dep.results["table"], tag)
    write_table(out / "events.csv", events, with_psi)
    profile = prof.results["table"].copy()
    for key in (
        "anode_level_V",
        "counter_level_V",
        "electrode_drop_V",
        "vacuum_drop_V",
    ):
        profile[key] = prof.results[key]
    profile["imposed_drop_V"] = prof.results["imposed_drop_V"]
    for region, (lo, hi) in prof.results["extents_A"].items():
        profile[f"{region}_z_lo_A"] = lo
        profile[f"{region}_z_hi_A"] = hi
    write_table(out / "profiles.csv", profile, with_psi)
    write_table(out / "surface.csv", surf.results["table"], with_psi)
    write_table(out / "height_maps.csv", surf.results["maps"], with_psi)
    write_table(out / "clusters.csv", clus.results["table"], with_psi)
    write_table(out / "cluster_sizes.csv", clus.results["sizes"], with_psi)
    write_table(out / "msd.csv", diff.results["msd"], with_psi)
    write_table(out / "diffusion.csv", diff.results["table"], with_psi)

    times = [float(a.info[TIME_FS]) for a in frames]
    md = _md_status(Path(trajectory).parent / SUMMARY_FILE)
    summary = {
        "md": md,
        "complete": md.get("complete"),
        **tag,
        **psi,
        "trajectory": str(trajectory),
        "reference": dep.reference,
        "n_frames": len(frames),
        "n_atoms": len(frames[0]),
        "duration_ps": (times[-1] - times[0]) / 1000.0,
        "area_A2": float(dep.results["table"]["area_A2"].iloc[0]),
        "cell_xy_A": cell_xy.tolist(),
        "sei_patch_fraction": patch_fraction,
        "electrode_drop_V": _finite(prof.results["electrode_drop_V"]),
        "vacuum_drop_V": _finite(prof.results["vacuum_drop_V"]),
        "imposed_drop_V": _finite(prof.results["imposed_drop_V"]),
        "profile_frames": prof.results["frames"],
        "has_sei": bool(clus.results["has_sei"]),
        "settings": settings.todict(),
        "tables": {f"{k}.csv": v for k, v in RUN_TABLES.items()},
        "seconds": time.perf_counter() - start,
        "versions": versions("ase", "numpy", "pandas", "scipy"),
    }
    with atomic_path(out / RUN_FILE) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _events(first, tables: Sequence, radius_A: float):
    """One events table: SEI patch of every event; deposition and protrusion
    events of the anode scored against the earlier aggregation events."""
    import pandas as pd

    filled = [t for t in tables if len(t)]
    events = (
        pd.concat(filled, ignore_index=True) if filled else tables[0].iloc[:0].copy()
    )
    cell_xy = first.cell.array[:2, :2]
    region = first.arrays[REGION].astype(str)
    anions = (region == SEI_REGION) & np.isin(first.symbols, ["F", "O"])
    anion_xy = first.positions[anions, :2]
    anion_symbols = np.asarray(first.symbols)[anions]
    xy = events[["x_A", "y_A"]].to_numpy(float)
    events["sei_patch"] = sei_patches(xy, anion_xy, anion_symbols, cell_xy)
    fraction = {}
    if anion_xy.size:
        grid = sei_patches(lateral_grid(cell_xy), anion_xy, anion_symbols, cell_xy)
        names, counts = np.unique(grid.astype(str), return_counts=True)
        fraction = {
            str(n): float(c) / grid.size for n, c in zip(names, counts, strict=True)
        }
    agg = events[events["kind"] == "aggregation"]
    scored = events["kind"].isin(["deposition", "protrusion"]) & (
        events["electrode"] == ELECTRODE_NAMES[ANODE]
    )
    hit, p_random, near = colocation(
        xy[scored.to_numpy()],
        events.loc[scored, "time_fs"].to_numpy(float),
        agg[["x_A", "y_A"]].to_numpy(float),
        agg["time_fs"].to_numpy(float),
        cell_xy,
        radius_A,
    )
    events["aggregated_before"] = np.nan
    events["p_random"] = np.nan
    events["aggregated_near"] = np.nan
    events.loc[scored, "aggregated_before"] = hit.astype(float)
    events.loc[scored, "p_random"] = p_random
    events.loc[scored, "aggregated_near"] = near.astype(float)
    order = {"aggregation": 0, "deposition": 1, "protrusion": 2}
    events = events.sort_values(
        ["time_fs", "kind"], key=lambda c: c.map(order) if c.name == "kind" else c
    ).reset_index(drop=True)
    return events, fraction


def _md_status(path: Path) -> dict:
    """Status of the MD run from its summary.json (completed or stopped).

    ``complete``: True when the status is "completed" and every planned step
    ran, False when a guard stopped it or steps are missing, None (unknown)
    without a summary.
    """
    if not path.is_file():
        return {"complete": None}
    data = json.loads(path.read_text())
    keys = ("status", "steps", "stop_step", "stop_reason", "temperature_mean_K")
    out = {k: data[k] for k in keys if k in data}
    planned = (data.get("settings") or {}).get("n_steps")
    out["n_steps"] = planned
    ran = data.get("steps")
    fraction = (
        float(ran) / float(planned)
        if planned and ran is not None
        else (1.0 if planned == 0 else None)
    )
    out["fraction_done"] = fraction
    status = data.get("status")
    out["complete"] = bool(
        status == "completed" and (fraction is None or fraction >= 1.0)
    )
    return out


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
