"""HybridCalculator: forces are the gradient of the grand energy, energy bookkeeping,
electrode handling and ensembles (with analytic short-range stand-ins for NequIP)."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bcc100
from ase.calculators.lj import LennardJones

from constpot.keys import ANODE, COUNTER, ELECTRODE, FROZEN, NOT_ELECTRODE
from constpot.potential import HybridCalculator, QEqSettings
from constpot.qeq import ChargeSolver, MetallicRule, QEqParameters

# the test cell is a closed Li | ions | Li capacitor: YB in the cell as given
pytestmark = pytest.mark.filterwarnings("ignore:slab geometry")


def _cell(seed=0) -> Atoms:
    """Two small Li(100) slabs (anode low, counter high) with LiF ions between."""
    rng = np.random.default_rng(seed)
    low = bcc100("Li", size=(2, 2, 3), a=3.33)
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


# ------------------------------------------------ parameters (issue 13, item 1)
def test_set_potential_recomputes_charges_on_unchanged_atoms():
    """ASE's cache is reset by set(): a new ψ on the same atoms gives new charges,
    those of a fresh calculator at that ψ (dense: equal to round-off, 1e-10 e)."""
    atoms = _cell()
    calc = _calc(anode_potential_V=-1.0, counter_potential_V=1.0)
    atoms.calc = calc
    q1 = atoms.get_charges()
    assert calc.set(anode_potential_V=-3.0) == {"anode_potential_V": -3.0}
    assert calc.results == {}
    q3 = atoms.get_charges()
    fresh = atoms.copy()
    fresh.calc = _calc(anode_potential_V=-3.0, counter_potential_V=1.0)
    np.testing.assert_allclose(q3, fresh.get_charges(), rtol=0, atol=1e-10)
    anode = atoms.arrays[ELECTRODE] == ANODE
    assert q3[anode].sum() < q1[anode].sum() - 0.01  # lower ψ: electrons on it
    # an unchanged value changes nothing and keeps the results
    assert calc.set(anode_potential_V=-3, counter_potential_V=1.0) == {}
    assert "charges" in calc.results


def test_evaluation_at_solved_charges_equals_the_solve():
    """fixed_charges = q*: E, Ω, forces and charges of the solve (dense, 1e-10);
    no CG iterations, reported as not solved."""
    atoms = _cell()
    calc = _calc(anode_potential_V=-2.0, counter_potential_V=1.0)
    atoms.calc = calc
    forces = atoms.get_forces()
    solved = dict(calc.results)
    assert solved["qeq_solved"]
    calc.set(fixed_charges=solved["charges"])
    held = atoms.get_forces()
    r = calc.results
    assert not r["qeq_solved"] and r["cg_iterations"] == 0
    np.testing.assert_allclose(held, forces, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(r["charges"], solved["charges"])
    for key in ("energy", "free_energy", "qeq_energy", "grand_energy"):
        assert r[key] == pytest.approx(solved[key], abs=1e-10), key
    np.testing.assert_allclose(
        r["electrode_charges"], solved["electrode_charges"], rtol=0, atol=1e-12
    )


def test_holding_some_atoms_at_their_solved_charges_keeps_the_rest():
    """Fixing a subset at q* leaves q* the minimiser for the others (the KKT
    system restricted to them): NaN entries are solved, to 1e-9 e."""
    atoms = _cell()
    calc = _calc(anode_potential_V=-2.0, counter_potential_V=1.0)
    atoms.calc = calc
    q = atoms.get_charges()
    given = q.copy()
    given[24:] = np.nan  # the ions are solved, the electrodes held
    calc.set(fixed_charges=given)
    np.testing.assert_allclose(atoms.get_charges(), q, rtol=0, atol=1e-9)
    assert calc.results["qeq_solved"]


def test_parameters_are_the_configuration():
    calc = _calc(anode_potential_V=-1.0, metallic_exclude=("F",))
    p = calc.parameters
    assert p["anode_potential_V"] == -1.0 and p["electrodes"] == "static"
    assert p["metallic_rule"] == MetallicRule(exclude=("F",))
    # the old attribute names read the parameters and cannot be written
    assert calc.anode_potential_V == -1.0
    with pytest.raises(AttributeError):
        calc.anode_potential_V = -6.0
    with pytest.raises(TypeError, match="anode_potential"):
        calc.set(anode_potential=-6.0)
    with pytest.raises(ValueError, match="electrodes"):
        calc.set(electrodes="dynamic")
    with pytest.raises(ValueError, match="metallic_rule or its fields"):
        calc.set(metallic_rule=MetallicRule(), metallic_cutoff_A=3.2)
    with pytest.raises(ValueError, match="tol"):
        calc.set(tol=-1.0)
    assert calc.parameters["tol"] == 1e-8  # a refused change changes nothing
    record = calc.todict()
    assert record["metallic_rule"]["exclude"] == ["F"]
    assert "electrode_labels" not in record and record["short_range"]


def test_changed_electrode_array_is_a_system_change():
    """The calculator reads the atoms' electrode array: changing it on the same
    positions recomputes (ASE's own check ignores it)."""
    atoms = _cell()
    calc = _calc(anode_potential_V=-2.0, counter_potential_V=0.0)
    atoms.calc = calc
    before = calc.get_property("electrode_charges", atoms)
    labels = atoms.arrays[ELECTRODE].copy()
    labels[labels == COUNTER] = NOT_ELECTRODE
    atoms.arrays[ELECTRODE] = labels
    after = calc.get_property("electrode_charges", atoms)
    assert after[1] == 0.0 and before[1] != 0.0


def test_metallic_membership_is_the_rule_and_timings_are_results():
    atoms = _cell()
    frozen = np.zeros(len(atoms), bool)
    frozen[[0, 12, 24]] = True  # 24 is an ion: never a member
    atoms.arrays[FROZEN] = frozen
    rule = MetallicRule(cutoff_A=3.3, min_neighbors=4)
    calc = _calc(anode_potential_V=-1.0, electrodes="metallic", metallic_rule=rule)
    atoms.calc = calc
    atoms.get_potential_energy()
    np.testing.assert_array_equal(calc.results["electrode"], rule.labels(atoms, frozen))
    np.testing.assert_array_equal(calc.membership(atoms), calc.results["electrode"])
    for key in ("electrode_seconds", "qeq_seconds", "short_seconds"):
        assert calc.results[key] >= 0.0, key


def test_charge_predictor_changes_the_start_not_the_charges():
    """An ion moving along a line: CG from the quadratic extrapolation of the
    last solves gives the charges of CG from the previous ones to 1e-8 e (tol
    1e-10) in fewer iterations. ``charge_predictor`` is a parameter: checked,
    recorded; a new ψ rebases the history (kept), a new predictor keeps only
    the last solve."""
    atoms = _cell()
    kw = dict(anode_potential_V=-3.0, method="cg", tol=1e-10)
    extrapolated = HybridCalculator(_lj(), charge_predictor="polynomial", **kw)
    previous = HybridCalculator(_lj(), **kw)
    assert previous.parameters["charge_predictor"]["method"] == "previous"
    start = atoms.positions[24].copy()
    for step in range(6):
        atoms.positions[24] = start + step * np.array([0.03, 0.0, 0.02])
        q, cg = [], []
        for calc in (extrapolated, previous):
            calc.calculate(atoms, ["charges"])
            q.append(calc.results["charges"])
            cg.append(calc.results["cg_iterations"])
        np.testing.assert_allclose(q[0], q[1], rtol=0, atol=1e-8)
    assert cg[0] < cg[1], cg
    assert extrapolated.todict()["charge_predictor"] == {
        "method": "polynomial",
        "order": 2,
    }
    with pytest.raises(ValueError, match="charge_predictor method"):
        extrapolated.set(charge_predictor="cubic")
    history = extrapolated.predictor.state()
    assert history["charges"].shape == (3, len(atoms))
    extrapolated.set(anode_potential_V=-2.0)
    extrapolated.calculate(atoms, ["charges"])
    assert extrapolated.predictor.state()["key"] != history["key"]
    assert extrapolated.predictor.state()["charges"].shape == (3, len(atoms))
    extrapolated.set(charge_predictor={"method": "aspc", "order": 1})
    np.testing.assert_array_equal(
        extrapolated.predictor.state()["charges"], [extrapolated.guess]
    )
