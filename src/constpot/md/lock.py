"""One writer per run folder: an exclusive lock held while a run writes.

:class:`RunLock` takes an exclusive, non-blocking ``fcntl.flock`` on
``md.lock`` inside the run folder and writes the holder's process id and host
into it. The kernel releases the lock when the process exits, however it
exits (an exception, SIGINT, SIGKILL, an OOM or wall-time kill), so a stale
lock file never blocks the next run; the file itself stays (removing it would
let two processes lock two different files).

A second process that tries to write the folder gets a
:class:`RunLockedError` naming the folder and the process that holds it, before
it has changed anything. On a file system without ``flock`` support (some
parallel file systems are mounted without it) the run goes on unlocked and
says so in its log.

Example
-------
>>> with RunLock("results/md/demo/constp_-6.0V_r0"):      # doctest: +SKIP
...     ...  # write the run folder
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from pathlib import Path

from .settings import MDSetupError

__all__ = ["LOCK_FILE", "RunLock", "RunLockedError"]

#: Lock file inside a run folder.
LOCK_FILE = "md.lock"

#: flock errors that mean "another process holds it".
_HELD = (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)


class RunLockedError(MDSetupError):
    """Another process is writing the run folder (exit status 2)."""


class RunLock:
    """Exclusive lock of a run folder, as a context manager.

    Parameters
    ----------
    folder : path-like
        The run folder (must exist).

    Attributes
    ----------
    path : Path
        The lock file.
    locked : bool
        Whether the lock is held (False also where the file system has no
        ``flock``: see :attr:`unsupported`).
    unsupported : str or None
        Why the folder could not be locked (the file system's error), else None.

    Raises
    ------
    RunLockedError
        On entry, when another process holds the lock.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.locked = False
        self.unsupported: str | None = None
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or raise :class:`RunLockedError` naming the holder."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            if err.errno in _HELD:
                holder = _holder(fd)
                os.close(fd)
                raise RunLockedError(
                    f"run folder {self.folder} is in use by {holder} (lock file "
                    f"{self.path}); wait for that run to end or stop it"
                ) from None
            # ENOLCK, EOPNOTSUPP, ENOSYS: no flock on this file system
            os.close(fd)
            self.unsupported = f"{self.path}: {err.strerror or err}"
            return
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        self._fd = fd
        self.locked = True

    def release(self) -> None:
        """Release the lock (the file stays, emptied)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
            self.locked = False


def _holder(fd: int) -> str:
    """``"process 123 on host"`` from the lock file's content."""
    try:
        text = os.pread(fd, 200, 0).decode(errors="replace").split()
    except OSError:
        text = []
    if not text:
        return "another process"
    host = f" on {text[1]}" if len(text) > 1 else ""
    return f"process {text[0]}{host}"
