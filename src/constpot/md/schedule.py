"""What the calculator does at each MD step: membership update, charge solve.

Every step evaluates the :class:`~constpot.potential.HybridCalculator` once, at
the positions the integrator has just moved the atoms to. Before the step the
driver hands the calculator this schedule's parameters for it
(``calc.set(**schedule.parameters(step, labels, charges))``):

- **membership step** (``electrodes="metallic"`` and ``step`` a multiple of
  ``electrode_every``, step 0 included): the calculator re-applies its
  :class:`~constpot.qeq.MetallicRule` at this step's positions, so Li that
  deposits joins the anode. Other steps keep the labels of the previous step
  (``electrodes="static"``), as do all steps of a static run after step 0.
- **solve step** (``step`` a multiple of ``qeq_every``, every membership step,
  or no charges solved yet): the charges minimise Ω, warm-started from the last
  solve. Other steps evaluate at the last solved charges (``fixed_charges``).

Charges every n steps
---------------------
With ``qeq_every = n > 1`` the forces between solves are −∂/∂R of
E_short + E_QEq(q_fixed, R) − Σψq_fixed at the held charges: a fixed-charge
Hamiltonian whose charges are reset every n steps. The forces miss the response
∂q*/∂R (an error first order in the charge change since the last solve), the
energy jumps by a second-order (variationally small, never positive) amount at
each re-solve, and the dynamics is no longer that of the constant-potential
Hamiltonian. It is a speed/accuracy trade-off for slowly varying charges; use
n = 1 (the default) for anything quantitative. A membership update always
solves: held charges belong to the membership (the potentials) they were
solved for.

Example
-------
>>> s = Schedule("metallic", electrode_every=10, qeq_every=3)
>>> [step for step in range(13) if s.solves(step)]
[0, 3, 6, 9, 10, 12]
>>> s.parameters(4, labels=None, charges=None)["electrodes"]
'static'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Schedule"]


@dataclass(frozen=True)
class Schedule:
    """Membership updates and charge solves of an MD run.

    Parameters
    ----------
    electrodes : {"metallic", "static"}
        Membership re-evaluated every ``electrode_every`` steps, or that of
        step 0 throughout.
    electrode_every : int
        Steps between membership updates (metallic).
    qeq_every : int
        Steps between charge solves.
    """

    electrodes: str = "metallic"
    electrode_every: int = 10
    qeq_every: int = 1

    def __post_init__(self):
        if self.electrodes not in ("metallic", "static"):
            raise ValueError(
                f"electrodes must be 'metallic' or 'static', got {self.electrodes!r}"
            )
        for name in ("electrode_every", "qeq_every"):
            value = getattr(self, name)
            if not (isinstance(value, (int, np.integer)) and value >= 1):
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")

    def updates_membership(self, step: int) -> bool:
        """Whether the metallic rule is re-applied at ``step``."""
        return self.electrodes == "metallic" and step % self.electrode_every == 0

    def solves(self, step: int) -> bool:
        """Whether the charges are solved at ``step`` (given earlier charges)."""
        return step % self.qeq_every == 0 or self.updates_membership(step)

    def parameters(
        self, step: int, labels: np.ndarray | None, charges: np.ndarray | None
    ) -> dict:
        """Calculator parameters for the evaluation at ``step``.

        Parameters
        ----------
        step : int
        labels : (n_atoms,) int ndarray or None
            Electrode labels of the previous evaluation; None at the start
            (static runs then take the calculator's own: its
            ``electrode_labels``, the structure's ``electrode`` array, or the
            rule).
        charges : (n_atoms,) ndarray or None, e
            Charges of the last solve; None forces a solve.

        Returns
        -------
        dict
            Keywords of :meth:`HybridCalculator.set
            <constpot.potential.HybridCalculator.set>`: ``electrodes``,
            ``fixed_charges`` and, when ``labels`` is given, ``electrode_labels``.
        """
        params: dict = {"electrodes": "static"}
        if self.updates_membership(step):
            params["electrodes"] = "metallic"
        elif labels is not None:
            params["electrode_labels"] = labels
        solve = charges is None or self.solves(step)
        params["fixed_charges"] = None if solve else charges
        return params
