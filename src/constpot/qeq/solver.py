"""Charge equilibration with electrodes at fixed potential.

Charges minimise the grand energy (docs/design.md §4)

.. math::

    \\Omega(q) = \\sum_i \\left(\\chi_i q_i + \\tfrac12 J_i q_i^2\\right)
        + \\tfrac12 q^\\mathsf{T}(kG)q - \\sum_i \\psi_i q_i

subject to linear constraints :math:`Cq = d` (total charge, group totals) with
some atoms possibly held at fixed charges. Stationarity gives the bordered system

.. math::

    \\begin{pmatrix} A & C^\\mathsf{T} \\\\ C & 0 \\end{pmatrix}
    \\begin{pmatrix} q \\\\ \\lambda \\end{pmatrix} =
    \\begin{pmatrix} -(\\chi - \\psi) \\\\ d \\end{pmatrix},
    \\qquad A = \\operatorname{diag}(J) + kG .

Sign convention: ψ is the applied electrode potential in volts. Lowering ψ
puts electrons (negative charge) on the electrode. The "electronegativity shift"
φ of Hu et al. (2025) is φ = −ψ: their anode shift +6 eV is ψ = −6 V.

The constraint rows C, d are built once, by
:class:`~constpot.qeq.constraints.ChargeConstraints`. Two solvers give the same
answer: ``"dense"`` builds A and solves the bordered system by LU
(:func:`~constpot.qeq.constraints.kkt_solve`; reference, small cells); ``"cg"``
runs a projected, preconditioned conjugate gradient (Gould, Hribar & Nocedal,
SIAM J. Sci. Comput. 23, 1376 (2001)) with one Ewald/PME evaluation per
iteration and warm starts.

The residual reported (and compared with ``tol``) is the relative KKT residual
‖∇Ω − Cᵀλ‖ / ‖∇Ω − Cᵀλ‖₀ where the reference ₀ is taken at the cold start (the
minimum-norm feasible charges), so it does not depend on the initial guess and a
warm start can only help. When the cold start is already stationary to rounding
(‖∇Ω − Cᵀλ‖₀ ≤ 100 ε ‖∇Ω‖₀, ε the machine epsilon of ``dtype``; e.g. a
single-element cell at zero total charge, where q = 0 by symmetry) the
reference is ‖∇Ω‖₀ instead, and the cold start is returned as converged.

Accuracy is checked on the true residual, recomputed from the final charges,
for both methods: CG, whose recursively updated residual drifts from the true
one in low precision, restarts from the true residual (at most
``_RESTARTS`` times) and raises :class:`ConvergenceError` with the residual
reached if it still exceeds ``tol``; so does the dense solve. ``tol`` itself
must be at least 100 ε (2.2e-14 in float64, 1.2e-5 in float32).
"""

from __future__ import annotations

import functools
import time

import numpy as np
import torch
from ase import Atoms

from .cg import ProjectedCG, advance
from .constraints import ChargeConstraints, kkt_solve
from .errors import ConvergenceError, QEqSetupError
from .ewald import EwaldWorkspace, GaussianEwald
from .geometry import check_vacuum
from .inputs import (
    check_pbc,
    override,
    per_atom_values,
    resolve_device,
    warn_implausible,
)
from .params import QEqParameters
from .precondition import (
    JacobiPreconditioner,
    LongRangePreconditioner,
    ReferenceKeeper,
)
from .problem import ChargeResult, PreparedSolve

__all__ = ["PRECONDITIONERS", "ChargeResult", "ChargeSolver"]

#: Values of ``ChargeSolver(preconditioner=...)``.
PRECONDITIONERS = ("auto", "reference", "longrange", "jacobi")

#: Rounding allowance, in machine epsilons of the solver's dtype: the smallest
#: ``tol`` accepted, and the relative size below which the cold start's
#: projected gradient is rounding (the cold start is then the solution).
_ROUNDING_EPS = 100.0
#: Restarts of CG from the true residual when the recursive one drifted.
_RESTARTS = 3
#: Most free atoms for which "auto" factorises the reference Hessian, per
#: device: a refresh (N² n_k + N³/3) takes ~12 ms on a CPU core at 471 atoms,
#: ~10 s at 3070 (n_k 2439); a GPU does that in milliseconds.
_AUTO_REFERENCE_MAX_FREE = {"cpu": 2048, "cuda": 8192}


class ChargeSolver:
    """Constant-potential charge equilibration (QEq) for periodic cells.

    Parameters
    ----------
    params : QEqParameters, optional
        Element table; default :meth:`QEqParameters.paper`.
    slab : bool
        x, y periodic with surface normal z (Yeh–Berkowitz correction in the
        cell as given). The atoms' ``pbc`` may be all True or ASE's slab
        ``(True, True, False)``; either way the cell's third vector sets L_z.
        A warning is issued when the vacuum along z is thinner than the slab
        (the 2D limit needs ≥ 2× the thickness; see
        :func:`constpot.qeq.pad_vacuum`).
    method : {"cg", "dense"}
        Matrix-free projected preconditioned CG, or dense bordered solve.
    tol : float
        Relative KKT residual at which CG stops, and which either method's
        result must reach (see module docstring); at least 100 machine
        epsilons of ``dtype``.
    device : {"cpu", "cuda", "auto"}
    accuracy : float
        Ewald/PME target accuracy (torch-pme error-bound units, see
        :class:`GaussianEwald`).
    cutoff : float, optional, Å
        Real-space cutoff; default chosen from ``accuracy`` and the widths.
    kspace : {"auto", "ewald", "pme"}
        Long-range method for ``"cg"`` (``"dense"`` always uses Ewald).
    max_iter : int
        CG iteration limit; exceeding it raises :class:`ConvergenceError`.
    preconditioner : {"auto", "reference", "longrange", "jacobi"}
        CG preconditioner (:mod:`constpot.qeq.precondition`):
        ``"reference"`` the whole charge Hessian of a recent geometry,
        factorised and kept while no atom has moved more than 0.5 Å from it
        (successive solves of a trajectory: 2–3 CG iterations each; needs the
        explicit Ewald sum); ``"longrange"`` the diagonal plus the smooth
        long-range Coulomb part, built for each geometry; ``"jacobi"`` the
        diagonal alone. ``"auto"``: ``"reference"`` for CG with the explicit
        Ewald sum and up to 2048 free atoms (8192 on a GPU), else
        ``"longrange"``. It changes the iterations, not their limit.
    check_every : int
        CG reads its residual back (a host sync on a GPU) every this many
        iterations: it may then run up to ``check_every`` − 1 iterations past
        ``tol`` (:mod:`constpot.qeq.cg`). 1 stops at the first converged one.
    compute_forces : bool
        Whether :meth:`solve` returns forces.
    dtype : torch.dtype
        float64 by default. float32 reaches a relative residual of about 1e-5
        at best; ``tol`` below 100 ε (1.2e-5) is refused.

    Notes
    -----
    Successive solves (MD steps) share an
    :class:`~constpot.qeq.ewald.EwaldWorkspace`: the k-space tables of an
    unchanged cell and a real-space neighbour list with a 1 Å skin, rebuilt
    once an atom has moved 0.5 Å or the cell changes. The numbers are those
    of a new solver bit for bit. They also share the reference
    preconditioner, ``solver.reference``
    (:class:`~constpot.qeq.precondition.ReferenceKeeper`), whose geometry
    (``.positions``) sets where CG stops within ``tol``: a run resumed bit
    for bit restores it with ``.load(positions)``.

    Examples
    --------
    >>> solver = ChargeSolver(QEqParameters.paper(), slab=True)  # doctest: +SKIP
    >>> res = solver.solve(atoms, potential=psi)                 # doctest: +SKIP
    >>> res.charges, res.grand_energy, res.forces                # doctest: +SKIP
    """

    def __init__(
        self,
        params: QEqParameters | None = None,
        slab: bool = False,
        method: str = "cg",
        tol: float = 1e-8,
        device: str = "cpu",
        *,
        accuracy: float = 1e-6,
        cutoff: float | None = None,
        kspace: str = "auto",
        max_iter: int = 2000,
        preconditioner: str = "auto",
        check_every: int = 1,
        compute_forces: bool = True,
        dtype: torch.dtype = torch.float64,
    ):
        if params is None:
            params = QEqParameters.paper()
        if not isinstance(params, QEqParameters):
            raise TypeError(
                f"params must be a QEqParameters, got {type(params).__name__}"
            )
        if method not in ("cg", "dense"):
            raise ValueError(f"method must be 'cg' or 'dense', got {method!r}")
        if not (tol > 0):
            raise ValueError(f"tol must be > 0, got {tol}")
        if preconditioner not in PRECONDITIONERS:
            raise ValueError(
                f"preconditioner must be one of {', '.join(PRECONDITIONERS)}, "
                f"got {preconditioner!r}"
            )
        if max_iter < 1 or check_every < 1:
            raise ValueError(
                f"max_iter, check_every must be >= 1: {max_iter}, {check_every}"
            )
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype must be a torch floating dtype, got {dtype!r}")
        min_tol = _ROUNDING_EPS * torch.finfo(dtype).eps
        if tol < min_tol:
            raise ValueError(
                f"tol = {tol:g} is below what {dtype} arithmetic can reach "
                f"(tol >= {min_tol:.2g}, 100 machine epsilons); use "
                "dtype=torch.float64 or a larger tol"
            )
        self.params = params
        self.slab = bool(slab)
        self.method = method
        self.tol = float(tol)
        self.device = resolve_device(device)
        self.accuracy = float(accuracy)
        self.cutoff = cutoff
        self.kspace = "ewald" if method == "dense" else kspace
        self.max_iter = int(max_iter)
        self.preconditioner = preconditioner
        self.check_every = int(check_every)
        self.compute_forces = compute_forces
        self.dtype = dtype
        # Cell tables and the skin neighbour list, kept from one solve to the
        # next (MD steps); the numbers do not depend on it (EwaldWorkspace).
        self._workspace = EwaldWorkspace()
        self._per_atom_memo: tuple | None = None
        # The reference preconditioner, kept from one solve to the next.
        self.reference = ReferenceKeeper()

    def todict(self) -> dict:
        """Settings, for provenance records."""
        return {
            "params": self.params.todict(),
            "slab": self.slab,
            "method": self.method,
            "tol": self.tol,
            "device": str(self.device),
            "accuracy": self.accuracy,
            "cutoff": self.cutoff,
            "kspace": self.kspace,
            "max_iter": self.max_iter,
            "preconditioner": self.preconditioner,
            "check_every": self.check_every,
        }

    # ----------------------------------------------------------------- public
    def solve(
        self,
        atoms: Atoms,
        potential=None,
        fixed=None,
        total_charge: float | None = 0.0,
        groups=None,
        chi=None,
        hardness=None,
        sigma=None,
        guess=None,
    ) -> ChargeResult:
        """Equilibrate the charges of ``atoms``.

        Parameters
        ----------
        atoms : ase.Atoms
            Periodic cell (3D, or slab with normal z when ``slab``).
        potential : (n_atoms,) array_like, V, optional
            Applied potential ψ_i per atom; 0 for non-electrode atoms.
        fixed : (n_atoms,) bool array_like, optional
            Atoms whose charge is held at ``atoms.get_initial_charges()``.
        total_charge : float or None, e
            Total charge of the cell (fixed atoms included). ``None`` leaves it
            free, which is only allowed when ``groups`` cover every free atom.
        groups : optional
            Group constraints, either an (n_atoms,) int array of labels (−1 = no
            group), each group's total being the sum of its
            ``atoms.get_initial_charges()`` (formal charges), or a sequence of
            ``(indices, total_e)`` pairs.
        chi, hardness, sigma : (n_atoms,) array_like, optional
            Per-atom overrides of χ (eV), J (eV), σ (Å).
        guess : (n_atoms,) array_like, e, optional
            Starting charges for CG (a warm start); projected onto the
            constraints.

        Returns
        -------
        ChargeResult

        Raises
        ------
        QEqSetupError
            Unknown elements, bad shapes, non-finite inputs (the message names
            the argument), overlapping atoms, atoms outside a slab cell, a free
            point charge without hardness, inconsistent or missing charge
            constraints.
        ConvergenceError
            The result misses ``tol``: CG did not reach it within ``max_iter``
            iterations, or rounding keeps the true residual above it (CG or
            dense), or the charge Hessian is not positive definite on the
            constraint space.

        Warns
        -----
        UserWarning
            A solved (not fixed) charge beyond ±2 e: implausible for any
            element of the table, typical of applied potentials of tens of
            volts.
        """
        problem = self.prepare(
            atoms, potential, fixed, total_charge, groups, chi, hardness, sigma, guess
        )
        if problem.cg is not None:
            advance(problem.cg, self.check_every)
        return self.finish(problem)

    def prepare(
        self,
        atoms: Atoms,
        potential=None,
        fixed=None,
        total_charge: float | None = 0.0,
        groups=None,
        chi=None,
        hardness=None,
        sigma=None,
        guess=None,
    ) -> PreparedSolve:
        """Validate and set up a solve (arguments of :meth:`solve`).

        Returns the set-up problem, whose ``cg`` (None for the dense method
        or when no atom is free) a caller advances to convergence, as
        :func:`constpot.qeq.batch.solve_batch` does for several problems at
        once, before :meth:`finish`. :meth:`solve` is these three steps.
        """
        start = time.perf_counter()
        n = len(atoms)
        if n == 0:
            raise QEqSetupError("atoms is empty")
        check_pbc(atoms, self.slab)
        cons = ChargeConstraints.from_atoms(atoms, fixed, total_charge, groups)
        fixed_mask = cons.fixed
        dev, dt = self.device, self.dtype
        chi_a, j_a, sig_a = self._per_atom(atoms)
        chi_a = override(chi_a, chi, "chi", n)
        j_a = override(j_a, hardness, "hardness", n)
        sig_a = override(sig_a, sigma, "sigma", n)
        if np.any(j_a < 0) or np.any(sig_a < 0):
            raise QEqSetupError("hardness and sigma overrides must be >= 0")
        psi = (
            np.zeros(n)
            if potential is None
            else per_atom_values(potential, "potential", n)
        )
        # A fixed atom's hardness never enters the solve: only free point
        # charges need J > 0 (their Hessian diagonal is J alone).
        bad = np.flatnonzero(~fixed_mask & (j_a <= 0) & (sig_a <= 0))
        if bad.size:
            raise QEqSetupError(
                f"atom index {int(bad[0])}: a free point charge (sigma = 0) needs a "
                "hardness J > 0, otherwise the charge Hessian is not positive; "
                "fix its charge (fixed=...) or give it a width or a hardness"
            )

        positions = atoms.get_positions()
        if self.slab:
            check_vacuum(atoms)
        op = GaussianEwald(
            positions,
            atoms.cell.array,
            sig_a,
            slab=self.slab,
            accuracy=self.accuracy,
            cutoff=self.cutoff,
            kspace=self.kspace,
            device=dev,
            dtype=dt,
            workspace=self._workspace,
        )

        free = cons.free
        t = lambda x: torch.tensor(np.array(x), device=dev, dtype=dt)  # noqa: E731
        q_fix = t(cons.fixed_charges)
        phi_fix = op.potential(q_fix) if fixed_mask.any() else torch.zeros_like(q_fix)
        d = cons.d(q_fix)
        free_t = torch.as_tensor(free, device=dev)
        c0 = t(chi_a - psi)[free_t]
        b = c0 + phi_fix[free_t]
        j_free = t(j_a)[free_t]
        p = PreparedSolve(
            atoms, op, cons, free_t, j_free, b, c0, d, q_fix, chi_a, j_a, psi
        )
        if len(free):
            minv = self._preconditioner(atoms, op, sig_a, free_t, j_free, cons)
            p.proj = cons.projector(minv, b)
            p.ref, p.cold = self._reference_norm(op, free_t, j_free, b, d, p.proj)
            if self.method == "cg":
                g = None
                if guess is not None:
                    g = t(per_atom_values(guess, "guess", n))[free_t]
                p.cg = self._cg(p, g)
        p.seconds = {"start": start, "setup": time.perf_counter()}
        return p

    def finish(self, p: PreparedSolve) -> ChargeResult:
        """The result of a prepared problem whose ``cg`` has converged.

        Checks the true residual (CG restarts from it when its recursive
        residual drifted) and computes energies and forces.

        Raises
        ------
        ConvergenceError
            As :meth:`solve`.
        """
        setup_end = p.seconds.get("solve_start", p.seconds["setup"])
        op, free_t, j_free, dt = p.op, p.free_t, p.j_free, self.dtype
        iterations, lam = 0, torch.zeros(p.cons.m, dtype=dt, device=self.device)
        resid = 0.0
        q = p.q_fix.clone()
        phi = None
        if len(free_t):
            if self.method == "dense":
                q_free, lam = self._dense(op, free_t, j_free, p.b, p.cons)
            else:
                q_free, lam, iterations = p.cg.result()
            # Accuracy is that of the true KKT residual of the final charges
            # (relative to the cold start); CG restarts from it when its
            # recursively updated residual drifted (rounding, float32).
            for restart in range(_RESTARTS + 1):
                q[free_t] = q_free
                phi = op.potential(q)
                resid = self._relative_residual(
                    free_t, j_free, p.c0, q_free, phi, p.proj, p.ref
                )
                if resid <= self.tol or self.method == "dense" or restart == _RESTARTS:
                    break
                cg = advance(self._cg(p, q_free, iterations), self.check_every)
                q_free, lam, iterations = cg.result()
            if not resid <= self.tol:
                raise ConvergenceError(
                    f"{self.method} charge solve reached a true relative residual "
                    f"{resid:.3e} > tol {self.tol:g} ({iterations} iterations, "
                    f"{len(free_t)} free atoms, {dt}): rounding limits the accuracy; "
                    "use dtype=torch.float64 or a larger tol",
                    iterations=iterations,
                    residual=resid,
                )
        if phi is None:
            phi = op.potential(q)

        qn = q.cpu().numpy()
        warn_implausible(qn, p.cons.free, p.atoms)
        e_site = float(np.sum(p.chi * qn + 0.5 * p.hardness * qn**2))
        energy = e_site + 0.5 * float(torch.dot(q, phi))
        solve_end = time.perf_counter()
        forces = op.forces(q).cpu().numpy() if self.compute_forces else None
        end = time.perf_counter()
        return ChargeResult(
            charges=qn,
            energy=energy,
            grand_energy=energy - float(np.dot(p.psi, qn)),
            forces=forces,
            iterations=iterations,
            residual=resid,
            electrostatic_potential=phi.cpu().numpy(),
            multipliers=lam.cpu().numpy(),
            settings=op.settings.todict(),
            seconds={
                "setup": p.seconds["setup"] - p.seconds["start"],
                "solve": solve_end - setup_end,
                "forces": end - solve_end,
            },
        )

    def _per_atom(self, atoms: Atoms):
        """χ, J, σ of the atoms (read-only), kept while the table and the
        atomic numbers stay the same (MD steps)."""
        key = (self.params, atoms.numbers.tobytes())
        if self._per_atom_memo is None or self._per_atom_memo[0] != key:
            values = self.params.per_atom(atoms.get_chemical_symbols())
            for array in values:
                array.setflags(write=False)
            self._per_atom_memo = (key, values)
        return self._per_atom_memo[1]

    # ---------------------------------------------------------------- solvers
    def _dense(self, op, free_t, j_free, b, cons):
        a = op.matrix()[free_t][:, free_t]
        a.diagonal().add_(j_free)
        return kkt_solve(a, b, cons)

    def _matvec(self, op, free_t, j_free, v):
        if len(v) == op.n_atoms:  # every atom free: free_t is 0..n-1
            return j_free * v + op.potential(v)
        full = torch.zeros(op.n_atoms, dtype=v.dtype, device=v.device)
        full[free_t] = v
        return j_free * v + op.potential(full)[free_t]

    def _preconditioner(self, atoms, op, sigma, free_t, j_free, cons):
        kind = self.preconditioner
        if kind == "auto":
            small = len(free_t) <= _AUTO_REFERENCE_MAX_FREE.get(op.device.type, 0)
            use = self.method == "cg" and op.settings.kspace == "ewald" and small
            kind = "reference" if use else "longrange"
        if kind == "reference":
            return self._reference_preconditioner(
                atoms, op, sigma, free_t, j_free, cons
            )
        if kind == "longrange":
            return LongRangePreconditioner(op, free_t, j_free)
        return JacobiPreconditioner(op, free_t, j_free)

    def _reference_preconditioner(self, atoms, op, sigma, free_t, j_free, cons):
        """The kept reference preconditioner (:class:`ReferenceKeeper`)."""
        if op.settings.kspace != "ewald":
            raise QEqSetupError(
                "preconditioner 'reference' needs the explicit Ewald sum "
                f"(kspace 'ewald'; this cell uses {op.settings.kspace!r})"
            )
        c_rows = cons.matrix(op.dtype, op.device)
        key = (
            atoms.cell.array.tobytes(),
            np.asarray(sigma).tobytes(),
            free_t.cpu().numpy().tobytes(),
            j_free.cpu().numpy().tobytes(),
            c_rows.cpu().numpy().tobytes(),
            str(op.device),
            op.dtype,
        )
        options = {"slab": self.slab, "accuracy": self.accuracy, "cutoff": self.cutoff}
        options.update(kspace=self.kspace, device=op.device, dtype=op.dtype)

        def operator_at(positions):
            return GaussianEwald(positions, atoms.cell.array, sigma, **options)

        return self.reference.get(op, key, free_t, j_free, c_rows, operator_at)

    def _cg(self, p: PreparedSolve, guess, it: int = 0) -> ProjectedCG:
        """CG from ``guess`` (or the cold start); ``it`` iterations spent."""
        if guess is None:
            start = p.cold  # the reference point is the cold start
        else:
            x = p.proj.feasible(guess, p.d)
            start = (x, self._matvec(p.op, p.free_t, p.j_free, x) + p.b)

        # not a closure over p: p holds the CG, and a cycle would keep each
        # step's Ewald tables alive until the garbage collector ran (fresh
        # pages, page faults, for every table of the next step)
        matvec = functools.partial(self._matvec, p.op, p.free_t, p.j_free)
        return ProjectedCG(
            matvec, p.b, p.cons, p.proj, start, p.ref, self.tol, self.max_iter, it
        )

    def _reference_norm(self, op, free_t, j_free, b, d, proj):
        """Norm of the projected gradient at the cold start, and that start.

        When that norm is rounding (≤ 100 ε of the full gradient's), the cold
        start is stationary and the full gradient's norm is the reference, so
        the cold start counts as converged (module docstring).
        """
        x0 = proj.feasible(torch.zeros_like(b), d)
        # A·0 = 0 exactly: no operator product for a zero cold start.
        r0 = self._matvec(op, free_t, j_free, x0) + b if bool(x0.any()) else b.clone()
        _, g0, _ = proj.project(r0)
        ref = float(torch.linalg.norm(g0))
        full = float(torch.linalg.norm(r0))
        if ref <= _ROUNDING_EPS * torch.finfo(b.dtype).eps * full:
            ref = full
        return (ref if ref > 0 else 1.0), (x0, r0)

    def _relative_residual(self, free_t, j_free, c0, q_free, phi, proj, ref):
        grad = j_free * q_free + phi[free_t] + c0
        _, g, _ = proj.project(grad)
        return float(torch.linalg.norm(g)) / ref
