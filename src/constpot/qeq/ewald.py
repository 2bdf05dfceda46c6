"""Coulomb interaction of Gaussian charges in a periodic cell.

The electrostatic energy of charges :math:`q_i` with Gaussian densities of width
:math:`\\sigma_i` (standard deviation; :math:`\\sigma_i = 0` is a point charge) is

.. math::

    E = \\tfrac12 q^\\mathsf{T} (k G) q, \\qquad
    G_{ij} = \\sum_{\\mathbf n}{}^{'}
        \\frac{\\operatorname{erf}(|\\mathbf r_{ij} + \\mathbf n|/\\gamma_{ij})}
             {|\\mathbf r_{ij} + \\mathbf n|}
        + \\delta_{ij} \\frac{1}{\\sqrt\\pi\\,\\sigma_i},
    \\qquad \\gamma_{ij} = \\sqrt{2(\\sigma_i^2 + \\sigma_j^2)},

with :math:`k` = :data:`constpot.units.COULOMB_EV_A`; the prime drops the
:math:`i = j, \\mathbf n = 0` term. The lattice sum is split as in Ewald's method
with a point-charge smearing :math:`s` (torch-pme's ``smearing``):

- **k-space**: the point-charge long-range part, by an explicit Ewald sum over a
  half sphere of k-vectors (cached structure factors, used for dense matrices and
  small cells) or by torch-pme's smooth particle-mesh Ewald (large cells);
  torch-pme's conventions for the self term :math:`-\\sqrt{2/\\pi}/s` and the
  neutralising background :math:`-2\\pi s^2 Q / V` are kept.
- **real space**: :math:`[\\operatorname{erfc}(r/\\sqrt2 s) -
  \\operatorname{erfc}(r/\\gamma_{ij})]/r` over a neighbour list, which both
  completes the point-charge Ewald sum and turns point charges into Gaussians.
- **self and background**: :math:`1/(\\sqrt\\pi\\sigma_i)` on the diagonal and,
  for net-charged 3D cells, :math:`+(2\\pi/V)(\\sigma_i^2 + \\sigma_j^2)`: the
  energy is that of Gaussian densities with the :math:`\\mathbf k = 0` Fourier
  term dropped (a uniform neutralising background), independent of the split.
- **slab** (x, y periodic, normal z): the Yeh–Berkowitz correction with the
  net-charge terms of Ballenegger, Arnold & Cerdà, J. Chem. Phys. 131, 094107
  (2009), eq. 31: :math:`E_\\mathrm{YB} = (2\\pi k/V)(M_z^2 - Q\\sum_i q_i
  (z_i^2 + \\sigma_i^2) - Q^2 L_z^2/12)`, applied in the cell as given. The
  Gaussians' own variance :math:`\\sigma_i^2` in the second moment cancels the 3D
  width background exactly, so neither appears in slab mode and net-charged
  slabs converge to the 2D limit as point charges do.

Splitting parameters come from a target ``accuracy`` through torch-pme's error
bounds (:mod:`torchpme.tuning`), deterministically (no timing-based choice), so
the same input always gives the same numbers.

MD steps: an :class:`EwaldWorkspace` carries what one geometry's operator can
pass to the next (k-space tables of the cell, a skin neighbour list), without
changing a bit of the results. Small, dense cells (``n_atoms² ≤ 8 × pairs``)
fold the real-space pairs into a dense matrix once per geometry (each atom
pair's images summed by slices of the list,
:attr:`~constpot.qeq.neighbors.PairList.blocks`), and with the explicit Ewald
sum the self, background and slab or width terms too: one dense product and
the k-space table per evaluation. Their real-space forces are summed over each
atom pair's images before one scatter per atom pair.

This module is longer than 600 lines because it holds one operator whose
set-up, splitting choice and evaluations (potential, dense matrix, analytic
and autograd forces) share its private pair and k-space tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torchpme
from scipy.special import erfcinv
from torchpme.tuning.ewald import EwaldErrorBounds
from torchpme.tuning.pme import PMEErrorBounds

from ..units import COULOMB_EV_A, MIN_DISTANCE_A
from .errors import QEqSetupError
from .geometry import check_slab_cell
from .neighbors import SkinNeighborList

__all__ = ["EwaldSettings", "EwaldWorkspace", "GaussianEwald"]

# Largest cached structure-factor table (k-vectors × atoms) for the explicit
# Ewald sum in ``kspace="auto"`` (two float64 tables, 640 MB); beyond it
# PME is used.
_MAX_EWALD_TABLE = 4.0e7
# Splitting parameters by (cell, n_atoms, max width, accuracy, cutoff, kspace).
_SETTINGS_CACHE: dict[tuple, EwaldSettings] = {}
# Number of k-vectors per chunk when forces are taken by autograd.
_KCHUNK = 512
# The real-space part is folded into a dense (n_atoms, n_atoms) matrix when
# n_atoms² ≤ this × the number of pairs of the half list (a dense product costs
# far less per entry than two scatters per pair; small, dense cells: the demo
# interface, 476 atoms, has n² = 1.5 × pairs), and n_atoms ≤ _DENSE_MAX_ATOMS
# (a 32 MB matrix, still read from cache at every product on the CPU).
_DENSE_PAIR_RATIO = 8.0
_DENSE_MAX_ATOMS = 2048
# Bytes of one row block of the structure-factor table in a CPU potential
# evaluation (both products of a block while it is in a 2 MB L2 cache: 20%
# faster than two passes over the table on the demo cell).
_TRIG_BLOCK_BYTES = 1 << 20
# Neighbour-list skin (Å) of an EwaldWorkspace: rebuilt after 0.5 Å of motion.
_SKIN_A = 1.0


@dataclass(frozen=True)
class EwaldSettings:
    """Splitting parameters chosen for one cell.

    Attributes
    ----------
    cutoff : float, Å
        Real-space cutoff of the neighbour list.
    smearing : float, Å
        torch-pme's point-charge smearing ``s`` (Ewald α = 1/(√2 s)).
    kspace : str
        ``"ewald"`` or ``"pme"``.
    k_cutoff : float, 1/Å
        Radius of the k-vector sphere (``"ewald"``).
    mesh_spacing : float, Å
        PME mesh spacing (``"pme"``).
    interpolation_nodes : int
        PME interpolation order (``"pme"``).
    """

    cutoff: float
    smearing: float
    kspace: str
    k_cutoff: float = 0.0
    mesh_spacing: float = 0.0
    interpolation_nodes: int = 4

    def todict(self) -> dict:
        return dict(self.__dict__)


def _as_tensor(x, device, dtype) -> torch.Tensor:
    a = np.asarray(x)
    if not a.flags.writeable:  # the solver's per-atom tables are read-only
        a = a.copy()
    return torch.as_tensor(a, device=device, dtype=dtype)


class EwaldWorkspace:
    """Geometry work shared by the operators of successive geometries.

    What depends only on the cell and the splitting (k-vectors, their weights,
    torch-pme's Coulomb and PME objects) is kept while those stay the same
    (the cell compared bit for bit); the real-space neighbour list keeps a
    skin (:class:`~constpot.qeq.neighbors.SkinNeighborList`) and is reused
    until an atom has moved half of it. Give one workspace to the
    :class:`GaussianEwald` of each MD step (:class:`~constpot.qeq.ChargeSolver`
    keeps one); the numbers are those of a fresh operator bit for bit
    (canonical pair order, see :mod:`constpot.qeq.neighbors`).

    Parameters
    ----------
    skin : float, Å
        Neighbour-list skin.
    """

    def __init__(self, skin: float = _SKIN_A):
        self.skin = float(skin)
        self._key: tuple | None = None
        self._memo: dict = {}
        self.neighbors: SkinNeighborList | None = None

    def bind(self, cell: np.ndarray, settings: EwaldSettings, device, dtype) -> None:
        """Forget everything kept when the cell, splitting, device or dtype change."""
        key = (cell.tobytes(), settings, str(device), dtype)
        if key != self._key:
            self._key = key
            self._memo = {}
            self.neighbors = SkinNeighborList(settings.cutoff, self.skin)

    def memo(self, name, make):
        """``make()``, computed once per bound cell under ``name``."""
        if name not in self._memo:
            self._memo[name] = make()
        return self._memo[name]


class GaussianEwald:
    """Coulomb operator of Gaussian charges for one fixed geometry.

    Construction does the geometry work once (neighbour list, splitting, pair
    kernels, k-space tables); :meth:`potential` is then a cheap matrix-free
    product :math:`\\phi = kGq`, :meth:`matrix` the dense :math:`kG`, and
    :meth:`forces` the forces :math:`-\\partial E/\\partial \\mathbf R` at fixed
    charges.

    Parameters
    ----------
    positions : (n_atoms, 3) array_like, Å
    cell : (3, 3) array_like, Å
        Rows are cell vectors. Fully periodic (3D Ewald) unless ``slab``.
    sigma : (n_atoms,) array_like, Å
        Gaussian widths, ``0`` for point charges.
    slab : bool
        x, y periodic with normal z: adds the Yeh–Berkowitz correction in the
        cell as given. The cell must have ``c`` along z and all atoms inside
        ``0 <= z < L_z``.
    accuracy : float
        Target accuracy of the Ewald sum, in the units of torch-pme's error
        bounds (RMS force error for unit charges, e²/Å²; multiply by k for
        eV/Å). Potential errors are a few times k·accuracy V per e (at
        ``1e-6``: about 1e-5 V, at most ~1e-4 V); torch-pme's PME estimate is
        optimistic, so PME force errors can reach ~10× the target.
    cutoff : float or None, Å
        Real-space cutoff. Default: the cheapest (by a fixed cost model) of
        6–20 Å in 0.5 Å steps that is long enough for the Gaussian pair terms to
        decay below ``accuracy`` (``2 σ_max erfc⁻¹(accuracy)``; that length
        itself when it exceeds 20 Å).
    kspace : {"auto", "ewald", "pme"}
        Long-range method. ``"auto"`` takes the explicit Ewald sum while its
        structure-factor table stays small, PME otherwise.
    device : str or torch.device
    dtype : torch.dtype
        ``torch.float64`` (default) is what the accuracy targets assume.
    workspace : EwaldWorkspace, optional
        Cell-dependent tables and the skin neighbour list kept from the
        previous geometry (MD steps); a fresh one by default. The results do
        not depend on it.

    Raises
    ------
    QEqSetupError
        Bad shapes, a singular cell, a cell that is not a slab cell (``slab``),
        atoms outside the slab cell, or two atoms closer than 0.3 Å (the message
        names both indices and the distance).
    """

    def __init__(
        self,
        positions,
        cell,
        sigma,
        *,
        slab: bool = False,
        accuracy: float = 1e-6,
        cutoff: float | None = None,
        kspace: str = "auto",
        device="cpu",
        dtype: torch.dtype = torch.float64,
        workspace: EwaldWorkspace | None = None,
    ):
        positions = np.asarray(positions, dtype=np.float64)
        cell = np.asarray(cell, dtype=np.float64)
        sigma = np.asarray(sigma, dtype=np.float64)
        n_atoms = len(positions)
        if positions.ndim != 2 or positions.shape[1] != 3 or n_atoms == 0:
            raise QEqSetupError(
                f"positions must have shape (n_atoms, 3), got {positions.shape}"
            )
        if cell.shape != (3, 3):
            raise QEqSetupError(f"cell must have shape (3, 3), got {cell.shape}")
        volume = abs(float(np.linalg.det(cell)))
        if volume < 1e-6:
            raise QEqSetupError(
                f"cell is singular (volume {volume:g} Å^3); a periodic cell is needed"
            )
        if sigma.shape != (n_atoms,):
            raise QEqSetupError(
                f"sigma must have shape ({n_atoms},), got {sigma.shape}"
            )
        bad = np.flatnonzero(~np.isfinite(sigma) | (sigma < 0))
        if bad.size:
            raise QEqSetupError(
                f"sigma must be finite and >= 0; atom index {int(bad[0])} has "
                f"{sigma[bad[0]]}"
            )
        if not (0 < accuracy < 1):
            raise QEqSetupError(f"accuracy must be in (0, 1), got {accuracy}")
        if kspace not in ("auto", "ewald", "pme"):
            raise QEqSetupError(
                f"kspace must be 'auto', 'ewald' or 'pme', got {kspace!r}"
            )
        if slab:
            check_slab_cell(cell, positions)

        self.n_atoms = n_atoms
        self.slab = slab
        self.device = torch.device(device)
        self.dtype = dtype
        self.volume = volume
        self._np_positions = positions
        self._np_cell = cell
        self._np_sigma = sigma
        self.positions = _as_tensor(positions, self.device, dtype)
        self.cell = _as_tensor(cell, self.device, dtype)
        self.sigma = _as_tensor(sigma, self.device, dtype)

        # The splitting depends on the cell, the atom count and the widths only:
        # cache it, so MD steps in a fixed cell skip the search.
        key = (cell.tobytes(), n_atoms, float(sigma.max()), accuracy, cutoff, kspace)
        if key not in _SETTINGS_CACHE:
            if len(_SETTINGS_CACHE) >= 64:
                _SETTINGS_CACHE.pop(next(iter(_SETTINGS_CACHE)))
            _SETTINGS_CACHE[key] = self._tune(accuracy, cutoff, kspace)
        self.settings = _SETTINGS_CACHE[key]
        self.workspace = EwaldWorkspace() if workspace is None else workspace
        self.workspace.bind(cell, self.settings, self.device, dtype)
        self._build_real_space()
        self._build_kspace()
        # (charges, structure factors) of the last single-vector potential
        self._last_sk: tuple | None = None

        # Diagonal self term of Gaussian charges (absent for point charges).
        sig = self.sigma
        self._self_diag = torch.where(
            sig > 0, 1.0 / (math.sqrt(math.pi) * sig.clamp(min=1e-300)), 0.0
        )
        self._sigma_sq = sig**2
        self._folded = self._fold_dense()

    # ------------------------------------------------------------------ setup
    def _tune(self, accuracy: float, cutoff: float | None, kspace: str):
        sigma_max = float(self.sigma.max())
        rc_gauss = 2.0 * sigma_max * float(erfcinv(accuracy))
        if cutoff is not None and cutoff < rc_gauss:
            raise QEqSetupError(
                f"cutoff {cutoff:.3f} Å is too short for Gaussian widths up to "
                f"{sigma_max:.3f} Å at accuracy {accuracy:g}: needs >= {rc_gauss:.3f} Å"
            )
        # torch-pme's error bounds, evaluated for unit charges (the charges are
        # what we solve for).
        unit = torch.ones((self.n_atoms, 1), dtype=torch.float64)
        cell64 = torch.as_tensor(self._np_cell)
        pos64 = torch.as_tensor(self._np_positions)
        ewald_bounds = EwaldErrorBounds(unit, cell64, pos64)
        density = self.n_atoms / self.volume

        def split(rc: float) -> tuple[float, float, int]:
            smearing = self._smearing_for(rc, accuracy)
            s = torch.tensor(smearing, dtype=torch.float64)

            def error(k: float) -> float:
                return float(ewald_bounds.err_kspace(s, torch.tensor(2 * math.pi / k)))

            # Smallest k-sphere radius meeting accuracy/2 (error falls with k).
            lo, hi = 1e-3, 1.0
            while error(hi) > accuracy / 2.0:
                lo, hi = hi, 2.0 * hi
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if error(mid) > accuracy / 2.0 else (lo, mid)
            return smearing, hi, self._count_kvectors(hi)

        if cutoff is None:
            # Cheapest operator per atom: real-space pairs (weighted by their
            # set-up cost: neighbour list, kernels, sparse matrix; measured on
            # the 3070-atom example cell) against the k-space table work.
            best = None
            # Wide Gaussians (rc_gauss > 20 Å) leave only rc_gauss itself.
            rc_min = max(rc_gauss, 6.0)
            for rc in np.arange(rc_min, max(rc_min, 20.0) + 0.01, 0.5):
                smearing, k_cut, n_k = split(float(rc))
                cost = 20.0 * density * 4.0 / 3.0 * math.pi * rc**3 + 4.0 * n_k
                if best is None or cost < best[0]:
                    best = (cost, float(rc), smearing, k_cut, n_k)
            _, rc, smearing, k_cut, n_k = best
        else:
            rc = float(cutoff)
            smearing, k_cut, n_k = split(rc)
        if kspace == "auto":
            kspace = "ewald" if n_k * self.n_atoms <= _MAX_EWALD_TABLE else "pme"
        if kspace == "ewald":
            return EwaldSettings(rc, smearing, "ewald", k_cutoff=k_cut)
        nodes, spacing = self._pme_mesh(smearing, accuracy, unit, cell64, pos64)
        return EwaldSettings(
            rc,
            smearing,
            "pme",
            k_cutoff=k_cut,
            mesh_spacing=spacing,
            interpolation_nodes=nodes,
        )

    def _smearing_for(self, rc: float, accuracy: float) -> float:
        # torch-pme's estimate (TunerBase.estimate_smearing) for unit charges:
        # real-space error accuracy/2 at the cutoff.
        prefac = 2.0 * self.n_atoms / math.sqrt(self.n_atoms)
        arg = accuracy / 2.0 / prefac * math.sqrt(rc * self.volume)
        return rc / math.sqrt(-2.0 * math.log(min(arg, 0.5)))

    def _pme_mesh(self, smearing, accuracy, unit, cell64, pos64):
        """Cheapest (interpolation order, mesh spacing) meeting ``accuracy``."""
        bounds = PMEErrorBounds(unit, cell64, pos64)
        s = torch.tensor(smearing, dtype=torch.float64)
        lengths = np.linalg.norm(self._np_cell, axis=1)
        best = None
        for nodes in (4, 5, 6):
            for spacing in np.geomspace(4.0, 0.05, 120):
                err = float(
                    bounds.err_kspace(s, torch.tensor(spacing), torch.tensor(nodes))
                )
                if err > accuracy / 2.0:
                    continue
                mesh = np.prod(2 ** np.ceil(np.log2(2 * lengths / spacing + 1)))
                cost = mesh * math.log2(mesh) + 2.0 * self.n_atoms * nodes**3
                if best is None or cost < best[0]:
                    best = (cost, nodes, float(spacing))
                break
        if best is None:
            raise QEqSetupError(
                f"no PME mesh reaches accuracy {accuracy:g}; use kspace='ewald'"
            )
        return best[1], best[2]

    def _count_kvectors(self, k_cut: float) -> int:
        recip = 2 * math.pi * np.linalg.inv(self._np_cell).T
        n_max = np.ceil(k_cut * np.linalg.norm(self._np_cell, axis=1) / (2 * math.pi))
        # Volume estimate of the half sphere in units of reciprocal cells.
        return int(
            (2 / 3) * math.pi * k_cut**3 / abs(np.linalg.det(recip)) + n_max.sum()
        )

    def _build_real_space(self) -> None:
        pairs = self.workspace.neighbors.pairs(
            self._np_positions, self._np_cell, self.positions
        )
        n = self.n_atoms
        # Dense real-space matrix for small dense cells; it takes every
        # candidate pair of the skin, those beyond the cutoff with weight
        # exactly 0 (adding +0 changes no bit), summed over each atom pair's
        # images (PairList.blocks); the scatter takes the pairs in range.
        dense = n <= _DENSE_MAX_ATOMS and n * n <= _DENSE_PAIR_RATIO * pairs.n_inside
        if not dense:
            pairs = pairs.compact()
        dist = pairs.distances
        if len(dist) and float(dist.min()) < MIN_DISTANCE_A:
            p = int(torch.argmin(dist))
            i, j = int(pairs.i[p]), int(pairs.j[p])
            raise QEqSetupError(
                f"atoms {i} and {j} are {float(dist[p]):.4f} Å apart "
                f"(< {MIN_DISTANCE_A} Å): overlapping atoms"
                + (" (an atom and its own periodic image)" if i == j else "")
            )
        self._i, self._j, self._shifts = pairs.i, pairs.j, pairs.shifts
        self._vec, self._dist, self._dist_sq = pairs.vectors, dist, pairs.distances_sq
        # the skin's candidates beyond the cutoff (dense cells only)
        self._outside = torch.logical_not(pairs.inside) if dense else None
        self._blocks = pairs.blocks if dense else ()
        self._all_gaussian = bool(self.sigma.min() > 0)
        if dense:  # the candidates stay until the next rebuild: so do these
            constants = self.workspace.neighbors.per_build(
                self._np_sigma.tobytes(), lambda: self._pair_constants(pairs)
            )
        else:
            constants = self._pair_constants(None)
        self._gamma, self._inv_gamma, self._neg_inv_gamma_sq = constants[:3]
        self._pair_w = self._pair_kernel(dist)
        self._real_dense = None
        if dense:
            flat, self._scatter_i, self._scatter_j, self._scatter_order = constants[3:]
            # Each atom pair's sum over its images in the upper triangle
            # (i <= j), then R = U + Uᵀ: the self-image pairs on the
            # diagonal count twice, as they must.
            upper = torch.zeros(n * n, dtype=self.dtype, device=self.device)
            upper.index_copy_(0, flat, self._image_sum(self._pair_w))
            upper = upper.view(n, n)
            self._real_dense = upper + upper.T

    def _pair_gamma(self) -> torch.Tensor:
        """γ_ij = √(2(σ_i² + σ_j²)) of the pairs, Å."""
        sig_sq = self.sigma * self.sigma
        return torch.sqrt(
            2.0 * (sig_sq.index_select(0, self._i) + sig_sq.index_select(0, self._j))
        )

    def _pair_constants(self, pairs):
        """γ_ij of the pairs, 1/γ_ij and −1/γ_ij² (None unless every σ > 0);
        with the (uncompacted) ``pairs``, also the flat (i, j) index of each
        atom pair in an (n_atoms, n_atoms) matrix and the atom pairs' i, j
        and places in the order of the force scatter (PairList.pair_order)."""
        gamma = self._pair_gamma()
        inv, neg_inv_sq = None, None
        if self._all_gaussian:
            inv = 1.0 / gamma
            neg_inv_sq = (inv * inv).neg_()
        if pairs is None:
            return gamma, inv, neg_inv_sq
        order = pairs.pair_order
        return (
            gamma,
            inv,
            neg_inv_sq,
            pairs.pair_i * self.n_atoms + pairs.pair_j,
            pairs.pair_i.index_select(0, order),
            pairs.pair_j.index_select(0, order),
            order,
        )

    def _image_sum(self, values: torch.Tensor) -> torch.Tensor:
        """Sum of (n_pairs,) candidate values over each atom pair's images,
        (n_atom_pairs,): one slice addition per image block."""
        (_, size), *rest = self._blocks
        total = values[:size].clone()
        for start, count in rest:
            total[:count] += values[start : start + count]
        return total

    def _real_potential(self, q: torch.Tensor) -> torch.Tensor:
        """Real-space part Σ_j R_ij q_j for (n_atoms, m) charges, 1/Å·e.

        Scatter over the half neighbour list, both ways; the self-image pairs
        (i, i, S) of the half list contribute twice, as they must. No sparse
        matrix is assembled, so nothing is sorted per MD step; small dense
        cells use the dense real-space matrix built with the pairs instead.
        """
        if self._real_dense is not None:
            return self._real_dense @ q
        if q.shape[1] == 1:  # 1-D scatters: far faster than (n_pairs, 1) rows
            w, qv = self._pair_w, q[:, 0]
            phi = torch.zeros_like(qv)
            phi.index_add_(0, self._i, w * qv.index_select(0, self._j))
            phi.index_add_(0, self._j, w * qv.index_select(0, self._i))
            return phi.unsqueeze(1)
        w = self._pair_w.unsqueeze(1)
        phi = torch.zeros_like(q)
        phi.index_add_(0, self._i, w * q[self._j])
        phi.index_add_(0, self._j, w * q[self._i])
        return phi

    def _pair_kernel(self, d: torch.Tensor) -> torch.Tensor:
        """[erfc(r/√2 s) − erfc(r/γ_ij)] / r for the neighbour pairs, 1/Å.

        Exactly 0 for the skin's pairs beyond the cutoff.
        """
        kernel = torch.special.erfc(
            d * (1.0 / (math.sqrt(2.0) * self.settings.smearing))
        )
        if self._all_gaussian:
            kernel.sub_(torch.special.erfc(d * self._inv_gamma))
        else:
            gamma = self._gamma
            kernel.sub_(
                torch.where(
                    gamma > 0, torch.special.erfc(d / gamma.clamp(min=1e-300)), 0.0
                )
            )
        kernel.div_(d)
        if self._outside is not None:
            kernel.masked_fill_(self._outside, 0.0)
        return kernel

    def _build_kspace(self) -> None:
        st = self.settings
        ws = self.workspace
        dev, dt = self.device, self.dtype
        self._coulomb = ws.memo(
            "coulomb",
            lambda: torchpme.CoulombPotential(smearing=st.smearing).to(
                device=dev, dtype=dt
            ),
        )
        self._self_term, self._background = ws.memo(
            "self_background",
            lambda: (
                float(self._coulomb.self_contribution()),
                2.0 * float(self._coulomb.background_correction()) / self.volume,
            ),
        )
        if st.kspace == "pme":
            self._pme = ws.memo(
                "pme",
                lambda: torchpme.PMECalculator(
                    self._coulomb,
                    mesh_spacing=st.mesh_spacing,
                    interpolation_nodes=st.interpolation_nodes,
                ).to(device=dev, dtype=dt),
            )
            self._no_pairs = torch.zeros((0, 2), dtype=torch.int64, device=dev)
            self._no_dist = torch.zeros(0, dtype=dt, device=dev)
            return
        self.kvectors = self._half_sphere_kvectors(st.k_cutoff)
        # (2/V) G(k) for the half sphere: each k stands for k and -k.
        self._kweights, self._trig_w = ws.memo(
            "kweights",
            lambda: self._weights_of(self.kvectors),
        )
        phase = self.kvectors @ self.positions.T.contiguous()  # (n_k, n_atoms)
        # Structure-factor table [cos; sin], (2 n_k, n_atoms): one matrix
        # product each way per potential evaluation.
        n_k = len(phase)
        self._trig = phase.new_empty((2 * n_k, self.n_atoms))
        torch.cos(phase, out=self._trig[:n_k])
        torch.sin(phase, out=self._trig[n_k:])
        # Row blocks of the table (views) for the potential: ~1 MB each on
        # the CPU, the whole table on a GPU.
        rows = _TRIG_BLOCK_BYTES // (8 * self.n_atoms) if dev.type == "cpu" else 0
        rows = max(rows, 64) if rows else 2 * n_k
        weight = self._trig_w.unsqueeze(1)
        self._trig_blocks = [
            (self._trig[s : s + rows], weight[s : s + rows])
            for s in range(0, 2 * n_k, rows)
        ]

    def _weights_of(self, kvectors: torch.Tensor):
        k_sq = (kvectors**2).sum(dim=1)
        weights = 2.0 * self._coulomb.lr_from_k_sq(k_sq) / self.volume
        return weights, torch.cat([weights, weights])

    def _half_sphere_kvectors(self, k_cut: float) -> torch.Tensor:
        """k-vectors of the half sphere |k| ≤ ``k_cut`` (kept per cell), 1/Å."""
        return self.workspace.memo(
            ("kvectors", float(k_cut)), lambda: self._make_kvectors(k_cut)
        )

    def _make_kvectors(self, k_cut: float) -> torch.Tensor:
        recip = 2 * math.pi * np.linalg.inv(self._np_cell).T  # rows b_i
        n_max = np.ceil(
            k_cut * np.linalg.norm(self._np_cell, axis=1) / (2 * math.pi)
        ).astype(int)
        ranges = [np.arange(-m, m + 1) for m in n_max]
        n = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, 3)
        half = (
            (n[:, 0] > 0)
            | ((n[:, 0] == 0) & (n[:, 1] > 0))
            | ((n[:, 0] == 0) & (n[:, 1] == 0) & (n[:, 2] > 0))
        )
        k = n[half] @ recip
        k = k[np.einsum("ij,ij->i", k, k) <= k_cut**2]
        return torch.as_tensor(k, device=self.device, dtype=self.dtype)

    # -------------------------------------------------------------- operators
    def potential(self, charges: torch.Tensor) -> torch.Tensor:
        """Electrostatic potential φ = kGq at the atoms.

        Parameters
        ----------
        charges : (n_atoms,) or (n_atoms, m) tensor, e

        Returns
        -------
        (n_atoms,) or (n_atoms, m) tensor, V
            φ_i = ∂E/∂q_i.
        """
        charges = torch.as_tensor(charges, dtype=self.dtype, device=self.device)
        q = charges if charges.ndim == 2 else charges.unsqueeze(1)
        if self._folded is not None:
            phi = COULOMB_EV_A * self._kspace_ewald(q, self._folded @ q)
            return phi if charges.ndim == 2 else phi.squeeze(1)
        st = self.settings
        phi = self._real_potential(q)
        if st.kspace == "ewald":
            phi = self._kspace_ewald(q, phi)
            phi = phi - q * self._self_term
            phi = phi - self._background * q.sum(dim=0, keepdim=True)
        else:
            phi = phi + 2.0 * self._pme.forward(
                q, self.cell, self.positions, self._no_pairs, self._no_dist
            )
        phi = phi + self._self_diag.unsqueeze(1) * q
        if self.slab:
            phi = phi + self._slab_potential(q, self.positions)
        else:
            phi = phi + self._gaussian_background(q)
        phi = COULOMB_EV_A * phi
        return phi if charges.ndim == 2 else phi.squeeze(1)

    def _kspace_ewald(self, q: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        """``phi`` plus the explicit Ewald k-space sum (without k) for
        (n_atoms, m) charges."""
        sk = []
        for table, weight in self._trig_blocks:
            # Both products of a block while it sits in the cache: one pass
            # over the table from memory instead of two.
            sk.append(table @ q)
            phi = phi.addmm_(table.T, weight * sk[-1])
        # The forces at the same charges (the solver's last evaluation)
        # reuse the structure factors.
        self._last_sk = (q.clone(), sk) if q.shape[1] == 1 else None
        return phi

    def _fold_dense(self) -> torch.Tensor | None:
        """The dense real-space matrix with every term but the k-space sum
        (self, background, slab or width terms) added, 1/Å; None without a
        dense matrix or with PME. One matrix product then replaces about ten
        vector operations per potential (solver iterations)."""
        if self._real_dense is None or self.settings.kspace != "ewald":
            return None
        mat = self._real_dense - self._background
        mat.diagonal().add_(self._self_diag - self._self_term)
        # Low-rank terms as one product each (a pass over the matrix):
        # slab −(2π/V)[(z_i − z_j)² + L²/6] = −(2π/V)(z_i² − 2 z_i z_j + z_j²
        # + L²/6), expanded as _slab_potential is; 3D (2π/V)(σ_i² + σ_j²).
        pref = 2.0 * math.pi / self.volume
        one = torch.ones_like(self._sigma_sq)
        if self.slab:
            z = self.positions[:, 2]
            length = float(self._np_cell[2, 2])
            left = torch.stack([z * z, z, one], dim=1)
            right = torch.stack([one, -2.0 * z, z * z + length**2 / 6.0])
            mat.addmm_(left, right, alpha=-pref)
        else:
            left = torch.stack([self._sigma_sq, one], dim=1)
            mat.addmm_(left, torch.stack([one, self._sigma_sq]), alpha=pref)
        return mat

    def _gaussian_background(self, q: torch.Tensor) -> torch.Tensor:
        # (2π/V) Σ_j (σ_i² + σ_j²) q_j: the k = 0 width term of net-charged 3D
        # cells. In a slab it is cancelled exactly by the Gaussians' own
        # variance in the Yeh–Berkowitz net-charge term, −(2π/V) Q Σ q_i σ_i².
        pref = 2.0 * math.pi / self.volume
        total = q.sum(dim=0, keepdim=True)
        moment = (self._sigma_sq.unsqueeze(1) * q).sum(dim=0, keepdim=True)
        return pref * (self._sigma_sq.unsqueeze(1) * total + moment)

    def _slab_potential(self, q: torch.Tensor, positions: torch.Tensor):
        # ∂E_YB/∂q_i (without k) for E_YB = (2π/V)(M² − Q Σ q z² − Q² L²/12).
        z = positions[:, 2].unsqueeze(1)
        length = float(self._np_cell[2, 2])
        total = q.sum(dim=0, keepdim=True)
        m1 = (q * z).sum(dim=0, keepdim=True)
        m2 = (q * z**2).sum(dim=0, keepdim=True)
        return (2.0 * math.pi / self.volume) * (
            2.0 * z * m1 - z**2 * total - m2 - total * length**2 / 6.0
        )

    def matrix(self) -> torch.Tensor:
        """Dense operator kG (n_atoms, n_atoms), V/e; needs ``kspace="ewald"``.

        O(N²) memory and O(N² n_k) time: for reference solves and small cells.
        """
        if self.settings.kspace != "ewald":
            raise QEqSetupError("the dense matrix needs kspace='ewald'")
        if self._folded is not None:  # every term but k-space already dense
            kspace = self._trig.T @ (self._trig_w.unsqueeze(1) * self._trig)
            return COULOMB_EV_A * (self._folded + kspace)
        n = self.n_atoms
        mat = torch.zeros((n, n), dtype=self.dtype, device=self.device)
        mat.index_put_((self._i, self._j), self._pair_w, accumulate=True)
        mat.index_put_((self._j, self._i), self._pair_w, accumulate=True)
        mat += self._trig.T @ (self._trig_w.unsqueeze(1) * self._trig)
        idx = torch.arange(n, device=self.device)
        mat[idx, idx] += self._self_diag - float(self._coulomb.self_contribution())
        mat -= 2.0 * float(self._coulomb.background_correction()) / self.volume
        pref = 2.0 * math.pi / self.volume
        if self.slab:
            z = self.positions[:, 2]
            length = float(self._np_cell[2, 2])
            mat -= pref * ((z.unsqueeze(1) - z.unsqueeze(0)) ** 2 + length**2 / 6.0)
        else:
            mat += pref * (self._sigma_sq.unsqueeze(1) + self._sigma_sq.unsqueeze(0))
        return COULOMB_EV_A * mat

    def energy(self, charges: torch.Tensor) -> float:
        """Electrostatic energy ½ qᵀ(kG)q in eV for (n_atoms,) charges."""
        return float(0.5 * torch.dot(charges, self.potential(charges)))

    def forces(self, charges: torch.Tensor, autograd: bool = False) -> torch.Tensor:
        """Forces −∂E/∂R at fixed charges (Hellmann–Feynman), eV/Å.

        Analytic for the real-space pairs, the explicit Ewald sum (from the
        cached structure-factor table: F_i = −q_i Σ_k w_k (c_ki S_k − s_ki C_k) k)
        and the slab correction; PME forces by autograd through torch-pme.

        Parameters
        ----------
        charges : (n_atoms,) tensor, e
        autograd : bool
            Differentiate the energy with autograd instead (the reference the
            analytic forces are tested against).

        Returns
        -------
        (n_atoms, 3) tensor, eV/Å
        """
        q = torch.as_tensor(charges, dtype=self.dtype, device=self.device).detach()
        if autograd:
            return self._forces_autograd(q)
        pos = self.positions
        # The pair vectors and distances of the set-up.
        vec, gamma = self._vec, self._gamma
        # f(d) = [erfc(d/a) − erfc(d/γ)]/d, a = √2 s; F_i = q_i q_j f'(d) r̂_ij,
        # f'(d)/d = [−(2/√π)(e^{−d²/a²}/a − e^{−d²/γ²}/γ) − f(d)] / d².
        a = math.sqrt(2.0) * self.settings.smearing
        two_pi = 2.0 / math.sqrt(math.pi)
        d_sq = self._dist_sq
        slope = torch.mul(d_sq, -1.0 / a**2).exp_().mul_(-two_pi / a)
        if self._all_gaussian:
            gauss = torch.mul(d_sq, self._neg_inv_gamma_sq).exp_()
            slope.addcmul_(gauss, self._inv_gamma, value=two_pi)
        else:
            safe = gamma.clamp(min=1e-300)
            slope += torch.where(
                gamma > 0, two_pi / safe * torch.exp(-d_sq / safe**2), 0.0
            )
        coef = slope.sub_(self._pair_w).div_(d_sq)
        force_t = torch.zeros((3, self.n_atoms), dtype=self.dtype, device=self.device)
        # One 1-D scatter per component ((3, n_pairs) layout): far faster on
        # the CPU than index_add_ of (n_pairs, 3) rows.
        if self._blocks:
            # Dense cells: the skin's pairs beyond the cutoff weigh 0; each
            # atom pair's images summed first, then scattered once per
            # atom pair, in an order independent of the candidate list.
            coef.masked_fill_(self._outside, 0.0)
            i, j = self._scatter_i, self._scatter_j
            qq = q.index_select(0, i) * q.index_select(0, j)
            for axis in range(3):
                pair = self._image_sum(vec[axis] * coef)
                pair = pair.index_select(0, self._scatter_order).mul_(qq)
                force_t[axis].index_add_(0, i, pair)
                force_t[axis].index_add_(0, j, pair, alpha=-1.0)
        else:
            coef *= q.index_select(0, self._i) * q.index_select(0, self._j)
            for axis in range(3):
                pair = vec[axis] * coef
                force_t[axis].index_add_(0, self._i, pair)
                force_t[axis].index_add_(0, self._j, pair, alpha=-1.0)
        force = force_t.T.contiguous()
        if self.settings.kspace == "ewald":
            # Σ_k w_k (c_ki S_k − s_ki C_k) k as one product with the table.
            n_k = len(self.kvectors)
            # [C_k; S_k], by the products of potential(): the same bits
            # whether kept from it or not
            last = self._last_sk
            if last is not None and torch.equal(last[0][:, 0], q):
                blocks = last[1]
            else:
                blocks = [table @ q.unsqueeze(1) for table, _ in self._trig_blocks]
            sk = torch.cat(blocks)[:, 0]
            ws = (self._kweights * sk[n_k:]).unsqueeze(1) * self.kvectors
            wc = (self._kweights * sk[:n_k]).unsqueeze(1) * self.kvectors
            force -= q.unsqueeze(1) * (torch.cat([ws, -wc]).T @ self._trig).T
        else:
            pos_g = pos.detach().clone().requires_grad_(True)
            qc = q.unsqueeze(1)
            v = self._pme.forward(qc, self.cell, pos_g, self._no_pairs, self._no_dist)
            force -= torch.autograd.grad(torch.sum(qc * v), pos_g)[0]
        if self.slab:
            total = q.sum()
            m1 = torch.dot(q, pos[:, 2])
            force[:, 2] -= (4.0 * math.pi / self.volume) * q * (m1 - total * pos[:, 2])
        return COULOMB_EV_A * force

    def _forces_autograd(self, q: torch.Tensor) -> torch.Tensor:
        pos = self.positions.detach().clone().requires_grad_(True)
        vec = pos[self._j] - pos[self._i] + self._shifts @ self.cell
        d = torch.linalg.norm(vec, dim=1)
        energy = torch.sum(q[self._i] * q[self._j] * self._pair_kernel(d))
        if self.slab:
            qc = q.unsqueeze(1)
            energy = energy + 0.5 * torch.sum(qc * self._slab_potential(qc, pos))
        if self.settings.kspace == "pme":
            qc = q.unsqueeze(1)
            v = self._pme.forward(qc, self.cell, pos, self._no_pairs, self._no_dist)
            energy = energy + torch.sum(qc * v)
        grad = torch.autograd.grad(energy, pos)[0]
        if self.settings.kspace == "ewald":
            for start in range(0, len(self.kvectors), _KCHUNK):
                kv = self.kvectors[start : start + _KCHUNK]
                w = self._kweights[start : start + _KCHUNK]
                pos_k = self.positions.detach().clone().requires_grad_(True)
                phase = kv @ pos_k.T
                re = torch.cos(phase) @ q
                im = torch.sin(phase) @ q
                e_k = 0.5 * torch.sum(w * (re**2 + im**2))
                grad = grad + torch.autograd.grad(e_k, pos_k)[0]
        return -COULOMB_EV_A * grad
