"""Contact frames: anode|SEI, SEI|electrolyte, Li|electrolyte and Li adatoms.

Windows cut across an interface's boundary between two regions
(:func:`_contact`), with the metal handled as the labeller needs
(:mod:`constpot.label.sampling`): the anode's whole lateral cell for a
Γ-only labeller, a periodic window of whole bcc cells (:func:`_metal_window`)
for one with a k-point rule. li_electrolyte_contact puts the lowest molecules
of a fresh packmol box on a fresh Li(100) slab; li_adatom puts one Li above a
Li slab or an SEI window.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from ...build.lithium import li_slab
from ...keys import (
    ANODE_REGION,
    ELECTROLYTE_REGION,
    FROZEN,
    MOL_ID,
    MOLECULE,
    REGION,
    SEI_REGION,
)
from .bulk import _KPOINTS_HINT, _anode_cells, _fresh_li_lateral, _li_slab_frame
from .geometry import VACUUM_A, _boundary, _box, _cut, _has, _lateral_window, _tag
from .liquid import _lowest_molecules

#: Topmost anode layers kept under the SEI in li_sei_contact frames.
CONTACT_LI_LAYERS = 3
#: Smallest height (Å) of a heavy atom (not H) of the liquid above the top Li
#: plane of a li_electrolyte_contact frame (the interfaces' electrode gap).
METAL_CONTACT_A = 2.0
#: Smallest height (Å) of an H atom above the top Li plane (li_electrolyte_contact).
METAL_CONTACT_H_A = 1.8
#: Upper bound (Å) of the random extra height of the liquid layer.
_CONTACT_EXTRA_A = 0.5
#: Thickness (Å) of the packmol box whose lowest molecules make the liquid of a
#: li_electrolyte_contact frame (≥ 2·tolerance + DMC's 6.2 Å).
_CONTACT_LIQUID_A = 11.0
#: Atoms of EC, the smallest solvent.
_SMALLEST_SOLVENT = 10
#: Fewest bcc cells along a side of a metal window (k-point labellers).
MIN_WINDOW_CELLS = 2


def _contact(ctx, category, lower, upper, below_A, above_A):
    cands = [k for k, a in enumerate(ctx.interfaces) if _has(a, lower, upper)]
    k = cands[ctx.rng.integers(len(cands))]
    atoms = ctx.unwrapped[k]
    zb = _boundary(atoms, lower, upper)
    below, above = ctx.rng.uniform(*below_A), ctx.rng.uniform(*above_A)
    metal = lower == ANODE_REGION
    if metal:
        # Exactly the CONTACT_LI_LAYERS topmost anode layers, (100) layers
        # half the in-plane period apart.
        top = atoms.positions[atoms.arrays[REGION] == ANODE_REGION, 2].max()
        period = _anode_cells(atoms)[1][0]
        below = zb - top + (CONTACT_LI_LAYERS - 0.5) * 0.5 * period
        if ctx.kpoints:
            frame = _metal_window(ctx, atoms, zb, below, above, lower, upper)
            if frame is None or not _has(frame, lower, upper):
                return None
            return frame, "slab", ctx.source(k)
    lengths = tuple(np.diag(atoms.cell.array)[:2])
    # Thin the z-window first (the lateral cell stays whole and periodic), then
    # cut laterally (never with metallic Li for a Γ-only labeller: its lateral
    # cell is fixed).
    for _ in range(8):
        z_range = (zb - below, zb + above)
        frame = _cut(atoms, np.zeros(2), lengths, z_range, [lower, upper])
        if frame is None or len(frame) <= ctx.max_atoms:
            break
        if not metal:
            below = max(2.0, 0.85 * below)
        above = max(3.0, 0.85 * above)
    else:
        if metal:
            return None
        frame = _lateral_window(atoms, ctx.rng, [lower, upper], z_range, ctx.max_atoms)
    if frame is None or not _has(frame, lower, upper):
        return None
    return frame, "slab", ctx.source(k)


def _metal_window(ctx, atoms, zb, below, above, metal, other) -> Atoms | None:
    """A lateral window of whole bcc(100) cells of the anode, periodic, from
    ``below`` under to ``above`` over the boundary height ``zb`` (Å; k-point
    labellers, :mod:`constpot.label.sampling`).

    The anode's in-plane period is its lateral cell over the nearest whole
    number of bcc cells. The window starts at the whole cell and, while the
    frame has more than ``max_atoms`` atoms, loses one cell along its longer
    side (down to :data:`MIN_WINDOW_CELLS`), then thins ``above`` (by 15 %,
    down to 3 Å). Its centre sits a quarter period off a random anode atom,
    so the new boundaries pass between atomic planes and every (100) layer of
    the metal keeps exactly ``mx · my`` atoms of a perfect crystal; units of
    ``other`` that come closer than :data:`~.geometry.CUT_PAD_A` to another
    unit across a new boundary are dropped (``_cut`` with ``periodic_cut``).
    """
    n_cells, period = _anode_cells(atoms)
    anode = np.flatnonzero(atoms.arrays[REGION] == metal)
    anchor = atoms.positions[anode[ctx.rng.integers(len(anode))], :2]
    center = anchor + 0.25 * period
    reps = n_cells.copy()
    for _ in range(64):
        frame = _cut(
            atoms,
            center,
            tuple(reps * period),
            (zb - below, zb + above),
            [metal, other],
            periodic_cut=True,
            fixed_regions=[metal],
        )
        if frame is None:
            return None
        if len(frame) <= ctx.max_atoms:
            return frame
        shrinkable = np.flatnonzero(reps > MIN_WINDOW_CELLS)
        if len(shrinkable):
            sides = reps[shrinkable] * period[shrinkable]
            longest = shrinkable[np.flatnonzero(sides >= sides.max() - 1e-9)]
            reps[longest[ctx.rng.integers(len(longest))]] -= 1
        elif above > 3.0:
            above = max(3.0, 0.85 * above)
        else:
            return None
    return None


def _li_sei_contact(ctx):
    return _contact(
        ctx, "li_sei_contact", ANODE_REGION, SEI_REGION, (3.0, 6.0), (4.0, 8.0)
    )


def _sei_electrolyte_contact(ctx):
    return _contact(
        ctx,
        "sei_electrolyte_contact",
        SEI_REGION,
        ELECTROLYTE_REGION,
        (3.0, 5.0),
        (4.0, 7.0),
    )


def _li_adatom(ctx):
    sei = [k for k, a in enumerate(ctx.interfaces) if _has(a, SEI_REGION)]
    on_sei = bool(sei) and ctx.rng.random() < 0.5
    if on_sei:
        k = sei[ctx.rng.integers(len(sei))]
        atoms = ctx.unwrapped[k]
        z = atoms.positions[atoms.arrays[REGION] == SEI_REGION, 2]
        z_range = (z.max() - ctx.rng.uniform(4.0, 7.0), z.max() + 0.1)
        frame = _lateral_window(
            atoms, ctx.rng, [SEI_REGION], z_range, ctx.max_atoms - 1
        )
        if frame is None:
            return None
        source, site = ctx.source(k), "sei"
    else:
        frame = _li_slab_frame(ctx, "li_adatom", spare=1)
        source, site = "bulk", "li_" + frame.info["surface"]
    lengths = np.diag(frame.cell.array)
    xy = ctx.rng.random(2) * lengths[:2]
    d = frame.positions[:, :2] - xy
    d -= lengths[:2] * np.round(d / lengths[:2])
    near = np.linalg.norm(d, axis=1) < 2.5
    top = frame.positions[near, 2].max() if near.any() else frame.positions[:, 2].max()
    height = ctx.rng.uniform(1.5, 2.5)
    ad = Atoms(
        "Li", positions=[[xy[0], xy[1], top + height]], cell=frame.cell, pbc=True
    )
    ad.set_initial_charges([0.0])
    ad.set_array(
        REGION, np.array([SEI_REGION if site == "sei" else ANODE_REGION]).astype(str)
    )
    ad.set_array(MOL_ID, np.array([-1]))
    ad.set_array(MOLECULE, np.array(["-"]).astype(str))
    ad.set_array(FROZEN, np.array([False]))
    frame.info = {}
    frame += ad
    frame = _box(frame, [2], VACUUM_A)
    frame.info.update({"adatom_site": site, "adatom_height_A": float(height)})
    return frame, "slab", source


def _li_electrolyte_contact(ctx):
    if ctx.kpoints:
        # A fresh lateral cell leaving at least half the frame to the liquid.
        budget_min = max(_SMALLEST_SOLVENT, ctx.max_atoms // 2)
        try:
            nx, ny = _fresh_li_lateral(
                ctx, "li_electrolyte_contact", CONTACT_LI_LAYERS, budget_min
            )
        except ValueError:
            nx, ny = _fresh_li_lateral(
                ctx, "li_electrolyte_contact", CONTACT_LI_LAYERS, _SMALLEST_SOLVENT
            )
    else:
        nx, ny = ctx.li_reps
    budget = ctx.max_atoms - nx * ny * CONTACT_LI_LAYERS
    if budget < _SMALLEST_SOLVENT:
        raise ValueError(
            f"category 'li_electrolyte_contact': max_atoms = {ctx.max_atoms} leaves "
            f"{budget} atoms above the {CONTACT_LI_LAYERS}-layer Li(100) slab on the "
            f"anode's {nx} × {ny} lateral cell; one EC needs {_SMALLEST_SOLVENT} "
            f"({_KPOINTS_HINT})"
        )
    cands = [k for k, a in enumerate(ctx.interfaces) if _has(a, ELECTROLYTE_REGION)]
    k = cands[ctx.rng.integers(len(cands))] if cands else None
    slab = li_slab((nx, ny), CONTACT_LI_LAYERS, "100", ctx.li_a_A, frozen_layers=0)
    slab = _tag(slab, ANODE_REGION)
    slab.info = {}
    for key in (REGION, MOLECULE):  # wide enough for the molecules' strings
        slab.arrays[key] = slab.arrays[key].astype("<U16")
    lx, ly = np.diag(slab.cell.array)[:2]
    box = ctx.fresh_electrolyte(k, (lx, ly, _CONTACT_LIQUID_A))
    layer = _lowest_molecules(box, budget)
    if layer is None:
        return None
    # Lower the layer until one atom sits at its smallest height above the
    # top Li plane (module docstring).
    heavy = np.array(layer.get_chemical_symbols()) != "H"
    height = np.where(heavy, METAL_CONTACT_A, METAL_CONTACT_H_A)
    height += ctx.rng.uniform(0.0, _CONTACT_EXTRA_A)
    top = slab.positions[:, 2].max()
    layer.positions[:, 2] += top + np.max(height - layer.positions[:, 2])
    layer.set_cell(slab.cell)
    frame = slab + layer
    frame = _box(frame, [2], VACUUM_A)
    return frame, "slab", "electrolyte_box" if k is None else ctx.source(k)
