"""Charge equilibration (QEq) with Gaussian charges and electrode potentials.

Public API (docs/design.md §4)::

    from constpot.qeq import QEqParameters, ChargeSolver
    solver = ChargeSolver(QEqParameters.paper(), slab=True, method="cg")
    res = solver.solve(atoms, potential=psi)
    res.charges, res.energy, res.grand_energy, res.forces
"""

from .constraints import ChargeConstraints, kkt_solve
from .electrode import electrode_potentials, metallic_li
from .errors import ConvergenceError, QEqSetupError
from .ewald import EwaldSettings, GaussianEwald
from .geometry import (
    check_slab_cell,
    check_vacuum,
    pad_vacuum,
    rotate_normal_to_z,
    slab_thickness,
)
from .params import PAPER_TABLE, QEqParameters
from .rule import MetallicRule
from .solver import ChargeResult, ChargeSolver

__all__ = [
    "PAPER_TABLE",
    "ChargeConstraints",
    "ChargeResult",
    "ChargeSolver",
    "ConvergenceError",
    "EwaldSettings",
    "GaussianEwald",
    "MetallicRule",
    "QEqParameters",
    "QEqSetupError",
    "check_slab_cell",
    "check_vacuum",
    "electrode_potentials",
    "kkt_solve",
    "metallic_li",
    "pad_vacuum",
    "rotate_normal_to_z",
    "slab_thickness",
]
