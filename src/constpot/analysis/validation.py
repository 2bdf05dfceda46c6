"""Validation on the MD's own frames: does a run stay on the reference's surface?

A model's held-out error is measured on the frames it was trained around; a
run goes where the model's energy leads it. This checks the run itself: the
first and last frames of constant-charge runs, labelled by the reference
method the model was trained on (the config's ``label.labeller``), against
the model's energy of the same frames (the MD wrote it into each frame's
header). Per run::

    drift = [E_model(last) − E_ref(last)] − [E_model(first) − E_ref(first)]

per atom: how far the model's energy error moved along the run. A model that
describes the run keeps it near zero, whatever its constant offset; a run
that slides into a region the model has not learned shows the model's
energy falling away from the reference's (measured on the demo: 60–75
meV/atom in 0.4 ps, README "Does the MD stay on the reference's surface?").

Constant-charge runs only: there the paper's model and the reference
describe the same neutral ground state; at constant potential the model's
energy includes the bias's charges, which a reference calculation of the
neutral frame does not.

:func:`validation_frames` picks and tags the frames (before labelling),
:func:`drift_table` compares the labelled ones (one row per run), and claim 5
(:mod:`~constpot.analysis.claims.accuracy`) tests the mean |drift|
against the energy limit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from ..io import read_frames
from ..keys import CATEGORY, SAMPLE_INDEX, TIME_FS, TOTAL_CHARGE

__all__ = [
    "DRIFT_COLUMNS",
    "MODEL_ENERGY",
    "VALIDATION_CATEGORY",
    "VALIDATION_FRAME",
    "VALIDATION_RUN",
    "drift_table",
    "read_drift_table",
    "validation_frames",
]

#: Frame header keys of a validation frame: the run it came from, its index
#: in that run's trajectory, and the MD model's potential energy (eV).
VALIDATION_RUN = "validation_run"
VALIDATION_FRAME = "validation_frame"
MODEL_ENERGY = "model_energy_eV"
#: The labelling category of validation frames.
VALIDATION_CATEGORY = "md_validation"
#: The MD's frame header keys read here.
_MD_ENERGY = "potential_energy_eV"
_MD_WALL_ENERGY = "wall_energy_eV"
_MD_MODE = "mode"
_MD_TOTAL_CHARGE = "total_charge_e"

#: Columns of the drift table, one row per run.
DRIFT_COLUMNS = (
    "run",
    "n_atoms",
    "duration_ps",
    "model_change_meV_per_atom",
    "reference_change_meV_per_atom",
    "drift_meV_per_atom",
    "error_first_meV_per_atom",
    "error_last_meV_per_atom",
)


def validation_frames(trajectories: Mapping[str, str | os.PathLike]) -> list:
    """The first and last frames of each run, tagged for labelling.

    Parameters
    ----------
    trajectories : mapping
        Run name (e.g. ``no_sei/constq_none_r0``) → its ``traj.extxyz``, as
        the MD wrote it (``potential_energy_eV`` in every frame's header). The
        model's energy is that less the confining walls' ``wall_energy_eV``,
        which the reference does not have (frames written before the key
        existed count it as 0; on the demo's runs the walls held 0–0.25 eV,
        under 1 meV/atom).

    Returns
    -------
    list of ase.Atoms
        Two per run, calculator-free, with :data:`VALIDATION_RUN`,
        :data:`VALIDATION_FRAME`, :data:`MODEL_ENERGY`, the time, the total
        charge, the category :data:`VALIDATION_CATEGORY` and a sample index
        (the frame's place in the list, as ``constpot label`` needs) in
        ``info``.

    Raises
    ------
    ValueError
        A trajectory with fewer than two frames, without the model's energy,
        or of a constant-potential run.
    """
    frames = []
    for run, path in trajectories.items():
        traj = read_frames(path)
        if len(traj) < 2:
            raise ValueError(f"{path}: {len(traj)} frame(s); validation needs two")
        for index in (0, len(traj) - 1):
            atoms = traj[index]
            info = atoms.info
            if _MD_ENERGY not in info:
                raise ValueError(f"{path}: frame {index} has no {_MD_ENERGY}")
            if info.get(_MD_MODE, "constq") != "constq":
                raise ValueError(
                    f"{path}: a {info[_MD_MODE]} run; validation takes "
                    "constant-charge runs only"
                )
            tagged = atoms.copy()
            tagged.calc = None
            tagged.info = {
                CATEGORY: VALIDATION_CATEGORY,
                SAMPLE_INDEX: len(frames),
                TOTAL_CHARGE: round(float(info.get(_MD_TOTAL_CHARGE, 0.0))),
                VALIDATION_RUN: str(run),
                VALIDATION_FRAME: int(index),
                TIME_FS: float(info.get(TIME_FS, np.nan)),
                MODEL_ENERGY: float(info[_MD_ENERGY])
                - float(info.get(_MD_WALL_ENERGY, 0.0)),
            }
            frames.append(tagged)
    return frames


def drift_table(labelled: Sequence):
    """One row per run whose first and last frames were both labelled.

    Parameters
    ----------
    labelled : sequence of ase.Atoms
        Frames of :func:`validation_frames` with the reference's energy
        (``atoms.get_potential_energy()``); frames whose label failed are
        simply absent, and a run missing either end is left out.

    Returns
    -------
    pandas.DataFrame
        :data:`DRIFT_COLUMNS`, energies in meV/atom: the model's and the
        reference's change from the first frame to the last, ``drift`` their
        difference, and the model's error (model − reference) at each end.
    """
    import pandas as pd

    ends: dict[str, dict[int, tuple]] = {}
    for atoms in labelled:
        info = atoms.info
        run = str(info[VALIDATION_RUN])
        ends.setdefault(run, {})[int(info[VALIDATION_FRAME])] = (
            float(info[MODEL_ENERGY]),
            float(atoms.get_potential_energy()),
            float(info.get(TIME_FS, np.nan)),
            len(atoms),
        )
    rows = []
    for run, by_frame in ends.items():
        if len(by_frame) < 2:
            continue
        first, last = by_frame[min(by_frame)], by_frame[max(by_frame)]
        n_atoms = first[3]
        per_atom = 1000.0 / n_atoms
        model_change = (last[0] - first[0]) * per_atom
        reference_change = (last[1] - first[1]) * per_atom
        rows.append(
            {
                "run": run,
                "n_atoms": n_atoms,
                "duration_ps": (last[2] - first[2]) / 1000.0,
                "model_change_meV_per_atom": model_change,
                "reference_change_meV_per_atom": reference_change,
                "drift_meV_per_atom": model_change - reference_change,
                "error_first_meV_per_atom": (first[0] - first[1]) * per_atom,
                "error_last_meV_per_atom": (last[0] - last[1]) * per_atom,
            }
        )
    return pd.DataFrame(rows, columns=list(DRIFT_COLUMNS))


def read_drift_table(path: str | os.PathLike):
    """A drift table written by ``constpot validation-report`` (CSV)."""
    import pandas as pd

    table = pd.read_csv(path)
    missing = [c for c in DRIFT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: not a drift table (no {', '.join(missing)})")
    return table
