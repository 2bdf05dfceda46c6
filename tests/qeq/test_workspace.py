"""What is kept between charge solves changes no number.

:class:`constpot.qeq.ewald.EwaldWorkspace` keeps the k-space tables of a cell
and a skin neighbour list from one geometry to the next (MD steps). Checked
against operators and solvers built from scratch at every geometry, along a
path that moves atoms within the skin, beyond it, and changes the cell:

- potentials, energies and forces of :class:`GaussianEwald` are equal bit for
  bit (a resumed MD run must repeat the uninterrupted one exactly), in 3D and
  slab cells, with the dense and the scattered real-space sums;
- the two real-space sums agree to rounding;
- charges, energies, forces of :class:`ChargeSolver` and of a
  :class:`HybridCalculator` along the path equal those of fresh ones (with a
  preconditioner built per geometry; the reference preconditioner, kept on
  purpose, is tested in test_reference_preconditioner.py), and a solver kept
  across two different systems gives each one's fresh numbers;
- the forces are the same bits whether or not the potential at the same
  charges (whose structure factors they reuse) was evaluated first.

float64 throughout.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from constpot.potential import HybridCalculator
from constpot.qeq import ChargeSolver, GaussianEwald
from constpot.qeq import ewald as ewald_module
from constpot.qeq.ewald import EwaldWorkspace

from .test_solver import random_cell

F64 = torch.float64


def _path(atoms, seed: int):
    """Geometries (positions, cell) along a path that uses the cache and
    invalidates it: moves within the skin, one beyond it, a strained cell."""
    rng = np.random.default_rng(seed)
    pos, cell = atoms.positions.copy(), atoms.cell.array.copy()
    out = [(pos.copy(), cell.copy())]
    for _ in range(2):  # within the skin (0.5 Å)
        pos = pos + rng.uniform(-0.05, 0.05, pos.shape)
        out.append((pos.copy(), cell.copy()))
    pos[3] += np.array([0.0, 0.6, 0.0])  # beyond it: a rebuild
    out.append((pos.copy(), cell.copy()))
    pos = pos + rng.uniform(-0.05, 0.05, pos.shape)
    out.append((pos.copy(), cell.copy()))
    strain = np.diag([1.01, 0.99, 1.0])  # a new cell (x, y only: still a slab)
    out.append((pos @ strain, cell @ strain))
    return out


@pytest.fixture(params=["dense", "scatter"])
def real_space(request, monkeypatch):
    if request.param == "scatter":
        monkeypatch.setattr(ewald_module, "_DENSE_PAIR_RATIO", 0.0)
    return request.param


@pytest.mark.parametrize("slab", [False, True])
def test_operator_with_workspace_equals_a_fresh_one(slab, real_space):
    atoms = random_cell(11, n_atoms=40, slab=slab)
    rng = np.random.default_rng(0)
    sigma = rng.uniform(0.5, 1.2, len(atoms))
    q = torch.as_tensor(rng.normal(size=len(atoms)), dtype=F64)
    q -= q.mean()
    ws = EwaldWorkspace()
    searches = []
    for pos, cell in _path(atoms, seed=1):
        kept = GaussianEwald(pos, cell, sigma, slab=slab, workspace=ws)
        fresh = GaussianEwald(pos, cell, sigma, slab=slab)
        searches.append((ws.neighbors, ws.neighbors.builds))
        assert (kept._real_dense is not None) == (real_space == "dense")
        assert torch.equal(kept.potential(q), fresh.potential(q))
        assert torch.equal(kept.forces(q), fresh.forces(q))
        assert kept.energy(q) == fresh.energy(q)
    # One search, kept within the skin, redone beyond it; a new list (and
    # new k-space tables) for the new cell.
    first, last = searches[0][0], searches[-1][0]
    assert all(nl is first for nl, _ in searches[:-1]) and last is not first
    assert [builds for _, builds in searches] == [1, 1, 1, 2, 2, 1]


@pytest.mark.parametrize("slab", [False, True])
def test_dense_and_scattered_real_space_sums_agree(slab, monkeypatch):
    atoms = random_cell(12, n_atoms=40, slab=slab)
    rng = np.random.default_rng(2)
    sigma = rng.uniform(0.5, 1.2, len(atoms))
    q = torch.as_tensor(rng.normal(size=len(atoms)), dtype=F64)
    args = (atoms.positions, atoms.cell.array, sigma)
    dense = GaussianEwald(*args, slab=slab)
    monkeypatch.setattr(ewald_module, "_DENSE_PAIR_RATIO", 0.0)
    scatter = GaussianEwald(*args, slab=slab)
    assert dense._real_dense is not None and scatter._real_dense is None
    # Same terms summed in another order: rounding, ~1e-15 of the largest.
    phi = dense.potential(q)
    torch.testing.assert_close(
        scatter.potential(q), phi, rtol=0, atol=1e-12 * float(phi.abs().max())
    )
    force = dense.forces(q)
    torch.testing.assert_close(
        scatter.forces(q), force, rtol=0, atol=1e-12 * float(force.abs().max())
    )


@pytest.mark.parametrize("slab", [False, True])
def test_forces_do_not_depend_on_a_previous_potential(slab, real_space):
    atoms = random_cell(15, n_atoms=40, slab=slab)
    rng = np.random.default_rng(5)
    sigma = rng.uniform(0.5, 1.2, len(atoms))
    q = torch.as_tensor(rng.normal(size=len(atoms)), dtype=F64)
    args = (atoms.positions, atoms.cell.array, sigma)
    alone = GaussianEwald(*args, slab=slab).forces(q)
    op = GaussianEwald(*args, slab=slab)
    op.potential(q)
    assert torch.equal(op.forces(q), alone)
    op.potential(2.0 * q)  # other charges: not reused
    assert torch.equal(op.forces(q), alone)


def test_solver_kept_across_systems_equals_fresh_solvers():
    """Per-atom parameters and workspace follow the system solved."""
    kept = ChargeSolver(slab=True, tol=1e-10)
    for system in ("a", "a with Li", "b", "a"):
        atoms = random_cell(17 if system == "b" else 16, n_atoms=40, slab=True)
        if system == "a with Li":  # same positions, other elements
            atoms.symbols[:6] = "Li"
        a = kept.solve(atoms)
        b = ChargeSolver(slab=True, tol=1e-10).solve(atoms)
        np.testing.assert_array_equal(a.charges, b.charges)
        np.testing.assert_array_equal(a.forces, b.forces)
        assert a.grand_energy == b.grand_energy


def test_solver_along_a_path_equals_fresh_solvers():
    """The workspace changes no bit (a preconditioner built per geometry)."""
    atoms = random_cell(13, n_atoms=40, slab=True)
    psi = np.where(np.arange(len(atoms)) < 5, -1.0, 0.0)
    options = {"slab": True, "tol": 1e-10, "preconditioner": "longrange"}
    kept = ChargeSolver(**options)
    for pos, cell in _path(atoms, seed=3):
        atoms.positions, atoms.cell = pos, cell
        a = kept.solve(atoms, potential=psi)
        b = ChargeSolver(**options).solve(atoms, potential=psi)
        assert a.iterations == b.iterations
        np.testing.assert_array_equal(a.charges, b.charges)
        np.testing.assert_array_equal(a.forces, b.forces)
        assert a.grand_energy == b.grand_energy


def test_calculator_along_a_path_equals_a_fresh_calculator():
    """The MD's evaluation (ASPC warm starts) against from-scratch ones at
    the same starts: a solve's numbers do not depend on the cache (a
    preconditioner built per geometry; the reference one is kept on purpose,
    tests/qeq/test_reference_preconditioner.py)."""
    atoms = random_cell(14, n_atoms=40, slab=True)
    labels = np.where(np.arange(len(atoms)) < 5, 1, 0)
    options = dict(
        slab=True,
        tol=1e-10,
        solver_options={"preconditioner": "longrange"},
        anode_potential_V=-1.0,
        electrode_labels=labels,
        charge_predictor="aspc",
    )
    kept = HybridCalculator(**options)
    for pos, cell in _path(atoms, seed=4):
        atoms.positions, atoms.cell = pos, cell
        guess = kept.predictor.predict(len(atoms))
        atoms.calc = kept
        forces, energy = atoms.get_forces(), atoms.get_potential_energy()
        charges = atoms.get_charges()
        fresh = HybridCalculator(**options)
        fresh.predictor.restart(guess)  # the same start
        fresh_atoms = atoms.copy()
        fresh_atoms.calc = fresh
        np.testing.assert_array_equal(fresh_atoms.get_charges(), charges)
        np.testing.assert_array_equal(fresh_atoms.get_forces(), forces)
        assert fresh_atoms.get_potential_energy() == energy
