"""A small Li | ions | Li slab cell and a repulsive short-range calculator.

No trained model is needed: a smoothly cut Lennard-Jones pair potential stands
in for the short range (it keeps atoms apart), QEq provides the electrostatics.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from ase import Atoms
from ase.build import bcc100
from ase.calculators.lj import LennardJones

from constpot.keys import ANODE, COUNTER, ELECTRODE, FROZEN, MOL_ID, MOLECULE, REGION

LI_A = 3.51  # Å, bcc Li
N_LATERAL = 2  # 2 x 2 conventional (100) cells: 7.02 Å lateral
N_LAYERS = 4
GAP_A = 10.0  # between the inner electrode surfaces
VACUUM_A = 40.0  # along z, > 2x the slab thickness


#: The NVE test run on make_cell(): static electrodes at −1/+1 V, walls on
#: the four ions, 0.5 fs steps (add n_steps and the output cadence).
NVE_STATIC = dict(
    mode="constp",
    anode_potential_V=-1.0,
    counter_potential_V=1.0,
    ensemble="nve",
    timestep_fs=0.5,
    electrodes="static",
    walls="electrolyte",
    seed=3,
)


def make_cell() -> Atoms:
    """Two 4-layer bcc(100) Li slabs (16 atoms each) with Li⁺, F⁻, Li⁺, F⁻ between.

    Built like a constpot interface: normal z, anode in the lower half, outer
    layer of each slab frozen, per-atom region/molecule/mol_id/frozen/electrode
    arrays, walls 1 Å inside each electrode surface.
    """

    def slab():
        s = bcc100("Li", size=(N_LATERAL, N_LATERAL, N_LAYERS), a=LI_A, orthogonal=True)
        return s[np.argsort(s.positions[:, 2], kind="stable")]

    lower, upper = slab(), slab()
    top = lower.positions[:, 2].max()
    upper.positions[:, 2] += top + GAP_A
    side = lower.cell[0, 0]
    ions = Atoms(
        "LiFLiF",
        positions=[
            [0.25 * side, 0.25 * side, top + 3.0],
            [0.75 * side, 0.75 * side, top + 4.0],
            [0.75 * side, 0.25 * side, top + 6.5],
            [0.25 * side, 0.75 * side, top + 7.5],
        ],
    )
    atoms = lower + ions + upper
    n_el = len(lower)
    atoms.set_cell(
        [lower.cell[0], lower.cell[1], [0, 0, atoms.positions[:, 2].max() + VACUUM_A]]
    )
    atoms.positions[:, 2] += 0.5 * VACUUM_A
    atoms.pbc = True
    n = len(atoms)
    per_layer = len(lower) // N_LAYERS
    atoms.arrays[REGION] = np.array(
        ["anode"] * n_el + ["electrolyte"] * 4 + ["counter"] * n_el
    )
    atoms.arrays[MOLECULE] = np.array(
        ["-"] * n_el + ["Li", "F", "Li", "F"] + ["-"] * n_el
    )
    atoms.arrays[MOL_ID] = np.array([-1] * n_el + [0, 1, 2, 3] + [-1] * n_el)
    frozen = np.zeros(n, bool)
    frozen[:per_layer] = True
    frozen[-per_layer:] = True
    atoms.arrays[FROZEN] = frozen
    electrode = np.zeros(n, np.int64)
    electrode[:n_el] = ANODE
    electrode[-n_el:] = COUNTER
    atoms.arrays[ELECTRODE] = electrode
    atoms.set_initial_charges([0.0] * n_el + [1, -1, 1, -1] + [0.0] * n_el)
    atoms.info["wall_lower_A"] = atoms.positions[n_el - 1, 2] + 1.0
    atoms.info["wall_upper_A"] = atoms.positions[n_el + 4, 2] - 1.0
    atoms.info.pop("adsorbate_info", None)  # ase.build metadata, not extxyz-able
    atoms.info["system"] = "test"
    return atoms


class StatelessLennardJones(LennardJones):
    """ASE's Lennard-Jones with a neighbour list built afresh at every call.

    ASE keeps the list between calls and rebuilds it only when an atom moved
    more than its skin, so the order in which pair terms are summed depends on
    where the list was last built: a run resumed from a checkpoint would differ
    from a straight one in the last bit of the energy. The NequIP models build
    their list at every call; so does this stand-in (at 3x the cost: the tests
    that compare files byte for byte use it).
    """

    def calculate(self, *args, **kwargs):
        self.nl = None
        super().calculate(*args, **kwargs)


def short_range(sigma: float = 2.6, stateless: bool = False) -> LennardJones:
    """Repulsive-core pair potential (minimum near the bcc Li bond, 3.0 Å)."""
    cls = StatelessLennardJones if stateless else LennardJones
    return cls(sigma=sigma, epsilon=0.05, rc=7.0, smooth=True)


@pytest.fixture
def cell() -> Atoms:
    return make_cell()


@pytest.fixture
def hybrid():
    """Factory of HybridCalculators on the LJ stand-in (dense QEq: exact)."""
    from constpot.potential import HybridCalculator

    def make(method: str = "dense", **kwargs):
        return HybridCalculator(short_range(), method=method, slab=True, **kwargs)

    return make


#: A child's MD callback that waits at step 45 for the parent's signal (the
#: parent touches the ``go`` file after sending it; see signal_child).
STALL_AT_45 = """
def stall(md, step):
    if step == 45:  # wait here for the parent's signal
        open({marker!r}, "w").close()
        deadline = time.monotonic() + 120
        while not os.path.exists({go!r}) and time.monotonic() < deadline:
            time.sleep(0.01)
"""


def signal_child(code: str, marker, sig, go=None) -> int:
    """Run ``code`` in a child Python; once it has written ``marker``, send it
    ``sig`` (then touch ``go`` when given); returns its exit status."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert child.poll() is None, "the child ended before the signal"
            assert time.monotonic() < deadline, "the child did not reach the marker"
            time.sleep(0.05)
        child.send_signal(sig)
        if go is not None:
            go.touch()
        child.wait(60)
    finally:
        if child.poll() is None:
            child.kill()
    return child.returncode
