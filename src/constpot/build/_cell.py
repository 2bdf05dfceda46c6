"""Cell helpers shared by the block builders: lateral-cell validation, wrapping."""

from __future__ import annotations

import numpy as np

__all__ = ["rectangular_lengths", "wrap_positions"]


def rectangular_lengths(cell_xy, why: str = "") -> tuple[float, float]:
    """(Lx, Ly) of a rectangular lateral cell ``[[Lx, 0], [0, Ly]]``, Å.

    Parameters
    ----------
    cell_xy : (2, 2) array_like, Å
        Rows: x–y components of the lateral cell vectors a, b.
    why : str
        Why the caller needs a rectangle (added to the error message).

    Raises
    ------
    ValueError
        Wrong shape, non-finite values, a tilted cell or non-positive lengths;
        the message names ``cell_xy`` and shows the value.
    """
    cell = np.asarray(cell_xy, dtype=float)
    if cell.shape != (2, 2) or not np.all(np.isfinite(cell)):
        raise ValueError(
            "cell_xy must be a finite (2, 2) array of lateral cell vectors "
            f"[[Lx, 0], [0, Ly]] in Å, got {np.asarray(cell_xy).tolist()!r}"
        )
    lx, ly = cell[0, 0], cell[1, 1]
    scale = max(abs(lx), abs(ly), 1.0)
    if max(abs(cell[0, 1]), abs(cell[1, 0])) > 1e-9 * scale:
        raise ValueError(
            f"cell_xy must be rectangular [[Lx, 0], [0, Ly]]{why}, got {cell.tolist()}"
        )
    if not (lx > 0 and ly > 0):
        raise ValueError(f"cell_xy lengths must be > 0 Å, got {lx} and {ly}")
    return float(lx), float(ly)


def wrap_positions(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Positions wrapped into a 3D periodic cell.

    Parameters
    ----------
    positions : (n, 3) ndarray, Å
    cell : (3, 3) ndarray, Å
        Rows are the cell vectors.

    Returns
    -------
    (n, 3) ndarray, Å
        The images whose fractional coordinates lie in [0, 1) (a coordinate
        that rounds to 1.0 is set to 0).
    """
    frac = positions @ np.linalg.inv(cell)
    frac -= np.floor(frac)
    frac[frac >= 1.0] = 0.0
    return frac @ cell
