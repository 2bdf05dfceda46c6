"""A clean stop on SIGTERM or SIGINT: finish the step, checkpoint it, stop.

A batch system's wall-time kill sends SIGTERM (SLURM: then SIGKILL after its
``KillWait`` grace period); Ctrl-C sends SIGINT to the whole process group.
Without a handler the run dies mid-step and the next session resumes from the
last periodic checkpoint, up to ``checkpoint_every`` steps back. With
:class:`StopOnSignal` around the step loop, the first signal only sets
:attr:`StopOnSignal.signum`; the loop finishes the step in progress, writes
its checkpoint and raises :class:`~constpot.errors.Interrupted` (exit status
128 + n). A second signal of the same kind stops at once (the default
behaviour, for a user who does not want to wait).

Example
-------
>>> with StopOnSignal() as stop:                          # doctest: +SKIP
...     while step < n_steps:
...         step = advance()
...         if stop.signum is not None:
...             raise Interrupted("...", stop.signum, step)
"""

from __future__ import annotations

import signal
import threading

__all__ = ["INTERRUPT_SIGNALS", "StopOnSignal"]

#: Signals that end a session cleanly after the current step.
INTERRUPT_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopOnSignal:
    """Context manager recording the first SIGTERM/SIGINT instead of dying.

    Only the main thread can install handlers. Elsewhere (a run inside a
    thread) :attr:`signum` is that of the main thread's handler while one is
    active (a batch of runs, :mod:`constpot.md.batch`: every run stops), and
    None when none is. The previous handlers are put back on exit.

    Attributes
    ----------
    signum : int or None
        The signal received, None while none has been.
    """

    #: The handler the main thread holds, read by the other threads' instances.
    _main: StopOnSignal | None = None

    def __init__(self, signals=INTERRUPT_SIGNALS):
        self.signals = tuple(signals)
        self._signum: int | None = None
        self._previous: dict = {}
        self._parent: StopOnSignal | None = None

    @property
    def signum(self) -> int | None:
        """The signal received (here, or by the main thread's handler)."""
        if self._signum is None and self._parent is not None:
            return self._parent.signum
        return self._signum

    @property
    def name(self) -> str | None:
        """The received signal's name (``"SIGTERM"``), or None."""
        return None if self.signum is None else signal.Signals(self.signum).name

    def _handle(self, signum, frame):
        if self._signum == signum:  # asked twice: stop now
            signal.signal(signum, self._previous[signum])
            raise KeyboardInterrupt
        self._signum = signum

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in self.signals:
                self._previous[sig] = signal.signal(sig, self._handle)
            self._parent, StopOnSignal._main = StopOnSignal._main, self
        else:
            self._parent = StopOnSignal._main
        return self

    def __exit__(self, *exc) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, old)
        self._previous = {}
        if StopOnSignal._main is self:
            StopOnSignal._main = self._parent
        self._parent = None
