"""Profiles along the surface normal z: densities, charge and potential.

User guide
----------
Each atom's charge is a Gaussian of width σ_i (the QEq convention, docs/design.md §4:
σ is the standard deviation; by default the per-element σ of the paper's QEq
table in :mod:`constpot.qeq.params`, or one fixed width). Averaged over x and
y, the charge density of the slab is

.. math::

    \\rho(z) = \\frac{1}{A} \\sum_i \\frac{q_i}{\\sqrt{2\\pi}\\,\\sigma_i}
               e^{-(z - z_i)^2 / 2\\sigma_i^2},

with A the lateral area. Poisson's equation
:math:`\\varepsilon_0\\,\\phi''(z) = -\\rho(z)` with zero field below the slab
(z → −∞, the vacuum under the anode) integrates in closed form:

.. math::

    \\phi(z) = -\\frac{1}{\\varepsilon_0 A} \\sum_i q_i \\left[(z - z_i)\\,
               \\Phi\\!\\left(\\tfrac{z - z_i}{\\sigma_i}\\right)
               + \\sigma_i\\,
               \\varphi\\!\\left(\\tfrac{z - z_i}{\\sigma_i}\\right)\\right],

Φ and φ the standard normal distribution and density (σ = 0: the point-charge
limit q_i·max(z − z_i, 0)). There is no binning error: the profile is exact for
the smeared charges at every grid point. The reference is φ = 0 in the vacuum
below the anode; with a net dipole the potential above the slab differs (as in
the Yeh–Berkowitz slab geometry).

Conventions and pitfalls: z is the coordinate as written (wrapped into the
cell); the vacuum gap must contain z = 0 (the builder centres the stack), else
atoms near the boundary are split. Units: φ in V, ρ in e/Å³, ε₀ from
:mod:`constpot.units`. The drop between the electrodes,
``electrode_drop_V`` = φ(counter interior) − φ(anode interior), and the drop
between the vacuum levels, ``vacuum_drop_V`` = φ(top of the cell) − φ(bottom),
are compared with the imposed ψ_counter − ψ_anode (docs/design.md §4 sign: lowering ψ
puts electrons on the electrode, lowering its electrostatic potential). The
vacuum levels are the cleaner measure: two slabs of the same metal differ in
vacuum level by exactly their difference in electrochemical potential, while
inside a QEq metal of a few layers φ is not flat (finite hardness J screens
like a Thomas–Fermi metal) and its interior mean also carries χ + Jq.

Example
-------
>>> run = "results/md/no_sei/constp_-6.0V_r0"
>>> prof = Profiles(f"{run}/traj.extxyz").run()               # doctest: +SKIP
>>> prof.results["table"][["z_A", "potential_V"]]             # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..keys import ANODE_REGION, CHARGES, COUNTER_REGION, REGION, REGIONS
from ..qeq.params import PAPER_TABLE
from ..units import EPSILON0_E_PER_V_A
from ._frames import FrameAnalysis, final_window_count, info_float

__all__ = [
    "Profiles",
    "gaussian_charge_density",
    "poisson_potential",
    "smearing_widths",
]


def smearing_widths(
    symbols: Sequence[str], smearing_A: float | Mapping[str, float] | str | None
) -> np.ndarray:
    """Per-atom Gaussian widths σ (Å).

    Parameters
    ----------
    symbols : sequence of str
    smearing_A : None, "qeq", float or mapping
        None or "qeq": σ of the paper's QEq table
        (:data:`constpot.qeq.params.PAPER_TABLE`);
        a number: the same σ for every atom (0 = point charges); a mapping:
        element → σ.

    Raises
    ------
    ValueError
        An element without a width, or a negative width.
    """
    if smearing_A is None or smearing_A == "qeq":
        table = {el: v[2] for el, v in PAPER_TABLE.items()}
    elif isinstance(smearing_A, Mapping):
        table = {el: float(v) for el, v in smearing_A.items()}
    else:
        width = float(smearing_A)
        if width < 0:
            raise ValueError(f"smearing_A: width must be >= 0 Å, got {width}")
        return np.full(len(symbols), width)
    missing = sorted(set(symbols) - set(table))
    if missing:
        raise ValueError(f"smearing_A: no Gaussian width for element(s) {missing}")
    sigma = np.array([table[s] for s in symbols], dtype=float)
    if np.any(sigma < 0):
        raise ValueError("smearing_A: widths must be >= 0 Å")
    return sigma


def _chunks(n: int, size: int = 512):
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def gaussian_charge_density(
    z_A: np.ndarray,
    z_atoms_A: np.ndarray,
    charges_e: np.ndarray,
    sigma_A: np.ndarray,
    area_A2: float,
) -> np.ndarray:
    """Laterally averaged density of Gaussian charges, e/Å³.

    Parameters
    ----------
    z_A : (n_grid,) ndarray, Å
    z_atoms_A, charges_e, sigma_A : (n_atoms,) ndarray, Å, e, Å
        σ = 0 atoms are spread over the nearest grid interval instead.
    area_A2 : float, Å²

    Returns
    -------
    (n_grid,) ndarray, e/Å³
    """
    z_A = np.asarray(z_A, float)
    rho = np.zeros_like(z_A)
    smeared = sigma_A > 0
    for s in _chunks(int(smeared.sum())):
        zi = z_atoms_A[smeared][s]
        qi = charges_e[smeared][s]
        si = sigma_A[smeared][s]
        u = (z_A[:, None] - zi[None, :]) / si[None, :]
        rho += (np.exp(-0.5 * u**2) * (qi / (math.sqrt(2 * math.pi) * si))).sum(1)
    if (~smeared).any() and z_A.size > 1:
        dz = np.gradient(z_A)
        hist = np.interp(z_atoms_A[~smeared], z_A, np.arange(z_A.size))
        idx = np.clip(np.rint(hist).astype(int), 0, z_A.size - 1)
        np.add.at(rho, idx, charges_e[~smeared] / dz[idx])
    return rho / area_A2


def poisson_potential(
    z_A: np.ndarray,
    z_atoms_A: np.ndarray,
    charges_e: np.ndarray,
    sigma_A: np.ndarray,
    area_A2: float,
) -> np.ndarray:
    """Electrostatic potential (V) of laterally averaged Gaussian charge sheets.

    Solves ε₀ φ'' = −ρ exactly for Gaussian charges (see the module
    docstring), with φ → 0 and zero field as z → −∞.

    Parameters
    ----------
    z_A : (n_grid,) ndarray, Å
        Where to evaluate φ.
    z_atoms_A, charges_e, sigma_A : (n_atoms,) ndarray, Å, e, Å
        Positions along z, charges and Gaussian widths (σ = 0: point sheets).
    area_A2 : float, Å²
        Lateral area of the cell.

    Returns
    -------
    (n_grid,) ndarray, V

    Examples
    --------
    Two sheets ±Q a distance d apart: the drop is σd/ε₀ with σ = Q/A.

    >>> z = np.array([-10.0, 20.0])
    >>> phi = poisson_potential(z, np.array([0.0, 5.0]), np.array([1.0, -1.0]),
    ...                         np.array([0.5, 0.5]), 100.0)
    >>> from constpot.units import EPSILON0_E_PER_V_A
    >>> round(float(phi[0] - phi[1]) / (0.01 * 5.0 / EPSILON0_E_PER_V_A), 6)
    1.0
    """
    from scipy.special import ndtr

    z_A = np.asarray(z_A, float)
    phi = np.zeros_like(z_A)
    for s in _chunks(len(z_atoms_A)):
        zi, qi, si = z_atoms_A[s], charges_e[s], sigma_A[s]
        dz = z_A[:, None] - zi[None, :]
        safe = np.where(si > 0, si, 1.0)[None, :]
        u = dz / safe
        ramp = dz * ndtr(u) + safe * np.exp(-0.5 * u**2) / math.sqrt(2 * math.pi)
        ramp = np.where(si[None, :] > 0, ramp, np.maximum(dz, 0.0))
        phi -= (ramp * qi[None, :]).sum(1)
    return phi / (EPSILON0_E_PER_V_A * area_A2)


class Profiles(FrameAnalysis):
    """Time-averaged z-profiles: number density per element, charge, potential.

    Parameters
    ----------
    trajectory : path or sequence of ase.Atoms
        Frames with per-atom ``charges`` (e) and ``region``; info ``time_fs``.
    bin_width_A : float, Å
        Grid spacing along z (densities are histograms with this bin width;
        charge density and potential are evaluated at the bin centres).
    window : float in (0, 1]
        Fraction of the frames, at the end of the run, averaged (default 0.5).
    smearing_A : None, "qeq", float or mapping
        Gaussian widths, see :func:`smearing_widths`.

    Attributes
    ----------
    results["table"] : pandas.DataFrame
        ``z_A, density_<El>_per_A3 ..., charge_density_e_per_A3, potential_V``.
    results["electrode_drop_V"] : float
        Mean φ in the middle half of the counter-electrode region minus that of
        the anode region (V); NaN without both regions.
    results["anode_level_V"], results["counter_level_V"] : float
        The two interior means (V).
    results["vacuum_drop_V"] : float
        φ at the top of the grid minus φ at the bottom (V): the difference of
        the vacuum levels above and below the stack.
    results["extents_A"] : dict
        Region → (z_min, z_max) in Å of its atoms (NaN when absent).
    results["imposed_drop_V"] : float
        ψ_counter − ψ_anode from the frame info (NaN at constant charge).
    results["frames"] : list of int
        Frames averaged.
    """

    required_arrays = (CHARGES, REGION)

    def __init__(
        self,
        trajectory: str | Path | Sequence[Atoms],
        bin_width_A: float = 0.2,
        window: float = 0.5,
        smearing_A: float | Mapping[str, float] | str | None = "qeq",
    ):
        super().__init__(trajectory)
        if not bin_width_A > 0:
            raise ValueError(f"bin_width_A must be > 0 Å, got {bin_width_A}")
        if not 0 < window <= 1:
            raise ValueError(f"window must be in (0, 1], got {window}")
        self.bin_width_A = float(bin_width_A)
        self.window = float(window)
        self.smearing_A = smearing_A

    def todict(self) -> dict:
        return {
            "bin_width_A": self.bin_width_A,
            "window": self.window,
            "smearing_A": self.smearing_A,
        }

    def run(self, start=None, stop=None, step=None):
        """Average over the last ``window`` of the frames (or an explicit slice)."""
        if start is None and stop is None and step is None:
            n = len(self.frames)
            start = n - final_window_count(n, self.window)
        return super().run(start, stop, step)

    def _prepare(self) -> None:
        first = self.frames[0]
        length = float(first.cell[2, 2])
        n_bins = max(1, round(length / self.bin_width_A))
        self._edges = np.linspace(0.0, length, n_bins + 1)
        self._z = 0.5 * (self._edges[1:] + self._edges[:-1])
        self._sigma = smearing_widths(list(first.symbols), self.smearing_A)
        self._elements = sorted(set(first.symbols))
        self._counts = {el: np.zeros(n_bins) for el in self._elements}
        self._rho = np.zeros(n_bins)
        self._phi = np.zeros(n_bins)
        self._region = first.arrays[REGION].astype(str)
        self._n = 0
        self._imposed = []

    def _single_frame(self, index: int, atoms: Atoms) -> None:
        z = atoms.positions[:, 2]
        q = atoms.arrays[CHARGES]
        area = float(abs(np.linalg.det(atoms.cell.array[:2, :2])))
        for el in self._elements:
            sel = atoms.symbols == el
            hist, _ = np.histogram(z[sel], bins=self._edges)
            self._counts[el] += hist / (area * np.diff(self._edges))
        self._rho += gaussian_charge_density(self._z, z, q, self._sigma, area)
        self._phi += poisson_potential(self._z, z, q, self._sigma, area)
        self._imposed.append(
            info_float(atoms, "counter_potential_V")
            - info_float(atoms, "anode_potential_V")
        )
        self._n += 1

    def _extent(self, region: str) -> tuple[float, float]:
        """(z_min, z_max) of a region's atoms in the first averaged frame."""
        z = self.frames[self._indices[0]].positions[self._region == region, 2]
        return (float(z.min()), float(z.max())) if z.size else (math.nan, math.nan)

    def _interior_mean(self, region: str, phi: np.ndarray) -> float:
        """Mean φ over the middle half of a region's initial z extent."""
        z = self.frames[self._indices[0]].positions[self._region == region, 2]
        if z.size == 0:
            return math.nan
        lo, hi = z.min(), z.max()
        quarter = 0.25 * (hi - lo)
        sel = (self._z >= lo + quarter) & (self._z <= hi - quarter)
        if not sel.any():
            return float(np.interp(0.5 * (lo + hi), self._z, phi))
        return float(phi[sel].mean())

    def _conclude(self) -> None:
        import pandas as pd

        n = max(self._n, 1)
        table = {"z_A": self._z}
        for el in self._elements:
            table[f"density_{el}_per_A3"] = self._counts[el] / n
        table["charge_density_e_per_A3"] = self._rho / n
        phi = self._phi / n
        table["potential_V"] = phi
        self.results["table"] = pd.DataFrame(table)
        anode = self._interior_mean(ANODE_REGION, phi)
        counter = self._interior_mean(COUNTER_REGION, phi)
        self.results["anode_level_V"] = anode
        self.results["counter_level_V"] = counter
        self.results["electrode_drop_V"] = counter - anode
        self.results["vacuum_drop_V"] = float(phi[-1] - phi[0])
        self.results["extents_A"] = {r: self._extent(r) for r in REGIONS}
        imposed = np.array(self._imposed)
        self.results["imposed_drop_V"] = (
            float(np.mean(imposed)) if np.isfinite(imposed).all() else math.nan
        )
        self.results["frames"] = list(self._indices)
