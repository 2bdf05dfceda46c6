"""The MD run summary: electrode membership counted by region, flags, drift.

A hand-made six-atom case with known labels: anode Li, an SEI Li that joins
the anode, an electrolyte Li that joins it, an anode Li that leaves, an SEI Li
that leaves, and an F that the labels never touch.
"""

import numpy as np
import pytest
from ase import Atoms

from constpot.keys import ANODE, NOT_ELECTRODE, REGION
from constpot.md import MDSettings
from constpot.md.output import THERMO_COLUMNS
from constpot.md.summary import describe, summarise

SYMBOLS = ["Li", "Li", "Li", "Li", "Li", "F"]
REGIONS = ["anode", "sei", "electrolyte", "anode", "sei", "sei"]
#: step 0 and the end: atom 1 (SEI) and 2 (electrolyte) join, 3 (anode) and
#: 4 (SEI) leave; 0 stays; the F is never a member.
START = np.array([ANODE, NOT_ELECTRODE, NOT_ELECTRODE, ANODE, ANODE, 0])
END = np.array([ANODE, ANODE, ANODE, NOT_ELECTRODE, NOT_ELECTRODE, 0])


def _thermo(n_rows=3, deviation=np.nan):
    rows = {c: np.zeros(n_rows) for c in THERMO_COLUMNS}
    rows["step"] = np.arange(n_rows) * 10.0
    rows["cg_iterations"] = np.array([0, 6, 8][:n_rows], dtype=float)
    rows["conserved_eV"] = np.array([-12.0, -11.7, -11.4][:n_rows])
    rows["force_deviation_eV_A"] = np.full(n_rows, deviation)
    return rows


def _summary(thermo, **settings):
    atoms = Atoms(SYMBOLS, positions=np.zeros((6, 3)))
    atoms.set_array(REGION, np.array(REGIONS))
    kw = dict(mode="constp", anode_potential_V=-6.0, n_steps=20, **settings)
    return summarise(
        MDSettings(**kw), atoms, thermo, START, END, stopped=None, steps=20,
        wall_time_s=1.0, timings={}, n_evaluations=20, calculator={},
        metadata={},
    )  # fmt: skip


def test_membership_changes_are_counted_by_region():
    s = _summary(_thermo())
    assert s["anode_members_start"] == 3 and s["anode_members_end"] == 3
    # ionic Li (SEI or electrolyte) only: atoms 1 and 2 in, atom 4 out;
    # atom 3 left but was anode metal, not ionic
    assert s["anode_members_gained_ionic_li"] == 2
    assert s["anode_members_lost_ionic_li"] == 1
    assert "ionic Li +2 -1" in describe(s)
    assert "li_joined_anode" not in s  # deposition is the analysis' to define


def test_cg_mean_over_solving_steps_and_drift_per_atom():
    s = _summary(_thermo())
    assert s["cg_iterations_mean"] == pytest.approx(7.0)  # step 0: no solve row
    assert s["cg_iterations_max"] == 8
    assert s["conserved_drift_eV_per_atom"] == pytest.approx(0.6 / 6)


@pytest.mark.parametrize(
    ("deviation", "flagged"), [(np.nan, None), (0.1, False), (0.3, True)]
)
def test_model_deviation_flag(deviation, flagged):
    s = _summary(_thermo(deviation=deviation), deviation_flag_eV_A=0.2)
    assert s["model_deviation"]["flagged"] is flagged
