"""Where in x–y things happen: co-location of deposition with earlier Li
aggregation, and the SEI patch under each event (claim 3).

User guide
----------
The paper's claim 3 is local and causal: Li first aggregates in the
amorphous SEI, and the anode then grows *there*. :func:`colocation` tests it
event by event. For each deposition (or protrusion) event i at lateral
position rᵢ and time tᵢ:

- ``hit`` = 1 when an aggregation event j (:class:`~constpot.analysis.LiClusters`)
  happened *earlier* (tⱼ < tᵢ) within ``radius_A`` of rᵢ in x–y (minimum
  image in the periodic lateral cell), else 0;
- ``p_random`` = the fraction of the lateral cell within ``radius_A`` of an
  aggregation site older than tᵢ: the probability of a hit for an event placed
  uniformly at random at the same time.

With no link between where deposits land and where Li aggregated,
E[hit − p_random] = 0 event by event; the *excess* mean(hit − p_random) is
the share of events that land on earlier aggregates beyond chance. It cannot
be positive without aggregation that precedes the event, so it also tests the
time order (``near`` flags aggregation within the radius at any time, before
or after). The claims check bootstraps the excess over runs and events.

:func:`sei_patches` names the SEI component under a point: that of the
nearest SEI anion in x–y in the first frame (F → "LiF", O → "Li2O"), which
follows the mosaic's patches and a layered SEI alike.

Pitfall: the lateral cell is taken from the first frame; a radius above half
the shortest lateral period makes every site "near".

Example
-------
>>> hit, p, near = colocation(                           # doctest: +SKIP
...     dep_xy, dep_t, agg_xy, agg_t, cell[:2, :2], radius_A=5.0)
>>> excess = (hit - p).mean()                            # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

__all__ = ["colocation", "lateral_grid", "sei_patches"]


def _minimum_image(delta: np.ndarray, cell_xy: np.ndarray) -> np.ndarray:
    """Lateral displacements (…, 2) to their nearest periodic image."""
    frac = delta @ np.linalg.inv(cell_xy)
    frac -= np.rint(frac)
    return frac @ cell_xy


def _distances(a_xy: np.ndarray, b_xy: np.ndarray, cell_xy: np.ndarray):
    """(len(a), len(b)) lateral minimum-image distances, Å."""
    delta = a_xy[:, None, :] - b_xy[None, :, :]
    return np.linalg.norm(_minimum_image(delta, cell_xy), axis=-1)


def lateral_grid(cell_xy: np.ndarray, spacing_A: float = 0.5) -> np.ndarray:
    """Points on a uniform grid over the periodic lateral cell.

    Parameters
    ----------
    cell_xy : (2, 2) ndarray, Å
        Lateral cell vectors as rows (x–y parts of the first two cell vectors).
    spacing_A : float, Å
        Largest grid spacing along each cell vector.

    Returns
    -------
    (n_points, 2) ndarray, Å
        Centres of equal-area grid cells (each point stands for the same area).
    """
    cell_xy = np.asarray(cell_xy, float)
    if not spacing_A > 0:
        raise ValueError(f"spacing_A must be > 0 Å, got {spacing_A}")
    n_a = max(1, int(np.ceil(np.linalg.norm(cell_xy[0]) / spacing_A)))
    n_b = max(1, int(np.ceil(np.linalg.norm(cell_xy[1]) / spacing_A)))
    fa, fb = np.meshgrid(
        (np.arange(n_a) + 0.5) / n_a, (np.arange(n_b) + 0.5) / n_b, indexing="ij"
    )
    return np.column_stack([fa.ravel(), fb.ravel()]) @ cell_xy


def colocation(
    events_xy: np.ndarray,
    events_t: np.ndarray,
    sites_xy: np.ndarray,
    sites_t: np.ndarray,
    cell_xy: np.ndarray,
    radius_A: float,
    grid_A: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per event: earlier aggregation nearby, its chance level, any nearby.

    Parameters
    ----------
    events_xy : (n_events, 2) ndarray, Å
        Lateral positions of the deposition (or protrusion) events.
    events_t : (n_events,) ndarray
        Their times (any unit shared with ``sites_t``).
    sites_xy : (n_sites, 2) ndarray, Å
        Lateral positions of the aggregation events.
    sites_t : (n_sites,) ndarray
        Their times.
    cell_xy : (2, 2) ndarray, Å
        Periodic lateral cell (rows).
    radius_A : float, Å
        Lateral distance below which an event is on a site.
    grid_A : float, Å
        Spacing of the grid that measures the covered area (0.5).

    Returns
    -------
    hit : (n_events,) bool ndarray
        A site older than the event lies within ``radius_A``.
    p_random : (n_events,) ndarray
        Fraction of the cell area within ``radius_A`` of a site older than
        the event.
    near : (n_events,) bool ndarray
        A site of any time lies within ``radius_A``.

    Raises
    ------
    ValueError
        A non-positive radius.
    """
    if not radius_A > 0:
        raise ValueError(f"radius_A must be > 0 Å, got {radius_A}")
    cell_xy = np.asarray(cell_xy, float)
    events_xy = np.asarray(events_xy, float).reshape(-1, 2)
    events_t = np.asarray(events_t, float).ravel()
    sites_xy = np.asarray(sites_xy, float).reshape(-1, 2)
    sites_t = np.asarray(sites_t, float).ravel()
    n = len(events_xy)
    if len(sites_xy) == 0 or n == 0:
        return np.zeros(n, bool), np.zeros(n), np.zeros(n, bool)
    first_near = _first_cover(events_xy, sites_xy, sites_t, cell_xy, radius_A)
    hit = first_near < events_t
    near = np.isfinite(first_near)
    grid = lateral_grid(cell_xy, grid_A)
    covered_at = _first_cover(grid, sites_xy, sites_t, cell_xy, radius_A)
    p_random = (covered_at[None, :] < events_t[:, None]).mean(axis=1)
    return hit, p_random, near


def _first_cover(points_xy, sites_xy, sites_t, cell_xy, radius_A, chunk=256):
    """Earliest time of a site within the radius of each point (inf: none);
    sites in chunks, so memory stays bounded for many sites."""
    out = np.full(len(points_xy), np.inf)
    for start in range(0, len(sites_xy), chunk):
        d = _distances(points_xy, sites_xy[start : start + chunk], cell_xy)
        t = np.where(d < radius_A, sites_t[None, start : start + chunk], np.inf)
        out = np.minimum(out, t.min(axis=1))
    return out


def sei_patches(
    points_xy: np.ndarray,
    anions_xy: np.ndarray,
    anion_symbols,
    cell_xy: np.ndarray,
) -> np.ndarray:
    """SEI component under each point: that of the nearest SEI anion in x–y.

    Parameters
    ----------
    points_xy : (n, 2) ndarray, Å
    anions_xy : (m, 2) ndarray, Å
        Lateral positions of the SEI's F and O atoms (first frame).
    anion_symbols : (m,) sequence of str
        "F" or "O".
    cell_xy : (2, 2) ndarray, Å

    Returns
    -------
    (n,) str ndarray
        "LiF", "Li2O", or "" when there are no SEI anions.
    """
    points_xy = np.asarray(points_xy, float).reshape(-1, 2)
    anions_xy = np.asarray(anions_xy, float).reshape(-1, 2)
    if len(anions_xy) == 0:
        return np.full(len(points_xy), "", dtype=object)
    names = np.where(np.asarray(anion_symbols) == "F", "LiF", "Li2O").astype(object)
    out = np.empty(len(points_xy), dtype=object)
    for start in range(0, len(points_xy), 4096):  # bounded memory
        chunk = points_xy[start : start + 4096]
        nearest = _distances(chunk, anions_xy, np.asarray(cell_xy, float)).argmin(1)
        out[start : start + 4096] = names[nearest]
    return out
