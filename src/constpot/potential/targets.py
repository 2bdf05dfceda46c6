"""Short-range training targets: reference labels minus constant-charge QEq.

The hybrid potential (docs/design.md §5) writes the total energy as a short-range
machine-learned part plus QEq electrostatics. Its network is trained on the
residual of each labelled frame,

.. math::

    E_\\mathrm{short} = E_\\mathrm{ref} - E_\\mathrm{QEq}(q^*), \\qquad
    \\mathbf F_\\mathrm{short} = \\mathbf F_\\mathrm{ref} - \\mathbf F_\\mathrm{QEq},

where :math:`q^*` minimises :math:`E_\\mathrm{QEq}` at the frame's total charge
(constant charge: no electrode potentials; Hu et al., Nat. Commun. 16, 7379
(2025), doi:10.1038/s41467-025-62824-5, Methods) and, when the settings name
``molecule_charges``, at each such molecule's total charge
(:meth:`QEqSettings.groups`). :math:`\\mathbf F_\\mathrm{QEq}`
are the Hellmann–Feynman forces at :math:`q^*`, which equal the total derivative
because the charge constraint does not depend on the positions. Labelled frames
are 3D periodic, so the Ewald sum is the fully periodic one (``slab=False``).

Layout of a target frame (extended XYZ, read by ``nequip-train`` as is):

- ``atoms.calc`` (a :class:`~ase.calculators.singlepoint.SinglePointCalculator`):
  ``energy`` = E_short (eV) and ``forces`` = F_short (eV/Å) — the columns NequIP
  learns.
- ``info``: :data:`REF_ENERGY`, :data:`QEQ_ENERGY` (eV), and
  :data:`REF_STRESS` (Voigt, eV/Å³, ASE sign) when the label has a stress.
- ``arrays``: :data:`REF_FORCES`, :data:`QEQ_FORCES` (eV/Å),
  :data:`REF_CHARGES` (the labeller's charges, e; Mulliken for GFN1-xTB),
  :data:`QEQ_CHARGES` (e).

Stress is **not** a target: :class:`~constpot.qeq.ChargeSolver` gives no QEq
stress, so the short-range stress is unknown and the models are trained on
energies and forces only (fixed-cell MD needs no more). The reference stress is
kept as :data:`REF_STRESS`.

Example
-------
>>> from ase.io import read
>>> from constpot.potential import QEqSettings, qeq_targets
>>> frames = read("results/label/dataset.extxyz", ":")      # doctest: +SKIP
>>> targets = qeq_targets(frames, QEqSettings())            # doctest: +SKIP
>>> t = targets[0]                                          # doctest: +SKIP
>>> t.get_potential_energy() + t.info["qeq_energy"] == t.info["ref_energy"]
True
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from ..io import atomic_path
from ..keys import CHARGES, QEQ_FILE, TOTAL_CHARGE
from ..qeq import ConvergenceError, QEqSetupError
from .settings import QEqSettings

__all__ = [
    "QEQ_CHARGES",
    "QEQ_ENERGY",
    "QEQ_FORCES",
    "REF_CHARGES",
    "REF_ENERGY",
    "REF_FORCES",
    "REF_STRESS",
    "TOTAL_CHARGE",
    "qeq_targets",
    "read_targets",
    "write_targets",
]

#: info, float, eV. Reference (labeller) energy of the frame.
REF_ENERGY = "ref_energy"
#: info, float, eV. Constant-charge QEq energy E_QEq(q*).
QEQ_ENERGY = "qeq_energy"
#: info, (6,) float, eV/Å³ (Voigt, ASE sign). Reference stress, when labelled.
REF_STRESS = "ref_stress"
#: arrays, (n_atoms, 3) float, eV/Å. Reference forces.
REF_FORCES = "ref_forces"
#: arrays, (n_atoms, 3) float, eV/Å. QEq (Hellmann–Feynman) forces.
QEQ_FORCES = "qeq_forces"
#: arrays, (n_atoms,) float, e. Reference charges (Mulliken for GFN1-xTB).
REF_CHARGES = "ref_charges"
#: arrays, (n_atoms,) float, e. Equilibrated QEq charges.
QEQ_CHARGES = "qeq_charges"


def qeq_targets(
    frames: Sequence[Atoms],
    settings: QEqSettings,
    *,
    method: str = "dense",
    device: str = "cpu",
    log: Callable[[str], None] | None = None,
) -> list[Atoms]:
    """Short-range targets E_ref − E_QEq and F_ref − F_QEq of labelled frames.

    Parameters
    ----------
    frames : sequence of ase.Atoms
        Labelled 3D-periodic frames: a calculator with ``energy`` (eV) and
        ``forces`` (eV/Å), optionally ``stress`` and ``charges`` (e), and
        ``info["total_charge"]`` (e; 0 when absent).
    settings : QEqSettings
        The QEq model subtracted (saved with the targets and every model).
    method : {"dense", "cg"}
        Charge solver; dense is exact and fast for ≤ a few hundred atoms.
    device : str
        Torch device of the charge solver.
    log : callable, optional
        Called with one progress line per frame.

    Returns
    -------
    list of ase.Atoms
        Copies of the frames (info and per-atom arrays kept, the labeller's
        ``charges`` renamed :data:`REF_CHARGES`) whose calculator holds
        E_short and F_short; see the module docstring for the other keys.

    Raises
    ------
    ValueError
        A frame without a reference energy or forces, not fully periodic, or
        whose charge solve fails; the message names the frame index.
    """
    if not isinstance(settings, QEqSettings):
        raise TypeError(f"settings must be a QEqSettings, got {type(settings)}")
    solver = settings.solver(slab=False, method=method, device=device)
    out = []
    start = time.perf_counter()
    for index, frame in enumerate(frames):
        e_ref, f_ref, stress, q_ref = _reference(frame, index)
        total = float(frame.info.get(TOTAL_CHARGE, 0.0))
        try:
            res = solver.solve(frame, total_charge=total, groups=settings.groups(frame))
        except (QEqSetupError, ConvergenceError, ValueError) as err:
            raise ValueError(f"frame {index}: QEq failed: {err}") from err
        target = Atoms(
            numbers=frame.numbers,
            positions=frame.positions,
            cell=frame.cell,
            pbc=frame.pbc,
        )
        for key, value in frame.arrays.items():
            if key not in ("numbers", "positions", CHARGES):
                target.arrays[key] = value.copy()
        target.info.update(frame.info)
        target.info[REF_ENERGY] = e_ref
        target.info[QEQ_ENERGY] = float(res.energy)
        if stress is not None:
            target.info[REF_STRESS] = np.asarray(stress, dtype=float).copy()
        target.arrays[REF_FORCES] = f_ref.copy()
        target.arrays[QEQ_FORCES] = np.asarray(res.forces, dtype=float)
        if q_ref is not None:
            target.arrays[REF_CHARGES] = q_ref.copy()
        target.arrays[QEQ_CHARGES] = np.asarray(res.charges, dtype=float)
        target.calc = SinglePointCalculator(
            target, energy=e_ref - res.energy, forces=f_ref - res.forces
        )
        out.append(target)
        if log is not None:
            log(
                f"frame {index} ({frame.info.get('category', '?')}, {len(frame)} "
                f"atoms, Q = {total:g} e): E_ref {e_ref:.4f} eV, E_QEq "
                f"{res.energy:.4f} eV, max |F_QEq| {np.abs(res.forces).max():.3f} eV/Å"
            )
    if log is not None:
        log(f"{len(out)} frames in {time.perf_counter() - start:.1f} s")
    return out


def _reference(frame: Atoms, index: int):
    """(energy, forces, stress or None, charges or None) of a labelled frame."""
    if not isinstance(frame, Atoms):
        raise TypeError(f"frame {index}: expected ase.Atoms, got {type(frame)}")
    if not np.all(frame.pbc):
        raise ValueError(
            f"frame {index}: targets need 3D-periodic frames (pbc all True, got "
            f"{frame.pbc.tolist()})"
        )
    results = frame.calc.results if frame.calc is not None else {}
    if "energy" not in results or "forces" not in results:
        raise ValueError(
            f"frame {index}: no reference energy and forces (expected a labelled "
            "frame with a single-point calculator)"
        )
    forces = np.asarray(results["forces"], dtype=float)
    if forces.shape != (len(frame), 3):
        raise ValueError(
            f"frame {index}: forces have shape {forces.shape}, expected "
            f"({len(frame)}, 3)"
        )
    charges = results.get(CHARGES, frame.arrays.get(CHARGES))
    if charges is not None:
        charges = np.asarray(charges, dtype=float)
    return float(results["energy"]), forces, results.get("stress"), charges


def write_targets(
    targets: Sequence[Atoms],
    path: str | os.PathLike,
    settings: QEqSettings,
    settings_path: str | os.PathLike | None = None,
) -> tuple[Path, Path]:
    """Write targets (extxyz) and their QEq settings (JSON), each atomically.

    Parameters
    ----------
    targets : sequence of ase.Atoms
        From :func:`qeq_targets`.
    path : path
        Output extxyz.
    settings : QEqSettings
    settings_path : path, optional
        Default ``qeq.json`` in the folder of ``path``.

    Returns
    -------
    (Path, Path)
        The targets file and the settings file.
    """
    from ase.io import write

    path = Path(path)
    settings_path = (
        path.parent / QEQ_FILE if settings_path is None else Path(settings_path)
    )
    with atomic_path(path) as tmp:
        write(tmp, list(targets), format="extxyz")
    settings.write(settings_path)
    return path, settings_path


def read_targets(path: str | os.PathLike) -> list[Atoms]:
    """Read a targets file and check that each frame carries the bookkeeping keys.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A frame without E_short/F_short or one of the stored parts; the message
        names the frame index and the missing key.
    """
    from ase.io import read

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"targets file not found: {path}")
    frames = read(path, ":")
    for index, frame in enumerate(frames):
        if frame.calc is None or "energy" not in frame.calc.results:
            raise ValueError(f"{path}: frame {index} has no short-range energy")
        for key in (REF_ENERGY, QEQ_ENERGY):
            if key not in frame.info:
                raise ValueError(f"{path}: frame {index} has no info[{key!r}]")
        for key in (REF_FORCES, QEQ_FORCES, QEQ_CHARGES):
            if key not in frame.arrays:
                raise ValueError(f"{path}: frame {index} has no array {key!r}")
    return frames
