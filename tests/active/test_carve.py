"""Carving: per-atom deviation, the window's centre, size and whole molecules."""

from typing import ClassVar

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from constpot.active import (
    ActiveSettings,
    carve_window,
    ensemble_forces,
    per_atom_force_deviation,
    select_iteration,
)
from constpot.active.keys import CARVE_ATOM
from constpot.errors import SetupError
from constpot.keys import MOL_ID, TOTAL_CHARGE

from .conftest import write_run


class _Member(Calculator):
    """A toy ensemble member: zero forces except ``kick`` (eV/Å) on one atom."""

    implemented_properties: ClassVar[list[str]] = ["energy", "forces"]

    def __init__(self, atom: int, kick):
        super().__init__()
        self.atom, self.kick = atom, np.asarray(kick, float)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        forces = np.zeros((len(self.atoms), 3))
        forces[self.atom] = self.kick
        self.results = {"energy": 0.0, "forces": forces}


def test_per_atom_deviation_closed_form():
    """Two members at ±d on one atom: σ_i = |d| there, 0 elsewhere."""
    d = np.array([0.3, -0.4, 0.0])  # |d| = 0.5 eV/Å
    forces = np.zeros((2, 4, 3))
    forces[0, 2], forces[1, 2] = d, -d
    forces[:, 1] = [1.0, 2.0, 3.0]  # members agree: no spread
    np.testing.assert_allclose(
        per_atom_force_deviation(forces), [0, 0, 0.5, 0], atol=1e-15
    )


def test_ensemble_forces_leave_atoms_alone():
    atoms = Atoms("H2", positions=[[0, 0, 0], [0, 0, 1]], cell=[5, 5, 5], pbc=True)
    f = ensemble_forces(atoms, [_Member(1, [1, 0, 0]), _Member(1, [-1, 0, 0])])
    assert f.shape == (2, 2, 3) and f[0, 1, 0] == 1.0 and f[1, 1, 0] == -1.0
    assert atoms.calc is None


def test_window_keeps_molecules_whole_and_is_centred():
    z = np.arange(20, dtype=float)
    atoms = Atoms(
        "H20", positions=np.c_[np.zeros(20), np.zeros(20), z], cell=[5, 5, 30]
    )
    mol = np.full(20, -1)
    mol[[9, 10, 11]] = 0  # a molecule straddling the centre's neighbours
    mol[[3, 14]] = 1  # a stretched one: its far atom is 6 Å from the centre
    atoms.arrays[MOL_ID] = mol
    keep = carve_window(atoms, centre=8, max_atoms=7)
    assert len(keep) <= 7
    for m in (0, 1):
        members = np.flatnonzero(mol == m)
        assert np.isin(members, keep).all() or not np.isin(members, keep).any()
    assert 8 in keep
    assert np.abs(z[keep] - 8).max() <= 3  # symmetric: reach 3 Å holds 7 units max
    assert carve_window(atoms, centre=8, max_atoms=20).tolist() == list(range(20))
    with pytest.raises(ValueError, match="does not fit"):
        carve_window(atoms, centre=10, max_atoms=2)


def test_carved_frames_centre_on_the_worst_atom(tmp_path, toy):
    path = write_run(tmp_path, "toy", "constq_T300K", [0.2, 0.1])
    models = [_Member(5, [0.2, 0, 0]), _Member(5, [-0.2, 0, 0])]
    settings = ActiveSettings(max_candidates=1, max_atoms=6)
    sel = select_iteration(
        [path], settings, seed=0, iteration=0, structures={"toy": toy}, models=models
    )
    (frame,) = sel.frames
    assert frame.info[CARVE_ATOM] == 5 and len(frame) <= 6
    assert frame.info[TOTAL_CHARGE] == round(frame.get_initial_charges().sum())
    mol = frame.arrays[MOL_ID]
    assert (mol == 1).sum() in (0, 2)  # the two-atom molecule is whole or absent


def test_carving_needs_models(tmp_path, toy):
    path = write_run(tmp_path, "toy", "constq_T300K", [0.2])
    with pytest.raises(SetupError, match=r"active\.max_atoms is 6: .*--models"):
        select_iteration(
            [path], ActiveSettings(max_atoms=6), seed=0, iteration=0,
            structures={"toy": toy},
        )  # fmt: skip
