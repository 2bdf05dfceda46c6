"""A miniature of the method's core effect: one Li⁺ above a Li anode.

The smallest cell in which constant potential and constant charge can differ
for a single ion: a bcc(100) Li slab (the anode), one Li⁺ above a fourfold
hollow of its top layer, and a PF₆⁻ counter-anion above the ion, in a slab
cell padded with vacuum along z. By default no counter electrode: the
metallic-Li rule labels the one slab the anode, and
:func:`constpot.qeq.electrode_potentials` accepts an empty counter electrode
at 0 V, so a constant-potential run holds the anode at ψ relative to the
electrolyte (run it with ``counter_potential_V: 0``). Then the cell's one
total-charge constraint makes the anode's charge the negative of the
electrolyte's: with PF₆⁻ held at −1 e (the demo's QEq settings), anode +
ion = +1 e, and only the ion can give the anode electrons. ``counter_layers``
> 0 adds a Li counter electrode above the anion (the paper's two-electrode
cell in miniature; run it at the paper's ψ = +2 V), which can.

Geometry
--------
The slab is :func:`.lithium.li_slab` at the demo preset's lattice constant
(``PRESETS["demo"]["li"]["a_A"]``, read at call time), surface (100), its
lowest ``frozen_layers`` frozen. A fourfold hollow of the top layer lies
above an atom of the layer below it (ABAB stacking); the ion sits above the
one nearest the lateral cell's centre, ``height_A`` above the top layer's
plane, at a lateral distance a/√2 from four surface atoms, so at
√(a²/2 + h²) from them. The default h = 3.0 Å puts those four at 3.81 Å
(a = 3.33 Å), outside the rule's 3.5 Å cutoff: the ion has no Li neighbour
by the rule. Below h = 2.59 Å the four surface atoms count, and a deposited
adatom (h = a/2 = 1.67 Å) has five (four at √3a/2, one at a below): on a
flat (100) surface a lone Li never reaches the rule's 8, so it cannot become
an electrode member however close it comes.

The anion is the package's PF₆⁻ template (:func:`.molecules.load_molecule`),
octahedron axes along x, y, z, its P atom ``anion_gap_A`` straight above the
ion, so one F points at the ion from ``anion_gap_A`` − 1.63 Å. PF₆⁻ rather
than a bare F⁻: it is the anion of the demo electrolyte (LiPF₆ in EC), so
a model trained on the demo interfaces has seen it, and a lone F⁻ next to a
Li⁺ is the LiF of the SEI, a different chemistry.

The cell along z follows :func:`.stack.stack_blocks`: its length is
``vacuum_factor`` × the extent of the atoms along z, the atoms centred
(3: vacuum twice the thickness, the 2D-periodic limit of the slab Ewald).
The counter electrode, when asked for, is the same slab mirrored (frozen
layers outermost), its lowest layer ``counter_gap_A`` above the anion's
highest atom.

Example
-------
>>> from constpot.build.miniature import ION_INFO, li_ion_at_anode
>>> atoms = li_ion_at_anode()
>>> len(atoms), atoms.get_chemical_formula(), atoms.info[ION_INFO]
(53, 'F6Li46P', 45)
"""

from __future__ import annotations

import math

import numpy as np
from ase import Atoms
from ase.constraints import FixAtoms

from ..keys import (
    ANODE_REGION,
    COUNTER_REGION,
    ELECTROLYTE_REGION,
    FROZEN,
    MINIATURE_ION,
    MOL_ID,
    MOLECULE,
    REGION,
)
from .lithium import li_slab
from .molecules import load_molecule
from .recipe import PRESETS

__all__ = ["HEIGHT_INFO", "ION_INFO", "li_ion_at_anode"]

#: ``atoms.info`` key: index of the Li⁺ the miniature follows (int).
ION_INFO = MINIATURE_ION
#: ``atoms.info`` key: the ion's starting height above the top layer, Å.
HEIGHT_INFO = "miniature_height_A"

#: Smallest distance allowed between the ion and an atom of the anion, Å.
_MIN_ION_ANION_A = 2.0


def _check_positive(name: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0 Å, got {value!r}")
    return number


def _check_int(name: str, value, minimum: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or value < minimum
    ):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def li_ion_at_anode(
    height_A: float = 3.0,
    lateral_reps=(3, 3),
    layers: int = 5,
    frozen_layers: int = 2,
    a_A: float | None = None,
    anion_gap_A: float = 6.0,
    vacuum_factor: float = 3.0,
    counter_layers: int = 0,
    counter_gap_A: float = 3.0,
) -> Atoms:
    """A Li⁺ above a hollow of a bcc(100) Li anode, a PF₆⁻ above it, in vacuum.

    Parameters
    ----------
    height_A : float, Å
        Height of the ion above the plane of the anode's top layer (> 0).
    lateral_reps : (int, int)
        Surface cells (nx, ny) of the slab; a (100) cell holds one atom per
        layer.
    layers : int
        Atomic layers of the slab, ≥ ``frozen_layers`` + 2: the hollow and
        the layer under it stay mobile.
    frozen_layers : int
        Lowest layers held fixed (``frozen`` array and a FixAtoms constraint).
    a_A : float, optional, Å
        bcc lattice constant; default the demo preset's ``li.a_A``.
    anion_gap_A : float, Å
        Height of the anion's P atom above the ion.
    vacuum_factor : float
        Cell length along z as a multiple of the atoms' extent along z (≥ 2).
    counter_layers : int
        Layers of a Li counter electrode above the anion; 0 (default): none.
        Else ≥ ``frozen_layers`` + 1, its ``frozen_layers`` outermost frozen.
    counter_gap_A : float, Å
        Height of the counter electrode's lowest layer above the anion's
        highest atom.

    Returns
    -------
    ase.Atoms
        Slab atoms first (bottom to top, as :func:`.lithium.li_slab` lists
        them), then the ion, then PF₆⁻ (P first), then the counter electrode
        if any (region "counter", mol_id −1, formal charge 0). ``pbc`` True,
        surface normal z. Arrays ``region`` ("anode" for the slab, "electrolyte" for
        the ion and the anion), ``mol_id`` (−1 slab, 0 ion, 1 anion),
        ``molecule`` ("-", "Li", "PF6"), ``frozen``, ``initial_charges``
        (formal: slab 0, Li⁺ +1, P +5, F −1; sum 0). Info :data:`ION_INFO`
        (the ion's index), :data:`HEIGHT_INFO`, ``a_A``, ``hollow_xy_A``
        (the ion's lateral site), ``<region>_z_min_A``/``_z_max_A``.

    Raises
    ------
    ValueError
        A non-positive height, gap or lattice constant, bad repetitions or
        layer counts, a vacuum factor below 2, or an anion closer than 2 Å to
        the ion (the message names the argument).
    """
    height = _check_positive("height_A", height_A)
    gap = _check_positive("anion_gap_A", anion_gap_A)
    frozen_layers = _check_int("frozen_layers", frozen_layers, 0)
    layers = _check_int("layers", layers, max(frozen_layers + 2, 2))
    a = _check_positive("a_A", PRESETS["demo"]["li"]["a_A"] if a_A is None else a_A)
    counter_layers = _check_int("counter_layers", counter_layers, 0)
    if counter_layers:
        _check_int("counter_layers", counter_layers, frozen_layers + 1)
    counter_gap = _check_positive("counter_gap_A", counter_gap_A)
    factor = float(vacuum_factor)
    if not (math.isfinite(factor) and factor >= 2.0):
        raise ValueError(f"vacuum_factor must be >= 2, got {vacuum_factor!r}")

    slab = li_slab(
        lateral_reps, layers=layers, surface="100", a_A=a, frozen_layers=frozen_layers
    )
    d = float(slab.info["layer_spacing_A"])
    z = slab.positions[:, 2]
    top = z.max()
    below = slab.positions[np.abs(z - (top - d)) < 0.1 * d]
    centre = 0.5 * (slab.cell[0, :2] + slab.cell[1, :2])
    hollow = below[np.argmin(np.linalg.norm(below[:, :2] - centre, axis=1)), :2]
    ion_pos = np.array([hollow[0], hollow[1], top + height])

    anion = load_molecule("PF6")
    anion.positions += ion_pos + np.array([0.0, 0.0, gap]) - anion.positions[0]
    closest = float(np.linalg.norm(anion.positions - ion_pos, axis=1).min())
    if closest < _MIN_ION_ANION_A:
        raise ValueError(
            f"anion_gap_A = {gap:g} Å puts an F atom {closest:.2f} Å from the ion; "
            f"give at least {gap - closest + _MIN_ION_ANION_A:.2f} Å"
        )

    counter = Atoms()
    if counter_layers:
        counter = li_slab(
            lateral_reps,
            layers=counter_layers,
            surface="100",
            a_A=a,
            frozen_layers=frozen_layers,
        )
        counter.positions[:, 2] *= -1.0  # frozen layers outermost
        counter.positions[:, 2] += (
            anion.positions[:, 2].max() + counter_gap - counter.positions[:, 2].min()
        )

    n_slab, n_anion, n_counter = len(slab), len(anion), len(counter)
    n_ely = 1 + n_anion
    atoms = Atoms(
        ["Li"] * (n_slab + 1) + list(anion.symbols) + ["Li"] * n_counter,
        positions=np.vstack(
            [slab.positions, ion_pos, anion.positions, counter.positions]
        ),
        cell=slab.cell.array.copy(),
        pbc=True,
    )
    charges = np.concatenate(
        [np.zeros(n_slab), [1.0], anion.get_initial_charges(), np.zeros(n_counter)]
    )
    atoms.set_initial_charges(charges)
    atoms.arrays[REGION] = np.array(
        [ANODE_REGION] * n_slab
        + [ELECTROLYTE_REGION] * n_ely
        + [COUNTER_REGION] * n_counter
    )
    atoms.arrays[MOL_ID] = np.concatenate(
        [np.full(n_slab, -1), [0], np.full(n_anion, 1), np.full(n_counter, -1)]
    ).astype(int)
    atoms.arrays[MOLECULE] = np.array(
        ["-"] * n_slab + ["Li"] + ["PF6"] * n_anion + ["-"] * n_counter
    )
    counter_frozen = counter.arrays[FROZEN] if n_counter else np.zeros(0, bool)
    frozen = np.concatenate(
        [slab.arrays[FROZEN], np.zeros(n_ely, bool), counter_frozen]
    )
    atoms.arrays[FROZEN] = frozen
    if frozen.any():
        atoms.set_constraint(FixAtoms(mask=frozen))

    # Vacuum along z as the stacker pads it: length = factor × extent, centred.
    z = atoms.positions[:, 2]
    extent = float(z.max() - z.min())
    cell = atoms.cell.array.copy()
    cell[2] = [0.0, 0.0, factor * extent]
    atoms.set_cell(cell, scale_atoms=False)
    atoms.positions[:, 2] += 0.5 * cell[2, 2] - 0.5 * (z.max() + z.min())

    z = atoms.positions[:, 2]
    regions = atoms.arrays[REGION]
    for region in dict.fromkeys(regions):
        atoms.info[f"{region}_z_min_A"] = float(z[regions == region].min())
        atoms.info[f"{region}_z_max_A"] = float(z[regions == region].max())
    atoms.info.update(
        {
            ION_INFO: n_slab,
            HEIGHT_INFO: height,
            "a_A": a,
            "layer_spacing_A": d,
            "hollow_xy_A": [float(hollow[0]), float(hollow[1])],
            "anion_gap_A": gap,
            "counter_layers": counter_layers,
        }
    )
    return atoms
