"""The reference preconditioner: the charge Hessian of a recent geometry.

Facts checked (float64):

- at its own geometry M is the Hessian on the constraint space, so the
  preconditioned CG converges in one iteration, cold or warm, with a total
  charge or molecule groups;
- along a path it gives the charges of the dense KKT solve to the tolerance,
  in fewer iterations than the long-range preconditioner built per geometry;
- it is kept while no atom has moved 0.5 Å from its geometry and rebuilt
  beyond that, or for other constraints;
- a solver that loads another's :attr:`ReferenceKeeper.positions` repeats that
  solver's next solve bit for bit (what a resumed MD run relies on);
- ``"auto"`` falls back to the long-range preconditioner where the reference
  one cannot be built (PME) or above its size limit;
- on a GPU (``-m cuda``) both preconditioners give the CPU's dense charges.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from constpot.qeq import ChargeSolver

from .test_solver import random_cell

TOL = 1e-10


def _slab(seed=21, n_atoms=40):
    atoms = random_cell(seed, n_atoms=n_atoms, slab=True)
    psi = np.where(np.arange(len(atoms)) < 6, -2.0, 0.0)
    return atoms, psi


def _moves(atoms, seed, n=4, step_A=0.04):
    rng = np.random.default_rng(seed)
    pos = atoms.positions.copy()
    for _ in range(n):
        pos = pos + rng.uniform(-step_A, step_A, pos.shape)
        yield pos.copy()


@pytest.mark.parametrize("groups", [None, "molecules"])
def test_converges_in_one_iteration_at_its_own_geometry(groups):
    atoms, psi = _slab()
    kwargs = {"potential": psi}
    if groups:
        labels = np.full(len(atoms), -1)
        labels[10:20], labels[20:26] = 0, 1
        atoms.set_initial_charges(np.where(labels == 0, 0.1, 0.0))
        kwargs.update(groups=labels)
    solver = ChargeSolver(slab=True, tol=TOL, preconditioner="reference")
    res = solver.solve(atoms, **kwargs)
    assert res.iterations == 1
    dense = ChargeSolver(slab=True, method="dense", tol=TOL).solve(atoms, **kwargs)
    np.testing.assert_allclose(res.charges, dense.charges, rtol=0, atol=1e-9)


def test_along_a_path_dense_charges_in_fewer_iterations():
    atoms, psi = _slab()
    kept = {
        kind: ChargeSolver(slab=True, tol=TOL, preconditioner=kind)
        for kind in ("reference", "longrange")
    }
    iterations = {kind: [] for kind in kept}
    guess = {kind: None for kind in kept}
    for pos in _moves(atoms, seed=1):
        atoms.positions = pos
        dense = ChargeSolver(slab=True, method="dense", tol=TOL).solve(
            atoms, potential=psi
        )
        for kind, solver in kept.items():
            res = solver.solve(atoms, potential=psi, guess=guess[kind])
            guess[kind] = res.charges
            iterations[kind].append(res.iterations)
            np.testing.assert_allclose(res.charges, dense.charges, rtol=0, atol=1e-8)
            np.testing.assert_allclose(res.forces, dense.forces, rtol=0, atol=1e-7)
    # Within the skin the Hessian of the first geometry is a far better M
    # than each geometry's long-range part (here 1, 5, 5, 5 against 16, 13,
    # 13, 13 at tol 1e-10, random 0.04 Å moves).
    assert iterations["reference"][0] == 1
    pairs = zip(iterations["reference"], iterations["longrange"], strict=True)
    for ref, longrange in pairs:
        assert ref <= longrange / 2


def test_kept_within_the_skin_and_rebuilt_beyond_it():
    atoms, psi = _slab()
    solver = ChargeSolver(slab=True, tol=TOL, preconditioner="reference")
    assert solver.reference.positions is None
    solver.solve(atoms, potential=psi)
    start = atoms.positions.copy()
    np.testing.assert_array_equal(solver.reference.positions, start)
    atoms.positions = start + 0.3  # a rigid shift: 0.52 Å, beyond 0.5 Å
    solver.solve(atoms, potential=psi)
    np.testing.assert_array_equal(solver.reference.positions, atoms.positions)
    moved = atoms.positions.copy()
    atoms.positions[4] += [0.0, 0.0, 0.45]  # within the skin: kept
    solver.solve(atoms, potential=psi)
    np.testing.assert_array_equal(solver.reference.positions, moved)
    # Other constraints (a held charge) rebuild it at the current geometry.
    fixed = np.zeros(len(atoms), bool)
    fixed[7] = True
    solver.solve(atoms, potential=psi, fixed=fixed)
    np.testing.assert_array_equal(solver.reference.positions, atoms.positions)


def test_loaded_reference_repeats_the_next_solve_bit_for_bit():
    atoms, psi = _slab()
    moves = list(_moves(atoms, seed=2, n=3))
    first = ChargeSolver(slab=True, tol=1e-6, preconditioner="reference")
    atoms.positions = moves[0]
    q = first.solve(atoms, potential=psi).charges
    atoms.positions = moves[1]
    q = first.solve(atoms, potential=psi, guess=q).charges
    stored = first.reference.positions
    atoms.positions = moves[2]
    a = first.solve(atoms, potential=psi, guess=q)
    second = ChargeSolver(slab=True, tol=1e-6, preconditioner="reference")
    second.reference.load(stored)
    np.testing.assert_array_equal(second.reference.positions, stored)
    b = second.solve(atoms, potential=psi, guess=q)
    assert a.iterations == b.iterations
    np.testing.assert_array_equal(a.charges, b.charges)
    np.testing.assert_array_equal(a.forces, b.forces)
    # Without it, the same charges to the tolerance only.
    c = ChargeSolver(slab=True, tol=1e-6, preconditioner="reference").solve(
        atoms, potential=psi, guess=q
    )
    np.testing.assert_allclose(c.charges, a.charges, rtol=0, atol=1e-5)


def test_auto_takes_long_range_above_the_size_limit(monkeypatch):
    from constpot.qeq import solver as solver_module

    atoms, psi = _slab()
    options = {"slab": True, "tol": TOL}
    auto = ChargeSolver(**options)
    auto.solve(atoms, potential=psi)
    assert auto.reference.positions is not None  # 40 atoms: the reference
    monkeypatch.setattr(solver_module, "_AUTO_REFERENCE_MAX_FREE", {"cpu": 39})
    big = ChargeSolver(**options)
    res = big.solve(atoms, potential=psi)
    assert big.reference.positions is None
    longrange = ChargeSolver(**options, preconditioner="longrange")
    np.testing.assert_array_equal(
        res.charges, longrange.solve(atoms, potential=psi).charges
    )


def test_auto_falls_back_to_long_range_with_pme():
    atoms, psi = _slab()
    auto = ChargeSolver(slab=True, tol=TOL, kspace="pme").solve(atoms, potential=psi)
    longrange = ChargeSolver(
        slab=True, tol=TOL, kspace="pme", preconditioner="longrange"
    ).solve(atoms, potential=psi)
    np.testing.assert_array_equal(auto.charges, longrange.charges)
    with pytest.raises(Exception, match="explicit Ewald"):
        ChargeSolver(slab=True, kspace="pme", preconditioner="reference").solve(
            atoms, potential=psi
        )


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kind", ["reference", "longrange"])
def test_cuda_path_matches_the_cpu(kind):
    """Along a path on the GPU, each preconditioner's charges are the CPU
    dense ones (1e-7 e); auto on CUDA takes the reference Hessian."""
    atoms, psi = _slab()
    gpu = ChargeSolver(slab=True, tol=TOL, device="cuda", preconditioner=kind)
    guess = None
    for pos in _moves(atoms, seed=5):
        atoms.positions = pos
        cpu = ChargeSolver(slab=True, method="dense").solve(atoms, potential=psi)
        res = gpu.solve(atoms, potential=psi, guess=guess)
        guess = res.charges
        np.testing.assert_allclose(res.charges, cpu.charges, rtol=0, atol=1e-7)
        np.testing.assert_allclose(res.forces, cpu.forces, rtol=0, atol=1e-6)
    auto = ChargeSolver(slab=True, tol=TOL, device="cuda")
    auto.solve(atoms, potential=psi)
    assert auto.reference.positions is not None
