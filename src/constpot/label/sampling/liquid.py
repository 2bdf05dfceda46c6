"""Liquid frames: fresh periodic packmol boxes of an interface's electrolyte.

:func:`_liquid_recipe` reads the composition and density of an interface's
electrolyte; the sampler packs boxes of it (one per frame, never cut from the
interface: a cube made periodic leaves molecules face to face across the new
boundary). :func:`_lowest_molecules` takes the lowest whole, neutral units of
a box for the liquid layer of li_electrolyte_contact.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.geometry import find_mic

from ...build.electrolyte import molecule_size_A
from ...keys import (
    ELECTROLYTE_REGION,
    MOL_ID,
    MOLECULE,
    REGION,
    WALL_LOWER_A,
    WALL_UPPER_A,
)
from ...units import AVOGADRO_PER_MOL, LITRE_IN_A3, mass_density_g_cm3
from .geometry import _has

#: packmol tolerance (Å) of liquid frames: atoms of different molecules apart.
LIQUID_TOLERANCE_A = 2.0
_SOLVENTS = ("EC", "DMC")


def _electrolyte(ctx):
    cands = [k for k, a in enumerate(ctx.interfaces) if _has(a, ELECTROLYTE_REGION)]
    k = cands[ctx.rng.integers(len(cands))] if cands else None
    # 9–11 Å cubes (≈ 60–120 atoms at 1.3 g/cm³), smaller for a small max_atoms,
    # but never below what packmol needs for the largest molecule.
    side = ctx.rng.uniform(9.0, 11.0) * min(1.0, (ctx.max_atoms / 120) ** (1 / 3))
    side = max(side, _smallest_box_A(ctx.liquid_recipe(k)))
    frame = ctx.fresh_electrolyte(k, (side, side, side))
    # A liquid frame needs a few molecules; more than max_atoms: another side.
    if len(frame) > ctx.max_atoms or len(np.unique(frame.arrays[MOL_ID])) < 4:
        return None
    return frame, "bulk", "electrolyte_box" if k is None else ctx.source(k)


def _smallest_box_A(recipe: dict) -> float:
    """Smallest edge (Å) of a packmol box of ``recipe``: twice the tolerance
    plus the largest molecule it holds."""
    names = [name for name, x in (recipe["solvents"] or {}).items() if x > 0]
    if recipe["salt_molarity"] > 0:
        names.append("PF6")
    return 2.0 * LIQUID_TOLERANCE_A + max(map(molecule_size_A, names), default=0.0)


def _liquid_recipe(atoms: Atoms) -> dict:
    """Solvent mole fractions, LiPF₆ molarity (mol/L) and density (g/cm³) of an
    interface's electrolyte region. Its volume is the packing slab between the
    walls (``info`` ``wall_lower_A``/``wall_upper_A``) or, without them, the
    atoms' z-extent + :data:`LIQUID_TOLERANCE_A` (the packmol margins)."""
    sel = atoms.arrays[REGION] == ELECTROLYTE_REGION
    names, mol = atoms.arrays[MOLECULE][sel], atoms.arrays[MOL_ID][sel]
    n = {name: len(np.unique(mol[names == name])) for name in np.unique(names)}
    n_solvent = sum(n.get(name, 0) for name in _SOLVENTS)
    if n_solvent == 0:
        return {"solvents": None, "salt_molarity": 1.0, "density_g_cm3": 1.3}
    z = atoms.positions[sel, 2]
    if WALL_LOWER_A in atoms.info and WALL_UPPER_A in atoms.info:
        height = float(atoms.info[WALL_UPPER_A]) - float(atoms.info[WALL_LOWER_A])
    else:
        height = float(np.ptp(z)) + LIQUID_TOLERANCE_A
    volume = float(np.prod(np.diag(atoms.cell.array)[:2])) * height
    return {
        "solvents": {s: n.get(s, 0) / n_solvent for s in _SOLVENTS if n.get(s, 0)},
        "salt_molarity": n.get("PF6", 0) / AVOGADRO_PER_MOL / (volume / LITRE_IN_A3),
        "density_g_cm3": mass_density_g_cm3(
            float(atoms.get_masses()[sel].sum()), volume
        ),
    }


def _lowest_molecules(box: Atoms, budget: int) -> Atoms | None:
    """The lowest whole molecules of a packed box, ≤ ``budget`` atoms, neutral.

    Units are the solvent molecules and Li⁺–PF₆⁻ pairs (each PF₆⁻, lowest
    first, with the nearest free Li⁺, lateral minimum image); a unit's height
    is its lowest centroid. Units are taken from the lowest up, skipping those
    that no longer fit. None when no unit fits.
    """
    mol, names = box.arrays[MOL_ID], box.arrays[MOLECULE]
    pos = box.positions
    ids = np.unique(mol)
    first = {m: np.flatnonzero(mol == m) for m in ids}
    cent = {m: pos[first[m]].mean(axis=0) for m in ids}
    kind = {m: str(names[first[m][0]]) for m in ids}
    units = [[m] for m in ids if kind[m] not in ("Li", "PF6")]
    free_li = [m for m in ids if kind[m] == "Li"]
    for m in sorted((m for m in ids if kind[m] == "PF6"), key=lambda m: cent[m][2]):
        if not free_li:
            break
        _, dist = find_mic(
            np.array([cent[li] - cent[m] for li in free_li]),
            box.cell,
            [True, True, False],
        )
        units.append([m, free_li.pop(int(np.argmin(dist)))])
    units.sort(key=lambda u: min(cent[m][2] for m in u))
    keep, n = [], 0
    for unit in units:
        size = sum(len(first[m]) for m in unit)
        if n + size <= budget:
            keep += unit
            n += size
    if not keep:
        return None
    return box[np.sort(np.concatenate([first[m] for m in keep]))]
