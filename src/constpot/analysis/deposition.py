"""Li deposition (a structural event) and Li⁺ reduction (a change of charge).

User guide
----------
**Deposition.** A Li is deposited on an electrode when it started as an ion
(builder region ``sei`` or ``electrolyte``), was not part of that
electrode's metal network in the first frame, and has become part of it
(:class:`~constpot.analysis.network.NetworkRule`: connected Li–Li contacts
with at most one F/O neighbour). It *arrives* at the first frame of the first
stay in the network that lasts at least ``residence_fs``; thermal contact
that breaks sooner is not deposition, and an atom that leaves and returns is
counted once. Li of the electrode regions themselves never count: a surface
atom that moves is the metal rearranging, not Li⁺ arriving. The MD's
``electrode`` labels are not used for this (they follow the solver's
membership rule, which need not change when Li arrives); they give the
electrode charges.

**Reduction.** Each Li's charge is compared with its own constant-charge
reference, Δqᵢ(t) = qᵢ(t) − qᵢ,ref: by default its charge in the first frame
of this run, or the first frame of the matching constant-charge run when one
is given (``reference``; same atoms in the same order), so that Li⁺ partly
reduced by the applied potential before the first step also counts. A Li of
the SEI or electrolyte regions is *reduced* when Δq ≤ −``reduction_dq_e``
(default 0.3 e, a third of a Li⁺ charge in QEq and many times its thermal
spread). No absolute threshold: QEq variants differ in the Li⁺ charge.

Pitfalls: the first analysed frame is the reference for membership, so
analyse the whole trajectory (``run()`` without ``start``); atoms must keep
their order; an arrival in the last ``residence_fs`` of a run cannot be
confirmed and is not counted.

Example
-------
>>> run = "results/md/mosaic_amorphous/constp_-6.0V_r0"
>>> dep = Deposition(f"{run}/traj.extxyz").run()                  # doctest: +SKIP
>>> dep.results["table"][["time_ps", "deposited", "reduced_total"]]  # doctest: +SKIP
>>> dep.results["events"][["atom", "region", "time_ps", "x_A", "y_A"]]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..keys import (
    ANODE,
    CHARGES,
    COUNTER,
    ELECTRODE,
    ELECTRODE_NAMES,
    ELECTROLYTE_REGION,
    REGION,
    SEI_REGION,
    STEP,
    TIME_FS,
)
from ._frames import FrameAnalysis, frame_charges, info_float, read_trajectory
from .network import NetworkRule

__all__ = ["IONIC_REGIONS", "REDUCTION_DQ_E", "Deposition", "reference_charges"]

#: Default charge drop (e) from the reference that makes a Li reduced.
REDUCTION_DQ_E = 0.3

#: Builder regions whose Li start as Li⁺.
IONIC_REGIONS = (SEI_REGION, ELECTROLYTE_REGION)

#: Columns of the per-frame table.
TABLE_COLUMNS = [
    "frame",
    "step",
    "time_fs",
    "time_ps",
    "deposited",
    "deposited_counter",
    "in_anode",
    "in_counter",
    "anode_network",
    "counter_network",
    "reduced_sei",
    "reduced_electrolyte",
    "reduced_total",
    "dq_sei_mean_e",
    "dq_electrolyte_mean_e",
    "n_anode",
    "anode_charge_e",
    "counter_charge_e",
    "anode_potential_V",
    "counter_potential_V",
    "area_A2",
]

#: Columns of the events table (deposition, aggregation, protrusion).
EVENT_COLUMNS = [
    "kind",
    "electrode",
    "atom",
    "region",
    "frame",
    "time_fs",
    "time_ps",
    "x_A",
    "y_A",
    "z_A",
    "dq_e",
    "n_anions",
    "size",
]


def reference_charges(
    frames: Sequence[Atoms],
    reference: str | Path | Atoms | np.ndarray | None = None,
) -> np.ndarray:
    """Constant-charge reference charge of every atom (e).

    Parameters
    ----------
    frames : sequence of ase.Atoms
        The run; its first frame is the default reference.
    reference : path, ase.Atoms or (n_atoms,) ndarray, optional
        The matching constant-charge run (``traj.extxyz``, its first frame is
        used), one frame of it, or the charges themselves.

    Returns
    -------
    (n_atoms,) ndarray, e

    Raises
    ------
    ValueError
        A reference with another number of atoms or other elements, or
        without charges.
    """
    first = frames[0]
    if reference is None:
        return np.asarray(first.arrays[CHARGES], float).copy()
    if isinstance(reference, (str, Path)):
        reference = read_trajectory(reference, (CHARGES,), (), index=0)[0]
    if isinstance(reference, Atoms):
        if len(reference) != len(first) or (
            reference.get_chemical_symbols() != first.get_chemical_symbols()
        ):
            raise ValueError(
                f"reference: {len(reference)} atoms "
                f"({reference.get_chemical_formula()}) do not match the run's "
                f"{len(first)} ({first.get_chemical_formula()}) in order"
            )
        q = frame_charges(reference)
        if q is None:
            raise ValueError(f"reference: frame has no per-atom array {CHARGES!r}")
        return np.asarray(q, float).copy()
    q = np.asarray(reference, float)
    if q.shape != (len(first),):
        raise ValueError(
            f"reference: expected ({len(first)},) charges, got shape {q.shape}"
        )
    return q.copy()


def arrival_frames(member: np.ndarray, times_fs: np.ndarray, residence_fs: float):
    """First frame of the first stay in a set that lasts ``residence_fs``.

    Parameters
    ----------
    member : (n_frames, n_atoms) bool ndarray
    times_fs : (n_frames,) ndarray, fs
    residence_fs : float, fs
        Shortest confirmed stay (0: the first frame in the set).

    Returns
    -------
    (n_atoms,) int ndarray
        Frame index of arrival, -1 for none.
    """
    n_frames, n_atoms = member.shape
    out = np.full(n_atoms, -1, dtype=np.int64)
    for a in np.flatnonzero(member.any(axis=0)):
        inside = member[:, a]
        k = 0
        while k < n_frames:
            if not inside[k]:
                k += 1
                continue
            m = k
            while m + 1 < n_frames and inside[m + 1]:
                m += 1
            if times_fs[m] - times_fs[k] >= residence_fs:
                out[a] = k
                break
            k = m + 1
    return out


class Deposition(FrameAnalysis):
    """Deposited Li per electrode, reduced Li⁺ and electrode charges per frame.

    Parameters
    ----------
    trajectory : path or sequence of ase.Atoms
        Frames with per-atom ``charges`` (e), ``electrode`` (0/1/2, for the
        electrode charges), ``region``, and info ``time_fs``.
    reference : path, ase.Atoms or ndarray, optional
        Constant-charge reference charges (:func:`reference_charges`);
        default the first frame of the run.
    reduction_dq_e : float, e
        A Li with Δq ≤ −reduction_dq_e is reduced (0.3).
    rule : NetworkRule, optional
        Electrode networks (default :class:`NetworkRule()`).
    residence_fs : float, fs
        Shortest stay in a network that confirms an arrival (100).

    Attributes
    ----------
    results["table"] : pandas.DataFrame
        One row per frame: ``frame, step, time_fs, time_ps, deposited,
        deposited_counter, in_anode, in_counter, anode_network,
        counter_network, reduced_sei, reduced_electrolyte, reduced_total,
        dq_sei_mean_e, dq_electrolyte_mean_e, n_anode, anode_charge_e,
        counter_charge_e, anode_potential_V, counter_potential_V, area_A2``.
        ``deposited*``: confirmed arrivals so far (counted once);
        ``in_*``: Li of ionic origin in the network in that frame;
        ``*_network``: Li in the network; ``n_anode`` and the charges: the
        MD's electrode labels.
    results["events"] : pandas.DataFrame
        One row per arrival: ``kind`` ("deposition"), ``electrode``,
        ``atom``, ``region``, ``frame``, ``time_fs``, ``time_ps``, position
        ``x_A, y_A, z_A``, ``dq_e`` and ``n_anions`` at arrival.
    results["network"] : (n_frames, n_atoms) int8 ndarray
        Structural electrode label per frame (-1 for frames not analysed),
        reusable by :class:`~constpot.analysis.AnodeSurface` and
        :class:`~constpot.analysis.LiClusters`.
    results["arrival_frame"] : dict
        Electrode name → (n_atoms,) arrival frame (-1 for none).
    """

    required_arrays = (CHARGES, ELECTRODE, REGION)

    def __init__(
        self,
        trajectory: str | Path | Sequence[Atoms],
        reference: str | Path | Atoms | np.ndarray | None = None,
        reduction_dq_e: float = REDUCTION_DQ_E,
        rule: NetworkRule | None = None,
        residence_fs: float = 100.0,
    ):
        super().__init__(trajectory)
        if not reduction_dq_e > 0:
            raise ValueError(f"reduction_dq_e must be > 0 e, got {reduction_dq_e}")
        if not residence_fs >= 0:
            raise ValueError(f"residence_fs must be >= 0 fs, got {residence_fs}")
        self.reduction_dq_e = float(reduction_dq_e)
        self.rule = rule or NetworkRule()
        self.residence_fs = float(residence_fs)
        self.q_ref = reference_charges(self.frames, reference)
        self.reference = _describe(reference)

    def todict(self) -> dict:
        return {
            "reduction_dq_e": self.reduction_dq_e,
            "residence_fs": self.residence_fs,
            "reference": self.reference,
            "network": self.rule.todict(),
        }

    def _prepare(self) -> None:
        first = self.frames[self._indices[0]]
        self._element = first.symbols == self.rule.element
        self._region = first.arrays[REGION].astype(str)
        self._ionic = self._element & np.isin(self._region, IONIC_REGIONS)
        self._anchors = self.rule.anchors(first)
        self._network = np.full((len(self.frames), len(first)), -1, dtype=np.int8)
        self._n_anions = np.zeros((len(self.frames), len(first)), dtype=np.int16)
        self._rows: list[dict] = []

    def _single_frame(self, index: int, atoms: Atoms) -> None:
        labels, n_anions = self.rule.labels(atoms, self._anchors)
        self._network[index] = labels
        self._n_anions[index] = n_anions
        psi_labels = atoms.arrays[ELECTRODE]
        q = atoms.arrays[CHARGES]
        dq = q - self.q_ref
        reduced = self._ionic & (dq <= -self.reduction_dq_e)
        row = {
            "frame": index,
            "step": int(atoms.info.get(STEP, index)),
            "time_fs": float(atoms.info[TIME_FS]),
            "anode_network": int((labels == ANODE).sum()),
            "counter_network": int((labels == COUNTER).sum()),
        }
        total = 0
        for region in IONIC_REGIONS:
            mine = self._element & (self._region == region)
            n = int((reduced & mine).sum())
            row[f"reduced_{region}"] = n
            row[f"dq_{region}_mean_e"] = float(dq[mine].mean()) if mine.any() else 0.0
            total += n
        row["reduced_total"] = total
        row["n_anode"] = int((psi_labels == ANODE).sum())
        row["anode_charge_e"] = float(q[psi_labels == ANODE].sum())
        row["counter_charge_e"] = float(q[psi_labels == COUNTER].sum())
        row["anode_potential_V"] = info_float(atoms, "anode_potential_V")
        row["counter_potential_V"] = info_float(atoms, "counter_potential_V")
        row["area_A2"] = float(abs(np.linalg.det(atoms.cell.array[:2, :2])))
        self._rows.append(row)

    def _conclude(self) -> None:
        import pandas as pd

        idx = np.asarray(self._indices)
        net = self._network[idx]
        times = self.times_fs[idx]
        table = pd.DataFrame(self._rows)
        table["time_ps"] = table["time_fs"] / 1000.0
        events, arrivals = [], {}
        for label, column in ((ANODE, "deposited"), (COUNTER, "deposited_counter")):
            name = ELECTRODE_NAMES[label]
            member = (net == label) & self._ionic & (net[0] != label)
            first = arrival_frames(member, times, self.residence_fs)
            arrivals[name] = np.where(first >= 0, idx[np.maximum(first, 0)], -1)
            count = np.zeros(len(idx), dtype=np.int64)
            for k in first[first >= 0]:
                count[k:] += 1
            table[column] = count
            table[f"in_{name}"] = member.sum(axis=1).astype(np.int64)
            for atom in np.flatnonzero(first >= 0):
                frame = int(idx[first[atom]])
                atoms = self.frames[frame]
                x, y, z = atoms.positions[atom]
                events.append(
                    {
                        "kind": "deposition",
                        "electrode": name,
                        "atom": int(atom),
                        "region": str(self._region[atom]),
                        "frame": frame,
                        "time_fs": float(times[first[atom]]),
                        "time_ps": float(times[first[atom]]) / 1000.0,
                        "x_A": float(x),
                        "y_A": float(y),
                        "z_A": float(z),
                        "dq_e": float(atoms.arrays[CHARGES][atom] - self.q_ref[atom]),
                        "n_anions": int(self._n_anions[frame, atom]),
                        "size": 1,
                    }
                )
        self.results["table"] = table[TABLE_COLUMNS]
        self.results["events"] = (
            pd.DataFrame(events, columns=EVENT_COLUMNS)
            .sort_values(["time_fs", "atom"])
            .reset_index(drop=True)
        )
        self.results["network"] = self._network
        self.results["arrival_frame"] = arrivals


def _describe(reference) -> str:
    if reference is None:
        return "first frame"
    if isinstance(reference, (str, Path)):
        return str(reference)
    if isinstance(reference, Atoms):
        return "frame"
    return "charges"
