"""A folder of melt-quenched amorphous blocks, one file per set of arguments.

:func:`constpot.build.amorphous.amorphous_block` quenches a melt by Langevin
MD, which is chaotic: the last bits of the force kernels, which differ from
CPU to CPU (numpy, torch and OpenBLAS pick AVX-512 or AVX2 code), grow into
another glass from the same seed. A store, committed with the repository,
gives every machine the same block: the block of a set of arguments is
quenched once, written here, and read from then on. A block is returned as
read back from its file (8 decimals of extended XYZ), whether it was just
quenched or was stored before, so both give the same bits.

The file name holds a SHA-256 of every argument that decides the block
(:func:`store_path`); :data:`STORE_VERSION` is raised when the melt-quench or
its model changes what the same arguments give, so old files no longer match.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import write

from ..errors import SetupError
from ..io import atomic_path, read_structure
from .ionpair import ION_PAIR_POTENTIALS

__all__ = ["STORE_VERSION", "read_stored", "store_path", "write_stored"]

#: Version of the key: raise it when the melt-quench or its model changes
#: what the same arguments give.
STORE_VERSION = 1


def store_path(
    store,
    component: str,
    cell,
    seed: int,
    melt_K: float,
    final_K: float,
    schedule,
    relax_fmax: float | None,
    max_attempts: int,
    cutoff: float,
    ewald_accuracy: float,
) -> Path:
    """File of the block of these resolved arguments in folder ``store``:
    ``<component>-<16 hex digits of the SHA-256 of the arguments>.extxyz``,
    floats by their exact bits, with the rigid-ion model's parameters and
    the melt-quench schedule (a :class:`~constpot.build.amorphous.MeltQuench`).
    """
    model = ION_PAIR_POTENTIALS[component]
    args = {
        "version": STORE_VERSION,
        "component": component,
        "potential": repr(model),
        "cell_A": [float(x).hex() for x in np.asarray(cell, float).ravel()],
        "seed": int(seed),
        "melt_K": float(melt_K).hex(),
        "final_K": float(final_K).hex(),
        "schedule": {k: float(v).hex() for k, v in asdict(schedule).items()},
        "relax_fmax": None if relax_fmax is None else float(relax_fmax).hex(),
        "max_attempts": int(max_attempts),
        "cutoff_A": float(cutoff).hex(),
        "ewald_accuracy": float(ewald_accuracy).hex(),
    }
    digest = hashlib.sha256(json.dumps(args, sort_keys=True).encode()).hexdigest()
    return Path(store) / f"{component}-{digest[:16]}.extxyz"


def write_stored(path: Path, block: Atoms) -> None:
    """Write ``block`` to ``path`` (atomically; the folder is made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        write(tmp, block, format="extxyz")


def read_stored(path: Path, component: str, cell, counts: dict) -> Atoms:
    """The stored block at ``path``, checked against the arguments it is
    stored for (``counts``: atoms per element; ``cell``: (3, 3), Å).

    Raises
    ------
    SetupError
        The file holds another block (other atoms or another cell).
    """
    block = read_structure(path)
    block.calc = None
    found = {el: block.get_chemical_symbols().count(el) for el in counts}
    same_cell = np.allclose(block.cell.array, cell, rtol=0.0, atol=1e-8)
    if len(block) != sum(counts.values()) or found != counts or not same_cell:
        raise SetupError(
            f"{path}: not the {component} block of these arguments (atoms "
            f"{found}, want {counts}; cell {'same' if same_cell else 'differs'})"
        )
    block.constraints = []
    return block
