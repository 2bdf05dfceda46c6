"""Electrode networks from structure: which Li belong to the metal."""

import numpy as np
import pytest

from constpot import keys
from constpot.analysis import NetworkRule

from .synthetic import HOLLOWS, index_of, interface


def test_electrodes_of_the_built_interface():
    """Anode and counter Li form their networks; SEI Li (5 anions each) and
    the lone electrolyte Li⁺ do not belong."""
    atoms = interface()
    labels, n_anions = NetworkRule().labels(atoms)
    region = atoms.arrays[keys.REGION]
    assert (labels[region == "anode"] == keys.ANODE).all()
    assert (labels[region == "counter"] == keys.COUNTER).all()
    assert (labels[region == "sei"] == keys.NOT_ELECTRODE).all()
    assert (labels[region == "electrolyte"] == keys.NOT_ELECTRODE).all()
    sei_li = (region == "sei") & (atoms.symbols == "Li")
    # 4 anions in the layer at 2.5 Å and 1 across the layers at 2.5 Å
    assert (n_anions[sei_li] == 5).all()
    assert (n_anions[~(atoms.symbols == "Li")] == 0).all()


def test_adatom_in_a_hollow_joins_unless_bonded_to_anions():
    atoms = interface()
    i = index_of(atoms, "electrolyte", "Li")
    atoms.positions[i] = HOLLOWS[4]
    labels, _ = NetworkRule().labels(atoms)
    assert labels[i] == keys.ANODE
    # two F at 2.0 Å make it an ion: it stays out
    j, k = (index_of(atoms, "electrolyte", "F", n) for n in (0, 1))
    atoms.positions[j] = np.add(HOLLOWS[4], (0.0, 0.0, 2.0))
    atoms.positions[k] = np.add(HOLLOWS[4], (2.0, 0.0, 0.0))
    labels, n_anions = NetworkRule().labels(atoms)
    assert n_anions[i] == 2 and labels[i] == keys.NOT_ELECTRODE
    # one anion neighbour is allowed (max_anions = 1), none with max_anions = 0
    atoms.positions[k] = (5.0, 5.0, 35.0)
    assert NetworkRule().labels(atoms)[0][i] == keys.ANODE
    assert NetworkRule(max_anions=0).labels(atoms)[0][i] == keys.NOT_ELECTRODE


def test_far_atom_and_periodic_contact():
    """Beyond the Li–Li cutoff: out; a hollow across the periodic boundary
    (x = 10 ≡ 0): in."""
    atoms = interface()
    i = index_of(atoms, "electrolyte", "Li")
    atoms.positions[i] = (0.0, 0.0, 20.8)  # == HOLLOWS[8] through x, y = 10
    assert NetworkRule().labels(atoms)[0][i] == keys.ANODE
    atoms.positions[i] = (0.0, 0.0, 20.8 + 1.0)  # 3.6 Å from four top atoms
    assert NetworkRule().labels(atoms)[0][i] == keys.NOT_ELECTRODE


def test_bridge_between_electrodes_belongs_to_the_anode():
    atoms = interface()
    li = np.flatnonzero(atoms.symbols == "Li")
    # a column of Li 2.5 Å apart from the anode top to the counter bottom
    column = [(1.67, 1.67, z) for z in np.arange(21.5, 40.0, 2.5)]
    free = [a for a in li if atoms.arrays[keys.REGION][a] == "sei"][: len(column)]
    for a, p in zip(free, column, strict=True):
        atoms.positions[a] = p
    sei = np.flatnonzero(atoms.arrays[keys.REGION] == "sei")
    anions = sei[np.isin(atoms.symbols[sei], ["F", "O"])]
    atoms.positions[anions, 2] += 100.0  # anions out of the way (non-periodic z)
    atoms.pbc = (True, True, False)
    labels, _ = NetworkRule().labels(atoms)
    assert (labels[atoms.arrays[keys.REGION] == "counter"] == keys.ANODE).all()


def test_bad_rules_name_the_argument():
    with pytest.raises(ValueError, match="li_cutoff_A"):
        NetworkRule(li_cutoff_A=0.0)
    with pytest.raises(ValueError, match="anion_cutoff_A"):
        NetworkRule(anion_cutoff_A=-1.0)
    with pytest.raises(ValueError, match="max_anions"):
        NetworkRule(max_anions=-1)
    atoms = interface()
    del atoms.arrays[keys.REGION]
    with pytest.raises(ValueError, match="'region'"):
        NetworkRule().labels(atoms)
