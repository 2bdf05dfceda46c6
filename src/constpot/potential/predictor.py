"""`ChargePredictor`: the starting charges of the next charge solve.

In MD the charges q*(R(t)) that minimise Ω change smoothly with the positions,
so the converged charges of the last few steps predict the next ones far better
than the last charges alone. :class:`HybridCalculator
<constpot.potential.HybridCalculator>` starts the projected CG of
:meth:`ChargeSolver.solve <constpot.qeq.ChargeSolver.solve>` at the prediction
(``guess=``) and still solves to the configured tolerance at every step: the
predictor changes the number of CG iterations, not what they converge to (the
charges agree with those of any other start to the solver's tolerance). It is
numerics, not physics.

Methods (``q_j`` the converged charges ``j`` solves back, ``q_0`` the last;
solves one time step apart):

``"none"``
    No prediction: CG starts cold (the minimum-norm feasible charges).
``"previous"``
    The last converged charges, ``q_0``.
``"polynomial"`` of order k
    The polynomial of degree k through the last k + 1 solves, evaluated one
    step ahead (Lagrange extrapolation on equally spaced steps):

    .. math::

        q_\\text{pred} = \\sum_{j=0}^{k} (-1)^{j} \\binom{k+1}{j+1} q_j ,

    exact when the charges are a polynomial of degree ≤ k in the step.
``"aspc"`` of order k
    The predictor of Kolafa's always-stable predictor–corrector (J. Kolafa,
    J. Comput. Chem. 25, 335 (2004), doi:10.1002/jcc.10385), through the last
    k + 2 solves:

    .. math::

        q_\\text{pred} = \\sum_{j=0}^{k+1} B_{j+1} q_j , \\qquad
        B_j = (-1)^{j+1} \\, j \\,
              \\frac{\\binom{2k+4}{k+2-j}}{\\binom{2k+2}{k+1}}

    (k = 0: 2, −1; k = 1: 5/2, −2, 1/2; k = 2: 14/5, −14/5, 6/5, −1/5). It is
    exact for charges linear in the step only, but its coefficients are
    smaller than the polynomial ones, so it amplifies less the solver's
    residual error carried by each ``q_j``. Kolafa's corrector (mixing the
    prediction into the result, with weight (k + 1)/(2k + 3)) keeps
    *unconverged* iterations stable; here every step converges to the
    tolerance, so the corrector is not applied: the forces are those of the
    converged charges.

Which one: on the demo interface (476 atoms, a NequIP model, 1 fs, CG to
1e-6) the mean CG iterations per step are, from the previous charges and with
ASPC of order 1, 2, 3 and polynomials of degree 2, 3: NVT (Langevin, 0.01/fs,
membership every 10 steps) 9.3 → 7.5, 7.5, 7.6, 7.6, 8.1; NVE (static
electrodes) 9.0 → 6.1 (ASPC 2), 5.0 (polynomial 3). The Langevin noise in the
positions caps every extrapolation in NVT, where ASPC's smaller coefficients
amplify it least; smooth NVE dynamics reward the higher polynomial degree. The
energy drift of NVE is the same to four digits with every start (−0.144
meV/atom/ps at 1e-6, −0.133 at 1e-7, 0.5 ps): the tolerance, not the start,
sets the accuracy. Hence ASPC of order 2 as the MD default. (Those counts are
with the long-range preconditioner built per geometry; with the reference
preconditioner, the Hessian of a recent geometry, ASPC of order 2 needs 2.2
iterations per NVT step and 1.85 per NVE step: :mod:`constpot.qeq.precondition`.)

Until the history holds enough solves, the highest order it allows is used
(one solve: the previous charges). The history is one of equally spaced solves
under one set of constraints, which :func:`constraint_key` identifies (ψ per
atom, held charges, total charge, molecule groups):

- the first solve under new constraints (an atom joins or leaves an electrode,
  a new ψ) starts at the extrapolation of the old history, and then rebases it:
  every earlier solve is shifted by that solve's jump from its prediction,
  ``q_j ← q_j + (q_0 − q_pred)``. Charges that jump by a constant at the change
  are then still extrapolated exactly; a history mixing both sides would carry
  the jump into the next few predictions (measured on the demo interface,
  where the metallic-Li membership changes at most updates: 8 CG iterations
  after an update instead of 13);
- a solve of another atom count starts the history afresh (no prediction);
- :meth:`HybridCalculator.set <constpot.potential.HybridCalculator.set>` of the
  QEq settings, the solver or the predictor keeps only the last solve, as does
  :meth:`ChargePredictor.restart`; the MD driver empties the history at a
  fresh start and after a geometry optimisation keeps only its last solve.

Solves at irregular intervals (``qeq_every > 1`` with membership updates in
between) are extrapolated as if equally spaced: a worse start, never a
different result.

Example
-------
>>> p = ChargePredictor("polynomial", order=2)
>>> for step in range(3):
...     p.push(np.array([1.0 + step**2]), key="k")
>>> p.predict(1)                    # 1 + 3**2
array([10.])
>>> p.push(np.array([11.0]), key="new")   # under new constraints: +1 jump
>>> p.predict(1)                    # 1 + 4**2, + 1
array([18.])
"""

from __future__ import annotations

import hashlib
from math import comb

import numpy as np

__all__ = ["PREDICTOR_METHODS", "ChargePredictor", "constraint_key"]

#: Values of ``method``.
PREDICTOR_METHODS = ("none", "previous", "polynomial", "aspc")
#: Highest ``order`` accepted: higher orders amplify the residual error of the
#: stored charges (the polynomial coefficients grow as binomials) and gain
#: nothing at MD time steps.
_MAX_ORDER = 6


def _coefficients(method: str, order: int) -> np.ndarray:
    """Weights of q_0, q_1, ... (newest first) for ``method`` at ``order``."""
    if method == "polynomial":
        k = order
        return np.array([(-1) ** j * comb(k + 1, j + 1) for j in range(k + 1)], float)
    if method == "aspc":
        k = order
        norm = comb(2 * k + 2, k + 1)
        return np.array(
            [
                (-1) ** (j + 1) * j * comb(2 * k + 4, k + 2 - j) / norm
                for j in range(1, k + 3)
            ]
        )
    return np.ones(1)  # previous


class ChargePredictor:
    """Starting charges of the next solve from the converged ones of earlier solves.

    Parameters
    ----------
    method : {"none", "previous", "polynomial", "aspc"}
        See the module docstring.
    order : int
        Order k of ``"polynomial"`` (degree of the extrapolating polynomial,
        k + 1 solves) and ``"aspc"`` (k + 2 solves); 0 to 6. Ignored by the
        other methods.

    Attributes
    ----------
    key : str or None
        :func:`constraint_key` of the solves in the history; None: whatever
        the next solve's (a history loaded without one, e.g. ``guess``).

    Raises
    ------
    ValueError
        ``method`` or ``order`` out of range (the message names it).
    """

    def __init__(self, method: str = "previous", order: int = 2):
        self.method, self.order = _check(method, order)
        self._weights = _coefficients(self.method, self.order)
        self._history: list[np.ndarray] = []  # oldest first
        self.key: str | None = None

    @classmethod
    def from_config(cls, config) -> ChargePredictor:
        """From a :meth:`todict` mapping, a method name, or None (``"previous"``).

        Raises
        ------
        ValueError, TypeError
            An unknown key, method or order.
        """
        if config is None:
            return cls()
        if isinstance(config, ChargePredictor):
            return cls(config.method, config.order)
        if isinstance(config, str):
            return cls(config)
        if not isinstance(config, dict):
            raise TypeError(
                "charge_predictor must be a mapping {method, order}, a method "
                f"name or None, got {type(config).__name__}"
            )
        unknown = sorted(set(config) - {"method", "order"})
        if unknown:
            raise ValueError(
                f"charge_predictor has unknown key(s) {unknown}; known: method, order"
            )
        return cls(config.get("method", "previous"), config.get("order", 2))

    def todict(self) -> dict:
        """``{"method": ..., "order": ...}`` (JSON-ready; :meth:`from_config`)."""
        return {"method": self.method, "order": self.order}

    @property
    def depth(self) -> int:
        """Solves the prediction uses (and the history keeps)."""
        return len(self._weights)

    @property
    def last(self) -> np.ndarray | None:
        """The last converged charges (e; a copy), or None."""
        return self._history[-1].copy() if self._history else None

    # ---------------------------------------------------------------- history
    def reset(self) -> None:
        """Forget the history."""
        self._history = []
        self.key = None

    def restart(self, charges: np.ndarray | None) -> None:
        """A history of ``charges`` alone (or none), valid for the next key."""
        self._history = [] if charges is None else [np.array(charges, dtype=float)]
        self.key = None

    def predict(self, n_atoms: int) -> np.ndarray | None:
        """Starting charges (e) of the next solve of ``n_atoms`` atoms, or None.

        None for ``"none"``, an empty history or one of another atom count (CG
        then starts cold).
        """
        if self.method == "none" or not self._history:
            return None
        if len(self._history[-1]) != n_atoms:
            return None
        return self._extrapolate()

    def push(self, charges: np.ndarray, key: str) -> None:
        """Add the converged ``charges`` (e) of a solve under constraints ``key``.

        Under a new key the earlier solves are rebased onto it: shifted by the
        jump of this solve from their extrapolation (see the module
        docstring). A new atom count starts the history afresh.
        """
        charges = np.array(charges, dtype=float)
        if self._history and len(self._history[-1]) != len(charges):
            self._history = []
        elif self._history and self.key is not None and key != self.key:
            jump = charges - self._extrapolate()
            self._history = [q + jump for q in self._history]
        self._history.append(charges)
        del self._history[: -self.depth]
        self.key = key

    def _extrapolate(self) -> np.ndarray:
        m = len(self._history)
        weights = self._weights
        if m < len(weights):  # too few solves yet: the highest order they allow
            order = m - 1 if self.method == "polynomial" else m - 2
            weights = _coefficients(self.method if order >= 0 else "previous", order)
        out = np.zeros_like(self._history[-1])
        for w, q in zip(weights, reversed(self._history), strict=False):
            out += w * q
        return out

    # ------------------------------------------------------------ checkpoints
    def state(self) -> dict:
        """The history, for a checkpoint: ``charges`` ((m, n_atoms) ndarray, e,
        oldest first; m = 0 when empty) and ``key`` (str, "" for None)."""
        n = len(self._history[-1]) if self._history else 0
        charges = np.array(self._history) if self._history else np.zeros((0, n))
        return {"charges": charges, "key": self.key or ""}

    def load_state(self, state: dict) -> None:
        """Restore a :meth:`state`; only the last :attr:`depth` solves are kept.

        Raises
        ------
        ValueError
            ``charges`` is not a 2-D array.
        """
        charges = np.asarray(state["charges"], dtype=float)
        if charges.ndim != 2:
            raise ValueError(
                f"predictor state charges must be 2-D (solves, atoms), got "
                f"shape {charges.shape}"
            )
        self._history = [row.copy() for row in charges[-self.depth :]]
        self.key = str(state.get("key", "")) or None


def constraint_key(
    n_atoms: int,
    potential: np.ndarray | None,
    fixed_charges: np.ndarray | None,
    total_charge: float | None,
    groups,
) -> str:
    """Digest of what a charge solve is constrained by (not of the positions).

    Parameters
    ----------
    n_atoms : int
    potential : (n_atoms,) ndarray or None, V
        Applied potential ψ per atom (None: constant charge).
    fixed_charges : (n_atoms,) ndarray or None, e
        Held charges (NaN: solved).
    total_charge : float or None, e
    groups : sequence of (indices, total_e) or None
        Molecule constraints, as :meth:`ChargeSolver.solve
        <constpot.qeq.ChargeSolver.solve>` takes them.

    Returns
    -------
    str
        Hex digest: equal for equal constraints (bit for bit).
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"n={int(n_atoms)}|total={total_charge!r}|".encode())
    for name, values in (("psi", potential), ("fixed", fixed_charges)):
        digest.update(name.encode())
        if values is not None:
            digest.update(np.ascontiguousarray(values, dtype=float).tobytes())
        digest.update(b"|")
    for indices, total in groups or ():
        digest.update(np.ascontiguousarray(indices, dtype=np.int64).tobytes())
        digest.update(f"={float(total)!r}|".encode())
    return digest.hexdigest()


def _check(method, order) -> tuple[str, int]:
    if method not in PREDICTOR_METHODS:
        raise ValueError(
            f"charge_predictor method must be one of {PREDICTOR_METHODS}, got "
            f"{method!r}"
        )
    if not (
        isinstance(order, (int, np.integer))
        and not isinstance(order, bool)
        and 0 <= order <= _MAX_ORDER
    ):
        raise ValueError(
            f"charge_predictor order must be an integer 0..{_MAX_ORDER}, got {order!r}"
        )
    return method, int(order)
