"""Deposition counting on synthetic trajectories with known answers."""

import numpy as np
import pytest
from ase.io import write

from constpot import keys
from constpot.analysis import Deposition, read_trajectory

from .synthetic import deposition_run, frames, index_of, write_run


def test_li_joining_the_anode_is_counted_once():
    """Electrolyte Li joins at frame 2, leaves at 4, rejoins at 5: counted once."""
    dep = Deposition(deposition_run()).run()
    table = dep.results["table"]
    assert table["deposited"].tolist() == [0, 0, 1, 1, 1, 1]
    assert table["deposited_now"].tolist() == [0, 0, 1, 1, 0, 1]
    joined = dep.results["joined_frame"]
    assert np.count_nonzero(joined >= 0) == 1
    i = index_of(deposition_run(1)[0], "electrolyte", "Li")
    assert joined[i] == 2


def test_anode_li_gaining_neighbours_is_not_deposition():
    """An anode-region Li outside the electrode at t = 0 (a surface atom with
    fewer than 8 Li neighbours) that becomes a member later is not Li⁺ arriving."""
    traj = deposition_run()
    i = index_of(traj[0], "anode", "Li")
    traj[0].arrays[keys.ELECTRODE][i] = keys.NOT_ELECTRODE
    table = Deposition(traj).run().results["table"]
    assert table["deposited"].tolist() == [0, 0, 1, 1, 1, 1]  # the electrolyte Li only


def test_reduced_li_by_region_and_electrode_totals():
    traj = deposition_run()
    # the anode carries -0.1 e per atom from frame 3 on
    for atoms in traj[3:]:
        anode = atoms.arrays[keys.ELECTRODE] == keys.ANODE
        atoms.arrays[keys.CHARGES][anode] = -0.1
    table = Deposition(traj, reduced_charge_e=0.3).run().results["table"]
    assert table["reduced_electrolyte"].tolist() == [0, 0, 1, 1, 1, 1]
    assert table["reduced_sei"].tolist() == [0] * 6  # SEI Li at +0.8 e
    n_anode = table["n_anode"].to_numpy()
    assert n_anode.tolist() == [27, 27, 28, 28, 27, 28]
    # exact sums of the charges set above (round-off only)
    np.testing.assert_allclose(
        table["anode_charge_e"], [0, 0, 0.05, -2.8, -2.7, -2.8], atol=1e-12
    )
    np.testing.assert_allclose(table["time_ps"], np.arange(6) * 0.1)
    assert (table["anode_potential_V"] == -1.0).all()


def test_reads_extxyz_with_charges_from_the_calculator(tmp_path):
    """ASE moves 'charges' into a SinglePointCalculator; the reader finds it."""
    path = write_run(tmp_path / "constp_-1.0V_r0", deposition_run())
    table = Deposition(path).run().results["table"]
    assert table["deposited"].iloc[-1] == 1
    assert read_trajectory(path, (keys.CHARGES,))[0].arrays[keys.CHARGES].shape == (
        len(deposition_run(1)[0]),
    )


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
