"""Physics facts for :mod:`constpot.build.amorphous`.

The rigid-ion model is tested in ``test_ionpair.py``. Melt–quench blocks are
checked for what the interface builder relies on (neutral, stoichiometric,
density, wrapped, seeded) and for being amorphous, by structural measures
compared with the crystal at 300 K in the same model:

- anion bond order Q6 (Steinhardt, global over anion–anion bonds): crystal
  ≥ 0.5 (measured 0.54–0.56 at 300 K), glass ≤ 0.30 (the builder's own
  guard; measured 0.11–0.26 for 100–130-ion blocks);
- largest anion Bragg intensity |ρ_k|²/N² for 1.5 ≤ |k| ≤ 4 Å⁻¹: crystal
  ≥ 0.85 (measured 0.94–0.98), glass ≤ 0.65 (measured 0.22–0.57; a liquid of
  40–60 anions fluctuates to 0.3–0.4);
- height of the anion–anion g(r) peak (Gaussian smearing 0.1 Å): glass
  ≤ 0.8 × crystal (measured 0.62–0.66× for LiF, 0.55–0.63× for Li₂O);
- mean Li coordination by anions within the first g(r) minimum: LiF ≥ 1.0 below
  the crystal's 6 (measured 4.3–4.4), Li₂O ≥ 0.5 below 4 (measured 2.9–3.0).
"""

import math
import warnings

import numpy as np
import pytest
from ase import units
from ase.build import bulk
from ase.io import write
from ase.md.langevin import Langevin
from vesin import NeighborList

import constpot.build.amorphous as amorphous
from constpot.build.amorphous import MELT_QUENCH_PRESETS, amorphous_block
from constpot.build.ionpair import ION_PAIR_POTENTIALS, IonPairCalculator
from constpot.errors import SetupError
from constpot.units import mass_density_g_cm3

#: ASE builders for the crystals: rock salt, antifluorite (O on the fcc sites).
CRYSTALS = {"LiF": ("LiF", "rocksalt"), "Li2O": ("OLi2", "fluorite")}
ANION = {"LiF": "F", "Li2O": "O"}
#: Crystal Li coordination and the margin the glass must keep below it.
CRYSTAL_CN = {"LiF": (6, 1.0), "Li2O": (4, 0.5)}
#: Shortest distances allowed in a block (Å); measured minima of relaxed blocks:
#: Li–F 1.60–1.73, Li–O 1.58–1.63, Li–Li 1.98 (Li₂O) / 2.33 (LiF), F–F 2.38,
#: O–O 2.68. Opposite charges closer than 1.5 Å would be unphysical contacts.
MIN_DISTANCE_A = {
    ("Li", "F"): 1.5,
    ("Li", "O"): 1.5,
    ("Li", "Li"): 1.9,
    ("F", "F"): 2.2,
    ("O", "O"): 2.4,
}


# ------------------------------------------------------------------ helpers
def _crystal(component, a=None, reps=(1, 1, 1)):
    name, structure = CRYSTALS[component]
    a = ION_PAIR_POTENTIALS[component].lattice_constant_A if a is None else a
    return bulk(name, structure, a=a, cubic=True) * reps


def _energy(atoms, potential):
    atoms = atoms.copy()
    atoms.calc = IonPairCalculator(potential)
    return atoms.get_potential_energy()


def _pairs(atoms, cutoff, quantities="ijd"):
    nl = NeighborList(cutoff=cutoff, full_list=True)
    return nl.compute(atoms.positions, atoms.cell.array, True, quantities=quantities)


def _partial_rdf(atoms, a, b, r_max=6.0, dr=0.02, smear=0.1):
    """g_ab(r) with Gaussian smearing ``smear`` (Å) of each pair distance."""
    i, j, d = _pairs(atoms, r_max)
    sym = np.array(atoms.get_chemical_symbols())
    d = d[(sym[i] == a) & (sym[j] == b)]
    r = np.arange(dr, r_max - 3 * smear, dr)
    hist = np.exp(-0.5 * ((r[:, None] - d[None]) / smear) ** 2).sum(axis=1)
    hist /= math.sqrt(2 * math.pi) * smear
    n_a, n_b = np.sum(sym == a), np.sum(sym == b) - (a == b)
    return r, hist / (n_a * n_b / atoms.get_volume() * 4 * math.pi * r**2)


def _li_coordination(atoms, anion):
    """Mean number of anions within the first minimum of g_Li-anion (1.9–3.2 Å)."""
    r, g = _partial_rdf(atoms, "Li", anion, smear=0.05)
    window = (r > 1.9) & (r < 3.2)
    r_min = r[window][np.argmin(g[window])]
    i, j, _ = _pairs(atoms, r_min)
    sym = np.array(atoms.get_chemical_symbols())
    bond = (sym[i] == "Li") & (sym[j] == anion)
    return np.bincount(i[bond], minlength=len(atoms))[sym == "Li"].mean()


def _bragg_fraction(atoms, element, k_min=1.5, k_max=4.0):
    """max_k |Σ_j exp(ik·r_j)|² / N² over the cell's k-vectors, k_min ≤ |k| ≤ k_max."""
    cell = atoms.cell.array
    recip = 2 * math.pi * np.linalg.inv(cell).T
    n_max = np.ceil(k_max * np.linalg.norm(cell, axis=1) / (2 * math.pi)).astype(int)
    grid = np.meshgrid(*[np.arange(-m, m + 1) for m in n_max], indexing="ij")
    k = np.stack(grid, -1).reshape(-1, 3) @ recip
    k_len = np.linalg.norm(k, axis=1)
    k = k[(k_len >= k_min) & (k_len <= k_max)]
    pos = atoms.positions[np.array(atoms.get_chemical_symbols()) == element]
    return float(
        (np.abs(np.exp(1j * pos @ k.T).sum(axis=0)) ** 2).max() / len(pos) ** 2
    )


def _bond_order_q6(atoms, element, cutoff):
    """Global Q6 of the element–element bonds: Q6² = <P6(u_b · u_b')>."""
    i, j, vec = _pairs(atoms, cutoff, "ijD")
    sym = np.array(atoms.get_chemical_symbols())
    vec = vec[(sym[i] == element) & (sym[j] == element)]
    u = vec / np.linalg.norm(vec, axis=1)[:, None]
    p6 = np.polynomial.legendre.legval(np.clip(u @ u.T, -1, 1), [0] * 6 + [1])
    return math.sqrt(max(p6.mean(), 0.0))


def _structure(atoms, component):
    anion = ANION[component]
    a = ION_PAIR_POTENTIALS[component].lattice_constant_A
    _, g_aa = _partial_rdf(atoms, anion, anion)
    return {
        "q6": _bond_order_q6(atoms, anion, 0.5 * (1 + 1 / math.sqrt(2)) * a),
        "bragg": _bragg_fraction(atoms, anion),
        "g_anion_peak": g_aa.max(),
        "cn": _li_coordination(atoms, anion),
    }


def _thermal_crystal(component, reps, steps=200, seed=0):
    """The crystal after 0.4 ps of Langevin MD at 300 K in the same model."""
    atoms = _crystal(component, reps=reps)
    atoms.calc = IonPairCalculator(component)
    rng = np.random.default_rng(seed)
    kt = units.kB * 300.0
    atoms.set_momenta(
        rng.standard_normal((len(atoms), 3)) * np.sqrt(atoms.get_masses()[:, None] * kt)
    )
    md = Langevin(
        atoms,
        2.0 * units.fs,
        temperature_K=300.0,
        friction=0.02 / units.fs,
        fixcm=False,
        rng=rng,
    )
    for _ in range(steps):
        md.step()
    return atoms


def _tiny_schedule(**kwargs):
    """A few MD steps: enough to test bookkeeping, not to make a glass."""
    return dict(
        melt_steps=30, quench_steps=30, equil_steps=10, max_attempts=1, **kwargs
    )


# ------------------------------------------------------------ the builder
def test_public_names():
    for name in amorphous.__all__:
        assert hasattr(amorphous, name), name


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(component="NaCl"), r"component must be one of .*'NaCl'"),
        (
            dict(thickness_A=2.0),
            r"thickness_A = 2.0 Å is smaller than one formula-unit",
        ),
        (dict(density_g_cm3=0.0), r"density_g_cm3 must be > 0 g/cm\^3, got 0.0"),
        (dict(density_g_cm3=-2.5), r"density_g_cm3 must be > 0 g/cm\^3, got -2.5"),
        (dict(cell_xy=[[10.0, 0.0], [20.0, 0.0]]), r"cell_xy must span .* area 0"),
        (dict(melt_K=200.0), r"melt_K = 200.0, final_K = 300.0"),
        (dict(quality="fast"), r"quality must be one of .*'fast'"),
        (dict(quench_steps=-1), r"quench_steps must be >= 0, got -1"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    args = dict(component="LiF", cell_xy=[[10.0, 0.0], [0.0, 10.0]], thickness_A=8.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        amorphous_block(**args)


@pytest.mark.parametrize("component", ["LiF", "Li2O"])
@pytest.mark.parametrize(
    "cell_xy", [[[10.2, 0.0], [0.0, 9.7]], [[10.0, 0.0], [-5.0, 8.66]]]
)
def test_box_neutral_stoichiometric_at_density(component, cell_xy):
    # No dynamics: only the box, composition and bookkeeping are checked.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        block = amorphous_block(
            component,
            cell_xy,
            7.3,
            seed=4,
            melt_steps=0,
            quench_steps=0,
            equil_steps=0,
            relax_fmax=None,
            max_attempts=1,
        )
    model = ION_PAIR_POTENTIALS[component]
    target = {"LiF": 2.50, "Li2O": 1.95}[component]
    area = abs(np.linalg.det(np.asarray(cell_xy)))
    volume_fu = model.formula_mass_amu * 1.66053906660 / target
    cell = block.cell.array
    np.testing.assert_array_equal(cell[:2, :2], cell_xy)
    assert cell[2, :2].tolist() == [0.0, 0.0] and cell[:2, 2].tolist() == [0.0, 0.0]
    # L_z = n V_fu / A for the whole n closest to thickness · A / V_fu.
    n_fu = round(7.3 * area / volume_fu)
    np.testing.assert_allclose(cell[2, 2], n_fu * volume_fu / area, rtol=1e-12)
    assert abs(cell[2, 2] - 7.3) <= 0.5 * volume_fu / area + 1e-9
    symbols = block.get_chemical_symbols()
    assert {el: symbols.count(el) for el in model.stoichiometry} == {
        el: n * n_fu for el, n in model.stoichiometry.items()
    }
    charges = block.get_initial_charges()
    np.testing.assert_array_equal(charges, [model.charges[s] for s in symbols])
    assert charges.sum() == 0.0
    density = mass_density_g_cm3(block.get_masses().sum(), block.get_volume())
    assert abs(density / target - 1) < 1e-9
    assert block.info["density_g_cm3"] == pytest.approx(density, rel=1e-12)
    # Wrapped: fractional coordinates in [0, 1) up to the round trip
    # Cartesian -> fractional (1e-12), z in [0, L_z) exactly.
    frac = block.get_scaled_positions(wrap=False)
    assert np.all((frac > -1e-12) & (frac < 1 + 1e-12))
    assert np.all((block.positions[:, 2] >= 0) & (block.positions[:, 2] < cell[2, 2]))
    assert block.pbc.all()
    assert block.info["component"] == component and block.info["phase"] == "amorphous"
    assert "quench linear to 300 K" in block.info["melt_quench"]


def test_same_seed_same_block_other_seed_differs():
    args = ("Li2O", [[9.0, 0.0], [0.0, 9.0]], 8.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # too short to be a glass
        first = amorphous_block(*args, seed=11, **_tiny_schedule())
        again = amorphous_block(*args, seed=11, **_tiny_schedule())
        other = amorphous_block(*args, seed=12, **_tiny_schedule())
    np.testing.assert_array_equal(first.positions, again.positions)
    assert first.get_chemical_symbols() == again.get_chemical_symbols()
    assert first.info == again.info
    assert np.abs(first.positions - other.positions).max() > 0.5


def test_store_gives_the_stored_block_without_quenching(tmp_path, monkeypatch):
    """A block is quenched once into the store and read back from then on
    (no MD), the same bits both times; other arguments are another file; a
    file that is not the block of its arguments is refused, naming it."""
    args = ("Li2O", [[9.0, 0.0], [0.0, 9.0]], 8.0)
    store = tmp_path / "store"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # too short to be a glass
        fresh = amorphous_block(*args, seed=11, **_tiny_schedule())
        first = amorphous_block(*args, seed=11, store=store, **_tiny_schedule())
    (path,) = store.iterdir()
    assert path.name.startswith("Li2O-") and path.suffix == ".extxyz"
    # The store keeps 8 decimals: the fresh block to 1e-8 Å, and the block
    # returned when it is written is the one read back.
    np.testing.assert_allclose(first.positions, fresh.positions, rtol=0, atol=1e-8)

    def no_md(*_args, **_kwargs):
        raise AssertionError("a stored block was quenched again")

    monkeypatch.setattr(amorphous, "_run_melt_quench", no_md)
    again = amorphous_block(*args, seed=11, store=store, **_tiny_schedule())
    np.testing.assert_array_equal(again.positions, first.positions)
    np.testing.assert_array_equal(again.cell.array, first.cell.array)
    assert again.get_chemical_symbols() == first.get_chemical_symbols()
    np.testing.assert_array_equal(
        again.get_initial_charges(), fresh.get_initial_charges()
    )
    assert again.info["anion_q6"] == fresh.info["anion_q6"]
    with pytest.raises(AssertionError, match="quenched again"):
        amorphous_block(*args, seed=12, store=store, **_tiny_schedule())
    # A file under this key that holds another block: refused.
    broken = first.copy()
    broken.set_cell(first.cell.array * 1.01, scale_atoms=True)
    write(path, broken, format="extxyz")
    with pytest.raises(SetupError, match=rf"{path.name}: not the Li2O block"):
        amorphous_block(*args, seed=11, store=store, **_tiny_schedule())


def test_progress_lines_change_no_number():
    """The log sees the schedule, every phase and each attempt's Q6, ending
    at the last step; the block is bit for bit the one built without it."""
    args = ("LiF", [[9.0, 0.0], [0.0, 9.0]], 8.0)
    lines = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # too short to be a glass
        quiet = amorphous_block(*args, seed=3, **_tiny_schedule())
        logged = amorphous_block(*args, seed=3, log=lines.append, **_tiny_schedule())
    np.testing.assert_array_equal(quiet.positions, logged.positions)
    assert quiet.info == logged.info
    assert lines[0].startswith(f"LiF glass, {len(quiet)} ions") and "melt" in lines[0]
    steps = [line for line in lines if ": step " in line]
    # 70 steps, a line every 7: ten lines, each phase seen, the last at 70/70
    assert len(steps) == 10 and steps[-1].startswith("LiF attempt 1/1: step 70/70")
    assert {p for p in ("melt", "quench", "hold") if any(p in s for s in steps)} == {
        "melt",
        "quench",
        "hold",
    }
    assert f"Q6 {quiet.info['anion_q6']:.2f}" in lines[-1]


# ---------------------------------------------------- amorphous vs crystal
@pytest.fixture(scope="module", params=["LiF", "Li2O"])
def demo_block(request):
    """A demo-quality block of ~115 ions and the 300 K crystal of the model."""
    component = request.param
    block = amorphous_block(component, [[10.5, 0.0], [0.0, 10.5]], 9.0, seed=1)
    reps = (3, 3, 2) if component == "LiF" else (2, 2, 2)
    return component, block, _thermal_crystal(component, reps)


@pytest.mark.slow
def test_demo_block_is_amorphous(demo_block):
    component, block, crystal = demo_block
    glass, ref = _structure(block, component), _structure(crystal, component)
    # The crystal reference is what the measures call crystalline.
    assert ref["q6"] > 0.5 and ref["bragg"] > 0.85
    assert ref["cn"] == pytest.approx(CRYSTAL_CN[component][0], abs=0.05)
    # No long-range order of the anion sublattice, no sharp anion shells.
    assert glass["q6"] <= 0.30, (glass, ref)
    assert glass["bragg"] <= 0.65, (glass, ref)
    assert glass["g_anion_peak"] <= 0.8 * ref["g_anion_peak"], (glass, ref)
    # Li coordination away from the crystal's.
    cn_crystal, margin = CRYSTAL_CN[component]
    assert glass["cn"] <= cn_crystal - margin, (glass, ref)
    assert block.info["anion_q6"] == pytest.approx(glass["q6"], abs=1e-9)


@pytest.mark.slow
def test_demo_block_is_a_sound_solid(demo_block):
    component, block, _ = demo_block
    model = ION_PAIR_POTENTIALS[component]
    symbols = block.get_chemical_symbols()
    n_fu = symbols.count("Li") // model.stoichiometry["Li"]
    assert {el: symbols.count(el) for el in model.stoichiometry} == {
        el: n * n_fu for el, n in model.stoichiometry.items()
    }
    assert block.get_initial_charges().sum() == 0.0
    target = {"LiF": 2.50, "Li2O": 1.95}[component]
    assert abs(block.info["density_g_cm3"] / target - 1) < 0.05
    z = block.positions[:, 2]
    assert np.all((z >= 0) & (z < block.cell[2, 2]))
    # No unphysical contacts (thresholds and measured minima: MIN_DISTANCE_A).
    i, j, d = _pairs(block, 3.0)
    sym = np.array(symbols)
    for (a, b), d_min in MIN_DISTANCE_A.items():
        sel = (sym[i] == a) & (sym[j] == b)
        if sel.any():
            assert d[sel].min() >= d_min, (a, b, d[sel].min())
    # A glass lies above the crystal, by less than the 0.5 eV per formula unit
    # that would mean a broken structure (measured ~0.1 eV for both).
    e_glass = _energy(block, component) / n_fu
    e_crystal = _energy(_crystal(component), component) / 4
    assert 0.0 < e_glass - e_crystal < 0.5, (e_glass, e_crystal)
    melt_K = {"LiF": 2500.0, "Li2O": 3000.0}[component]
    assert block.info["melt_quench"].startswith(
        MELT_QUENCH_PRESETS["demo"].describe(melt_K, 300.0)
    )
