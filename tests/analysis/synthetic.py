"""Synthetic MD trajectories with known answers for the analysis tests.

A small interface along z in a 10 × 10 × 60 Å cell (x, y periodic):

- anode: 3 layers (z = 15, 17, 19 Å) of a 3 × 3 square lattice (spacing
  10/3 Å), the middle one shifted by half a cell diagonal as in bcc(100):
  every atom has its 4 nearest neighbours in the next layers at 3.09 Å (the
  in-plane 3.33 Å is above the 3.3 Å contact, as bcc's second shell is).
  Region "anode", electrode = 1, the lowest layer frozen;
- SEI: two rock-salt-like layers (z = 24.0 and 26.5 Å) of a 4 × 4
  checkerboard (spacing 2.5 Å): every Li has 4 anions in its layer at 2.5 Å
  (below the 2.6 Å anion cutoff), so it is ionic. The anions are F for
  x < 5 Å and O for x > 5 Å: a LiF | Li₂O mosaic of two patches;
- electrolyte: Li⁺ at (2, 2, 30) and (7, 2, 33), F⁻ at (7, 7, 31) and
  (2, 7, 34);
- counter electrode: 2 layers (z = 40, 42 Å) like the anode (the upper one
  shifted), electrode = 2, the upper layer frozen.

Frames carry every array and info key of the MD trajectory contract; tests
then move atoms or change charges and labels. :data:`HOLLOWS` are the
fourfold sites 1.8 Å above the anode's top layer, 2.97 Å from four surface
atoms: a Li there is part of the anode network.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.io import write

from constpot import keys

CELL = np.diag([10.0, 10.0, 60.0])
SPACING = 10.0 / 3.0
TOP_Z = 19.0
#: Fourfold hollow sites above the anode's top layer (x, y, z), Å: above the
#: atoms of the shifted middle layer.
HOLLOWS = [
    (SPACING * (i + 1), SPACING * (j + 1), TOP_Z + 1.8)
    for i in range(3)
    for j in range(3)
]


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
    half = 0.5 * SPACING
    for z, shift in ((15.0, 0.0), (17.0, half), (TOP_Z, 0.0)):
        for p in _layer(z, offset=shift):
            blocks.append(("Li", p, "anode", keys.ANODE, 0.0, -1, "-"))
    for layer, z in enumerate((24.0, 26.5)):
        for i in range(4):
            for j in range(4):
                x, y = 1.25 + 2.5 * i, 1.25 + 2.5 * j
                if (i + j + layer) % 2 == 0:
                    blocks.append(("Li", (x, y, z), "sei", 0, 0.8, -1, "-"))
                else:
                    sym = "F" if x < 5.0 else "O"
                    blocks.append((sym, (x, y, z), "sei", 0, -0.8, -1, "-"))
    electrolyte = [
        ("Li", (2.0, 2.0, 30.0), 0.9),
        ("F", (7.0, 7.0, 31.0), -0.9),
        ("Li", (7.0, 2.0, 33.0), 0.9),
        ("F", (2.0, 7.0, 34.0), -0.9),
    ]
    for k, (sym, p, q) in enumerate(electrolyte):
        blocks.append((sym, p, "electrolyte", keys.NOT_ELECTRODE, q, k, sym))
    for z, shift in ((40.0, 0.0), (42.0, half)):
        for p in _layer(z, offset=shift):
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
    frozen = np.zeros(len(atoms), bool)
    frozen[:9] = True  # the anode's lowest layer
    frozen[-9:] = True  # the counter electrode's outer layer
    atoms.arrays[keys.FROZEN] = frozen
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
        "wall_lower_A": 28.0,
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


def deposition_run(n_frames: int = 6, arrive: int = 2, **kwargs) -> list[Atoms]:
    """The first electrolyte Li⁺ moves from z = 30 Å into the hollow
    ``HOLLOWS[0]`` by frame ``arrive`` and stays; its charge drops from +0.9
    to +0.05 e there. Deposited (arrived) from frame ``arrive`` on."""
    traj = frames(n_frames, **kwargs)
    i = index_of(traj[0], "electrolyte", "Li")
    start = np.array([2.0, 2.0, 30.0])
    end = np.array(HOLLOWS[0])
    for k, atoms in enumerate(traj):
        f = min(k / arrive, 1.0) if arrive else 1.0
        atoms.positions[i] = start + f * (end - start)
        if k >= arrive:
            atoms.arrays[keys.CHARGES][i] = 0.05
    return traj


def write_run(run_dir, traj, md_status: dict | None = None) -> str:
    """Write ``traj`` as ``run_dir/traj.extxyz`` (and an MD ``summary.json``
    with ``md_status`` when given); returns the trajectory path."""
    import json

    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "traj.extxyz"
    write(path, traj, format="extxyz")
    if md_status is not None:
        (run_dir / "summary.json").write_text(json.dumps(md_status))
    return str(path)
