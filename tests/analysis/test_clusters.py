"""Reduced-Li clusters in the SEI: exact sizes, counted from t = 0."""

import numpy as np
import pytest
from ase import Atoms

from constpot import keys
from constpot.analysis import LiClusters, cluster_labels, cluster_sizes

from .synthetic import HOLLOWS, frames, index_of


def _arrangement():
    """In the SEI slab (z 20..26), Li with their reference charge +0.8 e, and
    an F. After reduction (q = 0.1): A: chain of 3 (3.0 Å apart); B: pair
    across the periodic x boundary; C: an isolated atom. Distractors: a Li⁺
    (stays +0.8) bridging A and C, and a Li below the SEI next to A."""
    pos = [
        (2.0, 2.0, 22.0),
        (5.0, 2.0, 22.0),
        (8.0, 2.0, 22.0),  # A
        (0.4, 9.0, 24.0),
        (11.6, 9.0, 24.0),  # B: 0.8 Å apart through x = 0
        (8.0, 7.5, 25.0),  # C
        (8.0, 4.8, 23.5),  # Li+ bridging A and C
        (5.0, 2.0, 19.0),  # Li below the SEI
        (2.0, 6.0, 22.0),  # F
    ]
    atoms = Atoms("Li8F", positions=pos, cell=[12.0, 12.0, 60.0], pbc=True)
    atoms.arrays[keys.CHARGES] = np.array([0.8] * 8 + [-0.8])
    atoms.arrays[keys.REGION] = np.array(["sei"] * 9)
    atoms.info.update(time_fs=0.0, sei_z_min_A=20.0, sei_z_max_A=26.0)
    return atoms


def _reduced(atoms, which, q=0.1, time_fs=100.0):
    out = atoms.copy()
    out.arrays[keys.CHARGES][list(which)] = q
    out.info["time_fs"] = time_fs
    return out


def test_cluster_sizes_of_hand_made_arrangement():
    """Δq = 0.1 − 0.8 = −0.7 e for A, B, C and the Li below the SEI."""
    start = _arrangement()
    later = _reduced(start, [0, 1, 2, 3, 4, 5, 7])
    cl = LiClusters([start, later], cutoff_A=3.5, min_size=3).run()
    table = cl.results["table"]
    assert table["n_selected"].tolist() == [0, 6]
    assert table["n_clusters"].tolist() == [0, 3]
    assert table["largest_cluster"].tolist() == [0, 3]
    assert table["aggregated"].tolist() == [0, 3]  # only A has >= 3
    assert table["aggregated_change"].tolist() == [0, 3]
    sizes = cl.results["sizes"]
    assert dict(zip(sizes["size"], sizes["count"], strict=True)) == {1: 1, 2: 1, 3: 1}
    events = cl.results["events"]
    assert events["atom"].tolist() == [0, 1, 2]
    assert (events["kind"] == "aggregation").all() and (events["size"] == 3).all()
    assert (events["frame"] == 1).all()
    np.testing.assert_allclose(events["dq_e"], -0.7)


def test_change_is_counted_from_the_first_frame():
    """A cluster that is already reduced at t = 0 (against a constant-charge
    reference) is not new aggregation; growing it is."""
    start = _arrangement()
    q_ref = start.arrays[keys.CHARGES].copy()
    first = _reduced(start, [0, 1, 2], time_fs=0.0)
    later = _reduced(first, [6, 5])  # the bridge and C join A: 5 atoms
    cl = LiClusters([first, later], reference=q_ref).run()
    table = cl.results["table"]
    assert table["aggregated"].tolist() == [3, 5]
    assert table["aggregated_change"].tolist() == [0, 2]
    assert table["largest_cluster_change"].tolist() == [0, 2]
    events = cl.results["events"]
    assert events.groupby("frame")["atom"].apply(list).to_dict() == {
        0: [0, 1, 2],
        1: [5, 6],
    }
    # with its own first frame as the reference, nothing is reduced at t = 0
    own = LiClusters([first, later]).run().results["table"]
    assert own["n_selected"].tolist() == [0, 2]


def test_deposited_li_is_not_an_sei_aggregate():
    """Reduced Li that joined the anode's metal network are deposited, not
    aggregated in the SEI (the SEI slab here reaches down to the anode)."""
    traj = frames(2)
    for atoms in traj:
        atoms.info["sei_z_min_A"] = 19.5
    ids = [index_of(traj[0], "electrolyte", "Li", n) for n in (0, 1)]
    for i, hollow in zip(ids, HOLLOWS[:2], strict=True):
        traj[1].positions[i] = hollow
        traj[1].arrays[keys.CHARGES][i] = 0.0
    table = LiClusters(traj).run().results["table"]
    assert table["n_selected"].tolist() == [0, 0]
    for atoms in traj[1:]:
        atoms.positions[ids, 2] += 2.0  # 3.8 Å above the top layer: off it
    table = LiClusters(traj, min_size=2).run().results["table"]
    assert table["n_selected"].tolist() == [0, 2]


def test_cluster_functions_periodicity():
    pos = np.array([[0.4, 1.0, 5.0], [11.6, 1.0, 5.0]])
    cell = np.diag([12.0, 12.0, 30.0])
    assert cluster_sizes(pos, cell, (True, True, False), 1.0).tolist() == [2]
    assert cluster_sizes(pos, cell, (False, False, False), 1.0).tolist() == [1, 1]
    assert cluster_sizes(np.zeros((0, 3)), cell).tolist() == []
    labels = cluster_labels(pos, cell, (False, False, False), 1.0)
    assert sorted(labels.tolist()) == [0, 1]
    with pytest.raises(ValueError, match="cutoff_A"):
        cluster_sizes(pos, cell, cutoff_A=0)


def test_no_sei_gives_empty_selection():
    atoms = _arrangement()
    del atoms.info["sei_z_min_A"], atoms.info["sei_z_max_A"]
    cl = LiClusters([atoms, _reduced(atoms, [0, 1, 2])]).run()
    assert not cl.results["has_sei"]
    assert cl.results["table"]["largest_cluster"].tolist() == [0, 0]
    assert cl.results["events"].empty


def test_bad_settings_name_the_argument():
    atoms = _arrangement()
    with pytest.raises(ValueError, match="min_size"):
        LiClusters([atoms], min_size=1)
    with pytest.raises(ValueError, match="reduction_dq_e"):
        LiClusters([atoms], reduction_dq_e=-0.3)
    with pytest.raises(ValueError, match="network"):
        LiClusters([atoms], network=np.zeros((2, 2)))
