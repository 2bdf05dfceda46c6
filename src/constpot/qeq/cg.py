"""Projected preconditioned conjugate gradient, one iteration at a time.

The charge solve's CG (Gould, Hribar & Nocedal, SIAM J. Sci. Comput. 23, 1376
(2001)) as a state that :meth:`ProjectedCG.step` advances by one iteration
without reading anything back to the host: the step length, the curvature
pᵀAp and the residual norm stay tensors on the solver's device. Only
:meth:`ProjectedCG.check` synchronises: it reads the residual, decides
convergence and raises on a failed solve. :func:`advance` runs one solve,
checking every ``check_every`` iterations; :func:`advance_together` runs
several (the systems of a batch, each with its own operator) in lockstep, with
one read-back for all of them per check. On a GPU each read-back is a host
sync that stalls the kernel queue; checking every few iterations, and for
every system of a batch at once, removes most of them.

A solve checked every iteration stops at the first iteration whose residual
is ≤ ``tol``, as the solver always has. Checked every k iterations it stops at
the first check that finds it converged: up to k − 1 iterations later, with a
smaller residual, never a larger one. Each system of a batch runs exactly the
iterations its own solve would (a converged one stops advancing), so the
charges of a batched solve are those of the single solves bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from .errors import ConvergenceError

__all__ = ["ProjectedCG", "advance", "advance_together"]


class ProjectedCG:
    """A projected preconditioned CG solve of min ½xᵀAx + bᵀx, Cx = d.

    Parameters
    ----------
    matvec : callable
        x ↦ A x on the free atoms' charges (tensor → tensor).
    b : (n_free,) tensor
        Linear term (V).
    constraints : ChargeConstraints
        Gives Cᵀy (``apply_t``).
    projection : the constraints' preconditioned projection
        ``project(r) -> (z, g, y)`` and ``feasible(x, d)``.
    start : (x, r)
        A feasible start and its gradient r = A x + b.
    reference : float
        The residual norm that ``tol`` is relative to.
    tol, max_iter : float, int
        Stop at a relative residual ≤ ``tol``; fail beyond ``max_iter``
        iterations in all (``iterations`` counts those already spent).
    iterations : int
        Iterations spent before this start (restarts).
    """

    def __init__(
        self,
        matvec: Callable[[torch.Tensor], torch.Tensor],
        b: torch.Tensor,
        constraints,
        projection,
        start: tuple[torch.Tensor, torch.Tensor],
        reference: float,
        tol: float,
        max_iter: int,
        iterations: int = 0,
    ):
        self.matvec, self.b = matvec, b
        self.cons, self.proj = constraints, projection
        self.reference, self.tol, self.max_iter = reference, tol, max_iter
        self.iterations = iterations
        self.x, r = start
        z, g, y = projection.project(r)
        # Residual update (Gould, Hribar & Nocedal 2001): drop the range(Cᵀ)
        # part of r after each projection. Without it rᵀz is the difference of
        # large numbers (r → Cᵀy at convergence) and CG stagnates or diverges
        # once the projected residual is ~1e-7 of the multipliers.
        self.r = r - constraints.apply_t(y)
        self.lam = y
        self.norm = torch.linalg.norm(g)
        self.p = -z
        self.rz = torch.dot(self.r, z)
        # the smallest curvature met since the last check, and its iteration
        self._curvature = None
        self.converged = False
        self.residual = float("inf")

    def step(self) -> None:
        """One CG iteration (no host sync)."""
        ap = self.matvec(self.p)
        pap = torch.dot(self.p, ap)
        # the curvature that counts: not that of a solve already exact (rᵀz = 0)
        curvature = torch.where(self.rz != 0, pap, torch.inf)
        if self._curvature is None:
            self._curvature = (curvature, self.iterations)
        # where(): a solve stepped past its exact convergence (rz = 0, pᵀAp
        # = 0: checked every few iterations) stays put instead of going NaN
        alpha = torch.where(pap > 0, self.rz / pap, 0.0)
        self.x = self.x + alpha * self.p
        self.r = self.r + alpha * ap
        z, g, y = self.proj.project(self.r)
        self.r = self.r - self.cons.apply_t(y)
        self.lam = self.lam + y
        rz_new = torch.dot(self.r, z)
        self.p = -z + torch.where(self.rz != 0, rz_new / self.rz, 0.0) * self.p
        self.rz = rz_new
        self.norm = torch.linalg.norm(g)
        self.iterations += 1
        # the smallest curvature since the last check (read there)
        first = self._curvature[0]
        self._curvature = (torch.minimum(first, curvature), self._curvature[1])

    def check(self, norm: float | None = None) -> bool:
        """Read the residual (``norm``: already read back), decide convergence.

        Raises
        ------
        ConvergenceError
            A non-positive curvature pᵀAp met since the last check (A not
            positive definite on the constraint space), or ``max_iter``
            iterations without reaching ``tol``.
        """
        if self._curvature is not None:
            pap, it = self._curvature
            self._curvature = None
            if not (float(pap) > 0):
                raise ConvergenceError(
                    "charge Hessian is not positive definite on the constraint "
                    f"space (pᵀAp = {float(pap):.3e} at iteration {it}): atoms too "
                    "close for their Gaussian widths, or zero hardness with point "
                    "charges",
                    iterations=it,
                    residual=self.residual,
                )
        norm = float(self.norm) if norm is None else norm
        self.residual = norm / self.reference
        self.converged = self.residual <= self.tol
        if not self.converged and self.iterations >= self.max_iter:
            raise ConvergenceError(
                f"CG charge solve did not converge: relative residual "
                f"{self.residual:.3e} > tol {self.tol:g} after {self.iterations} "
                f"iterations ({len(self.b)} free atoms)",
                iterations=self.iterations,
                residual=self.residual,
            )
        return self.converged

    def result(self) -> tuple[torch.Tensor, torch.Tensor, int]:
        """Free charges x, multipliers λ of the bordered system, iterations.

        A x + b = Cᵀ lam at convergence; the bordered system's λ is −lam.
        """
        return self.x, -self.lam, self.iterations


def advance(cg: ProjectedCG, check_every: int = 1) -> ProjectedCG:
    """Iterate one solve to convergence, reading the residual every
    ``check_every`` iterations (and at the start).

    Raises
    ------
    ConvergenceError
        The solve failed (:meth:`ProjectedCG.check`).
    """
    (error,) = advance_together([cg], check_every)
    if error is not None:
        raise error
    return cg


def advance_together(
    solves: Sequence[ProjectedCG], check_every: int = 1
) -> list[ConvergenceError | None]:
    """Iterate several solves in lockstep, one read-back per check for all.

    A solve that has converged, or failed, stops advancing; the others go on.
    Each runs the iterations it would run alone.

    Returns
    -------
    list
        Per solve, None or the :class:`ConvergenceError` it failed with.
    """
    if check_every < 1:
        raise ValueError(f"check_every must be >= 1, got {check_every}")
    errors: list[ConvergenceError | None] = [None] * len(solves)
    active = list(range(len(solves)))
    while active:
        norms = torch.stack([solves[k].norm for k in active]).tolist()
        going = []
        for k, norm in zip(active, norms, strict=True):
            try:
                if not solves[k].check(norm):
                    going.append(k)
            except ConvergenceError as err:
                errors[k] = err
        active = going
        for _ in range(check_every):
            for k in active:
                if solves[k].iterations < solves[k].max_iter:  # else check raises
                    solves[k].step()
    return errors
