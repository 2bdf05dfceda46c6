"""Rigid-ion force field for LiF and Li₂O: Buckingham pairs + Ewald Coulomb.

The classical model that :mod:`.amorphous` melts and quenches: fast, 3D
periodic, with published parameters for both SEI salts.

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
``tests/build/test_ionpair.py`` checks this (it guards the transcription).

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
- Formal charges only: the atoms' ``initial_charges`` are not read, and
  polarisation is neglected (no shells).

Example
-------
>>> from ase.build import bulk
>>> from constpot.build.ionpair import IonPairCalculator
>>> atoms = bulk("LiF", "rocksalt", a=4.010, cubic=True)
>>> atoms.calc = IonPairCalculator("LiF")
>>> round(atoms.get_potential_energy() / 4, 2)
-10.81
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
from ase import units
from ase.calculators.calculator import Calculator, all_changes
from ase.data import atomic_masses, atomic_numbers
from vesin import NeighborList

from ..qeq.ewald import GaussianEwald
from ._cell import wrap_positions

__all__ = ["ION_PAIR_POTENTIALS", "IonPairCalculator", "IonPairPotential"]

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


def _resolve_potential(potential) -> IonPairPotential:
    if isinstance(potential, IonPairPotential):
        return potential
    if potential not in ION_PAIR_POTENTIALS:
        raise ValueError(
            f"component/potential must be one of {sorted(ION_PAIR_POTENTIALS)} or an "
            f"IonPairPotential, got {potential!r}"
        )
    return ION_PAIR_POTENTIALS[potential]


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
            wrap_positions(atoms.positions, cell),
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
