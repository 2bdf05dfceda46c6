"""Provenance of every output: package versions and the lock they came from.

Every ``summary.json`` records :func:`versions`: constpot's and Python's
versions, those of the distributions the stage names, and ``lock_sha256``,
the SHA-256 of the ``requirements.lock`` that the running environment was
installed from. The hash names all pinned versions at once: two runs with
the same hash ran on the same software, and ``sha256sum requirements.lock``
at a commit tells whether that commit's lock is the one.

Where the hash comes from, first found wins:

1. ``<sys.prefix>/constpot-lock.sha256``, written at install time by
   ``make venv``, by ``envs/Dockerfile`` and by the conda environment's
   post-deploy script (``sha256sum`` format: the hash, then the file name);
2. the ``requirements.lock`` of the source tree that constpot is imported
   from, for an editable install that was set up otherwise;
3. ``"unknown"``.

Example
-------
>>> from constpot.provenance import versions
>>> sorted(versions("ase"))
['ase', 'constpot', 'lock_sha256', 'python']
"""

from __future__ import annotations

import hashlib
import platform
import re
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path

from . import __version__

__all__ = ["LOCK_FILE", "LOCK_RECORD", "lock_sha256", "versions"]

#: The lock file at the repository root.
LOCK_FILE = "requirements.lock"
#: The file in the environment's prefix that records the lock's SHA-256.
LOCK_RECORD = "constpot-lock.sha256"

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _recorded_sha256(record: Path) -> str | None:
    """The hash in a ``sha256sum``-style record, or None if absent or malformed."""
    try:
        fields = record.read_text(encoding="utf-8").split()
    except OSError:
        return None
    if fields and _SHA256.fullmatch(fields[0]):
        return fields[0]
    return None


def _source_lock(package_dir: Path) -> Path | None:
    """The lock of the source tree holding ``package_dir`` (``src/constpot``)."""
    root = package_dir.parents[1]
    lock = root / LOCK_FILE
    if lock.is_file() and (root / "pyproject.toml").is_file():
        return lock
    return None


def lock_sha256(
    prefix: str | Path | None = None, package_dir: str | Path | None = None
) -> str:
    """SHA-256 (hex) of the lock file the environment was installed from.

    Parameters
    ----------
    prefix : str or Path, optional
        The environment's prefix, holding :data:`LOCK_RECORD`; default
        ``sys.prefix``.
    package_dir : str or Path, optional
        The directory of the constpot package, whose source tree may hold
        :data:`LOCK_FILE`; default the imported package's directory.

    Returns
    -------
    str
        64 hex digits, or ``"unknown"`` when neither a record nor a source
        tree's lock is found.
    """
    prefix = Path(sys.prefix if prefix is None else prefix)
    package_dir = Path(__file__).parent if package_dir is None else Path(package_dir)
    recorded = _recorded_sha256(prefix / LOCK_RECORD)
    if recorded is not None:
        return recorded
    lock = _source_lock(package_dir.resolve())
    if lock is not None:
        return hashlib.sha256(lock.read_bytes()).hexdigest()
    return "unknown"


def versions(*packages: str) -> dict[str, str]:
    """constpot, Python and the given distributions' versions, for provenance.

    Parameters
    ----------
    packages : str
        Distribution names as pip knows them ("torch", "torch-pme", ...);
        one that is not installed reads "missing".

    Returns
    -------
    dict
        ``{"constpot": ..., "python": ..., <package>: ..., "lock_sha256": ...}``;
        ``lock_sha256`` as :func:`lock_sha256` returns it.
    """
    out = {"constpot": __version__, "python": platform.python_version()}
    for name in packages:
        try:
            out[name] = dist_version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    out["lock_sha256"] = lock_sha256()
    return out
