"""Errors raised by the charge engine."""

__all__ = ["ConvergenceError", "QEqSetupError"]


class QEqSetupError(ValueError):
    """The input cannot define a charge-equilibration problem.

    Raised before any work starts: unknown elements, overlapping atoms, atoms
    outside a slab cell, inconsistent constraints, a non-neutral periodic cell.
    """


class ConvergenceError(RuntimeError):
    """An iterative charge solve did not reach its tolerance.

    Attributes
    ----------
    iterations : int
        Iterations performed.
    residual : float
        Relative residual reached (dimensionless).
    """

    def __init__(self, message: str, iterations: int, residual: float):
        super().__init__(message)
        self.iterations = iterations
        self.residual = residual
