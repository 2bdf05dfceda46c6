"""Reference labellers: energy, forces, stress and charges of one frame.

Every labeller has the same interface: construct it with its settings, call
:meth:`Labeller.label` on an :class:`ase.Atoms` and get a :class:`Label`. A
frame whose electronic structure cannot be converged raises
:class:`LabelError`, whose ``reason`` is a short string for ``failures.csv``;
the caller records it and moves on. :func:`make_labeller` builds a labeller
from a config dict (``{"kind": "xtb" | "gpaw" | "ase", ...}``), and
:meth:`Labeller.todict` gives that dict back, so ``make_labeller(l.todict())``
rebuilds ``l``.

Labellers
---------
``xtb`` (:class:`XTBLabeller`, the default)
    tblite GFN1-xTB (or GFN2-xTB) through ``tblite.ase.TBLite``. Periodic cells
    are computed at the Γ point only (tblite has no k-points). Charges are
    tblite's Mulliken charges. An SCF that does not converge is retried at
    raised electronic temperatures.
``gpaw`` (:class:`GPAWLabeller`)
    Plane-wave DFT (PBE by default) with GPAW, Fermi–Dirac smearing,
    Hirshfeld charges. GPAW is imported only when a frame is labelled.
``ase`` (:class:`ASELabeller`)
    Any ASE calculator given by import path and keyword arguments, e.g.
    ``("ase.calculators.vasp.Vasp", {"encut": 500, ...})``.

Conventions
-----------
Units are eV, Å, e. Stress is the ASE stress in Voigt order
``(xx, yy, zz, yz, xz, xy)``, eV/Å³, with ASE's sign,
:math:`\\sigma_{ab} = \\frac{1}{V}\\,\\partial E/\\partial \\varepsilon_{ab}`
(positive = tensile, the cell wants to shrink). It is returned only for cells
periodic in all three directions, else ``None``.

The total charge of a frame is the labeller's ``charge`` argument or, when that
is ``None``, ``round(sum(atoms.get_initial_charges()))``: the formal charges
that :mod:`constpot.build` writes on its structures.

Every labeller works on a copy of the frame with a fresh calculator, so a label
does not depend on which frames were labelled before it (no SCF guess is
carried over) and the input ``atoms`` is not modified.

Example
-------
>>> from ase.build import bulk
>>> from constpot.label.labellers import make_labeller
>>> labeller = make_labeller({"kind": "xtb", "method": "GFN1-xTB"})
>>> label = labeller.label(bulk("LiF", "rocksalt", a=4.03, cubic=True))
>>> label.settings["electronic_temperature_K"]
300.0
"""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.calculators.calculator import CalculationFailed, PropertyNotImplementedError

__all__ = [
    "ASELabeller",
    "GPAWLabeller",
    "Label",
    "LabelError",
    "Labeller",
    "XTBLabeller",
    "make_labeller",
]


class LabelError(RuntimeError):
    """A frame could not be labelled (e.g. its SCF did not converge).

    Parameters
    ----------
    message : str
        Full description for logs.
    reason : str
        Short machine-readable cause for ``failures.csv``, e.g.
        ``"scf_not_converged at 300, 1000, 3000 K"``.
    """

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class Label:
    """Reference labels of one frame.

    Attributes
    ----------
    energy : float, eV
        Total (free) energy of the frame as the method reports it.
    forces : (n_atoms, 3) ndarray, eV/Å
    stress : (6,) ndarray, eV/Å³, or None
        Voigt order ``(xx, yy, zz, yz, xz, xy)``, ASE sign; None unless the
        cell is periodic in all three directions.
    charges : (n_atoms,) ndarray, e, or None
        Atomic charges; which partitioning is in ``settings["charges_model"]``.
    settings : dict
        JSON-able record of how the label was made: labeller name, method, all
        numerical settings and what was actually used (e.g. the electronic
        temperature after retries, the total charge).
    """

    energy: float
    forces: np.ndarray
    stress: np.ndarray | None
    charges: np.ndarray | None
    settings: dict = field(default_factory=dict)


class Labeller:
    """Base class: compute a :class:`Label` for one frame.

    Subclasses set ``name`` (also the ``kind`` key of :func:`make_labeller`),
    store their constructor arguments in ``self._kwargs`` and implement
    :meth:`label`.
    """

    name: str = "labeller"
    _kwargs: dict

    def label(self, atoms: Atoms) -> Label:
        """Label one frame.

        Parameters
        ----------
        atoms : ase.Atoms
            The frame; not modified.

        Returns
        -------
        Label

        Raises
        ------
        LabelError
            If the calculation failed for this frame (e.g. SCF not converged).
        """
        raise NotImplementedError

    def todict(self) -> dict:
        """Settings as a JSON-able dict that :func:`make_labeller` accepts."""
        return {"kind": self.name, **json.loads(json.dumps(self._kwargs))}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._kwargs.items())
        return f"{type(self).__name__}({args})"


def _total_charge(atoms: Atoms, charge: int | None) -> int:
    """Total charge: the given one, else the rounded sum of initial charges."""
    if charge is not None:
        return int(charge)
    return round(float(np.sum(atoms.get_initial_charges())))


def _stress_or_none(atoms: Atoms, calc) -> np.ndarray | None:
    """ASE stress when the cell is periodic in 3D and the calculator has it."""
    if not atoms.pbc.all():
        return None
    try:
        return np.array(calc.get_stress(atoms), dtype=float)
    except PropertyNotImplementedError:
        return None


def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value


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
        if int(max_iterations) != max_iterations or max_iterations < 1:
            raise ValueError(
                f"max_iterations must be an integer >= 1, got {max_iterations!r}"
            )
        accuracy = _check_positive("accuracy", accuracy)
        retries = [
            _check_positive("retry_temperatures_K", t) for t in retry_temperatures_K
        ]
        if any(b <= a for a, b in zip([temperature, *retries], retries, strict=False)):
            raise ValueError(
                "retry_temperatures_K must be strictly increasing and above "
                f"electronic_temperature_K={temperature}, got {retries}"
            )
        if charge is not None and int(charge) != charge:
            raise ValueError(f"charge must be an integer or None, got {charge!r}")
        self.method = method
        self.electronic_temperature_K = temperature
        self.max_iterations = int(max_iterations)
        self.accuracy = accuracy
        self.retry_temperatures_K = tuple(retries)
        self.charge = None if charge is None else int(charge)
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


class GPAWLabeller(Labeller):
    """Plane-wave DFT labels with GPAW, Hirshfeld charges.

    Parameters
    ----------
    ecut_eV : float, eV
        Plane-wave cutoff.
    kpts : (3,) sequence of int
        Monkhorst–Pack grid (Γ-centred).
    xc : str
        Exchange–correlation functional (GPAW name).
    smearing_eV : float, eV
        Fermi–Dirac smearing width.
    max_iterations : int
        SCF iteration limit.
    charge : int or None, e
        Total charge; None means ``round(sum(atoms.get_initial_charges()))``.

    Notes
    -----
    Needs GPAW (``pip install gpaw`` with libxc, or ``apt install gpaw``),
    imported only in :meth:`label`. An SCF failure
    (``gpaw.KohnShamConvergenceError``) raises :class:`LabelError`.
    """

    name = "gpaw"

    def __init__(
        self,
        ecut_eV: float = 400.0,
        kpts=(1, 1, 1),
        xc: str = "PBE",
        smearing_eV: float = 0.1,
        max_iterations: int = 333,
        charge: int | None = None,
    ):
        ecut = _check_positive("ecut_eV", ecut_eV)
        kpts = tuple(int(k) for k in kpts)
        if len(kpts) != 3 or min(kpts) < 1:
            raise ValueError(f"kpts must be three integers >= 1, got {kpts!r}")
        smearing = _check_positive("smearing_eV", smearing_eV)
        if int(max_iterations) != max_iterations or max_iterations < 1:
            raise ValueError(
                f"max_iterations must be an integer >= 1, got {max_iterations!r}"
            )
        if charge is not None and int(charge) != charge:
            raise ValueError(f"charge must be an integer or None, got {charge!r}")
        self.ecut_eV = ecut
        self.kpts = kpts
        self.xc = str(xc)
        self.smearing_eV = smearing
        self.max_iterations = int(max_iterations)
        self.charge = None if charge is None else int(charge)
        self._kwargs = {
            "ecut_eV": ecut,
            "kpts": list(kpts),
            "xc": self.xc,
            "smearing_eV": smearing,
            "max_iterations": self.max_iterations,
            "charge": self.charge,
        }

    def label(self, atoms: Atoms) -> Label:
        """Label one frame; see :meth:`Labeller.label`."""
        try:
            import gpaw
            from gpaw import GPAW, PW, FermiDirac
            from gpaw.analyse.hirshfeld import HirshfeldPartitioning
        except ImportError as err:
            raise ImportError(
                "GPAWLabeller needs GPAW: `pip install gpaw` (with libxc) or "
                "`apt install gpaw`, then `gpaw install-data`"
            ) from err

        atoms = atoms.copy()
        total_charge = _total_charge(atoms, self.charge)
        calc = GPAW(
            mode=PW(self.ecut_eV),
            xc=self.xc,
            kpts={"size": self.kpts, "gamma": True},
            occupations=FermiDirac(self.smearing_eV),
            charge=total_charge,
            maxiter=self.max_iterations,
            txt=None,
        )
        atoms.calc = calc
        try:
            energy = float(atoms.get_potential_energy())
            forces = np.array(atoms.get_forces(), dtype=float)
            stress = _stress_or_none(atoms, calc)
        except gpaw.KohnShamConvergenceError as err:
            raise LabelError(
                f"GPAW SCF did not converge: {err}", reason="scf_not_converged"
            ) from err
        charges = np.array(HirshfeldPartitioning(calc).get_charges(), dtype=float)
        settings = {
            "labeller": self.name,
            "method": f"{self.xc} plane-wave DFT",
            **self._kwargs,
            "total_charge": total_charge,
            "charges_model": "Hirshfeld",
            "code": f"gpaw {gpaw.__version__}",
        }
        return Label(energy, forces, stress, charges, settings)


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

    Notes
    -----
    A fresh calculator is made for each frame. Charges come from the
    calculator's ``get_charges`` when ``"charges"`` is among its
    ``implemented_properties``, else None. A
    :class:`~ase.calculators.calculator.CalculationFailed` (including ASE's
    ``SCFError``) raises :class:`LabelError`.
    """

    name = "ase"

    def __init__(self, calculator: str, parameters: dict | None = None):
        self._calculator_class = _import_calculator(calculator)
        parameters = {} if parameters is None else dict(parameters)
        try:
            json.dumps(parameters)
        except TypeError as err:
            raise ValueError(
                f"parameters must be JSON-able (they are recorded): {err}"
            ) from err
        self.calculator = str(calculator)
        self.parameters = parameters
        self._kwargs = {"calculator": self.calculator, "parameters": parameters}

    def label(self, atoms: Atoms) -> Label:
        """Label one frame; see :meth:`Labeller.label`."""
        atoms = atoms.copy()
        calc = self._calculator_class(**self.parameters)
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
        return Label(energy, forces, stress, charges, settings)


_LABELLERS = {cls.name: cls for cls in (XTBLabeller, GPAWLabeller, ASELabeller)}


def make_labeller(config: dict) -> Labeller:
    """Build a labeller from a config dict.

    Parameters
    ----------
    config : dict
        ``{"kind": "xtb" | "gpaw" | "ase", **constructor_arguments}``, e.g.
        ``{"kind": "xtb", "method": "GFN2-xTB", "electronic_temperature_K": 500}``
        or ``{"kind": "ase", "calculator": "ase.calculators.vasp.Vasp",
        "parameters": {...}}``. The output of :meth:`Labeller.todict` is valid.

    Returns
    -------
    Labeller

    Raises
    ------
    ValueError
        If ``kind`` is missing or unknown, or a key is not an argument of that
        labeller (the message names the key).
    """
    if not isinstance(config, dict):
        raise TypeError(f"labeller config must be a dict, got {type(config).__name__}")
    config = dict(config)
    if "kind" not in config:
        raise ValueError(
            f"labeller config needs key 'kind' (one of {sorted(_LABELLERS)})"
        )
    kind = config.pop("kind")
    if kind not in _LABELLERS:
        raise ValueError(
            f"labeller config key 'kind' must be one of {sorted(_LABELLERS)}, "
            f"got {kind!r}"
        )
    cls = _LABELLERS[kind]
    allowed = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ValueError(
            f"labeller config for kind {kind!r} has unknown key(s) {unknown}; "
            f"allowed: {sorted(allowed)}"
        )
    return cls(**config)
