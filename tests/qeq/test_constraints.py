"""Charge constraints and the bordered (KKT) solve (constpot.qeq.constraints).

What is checked, and against what:

- the label form of C agrees with its dense matrix (Cv, Cᵀy, ⟨Cv, y⟩ =
  ⟨v, Cᵀy⟩), fixed charges fold into d, and the total row is dropped when the
  groups cover every free atom;
- gradients of a charge loss through :func:`kkt_solve` with respect to the
  per-element χ and J (the χ/J fit's use) equal central finite differences;
- the solver's dense and CG paths equal a direct :func:`kkt_solve` of the same
  system (total charge, groups, electrode potentials, a fixed atom);
- the two CG preconditioners give the same charges on a periodic slab with
  electrodes at fixed potential, the long-range one in fewer iterations.

All numerics are float64.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from ase import Atoms

from constpot.qeq import (
    ChargeConstraints,
    ChargeSolver,
    GaussianEwald,
    QEqParameters,
    QEqSetupError,
    kkt_solve,
)

from .test_solver import capacitor, random_cell, random_potential


def _constraints_case(n: int = 24):
    """Atoms with a fixed atom inside a group, a second group, a total of −0.5 e."""
    atoms = random_cell(7, n_atoms=n, slab=True)
    fixed = np.zeros(n, bool)
    fixed[[3, 15]] = True
    formal = np.zeros(n)
    formal[[3, 15]] = [0.4, -0.3]
    atoms.set_initial_charges(formal)
    idx = np.arange(n)
    groups = [(idx[2:8], 1.0), (idx[10:13], -1.0)]
    return atoms, fixed, groups


# ---------------------------------------------------------------- the rows
def test_rows_labels_and_dense_matrix_agree():
    """C from labels equals the dense C; d folds in the fixed charges (exact:
    sums of a few decimals, 1e-15 e)."""
    atoms, fixed, groups = _constraints_case()
    cons = ChargeConstraints.from_atoms(atoms, fixed, -0.5, groups)
    assert cons.has_total and cons.m == 3 and cons.n_free == len(atoms) - 2
    np.testing.assert_array_equal(cons.fixed, fixed)
    # total less both fixed atoms; group 0 less the fixed atom 3; group 1 free
    np.testing.assert_allclose(cons.rhs, [-0.5 - 0.1, 1.0 - 0.4, -1.0], atol=1e-15)
    c = cons.matrix()
    free = list(cons.free)
    expected = np.zeros((3, cons.n_free))
    expected[0] = 1.0
    for row, (idx, _) in enumerate(groups, start=1):
        for i in idx:
            if i in free:
                expected[row, free.index(i)] = 1.0
    np.testing.assert_array_equal(c.numpy(), expected)
    rng = np.random.default_rng(0)
    v = torch.as_tensor(rng.normal(size=cons.n_free))
    y = torch.as_tensor(rng.normal(size=cons.m))
    torch.testing.assert_close(cons.apply(v), c @ v, rtol=0, atol=1e-13)
    torch.testing.assert_close(cons.apply_t(y), c.T @ y, rtol=0, atol=1e-13)
    assert float(cons.apply(v) @ y) == pytest.approx(float(v @ cons.apply_t(y)))


def test_covering_groups_drop_the_total_row_and_check_it():
    atoms = random_cell(8, n_atoms=12)
    idx = np.arange(12)
    groups = [(idx[:5], 1.0), (idx[5:], -1.0)]
    cons = ChargeConstraints.from_atoms(atoms, total_charge=0.0, groups=groups)
    assert not cons.has_total and cons.m == 2
    np.testing.assert_array_equal(cons.rhs, [1.0, -1.0])
    with pytest.raises(QEqSetupError, match=r"groups cover every free atom.*0\.5"):
        ChargeConstraints.from_atoms(atoms, total_charge=0.5, groups=groups)
    with pytest.raises(QEqSetupError, match=r"fixed must have shape \(12,\)"):
        ChargeConstraints.from_atoms(atoms, fixed=np.zeros(11, bool))


def test_kkt_solve_names_a_wrong_shape():
    atoms, fixed, groups = _constraints_case()
    cons = ChargeConstraints.from_atoms(atoms, fixed, -0.5, groups)
    n = cons.n_free
    with pytest.raises(ValueError, match=rf"a must have shape \({n}, {n}\)"):
        kkt_solve(torch.eye(n + 2), torch.zeros(n), cons)
    with pytest.raises(ValueError, match=rf"b must have shape \({n},\)"):
        kkt_solve(torch.eye(n, dtype=torch.float64), torch.zeros(n + 1), cons)


# -------------------------------------------------------- gradients (the fit)
def test_kkt_gradients_match_central_differences():
    """d(loss)/dχ_e and d(loss)/dJ_e through kkt_solve equal central finite
    differences (h = 1e-5 eV) to a relative 1e-6.

    loss = Σ (q − q_ref)² + Σ w q³, a nonlinear function of the charges, on
    a 14-atom slab with electrode potentials, a group and a net total. The
    truncation error of the central difference is O(h²) ≈ 1e-10 relative and
    rounding ≈ 1e-16 / h ≈ 1e-11, so 1e-6 is a real check of the adjoint.
    """
    atoms = random_cell(21, n_atoms=14, slab=True)
    n = len(atoms)
    elements = sorted(set(atoms.get_chemical_symbols()))
    types = torch.as_tensor([elements.index(s) for s in atoms.get_chemical_symbols()])
    params = QEqParameters.paper()
    chi0 = torch.tensor([params[e][0] for e in elements], dtype=torch.float64)
    j0 = torch.tensor([params[e][1] for e in elements], dtype=torch.float64)
    _, _, sigma = params.per_atom(atoms.get_chemical_symbols())
    kg = GaussianEwald(
        atoms.positions, atoms.cell.array, sigma, slab=True, kspace="ewald"
    ).matrix()
    psi = torch.as_tensor(random_potential(21, n, n_electrode=4))
    cons = ChargeConstraints.from_atoms(
        atoms, total_charge=0.5, groups=[(np.arange(5, 9), -1.0)]
    )
    rng = np.random.default_rng(21)
    q_ref = torch.as_tensor(rng.normal(0.0, 0.3, n))
    w = torch.as_tensor(rng.normal(0.0, 1.0, n))

    def loss(chi, j):
        q, _ = kkt_solve(kg + torch.diag(j[types]), chi[types] - psi, cons)
        return ((q - q_ref) ** 2).sum() + (w * q**3).sum()

    chi = chi0.clone().requires_grad_(True)
    j = j0.clone().requires_grad_(True)
    grad_chi, grad_j = torch.autograd.grad(loss(chi, j), (chi, j))
    h = 1e-5
    eye = torch.eye(len(elements), dtype=torch.float64)
    with torch.no_grad():
        fd_chi = torch.stack(
            [(loss(chi0 + h * e, j0) - loss(chi0 - h * e, j0)) / (2 * h) for e in eye]
        )
        fd_j = torch.stack(
            [(loss(chi0, j0 + h * e) - loss(chi0, j0 - h * e)) / (2 * h) for e in eye]
        )
    assert float(fd_j.abs().max()) > 1e-3  # not a flat loss
    for got, fd in ((grad_chi, fd_chi), (grad_j, fd_j)):
        rel = float(torch.linalg.norm(got - fd) / torch.linalg.norm(fd))
        assert rel < 1e-6, rel
    # the χ gauge: a uniform shift is absorbed by the total-charge multiplier
    assert float(grad_chi.sum()) == pytest.approx(0.0, abs=1e-9)


# ------------------------------------------------- solver paths vs kkt_solve
@pytest.mark.parametrize("method", ["dense", "cg"])
def test_solver_paths_equal_a_direct_kkt_solve(method):
    """ChargeSolver (dense and CG) = kkt_solve on A = diag(J) + kG over the free
    atoms and b = χ − ψ + kG q_fixed: total charge, two groups (one holding a
    fixed atom), electrode potentials. Same Ewald matrix, so dense agrees to
    rounding; CG at tol 1e-12 on a Hessian of condition ~10: 1e-8 e."""
    atoms, fixed, groups = _constraints_case()
    n = len(atoms)
    psi = random_potential(7, n, n_electrode=6)
    params = QEqParameters.paper()
    chi, hardness, sigma = params.per_atom(atoms.get_chemical_symbols())
    cons = ChargeConstraints.from_atoms(atoms, fixed, -0.5, groups)
    kg = GaussianEwald(
        atoms.positions, atoms.cell.array, sigma, slab=True, kspace="ewald"
    ).matrix()
    free = torch.as_tensor(cons.free)
    a = kg[free][:, free] + torch.diag(torch.as_tensor(hardness)[free])
    b = torch.as_tensor(chi - psi) + kg @ torch.as_tensor(cons.fixed_charges)
    q_free, lam = kkt_solve(a, b[free], cons)
    q_direct = cons.fixed_charges.copy()
    q_direct[cons.free] = q_free.numpy()

    solver = ChargeSolver(params, slab=True, method=method, tol=1e-12, kspace="ewald")
    res = solver.solve(
        atoms, potential=psi, fixed=fixed, total_charge=-0.5, groups=groups
    )
    np.testing.assert_allclose(res.charges, q_direct, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.multipliers, lam.numpy(), rtol=0, atol=1e-7)
    assert res.charges.sum() == pytest.approx(-0.5, abs=1e-10)
    for idx, total in groups:
        assert res.charges[idx].sum() == pytest.approx(total, abs=1e-10)
    assert np.max(np.abs(q_direct)) > 0.05  # not a trivial solution


# -------------------------------------------------------- preconditioners
def _electrode_slab(seed: int = 0, gap_A: float = 12.0, n_ions: int = 16):
    """Two Li(100) electrodes (4 layers, 3 × 3) with ``n_ions`` random Li, F, O,
    H between them (no two atoms closer than 1.8 Å), padded with vacuum.

    Returns the atoms (lower electrode first, then upper, then ions) and the
    number of atoms of one electrode.
    """
    atoms, n_lower = capacitor(gap=gap_A, n_layers=4, n_lateral=3, factor=3.0)
    rng = np.random.default_rng(seed)
    z = atoms.positions[:, 2]
    z_lo, z_hi = z[:n_lower].max() + 2.0, z[n_lower:].min() - 2.0
    lengths = atoms.cell.lengths()
    placed = list(atoms.positions)
    while len(placed) < len(atoms) + n_ions:
        trial = np.array(
            [
                rng.random() * lengths[0],
                rng.random() * lengths[1],
                z_lo + rng.random() * (z_hi - z_lo),
            ]
        )
        d = np.asarray(placed) - trial
        d[:, :2] -= np.round(d[:, :2] / lengths[:2]) * lengths[:2]
        if np.min(np.linalg.norm(d, axis=1)) >= 1.8:
            placed.append(trial)
    ions = Atoms(
        list(rng.choice(["Li", "F", "O", "H"], n_ions)), positions=placed[len(atoms) :]
    )
    return atoms + ions, n_lower


def test_jacobi_and_longrange_preconditioners_agree():
    """Both preconditioners reach the same charges on an electrode | ions |
    electrode slab, anode at −1 V and counter electrode at +1 V; the long-range
    one in fewer CG iterations (measured: Jacobi 18, long-range 12 at tol 1e-10).

    Tolerance: tol 1e-10 relative on a Hessian of condition ~10² gives charges
    within ~1e-9 e of the exact solution (measured difference 3e-11 e): 1e-8 e.
    """
    atoms, n_lower = _electrode_slab()
    psi = np.zeros(len(atoms))
    psi[:n_lower] = -1.0
    psi[n_lower : 2 * n_lower] = 1.0
    runs = {}
    for pc in ("jacobi", "longrange"):
        solver = ChargeSolver(slab=True, method="cg", tol=1e-10, preconditioner=pc)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the closed-cell YB note
            runs[pc] = solver.solve(atoms, potential=psi)
    jacobi, longrange = runs["jacobi"], runs["longrange"]
    np.testing.assert_allclose(longrange.charges, jacobi.charges, rtol=0, atol=1e-8)
    assert jacobi.residual <= 1e-10 and longrange.residual <= 1e-10
    assert 0 < longrange.iterations < jacobi.iterations, (
        f"iterations: longrange {longrange.iterations}, jacobi {jacobi.iterations}"
    )
    # the electrodes are charged by the potential difference (not a trivial q)
    anode = longrange.charges[:n_lower].sum()
    counter = longrange.charges[n_lower : 2 * n_lower].sum()
    assert counter - anode > 0.05
