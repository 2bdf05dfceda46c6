"""Charge solves advanced together, and CG checked every few iterations.

Facts checked (float64):

- a batch of solves (different cells, sizes, potentials, constraints,
  preconditioners, warm starts) gives each solve's charges, forces and
  iteration count bit for bit as solved alone;
- a failing solve of a batch (bad input, no convergence) fails alone: its
  slot holds the error, the others are solved;
- CG that reads its residual every k iterations stops at most k − 1
  iterations after the one that checks every iteration, with a residual no
  larger, and the dense solve's charges to the tolerance;
- a solve stepped on past exact convergence (rᵀz = 0) stays put instead of
  turning NaN;
- on a GPU (``-m cuda``), the batch matches the CPU's single solves.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from constpot.qeq import ChargeSolver, ConvergenceError, QEqSetupError
from constpot.qeq.batch import solve_batch
from constpot.qeq.cg import ProjectedCG, advance

from .test_solver import random_cell

TOL = 1e-9


def _jobs(device="cpu"):
    """Three different problems, each with its own solver."""
    jobs = []
    for k, (n, kind) in enumerate([(40, "auto"), (32, "longrange"), (48, "jacobi")]):
        atoms = random_cell(30 + k, n_atoms=n, slab=True)
        psi = np.where(np.arange(n) < 6, -1.5 * (k + 1), 0.0)
        solver = ChargeSolver(
            slab=True, tol=TOL, preconditioner=kind, device=device, max_iter=500
        )
        kwargs = {"atoms": atoms, "potential": psi}
        if k == 1:  # a warm start
            kwargs["guess"] = np.full(n, 0.01)
        if k == 2:  # a molecule group
            labels = np.full(n, -1)
            labels[10:16] = 0
            kwargs["groups"] = labels
        jobs.append((solver, kwargs))
    return jobs


def test_a_batch_gives_each_solve_its_single_result_bit_for_bit():
    single = [solver.solve(**kwargs) for solver, kwargs in _jobs()]
    batch = solve_batch(_jobs())
    assert len({len(r.charges) for r in batch}) == 3
    for one, together in zip(single, batch, strict=True):
        assert together.charges.tobytes() == one.charges.tobytes()
        assert together.forces.tobytes() == one.forces.tobytes()
        assert together.iterations == one.iterations
        assert together.residual <= TOL


def test_a_failing_solve_fails_alone():
    jobs = _jobs()
    bad_atoms = jobs[0][1]["atoms"].copy()
    bad_atoms.positions[1] = bad_atoms.positions[0]  # two atoms on one site
    jobs[0] = (jobs[0][0], {"atoms": bad_atoms})
    jobs[2] = (
        ChargeSolver(slab=True, tol=1e-12, max_iter=1, preconditioner="jacobi"),
        jobs[2][1],
    )
    out = solve_batch(jobs, errors="return")
    assert isinstance(out[0], QEqSetupError)
    assert isinstance(out[2], ConvergenceError) and out[2].iterations == 1
    alone = jobs[1][0].solve(**_jobs()[1][1])
    assert out[1].charges.tobytes() == alone.charges.tobytes()
    with pytest.raises(QEqSetupError):
        solve_batch(jobs)


@pytest.mark.parametrize("every", [2, 5])
def test_checking_every_k_iterations_stops_within_k(every):
    atoms = random_cell(41, n_atoms=60, slab=True)
    psi = np.where(np.arange(60) < 8, -2.0, 0.0)
    kw = dict(slab=True, tol=TOL, preconditioner="jacobi")
    each = ChargeSolver(**kw).solve(atoms, potential=psi)
    sparse = ChargeSolver(check_every=every, **kw).solve(atoms, potential=psi)
    dense = ChargeSolver(slab=True, method="dense", tol=TOL).solve(atoms, potential=psi)
    assert each.iterations <= sparse.iterations < each.iterations + every
    assert sparse.residual <= each.residual * 1.0001
    np.testing.assert_allclose(sparse.charges, dense.charges, rtol=0, atol=1e-8)


def test_stepping_past_exact_convergence_stays_finite():
    """A diagonal system with its exact (Jacobi) preconditioner: CG is exact
    after one iteration, with r = 0 and rᵀz = 0 exactly. Checked every 4
    iterations it steps three more times; it stays at the solution instead of
    dividing 0 by 0."""
    diag = torch.tensor([2.0, 4.0, 8.0], dtype=torch.float64)
    b = torch.tensor([1.0, -3.0, 2.0], dtype=torch.float64)

    class NoConstraints:
        def apply_t(self, y):
            return torch.zeros(3, dtype=torch.float64)

    class Jacobi:
        def project(self, r):
            return r / diag, r, r.new_zeros(0)

    x0 = torch.zeros(3, dtype=torch.float64)
    cg = ProjectedCG(
        lambda v: diag * v,
        b,
        NoConstraints(),
        Jacobi(),
        (x0, b.clone()),
        reference=1.0,
        tol=1e-12,
        max_iter=50,
    )
    advance(cg, check_every=4)
    x, _, iterations = cg.result()
    assert iterations == 4
    assert torch.equal(x, -b / diag)


@pytest.mark.cuda
def test_batch_on_the_gpu_matches_single_cpu_solves():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    single = [solver.solve(**kwargs) for solver, kwargs in _jobs()]
    batch = solve_batch(_jobs("cuda"))
    for one, together in zip(single, batch, strict=True):
        np.testing.assert_allclose(together.charges, one.charges, rtol=0, atol=1e-8)
