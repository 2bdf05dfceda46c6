"""Run outputs: extxyz trajectory frames and the thermo table.

Both writers append, count what they wrote, flush on request (the driver
flushes before every checkpoint, so that everything up to a checkpoint's step
is on disk, and records the count and size in the checkpoint), and can find and
cut off what was written after a given step (``scan``, ``truncate_after``), so
that a resumed run appends without duplicate or orphan rows. Lines end in
``\n`` only.

Trajectory frames (``traj.extxyz``) carry the per-atom arrays ``charges`` (e),
``electrode`` (0 none, 1 anode, 2 counter) and the builder's ``region``,
``mol_id``, ``molecule``, ``frozen``, and per-frame info ``step``, ``time_fs``,
``temperature_K``, ``potential_energy_eV`` (model plus walls),
``wall_energy_eV`` (the walls' share), ``grand_energy_eV``,
``anode_charge_e``, ``counter_charge_e``, ``cg_iterations``, ``mode``,
``anode_potential_V``, ``counter_potential_V`` (NaN in constq) and the
builder's info keys. No info key is named ``energy`` or ``forces``: ASE's
extxyz reader would turn those into calculator results. (It does so with the
per-atom ``charges`` too: read them back with ``atoms.get_charges()``.)
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import write

from ..keys import (
    CHARGES,
    ELECTRODE,
    FORCE_DEVIATION,
    FROZEN,
    MOL_ID,
    MOLECULE,
    REGION,
    STEP,
)

__all__ = [
    "THERMO_COLUMNS",
    "ThermoWriter",
    "TrajectoryWriter",
    "frame_atoms",
    "read_thermo",
]

#: Columns of ``thermo.csv`` (units in the names; conserved_eV is
#: grand_energy_eV + kinetic_energy_eV, the constant of motion in NVE;
#: force_deviation_eV_A is the ensemble's model deviation, NaN for one model).
THERMO_COLUMNS = (
    "step",
    "time_fs",
    "temperature_K",
    "potential_energy_eV",
    "grand_energy_eV",
    "kinetic_energy_eV",
    "conserved_eV",
    "anode_charge_e",
    "counter_charge_e",
    "cg_iterations",
    FORCE_DEVIATION,
)

#: Builder arrays carried into every frame.
CARRIED_ARRAYS = (REGION, MOL_ID, MOLECULE, FROZEN)

_STEP = re.compile(rf"(?:^|\s){STEP}=(\d+)(?:\s|$)".encode())


def frame_atoms(
    atoms: Atoms, charges: np.ndarray, electrode: np.ndarray, info: dict
) -> Atoms:
    """A bare copy of ``atoms`` for output: no calculator, no constraints.

    Parameters
    ----------
    atoms : ase.Atoms
        The simulated structure (positions, cell, builder arrays and info).
    charges : (n_atoms,) ndarray, e
    electrode : (n_atoms,) int ndarray
    info : dict
        Per-frame info; added to (and overriding) the builder's info.
    """
    out = Atoms(
        numbers=atoms.numbers,
        positions=atoms.positions,
        cell=atoms.cell,
        pbc=atoms.pbc,
    )
    for key in CARRIED_ARRAYS:
        if key in atoms.arrays:
            out.arrays[key] = atoms.arrays[key].copy()
    out.arrays[CHARGES] = np.asarray(charges, dtype=float).copy()
    out.arrays[ELECTRODE] = np.asarray(electrode, dtype=np.int64).copy()
    out.info = {
        k: v
        for k, v in atoms.info.items()
        if isinstance(v, (str, int, float, np.integer, np.floating))
        and k not in ("energy", "free_energy", "forces", "stress")
    }
    out.info.update(info)
    return out


class _AppendFile:
    """An output file opened for appending: count, flush to disk, close."""

    _fh: io.TextIOBase
    #: Frames or rows written, those kept from an earlier session included.
    count: int

    def flush(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def size(self) -> int:
        """Bytes in the file, after flushing."""
        self._fh.flush()
        return os.fstat(self._fh.fileno()).st_size

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _truncate(path: Path, size: int) -> None:
    """Cut ``path`` to ``size`` bytes, in place."""
    with open(path, "r+b") as fh:
        fh.truncate(size)
        fh.flush()
        os.fsync(fh.fileno())


class TrajectoryWriter(_AppendFile):
    """Append extxyz frames to ``path``.

    Parameters
    ----------
    path : path-like
    append : bool
        Keep existing frames (resume) or start a new file.
    count : int
        Frames already in the file (when appending).
    """

    def __init__(self, path: str | os.PathLike, append: bool = False, count: int = 0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a" if append else "w", newline="")
        self.count = count if append else 0

    def write(self, frame: Atoms) -> None:
        buf = io.StringIO(newline="")
        write(buf, frame, format="extxyz")
        self._fh.write(buf.getvalue())
        self.count += 1

    @staticmethod
    def scan(path: str | os.PathLike, step: int) -> tuple[int, int]:
        """Frames of ``path`` up to ``step`` and the bytes they take.

        Reading stops at the first frame past ``step``, a frame without a
        ``step`` info, or a partially written frame (a run killed while
        writing).

        Returns
        -------
        (int, int)
            Complete frames with step <= ``step`` from the start of the file,
            and their size in bytes.
        """
        kept, keep_bytes = 0, 0
        with open(path, "rb") as fh:
            while True:
                head = fh.readline()
                if not head.strip():
                    break
                comment = fh.readline()
                try:
                    n = int(head)
                except ValueError:
                    break
                lines = [fh.readline() for _ in range(n)]
                if len(lines) < n or not lines or not lines[-1].endswith(b"\n"):
                    break  # truncated frame
                match = _STEP.search(comment)
                if match is None or int(match.group(1)) > step:
                    break
                kept += 1
                keep_bytes = fh.tell()
        return kept, keep_bytes

    @classmethod
    def truncate_after(cls, path: str | os.PathLike, step: int) -> int:
        """Drop the frames of ``path`` with ``step`` info above ``step``.

        Returns the number of frames kept. A partially written last frame
        (a run killed while writing) is dropped as well.
        """
        path = Path(path)
        if not path.is_file():
            return 0
        kept, size = cls.scan(path, step)
        _truncate(path, size)
        return kept


class ThermoWriter(_AppendFile):
    """Append rows of :data:`THERMO_COLUMNS` to a CSV file (``\n`` line ends).

    Parameters
    ----------
    path : path-like
    append : bool
        Keep existing rows (resume) or start a new file with a header.
    count : int
        Rows already in the file (when appending).
    """

    def __init__(self, path: str | os.PathLike, append: bool = False, count: int = 0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not append or not self.path.is_file() or self.path.stat().st_size == 0
        self._fh = open(self.path, "w" if new else "a", newline="")
        self._writer = csv.writer(self._fh, lineterminator="\n")
        self.count = 0 if new else count
        if new:
            self._writer.writerow(THERMO_COLUMNS)

    def write(self, row: dict) -> None:
        values = []
        for key in THERMO_COLUMNS:
            value = row[key]
            if isinstance(value, (int, np.integer)):
                values.append(str(int(value)))
            else:
                values.append(repr(float(value)))
        self._writer.writerow(values)
        self.count += 1

    @staticmethod
    def scan(path: str | os.PathLike, step: int) -> tuple[int, int]:
        """Rows of ``path`` up to ``step`` and the bytes they take (header
        included).

        Reading stops at the first row past ``step``, a malformed row, or a
        partial last row.

        Returns
        -------
        (int, int)
            Rows with step <= ``step`` after the header, and the size in bytes
            of the header and those rows (0, 0 for an empty file).
        """
        with open(path, "rb") as fh:
            header = fh.readline()
            if not header.endswith(b"\n"):
                return 0, 0
            kept, keep_bytes = 0, fh.tell()
            for line in fh:
                if not line.endswith(b"\n"):
                    break
                fields = line.split(b",")
                try:
                    row_step = int(fields[0])
                except ValueError:
                    break
                if len(fields) != len(THERMO_COLUMNS) or row_step > step:
                    break
                kept += 1
                keep_bytes += len(line)
        return kept, keep_bytes

    @classmethod
    def truncate_after(cls, path: str | os.PathLike, step: int) -> int:
        """Drop rows with ``step`` above ``step`` (and a partial last row).

        Returns the number of rows kept.
        """
        path = Path(path)
        if not path.is_file():
            return 0
        kept, size = cls.scan(path, step)
        _truncate(path, size)
        return kept


def read_thermo(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read ``thermo.csv`` into a dict of column arrays."""
    path = Path(path)
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [r for r in reader if len(r) == len(header)]
    data = np.array(rows, dtype=float).reshape(-1, len(header))
    out = {name: data[:, k] for k, name in enumerate(header)}
    for name in ("step", "cg_iterations"):
        if name in out:
            out[name] = out[name].astype(np.int64)
    return out
