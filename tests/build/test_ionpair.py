"""Physics facts for :mod:`constpot.build.ionpair`, the rigid-ion model.

Checked against closed forms and identities (Madelung energy, forces = −∇E by
central differences, momentum conservation, continuity of the shifted and
continued short-range terms), its parameters against their published
constants (Tosi–Fumi radii and Pauling factors, Mayer dispersion, Bush et al.)
and against experiment (the static lattice constant of rock-salt LiF and
antifluorite Li₂O).
"""

import math

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

import constpot.build.ionpair as ionpair
from constpot.build.ionpair import (
    ION_PAIR_POTENTIALS,
    IonPairCalculator,
    IonPairPotential,
)
from constpot.units import COULOMB_EV_A

#: NaCl Madelung constant referred to the nearest-neighbour distance (Borwein,
#: Glasser, McPhedran, Wan & Zucker, *Lattice Sums Then and Now*, CUP 2013).
MADELUNG_NACL = 1.747564594633
#: Elementary charge (C), exact (SI 2019): converts the erg/J constants of
#: Tosi–Fumi and Mayer independently of ASE's unit module.
E_CHARGE_C = 1.602176634e-19

#: ASE builders for the crystals: rock salt, antifluorite (O on the fcc sites).
CRYSTALS = {"LiF": ("LiF", "rocksalt"), "Li2O": ("OLi2", "fluorite")}
ANION = {"LiF": "F", "Li2O": "O"}


def _crystal(component, a=None, reps=(1, 1, 1)):
    name, structure = CRYSTALS[component]
    a = ION_PAIR_POTENTIALS[component].lattice_constant_A if a is None else a
    return bulk(name, structure, a=a, cubic=True) * reps


def _energy(atoms, potential):
    atoms = atoms.copy()
    atoms.calc = IonPairCalculator(potential)
    return atoms.get_potential_energy()


def test_public_names():
    for name in ionpair.__all__:
        assert hasattr(ionpair, name), name


def test_tosi_fumi_parameters_from_published_constants():
    # A_ij = c_ij b exp((σ_i + σ_j)/ρ), b = 0.338e-19 J, ρ = 0.299 Å,
    # σ(Li+) = 0.816 Å, σ(F-) = 1.179 Å, c = 2, 1.375, 0.75 (Tosi & Fumi 1964);
    # C, D of Mayer (1933) in 1e-60 erg cm^6 = 1e-19 J Å^6 (1e-76 erg cm^8 alike).
    b_ev = 0.338e-19 / E_CHARGE_C
    mayer_ev = 1e-19 / E_CHARGE_C
    expected = {
        ("Li", "Li"): (2.0, 0.816 + 0.816, 0.073, 0.03),
        ("F", "Li"): (1.375, 0.816 + 1.179, 0.8, 0.6),
        ("F", "F"): (0.75, 1.179 + 1.179, 14.5, 17.0),
    }
    model = ION_PAIR_POTENTIALS["LiF"]
    for (a, b), (pauling, sigma, c6, d8) in expected.items():
        big_a, rho, c, d = model.pair(a, b)
        # rtol 1e-7: same arithmetic; ASE's J uses the CODATA 2014 charge
        # (1.6021766208e-19 C), 8e-9 away from the exact SI 2019 value.
        np.testing.assert_allclose(
            [big_a, rho, c, d],
            [
                pauling * b_ev * math.exp(sigma / 0.299),
                0.299,
                c6 * mayer_ev,
                d8 * mayer_ev,
            ],
            rtol=1e-7,
        )
    # Rounded values quoted in the module docstring (A to 6 digits).
    np.testing.assert_allclose(model.pair("Li", "F")[0], 229.206, rtol=5e-6)
    np.testing.assert_allclose(model.pair("F", "F")[0], 420.958, rtol=5e-6)


def test_bush_li2o_parameters():
    # Bush, Gale, Catlow & Battle, J. Mater. Chem. 4, 831 (1994).
    model = ION_PAIR_POTENTIALS["Li2O"]
    assert model.pair("Li", "O") == (426.480, 0.3000, 0.0, 0.0)
    assert model.pair("O", "O") == (22.410, 0.6937, 32.32, 0.0)
    assert model.pair("Li", "Li") == (0.0, 1.0, 0.0, 0.0)
    assert model.charges == {"Li": 1.0, "O": -2.0}


def test_coulomb_part_is_the_madelung_energy():
    # Short-range terms off: rock salt of ±1 charges, E per ion pair =
    # −M k / r_nn (r_nn = a/2).
    bare = IonPairPotential(
        name="LiF",
        charges={"Li": 1.0, "F": -1.0},
        pairs={},
        stoichiometry={"Li": 1, "F": 1},
        lattice_constant_A=4.0,
        structure="rocksalt",
        melting_point_K=1118.0,
        reference="test",
    )
    atoms = _crystal("LiF", a=4.0, reps=(2, 1, 1))
    exact = -MADELUNG_NACL * COULOMB_EV_A / 2.0
    # Tight Ewald: the closed form to 1e-7. Default (1e-5, the MD setting): the
    # energy error per ion pair is a few k·accuracy (1.4e-4 eV); allow 5×.
    atoms.calc = IonPairCalculator(bare, ewald_accuracy=1e-9)
    tight = atoms.get_potential_energy() / (len(atoms) / 2)
    np.testing.assert_allclose(tight, exact, rtol=1e-7)
    default = _energy(atoms, bare) / (len(atoms) / 2)
    np.testing.assert_allclose(default, exact, rtol=0, atol=5 * COULOMB_EV_A * 1e-5)


@pytest.mark.parametrize("component", ["LiF", "Li2O"])
def test_lattice_constant_minimises_energy(component):
    # E(a) under isotropic scaling, ±5 % of experiment in 0.5 % steps. The
    # minimum must be interior (a local minimum) and, from a parabola through
    # the lowest points, within 1.5 % of experiment (measured: LiF 4.010 vs
    # 4.026 Å, Li2O 4.591 vs 4.611 Å, both -0.4 %).
    a_exp = ION_PAIR_POTENTIALS[component].lattice_constant_A
    scale = np.linspace(0.95, 1.05, 21)
    energy = np.array(
        [_energy(_crystal(component, a=s * a_exp), component) for s in scale]
    )
    k = int(np.argmin(energy))
    assert 0 < k < len(scale) - 1, f"E(a) has no interior minimum: {energy}"
    fit = np.polyfit(scale[k - 2 : k + 3], energy[k - 2 : k + 3], 2)
    assert fit[0] > 0
    a_min = -fit[1] / (2 * fit[0]) * a_exp
    assert abs(a_min / a_exp - 1) < 0.015, (a_min, a_exp)


@pytest.mark.parametrize(("component", "contact_A"), [("LiF", 0.95), ("Li2O", 1.7)])
def test_forces_are_minus_energy_gradient(component, contact_A):
    # 16 (LiF) / 24 (Li2O) ions, rattled; one Li is pushed towards its nearest
    # anion to ``contact_A`` (LiF: inside the inner radius r_w = 1.0 Å, so the
    # continued branch is checked too). Central differences with h = 1e-4 Å:
    # the truncation error (~h² times the third derivative) is far below the
    # tolerance, 1e-5 of the largest force.
    a = 1.02 * ION_PAIR_POTENTIALS[component].lattice_constant_A
    atoms = _crystal(component, a=a, reps=(2, 1, 1))
    atoms.rattle(0.05, seed=3)
    symbols = atoms.get_chemical_symbols()
    li = symbols.index("Li")
    anions = [k for k, s in enumerate(symbols) if s != "Li"]
    dist = atoms.get_distances(li, anions, mic=True)
    nearest = anions[int(np.argmin(dist))]
    vec = atoms.get_distance(nearest, li, mic=True, vector=True)
    atoms.positions[li] = (
        atoms.positions[nearest] + vec / np.linalg.norm(vec) * contact_A
    )
    atoms.calc = IonPairCalculator(component)
    forces = atoms.get_forces()
    numeric = np.zeros_like(forces)
    h = 1e-4
    for n in range(len(atoms)):
        for axis in range(3):
            energies = []
            for sign in (1, -1):
                displaced = atoms.copy()
                displaced.positions[n, axis] += sign * h
                energies.append(_energy(displaced, component))
            numeric[n, axis] = -(energies[0] - energies[1]) / (2 * h)
    np.testing.assert_allclose(
        forces, numeric, rtol=0, atol=1e-5 * np.abs(forces).max()
    )
    # Newton's third law: the forces sum to zero (round-off only).
    np.testing.assert_allclose(forces.sum(axis=0), 0.0, atol=1e-10)


@pytest.mark.parametrize("component", ["LiF", "Li2O"])
def test_short_range_shifted_at_cutoff_and_continued_inside(component):
    # Neutral ions isolate the short-range terms: the pair energy is zero at the
    # cutoff (shifted) and continuous with a continuous slope at the inner
    # radius r_w (value and slope matched there).
    model = ION_PAIR_POTENTIALS[component]
    neutral = IonPairPotential(
        name=model.name,
        charges=dict.fromkeys(model.charges, 0.0),
        pairs=model.pairs,
        stoichiometry=model.stoichiometry,
        lattice_constant_A=model.lattice_constant_A,
        structure=model.structure,
        melting_point_K=model.melting_point_K,
        reference="test",
        inner_A=model.inner_A,
    )
    anion = ANION[component]

    def pair_energy(r):
        atoms = Atoms(
            ["Li", anion],
            positions=[[1.0, 1.0, 1.0], [1.0 + r, 1.0, 1.0]],
            cell=np.diag([25.0, 25.0, 25.0]),
            pbc=True,
        )
        return _energy(atoms, neutral)

    assert abs(pair_energy(7.999)) < 1e-6
    assert pair_energy(8.001) == 0.0
    for (a, b), r_w in model.inner_A.items():
        big_a, inv_rho, c6, d8, _, big_b, c0 = model.pair_terms(a, b)
        for r in (r_w - 1e-7, r_w + 1e-7):
            inside = big_b * math.exp(-r * inv_rho) + c0
            outside = big_a * math.exp(-r * inv_rho) - c6 / r**6 - d8 / r**8
            # Value and slope match at r_w: the two branches differ by O(δr²).
            assert abs(inside - outside) < 1e-9, (a, b, r)
        assert big_b > 0


def test_calculator_rejects_bad_input():
    atoms = _crystal("LiF")
    atoms.pbc = (True, True, False)
    atoms.calc = IonPairCalculator("LiF")
    with pytest.raises(ValueError, match="3D periodic"):
        atoms.get_potential_energy()
    atoms = _crystal("Li2O")
    atoms.calc = IonPairCalculator("LiF")
    with pytest.raises(ValueError, match=r"\['O'\] have no charge"):
        atoms.get_potential_energy()
    with pytest.raises(ValueError, match="NaCl"):
        IonPairCalculator("NaCl")
