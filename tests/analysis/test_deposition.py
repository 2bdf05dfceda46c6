"""Deposition (structural arrival) and reduction (Δq) on synthetic runs."""

import numpy as np
import pytest
from ase.io import write

from constpot import keys
from constpot.analysis import Deposition, read_trajectory, reference_charges

from .synthetic import HOLLOWS, deposition_run, frames, index_of, write_run


def test_adatom_arrival_is_counted_once_at_its_time():
    """An electrolyte Li⁺ reaches a hollow of the anode at frame 3 (300 fs)
    and stays bonded into the metal network: deposited from frame 3."""
    traj = deposition_run(7, arrive=3)
    dep = Deposition(traj).run()
    table = dep.results["table"]
    assert table["deposited"].tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert table["in_anode"].tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert table["deposited_counter"].sum() == 0
    assert table["anode_network"].tolist() == [27, 27, 27, 28, 28, 28, 28]
    events = dep.results["events"]
    i = index_of(traj[0], "electrolyte", "Li")
    assert events[["kind", "electrode", "atom", "region"]].values.tolist() == [
        ["deposition", "anode", i, "electrolyte"]
    ]
    row = events.iloc[0]
    assert row["frame"] == 3 and row["time_ps"] == pytest.approx(0.3)
    np.testing.assert_allclose(row[["x_A", "y_A", "z_A"]].to_numpy(float), HOLLOWS[0])
    assert row["dq_e"] == pytest.approx(0.05 - 0.9)
    assert row["n_anions"] == 0
    assert dep.results["arrival_frame"]["anode"][i] == 3


def test_short_contact_is_not_deposition_and_return_is_counted_once():
    """In the hollow for one frame (0 fs < 100 fs residence): not deposited;
    leaving after a confirmed stay and returning: counted once, at the first
    arrival."""
    traj = deposition_run(8, arrive=2)
    i = index_of(traj[0], "electrolyte", "Li")
    away = traj[1].positions[i].copy()
    for k in (3, 4, 6):
        traj[k].positions[i] = away
    # in the network at frames 2, 5, 7: no stay reaches 100 fs
    assert Deposition(traj).run().results["table"]["deposited"].max() == 0
    assert Deposition(traj, residence_fs=0.0).run().results["table"][
        "deposited"
    ].tolist() == [0, 0, 1, 1, 1, 1, 1, 1]
    traj[3].positions[i] = HOLLOWS[0]  # frames 2-3: a confirmed stay
    dep = Deposition(traj).run()
    assert dep.results["table"]["deposited"].tolist() == [0, 0, 1, 1, 1, 1, 1, 1]
    assert dep.results["table"]["in_anode"].tolist() == [0, 0, 1, 1, 0, 1, 0, 1]
    assert len(dep.results["events"]) == 1


def test_wiggling_surface_atom_is_not_deposition():
    """A top-layer anode atom moving up and down, even off the surface and
    back, is the metal moving, not Li⁺ arriving."""
    traj = frames(6)
    i = index_of(traj[0], "anode", "Li", 20)  # a top-layer atom (z = 19)
    assert traj[0].positions[i, 2] == 19.0
    for k, dz in enumerate([0.0, 0.15, -0.3, 4.0, 0.1, 0.0]):
        traj[k].positions[i, 2] = 19.0 + dz
    table = Deposition(traj).run().results["table"]
    assert table["deposited"].tolist() == [0] * 6
    assert table["in_anode"].tolist() == [0] * 6
    # it leaves the network in frame 3 (4 Å up) and rejoins
    assert table["anode_network"].tolist() == [27, 27, 27, 26, 27, 27]


def test_sei_li_bonded_to_anions_is_not_deposition():
    """An SEI Li pressed against the anode with two F still bonded (< 2.6 Å)
    stays an ion: never deposited. Once it leaves its anions behind in the
    same place, it joins the metal."""
    traj = frames(5)
    atoms = traj[0]
    li = index_of(atoms, "sei", "Li")  # (1.25, 1.25, 24.0)
    f1, f2 = (index_of(atoms, "sei", "F", n) for n in (0, 1))
    for atoms in traj[1:]:
        atoms.positions[li] = HOLLOWS[0]
        atoms.positions[f1] = np.add(HOLLOWS[0], (0.0, 1.9, 1.0))
        atoms.positions[f2] = np.add(HOLLOWS[0], (1.9, 0.0, 1.0))
    dep = Deposition(traj).run()
    assert dep.results["table"]["deposited"].tolist() == [0] * 5
    for atoms in traj[3:]:
        atoms.positions[[f1, f2], 2] += 3.0
    dep = Deposition(traj).run()
    assert dep.results["table"]["deposited"].tolist() == [0, 0, 0, 1, 1]
    assert dep.results["events"]["region"].tolist() == ["sei"]


def test_deposition_on_the_counter_electrode():
    traj = frames(4)
    i = index_of(traj[0], "electrolyte", "Li", 1)  # (7, 2, 33)
    for atoms in traj[1:]:
        atoms.positions[i] = (5.0, 5.0, 38.2)  # a hollow under the counter
    table = Deposition(traj).run().results["table"]
    assert table["deposited_counter"].tolist() == [0, 1, 1, 1]
    assert table["deposited"].tolist() == [0, 0, 0, 0]


def test_reduction_is_a_drop_from_the_reference_charge():
    """Reduced: Δq ≤ −0.3 e from the reference, whatever the absolute charge."""
    traj = frames(3)
    a = index_of(traj[0], "electrolyte", "Li")
    b = index_of(traj[0], "electrolyte", "Li", 1)
    s = index_of(traj[0], "sei", "Li")
    for atoms in traj:  # a QEq variant with Li⁺ at +0.25 e from the start
        atoms.arrays[keys.CHARGES][b] = 0.25
    traj[1].arrays[keys.CHARGES][a] = 0.9 - 0.2  # Δq = −0.2: not reduced
    traj[2].arrays[keys.CHARGES][a] = 0.9 - 0.35  # Δq = −0.35: reduced
    traj[2].arrays[keys.CHARGES][s] = 0.8 - 0.5
    table = Deposition(traj).run().results["table"]
    # b at +0.25 e is below an absolute 0.3 e threshold but not reduced
    assert table["reduced_electrolyte"].tolist() == [0, 0, 1]
    assert table["reduced_sei"].tolist() == [0, 0, 1]
    assert table["reduced_total"].tolist() == [0, 0, 2]
    # against a constant-charge reference where a carried +1.05 e, the drop at
    # frame 1 is −0.35 e: reduced there too
    q_ref = reference_charges(traj)
    q_ref[a] = 1.05
    table = Deposition(traj, reference=q_ref).run().results["table"]
    assert table["reduced_electrolyte"].tolist() == [0, 1, 1]
    # mean Δq of the electrolyte's 2 Li at frame 2: (−0.35 + 0) / 2, vs q_ref
    np.testing.assert_allclose(
        Deposition(traj).run().results["table"]["dq_electrolyte_mean_e"],
        [0.0, -0.1, -0.175],
        atol=1e-12,
    )


def test_reference_from_a_constant_charge_trajectory(tmp_path):
    """The first frame of the matching ConstQ run is the reference."""
    constq = frames(2, mode="constq")
    a = index_of(constq[0], "electrolyte", "Li")
    constq[0].arrays[keys.CHARGES][a] = 1.25
    path = write_run(tmp_path / "constq_none_r0", constq)
    run = frames(2)
    table = Deposition(run, reference=path).run().results["table"]
    assert table["reduced_electrolyte"].tolist() == [1, 1]  # 0.9 − 1.25
    short = frames(1)[0][:-1]
    with pytest.raises(ValueError, match="reference"):
        Deposition(run, reference=short)
    with pytest.raises(ValueError, match="reference"):
        Deposition(run, reference=np.zeros(3))


def test_electrode_charges_from_the_md_labels():
    traj = deposition_run(4, arrive=2)
    for atoms in traj[2:]:
        anode = atoms.arrays[keys.ELECTRODE] == keys.ANODE
        atoms.arrays[keys.CHARGES][anode] = -0.1
    table = Deposition(traj).run().results["table"]
    assert table["n_anode"].tolist() == [27] * 4  # labels as written by the MD
    np.testing.assert_allclose(table["anode_charge_e"], [0, 0, -2.7, -2.7])
    np.testing.assert_allclose(table["time_ps"], np.arange(4) * 0.1)
    assert (table["anode_potential_V"] == -1.0).all()
    assert table["area_A2"].iloc[0] == pytest.approx(100.0)


def test_reads_extxyz_with_charges_from_the_calculator(tmp_path):
    """ASE moves 'charges' into a SinglePointCalculator; the reader finds it."""
    path = write_run(tmp_path / "constp_-1.0V_r0", deposition_run())
    table = Deposition(path).run().results["table"]
    assert table["deposited"].iloc[-1] == 1
    assert table["reduced_electrolyte"].iloc[-1] == 1
    assert read_trajectory(path, (keys.CHARGES,))[0].arrays[keys.CHARGES].shape == (
        len(deposition_run(1)[0]),
    )


def test_bad_settings_name_the_argument():
    with pytest.raises(ValueError, match="reduction_dq_e"):
        Deposition(frames(2), reduction_dq_e=0.0)
    with pytest.raises(ValueError, match="residence_fs"):
        Deposition(frames(2), residence_fs=-1.0)


def test_missing_array_names_file_and_key(tmp_path):
    traj = frames(2)
    for atoms in traj:
        del atoms.arrays[keys.ELECTRODE]
    path = write_run(tmp_path / "run", traj)
    with pytest.raises(ValueError, match=r"traj\.extxyz.*'electrode'"):
        Deposition(path)


def test_missing_time_and_empty_file(tmp_path):
    traj = frames(2)
    del traj[1].info["time_fs"]
    path = tmp_path / "t.extxyz"
    write(path, traj)
    with pytest.raises(ValueError, match=r"t\.extxyz: frame 1 .*'time_fs'"):
        Deposition(str(path))
    empty = tmp_path / "empty.extxyz"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"empty\.extxyz: empty trajectory"):
        Deposition(str(empty))
    with pytest.raises(ValueError, match="not found"):
        Deposition(str(tmp_path / "missing.extxyz"))
    with pytest.raises(ValueError, match="empty trajectory"):
        Deposition([])


def test_changing_atom_count_is_an_error():
    traj = frames(2)
    traj[1] = traj[1][:-1]
    with pytest.raises(ValueError, match="frame 1 has"):
        Deposition(traj)
