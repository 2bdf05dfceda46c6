"""A charge solve's two states: set up and not yet run
(:class:`PreparedSolve`, from :meth:`ChargeSolver.prepare
<constpot.qeq.ChargeSolver.prepare>`), and done (:class:`ChargeResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from ase import Atoms

from .cg import ProjectedCG
from .constraints import ChargeConstraints
from .ewald import GaussianEwald

__all__ = ["ChargeResult", "PreparedSolve"]


@dataclass
class ChargeResult:
    """Outcome of one charge solve.

    Attributes
    ----------
    charges : (n_atoms,) ndarray, e
    energy : float, eV
        E_QEq at the solved charges (without the −Σψq term).
    grand_energy : float, eV
        Ω = E_QEq − Σ ψ_i q_i.
    forces : (n_atoms, 3) ndarray or None, eV/Å
        −∂E_QEq/∂R at fixed charges (Hellmann–Feynman); equals the total
        derivative of Ω(q*(R), R).
    iterations : int
        CG iterations (0 for the dense solver).
    residual : float
        Relative KKT residual at the solution (see module docstring).
    electrostatic_potential : (n_atoms,) ndarray, V
        φ_i = Σ_j kG_ij q_j.
    multipliers : (n_constraints,) ndarray, V
        Lagrange multipliers λ (the total-charge one is minus the chemical
        potential of the electrons, up to sign conventions).
    settings : dict
        The Ewald splitting used (cutoff, smearing, k-space method).
    seconds : dict
        Wall time of the phases, s: ``setup`` (operator, preconditioner,
        reference norm), ``solve`` (CG or the dense solve, and the true
        residual of the result), ``forces``.
    """

    charges: np.ndarray
    energy: float
    grand_energy: float
    forces: np.ndarray | None
    iterations: int
    residual: float
    electrostatic_potential: np.ndarray
    multipliers: np.ndarray = field(default_factory=lambda: np.zeros(0))
    settings: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)


@dataclass
class PreparedSolve:
    """A set-up solve (:meth:`ChargeSolver.prepare
    <constpot.qeq.ChargeSolver.prepare>`): the operator, the constraints and
    the linear term on the free atoms, and the CG to run (None for the dense
    method or when no atom is free). ``seconds`` holds ``perf_counter`` marks:
    ``start``, ``setup`` (set-up done) and, in a batch, ``solve_start``."""

    atoms: Atoms
    op: GaussianEwald
    cons: ChargeConstraints
    free_t: torch.Tensor
    j_free: torch.Tensor
    b: torch.Tensor
    c0: torch.Tensor
    d: torch.Tensor
    q_fix: torch.Tensor
    chi: np.ndarray
    hardness: np.ndarray
    psi: np.ndarray
    proj: object = None
    ref: float = 1.0
    cold: tuple | None = None
    cg: ProjectedCG | None = None
    seconds: dict = field(default_factory=dict)
