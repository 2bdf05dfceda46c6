"""What the analysis stage writes: table and figure names, SEI phases.

One home for the names the per-run analysis, the figures and the claims check
share (and that ``workflow/rules/analysis_common.smk`` lists as
``ANALYSIS_TABLES`` / ``ANALYSIS_FIGURES``), so that none of those modules
imports another to learn them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

__all__ = ["FIGURES", "RUN_TABLES", "load_tables", "sei_phases"]

#: Tables written per run by :func:`constpot.analysis.analyse_run`
#: (file stem → content).
RUN_TABLES = {
    "deposition": "deposited Li (structural), reduced Li (Δq), electrode charges "
    "per frame",
    "events": "deposition, aggregation and protrusion events with x–y, time, "
    "SEI patch and co-location with earlier aggregation",
    "profiles": "time-averaged z-profiles: densities, charge density, potential",
    "surface": "anode mean height, roughness, protrusion, rise per frame",
    "height_maps": "anode height maps at the first and last frame, and the change",
    "clusters": "reduced-Li clusters in the SEI per frame, and the change from t = 0",
    "cluster_sizes": "cluster-size distribution per frame",
    "msd": "Li in-plane and normal mean-squared displacement per group",
    "diffusion": "Li in-plane diffusivity per group, once diffusive",
}

#: Figure key → file name (paper claim in the comment).
FIGURES = {
    "deposition_vs_time": "deposition_vs_time.png",  # claim 1
    "deposition_vs_potential": "deposition_vs_potential.png",  # claim 2
    "height_maps": "height_maps.png",  # claim 3
    "surface_roughness": "surface_roughness.png",  # claim 3
    "li_clusters": "li_clusters.png",  # claim 3
    "potential_profiles": "potential_profiles.png",  # claim 4
    "electrode_charge": "electrode_charge.png",  # claim 4
    "parity": "parity.png",  # claim 5
    "li_msd": "li_msd.png",  # claim 6
}


def sei_phases(systems: Mapping | None, names: Iterable[str] = ()) -> dict[str, str]:
    """SEI phase per system: "amorphous", "crystalline", "none" or "unknown".

    Parameters
    ----------
    systems : mapping or None
        Config ``systems:`` (recipes; ``sei.phase`` defaults to amorphous as in
        the build presets).
    names : iterable of str
        Further system names (e.g. synced runs not in the config): guessed from
        the name ("crystal", "amorph", "no_sei").
    """
    out = {}
    for name, recipe in (systems or {}).items():
        out[str(name)] = str(
            ((recipe or {}).get("sei") or {}).get("phase", "amorphous")
        )
    for name in names:
        if name in out:
            continue
        low = name.lower()
        if "crystal" in low:
            out[name] = "crystalline"
        elif "amorph" in low:
            out[name] = "amorphous"
        elif "no_sei" in low or "nosei" in low:
            out[name] = "none"
        else:
            out[name] = "unknown"
    return out


def load_tables(run_dirs: Sequence[str | Path], name: str):
    """Concatenate ``<run_dir>/<name>.csv`` over runs (missing files skipped).

    Returns
    -------
    pandas.DataFrame
        Empty when no run has the table.
    """
    import pandas as pd

    frames = []
    for run_dir in run_dirs:
        path = Path(run_dir) / f"{name}.csv"
        if path.is_file() and path.stat().st_size > 0:
            try:
                table = pd.read_csv(path)
            except pd.errors.EmptyDataError:
                continue
            if len(table):
                frames.append(table)
    if not frames:
        return pd.DataFrame()
    table = pd.concat(frames, ignore_index=True)
    if "potential" in table.columns:
        table["potential"] = table["potential"].astype(str)
    return table
