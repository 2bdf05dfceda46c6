"""Synthetic MD trajectories with known answers for the analysis tests.

A small interface along z in a 10 × 10 × 60 Å cell (x, y periodic): a 3-layer
square-lattice Li anode (3 × 3 atoms per layer, electrode = 1), an SEI slab of
LiF and Li₂O-like ions, electrolyte Li⁺ and F⁻, and a 2-layer counter
electrode (electrode = 2). Frames carry every array and info key of the MD
trajectory contract; tests then move atoms or change charges and labels.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.io import write

from constpot import keys

CELL = np.diag([10.0, 10.0, 60.0])
SPACING = 10.0 / 3.0


def _layer(z: float, n: int = 3, offset: float = 0.0) -> np.ndarray:
    g = (np.arange(n) + 0.5) * (10.0 / n) + offset
    x, y = np.meshgrid(g, g, indexing="ij")
    return np.column_stack([x.ravel(), y.ravel(), np.full(x.size, z)])


def interface(
    anode_potential_V: float = -1.0,
    counter_potential_V: float = 1.0,
    mode: str = "constp",
) -> Atoms:
    """One frame of the synthetic interface with all contract arrays and info."""
    blocks = []  # (symbol, position, region, electrode, charge, mol_id, molecule)
    for z in (15.0, 17.0, 19.0):
        for p in _layer(z):
            blocks.append(("Li", p, "anode", keys.ANODE, 0.0, -1, "-"))
    # SEI: Li-F pairs and an O with two Li (charges about formal * 0.8)
    sei = [
        ("Li", (1.0, 1.0, 22.0), 0.8),
        ("F", (3.0, 1.0, 22.0), -0.8),
        ("Li", (6.0, 6.0, 22.5), 0.8),
        ("F", (8.0, 6.0, 22.5), -0.8),
        ("O", (5.0, 2.0, 23.5), -1.6),
        ("Li", (5.0, 4.0, 23.5), 0.8),
        ("Li", (5.0, 0.0, 23.5), 0.8),
    ]
    for sym, p, q in sei:
        blocks.append((sym, p, "sei", keys.NOT_ELECTRODE, q, -1, "-"))
    electrolyte = [
        ("Li", (2.0, 2.0, 30.0), 0.9),
        ("F", (7.0, 7.0, 31.0), -0.9),
        ("Li", (7.0, 2.0, 33.0), 0.9),
        ("F", (2.0, 7.0, 34.0), -0.9),
    ]
    for k, (sym, p, q) in enumerate(electrolyte):
        blocks.append((sym, p, "electrolyte", keys.NOT_ELECTRODE, q, k, sym))
    for z in (40.0, 42.0):
        for p in _layer(z):
            blocks.append(("Li", p, "counter", keys.COUNTER, 0.0, -1, "-"))
    atoms = Atoms(
        [b[0] for b in blocks],
        positions=[b[1] for b in blocks],
        cell=CELL,
        pbc=True,
    )
    atoms.arrays[keys.REGION] = np.array([b[2] for b in blocks])
    atoms.arrays[keys.ELECTRODE] = np.array([b[3] for b in blocks], dtype=int)
    atoms.arrays[keys.CHARGES] = np.array([b[4] for b in blocks], dtype=float)
    atoms.arrays[keys.MOL_ID] = np.array([b[5] for b in blocks], dtype=int)
    atoms.arrays[keys.MOLECULE] = np.array([b[6] for b in blocks])
    atoms.arrays[keys.FROZEN] = np.zeros(len(atoms), bool)
    atoms.arrays[keys.FROZEN][:9] = True
    region = atoms.arrays[keys.REGION]
    info = {
        "step": 0,
        "time_fs": 0.0,
        "temperature_K": 300.0,
        "mode": mode,
        "anode_potential_V": anode_potential_V if mode == "constp" else np.nan,
        "counter_potential_V": counter_potential_V if mode == "constp" else np.nan,
        "anode_charge_e": 0.0,
        "counter_charge_e": 0.0,
        "wall_lower_A": 26.0,
        "wall_upper_A": 37.0,
    }
    for r in ("anode", "sei", "electrolyte", "counter"):
        z = atoms.positions[region == r, 2]
        info[f"{r}_z_min_A"] = float(z.min())
        info[f"{r}_z_max_A"] = float(z.max())
    atoms.info.update(info)
    return atoms


def frames(n_frames: int, dt_fs: float = 100.0, **kwargs) -> list[Atoms]:
    """``n_frames`` copies of :func:`interface` with step and time set."""
    out = []
    for k in range(n_frames):
        atoms = interface(**kwargs)
        atoms.info["step"] = 10 * k
        atoms.info["time_fs"] = k * dt_fs
        out.append(atoms)
    return out


def index_of(atoms: Atoms, region: str, symbol: str, nth: int = 0) -> int:
    """Index of the nth atom of ``symbol`` in ``region``."""
    sel = np.flatnonzero(
        (atoms.arrays[keys.REGION] == region) & (atoms.symbols == symbol)
    )
    return int(sel[nth])


def deposition_run(n_frames: int = 6, **kwargs) -> list[Atoms]:
    """An electrolyte Li⁺ moves onto the anode surface, joins it at frame 2,
    leaves the anode at frame 4 and rejoins at frame 5; it is reduced
    (q = 0.05 e) from frame 2 on. Expected deposited: 0, 0, 1, 1, 1, 1."""
    traj = frames(n_frames, **kwargs)
    i = index_of(traj[0], "electrolyte", "Li")
    path = np.linspace(30.0, 21.0, 3)
    for k, atoms in enumerate(traj):
        atoms.positions[i, 2] = path[min(k, 2)]
        if k >= 2:
            atoms.arrays[keys.CHARGES][i] = 0.05
            atoms.arrays[keys.ELECTRODE][i] = keys.ANODE if k != 4 else 0
    return traj


def write_run(run_dir, traj) -> str:
    """Write ``traj`` as ``run_dir/traj.extxyz``; returns the path."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "traj.extxyz"
    write(path, traj, format="extxyz")
    return str(path)
