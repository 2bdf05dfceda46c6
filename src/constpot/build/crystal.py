"""Crystalline SEI blocks: rock-salt LiF and antifluorite Li₂O on a Li slab.

A block is cut from the bulk crystal with a low-index plane normal to **z**,
strained laterally onto the Li slab's cell and stacked from whole, neutral,
stoichiometric layers. The crystal is :func:`ase.spacegroup.crystal`'s (space
group Fm-3m; origin moved onto a Li site), its oriented surface cells are cut
by :func:`ase.build.cut`.

Crystals (cubic lattice constant a, room-temperature experimental values)
-------------------------------------------------------------------------
======  ============  =======  ====================  ===============
name    structure     a (Å)    formal charges        ρ (g/cm³)
======  ============  =======  ====================  ===============
LiF     rock salt     4.027    Li +1, F −1           2.64
Li2O    antifluorite  4.619    Li +1, O −2           2.01
======  ============  =======  ====================  ===============

The densities follow from a and the formula masses (4 formula units per cubic
cell) and agree with the handbook X-ray densities, 2.64 g/cm³ (LiF) and
2.013 g/cm³ (Li₂O) (CRC Handbook of Chemistry and Physics, "Physical
constants of inorganic compounds"); the lattice constants are the usual room
temperature X-ray values (LiF 4.026–4.027 Å, Li₂O 4.61–4.62 Å).

Orientations and layers
-----------------------
``"100"``: layers a/2 apart. In LiF every (100) layer holds Li and F (neutral,
Tasker type I). In Li₂O the (100) planes alternate O²⁻ and Li₂²⁺ (type III,
polar): a block cut between planes would carry a dipole, a potential step of
~40 V per O/Li₂ plane pair with unscreened formal charges, so the block is
built *non-polar*, as ½Li | O | Li | O | … | O | ½Li,
with the bottom Li plane at z = 0 holding one checkerboard half of its sites
and the other half moved to the top, z = c (the periodic image of z = 0: the
fully periodic cell stays exact bulk across that seam).
``"110"``: layers a/(2√2) apart, each holding Li and F, or 2 Li and O, in one
plane (type I) for both crystals.
A *layer* below is the smallest neutral stoichiometric slice: one (100) or
(110) plane of LiF or Li₂O(110), one O plane plus one Li plane of Li₂O(100).

Lateral fit (the strain rule)
-----------------------------
Candidate rectangular surface cells of the orientation: on (100) the cubic
face a × a and the 45°-rotated cell a/√2 × a/√2 (axes [110], [1-10]); on
(110) a × a/√2 (axes [001], [1-10]) in either lateral orientation. For each
candidate and axis the integer repetition n (⌊L/b⌋ or ⌈L/b⌉, ≥ 1) minimising
|ε| with ε = L/(n·b) − 1 is taken; the candidate with the smallest
max(|εx|, |εy|) wins (ties: smaller |εx| + |εy|, then fewer atoms, then the
order above). The crystal is then strained homogeneously by (εx, εy) and its
layer spacing scaled by 1/((1 + εx)(1 + εy)), which keeps the volume per
formula unit, hence the mass density, equal to the unstrained crystal's (a
Poisson response with volume conservation; chosen so that crystalline and
amorphous blocks of one recipe are built at their reference densities).
Strains beyond ``max_strain`` (default 6 %) are refused.

Examples
--------
>>> from constpot.build.crystal import crystalline_block
>>> block = crystalline_block("LiF", [[13.76, 0.0], [0.0, 13.76]], 6.0)
>>> block.info["lateral_reps"], block.info["n_layers"]
((5, 5), 3)
>>> round(block.info["density_g_cm3"], 2), float(block.get_initial_charges().sum())
(2.64, 0.0)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from ase import Atoms
from ase.build import cut
from ase.data import atomic_masses, atomic_numbers
from ase.spacegroup import crystal

from ..keys import FORMAL_CHARGES, FROZEN, MOL_ID, REGION, SEI_REGION
from ..units import mass_density_g_cm3
from ._cell import rectangular_lengths

__all__ = [
    "AMORPHOUS_DENSITY_G_CM3",
    "COMPONENTS",
    "FORMAL_CHARGES",
    "LATTICE_CONSTANT_A",
    "ORIENTATIONS",
    "PHASES",
    "LateralFit",
    "crystalline_block",
    "formula_mass_amu",
    "formula_units",
    "lateral_fit",
    "target_density_g_cm3",
]

#: SEI components this module builds.
COMPONENTS: tuple[str, ...] = ("LiF", "Li2O")
#: Phases of :func:`target_density_g_cm3`.
PHASES: tuple[str, ...] = ("crystalline", "amorphous")
#: Plane normal to z (Miller indices).
ORIENTATIONS: tuple[str, ...] = ("100", "110")

#: Cubic lattice constants at room temperature, Å (see the module docstring).
LATTICE_CONSTANT_A: dict[str, float] = {"LiF": 4.027, "Li2O": 4.619}

#: Densities of the amorphous phases, g/cm³: taken ~5 % below the crystal's
#: (2.64, 2.01), inside the ranges found by molecular-dynamics studies of
#: amorphous SEI components (melt–quench), amorphous LiF ≈ 2.4–2.6 and
#: amorphous Li₂O ≈ 1.9–2.0 g/cm³.
AMORPHOUS_DENSITY_G_CM3: dict[str, float] = {"LiF": 2.50, "Li2O": 1.95}


_FORMULA: dict[str, dict[str, int]] = {
    "LiF": {"Li": 1, "F": 1},
    "Li2O": {"Li": 2, "O": 1},
}

#: Conventional cubic cell (4 formula units) for :func:`ase.spacegroup.crystal`:
#: space group 225 (Fm-3m) and one site per Wyckoff orbit: rock salt LiF (Li
#: 4a, F 4b), antifluorite Li₂O (O 4a, Li 8c).
_SITES: dict[str, tuple[list[str], list[tuple[float, float, float]]]] = {
    "LiF": (["Li", "F"], [(0.0, 0.0, 0.0), (0.5, 0.5, 0.5)]),
    "Li2O": (["O", "Li"], [(0.0, 0.0, 0.0), (0.25, 0.25, 0.25)]),
}
#: Origin shift (fractional, along the cube diagonal) that puts a Li site at
#: the origin, so that a layer containing Li lies at z = 0 in every
#: orientation (for Li₂O(100) a pure Li plane, the one split in two).
_ORIGIN_SHIFT: dict[str, float] = {"LiF": 0.0, "Li2O": 0.75}

#: Rectangular surface cells per orientation: name and rows (x, y, z) in units
#: of a, in cubic coordinates; z spans one full period along the normal.
_SURFACE_CELLS: dict[str, list[tuple[str, np.ndarray]]] = {
    "100": [
        ("cubic", np.eye(3)),
        ("rotated45", np.array([[0.5, 0.5, 0.0], [-0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])),
    ],
    "110": [
        ("rect110", np.array([[0.0, 0.0, 1.0], [0.5, -0.5, 0.0], [0.5, 0.5, 0.0]])),
    ],
}

#: Layers (as defined in the module docstring) per period along z: 2 for every
#: supported component and orientation.
_LAYERS_PER_PERIOD = 2

_TOL = 1e-8


class LateralFit(NamedTuple):
    """How a crystal's surface cell is repeated and strained onto ``cell_xy``.

    Attributes
    ----------
    surface_cell : str
        "cubic", "rotated45" (on (100)) or "rect110" (on (110)).
    swapped : bool
        The cell's x and y axes exchanged (rotated 90° about z).
    reps : (int, int)
        Repetitions (nx, ny).
    strain : (float, float)
        Lateral strain (εx, εy) = L/(n·b) − 1 applied to the crystal.
    cell_A : (float, float)
        Unstrained lateral lengths (bx, by) of one surface cell, Å.
    """

    surface_cell: str
    swapped: bool
    reps: tuple[int, int]
    strain: tuple[float, float]
    cell_A: tuple[float, float]


def _check_component(component: str) -> None:
    if component not in COMPONENTS:
        raise ValueError(
            f"component must be one of {', '.join(map(repr, COMPONENTS))}, "
            f"got {component!r}"
        )


def _check_orientation(orientation: str) -> None:
    if orientation not in ORIENTATIONS:
        raise ValueError(
            f"orientation must be one of {', '.join(map(repr, ORIENTATIONS))}, "
            f"got {orientation!r}"
        )


def formula_units(component: str) -> dict[str, int]:
    """Composition of one formula unit.

    Parameters
    ----------
    component : {"LiF", "Li2O"}

    Returns
    -------
    dict of str to int
        Element → count, e.g. ``{"Li": 2, "O": 1}`` for Li₂O (a new dict).

    Raises
    ------
    ValueError
        Unknown component.
    """
    _check_component(component)
    return dict(_FORMULA[component])


def formula_mass_amu(component: str) -> float:
    """Mass of one formula unit, amu (ASE's standard atomic masses)."""
    return float(
        sum(
            n * atomic_masses[atomic_numbers[el]]
            for el, n in formula_units(component).items()
        )
    )


def target_density_g_cm3(component: str, phase: str) -> float:
    """Reference mass density of an SEI component.

    Parameters
    ----------
    component : {"LiF", "Li2O"}
    phase : {"crystalline", "amorphous"}

    Returns
    -------
    float, g/cm³
        Crystalline: from the lattice, 4 formula units per a³ (LiF 2.64,
        Li₂O 2.01). Amorphous: :data:`AMORPHOUS_DENSITY_G_CM3` (LiF 2.50,
        Li₂O 1.95), ~5 % below the crystal, inside the ranges of MD studies of
        amorphous SEI components (LiF ≈ 2.4–2.6, Li₂O ≈ 1.9–2.0 g/cm³).

    Raises
    ------
    ValueError
        Unknown component or phase.
    """
    _check_component(component)
    if phase not in PHASES:
        raise ValueError(
            f"phase must be one of {', '.join(map(repr, PHASES))}, got {phase!r}"
        )
    if phase == "amorphous":
        return AMORPHOUS_DENSITY_G_CM3[component]
    a = LATTICE_CONSTANT_A[component]
    return mass_density_g_cm3(4.0 * formula_mass_amu(component), a**3)


def _conventional_cell(component: str) -> Atoms:
    """The conventional cubic cell (4 formula units), a Li site at the origin."""
    a = LATTICE_CONSTANT_A[component]
    symbols, basis = _SITES[component]
    atoms = crystal(
        symbols, basis=basis, spacegroup=225, cellpar=[a, a, a, 90.0, 90.0, 90.0]
    )
    shift = _ORIGIN_SHIFT[component]
    atoms.set_scaled_positions(np.mod(atoms.get_scaled_positions() + shift, 1.0))
    return atoms


def _unit_cell(component: str, rows: np.ndarray):
    """Atoms of one oriented rectangular cell of the bulk crystal.

    The cell is cut from :func:`_conventional_cell` by :func:`ase.build.cut`
    (rows: the new cell vectors in units of a).

    Returns ``(symbols, frac, cubic)``: (n,) element symbols, (n, 3) fractional
    coordinates in the oriented cell (x, y, z along the rows), in [0, 1), and
    (n, 3) cubic coordinates (units of a) of the same sites.
    """
    oriented = cut(_conventional_cell(component), a=rows[0], b=rows[1], c=rows[2])
    frac = oriented.get_scaled_positions(wrap=True)
    # Remove round-off: these sites sit on multiples of 1/8 of the cell, which
    # 12 decimals hold exactly (and −0.0 becomes 0.0).
    frac = np.round(np.mod(frac + _TOL, 1.0) - _TOL, 12) + 0.0
    symbols = np.array(oriented.get_chemical_symbols())
    n_expected = round(abs(np.linalg.det(rows)) * 4) * sum(_FORMULA[component].values())
    if len(symbols) != n_expected:  # pragma: no cover - a bug in the tables
        raise RuntimeError(
            f"{component}: {len(symbols)} atoms in the oriented cell, "
            f"expected {n_expected}"
        )
    return symbols, frac, frac @ rows


def _best_reps(length: float, b: float) -> tuple[int, float]:
    t = length / b
    options = {max(1, math.floor(t)), max(1, math.ceil(t))}
    n = min(sorted(options), key=lambda k: abs(length / (k * b) - 1.0))
    return n, length / (n * b) - 1.0


def lateral_fit(component: str, cell_xy, orientation: str = "100") -> LateralFit:
    """Best repetition of the crystal's surface cells on a rectangular cell.

    Parameters
    ----------
    component : {"LiF", "Li2O"}
    cell_xy : (2, 2) array_like, Å
        Rows: x–y components of the lateral cell vectors, rectangular
        ``[[Lx, 0], [0, Ly]]``.
    orientation : {"100", "110"}

    Returns
    -------
    LateralFit
        The fit of least max(|εx|, |εy|) (rule in the module docstring); no
        bound on the strain is applied here.

    Raises
    ------
    ValueError
        Unknown component or orientation, a cell that is not rectangular.
    """
    _check_component(component)
    _check_orientation(orientation)
    lx, ly = rectangular_lengths(cell_xy)
    a = LATTICE_CONSTANT_A[component]
    best, best_key = None, None
    for name, rows in _SURFACE_CELLS[orientation]:
        lengths = a * np.linalg.norm(rows, axis=1)
        for swapped in (False, True):
            bx, by = (lengths[1], lengths[0]) if swapped else (lengths[0], lengths[1])
            if swapped and math.isclose(bx, by):
                continue
            nx, ex = _best_reps(lx, bx)
            ny, ey = _best_reps(ly, by)
            key = (
                round(max(abs(ex), abs(ey)), 12),
                round(abs(ex) + abs(ey), 12),
                nx * ny * abs(np.linalg.det(rows)),
            )
            if best_key is None or key < best_key:
                best_key = key
                best = LateralFit(
                    name,
                    swapped,
                    (nx, ny),
                    (float(ex), float(ey)),
                    (float(bx), float(by)),
                )
    return best


def crystalline_block(
    component: str,
    cell_xy,
    thickness_A: float,
    orientation: str = "100",
    max_strain: float = 0.06,
) -> Atoms:
    """A crystalline LiF or Li₂O block strained onto a Li slab's lateral cell.

    Parameters
    ----------
    component : {"LiF", "Li2O"}
    cell_xy : (2, 2) array_like, Å
        Lateral cell of the slab the block must fit (rows: x–y components of
        the cell vectors), rectangular ``[[Lx, 0], [0, Ly]]``; e.g.
        :func:`constpot.build.lithium.lateral_cell`.
    thickness_A : float, Å
        Wanted thickness; the block gets the whole number of layers whose
        total, ``n_layers · layer_spacing``, is closest to it.
    orientation : {"100", "110"}
        Plane normal to z.
    max_strain : float
        Largest |lateral strain| accepted (fraction, default 0.06).

    Returns
    -------
    ase.Atoms
        Cell ``[[Lx, 0, 0], [0, Ly, 0], [0, 0, c]]``, c = n_layers ·
        layer_spacing (the periodic repeat, to be replaced by the stacker),
        ``pbc`` True; atoms sorted by z, then y, then x, the lowest at z = 0,
        all at z < c except the top half Li plane of Li₂O(100), which lies on
        z = c (module docstring). Exactly stoichiometric and neutral.
        Arrays: ``initial_charges`` (formal charges: Li +1, F −1, O −2),
        :data:`~constpot.keys.REGION` ("sei"), ``mol_id`` (−1), ``frozen``
        (False). Info: ``component``, ``phase`` ("crystalline"),
        ``orientation``, ``lateral_strain`` (εx, εy), ``density_g_cm3``
        (mass / cell volume), ``lattice_constant_A``, ``surface_cell``,
        ``lateral_reps`` (nx, ny), ``n_layers``, ``layer_spacing_A``,
        ``thickness_A`` (= c), ``formula_units`` (number in the block).

    Raises
    ------
    ValueError
        Unknown component or orientation; a cell that is not rectangular; a
        strain beyond ``max_strain`` (message with both strains, the cell and
        the best repetition); ``thickness_A`` closer to zero than to one layer.
    """
    _check_component(component)
    _check_orientation(orientation)
    lx, ly = rectangular_lengths(cell_xy)
    if not (np.isfinite(max_strain) and 0.0 <= max_strain < 1.0):
        raise ValueError(f"max_strain must be in [0, 1), got {max_strain}")
    if not (np.isfinite(thickness_A) and thickness_A > 0):
        raise ValueError(f"thickness_A must be > 0 Å, got {thickness_A}")

    fit = lateral_fit(component, cell_xy, orientation)
    ex, ey = fit.strain
    if max(abs(ex), abs(ey)) > max_strain:
        raise ValueError(
            f"lateral strain (εx, εy) = ({ex:+.4f}, {ey:+.4f}) of "
            f"{component}({orientation}) on cell_xy {lx:.3f} × {ly:.3f} Å exceeds "
            f"max_strain = {max_strain} (best fit: {fit.reps[0]} × {fit.reps[1]} "
            f"{fit.surface_cell} cells of {fit.cell_A[0]:.3f} × {fit.cell_A[1]:.3f} Å)"
        )
    a = LATTICE_CONSTANT_A[component]
    rows = dict(_SURFACE_CELLS[orientation])[fit.surface_cell]
    symbols, frac, cubic = _unit_cell(component, rows)
    lengths = a * np.linalg.norm(rows, axis=1)
    if fit.swapped:
        frac = frac[:, [1, 0, 2]]
        lengths = lengths[[1, 0, 2]]
    period_z = lengths[2] / ((1.0 + ex) * (1.0 + ey))
    spacing = period_z / _LAYERS_PER_PERIOD
    n_layers = math.floor(thickness_A / spacing + 0.5)
    if n_layers < 1:
        raise ValueError(
            f"thickness_A = {thickness_A} Å is closer to zero than to one layer of "
            f"{component}({orientation}) ({spacing:.3f} Å at this strain); "
            f"ask for at least {0.5 * spacing:.3f} Å"
        )
    c = n_layers * spacing

    # Tile the strained unit cell: nx × ny laterally, enough periods in z.
    nx, ny = fit.reps
    nz = -(-n_layers // _LAYERS_PER_PERIOD)
    ix, iy, iz = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
    shifts = np.stack([ix.ravel(), iy.ravel(), iz.ravel()], axis=1)
    f = (frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3)
    positions = f * [lx / nx, ly / ny, period_z]
    sym = np.tile(symbols, len(shifts))
    keep = positions[:, 2] < c - _TOL * period_z
    if component == "Li2O" and orientation == "100":
        # Checkerboard half of the bottom Li plane (sites (i, j)·a/2 with i + j
        # odd, cubic coordinates) moves to the top: the non-polar ½Li…½Li cut.
        ij = np.rint(2.0 * cubic[:, :2]).astype(int)
        odd = np.tile(
            (symbols == "Li") & (ij.sum(axis=1) % 2 == 1) & (np.abs(frac[:, 2]) < _TOL),
            len(shifts),
        )
        move = keep & odd & (f[:, 2] < _TOL)
        positions[move, 2] = c
    positions, sym = positions[keep], sym[keep]
    order = np.lexsort((positions[:, 0], positions[:, 1], positions[:, 2]))
    positions, sym = positions[order], sym[order]

    n = len(sym)
    cell = np.array([[lx, 0.0, 0.0], [0.0, ly, 0.0], [0.0, 0.0, c]])
    cell[:2, :2] = np.asarray(cell_xy, dtype=float)
    atoms = Atoms(symbols=list(sym), positions=positions, cell=cell, pbc=True)
    charges = np.array([FORMAL_CHARGES[s] for s in sym], dtype=float)
    counts = {el: int(np.sum(sym == el)) for el in _FORMULA[component]}
    n_fu = counts["Li"] // _FORMULA[component]["Li"]
    if charges.sum() != 0 or any(  # pragma: no cover - a bug in the tables
        counts[el] != k * n_fu for el, k in _FORMULA[component].items()
    ):
        raise RuntimeError(f"{component} block is not stoichiometric: {counts}")
    atoms.set_initial_charges(charges)
    atoms.arrays[REGION] = np.full(n, SEI_REGION, dtype="<U11")
    atoms.arrays[MOL_ID] = np.full(n, -1, dtype=int)
    atoms.arrays[FROZEN] = np.zeros(n, dtype=bool)
    mass = n_fu * formula_mass_amu(component)
    atoms.info.update(
        component=component,
        phase="crystalline",
        orientation=orientation,
        lateral_strain=(float(ex), float(ey)),
        density_g_cm3=float(mass_density_g_cm3(mass, atoms.get_volume())),
        lattice_constant_A=a,
        surface_cell=fit.surface_cell,
        lateral_reps=(int(nx), int(ny)),
        n_layers=int(n_layers),
        layer_spacing_A=float(spacing),
        thickness_A=float(c),
        formula_units=int(n_fu),
    )
    return atoms
