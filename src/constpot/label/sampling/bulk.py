"""Bulk and surface frames: metallic Li, crystalline and amorphous LiF/Li₂O.

Metal frames follow the labeller (:mod:`constpot.label.sampling`): the
anode's lateral cell for a Γ-only labeller, fresh cells of
:data:`FRESH_LI_CELLS` bcc cells per edge for one with a k-point rule.
Crystals are random supercells (edges ≥ 6.5 Å; for a k-point labeller,
where none fits ``max_atoms``, ≥ 2 cubic cells) of the builder's lattice
constants; amorphous frames are cut from an interface's amorphous SEI patch
or, without one, taken from (or carved out of) a melt-quenched block.
"""

from __future__ import annotations

import itertools

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.geometry import find_mic
from ase.neighborlist import neighbor_list

from ...build.crystal import LATTICE_CONSTANT_A
from ...build.lithium import LI_BCC_A_A, li_slab
from ...keys import ANODE_REGION, FORMAL_CHARGES, REGION, SEI_REGION
from .geometry import VACUUM_A, _box, _has, _lateral_window, _tag

#: Smallest edge (Å) of a 3D-periodic bulk supercell.
_MIN_BULK_EDGE_A = 6.5
#: Cubic bcc cells along z of a li_bulk frame (4 × 4 × 3 = 96 atoms in the demo).
LI_BULK_CELLS_Z = 3
#: (100) layers of the li_surface and Li-slab li_adatom frames (the anode's 6).
LI_SLAB_LAYERS = 6
#: Thinnest li_surface film for labellers consistent across cells, which draw
#: 4 … LI_SLAB_LAYERS layers: a 2-layer NequIP sees ~9 Å, so on a 4-layer film
#: (5 Å) each surface feels the other, and a model trained on 6-layer films
#: only put the free surface of a 4-layer film 0.15–0.2 Å too far out.
LI_SLAB_MIN_LAYERS = 4
#: Cubic bcc cells per edge of fresh metal frames for k-point labellers
#: (li_bulk: nx × ny × nz; Li(100) slabs: nx × ny laterally), 7.0–14.0 Å.
FRESH_LI_CELLS = (2, 3, 4)
#: What lifts the Γ-only restriction, for error messages.
_KPOINTS_HINT = (
    "a labeller with a k-point rule lifts this: kind gpaw, or kind ase with "
    "kpt_spacing_inv_A"
)
_COMPONENT = {"lif_amorphous": "LiF", "li2o_amorphous": "Li2O"}
_CRYSTAL = {"lif_crystal": "LiF", "li2o_crystal": "Li2O"}


def _anode_cells(atoms: Atoms) -> tuple[np.ndarray, np.ndarray]:
    """bcc(100) cells (nx, ny) of an interface's lateral cell and its in-plane
    period (Å): the lateral lengths over the nearest whole numbers of cells
    of :data:`constpot.build.lithium.LI_BCC_A_A`."""
    lengths = np.diag(atoms.cell.array)[:2]
    cells = np.maximum(np.round(lengths / LI_BCC_A_A).astype(int), 1)
    return cells, lengths / cells


def _li_lattice_A(interfaces: list[Atoms]) -> float:
    """Lattice constant (Å) of fresh metal frames: the first anode's period
    along x (its metal and the frames' are then the same crystal), else
    :data:`constpot.build.lithium.LI_BCC_A_A`."""
    for atoms in interfaces:
        if _has(atoms, ANODE_REGION):
            return float(_anode_cells(atoms)[1][0])
    return LI_BCC_A_A


def _li_lateral_reps(interfaces: list[Atoms]) -> tuple[int, int]:
    """bcc(100) cells (nx, ny) of the anodes' lateral cell; (4, 4) without one.

    Raises ValueError when interfaces with an anode disagree: with a Γ-only
    labeller the frames with metallic Li must share one lateral cell
    (:mod:`constpot.label.sampling`).
    """
    found = {
        tuple(int(n) for n in _anode_cells(a)[0])
        for a in interfaces
        if _has(a, ANODE_REGION)
    }
    if len(found) > 1:
        raise ValueError(
            "interfaces: the anodes have different lateral cells "
            f"{sorted(found)} (bcc(100) cells); frames with metallic Li need one "
            f"for a Γ-only labeller ({_KPOINTS_HINT})"
        )
    return found.pop() if found else (4, 4)


def _li_bulk(ctx):
    """Cubic bcc supercell: the anode's lateral cell (Γ-only labeller), else
    a fresh one of 2–4 cells per edge."""
    if ctx.kpoints:
        cands = [
            reps
            for reps in itertools.product(FRESH_LI_CELLS, repeat=3)
            if 2 * np.prod(reps) <= ctx.max_atoms
        ]
        if not cands:
            raise ValueError(
                f"category 'li_bulk': max_atoms = {ctx.max_atoms} is below the "
                f"{2 * min(FRESH_LI_CELLS) ** 3} atoms of the smallest bcc Li "
                "supercell (edges ≥ 6.5 Å)"
            )
        reps = cands[ctx.rng.integers(len(cands))]
    else:
        nx, ny = ctx.li_reps
        nz = min(LI_BULK_CELLS_Z, ctx.max_atoms // (2 * nx * ny))
        if nz < 1 or ctx.li_a_A * min(nx, ny, nz) < _MIN_BULK_EDGE_A:
            raise ValueError(
                f"category 'li_bulk': max_atoms = {ctx.max_atoms} is below the "
                f"{2 * nx * ny * 2} atoms of the bcc Li supercell {nx} × {ny} × 2 "
                f"(the anode's lateral cell, edges ≥ 6.5 Å; {_KPOINTS_HINT})"
            )
        reps = (nx, ny, nz)
    atoms = bulk("Li", "bcc", a=ctx.li_a_A, cubic=True).repeat(tuple(reps))
    return _tag(atoms, ANODE_REGION), "bulk", "bulk"


def _fresh_li_lateral(ctx, category: str, per_cell: int, spare: int) -> tuple:
    """Lateral bcc(100) cells (nx, ny) of a fresh metal frame: the anode's
    (Γ-only labeller), else drawn from :data:`FRESH_LI_CELLS` × itself among
    those with ``per_cell · nx · ny + spare ≤ max_atoms``."""
    if not ctx.kpoints:
        return ctx.li_reps
    cands = [
        (nx, ny)
        for nx in FRESH_LI_CELLS
        for ny in FRESH_LI_CELLS
        if per_cell * nx * ny + spare <= ctx.max_atoms
    ]
    if not cands:
        n = min(FRESH_LI_CELLS)
        raise ValueError(
            f"category {category!r}: max_atoms = {ctx.max_atoms} is too small for "
            f"{per_cell * n * n + spare} atoms on a {n} × {n} Li(100) cell"
        )
    return cands[ctx.rng.integers(len(cands))]


def _li_slab_frame(ctx, category: str, spare: int = 0, vary_layers: bool = False):
    """A Li(100) slab of LI_SLAB_LAYERS layers, fewer (≥ 4) where ``max_atoms``
    requires; with ``vary_layers`` (and a cell-consistent labeller) a number
    drawn from LI_SLAB_MIN_LAYERS up to that."""
    try:  # the full LI_SLAB_LAYERS if any fresh lateral cell allows, else ≥ 4
        nx, ny = _fresh_li_lateral(ctx, category, LI_SLAB_LAYERS, spare)
    except ValueError:
        nx, ny = _fresh_li_lateral(ctx, category, LI_SLAB_MIN_LAYERS, spare)
    layers = min(LI_SLAB_LAYERS, (ctx.max_atoms - spare) // (nx * ny))
    if vary_layers and ctx.kpoints and layers > LI_SLAB_MIN_LAYERS:
        layers = int(ctx.rng.integers(LI_SLAB_MIN_LAYERS, layers + 1))
    if layers < LI_SLAB_MIN_LAYERS:
        raise ValueError(
            f"category {category!r}: max_atoms = {ctx.max_atoms} is too small for a "
            f"Li(100) slab of ≥ 4 layers on a {nx} × {ny} lateral cell "
            f"({_KPOINTS_HINT})"
        )
    slab = li_slab((nx, ny), layers, "100", ctx.li_a_A, frozen_layers=0)
    slab = _tag(slab, ANODE_REGION)
    slab.info = {"surface": "100"}
    return _box(slab, [2], VACUUM_A)


def _li_surface(ctx):
    return _li_slab_frame(ctx, "li_surface", vary_layers=True), "slab", "bulk"


def _crystal(ctx, category):
    comp = _CRYSTAL[category]
    a = LATTICE_CONSTANT_A[comp]
    if comp == "LiF":
        unit = bulk("LiF", "rocksalt", a=a, cubic=True)
    else:
        unit = bulk("OLi2", "fluorite", a=a, cubic=True)
    fits = [
        (i, j, k)
        for i in range(1, 6)
        for j in range(i, 6)
        for k in range(j, 6)
        if len(unit) * i * j * k <= ctx.max_atoms
    ]
    cands = [r for r in fits if a * r[0] >= _MIN_BULK_EDGE_A]
    if not cands and ctx.kpoints:
        # A k-point labeller is converged in any cell: where no supercell
        # with 6.5 Å edges fits max_atoms, a smaller one (≥ 2 cells) will do.
        cands = [r for r in fits if np.prod(r) >= 2]
    if not cands:
        raise ValueError(
            f"category {category!r}: max_atoms = {ctx.max_atoms} is below the "
            f"{len(unit) * 8} atoms of the smallest {comp} supercell (2 × 2 × 2)"
        )
    reps = tuple(ctx.rng.permutation(cands[ctx.rng.integers(len(cands))]))
    atoms = unit.repeat(reps)
    atoms.set_initial_charges([FORMAL_CHARGES[s] for s in atoms.symbols])
    return _tag(atoms, SEI_REGION), "bulk", "bulk"


def _is_amorphous(sei: Atoms) -> bool:
    """Crystalline SEI has a few distinct cation–anion nearest distances
    (strain splits them); a glass has a continuum."""
    if "sei_phase" in sei.info:
        return sei.info["sei_phase"] == "amorphous"
    i, j, d = neighbor_list("ijd", sei, 3.0)
    q = sei.get_initial_charges()
    pair = (q[i] > 0) & (q[j] < 0)
    if not pair.any():
        return False
    nearest = np.full(len(sei), np.inf)
    np.minimum.at(nearest, i[pair], d[pair])
    nearest = nearest[np.isfinite(nearest)]
    # A (strained) crystal has a handful of distinct nearest distances.
    return len(np.unique(np.round(nearest / 0.02))) > 6


def _sei_component_mask(atoms: Atoms, comp: str) -> np.ndarray:
    """SEI atoms of ``comp``: its anions and the Li whose nearest anion is one."""
    anion = "F" if comp == "LiF" else "O"
    sei = np.flatnonzero(atoms.arrays[REGION] == SEI_REGION)
    sym = np.array(atoms.get_chemical_symbols())
    mask = np.zeros(len(atoms), dtype=bool)
    anions = sei[sym[sei] != "Li"]
    if len(anions) == 0:
        return mask
    for i in sei:
        if sym[i] != "Li":
            mask[i] = sym[i] == anion
            continue
        _, dist = find_mic(
            atoms.positions[anions] - atoms.positions[i], atoms.cell, True
        )
        mask[i] = sym[anions[np.argmin(dist)]] == anion
    return mask


def _amorphous(ctx, category):
    comp = _COMPONENT[category]
    sources = ctx.amorphous_sei(comp)
    if sources:
        k = sources[ctx.rng.integers(len(sources))]
        atoms = ctx.unwrapped[k].copy()
        mask = _sei_component_mask(atoms, comp)
        region = atoms.arrays[REGION].copy()
        region[~mask & (region == SEI_REGION)] = "sei_other"
        atoms.set_array(REGION, region)
        z = atoms.positions[mask, 2]
        frame = _lateral_window(
            atoms, ctx.rng, [SEI_REGION], (z.min() - 0.1, z.max() + 0.1), ctx.max_atoms
        )
        if frame is None:
            return None
        region = frame.arrays[REGION]
        frame.set_array(REGION, np.where(region == "sei_other", SEI_REGION, region))
        return frame, "slab", ctx.source(k)
    block = ctx.amorphous_block(comp)
    if len(block) <= ctx.max_atoms:
        return block.copy(), "bulk", "bulk"
    # Too large: a neutral cube cut from it, as a cluster in vacuum.
    side = np.diag(block.cell.array).min() * (ctx.max_atoms / len(block)) ** (1 / 3)
    atoms = _tag(block.copy(), SEI_REGION)
    atoms.positions[:, 2] -= atoms.positions[:, 2].min()
    lo = ctx.rng.random() * max(atoms.cell[2, 2] - side, 0.0)
    frame = _lateral_window(
        atoms, ctx.rng, [SEI_REGION], (lo, lo + side), ctx.max_atoms, side_A=side
    )
    if frame is None:
        return None
    return _box(frame, [0, 1], VACUUM_A), "cluster", "bulk"
