"""Body-centred cubic lithium slabs: the anode and the counter electrode.

Geometry
--------
bcc Li, lattice constant ``a`` (default :data:`LI_BCC_A_A` = 3.51 Å, the
room-temperature experimental value), cut along a low-index plane with the
surface normal along **z** and a rectangular lateral cell:

=========  ==========================  ================  ================
surface    lateral cell (x, y)         atoms per layer   layer spacing d
=========  ==========================  ================  ================
``"100"``  a·[100] × a·[010]           1                 a/2
``"110"``  a·[001] × a·[1-10]          2                 a/√2
=========  ==========================  ================  ================

(the (110) cell is a × a√2, centred rectangular: atoms at (0, 0) and
(a/2, a√2/2)). Consecutive layers are shifted laterally (ABAB stacking):
by (a/2, a/2) on (100), by (0, a√2/2) on (110).

Conventions: layer ``k`` lies at z = k·d, so the lowest layer is at z = 0; the
cell's third vector is (0, 0, layers·d), the slab's own repeat length, which
makes the slab region exactly as dense as bulk bcc Li (0.533 g/cm³ at 3.51 Å).
With an even number of layers the fully periodic cell *is* bulk bcc; with an
odd number the periodic seam is not, which does not matter once the stacker
(:mod:`.stack`) replaces the third vector. The ``frozen`` array
(:data:`constpot.keys.FROZEN`) marks the ``frozen_layers`` lowest layers: the
outer layers held fixed in dynamics (mirror the slab to use it as the counter
electrode, so its frozen layers face outwards).

Examples
--------
>>> from constpot.build.lithium import li_slab
>>> slab = li_slab((4, 4), layers=6)
>>> len(slab), int(slab.arrays["frozen"].sum())
(96, 32)
"""

from __future__ import annotations

import math

import numpy as np
from ase import Atoms
from ase.data import atomic_masses, atomic_numbers

from ..keys import FROZEN, MOL_ID
from ..units import mass_density_g_cm3

__all__ = [
    "LI_BCC_A_A",
    "SURFACES",
    "atoms_per_layer",
    "lateral_cell",
    "layer_spacing_A",
    "li_slab",
]

#: Lattice constant of bcc Li at room temperature, Å: 3.51004 ± 0.00041 Å at
#: 25 °C (X-ray; M. R. Nadler and C. P. Kempter, "Crystallographic data 186.
#: Lithium", Anal. Chem. 31, 2109 (1959)).
LI_BCC_A_A: float = 3.51

#: Supported surface orientations (Miller indices of the plane normal to z).
SURFACES: tuple[str, ...] = ("100", "110")

#: Atoms within this distance in z belong to the same layer, Å.
_LAYER_TOL_A = 0.1


def _check_surface(surface: str) -> None:
    if surface not in SURFACES:
        raise ValueError(
            f"surface must be one of {', '.join(map(repr, SURFACES))}, got {surface!r}"
        )


def _check_a(a_A: float) -> None:
    if not (np.isfinite(a_A) and a_A > 0):
        raise ValueError(f"a_A must be a finite lattice constant > 0 Å, got {a_A}")


def _check_reps(lateral_reps) -> tuple[int, int]:
    try:
        reps = tuple(lateral_reps)
    except TypeError:
        reps = ()
    if (
        len(reps) != 2
        or not all(isinstance(n, (int, np.integer)) for n in reps)
        or min(reps) < 1
    ):
        raise ValueError(
            f"lateral_reps must be two integers >= 1 (nx, ny), got {lateral_reps!r}"
        )
    return int(reps[0]), int(reps[1])


def layer_spacing_A(surface: str = "100", a_A: float = LI_BCC_A_A) -> float:
    """Distance between consecutive atomic layers of bcc Li along the normal.

    Parameters
    ----------
    surface : {"100", "110"}
        Plane normal to z.
    a_A : float, Å
        Cubic lattice constant.

    Returns
    -------
    float, Å
        a/2 for (100), a/√2 for (110) (the interplanar spacings d₂₀₀ and d₁₁₀
        of the bcc lattice).

    Raises
    ------
    ValueError
        Unknown surface or a non-positive lattice constant.
    """
    _check_surface(surface)
    _check_a(a_A)
    return a_A / 2.0 if surface == "100" else a_A / math.sqrt(2.0)


def atoms_per_layer(surface: str = "100") -> int:
    """Atoms per layer in one rectangular surface cell (1 on (100), 2 on (110))."""
    _check_surface(surface)
    return 1 if surface == "100" else 2


def _surface_cell(surface: str, a_A: float) -> tuple[float, float]:
    """Lateral lengths (x, y) of one rectangular surface cell, Å."""
    return (a_A, a_A) if surface == "100" else (a_A, a_A * math.sqrt(2.0))


def lateral_cell(
    lateral_reps=(1, 1), surface: str = "100", a_A: float = LI_BCC_A_A
) -> np.ndarray:
    """Lateral cell of a Li slab: the cell every other block must fit.

    Parameters
    ----------
    lateral_reps : (int, int)
        Repetitions (nx, ny) of the rectangular surface cell.
    surface : {"100", "110"}
    a_A : float, Å
        Cubic lattice constant.

    Returns
    -------
    (2, 2) ndarray, Å
        Rows are the x–y components of the lateral cell vectors:
        ``[[nx·a, 0], [0, ny·a]]`` on (100), ``[[nx·a, 0], [0, ny·a√2]]`` on
        (110).

    Raises
    ------
    ValueError
        Bad repetitions, surface or lattice constant.
    """
    nx, ny = _check_reps(lateral_reps)
    _check_surface(surface)
    _check_a(a_A)
    bx, by = _surface_cell(surface, a_A)
    return np.array([[nx * bx, 0.0], [0.0, ny * by]])


def _layer_motif(surface: str, a_A: float, k: int) -> np.ndarray:
    """(n, 2) in-plane positions of layer ``k`` in one surface cell, Å."""
    if surface == "100":
        base = np.array([[0.0, 0.0]])
        shift = np.array([0.5 * a_A, 0.5 * a_A])
    else:
        by = a_A * math.sqrt(2.0)
        base = np.array([[0.0, 0.0], [0.5 * a_A, 0.5 * by]])
        shift = np.array([0.0, 0.5 * by])
    bx, by = _surface_cell(surface, a_A)
    return np.mod(base + (k % 2) * shift, [bx, by])


def li_slab(
    lateral_reps=(1, 1),
    layers: int = 6,
    surface: str = "100",
    a_A: float = LI_BCC_A_A,
    frozen_layers: int = 2,
) -> Atoms:
    """A bcc Li slab with its normal along z and its lowest layers frozen.

    Parameters
    ----------
    lateral_reps : (int, int)
        Repetitions (nx, ny) of the rectangular surface cell (module table).
    layers : int
        Number of atomic layers, ≥ ``frozen_layers`` + 1.
    surface : {"100", "110"}
        Plane normal to z.
    a_A : float, Å
        Cubic lattice constant; default :data:`LI_BCC_A_A`.
    frozen_layers : int
        Number of lowest layers marked in the ``frozen`` array, ≥ 0.

    Returns
    -------
    ase.Atoms
        ``layers × atoms_per_layer(surface) × nx × ny`` Li atoms, layer k at
        z = k·d (lowest at z = 0), atoms sorted bottom to top; cell
        ``[[nx·bx, 0, 0], [0, ny·by, 0], [0, 0, layers·d]]``, ``pbc`` True.
        Arrays: :data:`~constpot.keys.FROZEN` ((n,) bool), ``mol_id``
        ((n,) int, −1), ``initial_charges`` 0. Info: ``component`` ("Li"),
        ``surface``, ``a_A``, ``layer_spacing_A``, ``layers``,
        ``frozen_layers``, ``density_g_cm3`` (mass over cell volume).

    Raises
    ------
    ValueError
        A bad argument, named with its value.
    """
    nx, ny = _check_reps(lateral_reps)
    _check_surface(surface)
    _check_a(a_A)
    if not isinstance(frozen_layers, (int, np.integer)) or frozen_layers < 0:
        raise ValueError(
            f"frozen_layers must be an integer >= 0, got {frozen_layers!r}"
        )
    if not isinstance(layers, (int, np.integer)) or layers < frozen_layers + 1:
        raise ValueError(
            f"layers must be an integer >= frozen_layers + 1 = {frozen_layers + 1}, "
            f"got {layers!r}"
        )
    d = layer_spacing_A(surface, a_A)
    bx, by = _surface_cell(surface, a_A)
    ix, iy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    tiles = np.stack([ix.ravel() * bx, iy.ravel() * by], axis=1)  # (nx·ny, 2)
    blocks = []
    for k in range(layers):
        xy = (tiles[:, None, :] + _layer_motif(surface, a_A, k)[None]).reshape(-1, 2)
        blocks.append(np.column_stack([xy, np.full(len(xy), k * d)]))
    positions = np.concatenate(blocks)
    cell = np.diag([nx * bx, ny * by, layers * d])
    atoms = Atoms(
        symbols=["Li"] * len(positions), positions=positions, cell=cell, pbc=True
    )
    layer = np.floor(positions[:, 2] / d + _LAYER_TOL_A / d).astype(int)
    atoms.arrays[FROZEN] = layer < frozen_layers
    atoms.arrays[MOL_ID] = np.full(len(atoms), -1, dtype=int)
    mass = len(atoms) * atomic_masses[atomic_numbers["Li"]]
    atoms.info.update(
        component="Li",
        surface=surface,
        a_A=float(a_A),
        layer_spacing_A=float(d),
        layers=int(layers),
        frozen_layers=int(frozen_layers),
        density_g_cm3=float(mass_density_g_cm3(mass, atoms.get_volume())),
    )
    return atoms
