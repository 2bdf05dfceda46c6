"""The run summary (``summary.json``): what a run did, in one JSON object.

Written at the end of every session: a run completed, stopped by a guard, or
ended early at a segment's end (to be resumed). Keys:

- ``status`` (``"completed"``, ``"segment"`` or ``"stopped"``; a stopped run
  adds ``stop_step``, ``stop_reason``, ``stop_atoms``, ``stop_message``),
  ``steps`` (done so far), ``n_steps`` (planned), ``time_ps``, ``mode``,
  ``anode_potential_V`` and ``counter_potential_V`` (None in constq);
- electrode charges at the first and last thermo row (``anode_charge_start_e``,
  ``anode_charge_end_e``, ``counter_charge_start_e``, ``counter_charge_end_e``;
  e); electrode membership (the solver's ``electrode`` labels): anode
  members at step 0 and at the end (``anode_members_start``,
  ``anode_members_end``), and the Li of the electrolyte or SEI regions that
  became or stopped being anode members (``anode_members_gained_ionic_li``,
  ``anode_members_lost_ionic_li``). Membership is not deposition: the
  membership rule need not change when Li arrives, and deposition (structural,
  a confirmed stay in the metal network) is defined once, by
  :class:`constpot.analysis.Deposition`;
- CG iterations per solve (``cg_iterations_mean`` over solving steps,
  ``cg_iterations_max``), ``temperature_mean_K``,
  ``conserved_drift_eV_per_atom`` (last minus first thermo row);
- cost: ``wall_time_s`` (all sessions), ``timings_this_session_s`` (seconds in
  ``short_range``, ``qeq``, ``neighbour_list``, ``io``, ``integrator`` over the
  MD steps of this session; the relaxation is timed in ``md.log``) and
  ``evaluations_this_session``;
- provenance: ``n_atoms``, ``settings``, ``calculator`` (its ``todict()``),
  ``inputs`` (SHA-256 of the model files, the starting structure and the
  physics: :mod:`constpot.md.identity`) and ``run`` (the caller's metadata).

A run stopped before its first thermo row records only the status, ``steps``
(0) and ``settings``.
"""

from __future__ import annotations

import json
import os

import numpy as np
from ase import Atoms

from ..io import atomic_path
from ..keys import ANODE, ELECTROLYTE_REGION, FORCE_DEVIATION, REGION, SEI_REGION
from .guards import MDGuardError
from .identity import RunIdentity
from .settings import MDSettings

__all__ = ["describe", "hms", "summarise", "write_summary"]


def summarise(
    settings: MDSettings,
    atoms: Atoms,
    thermo: dict[str, np.ndarray],
    initial_labels: np.ndarray,
    final_labels: np.ndarray,
    *,
    stopped: MDGuardError | None,
    segment: bool = False,
    steps: int,
    wall_time_s: float,
    timings: dict[str, float],
    n_evaluations: int,
    calculator: dict,
    identity: RunIdentity | None = None,
    metadata: dict,
) -> dict:
    """The summary of a run (see the module docstring for the keys).

    Parameters
    ----------
    settings : MDSettings
    atoms : ase.Atoms
        The simulated structure (symbols and ``region`` array are read).
    thermo : dict of ndarray
        :func:`constpot.md.read_thermo` of the run's ``thermo.csv`` (may be
        empty).
    initial_labels, final_labels : (n_atoms,) int ndarray
        Electrode labels at step 0 and at the last step.
    stopped : MDGuardError or None
        The guard that stopped the run; None: completed or segment.
    segment : bool
        The session ended before ``settings.n_steps`` (status "segment").
    steps : int
        Steps completed (a stopped run's: those of its last thermo row).
    wall_time_s : float, s
    timings : dict of float, s
    n_evaluations : int
        Force evaluations of this session.
    calculator, metadata : dict
        Provenance.
    identity : RunIdentity, optional
        Hashes of the inputs (``inputs``).
    """
    status = {"status": "segment" if segment else "completed"}
    if stopped is not None:
        status = {
            "status": "stopped",
            "stop_step": stopped.step,
            "stop_reason": stopped.reason,
            "stop_atoms": stopped.atoms,
            "stop_message": str(stopped),
        }
    if not len(thermo.get("step", ())):
        return {
            **status,
            "steps": 0,
            "n_steps": settings.n_steps,
            "settings": settings.todict(),
        }
    if stopped is not None:
        steps = int(thermo["step"][-1])
    symbols = np.asarray(atoms.get_chemical_symbols())
    li = symbols == "Li"
    if REGION in atoms.arrays:
        outside = np.isin(atoms.arrays[REGION], (ELECTROLYTE_REGION, SEI_REGION))
    else:
        outside = np.ones(len(atoms), bool)
    gained = li & outside & (initial_labels != ANODE) & (final_labels == ANODE)
    lost = li & outside & (initial_labels == ANODE) & (final_labels != ANODE)
    cg = thermo["cg_iterations"]
    solved = cg[cg > 0] if np.any(cg > 0) else cg
    constq = settings.mode == "constq"
    anode_v, counter_v = settings.potentials
    return {
        **status,
        "steps": int(steps),
        "n_steps": int(settings.n_steps),
        "time_ps": steps * settings.timestep_fs / 1000.0,
        "mode": settings.mode,
        "anode_potential_V": None if constq else anode_v,
        "counter_potential_V": None if constq else counter_v,
        "anode_charge_start_e": float(thermo["anode_charge_e"][0]),
        "anode_charge_end_e": float(thermo["anode_charge_e"][-1]),
        "counter_charge_start_e": float(thermo["counter_charge_e"][0]),
        "counter_charge_end_e": float(thermo["counter_charge_e"][-1]),
        "anode_members_start": int((initial_labels == ANODE).sum()),
        "anode_members_end": int((final_labels == ANODE).sum()),
        "anode_members_gained_ionic_li": int(gained.sum()),
        "anode_members_lost_ionic_li": int(lost.sum()),
        "cg_iterations_mean": float(np.mean(solved)) if solved.size else 0.0,
        "cg_iterations_max": int(np.max(cg)) if cg.size else 0,
        "temperature_mean_K": float(np.mean(thermo["temperature_K"])),
        "model_deviation": _model_deviation(thermo, settings),
        "conserved_drift_eV_per_atom": float(
            (thermo["conserved_eV"][-1] - thermo["conserved_eV"][0]) / len(atoms)
        ),
        "wall_time_s": wall_time_s,
        "timings_this_session_s": dict(timings),
        "evaluations_this_session": max(int(n_evaluations), 1),
        "n_atoms": len(atoms),
        "settings": settings.todict(),
        "calculator": calculator,
        "inputs": _inputs(identity),
        "run": metadata,
    }


def _model_deviation(thermo: dict, settings) -> dict:
    """The ensemble's force deviation over the run, and whether to flag it.

    ``max_eV_A``/``mean_eV_A`` over the thermo rows, ``frames_above`` the rows
    above ``settings.deviation_flag_eV_A``, ``flagged`` when there is any;
    all None with one model (no deviation to measure).
    """
    values = np.asarray(thermo.get(FORCE_DEVIATION, ()), dtype=float)
    values = values[np.isfinite(values)]
    threshold = float(settings.deviation_flag_eV_A)
    if not values.size:
        return {
            "threshold_eV_A": threshold,
            "max_eV_A": None,
            "mean_eV_A": None,
            "frames_above": None,
            "flagged": None,
        }
    above = int(np.sum(values > threshold))
    return {
        "threshold_eV_A": threshold,
        "max_eV_A": float(values.max()),
        "mean_eV_A": float(values.mean()),
        "frames_above": above,
        "flagged": above > 0,
    }


def _inputs(identity: RunIdentity | None) -> dict:
    if identity is None:
        return {}
    return {
        "models": [{"path": p, "sha256": sha} for p, sha in identity.models],
        "structure_sha256": identity.structure,
        "physics_sha256": identity.physics,
    }


def describe(summary: dict) -> str:
    """One log line: status, steps, wall time, anode charge and members, CG."""
    return (
        f"{summary['status']}: {summary['steps']} steps in "
        f"{hms(summary['wall_time_s'])}; anode charge "
        f"{summary['anode_charge_start_e']:+.4f} -> "
        f"{summary['anode_charge_end_e']:+.4f} e; anode members "
        f"{summary['anode_members_start']} -> {summary['anode_members_end']} "
        f"(ionic Li +{summary['anode_members_gained_ionic_li']} "
        f"-{summary['anode_members_lost_ionic_li']}); CG iterations "
        f"mean {summary['cg_iterations_mean']:.1f} max "
        f"{summary['cg_iterations_max']}"
    )


def write_summary(path: str | os.PathLike, summary: dict) -> None:
    """Write ``summary`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")


def hms(seconds: float) -> str:
    """``"1h02m03s"`` or ``"2m03s"``.

    >>> hms(3723), hms(123.4)
    ('1h02m03s', '2m03s')
    """
    seconds = round(max(seconds, 0))
    h, rem = divmod(seconds, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s"
