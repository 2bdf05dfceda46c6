"""Labels from any ASE calculator given by import path (:class:`ASELabeller`)."""

from __future__ import annotations

import importlib
import json

import numpy as np
from ase import Atoms
from ase.calculators.calculator import CalculationFailed

from ..kpoints import KPointRule
from .base import (
    Label,
    LabelError,
    Labeller,
    _axes_names,
    _check_positive,
    _stress_or_none,
)

__all__ = ["ASELabeller"]


def _import_calculator(path: str):
    """Import ``package.module.Class``; ValueError naming the path on failure."""
    module_name, _, class_name = str(path).rpartition(".")
    if not module_name:
        raise ValueError(
            f"calculator must be an import path 'package.module.Class', got {path!r}"
        )
    try:
        module = importlib.import_module(module_name)
        return getattr(module, class_name)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"calculator {path!r} cannot be imported: {err}") from err


class ASELabeller(Labeller):
    """Labels from any ASE calculator given by import path and keyword arguments.

    Parameters
    ----------
    calculator : str
        Import path of the calculator class, e.g. ``"ase.calculators.vasp.Vasp"``.
    parameters : dict or None
        Keyword arguments of the calculator (JSON-able, so they can be
        recorded), e.g. ``{"xc": "PBE", "encut": 500}``.
    kpt_spacing_inv_A : float or None, Å⁻¹
        Declares a k-point rule (:class:`~constpot.label.kpoints.KPointRule`):
        each frame's grid is passed to the calculator as the keyword
        ``kpts_parameter``, overriding ``parameters``. None: the parameters
        are used as given for every frame (no rule; the sampler then treats
        the labeller as Γ-only).
    vacuum_A : float, Å
        Vacuum thickness of the rule (one k-point along a vacuum axis).
    molecular_gamma : bool
        Γ only for frames made of molecules only (the rule's).
    kpt_spacing_insulator_inv_A : float or None, Å⁻¹
        The rule's spacing for frames with no metal (no atom in an electrode
        region); None: ``kpt_spacing_inv_A`` for them too.
    kpts_parameter : str
        Name of the calculator's k-point keyword (ASE's ``kpts`` for VASP,
        GPAW, Quantum ESPRESSO, ...); it receives ``[n1, n2, n3]``.

    Notes
    -----
    A fresh calculator is made for each frame. Charges come from the
    calculator's ``get_charges`` when ``"charges"`` is among its
    ``implemented_properties``, else None. A
    :class:`~ase.calculators.calculator.CalculationFailed` (including ASE's
    ``SCFError``) raises :class:`LabelError`.
    """

    name = "ase"

    def __init__(
        self,
        calculator: str,
        parameters: dict | None = None,
        kpt_spacing_inv_A: float | None = None,
        vacuum_A: float = 6.0,
        molecular_gamma: bool = True,
        kpts_parameter: str = "kpts",
        kpt_spacing_insulator_inv_A: float | None = None,
    ):
        self._calculator_class = _import_calculator(calculator)
        parameters = {} if parameters is None else dict(parameters)
        try:
            json.dumps(parameters)
        except TypeError as err:
            raise ValueError(
                f"parameters must be JSON-able (they are recorded): {err}"
            ) from err
        if not isinstance(kpts_parameter, str) or not kpts_parameter:
            raise ValueError(
                f"kpts_parameter must be a non-empty string, got {kpts_parameter!r}"
            )
        rule = KPointRule(
            0.2
            if kpt_spacing_inv_A is None
            else _check_positive("kpt_spacing_inv_A", kpt_spacing_inv_A),
            vacuum_A,
            molecular_gamma,
            kpt_spacing_insulator_inv_A,
        )
        self.calculator = str(calculator)
        self.parameters = parameters
        self.kpoint_rule = None if kpt_spacing_inv_A is None else rule
        self.kpts_parameter = kpts_parameter
        self._kwargs = {
            "calculator": self.calculator,
            "parameters": parameters,
            "kpt_spacing_inv_A": None
            if kpt_spacing_inv_A is None
            else rule.spacing_inv_A,
            "vacuum_A": rule.vacuum_A,
            "molecular_gamma": rule.molecular_gamma,
            "kpts_parameter": kpts_parameter,
            "kpt_spacing_insulator_inv_A": rule.insulator_spacing_inv_A,
        }

    def label(self, atoms: Atoms) -> Label:
        """Label one frame; see :meth:`Labeller.label`."""
        atoms = atoms.copy()
        parameters = dict(self.parameters)
        grid = None
        if self.kpoint_rule is not None:
            grid = self.kpoint_rule.describe(atoms)
            parameters[self.kpts_parameter] = list(grid["kpts"])
        calc = self._calculator_class(**parameters)
        atoms.calc = calc
        try:
            energy = float(atoms.get_potential_energy())
            forces = np.array(atoms.get_forces(), dtype=float)
            stress = _stress_or_none(atoms, calc)
            charges = None
            if "charges" in getattr(calc, "implemented_properties", ()):
                charges = np.array(calc.get_charges(atoms), dtype=float)
        except CalculationFailed as err:
            raise LabelError(
                f"{self.calculator} failed: {err}", reason=f"{type(err).__name__}"
            ) from err
        settings = {
            "labeller": self.name,
            "method": self.calculator,
            **json.loads(json.dumps(self._kwargs)),
            "charges_model": None if charges is None else "calculator",
        }
        if grid is not None:
            settings.update(
                {
                    "kpts": list(grid["kpts"]),
                    "vacuum_axes": _axes_names(grid["vacuum_axes"]),
                    "molecular": grid["molecular"],
                    "metallic": grid["metallic"],
                    "kpt_spacing_applied_inv_A": grid["spacing_inv_A"],
                }
            )
        return Label(energy, forces, stress, charges, settings)
