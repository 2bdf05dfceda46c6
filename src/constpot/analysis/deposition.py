"""Li deposition on the anode and Li⁺ reduction, frame by frame.

User guide
----------
The MD driver recomputes electrode membership during the run (paper rule: a Li
with ≥ 8 Li neighbours within 3.5 Å is metallic; metallic Li in the lower half
belongs to the anode), and writes it as the per-atom ``electrode`` array. A Li
that started in the SEI or the electrolyte (the builder's ``region``), was
*not* an anode member in the first frame and *is* one now has been deposited.
Li of the anode region itself never counts: surface atoms with fewer than 8 Li
neighbours at the start that gain them later are the metal rearranging, not
Li⁺ arriving. :class:`Deposition` counts each such atom once, at the first frame
it joins (``deposited``), so an atom that flickers in and out of the anode is
not counted twice; ``deposited_now`` counts those that are members in the
frame itself.

Reduction is read from the charges: a Li that started in the SEI or the
electrolyte (the builder's ``region``, fixed for the run) with charge below
``reduced_charge_e`` (default +0.3 e; Li⁺ carries about +0.8–0.9 e in QEq) is
counted as reduced, per region. The anode and counter-electrode totals are the
sums of the charges of the current members (e).

Pitfalls: the first frame is the reference, so analyse the whole trajectory
(``run()`` without ``start``), and atoms must keep their order.

Example
-------
>>> run = "results/md/no_sei/constp_-6.0V_r0"
>>> dep = Deposition(f"{run}/traj.extxyz").run()                  # doctest: +SKIP
>>> dep.results["table"][["time_ps", "deposited", "anode_charge_e"]]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..keys import ANODE, CHARGES, COUNTER, ELECTRODE, REGION
from ._frames import FrameAnalysis, info_float

__all__ = ["REDUCED_CHARGE_E", "Deposition"]

#: Default charge threshold (e) below which a Li counts as reduced (Li⁰).
REDUCED_CHARGE_E = 0.3

#: Initial regions whose Li started as Li⁺ (reduction is counted there).
IONIC_REGIONS = ("sei", "electrolyte")


class Deposition(FrameAnalysis):
    """Deposited Li, reduced Li⁺ by region and electrode charges per frame.

    Parameters
    ----------
    trajectory : path or sequence of ase.Atoms
        Frames with per-atom ``charges`` (e), ``electrode`` (0/1/2) and
        ``region``, and info ``time_fs``.
    reduced_charge_e : float, e
        A Li with charge below this is reduced (default 0.3).
    element : str
        The depositing element (default "Li").

    Attributes
    ----------
    results["table"] : pandas.DataFrame
        One row per frame: ``frame, step, time_fs, time_ps, deposited,
        deposited_now, n_anode, anode_charge_e, counter_charge_e,
        reduced_sei, reduced_electrolyte, reduced_total, anode_potential_V,
        counter_potential_V, area_A2``.
    results["joined_frame"] : (n_atoms,) int ndarray
        Frame index at which each atom first joined the anode; -1 if never or
        already a member in frame 0.
    """

    required_arrays = (CHARGES, ELECTRODE, REGION)

    def __init__(
        self,
        trajectory: str | Path | Sequence[Atoms],
        reduced_charge_e: float = REDUCED_CHARGE_E,
        element: str = "Li",
    ):
        super().__init__(trajectory)
        self.reduced_charge_e = float(reduced_charge_e)
        self.element = element

    def todict(self) -> dict:
        return {"reduced_charge_e": self.reduced_charge_e, "element": self.element}

    def _prepare(self) -> None:
        first = self.frames[0]
        self._is_element = first.symbols == self.element
        self._anode_at_start = first.arrays[ELECTRODE] == ANODE
        self._region = first.arrays[REGION].astype(str)
        self._candidates = (
            self._is_element
            & ~self._anode_at_start
            & np.isin(self._region, IONIC_REGIONS)
        )
        self._joined = np.full(len(first), -1, dtype=np.int64)
        self._rows: list[dict] = []

    def _single_frame(self, index: int, atoms: Atoms) -> None:
        labels = atoms.arrays[ELECTRODE]
        q = atoms.arrays[CHARGES]
        in_anode = labels == ANODE
        new = self._candidates & in_anode & (self._joined < 0)
        self._joined[new] = index
        reduced = self._is_element & (q < self.reduced_charge_e)
        row = {
            "frame": index,
            "step": int(atoms.info.get("step", index)),
            "time_fs": float(atoms.info["time_fs"]),
            "deposited": int((self._joined >= 0).sum()),
            "deposited_now": int((self._candidates & in_anode).sum()),
            "n_anode": int(in_anode.sum()),
            "anode_charge_e": float(q[in_anode].sum()),
            "counter_charge_e": float(q[labels == COUNTER].sum()),
        }
        total = 0
        for region in IONIC_REGIONS:
            n = int((reduced & (self._region == region)).sum())
            row[f"reduced_{region}"] = n
            total += n
        row["reduced_total"] = total
        row["anode_potential_V"] = info_float(atoms, "anode_potential_V")
        row["counter_potential_V"] = info_float(atoms, "counter_potential_V")
        row["area_A2"] = float(abs(np.linalg.det(atoms.cell.array[:2, :2])))
        self._rows.append(row)

    def _conclude(self) -> None:
        import pandas as pd

        table = pd.DataFrame(self._rows)
        table.insert(3, "time_ps", table["time_fs"] / 1000.0)
        self.results["table"] = table
        self.results["joined_frame"] = self._joined.copy()
