"""Amorphous LiF and Li₂O blocks by melt–quench molecular dynamics.

The SEI components of the paper (Hu et al., Nat. Commun. 16, 7379 (2025)) are
amorphous. :func:`amorphous_block` makes such a block: random ions at the target
density in a fully periodic box whose lateral cell is the interface's, Langevin
dynamics of a classical rigid-ion model far above the melting point, a linear
quench to room temperature, a short hold and a relaxation, all at fixed volume
(the box sets the density).

The model (:class:`IonPairCalculator`) is a Born–Mayer(–Huggins)/Buckingham
pair potential between formal point charges (Li +1, F −1, O −2 e),

.. math::

    E = \\sum_{i<j} \\left[ V_{ij}(r_{ij}) - V_{ij}(r_c) \\right]
      + \\frac{k}{2} \\sum_{i \\neq j,\\, \\mathbf n} \\frac{q_i q_j}
        {|\\mathbf r_{ij} + \\mathbf n|}, \\qquad
    V_{ij}(r) = A_{ij} e^{-r/\\rho_{ij}} - \\frac{C_{ij}}{r^6} - \\frac{D_{ij}}{r^8},

the short-range sum over pairs closer than r_c (``cutoff``, 8 Å; the shift
makes the energy continuous, the force jumps by < 3e-4 eV/Å there), the
Coulomb lattice sum by our 3D Ewald (:class:`constpot.qeq.GaussianEwald`, σ = 0)
and k = :data:`constpot.units.COULOMB_EV_A`. The parameter sets
(:data:`ION_PAIR_POTENTIALS`):

**LiF** — Tosi–Fumi Born–Mayer–Huggins: F. G. Fumi and M. P. Tosi, J. Phys.
Chem. Solids 25, 31 (1964), doi:10.1016/0022-3697(64)90159-3, and M. P. Tosi
and F. G. Fumi, ibid. 25, 45 (1964), doi:10.1016/0022-3697(64)90160-X:
:math:`A_{ij} = c_{ij}\\, b\\, e^{(\\sigma_i + \\sigma_j)/\\rho}` with
b = 0.338×10⁻¹⁹ J (0.338×10⁻¹² erg), ρ = 0.299 Å (LiF), basic radii
σ(Li⁺) = 0.816 Å, σ(F⁻) = 1.179 Å and Pauling factors
:math:`c_{ij} = 1 + z_i/n_i + z_j/n_j` (outer-shell electrons n(Li⁺) = 2,
n(F⁻) = 8: c₊₊ = 2, c₊₋ = 1.375, c₋₋ = 0.75); dipole–dipole and
dipole–quadrupole dispersion coefficients of J. E. Mayer, J. Chem. Phys. 1, 270
(1933), doi:10.1063/1.1749283, as used by Tosi and Fumi:
C₊₊, C₊₋, C₋₋ = 0.073, 0.8, 14.5 ×10⁻⁶⁰ erg cm⁶ and
D₊₊, D₊₋, D₋₋ = 0.03, 0.6, 17 ×10⁻⁷⁶ erg cm⁸ (10⁻⁶⁰ erg cm⁶ = 10⁻¹⁹ J Å⁶ =
0.624151 eV Å⁶; likewise D in eV Å⁸). In eV and Å:

======  ==========  =======  ==========  ==========  =========
pair    A (eV)      ρ (Å)    C (eV Å⁶)   D (eV Å⁸)   r_w (Å)
======  ==========  =======  ==========  ==========  =========
Li–Li   99.0147     0.299    0.045563    0.018725    1.0
Li–F    229.206     0.299    0.49932     0.37449     1.0
F–F     420.958     0.299    9.0502      10.6106     1.4
======  ==========  =======  ==========  ==========  =========

**Li₂O** — T. S. Bush, J. D. Gale, C. R. A. Catlow and P. D. Battle, J. Mater.
Chem. 4, 831 (1994), doi:10.1039/JM9940400831 (GULP's "bush" library):
Li–O A = 426.480 eV, ρ = 0.3000 Å, C = 0; O–O A = 22.410 eV, ρ = 0.6937 Å,
C = 32.32 eV Å⁶ (r_w = 2.0 Å); no Li–Li short-range term. Bush et al. put
these terms on an O²⁻ shell (core +0.513 e, shell −2.513 e, spring
20.53 eV/Å²); here the shell is dropped (rigid ion, O −2 e). In a perfect
antifluorite (or rock-salt) crystal the field at every ion vanishes, the shells
sit on their cores and the rigid-ion lattice energy is the shell-model one; in
the melt and the glass, polarisation is neglected.

Both sets reproduce their crystals: the static lattice constant minimising the
energy under isotropic scaling is 4.010 Å for LiF (experiment 4.026 Å, room
temperature) and 4.591 Å for Li₂O (experiment 4.611 Å), −0.4 % each; the
lattice energies are −10.81 eV per LiF and −30.70 eV per Li₂O.
``tests/build/test_amorphous.py`` checks this (it guards the transcription).

**Inner continuation.** The −C/r⁶ − D/r⁸ terms win over the repulsion at short
range (the Buckingham catastrophe); for Li–F the Tosi–Fumi pair, Coulomb
included, has a barrier of only ~2 eV at 0.8 Å, and melts at 2500 K do cross
it. Below r_w (table; :attr:`IonPairPotential.inner_A`) the short-range energy
is therefore continued as :math:`B e^{-r/\\rho} + c_0`, matching value and slope
at r_w. The published form holds at every distance the melts visit (shortest
seen at 2500/3000 K: Li–F 1.08, F–F 1.71, O–O 2.11 Å).

Pitfalls
--------
- The rigid-ion LiF model favours four-fold coordination: it puts zinc blende
  0.07 eV per LiF below rock salt (−10.88 vs −10.81 eV), so its glass has short
  Li–F bonds (first g(r) peak ~1.8 Å) and a mean Li coordination of ~4.3
  (crystal: 2.01 Å, 6). Li₂O glasses have Li–O ~1.8 Å and coordination ~3.0
  (crystal 2.00 Å, 4). The blocks are starting structures for the hybrid
  model's MD, not converged glasses.
- LiF and Li₂O are not glass formers: quenches of ≤ 4×10¹⁴ K/s and boxes with
  a periodic width below ~10 Å crystallise. :func:`amorphous_block` measures the
  anion bond order Q6 and melts again (``max_attempts``) when it is crystal-like;
  it warns if every attempt stayed ordered. Give each block ≥ 10 Å per
  direction.
- Coordinates are wrapped into the cell, 0 <= z < L_z; the block is 3D periodic
  and is returned relaxed, with zero velocities.

Example
-------
>>> from constpot.build.amorphous import amorphous_block
>>> block = amorphous_block("LiF", [[11.0, 0.0], [0.0, 11.0]], 9.0, seed=1)
>>> len(block), block.info["phase"], round(block.info["density_g_cm3"], 3)
(126, 'amorphous', 2.5)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
from ase import Atoms, units
from ase.calculators.calculator import Calculator, all_changes
from ase.data import atomic_masses, atomic_numbers
from ase.md.langevin import Langevin
from ase.optimize import FIRE
from vesin import NeighborList

from ..qeq.ewald import GaussianEwald
from ..units import AMU_PER_A3_IN_G_PER_CM3, mass_density_g_cm3

__all__ = [
    "ION_PAIR_POTENTIALS",
    "MELT_QUENCH_PRESETS",
    "IonPairCalculator",
    "IonPairPotential",
    "MeltQuench",
    "amorphous_block",
]

# 1e-60 erg cm^6 = 1e-19 J Å^6 (and 1e-76 erg cm^8 = 1e-19 J Å^8), in eV.
_MAYER_UNIT_EV = 1e-19 * units.J


def _buckingham(big_a, inv_rho, c6, d8, r):
    """A e^{-r/ρ} − C/r⁶ − D/r⁸ and its r-derivative (arrays or floats)."""
    rep = big_a * np.exp(-r * inv_rho)
    r6 = r**-6
    r8 = r6 / r**2
    return rep - c6 * r6 - d8 * r8, -inv_rho * rep + (6.0 * c6 * r6 + 8.0 * d8 * r8) / r


@dataclass(frozen=True)
class IonPairPotential:
    """A rigid-ion model: formal charges and short-range pair terms.

    Attributes
    ----------
    name : str
        Formula of the component (``"LiF"``, ``"Li2O"``).
    charges : dict[str, float], e
        Point charge of each element.
    pairs : dict[tuple[str, str], tuple[float, float, float, float]]
        ``(A [eV], ρ [Å], C [eV Å⁶], D [eV Å⁸])`` of
        :math:`A e^{-r/\\rho} - C/r^6 - D/r^8` for each element pair (the key
        sorted alphabetically); pairs not listed interact by Coulomb only.
    stoichiometry : dict[str, int]
        Atoms of each element per formula unit.
    lattice_constant_A : float, Å
        Experimental cubic lattice constant of the crystal (room temperature).
    structure : str
        Crystal structure of the component (``"rocksalt"``, ``"antifluorite"``).
    melting_point_K : float, K
        Experimental melting point.
    reference : str
        Citation of the parameters.
    inner_A : dict[tuple[str, str], float], Å
        Inner radius r_w of pairs with dispersion terms: for r < r_w the
        short-range energy is continued as :math:`B e^{-r/\\rho} + c_0`, with B
        and c₀ matching its value and slope at r_w, so that the −C/r⁶ − D/r⁸
        terms cannot pull ions together (Buckingham catastrophe). r_w lies
        below the shortest distances met in the melts; pairs not listed keep
        the published form at all r.
    """

    name: str
    charges: dict[str, float]
    pairs: dict[tuple[str, str], tuple[float, float, float, float]]
    stoichiometry: dict[str, int]
    lattice_constant_A: float
    structure: str
    melting_point_K: float
    reference: str = field(repr=False)
    inner_A: dict[tuple[str, str], float] = field(default_factory=dict)

    def pair(self, a: str, b: str) -> tuple[float, float, float, float]:
        """``(A, ρ, C, D)`` for elements ``a``, ``b`` (zeros if not listed)."""
        return self.pairs.get(tuple(sorted((a, b))), (0.0, 1.0, 0.0, 0.0))

    def pair_terms(self, a: str, b: str) -> tuple[float, ...]:
        """``(A, 1/ρ, C, D, r_w, B, c₀)`` of the pair ``a``–``b``.

        ``r_w = 0`` (no inner continuation) for pairs without an inner radius.

        Raises
        ------
        ValueError
            When the published form is not repulsive at r_w (B would be < 0).
        """
        big_a, rho, c6, d8 = self.pair(a, b)
        r_w = self.inner_A.get(tuple(sorted((a, b))), 0.0)
        if r_w <= 0.0:
            return big_a, 1.0 / rho, c6, d8, 0.0, 0.0, 0.0
        value, slope = _buckingham(big_a, 1.0 / rho, c6, d8, r_w)
        if slope >= 0.0:
            raise ValueError(
                f"inner radius {r_w} Å of the {a}-{b} pair of {self.name} is not on "
                f"the repulsive branch (dV/dr = {slope:g} eV/Å >= 0); take it larger"
            )
        big_b = -rho * slope * math.exp(r_w / rho)
        return (
            big_a,
            1.0 / rho,
            c6,
            d8,
            r_w,
            big_b,
            value - big_b * math.exp(-r_w / rho),
        )

    @property
    def formula_mass_amu(self) -> float:
        """Mass of one formula unit, amu (ASE's standard atomic masses)."""
        return float(
            sum(
                n * atomic_masses[atomic_numbers[el]]
                for el, n in self.stoichiometry.items()
            )
        )


def _tosi_fumi_lif() -> IonPairPotential:
    b = 0.338e-19 * units.J  # eV
    rho = 0.299  # Å, LiF
    sigma = {"Li": 0.816, "F": 1.179}  # Å, Tosi–Fumi basic radii
    pauling = {("Li", "Li"): 2.0, ("F", "Li"): 1.375, ("F", "F"): 0.75}
    c6 = {("Li", "Li"): 0.073, ("F", "Li"): 0.8, ("F", "F"): 14.5}  # 1e-60 erg cm^6
    d8 = {("Li", "Li"): 0.03, ("F", "Li"): 0.6, ("F", "F"): 17.0}  # 1e-76 erg cm^8
    pairs = {
        key: (
            c * b * math.exp((sigma[key[0]] + sigma[key[1]]) / rho),
            rho,
            c6[key] * _MAYER_UNIT_EV,
            d8[key] * _MAYER_UNIT_EV,
        )
        for key, c in pauling.items()
    }
    return IonPairPotential(
        name="LiF",
        charges={"Li": 1.0, "F": -1.0},
        pairs=pairs,
        stoichiometry={"Li": 1, "F": 1},
        lattice_constant_A=4.0263,
        structure="rocksalt",
        melting_point_K=1118.0,
        inner_A={("Li", "Li"): 1.0, ("F", "Li"): 1.0, ("F", "F"): 1.4},
        reference=(
            "Tosi-Fumi Born-Mayer-Huggins: F. G. Fumi and M. P. Tosi, J. Phys. Chem. "
            "Solids 25, 31 (1964); M. P. Tosi and F. G. Fumi, ibid. 25, 45 (1964); "
            "dispersion: J. E. Mayer, J. Chem. Phys. 1, 270 (1933)"
        ),
    )


def _bush_li2o() -> IonPairPotential:
    return IonPairPotential(
        name="Li2O",
        charges={"Li": 1.0, "O": -2.0},
        pairs={
            ("Li", "O"): (426.480, 0.3000, 0.0, 0.0),
            ("O", "O"): (22.410, 0.6937, 32.32, 0.0),
        },
        stoichiometry={"Li": 2, "O": 1},
        lattice_constant_A=4.6114,
        structure="antifluorite",
        melting_point_K=1711.0,
        inner_A={("O", "O"): 2.0},
        reference=(
            "Bush, Gale, Catlow and Battle, J. Mater. Chem. 4, 831 (1994), "
            "rigid-ion form (O shell dropped)"
        ),
    )


#: The rigid-ion models by component (see the module docstring for sources).
ION_PAIR_POTENTIALS: dict[str, IonPairPotential] = {
    "LiF": _tosi_fumi_lif(),
    "Li2O": _bush_li2o(),
}

# Random insertion: minimum separations (Å) by charge signs (+ +, + -, - -).
_INSERT_MIN_DIST = (1.8, 1.6, 2.0)
# A block whose anion bond order Q6 exceeds this is (partly) crystalline:
# single crystals give 0.575 (0.54-0.56 at 300 K), glasses of 100-130 ions
# 0.11-0.26 (LiF) and 0.12-0.22 (Li2O); partly ordered runs 0.30-0.46.
_ORDERED_Q6 = 0.30
# Final structure: pairs of opposite charge closer than this (Å) mean the
# dynamics failed (Buckingham collapse or a too-long time step).
_COLLAPSE_A = 1.4


def _resolve_potential(potential) -> IonPairPotential:
    if isinstance(potential, IonPairPotential):
        return potential
    if potential not in ION_PAIR_POTENTIALS:
        raise ValueError(
            f"component/potential must be one of {sorted(ION_PAIR_POTENTIALS)} or an "
            f"IonPairPotential, got {potential!r}"
        )
    return ION_PAIR_POTENTIALS[potential]


def _wrap(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Positions wrapped into the cell, fractional coordinates in [0, 1)."""
    frac = positions @ np.linalg.inv(cell)
    frac -= np.floor(frac)
    frac[frac >= 1.0] = 0.0
    return frac @ cell


class IonPairCalculator(Calculator):
    """Rigid-ion model: shifted Buckingham/Born–Mayer–Huggins + Ewald Coulomb.

    Energy and forces of the formal point charges of ``potential`` (the atoms'
    ``initial_charges`` are not read) in a fully periodic cell: the short-range
    terms over a Verlet list (vesin, cutoff + :attr:`skin`), cut at ``cutoff``
    and shifted so that each pair energy is zero there, continued inside the
    inner radii of :attr:`IonPairPotential.inner_A`; the Coulomb sum by
    :class:`constpot.qeq.GaussianEwald` (σ = 0, 3D, rebuilt at each call; its
    splitting is cached per cell, so fixed-cell MD tunes once). Costs about
    7 ms per call for 130 ions on one core.

    Parameters
    ----------
    potential : str or IonPairPotential
        ``"LiF"``, ``"Li2O"`` (:data:`ION_PAIR_POTENTIALS`) or a custom model.
    cutoff : float, Å
        Short-range cutoff (default 8 Å).
    ewald_accuracy : float
        ``accuracy`` of :class:`~constpot.qeq.GaussianEwald` (default 1e-5:
        force errors ~ k·1e-5 ≈ 1e-4 eV/Å per unit charge², ample for MD).
    **kwargs
        Passed to :class:`ase.calculators.calculator.Calculator`.

    Raises
    ------
    ValueError
        At calculation: a cell that is not periodic in all three directions, or
        an element without a charge in ``potential``.
    """

    implemented_properties: ClassVar[list[str]] = ["energy", "free_energy", "forces"]
    default_parameters: ClassVar[dict] = {
        "potential": "LiF",
        "cutoff": 8.0,
        "ewald_accuracy": 1e-5,
    }
    #: Verlet skin (Å): the short-range pair list holds pairs within
    #: cutoff + skin and is rebuilt when an atom has moved more than skin/2.
    skin = 1.0

    def __init__(self, potential="LiF", cutoff=8.0, ewald_accuracy=1e-5, **kwargs):
        super().__init__(
            potential=potential, cutoff=cutoff, ewald_accuracy=ewald_accuracy, **kwargs
        )
        self.model = _resolve_potential(potential)
        if not cutoff > 0:
            raise ValueError(f"cutoff must be > 0 Å, got {cutoff}")
        self._pairs = None

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        if not np.all(atoms.pbc):
            raise ValueError(
                "IonPairCalculator needs a 3D periodic cell, got pbc="
                f"{atoms.pbc.tolist()}"
            )
        symbols = atoms.get_chemical_symbols()
        missing = sorted(set(symbols) - set(self.model.charges))
        if missing:
            raise ValueError(
                f"elements {missing} have no charge in the {self.model.name} "
                f"potential (known: {sorted(self.model.charges)})"
            )
        cell = atoms.cell.array
        e_sr, f_sr = self._short_range(atoms.positions, cell, atoms.numbers, symbols)
        charges = np.array([self.model.charges[s] for s in symbols])
        ewald = GaussianEwald(
            _wrap(atoms.positions, cell),
            cell,
            np.zeros(len(atoms)),
            accuracy=self.parameters.ewald_accuracy,
        )
        q = torch.as_tensor(charges, dtype=torch.float64)
        energy = e_sr + ewald.energy(q)
        forces = f_sr + ewald.forces(q).numpy()
        self.results = {"energy": energy, "free_energy": energy, "forces": forces}

    def _pair_list(self, positions, cell, numbers, symbols):
        """Verlet list (i, j, image shift, per-pair parameters), cached."""
        cache = self._pairs
        if (
            cache is not None
            and np.array_equal(cache["cell"], cell)
            and np.array_equal(cache["numbers"], numbers)
            and np.max(np.linalg.norm(positions - cache["positions"], axis=1))
            < 0.5 * self.skin
        ):
            return cache
        rc = float(self.parameters.cutoff)
        nl = NeighborList(cutoff=rc + self.skin, full_list=False)
        i, j, shifts = nl.compute(
            points=positions, box=cell, periodic=True, quantities="ijS"
        )
        # (7, n_el, n_el) table of (A, 1/ρ, C, D, r_w, B, c₀); its values per pair.
        elements = sorted(set(symbols))
        kind = np.array([elements.index(s) for s in symbols])
        table = np.array(
            [[self.model.pair_terms(a, b) for b in elements] for a in elements]
        ).transpose(2, 0, 1)
        per_pair = table[:, kind[i], kind[j]]
        shift, _ = _buckingham(*per_pair[:4], rc)
        self._pairs = {
            "cell": cell.copy(),
            "numbers": numbers.copy(),
            "positions": positions.copy(),
            "i": i,
            "j": j,
            "offset": shifts @ cell,
            "params": per_pair,
            "shift": shift,
        }
        return self._pairs

    def _short_range(self, positions, cell, numbers, symbols):
        pl = self._pair_list(positions, cell, numbers, symbols)
        i, j = pl["i"], pl["j"]
        vec = positions[j] - positions[i] + pl["offset"]
        dist = np.sqrt(np.einsum("ij,ij->i", vec, vec))
        inside = dist < float(self.parameters.cutoff)
        i, j, vec, dist = i[inside], j[inside], vec[inside], dist[inside]
        big_a, inv_rho, c6, d8, r_w, big_b, c0 = pl["params"][:, inside]
        value, dvdr = _buckingham(big_a, inv_rho, c6, d8, dist)
        inner = dist < r_w
        if np.any(inner):
            wall = big_b[inner] * np.exp(-dist[inner] * inv_rho[inner])
            value[inner] = wall + c0[inner]
            dvdr[inner] = -inv_rho[inner] * wall
        energy = float(np.sum(value - pl["shift"][inside]))
        # F_i = (dV/dr) D/r with D = r_j - r_i (+ image offset); F_j = -F_i.
        fvec = (dvdr / dist)[:, None] * vec
        n = len(positions)
        forces = np.empty((n, 3))
        for axis in range(3):
            forces[:, axis] = np.bincount(i, fvec[:, axis], minlength=n) - np.bincount(
                j, fvec[:, axis], minlength=n
            )
        return energy, forces


@dataclass(frozen=True)
class MeltQuench:
    """A melt–quench schedule (Langevin NVT).

    Attributes
    ----------
    timestep_fs : float, fs
    melt_steps : int
        Steps at ``melt_K``.
    quench_steps : int
        Steps of the linear ramp from ``melt_K`` to ``final_K``.
    equil_steps : int
        Steps at ``final_K``.
    friction_per_fs : float, 1/fs
        Langevin friction.
    """

    timestep_fs: float
    melt_steps: int
    quench_steps: int
    equil_steps: int
    friction_per_fs: float = 0.02

    def describe(self, melt_K: float, final_K: float) -> str:
        """One-line summary, e.g. ``"melt 2500 K 1.0 ps; quench ...``."""

        def ps(steps):
            return f"{steps * self.timestep_fs / 1000.0:g} ps"

        rate = (melt_K - final_K) / max(self.quench_steps * self.timestep_fs, 1e-300)
        return (
            f"melt {melt_K:g} K {ps(self.melt_steps)}; quench linear to {final_K:g} K "
            f"in {ps(self.quench_steps)} ({rate * 1e15:.2g} K/s); hold {final_K:g} K "
            f"{ps(self.equil_steps)}; Langevin NVT dt {self.timestep_fs:g} fs, "
            f"friction {self.friction_per_fs:g}/fs"
        )


#: Schedules by ``quality``. ``"demo"``: 2 fs steps, 1 ps melt, 2.5 ps linear
#: quench (~10¹⁵ K/s), 0.5 ps hold (about 15 s for 120 ions on one core).
#: ``"paper"``: 1 fs steps, 5 ps melt, the same quench rate, 2.5 ps hold.
#: Slower quenches are not better here: LiF and Li₂O are not glass formers, and
#: a 5 ps quench (4×10¹⁴ K/s) crystallised a 126-ion LiF box in 3 of 3 runs.
MELT_QUENCH_PRESETS: dict[str, MeltQuench] = {
    "demo": MeltQuench(
        timestep_fs=2.0, melt_steps=500, quench_steps=1250, equil_steps=250
    ),
    "paper": MeltQuench(
        timestep_fs=1.0, melt_steps=5000, quench_steps=2500, equil_steps=2500
    ),
}

# Default melt temperatures (K): ~2.2× (LiF) and ~1.75× (Li2O) the experimental
# melting points. Both models are liquid there at the target densities (the
# anions' mean-square displacement grows by ~5 and ~2.5 Å² per ps).
_MELT_K = {"LiF": 2500.0, "Li2O": 3000.0}
# Documented amorphous densities of constpot.build.crystal, used when that
# module cannot be imported.
_FALLBACK_DENSITY_G_CM3 = {"LiF": 2.50, "Li2O": 1.95}


def _target_density(component: str) -> float:
    try:
        from .crystal import target_density_g_cm3
    except ImportError:
        return _FALLBACK_DENSITY_G_CM3[component]
    return float(target_density_g_cm3(component, "amorphous"))


def _validate(
    model, cell_xy, thickness_A, density_g_cm3, melt_K, final_K, schedule, max_attempts
):
    cell_xy = np.asarray(cell_xy, dtype=float)
    if cell_xy.shape != (2, 2) or not np.all(np.isfinite(cell_xy)):
        raise ValueError(
            "cell_xy must be two finite lateral vectors, shape (2, 2), got "
            f"{np.asarray(cell_xy).tolist()}"
        )
    area = float(cell_xy[0, 0] * cell_xy[1, 1] - cell_xy[0, 1] * cell_xy[1, 0])
    if area <= 1e-6:
        raise ValueError(
            f"cell_xy must span a right-handed area > 0 Å^2, got area {area:g} Å^2 "
            f"from {cell_xy.tolist()}"
        )
    if not (density_g_cm3 > 0 and math.isfinite(density_g_cm3)):
        raise ValueError(f"density_g_cm3 must be > 0 g/cm^3, got {density_g_cm3}")
    volume_fu = model.formula_mass_amu * AMU_PER_A3_IN_G_PER_CM3 / density_g_cm3
    layer = volume_fu ** (1.0 / 3.0)
    if not (thickness_A >= layer):
        raise ValueError(
            f"thickness_A = {thickness_A} Å is smaller than one formula-unit layer "
            f"of {model.name} at {density_g_cm3:g} g/cm^3: {layer:.3f} Å = (volume "
            f"per formula unit {volume_fu:.3f} Å^3)^(1/3)"
        )
    if not (melt_K > final_K > 0):
        raise ValueError(
            f"need melt_K > final_K > 0 K, got melt_K = {melt_K}, final_K = {final_K}"
        )
    for name in ("melt_steps", "quench_steps", "equil_steps"):
        if getattr(schedule, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(schedule, name)}")
    if not (isinstance(max_attempts, int) and max_attempts >= 1):
        raise ValueError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
    for name in ("timestep_fs", "friction_per_fs"):
        if not getattr(schedule, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(schedule, name)}")
    return cell_xy, area, volume_fu


def _random_ions(model, counts, cell, rng, max_tries=4096):
    """Random ions, anions first, at least the insertion separations apart.

    Candidates are drawn uniformly in the cell, in batches; the first that keeps
    its separations (minimum image in fractional coordinates) to all placed
    ions is taken. If an ion finds no place, all separations shrink by 10 %
    and the insertion starts again (at most three times).
    """
    anion = min(model.charges, key=model.charges.get)
    cation = max(model.charges, key=model.charges.get)
    elements = [anion] * counts[anion] + [cation] * counts[cation]
    is_anion = np.array([el == anion for el in elements])
    batch = 32
    for attempt in range(4):
        plus_plus, plus_minus, minus_minus = np.multiply(_INSERT_MIN_DIST, 0.9**attempt)
        frac = np.zeros((len(elements), 3))
        for n in range(len(elements)):
            need = np.where(
                is_anion[:n],
                minus_minus if is_anion[n] else plus_minus,
                plus_minus if is_anion[n] else plus_plus,
            )
            for _ in range(0, max_tries, batch):
                trial = rng.random((batch, 3))
                diff = trial[:, None, :] - frac[None, :n, :]
                diff -= np.round(diff)
                dist = np.linalg.norm(diff @ cell, axis=-1)
                ok = np.flatnonzero(np.all(dist >= need, axis=1))
                if ok.size:
                    frac[n] = trial[ok[0]]
                    break
            else:
                break
        else:
            return elements, frac @ cell
    raise RuntimeError(
        f"could not place {len(elements)} ions at random in a cell of volume "
        f"{abs(np.linalg.det(cell)):.1f} Å^3 with separations (+ +, + -, - -) down "
        f"to {plus_plus:.2f}, {plus_minus:.2f}, {minus_minus:.2f} Å"
    )


def amorphous_block(
    component: str,
    cell_xy,
    thickness_A: float,
    density_g_cm3: float | None = None,
    seed: int = 0,
    melt_K: float | None = None,
    quench_steps: int | None = None,
    *,
    quality: str = "demo",
    melt_steps: int | None = None,
    equil_steps: int | None = None,
    timestep_fs: float | None = None,
    friction_per_fs: float | None = None,
    final_K: float = 300.0,
    relax_fmax: float | None = 0.05,
    max_attempts: int = 3,
    cutoff: float = 8.0,
    ewald_accuracy: float = 1e-5,
) -> Atoms:
    """Amorphous LiF or Li₂O block by melt–quench MD at fixed density.

    The box has the lateral cell ``cell_xy`` and the height that holds the
    whole number of formula units closest to ``thickness_A`` at
    ``density_g_cm3``. Ions start at random (``np.random.default_rng(seed)``;
    at least 1.6 Å cation–anion, 1.8 Å cation–cation and 2.0 Å anion–anion
    apart); then Langevin NVT with :class:`IonPairCalculator`: ``melt_steps``
    at ``melt_K``, a linear ramp to ``final_K`` over ``quench_steps``,
    ``equil_steps`` at ``final_K`` (defaults from :data:`MELT_QUENCH_PRESETS`
    ``[quality]``), and a FIRE relaxation of the positions to ``relax_fmax``
    (the inherent structure of the final snapshot: no thermally compressed
    contacts).

    Parameters
    ----------
    component : {"LiF", "Li2O"}
    cell_xy : (2, 2) array_like, Å
        Lateral cell vectors (rows, x–y components), right-handed.
    thickness_A : float, Å
        Wanted block height L_z.
    density_g_cm3 : float or None, g/cm³
        Target density; ``None``: ``constpot.build.crystal.target_density_g_cm3(
        component, "amorphous")`` (LiF 2.50, Li₂O 1.95).
    seed : int
        Seed of the one generator used for positions, velocities and the
        Langevin noise: same seed and arguments, bit-identical positions (on the
        same machine and library versions).
    melt_K : float or None, K
        Melt temperature; default 2500 K (LiF, T_m 1118 K), 3000 K (Li₂O,
        T_m 1711 K).
    quench_steps : int or None
        Steps of the linear quench (overrides the preset).
    quality : {"demo", "paper"}
        Schedule preset (:data:`MELT_QUENCH_PRESETS`).
    melt_steps, equil_steps : int or None
        Override the preset.
    timestep_fs : float or None, fs
        Override the preset (2 fs demo, 1 fs paper).
    friction_per_fs : float or None, 1/fs
        Langevin friction (preset 0.02/fs).
    final_K : float, K
        Temperature at the end of the quench and of the hold (300 K).
    relax_fmax : float or None, eV/Å
        Force threshold of the final relaxation (at most 500 FIRE steps);
        ``None`` returns the last MD snapshot.
    max_attempts : int
        Melt–quench runs (each from new random positions, same generator) until
        the anion sublattice is disordered: global bond order Q6 of the
        anion–anion bonds <= 0.30 (crystal 0.54–0.575; glasses of 100–130
        ions 0.11–0.26). LiF and Li₂O are not glass formers and crystallise now and
        then in small periodic boxes; the least ordered run is returned.
    cutoff : float, Å
        Short-range cutoff of :class:`IonPairCalculator`.
    ewald_accuracy : float
        Ewald accuracy of :class:`IonPairCalculator`.

    Returns
    -------
    ase.Atoms
        3D periodic, cell ``[[a, 0], [b, 0], [0, 0, L_z]]``, positions wrapped
        (0 <= z < L_z), cations first, no calculator, zero velocities;
        ``initial_charges`` the formal charges (Li +1, F −1, O −2). ``info``:
        ``"component"``, ``"phase"`` (``"amorphous"``), ``"density_g_cm3"`` (of
        the box), ``"melt_quench"`` (the schedule), ``"potential"`` (citation),
        ``"seed"``, ``"anion_q6"`` (the bond order above), ``"attempts"``.

    Raises
    ------
    ValueError
        Unknown ``component`` or ``quality``, non-positive ``density_g_cm3``,
        ``thickness_A`` below one formula-unit layer ((volume per formula
        unit)^(1/3)), a degenerate ``cell_xy``, ``melt_K <= final_K``, negative
        step counts, non-positive time step or friction.
    RuntimeError
        Random insertion failed, or the dynamics collapsed (an opposite-charge
        pair closer than 1.4 Å, or non-finite positions, at the end).

    Warns
    -----
    RuntimeWarning
        No attempt gave Q6 <= 0.30 (typical when a periodic width is below
        ~10 Å: such a box cannot hold an amorphous structure).
    """
    if component not in ION_PAIR_POTENTIALS:
        raise ValueError(
            f"component must be one of {sorted(ION_PAIR_POTENTIALS)}, got {component!r}"
        )
    if quality not in MELT_QUENCH_PRESETS:
        raise ValueError(
            f"quality must be one of {sorted(MELT_QUENCH_PRESETS)}, got {quality!r}"
        )
    model = ION_PAIR_POTENTIALS[component]
    preset = MELT_QUENCH_PRESETS[quality]
    schedule = MeltQuench(
        timestep_fs=preset.timestep_fs if timestep_fs is None else float(timestep_fs),
        melt_steps=preset.melt_steps if melt_steps is None else int(melt_steps),
        quench_steps=preset.quench_steps if quench_steps is None else int(quench_steps),
        equil_steps=preset.equil_steps if equil_steps is None else int(equil_steps),
        friction_per_fs=(
            preset.friction_per_fs
            if friction_per_fs is None
            else float(friction_per_fs)
        ),
    )
    if density_g_cm3 is None:
        density_g_cm3 = _target_density(component)
    melt_K = _MELT_K[component] if melt_K is None else float(melt_K)
    cell_xy, area, volume_fu = _validate(
        model,
        cell_xy,
        float(thickness_A),
        float(density_g_cm3),
        melt_K,
        float(final_K),
        schedule,
        max_attempts,
    )

    n_fu = max(1, round(thickness_A * area / volume_fu))
    cell = np.zeros((3, 3))
    cell[:2, :2] = cell_xy
    cell[2, 2] = n_fu * volume_fu / area
    counts = {el: n * n_fu for el, n in model.stoichiometry.items()}

    rng = np.random.default_rng(seed)
    calc = IonPairCalculator(model, cutoff=cutoff, ewald_accuracy=ewald_accuracy)
    best = None
    for attempt in range(1, max_attempts + 1):
        symbols, positions = _random_ions(model, counts, cell, rng)
        order = np.argsort([-model.charges[s] for s in symbols], kind="stable")
        atoms = Atoms(
            [symbols[k] for k in order], positions=positions[order], cell=cell, pbc=True
        )
        atoms.calc = calc
        _run_melt_quench(atoms, schedule, melt_K, float(final_K), rng)
        if relax_fmax is not None:
            FIRE(atoms, logfile=None).run(fmax=relax_fmax, steps=500)
        q6 = _anion_q6(atoms, model)
        if best is None or q6 < best[0]:
            best = (q6, attempt, atoms.positions.copy(), atoms.get_chemical_symbols())
        if q6 <= _ORDERED_Q6:
            break
    q6, attempt, positions, symbols = best
    if q6 > _ORDERED_Q6:
        widths = abs(np.linalg.det(cell)) / np.linalg.norm(
            np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1
        )
        warnings.warn(
            f"amorphous_block({component!r}): the anion sublattice stayed ordered "
            f"in {max_attempts} melt-quench attempts (best bond order Q6 = {q6:.2f} "
            f"> {_ORDERED_Q6}; crystal 0.57, glass 0.1-0.26). Periodic widths "
            f"{np.round(widths, 2).tolist()} Å: boxes narrower than ~10 Å cannot "
            "hold a glass, and quenches slower than ~10^15 K/s crystallise these "
            "salts; enlarge the box or shorten the quench",
            RuntimeWarning,
            stacklevel=2,
        )

    block = Atoms(symbols, positions=_wrap(positions, cell), cell=cell, pbc=True)
    _check_collapse(block, model)
    block.set_initial_charges([model.charges[s] for s in block.get_chemical_symbols()])
    block.info.update(
        component=component,
        phase="amorphous",
        density_g_cm3=mass_density_g_cm3(
            float(block.get_masses().sum()), block.get_volume()
        ),
        melt_quench=schedule.describe(melt_K, final_K)
        + (f"; FIRE to fmax {relax_fmax:g} eV/Å" if relax_fmax is not None else ""),
        potential=model.reference,
        seed=int(seed),
        anion_q6=float(q6),
        attempts=int(attempt),
    )
    return block


def _anion_q6(atoms: Atoms, model: IonPairPotential) -> float:
    """Global Steinhardt Q6 of the anion–anion bonds (crystal 0.575).

    Bonds join anions closer than the midpoint of the first and second
    anion–anion shells of the crystal (LiF 3.44 Å, Li₂O 3.94 Å). By the
    addition theorem :math:`Q_6^2 = \\langle P_6(\\hat u_b \\cdot \\hat u_{b'})
    \\rangle_{b, b'}` over all bond pairs; a single crystal gives its local value,
    a glass ~1/√(number of bonds).
    """
    anion = min(model.charges, key=model.charges.get)
    cutoff = 0.5 * (1.0 + 1.0 / math.sqrt(2.0)) * model.lattice_constant_A
    nl = NeighborList(cutoff=cutoff, full_list=False)
    i, j, vec = nl.compute(atoms.positions, atoms.cell.array, True, quantities="ijD")
    is_anion = np.array(atoms.get_chemical_symbols()) == anion
    vec = vec[is_anion[i] & is_anion[j]]
    if not len(vec):
        return 0.0
    unit = vec / np.linalg.norm(vec, axis=1)[:, None]
    total = 0.0
    for start in range(0, len(unit), 1024):
        cos = np.clip(unit[start : start + 1024] @ unit.T, -1.0, 1.0)
        total += float(np.polynomial.legendre.legval(cos, [0] * 6 + [1]).sum())
    return math.sqrt(max(total, 0.0)) / len(unit)


def _run_melt_quench(atoms, schedule, melt_K, final_K, rng) -> None:
    """Langevin NVT: hold ``melt_K``, ramp linearly to ``final_K``, hold."""
    # Maxwell–Boltzmann momenta from the shared generator, zero total momentum.
    masses = atoms.get_masses()[:, None]
    momenta = rng.standard_normal((len(atoms), 3)) * np.sqrt(masses * units.kB * melt_K)
    momenta -= masses * momenta.sum(axis=0) / masses.sum()
    atoms.set_momenta(momenta)
    md = Langevin(
        atoms,
        schedule.timestep_fs * units.fs,
        temperature_K=melt_K,
        friction=schedule.friction_per_fs / units.fs,
        fixcm=False,
        rng=rng,
    )
    for _ in range(schedule.melt_steps):
        md.step()
    for step in range(schedule.quench_steps):
        fraction = (step + 1) / schedule.quench_steps
        md.set_temperature(temperature_K=melt_K + (final_K - melt_K) * fraction)
        md.step()
    md.set_temperature(temperature_K=final_K)
    for _ in range(schedule.equil_steps):
        md.step()


def _check_collapse(block: Atoms, model: IonPairPotential) -> None:
    if not np.all(np.isfinite(block.positions)):
        raise RuntimeError(
            "melt-quench MD diverged (non-finite positions); lower timestep_fs"
        )
    nl = NeighborList(cutoff=_COLLAPSE_A, full_list=False)
    i, j, d = nl.compute(block.positions, block.cell.array, True, quantities="ijd")
    q = np.array([model.charges[s] for s in block.get_chemical_symbols()])
    bad = np.flatnonzero(q[i] * q[j] < 0)
    if bad.size:
        p = bad[np.argmin(d[bad])]
        raise RuntimeError(
            f"melt-quench MD collapsed: atoms {int(i[p])} and {int(j[p])} are "
            f"{d[p]:.3f} Å apart (< {_COLLAPSE_A} Å); lower timestep_fs or melt_K"
        )
