"""All per-run analyses of one MD trajectory, written as tidy CSV tables.

:func:`analyse_run` reads ``traj.extxyz`` of one run once and writes, into one
folder (``results/analysis/{system}/{mode}_{potential}_r{replica}/`` in the
workflow), the tables listed in :data:`RUN_TABLES` plus ``run.json`` (labels,
settings, headline scalars, versions). Every table carries the run's labels
(``system, mode, potential, replica``) as leading columns, so tables of many
runs concatenate into one tidy table for the figures.

Example
-------
>>> analyse_run("results/md/no_sei/constp_-6.0V_r0/traj.extxyz",
...             "results/analysis/no_sei/constp_-6.0V_r0")     # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..config import versions
from ..io import atomic_path
from ..keys import CHARGES, ELECTRODE, REGION
from ._frames import RunLabels, info_float, read_trajectory, write_table
from .clusters import LiClusters
from .deposition import Deposition
from .diffusion import LiDiffusion
from .profiles import Profiles
from .surface import AnodeSurface

__all__ = ["RUN_TABLES", "AnalysisSettings", "analyse_run"]

#: Tables written per run (file stem → content).
RUN_TABLES = {
    "deposition": "deposited Li, reduced Li by region, electrode charges per frame",
    "profiles": "time-averaged z-profiles: densities, charge density, potential",
    "surface": "anode mean height, roughness, protrusion per frame",
    "height_maps": "anode height maps at the first and last frame",
    "clusters": "reduced-Li clusters in the SEI per frame",
    "cluster_sizes": "cluster-size distribution per frame",
    "msd": "Li mean-squared displacement per group",
    "diffusion": "Li diffusivity per group (DiffusionAnalyzer)",
}


@dataclass(frozen=True)
class AnalysisSettings:
    """Parameters of the per-run analyses (config section ``analysis:``).

    Attributes
    ----------
    reduced_charge_e : float, e
        Li with charge below this counts as reduced (0.3).
    cluster_cutoff_A : float, Å
        Connectivity cutoff of reduced-Li clusters (3.5).
    height_bin_A : float, Å
        Smallest lateral bin of the anode height map (3.5).
    profile_bin_A : float, Å
        Grid spacing of the z-profiles (0.2).
    window : float
        Fraction of the frames, at the end, averaged for profiles and the
        mean electrode charge (0.5).
    smearing_A : "qeq" or float, Å
        Gaussian widths of the charges in the Poisson profile: the QEq table's
        σ per element, or one width (0 = point charges).
    diffusion_smoothed : "max" or False
        pymatgen's MSD smoothing.
    diffusion_min_obs : int
        pymatgen's minimum observations per lag (30).
    """

    reduced_charge_e: float = 0.3
    cluster_cutoff_A: float = 3.5
    height_bin_A: float = 3.5
    profile_bin_A: float = 0.2
    window: float = 0.5
    smearing_A: str | float = "qeq"
    diffusion_smoothed: str | bool = "max"
    diffusion_min_obs: int = 30

    @classmethod
    def from_config(cls, section: Mapping | None) -> AnalysisSettings:
        """Settings from a config ``analysis:`` mapping (unknown keys ignored:
        ``claims`` belongs to the summary)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (section or {}).items() if k in names})

    def todict(self) -> dict:
        return asdict(self)


def analyse_run(
    trajectory: str | Path,
    out_dir: str | Path,
    labels: RunLabels | None = None,
    settings: AnalysisSettings | None = None,
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

    Returns
    -------
    dict
        The content of ``run.json``.

    Raises
    ------
    ValueError
        Unreadable or empty trajectory, or a frame missing ``charges``,
        ``electrode``, ``region`` or ``time_fs`` (the message names file and key).
    """

    start = time.perf_counter()
    settings = settings or AnalysisSettings()
    labels = labels or RunLabels.from_path(trajectory)
    frames = read_trajectory(trajectory, (CHARGES, ELECTRODE, REGION), ("time_fs",))
    out = Path(out_dir)
    tag = labels.todict()

    dep = Deposition(frames, reduced_charge_e=settings.reduced_charge_e).run()
    prof = Profiles(
        frames,
        bin_width_A=settings.profile_bin_A,
        window=settings.window,
        smearing_A=settings.smearing_A,
    ).run()
    surf = AnodeSurface(frames, bin_A=settings.height_bin_A).run()
    clus = LiClusters(
        frames,
        reduced_charge_e=settings.reduced_charge_e,
        cutoff_A=settings.cluster_cutoff_A,
    ).run()
    diff = LiDiffusion(
        frames,
        smoothed=settings.diffusion_smoothed,
        min_obs=settings.diffusion_min_obs,
    ).run()

    psi = {
        "anode_potential_V": info_float(frames[0], "anode_potential_V"),
        "counter_potential_V": info_float(frames[0], "counter_potential_V"),
    }
    with_psi = {**tag, **psi}
    write_table(out / "deposition.csv", dep.results["table"], tag)
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

    times = [float(a.info["time_fs"]) for a in frames]
    summary = {
        "md": _md_status(Path(trajectory).parent / "summary.json"),
        **tag,
        **psi,
        "trajectory": str(trajectory),
        "n_frames": len(frames),
        "n_atoms": len(frames[0]),
        "duration_ps": (times[-1] - times[0]) / 1000.0,
        "area_A2": float(dep.results["table"]["area_A2"].iloc[0]),
        "electrode_drop_V": _finite(prof.results["electrode_drop_V"]),
        "vacuum_drop_V": _finite(prof.results["vacuum_drop_V"]),
        "imposed_drop_V": _finite(prof.results["imposed_drop_V"]),
        "profile_frames": prof.results["frames"],
        "has_sei": bool(clus.results["has_sei"]),
        "settings": settings.todict(),
        "tables": {f"{k}.csv": v for k, v in RUN_TABLES.items()},
        "seconds": time.perf_counter() - start,
        "versions": versions("ase", "numpy", "pandas", "pymatgen-analysis-diffusion"),
    }
    with atomic_path(out / "run.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _md_status(path: Path) -> dict:
    """Status of the MD run from its summary.json (completed or stopped)."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    keys = ("status", "steps", "stop_step", "stop_reason", "temperature_mean_K")
    out = {k: data[k] for k in keys if k in data}
    out["n_steps"] = (data.get("settings") or {}).get("n_steps")
    return out


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None
