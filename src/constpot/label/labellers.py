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
    DFT with GPAW, the paper's level of theory: PBE + D3(BJ) (the ``dftd3``
    package), plane waves or LCAO, Fermi–Dirac smearing, Hirshfeld charges,
    and a k-point grid per frame from one density rule
    (:class:`~constpot.label.kpoints.KPointRule`: converged for metals, one
    k-point along vacuum, Γ for molecular frames), so metal frames of any
    cell are labelled consistently. GPAW is imported only when a frame is
    labelled.
``ase`` (:class:`ASELabeller`)
    Any ASE calculator given by import path and keyword arguments, e.g.
    ``("ase.calculators.vasp.Vasp", {"encut": 500, ...})``; with
    ``kpt_spacing_inv_A`` it gets each frame's grid from the same rule.

A labeller whose ``kpoint_rule`` is not None samples the Brillouin zone by
the rule; the sampler (:func:`constpot.label.sampling.sample_configurations`,
argument ``labeller``) then cuts paper-size interfaces into frames of any
lateral cell. Γ-only labellers (xtb) need every metal frame on the anode's
lateral cell.

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

from .kpoints import KPointRule

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

    Attributes
    ----------
    kpoint_rule : constpot.label.kpoints.KPointRule or None
        The rule that gives each frame its k-point grid from its cell, or None
        when the labeller's Brillouin-zone sampling does not follow the cell
        (Γ only, or one fixed grid). With a rule, frames of metal of any cell
        are labelled consistently; without one the sampler gives every metal
        frame the anode's lateral cell (:mod:`constpot.label.sampling`).
    """

    name: str = "labeller"
    kpoint_rule: KPointRule | None = None
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


def _axes_names(axes) -> str:
    """Axis indices as letters for the record: [2] -> "z", [] -> "none"."""
    return "".join("xyz"[i] for i in axes) or "none"


def _check_kpts(kpts) -> tuple[int, int, int] | None:
    if kpts is None:
        return None
    kpts = tuple(kpts)
    if len(kpts) != 3 or any(isinstance(k, bool) or int(k) != k or k < 1 for k in kpts):
        raise ValueError(f"kpts must be three integers >= 1 or None, got {kpts!r}")
    return tuple(int(k) for k in kpts)


def _check_iterations(max_iterations) -> int:
    if int(max_iterations) != max_iterations or max_iterations < 1:
        raise ValueError(
            f"max_iterations must be an integer >= 1, got {max_iterations!r}"
        )
    return int(max_iterations)


def _check_charge(charge) -> int | None:
    if charge is not None and int(charge) != charge:
        raise ValueError(f"charge must be an integer or None, got {charge!r}")
    return None if charge is None else int(charge)


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


#: Damping functions of the ``dftd3`` package accepted as ``dispersion``.
_D3_DAMPING = ("d3bj", "d3zero", "d3bjm", "d3zerom", "d3op")
_GPAW_MODES = ("pw", "lcao")


class GPAWLabeller(Labeller):
    """DFT labels with GPAW: PBE + D3(BJ), a k-point rule per frame, Hirshfeld.

    Parameters
    ----------
    mode : {"pw", "lcao"}
        Plane waves (cutoff ``ecut_eV``; stress available) or localized
        numerical atomic orbitals (basis ``basis``, as the paper's NAO basis;
        GPAW has no LCAO stress, so the label's stress is None).
    ecut_eV : float, eV
        Plane-wave cutoff (mode ``"pw"``).
    basis : str
        GPAW basis set name (mode ``"lcao"``), e.g. ``"dzp"``.
    grid_spacing_A : float or None, Å
        Spacing of the real-space grid of the density and potential (GPAW's
        ``h``). 0.15 Å removes the egg-box error: on GPAW's default grid for
        PW 500 eV the forces of rattled 8-atom LiF sum to 0.02–0.03 eV/Å, at
        0.15 Å to 1e-4 eV/Å. None: GPAW's default.
    xc : str
        Exchange–correlation functional (GPAW name; also selects the D3
        parameters).
    dispersion : {"d3bj", "d3zero", "d3bjm", "d3zerom", "d3op"} or None
        Grimme D3 correction through the ``dftd3`` package's ASE calculator,
        with its default parameters for ``xc`` (including the three-body
        Axilrod–Teller–Muto term, s9 = 1); None: no dispersion.
    kpt_spacing_inv_A : float, Å⁻¹
        k-point spacing of the rule :class:`~constpot.label.kpoints.KPointRule`
        (2π included, VASP's ``KSPACING``), applied to every frame.
    vacuum_A : float, Å
        An empty layer this thick makes its axis non-periodic (one k-point).
    molecular_gamma : bool
        Γ only for frames made of molecules only (per-atom ``mol_id`` ≥ 0).
    kpts : (3,) sequence of int or None
        A fixed Γ-centred grid for every frame instead of the rule (then the
        frames' energies are consistent only if they share a cell).
    smearing_eV : float, eV
        Fermi–Dirac smearing width.
    max_iterations : int
        SCF iteration limit.
    charge : int or None, e
        Total charge; None means ``round(sum(atoms.get_initial_charges()))``.

    Notes
    -----
    The label's energy is the Mermin free energy :math:`E - TS` of the
    smeared SCF (the energy whose gradient GPAW's forces are) plus the D3
    energy; the forces and stress add likewise. The Γ-centred grid of each
    frame (``settings["kpts"]``) and why (``vacuum_axes``, e.g. ``"z"`` or
    ``"none"``; ``molecular``) are recorded. Hirshfeld charges partition the
    all-electron density among free atoms (``gpaw.analyse.hirshfeld``, the
    legacy GPAW calculator); integrated on the grid they miss the total
    charge by ~0.005 e/atom (0.045 e in rattled 8-atom LiF), which is
    subtracted evenly so that Σq is the total charge, and recorded as
    ``settings["hirshfeld_sum_error_e"]``.

    Needs the ``dft`` extra: GPAW (``pip install gpaw gpaw-data`` with libxc
    and BLAS, or ``apt install gpaw``) and ``dftd3``, imported only in
    :meth:`label`. An SCF failure (``gpaw.KohnShamConvergenceError``) raises
    :class:`LabelError`.

    Measured with the defaults (GPAW 26.7, PW 500 eV, h = 0.15 Å, FD 0.1 eV,
    PBE+D3(BJ), 0.2 Å⁻¹): the free energy per atom of bcc Li (a = 3.51 Å) in
    the 2-atom cubic cell (9 × 9 × 9) and in its 16-atom 2 × 2 × 2 supercell
    (5 × 5 × 5, other k-points) differ by 0.8 meV/atom; one fixed 4 × 4 × 4
    grid for both cells gives 23 meV/atom (PBE, PW 300 eV). Equilibrium
    lattice constants with the defaults (E(V) fits): LiF 4.036 Å with D3(BJ),
    4.098 Å without (experiment 4.03 Å); bcc Li 3.326 Å with D3(BJ), 3.442 Å
    without: D3(BJ) overbinds the metal by 3.4 %, so Li built at the PBE
    3.44 Å is under tension in these labels.
    """

    name = "gpaw"

    def __init__(
        self,
        mode: str = "pw",
        ecut_eV: float = 500.0,
        basis: str = "dzp",
        grid_spacing_A: float | None = 0.15,
        xc: str = "PBE",
        dispersion: str | None = "d3bj",
        kpt_spacing_inv_A: float = 0.2,
        vacuum_A: float = 6.0,
        molecular_gamma: bool = True,
        kpts=None,
        smearing_eV: float = 0.1,
        max_iterations: int = 333,
        charge: int | None = None,
    ):
        if mode not in _GPAW_MODES:
            raise ValueError(f"mode must be one of {_GPAW_MODES}, got {mode!r}")
        if dispersion is not None and dispersion not in _D3_DAMPING:
            raise ValueError(
                f"dispersion must be one of {_D3_DAMPING} or None, got {dispersion!r}"
            )
        self.mode = mode
        self.ecut_eV = _check_positive("ecut_eV", ecut_eV)
        self.basis = str(basis)
        self.grid_spacing_A = (
            None
            if grid_spacing_A is None
            else _check_positive("grid_spacing_A", grid_spacing_A)
        )
        self.xc = str(xc)
        self.dispersion = dispersion
        rule = KPointRule(
            _check_positive("kpt_spacing_inv_A", kpt_spacing_inv_A),
            vacuum_A,
            molecular_gamma,
        )
        self.kpts = _check_kpts(kpts)
        self.kpoint_rule = rule if self.kpts is None else None
        self.smearing_eV = _check_positive("smearing_eV", smearing_eV)
        self.max_iterations = _check_iterations(max_iterations)
        self.charge = _check_charge(charge)
        self._rule = rule
        self._kwargs = {
            "mode": mode,
            "ecut_eV": self.ecut_eV,
            "basis": self.basis,
            "grid_spacing_A": self.grid_spacing_A,
            "xc": self.xc,
            "dispersion": dispersion,
            "kpt_spacing_inv_A": rule.spacing_inv_A,
            "vacuum_A": rule.vacuum_A,
            "molecular_gamma": rule.molecular_gamma,
            "kpts": None if self.kpts is None else list(self.kpts),
            "smearing_eV": self.smearing_eV,
            "max_iterations": self.max_iterations,
            "charge": self.charge,
        }

    @property
    def method(self) -> str:
        """One-line name of the level of theory, e.g. ``"PBE+D3(BJ), PW 500 eV"``."""
        d3 = {
            None: "",
            "d3bj": "+D3(BJ)",
            "d3zero": "+D3(0)",
            "d3bjm": "+D3M(BJ)",
            "d3zerom": "+D3M(0)",
            "d3op": "+D3(op)",
        }
        basis = f"PW {self.ecut_eV:g} eV" if self.mode == "pw" else f"LCAO {self.basis}"
        return f"{self.xc}{d3[self.dispersion]}, {basis}"

    def _grid(self, atoms: Atoms) -> dict:
        """The frame's grid and why (:meth:`KPointRule.describe`)."""
        described = self._rule.describe(atoms)
        if self.kpts is not None:
            described["kpts"] = self.kpts
        return described

    def label(self, atoms: Atoms) -> Label:
        """Label one frame; see :meth:`Labeller.label`."""
        try:
            import gpaw
            from gpaw import PW, FermiDirac
            from gpaw.analyse.hirshfeld import HirshfeldPartitioning
        except ImportError as err:
            raise ImportError(
                "GPAWLabeller needs GPAW: `pip install constpot[dft]` (gpaw, "
                "gpaw-data, dftd3; gpaw builds against libxc and BLAS) or "
                "`apt install gpaw`"
            ) from err

        try:  # Hirshfeld partitioning needs the legacy calculator
            from gpaw.old.calculator import GPAW  # GPAW >= 25
        except ImportError:
            from gpaw.calculator import GPAW  # older releases: only that one

        atoms = atoms.copy()
        atoms.calc = None
        total_charge = _total_charge(atoms, self.charge)
        grid = self._grid(atoms)
        basis = (
            {"mode": PW(self.ecut_eV)}
            if self.mode == "pw"
            else {"mode": "lcao", "basis": self.basis}
        )
        if self.grid_spacing_A is not None:
            basis["h"] = self.grid_spacing_A
        calc = GPAW(
            **basis,
            xc=self.xc,
            kpts={"size": grid["kpts"], "gamma": True},
            occupations=FermiDirac(self.smearing_eV),
            charge=total_charge,
            maxiter=self.max_iterations,
            txt=None,
        )
        atoms.calc = calc
        try:
            energy = float(atoms.get_potential_energy(force_consistent=True))
            forces = np.array(atoms.get_forces(), dtype=float)
            stress = _stress_or_none(atoms, calc)
        except gpaw.KohnShamConvergenceError as err:
            raise LabelError(
                f"GPAW SCF did not converge: {err}", reason="scf_not_converged"
            ) from err
        charges = np.array(HirshfeldPartitioning(calc).get_charges(), dtype=float)
        # GPAW's Hirshfeld integrates on the grid: Σq misses the total charge
        # by ~0.005 e/atom; the offset is spread evenly (and recorded).
        hirshfeld_error = float(charges.sum() - total_charge)
        charges -= hirshfeld_error / len(charges)
        settings = {
            "labeller": self.name,
            **self._kwargs,
            "method": self.method,
            "kpts": list(grid["kpts"]),
            "vacuum_axes": _axes_names(grid["vacuum_axes"]),
            "molecular": grid["molecular"],
            "total_charge": total_charge,
            "energy": "free energy E-TS" + (" + D3" if self.dispersion else ""),
            "charges_model": "Hirshfeld",
            "hirshfeld_sum_error_e": hirshfeld_error,
            "code": f"gpaw {gpaw.__version__}",
        }
        if self.dispersion is not None:
            d3 = _d3(atoms, self.xc, self.dispersion)
            energy += d3.energy
            forces += d3.forces
            if stress is not None:
                stress += d3.stress
            settings["dispersion_energy_eV"] = d3.energy
            settings["code"] += f", dftd3 {d3.settings['code']}"
        return Label(energy, forces, stress, charges, settings)


def _d3(atoms: Atoms, xc: str, damping: str) -> Label:
    """D3 energy, forces and stress of ``atoms`` (the ``dftd3`` ASE calculator)."""
    try:
        import dftd3
        from dftd3.ase import DFTD3
    except ImportError as err:
        raise ImportError(
            "the D3 dispersion needs the dftd3 package: `pip install dftd3` "
            "(or `pip install constpot[dft]`), or set dispersion: null"
        ) from err
    atoms = atoms.copy()
    calc = DFTD3(method=xc, damping=damping)
    atoms.calc = calc
    return Label(
        energy=float(atoms.get_potential_energy()),
        forces=np.array(atoms.get_forces(), dtype=float),
        stress=_stress_or_none(atoms, calc),
        charges=None,
        settings={"code": getattr(dftd3, "__version__", "unknown")},
    )


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
                }
            )
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
