"""Physics facts for :class:`constpot.qeq.GaussianEwald`.

The operator is the Coulomb interaction of Gaussian charges (σ = 0: point
charges) in a periodic cell, 3D (tinfoil Ewald) or slab (Yeh–Berkowitz). Each
test checks a closed form, an identity, an independent algorithm or an external
reference; none compares against numbers the code produced before.

Units: Å, e, V, eV; k = ``COULOMB_EV_A`` eV·Å/e². ``accuracy`` is torch-pme's
error-bound target (RMS force error for unit charges, e²/Å²), so the natural
scale of a potential error is k·accuracy V per e, of an energy error
k·accuracy·(charge² · Å) eV; tolerances below are set from that.
"""

import math

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.geometry import get_distances, wrap_positions
from ase.geometry.cell import cellpar_to_cell
from scipy.special import erf, erfcinv

from constpot.qeq import GaussianEwald, QEqSetupError, pad_vacuum
from constpot.units import COULOMB_EV_A

K = COULOMB_EV_A
F64 = torch.float64

#: NaCl Madelung constant referred to the nearest-neighbour distance:
#: 1.74756459463318219... (Borwein, Glasser, McPhedran, Wan & Zucker, *Lattice
#: Sums Then and Now*, Cambridge University Press 2013, ch. 1).
MADELUNG_NACL = 1.747564594633

KSPACES = ["ewald", "pme"]


# ------------------------------------------------------------------ helpers
def _t(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=F64)


def _random_cell(rng, n_atoms, lengths=(6.0, 9.0), min_dist=1.0):
    """Random triclinic cell (angles 70–110°), atoms ≥ ``min_dist`` Å apart
    (periodic images included) and random neutral charges (unit variance)."""
    cellpar = np.r_[rng.uniform(*lengths, 3), rng.uniform(70.0, 110.0, 3)]
    cell = cellpar_to_cell(cellpar)
    positions = []
    while len(positions) < n_atoms:
        x = rng.random(3) @ cell
        if positions:
            _, dist = get_distances(x[None], np.array(positions), cell=cell, pbc=True)
            if dist.min() < min_dist:
                continue
        positions.append(x)
    charges = rng.normal(size=n_atoms)
    return cell, np.array(positions), charges - charges.mean()


def _slab_atoms(rng, n_atoms=10, length=8.0, thickness=6.0, factor=3.0):
    """Neutral slab with a z dipole in a hexagonal x–y cell (a, b at 60°),
    padded with vacuum to ``factor`` × its thickness."""
    cell = np.array(
        [[length, 0, 0], [length / 2, length * math.sqrt(3) / 2, 0], [0, 0, thickness]]
    )
    positions = []
    while len(positions) < n_atoms:
        x = np.r_[rng.random(2), 0.0] @ cell + [0, 0, rng.uniform(0, thickness)]
        if positions:
            _, dist = get_distances(
                x[None], np.array(positions), cell=cell, pbc=[True, True, False]
            )
            if dist.min() < 1.2:
                continue
        positions.append(x)
    positions = np.array(positions)
    # Positive below, negative above: a sizeable z dipole.
    q = -0.3 * (positions[:, 2] - positions[:, 2].mean())
    q += rng.normal(scale=0.2, size=n_atoms)
    atoms = Atoms(
        f"H{n_atoms}", positions=positions, cell=cell, pbc=[True, True, False]
    )
    atoms.set_initial_charges(q - q.mean())
    return pad_vacuum(atoms, factor=factor)


def _isolated_pair_energy(q, sigma, distance):
    """Closed form for two Gaussian charges alone in space, eV (docs/design.md §4)."""
    gamma = math.sqrt(2.0 * (sigma[0] ** 2 + sigma[1] ** 2))
    pair = K * q[0] * q[1] * erf(distance / gamma) / distance
    self_ = K * sum(
        qi**2 / (2.0 * math.sqrt(math.pi) * si) for qi, si in zip(q, sigma, strict=True)
    )
    return pair + self_


def _square_lattice_dipole_images(length, d, n_max=300):
    """S = Σ_{n ∈ Z², n ≠ 0} [1/R_n − 1/√(R_n² + d²)], R_n = length·|n|, 1/Å.

    The image energy of a neutral pair (±q, separation d along z) repeated on a
    square x–y lattice is k q² S. Direct sum over the square |n_x|, |n_y| ≤ n_max
    plus the integral of the summand's asymptote d²/(2R³) outside it,
    (d²/2 length³)·4√2/(n_max + ½); the rest is O(d⁴/R⁵) and negligible.
    """
    n = np.arange(-n_max, n_max + 1)
    nx, ny = np.meshgrid(n, n, indexing="ij")
    r = length * np.hypot(nx, ny).ravel()
    r = r[r > 0]
    direct = np.sum(1.0 / r - 1.0 / np.sqrt(r * r + d * d))
    tail = d * d / (2.0 * length**3) * 4.0 * math.sqrt(2.0) / (n_max + 0.5)
    return direct + tail


def _fourier_energy(positions, cell, charges, sigma, tol=1e-16):
    """Energy of Gaussian charges by the plain reciprocal sum, eV.

    E = (2πk/V) Σ_{k≠0} |Σ_i q_i exp(−k²σ_i²/2) exp(i k·r_i)|² / k², which
    converges absolutely for σ_i > 0 and includes each Gaussian's self energy;
    dropping k = 0 is the neutralising-background convention of net-charged
    cells. Independent of any Ewald splitting.
    """
    recip = 2.0 * np.pi * np.linalg.inv(cell).T
    k_max = math.sqrt(-math.log(tol)) / sigma.min()
    n_max = np.ceil(k_max * np.linalg.norm(cell, axis=1) / (2.0 * np.pi)).astype(int)
    grid = np.meshgrid(*[np.arange(-m, m + 1) for m in n_max], indexing="ij")
    n = np.stack(grid, axis=-1).reshape(-1, 3)
    k = n[np.any(n != 0, axis=1)] @ recip
    k_sq = np.einsum("ij,ij->i", k, k)
    k, k_sq = k[k_sq <= k_max**2], k_sq[k_sq <= k_max**2]
    rho = (
        charges * np.exp(-0.5 * np.outer(k_sq, sigma**2) + 1j * k @ positions.T)
    ).sum(axis=1)
    volume = abs(np.linalg.det(cell))
    return K * 2.0 * np.pi / volume * np.sum(np.abs(rho) ** 2 / k_sq)


def _finite_difference_forces(positions, cell, sigma, charges, h=1e-4, **kwargs):
    """−∂E/∂R by central differences of ``energy`` at fixed charges, eV/Å."""
    reference = GaussianEwald(positions, cell, sigma, **kwargs).settings
    fd = np.empty_like(positions)
    for i in range(len(positions)):
        for a in range(3):
            energies = []
            for step in (h, -h):
                p = positions.copy()
                p[i, a] += step
                op = GaussianEwald(p, cell, sigma, **kwargs)
                # Same splitting at every displaced geometry, or the difference
                # would mix two approximations of the energy.
                assert op.settings == reference
                energies.append(op.energy(charges))
            fd[i, a] = -(energies[0] - energies[1]) / (2.0 * h)
    return fd


# ------------------------------------------------------------- closed forms
@pytest.mark.parametrize("kspace", KSPACES)
@pytest.mark.parametrize("lattice", ["cubic", "primitive"])
def test_madelung_constant_nacl(lattice, kspace):
    """Rock salt with point charges ±1: E = −M k N_pairs / r0."""
    a = 5.64
    r0 = a / 2
    if lattice == "cubic":  # 8-atom conventional cell
        fcc = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])
        positions = np.vstack([fcc, fcc + np.array([0.5, 0, 0])]) * a
        cell = np.eye(3) * a
        charges = np.r_[np.ones(4), -np.ones(4)]
    else:  # 2-atom fcc primitive cell (60° angles, triclinic representation)
        positions = np.array([[0, 0, 0], [r0, 0, 0]])
        cell = np.array([[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]) * a
        charges = np.array([1.0, -1.0])
    op = GaussianEwald(
        positions, cell, np.zeros(len(charges)), accuracy=1e-10, kspace=kspace
    )
    assert op.settings.kspace == kspace
    n_pairs = len(charges) // 2
    madelung = -op.energy(_t(charges)) * r0 / (K * n_pairs)
    # accuracy 1e-10 puts the summation error near 1e-10 relative; rtol 1e-8 is
    # tighter than the 1e-6 acceptance criterion and looser than that error.
    np.testing.assert_allclose(madelung, MADELUNG_NACL, rtol=1e-8, atol=0)


@pytest.mark.parametrize("kspace", KSPACES)
def test_isolated_gaussian_pair_3d(kspace):
    """A neutral Gaussian pair in a big cubic box is the isolated pair plus the
    tinfoil term of its periodic dipole.

    For a cubic lattice the dipole–dipole image sum vanishes, so
    E(L) = E_iso − (2πk/3V) p² + O(k q² d⁴/L⁵) (de Leeuw, Perram & Smith, Proc.
    R. Soc. A 373, 27 (1980)).
    """
    q = (0.7, -0.7)
    sigma = (1.1, 0.6)
    d = 3.2
    p = abs(q[0]) * d
    e_iso = _isolated_pair_energy(q, sigma, d)
    tinfoil_coeff = -2.0 * math.pi * K * p**2 / 3.0  # eV·Å³
    for length in (50.0, 100.0):
        centre = length / 2
        positions = np.array(
            [[centre] * 2 + [centre - d / 2], [centre] * 2 + [centre + d / 2]]
        )
        op = GaussianEwald(
            positions, np.eye(3) * length, sigma, accuracy=1e-10, kspace=kspace
        )
        energy = op.energy(_t(q))
        volume = length**3
        # The finite-size error scales as 1/V with the tinfoil coefficient; the
        # O(L⁻⁵) image multipoles leave 6e-3 (L = 50) and 1.5e-3 (L = 100) of it.
        np.testing.assert_allclose(
            (energy - e_iso) * volume, tinfoil_coeff, rtol=1e-2, atol=0
        )
    # L = 100 Å: after removing the tinfoil term (5e-5 relative) the O(L⁻⁵)
    # residual is ~8e-8 and the Ewald error at accuracy 1e-10 ~1e-7 relative.
    np.testing.assert_allclose(
        energy - tinfoil_coeff / volume, e_iso, rtol=1e-6, atol=0
    )


@pytest.mark.parametrize("kspace", KSPACES)
def test_isolated_gaussian_pair_slab(kspace):
    """Slab geometry with YB correction gives the 2D-periodic energy.

    A z-dipole repeated on a 20 Å square x–y lattice: E = E_iso + k q² S with the
    image sum S of :func:`_square_lattice_dipole_images` (images 20 Å apart see
    each other as point charges: erfc(20/2.2) ~ 1e-37). The z replicas of
    the 3D sum leave exp(−2π·gap/L_xy) ~ 1e-8 once the dipole layer term is
    removed (Yeh & Berkowitz, J. Chem. Phys. 111, 3155 (1999)).
    """
    q = (0.7, -0.7)
    sigma = (1.1, 0.6)
    d = 3.2
    lxy, lz = 20.0, 60.0
    positions = np.array(
        [[lxy / 2, lxy / 2, lz / 2 - d / 2], [lxy / 2, lxy / 2, lz / 2 + d / 2]]
    )
    cell = np.diag([lxy, lxy, lz])
    expected = _isolated_pair_energy(q, sigma, d) + K * q[0] ** 2 * (
        _square_lattice_dipole_images(lxy, d)
    )
    slab = GaussianEwald(
        positions, cell, sigma, slab=True, accuracy=1e-10, kspace=kspace
    ).energy(_t(q))
    # Measured 5e-9 relative (Ewald error at accuracy 1e-10 and the replicas).
    np.testing.assert_allclose(slab, expected, rtol=1e-6, atol=0)
    # Without the correction the z replicas' dipole layers cost 6e-3 relative:
    # the check above is not passed by accident.
    plain = GaussianEwald(positions, cell, sigma, accuracy=1e-10, kspace=kspace)
    assert abs(plain.energy(_t(q)) / expected - 1.0) > 1e-3


# ------------------------------------------------------ external references
@pytest.mark.parametrize("kspace", KSPACES)
def test_point_charges_match_pymatgen(rng, kspace):
    """Random neutral triclinic cells: energy and forces of point charges equal
    pymatgen's EwaldSummation (an independent Ewald implementation)."""
    pmg = pytest.importorskip("pymatgen.core")
    ewald_mod = pytest.importorskip("pymatgen.analysis.ewald")
    # pymatgen's CODATA constant differs from ours by 7e-10; rescale exactly.
    scale = K / ewald_mod.EwaldSummation.CONV_FACT
    for n_atoms in (6, 9, 12):
        cell, positions, charges = _random_cell(rng, n_atoms)
        # Charges enter through the "charge" site property (read by pymatgen's
        # compute_average_oxidation_state when species carry no oxidation state).
        structure = pmg.Structure(
            pmg.Lattice(cell),
            ["H"] * n_atoms,
            positions,
            coords_are_cartesian=True,
            site_properties={"charge": charges},
        )
        ref = ewald_mod.EwaldSummation(structure, compute_forces=True)
        op = GaussianEwald(
            positions, cell, np.zeros(n_atoms), accuracy=1e-10, kspace=kspace
        )
        # Both sums are converged to ~1e-10 relative (pymatgen: acc_factor 12).
        np.testing.assert_allclose(
            op.energy(_t(charges)), ref.total_energy * scale, rtol=1e-6, atol=0
        )
        forces = op.forces(_t(charges)).numpy()
        ref_forces = ref.forces * scale
        # Force errors are a few k·accuracy ≈ 1e-9 eV/Å here.
        np.testing.assert_allclose(
            forces, ref_forces, rtol=0, atol=1e-6 * np.abs(ref_forces).max()
        )


# ------------------------------------------------------ net-charged cells
@pytest.mark.parametrize("kspace", KSPACES)
def test_net_charged_energy_independent_of_splitting(rng, kspace):
    """Net charge 1.3 e with Gaussian and point charges: the energy does not
    depend on the Ewald splitting, which checks the smearing-dependent
    background and self terms of the point-charge part."""
    cell, positions, charges = _random_cell(rng, 10)
    charges = charges + 0.13
    sigma = rng.uniform(0.3, 1.0, 10) * (rng.random(10) > 0.3)
    ops = [
        GaussianEwald(positions, cell, sigma, accuracy=1e-10, cutoff=rc, kspace=kspace)
        for rc in (10.0, 13.0, 16.0)
    ]
    # The splitting really changes (smearing 1.4 → 2.3 Å or so).
    assert len({op.settings.smearing for op in ops}) == 3
    energies = [op.energy(_t(charges)) for op in ops]
    # Each energy is within ~1e-9 relative at accuracy 1e-10.
    np.testing.assert_allclose(energies[1:], energies[0], rtol=1e-7, atol=0)


@pytest.mark.parametrize("kspace", KSPACES)
@pytest.mark.parametrize("net_charge", [0.0, 1.3])
def test_gaussian_energy_matches_direct_fourier_sum(rng, net_charge, kspace):
    """All-Gaussian charges: the energy equals the absolutely convergent plain
    reciprocal sum, for neutral and net-charged cells. With net charge this
    checks the width term (2π/V)(σ_i² + σ_j²) of the neutralising background
    (without it the energy is off by ~2% here)."""
    n_atoms = 10
    cell, positions, charges = _random_cell(rng, n_atoms)
    charges = charges + net_charge / n_atoms
    sigma = rng.uniform(0.5, 1.0, n_atoms)
    op = GaussianEwald(positions, cell, sigma, accuracy=1e-10, kspace=kspace)
    expected = _fourier_energy(positions, cell, charges, sigma)
    # The Fourier sum is converged to 1e-16 per term; Ewald at accuracy 1e-10 to
    # ~1e-9 relative (measured 3e-10).
    np.testing.assert_allclose(op.energy(_t(charges)), expected, rtol=1e-7, atol=0)


def test_wide_gaussians_get_a_long_enough_cutoff(rng):
    """σ up to 2.6 Å needs a real-space cutoff 2 σ_max erfc⁻¹(accuracy) ≈ 24 Å,
    beyond the 6–20 Å tuning range: it is taken, and the energy equals the
    direct Fourier sum (rtol as in the test above)."""
    n_atoms = 6
    cell, positions, charges = _random_cell(rng, n_atoms, lengths=(8.0, 10.0))
    sigma = np.r_[2.6, rng.uniform(0.5, 2.0, n_atoms - 1)]
    op = GaussianEwald(positions, cell, sigma, accuracy=1e-10)
    assert op.settings.cutoff >= 2 * 2.6 * erfcinv(1e-10)
    expected = _fourier_energy(positions, cell, charges, sigma)
    np.testing.assert_allclose(op.energy(_t(charges)), expected, rtol=1e-7, atol=0)


# --------------------------------------------------------------- identities
@pytest.mark.parametrize("slab", [False, True])
def test_matrix_equals_potential_of_unit_charges(rng, slab):
    """matrix() column j is potential(e_j); the matrix is symmetric."""
    if slab:
        atoms = _slab_atoms(rng, n_atoms=8)
        positions, cell = atoms.positions, atoms.cell.array
    else:
        cell, positions, _ = _random_cell(rng, 8)
    sigma = rng.uniform(0.3, 1.0, len(positions)) * (rng.random(len(positions)) > 0.3)
    op = GaussianEwald(positions, cell, sigma, slab=slab, kspace="ewald")
    mat = op.matrix()
    n = len(positions)
    eye = torch.eye(n, dtype=F64)
    # Same terms summed in another order: agreement to roundoff, checked at
    # 1e-10 of the largest entry.
    atol = 1e-10 * float(mat.abs().max())
    torch.testing.assert_close(op.potential(eye), mat, rtol=0, atol=atol)
    for j in (0, n - 1):  # the (n_atoms,) call path as well
        torch.testing.assert_close(
            op.potential(eye[:, j]), mat[:, j], rtol=0, atol=atol
        )
    torch.testing.assert_close(mat, mat.T, rtol=0, atol=atol)


def test_matrix_needs_ewald(rng):
    cell, positions, _ = _random_cell(rng, 4)
    op = GaussianEwald(positions, cell, np.zeros(4), kspace="pme")
    with pytest.raises(QEqSetupError, match="kspace='ewald'"):
        op.matrix()


def test_pme_and_ewald_agree_within_accuracy(rng):
    """At accuracy 1e-6 both methods are within 10·k·accuracy = 1.4e-4 V of a
    converged reference (accuracy 1e-12), and of each other.

    ``accuracy`` bounds torch-pme's RMS force estimate for unit charges; over
    36 random cells the largest potential errors were 1–6 × k·accuracy (e.g.
    PME − Ewald = 1.6e-5 V on this cell), hence the factor 10. RMS forces for
    unit charges: Ewald within 3·k·accuracy; PME within 20·k·accuracy (torch-pme's
    PME estimate is optimistic by up to ~13× in those cells).
    """
    accuracy = 1e-6
    n_atoms = 12
    cell, positions, charges = _random_cell(rng, n_atoms)
    sigma = rng.uniform(0.3, 1.3, n_atoms)
    q = _t(charges)
    unit = torch.ones(n_atoms, dtype=F64)
    ref = GaussianEwald(positions, cell, sigma, accuracy=1e-12, kspace="ewald")
    ewald = GaussianEwald(positions, cell, sigma, accuracy=accuracy, kspace="ewald")
    pme = GaussianEwald(positions, cell, sigma, accuracy=accuracy, kspace="pme")
    scale = K * accuracy
    phi_ref = ref.potential(q)
    for op in (ewald, pme):
        torch.testing.assert_close(op.potential(q), phi_ref, rtol=0, atol=10 * scale)
    torch.testing.assert_close(
        pme.potential(q), ewald.potential(q), rtol=0, atol=10 * scale
    )
    f_ref = ref.forces(unit)
    for op, factor in ((ewald, 3.0), (pme, 20.0)):
        rms = float(((op.forces(unit) - f_ref) ** 2).sum(dim=1).mean().sqrt())
        assert rms < factor * scale, (op.settings.kspace, rms / scale)


@pytest.mark.parametrize("kspace", KSPACES)
@pytest.mark.parametrize(
    ("slab", "net_charge"), [(False, 0.0), (True, 0.0), (True, 0.4)]
)
def test_forces_match_finite_differences(rng, slab, net_charge, kspace):
    """forces(q) = −∂E/∂R at fixed q, by central differences (h = 1e-4 Å); the
    net-charged slab exercises the −Q Σ q z² term of the slab correction."""
    if slab:
        atoms = _slab_atoms(rng, n_atoms=8)
        positions, cell = atoms.positions, atoms.cell.array
        charges = atoms.get_initial_charges()
    else:
        cell, positions, charges = _random_cell(rng, 6)
    charges = charges + net_charge / len(charges)
    sigma = rng.uniform(0.3, 1.0, len(positions)) * (rng.random(len(positions)) > 0.3)
    # An explicit cutoff fixes the splitting (and skips the tuning search).
    kwargs = dict(slab=slab, accuracy=1e-8, cutoff=9.0, kspace=kspace)
    q = _t(charges)
    forces = GaussianEwald(positions, cell, sigma, **kwargs).forces(q).numpy()
    fd = _finite_difference_forces(positions, cell, sigma, q, **kwargs)
    # Central-difference error h²E'''/6 and roundoff ε|E|/h are ~1e-9 eV/Å
    # (measured 1e-9 relative); 1e-5 of the largest force leaves room for a pair
    # crossing the cutoff (a jump of ~k·accuracy in E).
    np.testing.assert_allclose(forces, fd, rtol=0, atol=1e-5 * np.abs(fd).max())


@pytest.mark.parametrize(
    ("kspace", "slab", "rel_tol"),
    [
        # Ewald: pair forces antisymmetric, k-space net force zero analytically;
        # roundoff only.
        ("ewald", False, 1e-8),
        # Neutral slab: the YB term depends on M_z, unchanged by a rigid shift.
        ("ewald", True, 1e-8),
        # PME's mesh breaks translation invariance at the level of its
        # interpolation error (measured 2.5e-7 of the max force at accuracy 1e-8).
        ("pme", False, 1e-5),
    ],
)
def test_forces_sum_to_zero(rng, kspace, slab, rel_tol):
    if slab:
        atoms = _slab_atoms(rng, n_atoms=10)
        positions, cell = atoms.positions, atoms.cell.array
        charges = atoms.get_initial_charges()
    else:
        cell, positions, charges = _random_cell(rng, 12)
    sigma = rng.uniform(0.3, 1.0, len(positions))
    op = GaussianEwald(positions, cell, sigma, slab=slab, accuracy=1e-8, kspace=kspace)
    forces = op.forces(_t(charges))
    net = forces.sum(dim=0).abs().max()
    assert float(net) < rel_tol * float(forces.abs().max())


def test_energy_invariant_under_translation_and_permutation(rng):
    """3D Ewald: E is unchanged by a rigid shift (wrapped or not) and by
    relabelling the atoms; both only change the order and phases of the same
    terms, so 1e-10 relative is roundoff headroom."""
    n_atoms = 10
    cell, positions, charges = _random_cell(rng, n_atoms)
    sigma = rng.uniform(0.3, 1.0, n_atoms) * (rng.random(n_atoms) > 0.3)

    def energy(pos, sig, q):
        op = GaussianEwald(pos, cell, sig, cutoff=9.0, kspace="ewald")
        return op.energy(_t(q))

    e0 = energy(positions, sigma, charges)
    shift = np.array([1.7, -2.3, 0.9])
    shifted = positions + shift
    for pos in (shifted, wrap_positions(shifted, cell)):
        np.testing.assert_allclose(energy(pos, sigma, charges), e0, rtol=1e-10, atol=0)
    perm = rng.permutation(n_atoms)
    np.testing.assert_allclose(
        energy(positions[perm], sigma[perm], charges[perm]), e0, rtol=1e-10, atol=0
    )


def test_settings_are_deterministic(rng):
    """The same input gives the same splitting and the same numbers (no
    timing-based tuning)."""
    cell, positions, charges = _random_cell(rng, 8)
    sigma = rng.uniform(0.3, 1.0, 8)
    a = GaussianEwald(positions, cell, sigma)
    b = GaussianEwald(positions, cell, sigma)
    assert a.settings == b.settings
    assert a.settings.todict()["cutoff"] == a.settings.cutoff
    assert a.energy(_t(charges)) == b.energy(_t(charges))


# -------------------------------------------------------------------- slabs
@pytest.mark.parametrize("kspace", KSPACES)
def test_slab_energy_converges_with_vacuum(rng, kspace):
    """Slab with a z dipole in a hexagonal x–y cell: with the YB correction the
    energy is converged once the vacuum is ~2× the slab (factor 3 vs 6 differ by
    exp(−2π·gap/L_xy), measured 1.3e-5); plain 3D Ewald keeps the spurious
    dipole-layer interaction, ∝ 1/L_z (14% here)."""
    atoms = _slab_atoms(rng, n_atoms=10)
    sigma = rng.uniform(0.3, 1.0, len(atoms))
    q = _t(atoms.get_initial_charges())
    dipole_z = float((q.numpy() * atoms.positions[:, 2]).sum())
    assert abs(dipole_z) > 1.0  # e·Å: the test needs a real dipole

    def energy(factor, slab):
        padded = pad_vacuum(atoms, factor=factor)
        op = GaussianEwald(
            padded.positions,
            padded.cell.array,
            sigma,
            slab=slab,
            accuracy=1e-10,
            kspace=kspace,
        )
        return op.energy(q)

    np.testing.assert_allclose(energy(3.0, True), energy(6.0, True), rtol=1e-4, atol=0)
    plain3, plain6 = energy(3.0, False), energy(6.0, False)
    assert abs(plain3 / plain6 - 1.0) > 1e-2


@pytest.mark.parametrize(
    "widths",
    [
        "point",
        "gaussian",
    ],
)
def test_net_charged_slab_energy_converges_with_vacuum(rng, widths):
    """Net charge 0.5 e in a slab: with the net-charge terms of Ballenegger,
    Arnold & Cerdà, J. Chem. Phys. 131, 094107 (2009), eq. 31, the energy
    converges with vacuum as for a neutral slab (point charges: factor 3 vs 6
    measured 3.7e-6 relative); plain 3D Ewald drifts by tens of percent."""
    atoms = _slab_atoms(rng, n_atoms=10)
    n_atoms = len(atoms)
    sigma = rng.uniform(0.3, 1.0, n_atoms)
    if widths == "point":
        sigma = np.zeros(n_atoms)
    q = _t(atoms.get_initial_charges() + 0.5 / n_atoms)

    def energy(factor, slab):
        padded = pad_vacuum(atoms, factor=factor)
        op = GaussianEwald(
            padded.positions, padded.cell.array, sigma, slab=slab, accuracy=1e-10
        )
        return op.energy(q)

    plain3, plain6 = energy(3.0, False), energy(6.0, False)
    assert abs(plain3 / plain6 - 1.0) > 1e-2
    np.testing.assert_allclose(energy(3.0, True), energy(6.0, True), rtol=1e-4, atol=0)


@pytest.mark.parametrize("kspace", KSPACES)
def test_slab_triclinic_xy_cell_matches_rectangular_supercell(rng, kspace):
    """A hexagonal x–y cell (a, b at 60°) and its rectangular 2× supercell
    (a, 2b − a) describe the same periodic slab: E_rect = 2 E_hex, the YB term
    included ((2π/V) M_z² is extensive)."""
    atoms = _slab_atoms(rng, n_atoms=10)
    cell = atoms.cell.array
    sigma = rng.uniform(0.3, 1.0, len(atoms))
    q = _t(atoms.get_initial_charges())
    rect = np.array([cell[0], 2 * cell[1] - cell[0], cell[2]])
    positions2 = wrap_positions(
        np.vstack([atoms.positions, atoms.positions + cell[1]]),
        rect,
        pbc=[True, True, False],
    )
    kwargs = dict(slab=True, accuracy=1e-10, kspace=kspace)
    e_hex = GaussianEwald(atoms.positions, cell, sigma, **kwargs).energy(q)
    e_rect = GaussianEwald(positions2, rect, np.r_[sigma, sigma], **kwargs).energy(
        torch.cat([q, q])
    )
    # Two converged sums (accuracy 1e-10): measured 4e-11 relative.
    np.testing.assert_allclose(e_rect, 2.0 * e_hex, rtol=1e-8, atol=0)


# ------------------------------------------------------------------- errors
def _error_cases():
    cell = np.eye(3) * 8.0
    pos = np.array([[0, 0, 0], [1, 1, 1], [3, 3, 3], [2, 2, 0.5], [5, 5, 5.0]])
    overlapping = pos.copy()
    overlapping[3] = [1.1, 1.1, 1.05]  # 0.15 Å from atom 1
    zeros = np.zeros(5)
    slab = {"slab": True}
    return [
        pytest.param(
            overlapping,
            cell,
            zeros,
            {},
            r"atoms 1 and 3 are 0\.1500 Å apart",
            id="overlap",
        ),
        pytest.param(
            np.zeros((1, 3)),
            np.eye(3) * 0.25,
            np.zeros(1),
            {},
            r"atoms 0 and 0 .*own periodic image",
            id="overlap-own-image",
        ),
        pytest.param(
            pos + np.array([0, 0, 3.5]),
            cell,
            zeros,
            slab,
            r"atom index 4 at z = 8\.5",
            id="slab-outside-top",
        ),
        pytest.param(
            pos - np.array([0, 0, 0.7]),
            cell,
            zeros,
            slab,
            r"atom index 0 at z = -0\.7",
            id="slab-outside-bottom",
        ),
        pytest.param(
            pos,
            [[8, 0, 0], [0, 8, 0], [1, 0, 8]],
            zeros,
            slab,
            r"third cell vector along \+z",
            id="slab-c-tilted",
        ),
        pytest.param(
            pos,
            [[8, 0, 0.5], [0, 8, 0], [0, 0, 8]],
            zeros,
            slab,
            r"first two cell vectors in the x-y plane",
            id="slab-a-out-of-plane",
        ),
        pytest.param(
            pos,
            cell,
            -np.ones(5),
            {},
            r"sigma must be finite and >= 0",
            id="negative-sigma",
        ),
        pytest.param(
            pos, cell, np.full(5, np.nan), {}, r"sigma must be finite", id="nan-sigma"
        ),
        pytest.param(
            pos[:, :2],
            cell,
            zeros,
            {},
            r"positions must have shape \(n_atoms, 3\), got \(5, 2\)",
            id="positions-shape",
        ),
        pytest.param(
            pos,
            cell[:2],
            zeros,
            {},
            r"cell must have shape \(3, 3\), got \(2, 3\)",
            id="cell-shape",
        ),
        pytest.param(
            pos,
            cell,
            zeros[:4],
            {},
            r"sigma must have shape \(5,\), got \(4,\)",
            id="sigma-shape",
        ),
        pytest.param(
            pos, np.zeros((3, 3)), zeros, {}, r"cell is singular", id="singular-cell"
        ),
        pytest.param(
            pos,
            cell,
            np.ones(5),
            {"cutoff": 3.0},
            r"cutoff 3\.000 Å is too short for Gaussian widths up to 1\.000 Å"
            r".*needs >= 6\.9",
            id="cutoff-too-short",
        ),
        pytest.param(
            pos,
            cell,
            zeros,
            {"kspace": "fft"},
            r"kspace must be .*got 'fft'",
            id="kspace",
        ),
        pytest.param(
            pos,
            cell,
            zeros,
            {"accuracy": 0.0},
            r"accuracy must be in \(0, 1\), got 0",
            id="accuracy",
        ),
    ]


@pytest.mark.parametrize(
    ("positions", "cell", "sigma", "kwargs", "match"), _error_cases()
)
def test_bad_input_raises_setup_error(positions, cell, sigma, kwargs, match):
    with pytest.raises(QEqSetupError, match=match):
        GaussianEwald(positions, cell, sigma, **kwargs)


def test_overlap_message_follows_atom_order():
    """The indices in the message are those of the input order."""
    cell = np.eye(3) * 8.0
    pos = np.array([[4, 4, 2], [3, 3, 3], [5, 5, 5], [1, 1, 1], [1.1, 1.1, 1.05]])
    with pytest.raises(QEqSetupError, match=r"atoms 3 and 4 are"):
        GaussianEwald(pos, cell, np.zeros(5))
    # Across the periodic boundary.
    pos[4] = [7.95, 7.95, 7.95]
    pos[3] = [0.05, 0.05, 0.05]
    with pytest.raises(QEqSetupError, match=r"atoms 3 and 4 are 0\.1732 Å apart"):
        GaussianEwald(pos, cell, np.zeros(5))


# --------------------------------------------------------------------- CUDA
@pytest.mark.cuda
@pytest.mark.parametrize("kspace", KSPACES)
def test_cuda_matches_cpu(rng, kspace):
    """Same operator on the GPU: potentials and forces equal the CPU ones (same
    float64 algorithm; only the summation order differs)."""
    n_atoms = 12
    cell, positions, charges = _random_cell(rng, n_atoms)
    sigma = rng.uniform(0.3, 1.0, n_atoms)
    q = _t(charges)
    cpu = GaussianEwald(positions, cell, sigma, kspace=kspace)
    gpu = GaussianEwald(positions, cell, sigma, kspace=kspace, device="cuda")
    assert gpu.settings == cpu.settings
    phi_cpu, f_cpu = cpu.potential(q), cpu.forces(q)
    phi_gpu = gpu.potential(q.to("cuda")).cpu()
    f_gpu = gpu.forces(q.to("cuda")).cpu()
    # Roundoff-level agreement: 1e-10 of the largest value.
    torch.testing.assert_close(
        phi_gpu, phi_cpu, rtol=0, atol=1e-10 * float(phi_cpu.abs().max())
    )
    torch.testing.assert_close(
        f_gpu, f_cpu, rtol=0, atol=1e-10 * float(f_cpu.abs().max())
    )


@pytest.mark.parametrize("slab", [False, True])
@pytest.mark.parametrize("kspace", ["ewald", "pme"])
def test_analytic_forces_equal_autograd(rng, slab, kspace):
    """The analytic real-space, k-space and slab forces equal autograd of the
    energy to 1e-10 of the largest force (both exact: round-off only)."""
    n = 24
    cell = np.diag([9.0, 8.0, 30.0 if slab else 9.5])
    pos = rng.uniform(0.0, 1.0, (n, 3)) * np.diag(cell)
    if slab:
        pos[:, 2] = 10.0 + 8.0 * rng.uniform(size=n)
    # Rejection of overlaps keeps the operator well defined.
    while True:
        d = np.linalg.norm(pos[:, None] - pos[None], axis=-1) + np.eye(n) * 9
        if d.min() > 1.0:
            break
        i = np.unravel_index(np.argmin(d), d.shape)[0]
        pos[i] = rng.uniform(0.0, 1.0, 3) * np.diag(cell)
        if slab:
            pos[i, 2] = 10.0 + 8.0 * rng.uniform()
    sigma = rng.choice([0.0, 0.6, 1.28], size=n)
    q = torch.tensor(rng.normal(size=n))
    op = GaussianEwald(pos, cell, sigma, slab=slab, kspace=kspace, accuracy=1e-8)
    analytic = op.forces(q)
    reference = op.forces(q, autograd=True)
    scale = float(reference.abs().max())
    np.testing.assert_allclose(analytic, reference, atol=1e-10 * scale, rtol=0)
