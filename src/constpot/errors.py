"""The error hierarchy of constpot, and what the command line makes of it.

Every error constpot raises on purpose is a :class:`ConstpotError`, in one of
four kinds, each with its exit status of the ``constpot`` command:

==========================  ====  ==========================================
class                       exit  meaning
==========================  ====  ==========================================
:class:`SetupError`         2     bad input, found before any work: a config
                                  key, a structure file, an argument
:class:`GuardStop`          3     a run stopped by a physical guard (last good
                                  state written)
:class:`ConvergenceError`   4     an iterative solve missed its tolerance
:class:`ExternalToolError`  5     a program constpot drives failed (packmol,
                                  nequip-train, a DFT code)
:class:`Interrupted`        128+n a run ended on signal n (SIGTERM: 143,
                                  SIGINT: 130) after writing a checkpoint of
                                  its current step; resume to continue
==========================  ====  ==========================================

``SetupError`` is a ``ValueError`` and ``ConvergenceError`` a ``RuntimeError``,
so code that catches the built-in kinds keeps working. The charge engine's
:class:`constpot.qeq.QEqSetupError` is a ``SetupError``, the config's
:class:`constpot.config.ConfigError` too.
"""

from __future__ import annotations

__all__ = [
    "EXIT_CODES",
    "ConstpotError",
    "ConvergenceError",
    "ExternalToolError",
    "GuardStop",
    "Interrupted",
    "SetupError",
    "StructureError",
    "exit_code",
]


class ConstpotError(Exception):
    """Base of every error constpot raises on purpose."""


class SetupError(ConstpotError, ValueError):
    """Bad input, found before any work starts; the message names it."""


class StructureError(SetupError):
    """A structure file that cannot be read: missing, empty, truncated."""


class GuardStop(ConstpotError, RuntimeError):
    """A run stopped by a guard (atoms too close, forces or temperature)."""


class ConvergenceError(ConstpotError, RuntimeError):
    """An iterative solve did not reach its tolerance.

    Attributes
    ----------
    iterations : int
        Iterations performed.
    residual : float
        Relative residual reached (dimensionless).
    """

    def __init__(self, message: str, iterations: int = -1, residual: float = -1.0):
        super().__init__(message)
        self.iterations = iterations
        self.residual = residual


class ExternalToolError(ConstpotError, RuntimeError):
    """A program constpot drives (packmol, nequip-train, a labeller) failed."""


class Interrupted(ConstpotError, RuntimeError):
    """A run ended early on a signal, its current state checkpointed.

    A batch system's wall-time kill (SIGTERM, then SIGKILL after a grace
    period) or Ctrl-C (SIGINT) ends the step in progress; the run writes a
    checkpoint of it and stops, so the next session resumes from that step
    instead of the last periodic checkpoint.

    Attributes
    ----------
    signum : int
        The signal received.
    step : int
        The step of the checkpoint written.
    """

    def __init__(self, message: str, signum: int, step: int):
        super().__init__(message)
        self.signum = signum
        self.step = step


#: Exit status of the ``constpot`` command per error kind (first match wins).
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (GuardStop, 3),
    (ConvergenceError, 4),
    (ExternalToolError, 5),
    (SetupError, 2),
)


def exit_code(error: BaseException) -> int:
    """The ``constpot`` exit status of an error (2 for any other input error)."""
    if isinstance(error, Interrupted):
        return 128 + int(error.signum)  # the shell's convention for a signal
    for kind, code in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return 2
