"""Linear charge constraints of QEq, and the bordered (KKT) solve they define.

The charges solved for, :math:`q` over the *free* atoms (those not held at a
given charge), obey :math:`Cq = d` with the rows, in this order:

1. the total charge of the cell, :math:`\\sum_{i\\,\\mathrm{free}} q_i =
   Q - \\sum_{i\\,\\mathrm{fixed}} q_i` (dropped when the groups cover every
   free atom: it is then the sum of the group rows, and its value is checked);
2. one row per charge group (a molecule held at its formal charge),
   :math:`\\sum_{i \\in g,\\,\\mathrm{free}} q_i = Q_g -
   \\sum_{i \\in g,\\,\\mathrm{fixed}} q_i` (a group of fixed atoms only is
   checked and dropped).

Groups are disjoint, so C is stored as one group label per free atom:
:meth:`ChargeConstraints.apply` (:math:`Cv`) and
:meth:`~ChargeConstraints.apply_t` (:math:`C^\\mathsf{T}y`) cost O(n) and
:meth:`~ChargeConstraints.projector` gives the preconditioned projection of the
matrix-free CG; :meth:`~ChargeConstraints.matrix` forms C for small systems.

Minimising :math:`\\tfrac12 q^\\mathsf{T}Aq + b^\\mathsf{T}q` subject to
:math:`Cq = d` is the bordered system solved by :func:`kkt_solve`,

.. math::

    \\begin{pmatrix} A & C^\\mathsf{T} \\\\ C & 0 \\end{pmatrix}
    \\begin{pmatrix} q \\\\ \\lambda \\end{pmatrix} =
    \\begin{pmatrix} -b \\\\ d \\end{pmatrix},

with :math:`A = \\operatorname{diag}(J) + kG` and :math:`b = \\chi - \\psi +
\\phi_\\mathrm{fixed}` for QEq (docs/design.md §4). The electrode potentials ψ
enter b, not C. :func:`kkt_solve` is differentiable in A and b by torch
autograd, which the χ/J fit (:mod:`constpot.potential.fit`) uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from ase import Atoms

from .errors import QEqSetupError

__all__ = ["ChargeConstraints", "kkt_solve"]

#: Mismatch (e) allowed between a total and the fixed charges that set it.
_TOTAL_TOL_E = 1e-8


@dataclass(frozen=True, eq=False)
class ChargeConstraints:
    """Rows :math:`Cq = d` over the free atoms (module docstring).

    Build it with :meth:`from_atoms`, which validates the input. Treat it as
    immutable: the tensors of :meth:`matrix` and the label lookups are cached.

    Attributes
    ----------
    free : (n_free,) int ndarray
        Indices of the atoms whose charges are solved, ascending.
    fixed_charges : (n_atoms,) ndarray, e
        Charges of the fixed atoms; 0 on free atoms.
    has_total : bool
        Whether the first row is the total charge.
    labels : (n_free,) int ndarray
        Group row of each free atom (0 … n_groups − 1), −1 for none.
    rhs : (n_constraints,) ndarray, e
        d: the total (if kept), then the group totals, less the fixed charges.
    """

    free: np.ndarray
    fixed_charges: np.ndarray
    has_total: bool
    labels: np.ndarray
    rhs: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.labels.shape != self.free.shape:
            raise ValueError(
                f"labels must have the shape of free {self.free.shape}, got "
                f"{self.labels.shape}"
            )
        rows = np.unique(self.labels[self.labels >= 0])
        if not np.array_equal(rows, np.arange(self.n_groups)):
            raise ValueError(
                f"labels must use every group row 0..{self.n_groups - 1} (rhs has "
                f"{self.n_groups} group rows), got rows {rows.tolist()}"
            )

    # ------------------------------------------------------------ building
    @classmethod
    def from_atoms(
        cls,
        atoms: Atoms,
        fixed=None,
        total_charge: float | None = 0.0,
        groups=None,
    ) -> ChargeConstraints:
        """Constraints of ``atoms`` (the arguments of ``ChargeSolver.solve``).

        Parameters
        ----------
        atoms : ase.Atoms
            Its initial charges are the fixed atoms' charges and, for label
            groups, the formal charges giving each group's total.
        fixed : (n_atoms,) bool array_like, optional
            Atoms held at ``atoms.get_initial_charges()``.
        total_charge : float or None, e
            Total charge of the cell, fixed atoms included. ``None`` leaves it
            free, allowed only when ``groups`` cover every free atom.
        groups : optional
            An (n_atoms,) int ndarray of labels (−1 = no group; each group's
            total is the sum of its initial charges), or a sequence of
            ``(indices, total_e)`` pairs.

        Returns
        -------
        ChargeConstraints

        Raises
        ------
        QEqSetupError
            Bad shapes, non-finite totals or fixed charges, overlapping groups
            or indices out of range (the message names the argument), a free
            total in a periodic cell, or totals the fixed charges contradict.
        """
        n = len(atoms)
        if total_charge is not None and not np.isfinite(total_charge):
            raise QEqSetupError(
                f"total_charge must be a finite number of e or None, got {total_charge}"
            )
        fixed_mask = _fixed_mask(fixed, n)
        q_fixed = np.zeros(n)
        if fixed_mask.any():
            initial = atoms.get_initial_charges()
            q_fixed = np.where(fixed_mask, initial, 0.0)
            if not np.all(np.isfinite(q_fixed)):
                i = int(np.flatnonzero(~np.isfinite(q_fixed))[0])
                raise QEqSetupError(
                    f"fixed atom index {i} has a non-finite initial charge "
                    f"({initial[i]}); fixed charges are read from "
                    "atoms.get_initial_charges()"
                )
        labels, targets = _group_labels(atoms, groups, n)
        return _rows(fixed_mask, q_fixed, total_charge, labels, targets)

    # ---------------------------------------------------------- properties
    @property
    def n_atoms(self) -> int:
        return len(self.fixed_charges)

    @property
    def n_free(self) -> int:
        return len(self.free)

    @property
    def fixed(self) -> np.ndarray:
        """(n_atoms,) bool: the atoms held at :attr:`fixed_charges`."""
        mask = np.ones(self.n_atoms, bool)
        mask[self.free] = False
        return mask

    @property
    def n_groups(self) -> int:
        return len(self.rhs) - int(self.has_total)

    @property
    def m(self) -> int:
        """Number of rows of C."""
        return len(self.rhs)

    # ------------------------------------------------------ torch operators
    def _labels_on(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """Group rows and membership mask of the free atoms on ``device``."""
        key = ("labels", str(device))
        if key not in self._cache:
            labels = torch.tensor(self.labels, device=device)
            in_group = labels >= 0
            self._cache[key] = (torch.where(in_group, labels, 0), in_group)
        return self._cache[key]

    def d(self, like: torch.Tensor) -> torch.Tensor:
        """(m,) right-hand side d with the dtype and device of ``like``, e."""
        return torch.tensor(self.rhs, dtype=like.dtype, device=like.device)

    def apply(self, v: torch.Tensor) -> torch.Tensor:
        """C v for a (n_free,) tensor: (m,)."""
        parts = []
        if self.has_total:
            parts.append(v.sum().reshape(1))
        if self.n_groups:
            rows, in_group = self._labels_on(v.device)
            g = torch.zeros(self.n_groups, dtype=v.dtype, device=v.device)
            g.index_add_(0, rows[in_group], v[in_group])
            parts.append(g)
        return torch.cat(parts) if parts else v.new_zeros(0)

    def apply_t(self, y: torch.Tensor) -> torch.Tensor:
        """Cᵀ y for a (m,) tensor: (n_free,)."""
        out = torch.zeros(self.n_free, dtype=y.dtype, device=y.device)
        k = 0
        if self.has_total:
            out = out + y[0]
            k = 1
        if self.n_groups:
            rows, in_group = self._labels_on(y.device)
            out = out + torch.where(in_group, y[k:][rows], 0.0)
        return out

    def matrix(
        self, dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu"
    ) -> torch.Tensor:
        """C as a dense (m, n_free) tensor of ones and zeros."""
        device = torch.device(device)
        key = ("matrix", dtype, str(device))
        if key not in self._cache:
            eye = torch.eye(self.m, dtype=dtype, device=device)
            rows = [self.apply_t(e) for e in eye]
            self._cache[key] = (
                torch.stack(rows)
                if rows
                else torch.zeros((0, self.n_free), dtype=dtype, device=device)
            )
        return self._cache[key]

    def projector(self, minv, like: torch.Tensor) -> _Projection:
        """Projection onto Cz = 0 preconditioned by ``minv`` (M⁻¹).

        Parameters
        ----------
        minv : callable
            Applies M⁻¹ (symmetric positive definite) to (n_free,) or
            (n_free, k) tensors.
        like : tensor
            Sets dtype and device.
        """
        return _Projection(self, minv, like)


class _Projection:
    """Constraint projection preconditioned by M⁻¹ (Gould, Hribar & Nocedal,
    SIAM J. Sci. Comput. 23, 1376 (2001)).

    ``project(r)`` returns z = M⁻¹(r − Cᵀy), the projected gradient
    g = r − Cᵀy and y = (CM⁻¹Cᵀ)⁻¹CM⁻¹r, so that Cz = 0.
    """

    def __init__(self, cons: ChargeConstraints, minv, like: torch.Tensor):
        self.cons, self.minv = cons, minv
        if cons.m:
            self._minv_ct = minv(cons.matrix(like.dtype, like.device).T)  # (n, m)
            gram = torch.stack([cons.apply(col) for col in self._minv_ct.T], dim=1)
            self._chol = torch.linalg.cholesky(0.5 * (gram + gram.T))

    def project(self, r: torch.Tensor):
        if self.cons.m == 0:
            return self.minv(r), r, r.new_zeros(0)
        z = self.minv(r)
        y = torch.cholesky_solve(self.cons.apply(z).unsqueeze(1), self._chol)[:, 0]
        g = r - self.cons.apply_t(y)
        return z - self._minv_ct @ y, g, y

    def feasible(self, x: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        """x + M⁻¹Cᵀy with C(x + M⁻¹Cᵀy) = d."""
        if self.cons.m == 0:
            return x
        y = torch.cholesky_solve((d - self.cons.apply(x)).unsqueeze(1), self._chol)
        return x + self._minv_ct @ y[:, 0]


def kkt_solve(
    a: torch.Tensor, b: torch.Tensor, constraints: ChargeConstraints
) -> tuple[torch.Tensor, torch.Tensor]:
    """Minimise ½qᵀAq + bᵀq subject to Cq = d by the bordered system (LU).

    Differentiable in ``a`` and ``b`` (torch autograd through
    :func:`torch.linalg.solve`).

    Parameters
    ----------
    a : (n_free, n_free) tensor, eV/e²
        Symmetric Hessian over the free atoms, positive definite on Cq = 0.
    b : (n_free,) tensor, V
        Linear term: χ − ψ plus the potential of the fixed charges.
    constraints : ChargeConstraints

    Returns
    -------
    q : (n_free,) tensor, e
    multipliers : (m,) tensor, V
        λ of the bordered system (module docstring).

    Raises
    ------
    ValueError
        ``a`` or ``b`` not of the free atoms' shape.
    """
    n = constraints.n_free
    if a.shape != (n, n):
        raise ValueError(f"a must have shape ({n}, {n}) (free atoms), got {a.shape}")
    if b.shape != (n,):
        raise ValueError(f"b must have shape ({n},) (free atoms), got {b.shape}")
    c = constraints.matrix(a.dtype, a.device)
    m = c.shape[0]
    kkt = torch.cat(
        [
            torch.cat([a, c.T], dim=1),
            torch.cat([c, a.new_zeros((m, m))], dim=1),
        ]
    )
    sol = torch.linalg.solve(kkt, torch.cat([-b, constraints.d(a)]))
    return sol[:n], sol[n:]


# ------------------------------------------------------------ validation
def _fixed_mask(fixed, n: int) -> np.ndarray:
    if fixed is None:
        return np.zeros(n, bool)
    mask = np.asarray(fixed, dtype=bool)
    if mask.shape != (n,):
        raise QEqSetupError(f"fixed must have shape ({n},), got {mask.shape}")
    return mask


def _group_labels(atoms: Atoms, groups, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalise ``groups`` to (labels (n,), totals per label, e)."""
    if groups is None:
        return np.full(n, -1), np.zeros(0)
    if isinstance(groups, np.ndarray) and groups.ndim == 1 and len(groups) == n:
        raw = groups.astype(int)
        uniq = np.unique(raw[raw >= 0])
        labels = np.full(n, -1)
        formal = atoms.get_initial_charges()
        if not np.all(np.isfinite(formal[raw >= 0])):
            raise QEqSetupError(
                "groups: the initial charges (formal charges giving each group's "
                "total) have non-finite values"
            )
        totals = np.empty(len(uniq))
        for k, g in enumerate(uniq):
            labels[raw == g] = k
            totals[k] = formal[raw == g].sum()
        return labels, totals
    labels = np.full(n, -1)
    totals = []
    for k, item in enumerate(groups):
        try:
            idx, total = item
        except (TypeError, ValueError):
            raise QEqSetupError(
                "groups must be an (n_atoms,) int array of labels or a sequence of "
                f"(indices, total_charge) pairs; item {k} is {item!r}"
            ) from None
        idx = np.asarray(idx, dtype=int)
        if idx.size == 0 or idx.min() < -n or idx.max() >= n:
            raise QEqSetupError(f"groups[{k}]: atom indices out of range 0..{n - 1}")
        if np.any(labels[idx] >= 0):
            raise QEqSetupError(f"groups[{k}] overlaps an earlier group")
        if not np.isfinite(total):
            raise QEqSetupError(f"groups[{k}]: total must be finite, got {total}")
        labels[idx] = k
        totals.append(float(total))
    return labels, np.asarray(totals)


def _rows(fixed_mask, q_fixed, total, labels, targets) -> ChargeConstraints:
    """The rows on the free atoms and their right-hand side (module docstring)."""
    free = np.flatnonzero(~fixed_mask)
    keep, rhs = [], []
    for g, target in enumerate(targets):
        members = labels == g
        fixed_sum = float(q_fixed[members & fixed_mask].sum())
        if not np.any(members & ~fixed_mask):
            if abs(fixed_sum - target) > _TOTAL_TOL_E:
                raise QEqSetupError(
                    f"group {g}: all its atoms are fixed with total {fixed_sum:.6f} e "
                    f"but the group total is {target:.6f} e"
                )
            continue
        keep.append(g)
        rhs.append(target - fixed_sum)
    remap = np.full(len(targets) + 1, -1)
    remap[keep] = np.arange(len(keep))
    free_labels = labels[free]
    new_labels = np.where(free_labels >= 0, remap[free_labels], -1)
    covered = len(free) > 0 and bool(np.all(new_labels >= 0))
    fixed_total = float(q_fixed[fixed_mask].sum())

    has_total = total is not None
    if total is None and not covered:
        raise QEqSetupError(
            "total_charge=None leaves the net charge of a periodic cell free; "
            "periodic cells need a total-charge constraint (use total_charge=0.0) "
            "or groups that cover every free atom"
        )
    if total is not None and len(free) == 0 and abs(fixed_total - total) > _TOTAL_TOL_E:
        raise QEqSetupError(
            f"all atoms are fixed with total {fixed_total:.6f} e but total_charge is "
            f"{total:.6f} e"
        )
    if has_total and covered:
        # The total row is the sum of the group rows: check and drop it.
        implied = float(np.sum(targets)) + float(
            q_fixed[fixed_mask & (labels < 0)].sum()
        )
        if abs(implied - total) > _TOTAL_TOL_E:
            raise QEqSetupError(
                f"groups cover every free atom and fix the total at {implied:.6f} e, "
                f"but total_charge is {total:.6f} e"
            )
        has_total = False
    if len(free) == 0:
        has_total = False
    d = ([float(total) - fixed_total] if has_total else []) + rhs
    return ChargeConstraints(
        free=free,
        fixed_charges=np.asarray(q_fixed, dtype=float),
        has_total=has_total,
        labels=new_labels.astype(np.int64),
        rhs=np.asarray(d, dtype=float).reshape(-1),
    )
