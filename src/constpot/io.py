"""File helpers: atomic writes and structure reading with constpot's arrays."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.constraints import FixAtoms

__all__ = ["atomic_path", "frozen_mask"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it into place on success.

    Nothing is left behind when the body raises: readers never see a partial
    file. The suffix is kept so that format detection by extension works.

    Examples
    --------
    >>> with atomic_path("out.json") as tmp:      # doctest: +SKIP
    ...     tmp.write_text("{}")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600; give the file the permissions open() would
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def frozen_mask(atoms: Atoms) -> np.ndarray:
    """Atoms held fixed: the ``frozen`` array, else FixAtoms constraints.

    Returns
    -------
    (n_atoms,) bool ndarray
    """
    from .keys import FROZEN

    if FROZEN in atoms.arrays:
        return atoms.arrays[FROZEN].astype(bool)
    mask = np.zeros(len(atoms), bool)
    for c in atoms.constraints:
        if isinstance(c, FixAtoms):
            mask[c.get_indices()] = True
    return mask
