"""Perturbations of sampled frames: Gaussian rattle, hot frames, strain.

Displacements of width ``rattle_A`` per Cartesian component (truncated at
3σ; atoms of molecules move :data:`MOLECULE_RATTLE_SCALE` times as far); a
hot frame uses ``hot_factor · rattle_A``; a frame of metallic Li only
(li_bulk, li_surface, Li-slab adatoms) uses ``metal_rattle_A`` instead, the
thermal amplitude of the metal (perturbation "thermal"); a random symmetric
strain ε with |ε_ij| ≤ ``strain`` maps cell and positions by (I + ε): all components for
bulk frames, the in-plane block for slabs, none for clusters.
"""

from __future__ import annotations

import numpy as np

from ...keys import MOL_ID

#: Displacements of atoms in molecules, relative to ``rattle_A`` (stiff bonds).
MOLECULE_RATTLE_SCALE = 0.2


def _perturb(
    atoms, kind, rng, rattle_A, strain, hot_fraction, hot_factor, metal_rattle_A=None
) -> None:
    hot = bool(rng.random() < hot_fraction)
    sigma = rattle_A * (hot_factor if hot else 1.0)
    label = "hot" if hot else "rattle"
    # Metallic Li moves by ~0.2 Å per component at 300 K, 4x the default rattle:
    # a model that never saw thermal amplitudes pushes a free surface outwards.
    metal = metal_rattle_A is not None and bool(np.all(atoms.numbers == 3))
    if metal:
        sigma, label = metal_rattle_A, "thermal"
    u = rng.uniform(-1.0, 1.0, size=6)
    # Truncated at 3σ; atoms of covalent molecules (mol_id >= 0) move less:
    # their bonds are stiff (C=O, C-H, P-F), and a hot metal-sized rattle would
    # squeeze C=O to < 0.9 Å and give unphysical 100+ eV/Å forces.
    noise = np.clip(rng.normal(size=(len(atoms), 3)), -3.0, 3.0)
    if MOL_ID in atoms.arrays:
        noise[atoms.arrays[MOL_ID] >= 0] *= MOLECULE_RATTLE_SCALE
    eps = strain * np.array(
        [[u[0], u[5], u[4]], [u[5], u[1], u[3]], [u[4], u[3], u[2]]]
    )
    if kind == "slab":
        eps[2, :] = 0.0
        eps[:, 2] = 0.0
    elif kind == "cluster":
        eps[:] = 0.0
    deform = np.eye(3) + eps
    atoms.set_cell(atoms.cell.array @ deform, scale_atoms=False)
    atoms.positions = atoms.positions @ deform + sigma * noise
    atoms.info["perturbation"] = label
    atoms.info["rattle_A"] = float(sigma)
    atoms.info["molecule_rattle_A"] = float(sigma * MOLECULE_RATTLE_SCALE)
    atoms.info["strain"] = np.array(
        [eps[0, 0], eps[1, 1], eps[2, 2], eps[1, 2], eps[0, 2], eps[0, 1]]
    )
