"""tblite GFN-xTB labels (:class:`XTBLabeller`), the default labeller."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.calculators.calculator import CalculationFailed

from .base import (
    Label,
    LabelError,
    Labeller,
    _check_charge,
    _check_iterations,
    _check_positive,
    _stress_or_none,
    _total_charge,
)

__all__ = ["XTBLabeller"]


class XTBLabeller(Labeller):
    """tblite GFN-xTB labels, with SCF retries at raised electronic temperature.

    Parameters
    ----------
    method : {"GFN1-xTB", "GFN2-xTB"}
        xTB Hamiltonian. GFN1-xTB is the default: it describes metallic Li and
        ionic LiF/Li₂O better than GFN2-xTB in periodic cells.
    electronic_temperature_K : float, K
        Fermi smearing temperature of the first attempt.
    max_iterations : int
        SCF iteration limit per attempt.
    accuracy : float
        tblite's accuracy factor; smaller is tighter (SCF energy and charge
        thresholds scale with it, 1.0 = tblite default).
    retry_temperatures_K : sequence of float, K
        Raised electronic temperatures tried in turn when the SCF does not
        converge; strictly increasing and above ``electronic_temperature_K``.
        Empty: no retries.
    charge : int or None, e
        Total charge; None means ``round(sum(atoms.get_initial_charges()))``.

    Notes
    -----
    tblite signals non-convergence by raising ``RuntimeError("SCF not
    converged in N cycles")``, which ``TBLite`` re-raises as
    :class:`ase.calculators.calculator.CalculationFailed`; that is the only
    failure retried. Other calculation failures raise :class:`LabelError`
    (reason ``"xtb_failed"``) at once. Periodic cells are Γ-point only.
    The spin state comes from ``atoms.get_initial_magnetic_moments()``
    (zero for constpot structures: closed shell).
    """

    name = "xtb"
    _METHODS = ("GFN1-xTB", "GFN2-xTB")

    def __init__(
        self,
        method: str = "GFN1-xTB",
        electronic_temperature_K: float = 300.0,
        max_iterations: int = 250,
        accuracy: float = 1.0,
        retry_temperatures_K=(1000.0, 3000.0),
        charge: int | None = None,
    ):
        if method not in self._METHODS:
            raise ValueError(f"method must be one of {self._METHODS}, got {method!r}")
        temperature = _check_positive(
            "electronic_temperature_K", electronic_temperature_K
        )
        max_iterations = _check_iterations(max_iterations)
        accuracy = _check_positive("accuracy", accuracy)
        retries = [
            _check_positive("retry_temperatures_K", t) for t in retry_temperatures_K
        ]
        if any(b <= a for a, b in zip([temperature, *retries], retries, strict=False)):
            raise ValueError(
                "retry_temperatures_K must be strictly increasing and above "
                f"electronic_temperature_K={temperature}, got {retries}"
            )
        self.method = method
        self.electronic_temperature_K = temperature
        self.max_iterations = max_iterations
        self.accuracy = accuracy
        self.retry_temperatures_K = tuple(retries)
        self.charge = _check_charge(charge)
        self._kwargs = {
            "method": method,
            "electronic_temperature_K": temperature,
            "max_iterations": self.max_iterations,
            "accuracy": accuracy,
            "retry_temperatures_K": list(retries),
            "charge": self.charge,
        }

    def _compute(self, atoms: Atoms, temperature_K: float) -> Label:
        """One tblite single point at one electronic temperature.

        The hook that :meth:`label` calls for each attempt. Raises
        :class:`ase.calculators.calculator.CalculationFailed` on failure.
        """
        from tblite.ase import TBLite

        atoms = atoms.copy()
        calc = TBLite(
            method=self.method,
            charge=_total_charge(atoms, self.charge),
            accuracy=self.accuracy,
            electronic_temperature=temperature_K,
            max_iterations=self.max_iterations,
            verbosity=0,
        )
        atoms.calc = calc
        energy = float(atoms.get_potential_energy())
        return Label(
            energy=energy,
            forces=np.array(atoms.get_forces(), dtype=float),
            stress=_stress_or_none(atoms, calc),
            charges=np.array(atoms.get_charges(), dtype=float),
        )

    def label(self, atoms: Atoms) -> Label:
        """Label one frame; see :meth:`Labeller.label`."""
        import tblite

        temperatures = (self.electronic_temperature_K, *self.retry_temperatures_K)
        errors = []
        for temperature in temperatures:
            try:
                result = self._compute(atoms, temperature)
            except CalculationFailed as err:
                if "not converged" not in str(err):
                    raise LabelError(
                        f"tblite failed: {err}", reason="xtb_failed"
                    ) from err
                errors.append(f"{temperature:g} K: {err}")
                continue
            result.settings = {
                "labeller": self.name,
                **self._kwargs,
                "electronic_temperature_used_K": temperature,
                "attempts": len(errors) + 1,
                "total_charge": _total_charge(atoms, self.charge),
                "charges_model": "Mulliken",
                "kpts": [1, 1, 1] if atoms.pbc.any() else None,
                "code": f"tblite {getattr(tblite, '__version__', 'unknown')}",
            }
            return result
        tried = ", ".join(f"{t:g}" for t in temperatures)
        raise LabelError(
            "tblite SCF did not converge: " + "; ".join(errors),
            reason=f"scf_not_converged at {tried} K",
        )
