"""Poisson-integrated potential and densities along z: closed forms."""

import numpy as np
import pytest
from ase import Atoms

from constpot import keys
from constpot.analysis import (
    Profiles,
    gaussian_charge_density,
    poisson_potential,
    smearing_widths,
)
from constpot.analysis._frames import final_window_count
from constpot.units import EPSILON0_E_PER_V_A


def _sheets(q_per_atom=0.2, n=16, z1=20.0, z2=32.0, length=60.0, area_side=12.0):
    """+q sheet at z1 and -q sheet at z2, n atoms each on a square grid."""
    g = (np.arange(4) + 0.5) * area_side / 4
    x, y = np.meshgrid(g, g)
    xy = np.column_stack([x.ravel(), y.ravel()])[:n]
    pos = np.vstack(
        [np.column_stack([xy, np.full(n, z1)]), np.column_stack([xy, np.full(n, z2)])]
    )
    atoms = Atoms(
        "Li" * n + "F" * n,
        positions=pos,
        cell=[area_side, area_side, length],
        pbc=True,
    )
    atoms.arrays[keys.CHARGES] = np.r_[np.full(n, q_per_atom), np.full(n, -q_per_atom)]
    atoms.arrays[keys.REGION] = np.array(
        [keys.ANODE_REGION] * n + [keys.COUNTER_REGION] * n
    )
    atoms.info["time_fs"] = 0.0
    sigma = n * q_per_atom / area_side**2
    return atoms, sigma, z2 - z1


@pytest.mark.parametrize("width", [0.0, 0.5, 1.28])
def test_capacitor_drop_is_sigma_d_over_epsilon0(width):
    """Two opposite sheets: φ(below) − φ(above) = σd/ε₀ (exact; 1% asked)."""
    atoms, sigma, d = _sheets()
    z = np.array([2.0, 58.0])
    q = atoms.arrays[keys.CHARGES]
    phi = poisson_potential(
        z, atoms.positions[:, 2], q, np.full(len(atoms), width), 144.0
    )
    expected = sigma * d / EPSILON0_E_PER_V_A
    np.testing.assert_allclose(phi[0] - phi[1], expected, rtol=1e-2)
    # closed form: far from the Gaussians the result is exact to round-off
    np.testing.assert_allclose(phi[0] - phi[1], expected, rtol=1e-10)
    assert phi[0] == pytest.approx(0.0, abs=1e-12)  # reference: zero far below


def test_profiles_class_recovers_the_drop_and_the_field():
    """Profiles on a frame: the drop across the capacitor and a linear ramp."""
    atoms, sigma, d = _sheets()
    prof = Profiles([atoms], bin_width_A=0.1, smearing_A="qeq").run()
    table = prof.results["table"]
    z, phi = table["z_A"].to_numpy(), table["potential_V"].to_numpy()
    expected = sigma * d / EPSILON0_E_PER_V_A
    below, above = phi[z < 10].mean(), phi[z > 45].mean()
    np.testing.assert_allclose(below - above, expected, rtol=1e-2)
    # between the sheets the field is σ/ε₀ (slope of φ); 1e-4: the Li Gaussian
    # (σ = 1.28 Å) 5 Å away still holds Φ(−3.9) ≈ 5e-5 of its charge
    mid = (z > 25) & (z < 27)
    slope = np.polyfit(z[mid], phi[mid], 1)[0]
    np.testing.assert_allclose(-slope, sigma / EPSILON0_E_PER_V_A, rtol=1e-4)
    # Poisson on the grid: ε₀ φ'' = −ρ; three-point second difference with
    # h = 0.1 Å, error h²/12 × (4th derivative) ≈ (h/σ_F)²/12 ≈ 0.3% of the
    # F peak: 1%
    rho = table["charge_density_e_per_A3"].to_numpy()
    h = z[1] - z[0]
    lap = np.diff(phi, 2) / h**2
    np.testing.assert_allclose(
        EPSILON0_E_PER_V_A * lap, -rho[1:-1], atol=1e-2 * np.abs(rho).max()
    )
    # electrode drop: φ at the counter "electrode" minus φ at the anode (here
    # zero-thickness regions, so φ at the two sheet centres)
    at = np.interp([32.0, 20.0], z, phi)
    np.testing.assert_allclose(prof.results["electrode_drop_V"], at[0] - at[1])
    assert prof.results["electrode_drop_V"] < 0
    # vacuum levels: the full capacitor drop, φ(top) − φ(bottom) = −σd/ε₀
    np.testing.assert_allclose(prof.results["vacuum_drop_V"], -expected, rtol=1e-2)
    assert np.isnan(prof.results["imposed_drop_V"])  # no potentials in info


def test_density_integrates_to_the_atom_count_and_charge():
    atoms, _, _ = _sheets()
    table = Profiles([atoms], bin_width_A=0.25).run().results["table"]
    dz, area = 0.25, 144.0
    assert table["density_Li_per_A3"].sum() * dz * area == pytest.approx(16)
    assert table["density_F_per_A3"].sum() * dz * area == pytest.approx(16)
    one = atoms[:16]
    one.arrays[keys.CHARGES] = np.full(16, 0.2)
    z = np.linspace(0, 60, 6001)
    rho = gaussian_charge_density(
        z, one.positions[:, 2], one.arrays[keys.CHARGES], np.full(16, 1.0), area
    )
    assert np.trapezoid(rho, z) * area == pytest.approx(3.2, rel=1e-9)


def test_window_averages_the_final_frames():
    atoms, _, _ = _sheets()
    traj = []
    for k, scale in enumerate([5.0, 1.0, 1.0, 1.0]):
        a = atoms.copy()
        a.arrays[keys.CHARGES] = atoms.arrays[keys.CHARGES] * scale
        a.info["time_fs"] = 100.0 * k
        traj.append(a)
    prof = Profiles(traj, window=0.5).run()
    assert prof.results["frames"] == [2, 3]
    one = Profiles(traj[-1:]).run().results["table"]["potential_V"]
    np.testing.assert_allclose(prof.results["table"]["potential_V"], one)


@pytest.mark.parametrize(
    ("n_frames", "window", "frames"),
    [(3, 0.5, [1, 2]), (5, 0.1, [4]), (4, 1.0, [0, 1, 2, 3]), (7, 0.3, [4, 5, 6])],
)
def test_window_is_the_shared_final_window_rule(n_frames, window, frames):
    """The last ceil(window · n) frames, at least one: the rule of the charge
    and cluster means (final_window_count), so all final-window numbers of a
    run average the same frames."""
    atoms, _, _ = _sheets()
    traj = [atoms.copy() for _ in range(n_frames)]
    prof = Profiles(traj, window=window).run()
    assert prof.results["frames"] == frames
    assert len(frames) == final_window_count(n_frames, window)
    # every region is reported, empty ones (no SEI, no electrolyte here) as NaN
    extents = prof.results["extents_A"]
    assert list(extents) == list(keys.REGIONS)
    assert np.isnan(extents[keys.SEI_REGION]).all()
    assert extents[keys.ANODE_REGION] == (20.0, 20.0)


def test_smearing_widths_and_errors():
    np.testing.assert_allclose(smearing_widths(["Li", "F"], "qeq"), [1.28, 0.57])
    np.testing.assert_allclose(smearing_widths(["Li"], 0.4), [0.4])
    with pytest.raises(ValueError, match=r"no Gaussian width.*Xe"):
        smearing_widths(["Xe"], {"Li": 1.0})
    with pytest.raises(ValueError, match="bin_width_A"):
        Profiles([_sheets()[0]], bin_width_A=0)
