"""Tests of constpot.label.labellers: physics identities, retries, config errors.

xTB cells are 8-atom rock-salt LiF (a = 4.03 Å, rattled), about 0.3 s per
tblite call on one thread.

Finite-difference steps. tblite's energy is not perfectly smooth: it has steps
of a few µeV where a pair crosses a hard cutoff (scanning one coordinate of
this cell shows a 3.3 µeV jump 0.6 mÅ from the reference point). A central
difference whose step straddles such a jump is off by jump/(2h), 1.6e-3 eV/Å
at h = 1e-3 Å. The steps below (1e-4 Å for positions, 1e-5 for strain) were
checked on this cell to straddle none; the SCF is tightened (accuracy 0.01)
so that energy noise (< 1e-9 eV) adds < 1e-5 eV/Å to the differences.
"""

import re

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import CalculationFailed
from ase.calculators.emt import EMT

from constpot.label.labellers import (
    ASELabeller,
    GPAWLabeller,
    Label,
    LabelError,
    XTBLabeller,
    make_labeller,
)


def _lif(seed=1):
    atoms = bulk("LiF", "rocksalt", a=4.03, cubic=True)
    atoms.rattle(0.05, seed=seed)
    return atoms


@pytest.fixture(scope="module")
def tight():
    return XTBLabeller(accuracy=0.01)


@pytest.fixture(scope="module")
def lif_label(tight):
    return tight.label(_lif())


def test_xtb_label_contents(lif_label):
    atoms = _lif()
    assert isinstance(lif_label, Label)
    assert lif_label.forces.shape == (len(atoms), 3)
    assert lif_label.stress.shape == (6,)
    assert lif_label.charges.shape == (len(atoms),)
    s = lif_label.settings
    assert s["labeller"] == "xtb"
    assert s["method"] == "GFN1-xTB"
    assert s["electronic_temperature_used_K"] == 300.0
    assert s["charges_model"] == "Mulliken"
    assert s["accuracy"] == 0.01
    # Translational invariance: the forces of a periodic cell sum to zero.
    # atol 1e-6 eV/Å: analytic gradients, limited only by SCF convergence.
    np.testing.assert_allclose(lif_label.forces.sum(axis=0), 0.0, atol=1e-6)


def test_xtb_forces_are_minus_energy_gradient(tight, lif_label):
    atoms = _lif()
    h = 1e-4  # Å, see module docstring
    # Tolerance 1e-3 of the largest force: the FD truncation error
    # (h² F'''/6 ~ 1e-8 eV/Å) and SCF noise (~1e-5 eV/Å) are far below it.
    atol = 1e-3 * np.abs(lif_label.forces).max()
    for i, k in [(0, 0), (1, 2), (3, 1), (6, 0)]:
        energies = []
        for sign in (1, -1):
            displaced = atoms.copy()
            displaced.positions[i, k] += sign * h
            energies.append(tight.label(displaced).energy)
        fd = -(energies[0] - energies[1]) / (2 * h)
        assert lif_label.forces[i, k] == pytest.approx(fd, abs=atol), (i, k)


def test_xtb_stress_is_strain_derivative_ase_sign(tight, lif_label):
    """ASE stress = +(1/V) dE/dε (positive = tensile); tblite follows it."""
    atoms = _lif()
    volume = atoms.get_volume()
    h = 1e-5  # strain, see module docstring
    # Tolerance 1e-4 of the largest component (~0.16 eV/Å³): SCF noise gives
    # 1e-9 eV / (2 h V) ~ 1e-6 eV/Å³; truncation is smaller still.
    atol = 1e-4 * np.abs(lif_label.stress).max()
    for a, b, voigt in [(0, 0, 0), (1, 2, 3)]:
        energies = []
        for sign in (1, -1):
            eps = np.zeros((3, 3))
            eps[a, b] += sign * h / 2
            eps[b, a] += sign * h / 2
            strained = atoms.copy()
            strained.set_cell(atoms.cell @ (np.eye(3) + eps), scale_atoms=True)
            energies.append(tight.label(strained).energy)
        fd = (energies[0] - energies[1]) / (2 * h) / volume
        assert lif_label.stress[voigt] == pytest.approx(fd, abs=atol), voigt


def test_xtb_charges_sum_to_total_and_have_ionic_signs(lif_label):
    atoms = _lif()
    # atol 1e-6 e: Mulliken charges sum to the electron count exactly,
    # up to SCF convergence of the density.
    assert lif_label.charges.sum() == pytest.approx(0.0, abs=1e-6)
    assert lif_label.settings["total_charge"] == 0
    li = atoms.symbols == "Li"
    assert np.all(lif_label.charges[li] > 0)
    assert np.all(lif_label.charges[~li] < 0)


def test_xtb_total_charge_from_initial_charges():
    """Default total charge = rounded sum of the formal (initial) charges."""
    atoms = _lif()
    del atoms[next(atom.index for atom in atoms if atom.symbol == "Li")]  # Li3F4⁻
    atoms.set_initial_charges(np.where(atoms.symbols == "Li", 1.0, -1.0))
    label = XTBLabeller(accuracy=0.01).label(atoms)
    assert label.settings["total_charge"] == -1
    assert label.charges.sum() == pytest.approx(-1.0, abs=1e-6)  # as above
    assert atoms.calc is None  # the input frame is left alone


def test_xtb_scf_failure_raises_label_error():
    labeller = XTBLabeller(max_iterations=2, retry_temperatures_K=(1000.0, 3000.0))
    with pytest.raises(LabelError, match="not converge") as info:
        labeller.label(_lif())
    assert info.value.reason.startswith("scf_not_converged")
    assert "300, 1000, 3000 K" in info.value.reason


class _FailsFirst(XTBLabeller):
    """First attempt fails as tblite does on non-convergence; later ones run."""

    def __init__(self, message="SCF not converged in 250 cycles", **kwargs):
        super().__init__(**kwargs)
        self.message = message
        self.temperatures = []

    def _compute(self, atoms, temperature_K):
        self.temperatures.append(temperature_K)
        if len(self.temperatures) == 1:
            raise CalculationFailed(self.message)
        return super()._compute(atoms, temperature_K)


def test_xtb_retry_at_raised_temperature():
    labeller = _FailsFirst(retry_temperatures_K=(1000.0, 3000.0))
    label = labeller.label(_lif())
    assert labeller.temperatures == [300.0, 1000.0]
    assert label.settings["electronic_temperature_used_K"] == 1000.0
    assert label.settings["attempts"] == 2
    # The retry is the plain calculation at 1000 K; deterministic, so equal
    # to round-off (atol 1e-9 eV).
    direct = XTBLabeller(electronic_temperature_K=1000.0, retry_temperatures_K=())
    assert label.energy == pytest.approx(direct.label(_lif()).energy, abs=1e-9)


def test_xtb_other_failures_are_not_retried():
    labeller = _FailsFirst(message="something else broke")
    with pytest.raises(LabelError) as info:
        labeller.label(_lif())
    assert info.value.reason == "xtb_failed"
    assert labeller.temperatures == [300.0]


def test_xtb_rejects_bad_settings():
    with pytest.raises(ValueError, match="method"):
        XTBLabeller(method="GFN0")
    with pytest.raises(ValueError, match="retry_temperatures_K"):
        XTBLabeller(electronic_temperature_K=1000.0, retry_temperatures_K=(500.0,))
    with pytest.raises(ValueError, match="max_iterations"):
        XTBLabeller(max_iterations=0)


def test_gpaw_missing_names_what_to_install():
    try:
        import gpaw  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("gpaw is installed")
    labeller = make_labeller({"kind": "gpaw"})  # constructing needs no gpaw
    with pytest.raises(ImportError, match=r"pip install constpot\[dft\]"):
        labeller.label(_lif())


def test_gpaw_settings_kpoint_rule_and_round_trip():
    """Constructing a GPAW labeller needs no GPAW; its k-point rule is what
    the sampler reads, and a fixed grid means no rule."""
    labeller = make_labeller(
        {"kind": "gpaw", "kpt_spacing_inv_A": 0.25, "mode": "lcao", "basis": "szp"}
    )
    assert isinstance(labeller, GPAWLabeller)
    assert labeller.kpoint_rule.spacing_inv_A == 0.25
    assert labeller.method == "PBE+D3(BJ), LCAO szp"
    assert make_labeller(labeller.todict()).todict() == labeller.todict()
    assert GPAWLabeller(dispersion=None).method == "PBE, PW 500 eV"
    loose = make_labeller({"kind": "gpaw", "scf_convergence": {"eigenstates": 1e-6}})
    assert loose.scf_convergence == {"eigenstates": 1e-6}
    assert make_labeller(loose.todict()).todict() == loose.todict()
    with pytest.raises(ValueError, match="scf_convergence: unknown key 'eigen'"):
        make_labeller({"kind": "gpaw", "scf_convergence": {"eigen": 1e-6}})
    with pytest.raises(ValueError, match=r"scf_convergence\.density"):
        make_labeller({"kind": "gpaw", "scf_convergence": {"density": 0}})
    fixed = GPAWLabeller(kpts=(2, 2, 1))
    assert fixed.kpoint_rule is None
    assert make_labeller(fixed.todict()).kpts == (2, 2, 1)
    assert XTBLabeller().kpoint_rule is None


def test_gpaw_rejects_bad_settings():
    with pytest.raises(ValueError, match="mode"):
        GPAWLabeller(mode="fd")
    with pytest.raises(ValueError, match="dispersion"):
        GPAWLabeller(dispersion="d4")
    with pytest.raises(ValueError, match="kpts"):
        GPAWLabeller(kpts=(2, 2))
    with pytest.raises(ValueError, match="kpt_spacing_inv_A"):
        GPAWLabeller(kpt_spacing_inv_A=-0.2)
    with pytest.raises(ValueError, match="ecut_eV"):
        GPAWLabeller(ecut_eV=0.0)


def _cual():
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.symbols[1] = "Al"
    atoms.rattle(0.05, seed=3)
    return atoms


def test_ase_labeller_reproduces_emt():
    atoms = _cual()
    label = ASELabeller("ase.calculators.emt.EMT").label(atoms)
    reference = atoms.copy()
    reference.calc = EMT()
    # Same code on the same input: equal to round-off (atol 1e-12).
    assert label.energy == pytest.approx(reference.get_potential_energy(), abs=1e-12)
    np.testing.assert_allclose(label.forces, reference.get_forces(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(label.stress, reference.get_stress(), rtol=0, atol=1e-12)
    assert label.charges is None
    assert label.settings["method"] == "ase.calculators.emt.EMT"


def test_ase_labeller_with_kpoint_rule_passes_each_frames_grid():
    """kpt_spacing_inv_A declares a rule: each frame's grid goes to the
    calculator as ``kpts_parameter`` and into the settings."""
    seen = []

    class _Recorder(EMT):
        def __init__(self, **kwargs):
            seen.append(kwargs)
            super().__init__(**kwargs)

    labeller = ASELabeller(
        "ase.calculators.emt.EMT",
        {"asap_cutoff": False},
        kpt_spacing_inv_A=0.2,
        kpts_parameter="kpts",
    )
    labeller._calculator_class = _Recorder
    assert labeller.kpoint_rule.spacing_inv_A == 0.2
    small, large = _cual(), _cual().repeat((2, 1, 1))
    label_small = labeller.label(small)
    label_large = labeller.label(large)
    assert seen == [
        {"asap_cutoff": False, "kpts": [9, 9, 9]},
        {"asap_cutoff": False, "kpts": [5, 9, 9]},
    ]
    assert label_small.settings["kpts"] == [9, 9, 9]
    assert label_large.settings["kpts"] == [5, 9, 9]
    assert labeller.parameters == {"asap_cutoff": False}  # not modified
    assert make_labeller(labeller.todict()).todict() == labeller.todict()
    assert ASELabeller("ase.calculators.emt.EMT").kpoint_rule is None


def test_ase_labeller_bad_import_path():
    for path in ("ase.calculators.emt.NoSuchCalc", "no_such_module.Calc", "EMT"):
        with pytest.raises(ValueError, match=re.escape(path)):
            ASELabeller(path)


def test_make_labeller_builds_and_round_trips():
    labeller = make_labeller({"kind": "xtb", "method": "GFN2-xTB", "accuracy": 0.1})
    assert isinstance(labeller, XTBLabeller)
    assert labeller.method == "GFN2-xTB"
    assert make_labeller(labeller.todict()).todict() == labeller.todict()
    ase_labeller = make_labeller(
        {"kind": "ase", "calculator": "ase.calculators.emt.EMT", "parameters": {}}
    )
    assert make_labeller(ase_labeller.todict()).todict() == ase_labeller.todict()
    assert make_labeller(GPAWLabeller(kpts=(2, 2, 1)).todict()).kpts == (2, 2, 1)


def test_make_labeller_errors_name_the_key():
    with pytest.raises(ValueError, match="'kind'"):
        make_labeller({"method": "GFN1-xTB"})
    with pytest.raises(ValueError, match=r"'kind'.*'dftb'"):
        make_labeller({"kind": "dftb"})
    with pytest.raises(ValueError, match="temperature_K"):
        make_labeller({"kind": "xtb", "temperature_K": 300.0})
    with pytest.raises(TypeError, match="dict"):
        make_labeller([("kind", "xtb")])


def test_label_of_isolated_molecule_has_no_stress():
    atoms = Atoms("LiF", positions=[[0, 0, 0], [1.6, 0, 0]])
    label = XTBLabeller().label(atoms)
    assert label.stress is None
    assert label.settings["kpts"] is None
