"""Reduced-Li clusters: exact sizes of a hand-made arrangement."""

import numpy as np
import pytest
from ase import Atoms

from constpot import keys
from constpot.analysis import LiClusters, cluster_sizes


def _arrangement():
    """In the SEI slab (z 20..26), reduced Li (q = 0.1):
    A: chain of 3 (3.0 Å apart); B: pair across the periodic x boundary;
    C: an isolated atom. Distractors: a Li⁺ (q = 0.8) bridging A and C, and a
    reduced Li below the SEI next to A; an F inside."""
    pos = [
        (2.0, 2.0, 22.0),
        (5.0, 2.0, 22.0),
        (8.0, 2.0, 22.0),  # A
        (0.4, 9.0, 24.0),
        (11.6, 9.0, 24.0),  # B: 0.8 Å apart through x = 0
        (8.0, 7.5, 25.0),  # C
        (8.0, 4.8, 23.5),  # Li+ bridging A and C
        (5.0, 2.0, 19.0),  # reduced Li below the SEI
        (2.0, 6.0, 22.0),  # F
    ]
    q = [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.8, 0.1, -0.8]
    atoms = Atoms("Li8F", positions=pos, cell=[12.0, 12.0, 60.0], pbc=True)
    atoms.arrays[keys.CHARGES] = np.array(q)
    atoms.info.update(time_fs=0.0, sei_z_min_A=20.0, sei_z_max_A=26.0)
    return atoms


def test_cluster_sizes_of_hand_made_arrangement():
    atoms = _arrangement()
    cl = LiClusters([atoms], reduced_charge_e=0.3, cutoff_A=3.5).run()
    row = cl.results["table"].iloc[0]
    assert row["n_selected"] == 6
    assert row["n_clusters"] == 3
    assert row["largest_cluster"] == 3
    sizes = cl.results["sizes"]
    assert dict(zip(sizes["size"], sizes["count"], strict=True)) == {1: 1, 2: 1, 3: 1}


def test_bridging_ion_joins_clusters_when_reduced():
    atoms = _arrangement()
    atoms.arrays[keys.CHARGES][6] = 0.0
    table = LiClusters([atoms]).run().results["table"]
    assert table["largest_cluster"].iloc[0] == 5  # A + bridge + C


def test_cluster_sizes_function_periodicity():
    pos = np.array([[0.4, 1.0, 5.0], [11.6, 1.0, 5.0]])
    cell = np.diag([12.0, 12.0, 30.0])
    assert cluster_sizes(pos, cell, (True, True, False), 1.0).tolist() == [2]
    assert cluster_sizes(pos, cell, (False, False, False), 1.0).tolist() == [1, 1]
    assert cluster_sizes(np.zeros((0, 3)), cell).tolist() == []
    with pytest.raises(ValueError, match="cutoff_A"):
        cluster_sizes(pos, cell, cutoff_A=0)


def test_no_sei_gives_empty_selection():
    atoms = _arrangement()
    del atoms.info["sei_z_min_A"], atoms.info["sei_z_max_A"]
    cl = LiClusters([atoms]).run()
    assert not cl.results["has_sei"]
    assert cl.results["table"]["largest_cluster"].tolist() == [0]
