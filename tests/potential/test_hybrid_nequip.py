"""HybridCalculator with a real (packaged) NequIP model (issue 5 acceptance).

A small NequIP model is trained for two epochs on synthetic Li/F/O/H frames
(its accuracy is irrelevant here), packaged with its ``qeq.json`` and loaded
through :meth:`HybridCalculator.from_models`. On a Li | LiF, OH⁻ | Li slab cell
with a fixed electrode set:

- energy = NequIP energy + E_QEq, and free energy = NequIP + Ω;
- forces = −∂Ω/∂R by central finite differences (constant potential), and
  = −∂E/∂R at constant charge.
"""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bcc100

from constpot.keys import ANODE, COUNTER, ELECTRODE
from constpot.potential import HybridCalculator, QEqSettings
from constpot.potential.targets import qeq_targets, write_targets
from constpot.qeq import electrode_potentials

from .synthetic import labelled_frames

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:slab geometry")]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from constpot.potential import (
        package_model,
        stratified_split,
        train_model,
        write_split,
    )

    tmp = tmp_path_factory.mktemp("nequip")
    settings = QEqSettings(accuracy=1e-8)
    targets = qeq_targets(labelled_frames(n_per_category=3), settings)
    tpath, qpath = write_targets(targets, tmp / "targets.extxyz", settings)
    cats = [f.info["category"] for f in targets]
    split = stratified_split(cats, {"train": 0.34, "val": 0.33, "test": 0.33}, 0)
    write_split(tmp / "split.json", split, cats, seed=0)
    train = {"max_epochs": 2, "num_features": 4, "radial_mlp_width": 8}
    result = train_model(tpath, tmp / "split.json", train, 0, tmp / "run", print)
    return package_model(result["checkpoint"], tmp / "run" / "model.nequip.zip", qpath)


def _cell() -> Atoms:
    low = bcc100("Li", size=(2, 2, 3), a=3.51, orthogonal=True)
    side = low.cell[0, 0]
    high = low.copy()
    low.positions[:, 2] += 12.0
    high.positions[:, 2] += 26.0
    ions = Atoms(
        "LiFOH",
        positions=[
            [0.3 * side, 0.3 * side, 19.0],
            [0.8 * side, 0.7 * side, 20.2],
            [0.2 * side, 0.8 * side, 22.0],
            [0.2 * side, 0.8 * side, 22.97],
        ],
    )
    atoms = low + ions + high
    atoms.set_cell([side, side, 45.0])
    atoms.pbc = True
    labels = np.zeros(len(atoms), int)
    labels[: len(low)] = ANODE
    labels[-len(high) :] = COUNTER
    atoms.arrays[ELECTRODE] = labels
    atoms.rattle(0.03, seed=2)
    return atoms


def _calc(model, **kw):
    return HybridCalculator.from_models(
        [model], qeq=QEqSettings(accuracy=1e-8), method="dense", **kw
    )


def test_energy_is_nequip_plus_qeq(model):
    from constpot.potential.nequip_io import load_calculator

    atoms = _cell()
    calc = _calc(model, anode_potential_V=-2.0, counter_potential_V=1.0)
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    nequip = load_calculator(model)
    e_nequip = nequip.get_potential_energy(atoms)
    solver = QEqSettings(accuracy=1e-8).solver(slab=True, method="dense")
    psi = electrode_potentials(atoms.arrays[ELECTRODE], -2.0, 1.0)
    res = solver.solve(atoms, potential=psi)
    assert energy == pytest.approx(e_nequip + res.energy, abs=1e-8)
    assert calc.results["free_energy"] == pytest.approx(
        e_nequip + res.grand_energy, abs=1e-8
    )
    np.testing.assert_allclose(
        atoms.get_forces(), nequip.get_forces(atoms) + res.forces, atol=1e-8
    )


@pytest.mark.parametrize(("anode_V", "key"), [(None, "energy"), (-2.0, "free_energy")])
def test_forces_are_minus_gradient(model, anode_V, key):
    """Central differences, h = 1e-4 Å: O(h²) error ~1e-7 eV/Å (float64 model)."""
    atoms = _cell()
    atoms.calc = _calc(model, anode_potential_V=anode_V, counter_potential_V=1.0)
    forces = atoms.get_forces()
    h = 1e-4
    for index in (1, 13, 24, 26):
        for axis in range(3):
            values = []
            for sign in (1, -1):
                probe = atoms.copy()
                probe.positions[index, axis] += sign * h
                probe.calc = _calc(
                    model, anode_potential_V=anode_V, counter_potential_V=1.0
                )
                probe.get_potential_energy()
                values.append(probe.calc.results[key])
            fd = -(values[0] - values[1]) / (2 * h)
            assert forces[index, axis] == pytest.approx(fd, abs=1e-5), (index, axis)


def test_one_batched_model_call_gives_each_frames_energy_and_forces(model):
    """Three frames of two sizes in one NequIP call (batched sweeps): each
    frame's energy and forces are those of its own call to 1e-10 (eV, eV/Å),
    and two members give the ensemble mean and deviation of single calls."""
    from constpot.potential.batch import short_range_batch
    from constpot.potential.nequip_io import load_calculator

    member = load_calculator(model)
    small = _cell()[:-4]
    frames = [_cell(), small, _cell()]
    frames[2].rattle(0.05, seed=7)
    batched = short_range_batch([member], frames, one_call=True)
    for frame, (energy, forces, deviation) in zip(frames, batched, strict=True):
        assert energy == pytest.approx(member.get_potential_energy(frame), abs=1e-10)
        np.testing.assert_allclose(forces, member.get_forces(frame), rtol=0, atol=1e-10)
        assert deviation is None
    pair = short_range_batch([member, load_calculator(model)], frames, one_call=True)
    for (energy, forces, deviation), one in zip(pair, batched, strict=True):
        assert energy == pytest.approx(one[0], abs=1e-10)
        np.testing.assert_allclose(forces, one[1], rtol=0, atol=1e-10)
        assert deviation == pytest.approx(0.0, abs=1e-10)
