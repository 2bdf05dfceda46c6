"""GPAW DFT labels (:class:`GPAWLabeller`): PBE + D3(BJ), k-points by rule."""

from __future__ import annotations

import time

import numpy as np
from ase import Atoms
from ase.units import Hartree

from ..kpoints import KPointRule
from .base import (
    Label,
    LabelError,
    Labeller,
    _axes_names,
    _check_charge,
    _check_dispersion,
    _check_iterations,
    _check_kpts,
    _check_positive,
    _d3,
    _stress_or_none,
    _total_charge,
)

__all__ = ["GPAWLabeller"]


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
    kpt_spacing_insulator_inv_A : float or None, Å⁻¹
        The rule's spacing for frames with no metal (no atom in an electrode
        region: SEI crystals and glasses, SEI | electrolyte contacts); None:
        ``kpt_spacing_inv_A`` for them too.
    kpts : (3,) sequence of int or None
        A fixed Γ-centred grid for every frame instead of the rule (then the
        frames' energies are consistent only if they share a cell).
    smearing_eV : float, eV
        Fermi–Dirac smearing width.
    max_iterations : int
        SCF iteration limit.
    scf_convergence : dict or None
        GPAW's SCF criteria (``energy`` eV per valence electron, ``density``
        electrons per valence electron, ``eigenstates`` eV² per valence
        electron) that differ from GPAW's defaults (0.0005, 1e-4, 4e-8).
        ``{"eigenstates": 1e-6}``: on a rattled 16-atom Li(100) film the
        SCF stops after 16 iterations instead of 20, energy equal to 1e-5 eV,
        forces to 0.02 meV/Å (docs/labels.md).
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
    without: D3(BJ) overbinds the metal by 3.4 %, so the builder makes the
    metal at the PBE+D3(BJ) value, 3.33 Å
    (:data:`constpot.build.lithium.LI_BCC_A_A`), where these labels put it at
    zero pressure.
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
        kpt_spacing_insulator_inv_A: float | None = None,
        scf_convergence: dict | None = None,
    ):
        if mode not in _GPAW_MODES:
            raise ValueError(f"mode must be one of {_GPAW_MODES}, got {mode!r}")
        _check_dispersion(dispersion)
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
            kpt_spacing_insulator_inv_A,
        )
        self.kpts = _check_kpts(kpts)
        self.kpoint_rule = rule if self.kpts is None else None
        self.smearing_eV = _check_positive("smearing_eV", smearing_eV)
        self.max_iterations = _check_iterations(max_iterations)
        self.scf_convergence = _check_convergence(scf_convergence)
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
            "kpt_spacing_insulator_inv_A": rule.insulator_spacing_inv_A,
            "scf_convergence": self.scf_convergence,
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
                "gpaw-data, dftd3; gpaw builds against libxc, BLAS and MPI: on "
                "Debian first `apt-get install libxc-dev libopenblas-dev "
                "libopenmpi-dev`) or `apt install gpaw`"
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
            **({"convergence": self.scf_convergence} if self.scf_convergence else {}),
            txt=None,
        )
        if self.progress is not None:
            # GPAW passes its calculator back for `calc` (no reference cycle).
            calc.attach(_report_scf, 1, calc, self.progress, time.perf_counter())
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
            "metallic": grid["metallic"],
            "kpt_spacing_applied_inv_A": grid["spacing_inv_A"],
            "scf_criteria": " ".join(
                f"{k}={v:g}"
                for k, v in {
                    **_GPAW_CONVERGENCE,
                    **(self.scf_convergence or {}),
                }.items()
            ),
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


def _report_scf(calc, say, start: float) -> None:
    """One progress line per SCF iteration (a GPAW observer)."""
    energy = calc.hamiltonian.e_total_free * Hartree
    say(
        f"SCF iteration {calc.scf.niter}: free energy {energy:.5f} eV, "
        f"{time.perf_counter() - start:.0f} s"
    )


#: GPAW's default SCF criteria, those a labeller may change
#: (:class:`GPAWLabeller`).
_GPAW_CONVERGENCE = {"energy": 0.0005, "density": 1.0e-4, "eigenstates": 4.0e-8}
_CONVERGENCE_KEYS = tuple(_GPAW_CONVERGENCE)


def _check_convergence(convergence) -> dict | None:
    if convergence is None:
        return None
    if not isinstance(convergence, dict):
        raise ValueError(
            f"scf_convergence must be a mapping or None, got {convergence!r}"
        )
    out = {}
    for key, value in convergence.items():
        if key not in _CONVERGENCE_KEYS:
            raise ValueError(
                f"scf_convergence: unknown key {key!r}; known: "
                f"{', '.join(_CONVERGENCE_KEYS)}"
            )
        out[key] = _check_positive(f"scf_convergence.{key}", value)
    return out or None
