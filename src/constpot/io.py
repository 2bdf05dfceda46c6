"""File helpers: atomic writes and structure reading with constpot's arrays."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.constraints import FixAtoms
from ase.io import read

from .errors import SetupError, StructureError
from .keys import FROZEN

__all__ = [
    "atomic_leftovers",
    "atomic_path",
    "frozen_mask",
    "read_frames",
    "read_json_object",
    "read_structure",
]

#: Characters and length of the random part of ``tempfile.mkstemp`` names.
_TEMP_RANDOM = "[a-z0-9_]{8}"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it into place on success.

    Nothing is left behind when the body raises: readers never see a partial
    file. The suffix is kept so that format detection by extension works. The
    temporary file is ``.<name>.<8 random characters><suffix>`` in the same
    folder; a process killed inside the body leaves it behind, and
    :func:`atomic_leftovers` finds it.

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


def atomic_leftovers(path: str | os.PathLike) -> list[Path]:
    """Temporary files that :func:`atomic_path` left beside ``path`` when killed.

    Only names of exactly the form :func:`atomic_path` creates match; remove
    them only while no other process can be writing ``path``.

    Parameters
    ----------
    path : path-like
        The target file (it need not exist).

    Returns
    -------
    list of Path
        Sorted.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    pattern = re.compile(
        rf"\.{re.escape(path.name)}\.{_TEMP_RANDOM}{re.escape(path.suffix)}"
    )
    return sorted(
        p
        for p in path.parent.iterdir()
        if p.name.startswith(f".{path.name}.") and pattern.fullmatch(p.name)
    )


def frozen_mask(atoms: Atoms) -> np.ndarray:
    """Atoms held fixed: the ``frozen`` array, else FixAtoms constraints.

    Returns
    -------
    (n_atoms,) bool ndarray
    """
    if FROZEN in atoms.arrays:
        return atoms.arrays[FROZEN].astype(bool)
    mask = np.zeros(len(atoms), bool)
    for c in atoms.constraints:
        if isinstance(c, FixAtoms):
            mask[c.get_indices()] = True
    return mask


def read_frames(path: str | os.PathLike, index: str | int = ":") -> list[Atoms]:
    """Read structures with ASE; a file that cannot be read is one clear error.

    Parameters
    ----------
    path : str or PathLike
        Any format ASE reads (extxyz, POSCAR, ...).
    index : str or int
        ASE's frame selection; ``":"`` reads every frame.

    Returns
    -------
    list of Atoms
        At least one frame.

    Raises
    ------
    StructureError
        Missing, empty, truncated or unreadable file; the message names the
        file and, where ASE says it, what is wrong (one line).
    """
    path = Path(path)
    if not path.is_file():
        raise StructureError(f"structure file not found: {path}")
    if path.stat().st_size == 0:
        raise StructureError(f"{path}: empty file")
    try:
        frames = read(path, index=index)
    except Exception as err:  # ASE raises many kinds; all mean "cannot read"
        reason = " ".join(str(err).split()) or type(err).__name__
        raise StructureError(f"{path}: cannot read ({reason[:200]})") from None
    if isinstance(frames, Atoms):
        frames = [frames]
    if not frames:
        raise StructureError(f"{path}: no frames")
    for number, frame in enumerate(frames):
        if len(frame) == 0:
            raise StructureError(f"{path}: frame {number} has no atoms")
        bad = ~np.isfinite(frame.positions).all(axis=1)
        if bad.any():
            raise StructureError(
                f"{path}: frame {number}: atom index {int(np.flatnonzero(bad)[0])} "
                "has a non-finite position"
            )
    return frames


def read_structure(path: str | os.PathLike, index: int = -1) -> Atoms:
    """One structure (default the last frame) with :func:`read_frames`' checks."""
    frames = read_frames(path, index=index)
    return frames[-1]


def read_json_object(path: str | os.PathLike, what: str) -> dict:
    """A JSON file holding one object; ``what`` names it in messages.

    Raises
    ------
    SetupError
        The file is missing, is not JSON, or holds something else than an
        object (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise SetupError(f"{path}: {what} not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SetupError(f"{path}: not JSON ({err})") from None
    if not isinstance(data, dict):
        raise SetupError(f"{path}: not a {what} (a JSON object)")
    return data
