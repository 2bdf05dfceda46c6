"""Synthetic exploration runs with known model deviations (no model needed)."""

import json

import numpy as np
import pytest
from ase import Atoms

from constpot.keys import (
    FROZEN,
    MOL_ID,
    MOLECULE,
    REGION,
    STEP,
    SUMMARY_FILE,
    THERMO_FILE,
    TRAJ_FILE,
)
from constpot.md.output import (
    THERMO_COLUMNS,
    ThermoWriter,
    TrajectoryWriter,
    frame_atoms,
)

#: Formal charges of the toy interface: metal Li 0, Li⁺ +1, F⁻ −1, O²⁻ −2, a
#: neutral "solvent" pair; total +1 (an integer that is not zero).
TOY_SYMBOLS = ["Li", "Li", "Li", "F", "O", "Li", "Li", "C", "O", "Li"]
TOY_CHARGES = [0, 0, 1, -1, -2, 1, 1, 0, 0, 1]
TOY_MOL_ID = [-1, -1, -1, -1, -1, -1, -1, 1, 1, 0]
TOY_REGION = ["anode", "anode", "sei", "sei", "sei", "sei", "sei"] + ["electrolyte"] * 3


def toy_interface() -> Atoms:
    """10 atoms in a 10 Å box, with the builder's arrays and formal charges."""
    grid = np.array([[x, y, z] for z in (1, 4, 7) for y in (2, 7) for x in (2, 7)])
    atoms = Atoms(
        TOY_SYMBOLS,
        positions=grid[: len(TOY_SYMBOLS)] + 0.1 * np.arange(len(TOY_SYMBOLS))[:, None],
        cell=[10.0, 10.0, 12.0],
        pbc=True,
        charges=TOY_CHARGES,
    )
    atoms.positions[8] = atoms.positions[7] + [1.2, 0, 0]  # the "molecule"
    atoms.arrays[MOL_ID] = np.array(TOY_MOL_ID)
    atoms.arrays[REGION] = np.array(TOY_REGION)
    atoms.arrays[MOLECULE] = np.array(["-"] * 7 + ["CO", "CO", "Li"])
    atoms.arrays[FROZEN] = np.array([True] + [False] * 9)
    atoms.info["system"] = "toy"
    return atoms


def write_run(
    root,
    system: str,
    condition: str,
    deviations,
    *,
    every: int = 10,
    mode: str = "constq",
    anode_potential_V=None,
    temperature_K: float = 300.0,
    status: str = "completed",
    rattle_A: float = 0.05,
    positions=None,
    drop_rows=(),
    seed: int = 0,
):
    """One exploration run folder: frames at steps 0, every, 2 every, ...

    ``deviations`` are the thermo rows' force deviations (eV/Å), one per
    frame; ``positions(k, atoms)`` may set frame k's positions; thermo rows of
    the steps in ``drop_rows`` are left out.
    """
    path = root / system / condition
    path.mkdir(parents=True)
    base = toy_interface()
    rng = np.random.default_rng(seed)
    with (
        TrajectoryWriter(path / TRAJ_FILE) as traj,
        ThermoWriter(path / THERMO_FILE) as thermo,
    ):
        for k, sigma in enumerate(deviations):
            step = k * every
            atoms = base.copy()
            atoms.positions += rng.normal(scale=rattle_A, size=atoms.positions.shape)
            if positions is not None:
                positions(k, atoms)
            qeq = rng.normal(scale=0.3, size=len(atoms))  # not formal charges
            traj.write(
                frame_atoms(
                    atoms, qeq, np.zeros(len(atoms), int), {STEP: step, "time_fs": step}
                )
            )
            if step in drop_rows:
                continue
            row = dict.fromkeys(THERMO_COLUMNS, 0.0)
            row.update(step=step, cg_iterations=3, force_deviation_eV_A=float(sigma))
            thermo.write(row)
    summary = {
        "status": status,
        "steps": len(deviations) * every,
        "settings": {
            "mode": mode,
            "anode_potential_V": anode_potential_V,
            "temperature_K": temperature_K,
        },
    }
    (path / SUMMARY_FILE).write_text(json.dumps(summary))
    return path


@pytest.fixture
def toy():
    return toy_interface()
