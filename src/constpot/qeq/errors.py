"""Errors raised by the charge engine (kinds of :mod:`constpot.errors`)."""

from ..errors import ConvergenceError, SetupError

__all__ = ["ConvergenceError", "QEqSetupError"]


class QEqSetupError(SetupError):
    """The input cannot define a charge-equilibration problem.

    Raised before any work starts: unknown elements, overlapping atoms, atoms
    outside a slab cell, inconsistent constraints, a non-neutral periodic cell.
    A :class:`constpot.errors.SetupError` (so a ``ValueError``).
    """
