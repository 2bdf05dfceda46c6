"""HybridCalculator: forces are the gradient of the grand energy, energy bookkeeping,
electrode handling and ensembles (with analytic short-range stand-ins for NequIP)."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bcc100
from ase.calculators.lj import LennardJones

from constpot.keys import ANODE, COUNTER, ELECTRODE, FROZEN, NOT_ELECTRODE
from constpot.potential import HybridCalculator, QEqSettings
from constpot.qeq import ChargeSolver, QEqParameters

# the test cell is a closed Li | ions | Li capacitor: YB in the cell as given
pytestmark = pytest.mark.filterwarnings("ignore:slab geometry")


def _cell(seed=0) -> Atoms:
    """Two small Li(100) slabs (anode low, counter high) with LiF ions between."""
    rng = np.random.default_rng(seed)
    low = bcc100("Li", size=(2, 2, 3), a=3.44)
    lx, ly = low.cell[0, 0], low.cell[1, 1]
    lz = 40.0
    atoms = Atoms(cell=[lx, ly, lz], pbc=True)
    low.positions[:, 2] += 2.0
    high = low.copy()
    high.positions[:, 2] = lz - high.positions[:, 2]
    atoms += low
    atoms += high
    ions = Atoms(
        "LiFLiF",
        positions=[
            [1.0, 1.2, 16.0],
            [3.1, 4.0, 17.5],
            [5.0, 1.8, 20.5],
            [2.2, 5.2, 23.0],
        ],
    )
    atoms += ions
    atoms.rattle(0.05, seed=seed)
    atoms.positions[:, 2] += rng.normal(0, 0.01, len(atoms))
    labels = np.zeros(len(atoms), int)
    labels[: len(low)] = ANODE
    labels[len(low) : 2 * len(low)] = COUNTER
    atoms.arrays[ELECTRODE] = labels
    return atoms


def _lj():
    return LennardJones(sigma=2.0, epsilon=0.01, rc=6.0, smooth=True)


def _calc(**kw):
    kw.setdefault("method", "dense")
    kw.setdefault("qeq", QEqSettings(accuracy=1e-8))
    return HybridCalculator(_lj(), **kw)


def _central_difference(atoms, key, index, axis, h=1e-4):
    values = []
    for sign in (1, -1):
        probe = atoms.copy()
        probe.positions[index, axis] += sign * h
        probe.calc = _calc(
            anode_potential_V=atoms.calc.anode_potential_V,
            counter_potential_V=atoms.calc.counter_potential_V,
            electrode_labels=atoms.calc.electrode_labels,
        )
        probe.get_forces()
        values.append(probe.calc.results[key])
    return -(values[0] - values[1]) / (2 * h)


@pytest.mark.parametrize(("anode_V", "key"), [(None, "energy"), (-3.0, "free_energy")])
def test_forces_are_minus_gradient(anode_V, key):
    """F = −∂Ω/∂R with a fixed electrode set; in ConstQ Ω = E, so F = −∂E/∂R.
    Tolerance: central difference error O(h²) ~ 1e-7 eV/Å plus Ewald accuracy."""
    atoms = _cell()
    atoms.calc = _calc(anode_potential_V=anode_V, counter_potential_V=1.0)
    forces = atoms.get_forces()
    for index in (0, 13, 24, 26):
        for axis in range(3):
            fd = _central_difference(atoms, key, index, axis)
            assert forces[index, axis] == pytest.approx(fd, abs=2e-5)


def test_energy_is_gradient_only_at_constant_charge():
    """Under a potential, −∂E/∂R ≠ F (E = Ω + Σψq): the conserved energy is Ω."""
    atoms = _cell()
    atoms.calc = _calc(anode_potential_V=-3.0, counter_potential_V=1.0)
    forces = atoms.get_forces()
    fd_e = np.array([_central_difference(atoms, "energy", 24, a) for a in range(3)])
    assert np.max(np.abs(fd_e - forces[24])) > 1e-3


def test_energy_is_short_range_plus_qeq():
    atoms = _cell()
    calc = _calc(anode_potential_V=-2.0, counter_potential_V=2.0)
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    short = _lj().get_potential_energy(atoms)
    solver = ChargeSolver(
        QEqParameters.paper(), slab=True, method="dense", accuracy=1e-8
    )
    psi = np.where(atoms.arrays[ELECTRODE] == ANODE, -2.0, 0.0)
    psi[atoms.arrays[ELECTRODE] == COUNTER] = 2.0
    res = solver.solve(atoms, potential=psi)
    assert energy == pytest.approx(short + res.energy, abs=1e-10)
    assert calc.results["free_energy"] == pytest.approx(
        short + res.grand_energy, abs=1e-10
    )
    np.testing.assert_allclose(calc.results["charges"], res.charges, atol=1e-12)
    anode, counter = calc.results["electrode_charges"]
    assert anode == pytest.approx(res.charges[psi == -2.0].sum(), abs=1e-12)
    assert counter == pytest.approx(res.charges[psi == 2.0].sum(), abs=1e-12)


def test_lower_anode_potential_puts_electrons_on_it():
    """Lowering ψ_anode lowers the anode's total charge (strictly), Σq = 0."""
    charges = []
    for psi in (0.0, -2.0, -4.0):
        atoms = _cell()
        atoms.calc = _calc(anode_potential_V=psi, counter_potential_V=0.0)
        atoms.get_potential_energy()
        charges.append(atoms.calc.results["electrode_charges"][0])
        assert atoms.calc.results["charges"].sum() == pytest.approx(0.0, abs=1e-10)
    assert charges[0] > charges[1] > charges[2]


def test_constant_charge_has_no_potential_dependence():
    atoms = _cell()
    atoms.calc = _calc(
        anode_potential_V=None, counter_potential_V=5.0, total_charge=1.0
    )
    e = atoms.get_potential_energy()
    assert atoms.calc.results["free_energy"] == pytest.approx(e, abs=1e-12)
    assert atoms.calc.results["charges"].sum() == pytest.approx(1.0, abs=1e-10)


def test_metallic_membership_recomputed_and_frozen_always_members():
    atoms = _cell()
    del atoms.arrays[ELECTRODE]
    frozen = np.zeros(len(atoms), bool)
    frozen[[0, 12]] = True
    atoms.arrays[FROZEN] = frozen
    calc = _calc(anode_potential_V=-1.0, electrodes="metallic")
    atoms.calc = calc
    atoms.get_potential_energy()
    labels = calc.results["electrode"]
    assert labels[0] == ANODE and labels[12] == COUNTER
    # isolated ions are never metallic
    assert np.all(labels[24:] == NOT_ELECTRODE)
    # a Li slab of 12 atoms in a 2x2 cell has < 8 Li neighbours for surface atoms
    assert set(np.unique(labels)) <= {NOT_ELECTRODE, ANODE, COUNTER}


def test_warm_start_matches_cold_start():
    atoms = _cell()
    cold = HybridCalculator(_lj(), anode_potential_V=-3.0, method="cg", tol=1e-10)
    atoms.calc = cold
    q0 = atoms.get_charges().copy()
    atoms.positions[24] += [0.05, 0.0, 0.02]
    f_warm = atoms.get_forces()
    assert cold.results["cg_iterations"] > 0
    fresh = HybridCalculator(_lj(), anode_potential_V=-3.0, method="dense")
    ref = atoms.copy()
    ref.calc = fresh
    np.testing.assert_allclose(f_warm, ref.get_forces(), atol=1e-6)
    assert not np.allclose(q0, atoms.get_charges())


def test_ensemble_mean_and_force_deviation():
    atoms = _cell()
    members = [
        LennardJones(sigma=2.0, epsilon=e, rc=6.0, smooth=True) for e in (0.01, 0.02)
    ]
    calc = HybridCalculator(members, anode_potential_V=-1.0, method="dense")
    atoms.calc = calc
    forces = atoms.get_forces()
    f = [m.get_forces(atoms) for m in members]
    mean = 0.5 * (f[0] + f[1])
    np.testing.assert_allclose(calc.results["short_forces"], mean, atol=1e-12)
    spread = np.linalg.norm(f[0] - f[1], axis=1) / 2  # std of two members
    assert calc.results["force_deviation"] == pytest.approx(spread.max(), rel=1e-10)
    assert forces.shape == (len(atoms), 3)


def test_bad_labels_name_the_atom():
    atoms = _cell()
    labels = atoms.arrays[ELECTRODE].copy()
    labels[5] = 7
    atoms.calc = _calc(anode_potential_V=-1.0, electrode_labels=labels)
    with pytest.raises(Exception, match="atom index 5"):
        atoms.get_potential_energy()


def test_settings_mismatch_is_an_error(tmp_path):
    saved = QEqSettings()
    other = QEqSettings(
        QEqParameters({**QEqParameters.paper().todict(), "Li": [-2.5, 10.0241, 1.28]})
    )
    with pytest.raises(ValueError, match="Li chi_eV"):
        other.check_compatible(saved)
    model = tmp_path / "model.nequip.zip"
    model.write_bytes(b"")
    saved.write(tmp_path / "qeq.json")
    with pytest.raises(ValueError, match="Li chi_eV"):
        HybridCalculator.from_models([model], qeq=other)


@pytest.mark.cuda
def test_cuda_matches_cpu():
    """The charge solve on the GPU gives the CPU's charges, energy and forces."""
    results = {}
    for device in ("cpu", "cuda"):
        atoms = _cell()
        atoms.calc = HybridCalculator(
            _lj(), anode_potential_V=-3.0, method="cg", tol=1e-10, device=device
        )
        results[device] = (
            atoms.get_potential_energy(),
            atoms.get_forces(),
            atoms.get_charges(),
        )
    e_cpu, f_cpu, q_cpu = results["cpu"]
    e_gpu, f_gpu, q_gpu = results["cuda"]
    assert e_gpu == pytest.approx(e_cpu, abs=1e-8)
    np.testing.assert_allclose(f_gpu, f_cpu, atol=1e-7)
    np.testing.assert_allclose(q_gpu, q_cpu, atol=1e-8)
