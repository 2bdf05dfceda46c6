"""Stack blocks along z into an electrode | SEI | electrolyte | electrode cell.

Every block is an :class:`ase.Atoms` built in the same lateral cell (the Li
slab's), with its atoms at ``0 <= z`` and per-atom ``initial_charges`` (formal
charges). The stacker places each block above the previous one, raising it
until no atom of the new block is closer than ``gap_A`` to any atom already
placed (periodic images in x and y included), tags every atom with its region,
and centres the electrolyte in a cell padded with vacuum along z (the anode is
the lower metal slab, the counter electrode the upper one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.constraints import FixAtoms
from vesin import NeighborList

from ..keys import ELECTROLYTE_REGION, FROZEN, MOL_ID, MOLECULE, REGION

__all__ = ["Block", "min_distance_between", "stack_blocks"]


@dataclass
class Block:
    """One slab of the interface.

    Attributes
    ----------
    atoms : ase.Atoms
        The block, lateral cell equal to the stack's, z from 0 up.
    region : str
        Region name written to the ``region`` array ("anode", "sei",
        "electrolyte", "counter").
    flip : bool
        Mirror the block in z before placing it (the counter electrode, so its
        frozen layers end up outermost).
    """

    atoms: Atoms
    region: str
    flip: bool = False


def min_distance_between(a: Atoms, b: Atoms, cell: np.ndarray) -> float:
    """Smallest distance between an atom of ``a`` and one of ``b``, Å.

    Periodic images in x and y are included (``cell`` rows a, b lateral; the
    third row is ignored and replaced by a long vector so z is not periodic).
    """
    if len(a) == 0 or len(b) == 0:
        return np.inf
    pos = np.concatenate([a.positions, b.positions])
    box = np.array(cell, dtype=float).copy()
    span = pos[:, 2].max() - pos[:, 2].min()
    box[2] = [0.0, 0.0, span + 100.0]
    pos = pos.copy()
    pos[:, 2] -= pos[:, 2].min() - 1.0
    cutoff = 6.0
    nl = NeighborList(cutoff=cutoff, full_list=False)
    i, j, d = nl.compute(points=pos, box=box, periodic=True, quantities="ijd")
    cross = (i < len(a)) != (j < len(a))
    return float(d[cross].min()) if np.any(cross) else np.inf


def stack_blocks(
    blocks: list[Block],
    gap_A: float = 2.0,
    vacuum_factor: float = 3.0,
    center_region: str = ELECTROLYTE_REGION,
) -> Atoms:
    """Stack ``blocks`` bottom to top and pad with vacuum.

    Parameters
    ----------
    blocks : list of Block
        Bottom first. All must share the lateral cell of the first.
    gap_A : float, Å
        Minimum distance between atoms of different blocks.
    vacuum_factor : float
        Cell length along z as a multiple of the stack's thickness (≥ 2; 3
        leaves vacuum of twice the thickness: the 2D-periodic limit of the
        slab Ewald, docs/design.md §3).
    center_region : str
        Region placed at the middle of the cell along z.

    Returns
    -------
    ase.Atoms
        With arrays ``region``, ``mol_id`` (−1 outside molecules, molecules
        renumbered to be unique), ``molecule`` (names, "-" outside molecules),
        ``frozen`` and ``initial_charges``; the frozen atoms also held by an
        :class:`ase.constraints.FixAtoms` constraint (extended XYZ writes it as
        ``move_mask`` and reads it back); info
        ``<region>_z_min_A`` and ``<region>_z_max_A`` for every region.

    Raises
    ------
    ValueError
        Mismatched lateral cells, a bad gap or vacuum factor, a missing centre
        region.
    """
    if not blocks:
        raise ValueError("stack_blocks: no blocks")
    if gap_A <= 0:
        raise ValueError(f"gap_A must be > 0 Å, got {gap_A}")
    if vacuum_factor < 2.0:
        raise ValueError(f"vacuum_factor must be >= 2, got {vacuum_factor}")
    cell = blocks[0].atoms.cell.array.copy()
    placed = Atoms(cell=cell, pbc=True)
    regions: list[str] = []
    mol_ids: list[np.ndarray] = []
    frozen: list[np.ndarray] = []
    names: list[np.ndarray] = []
    next_mol = 0
    for block in blocks:
        atoms = block.atoms.copy()
        lateral = atoms.cell.array[:2, :2]
        if not np.allclose(lateral, cell[:2, :2], atol=1e-6):
            raise ValueError(
                f"block {block.region!r}: lateral cell {lateral.tolist()} differs "
                f"from the stack's {cell[:2, :2].tolist()}"
            )
        if block.flip:
            atoms.positions[:, 2] = -atoms.positions[:, 2]
        atoms.positions[:, 2] -= atoms.positions[:, 2].min()
        top = placed.positions[:, 2].max() if len(placed) else -gap_A
        shift = top + gap_A
        atoms.positions[:, 2] += shift
        # Raise until the closest cross-block contact reaches the gap.
        while len(placed) and min_distance_between(placed, atoms, cell) < gap_A:
            atoms.positions[:, 2] += 0.1
        n = len(atoms)
        regions.extend([block.region] * n)
        ids = atoms.arrays.get(MOL_ID, np.full(n, -1)).astype(int)
        if np.any(ids >= 0):
            uniq, inverse = np.unique(ids[ids >= 0], return_inverse=True)
            ids = ids.copy()
            ids[ids >= 0] = inverse + next_mol
            next_mol += len(uniq)
        mol_ids.append(ids)
        frozen.append(atoms.arrays.get(FROZEN, np.zeros(n, bool)).astype(bool))
        names.append(atoms.arrays.get(MOLECULE, np.full(n, "-")).astype(str))
        charges = atoms.get_initial_charges()
        extra = Atoms(
            atoms.get_chemical_symbols(),
            positions=atoms.positions,
            cell=cell,
            pbc=True,
            charges=charges,
        )
        placed += extra

    region_arr = np.array(regions)
    if center_region not in region_arr:
        raise ValueError(f"center_region {center_region!r} is not among the blocks")
    z = placed.positions[:, 2]
    zc = 0.5 * (
        z[region_arr == center_region].min() + z[region_arr == center_region].max()
    )
    half = max(zc - z.min(), z.max() - zc)
    thickness = 2.0 * half
    length = vacuum_factor * thickness
    new_cell = cell.copy()
    new_cell[2] = [0.0, 0.0, length]
    placed.set_cell(new_cell, scale_atoms=False)
    placed.positions[:, 2] += 0.5 * length - zc
    placed.arrays[REGION] = region_arr
    placed.arrays[MOL_ID] = np.concatenate(mol_ids)
    placed.arrays[FROZEN] = np.concatenate(frozen)
    if placed.arrays[FROZEN].any():
        placed.set_constraint(FixAtoms(mask=placed.arrays[FROZEN]))
    placed.arrays[MOLECULE] = np.concatenate(names).astype("U8")
    z = placed.positions[:, 2]
    for r in dict.fromkeys(regions):
        placed.info[f"{r}_z_min_A"] = float(z[region_arr == r].min())
        placed.info[f"{r}_z_max_A"] = float(z[region_arr == r].max())
    return placed
