"""What every labeller shares: :class:`Label`, :class:`Labeller`, :class:`LabelError`.

Also the argument checks and small helpers the labellers have in common
(total charge of a frame, ASE stress only for 3D-periodic cells).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms
from ase.calculators.calculator import PropertyNotImplementedError

from ..kpoints import KPointRule

__all__ = ["Label", "LabelError", "Labeller"]


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
        are labelled consistently; without one (and unless
        :attr:`cell_consistent` says otherwise) the sampler gives every metal
        frame the anode's lateral cell (:mod:`constpot.label.sampling`).
    progress : callable or None
        Receives progress lines from inside :meth:`label` where one frame
        takes minutes or more (DFT: one line per SCF iteration); not a
        setting (not in :meth:`todict`). :func:`~constpot.label.label_shard`
        sets it to its log for each frame.
    """

    name: str = "labeller"
    kpoint_rule: KPointRule | None = None
    progress: Callable[[str], None] | None = None
    _kwargs: dict

    @property
    def cell_consistent(self) -> bool:
        """Whether frames of any cell get consistent labels (metal included).

        True with a k-point rule, and for local potentials (the teacher); False
        for Γ-only electronic structure, whose metal frames must then share
        the anode's lateral cell (:mod:`constpot.label.sampling`).
        """
        return self.kpoint_rule is not None

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


#: Damping functions of the ``dftd3`` package accepted as ``dispersion``.
D3_DAMPING = ("d3bj", "d3zero", "d3bjm", "d3zerom", "d3op")


def _check_dispersion(dispersion) -> str | None:
    if dispersion is not None and dispersion not in D3_DAMPING:
        raise ValueError(
            f"dispersion must be one of {D3_DAMPING} or None, got {dispersion!r}"
        )
    return dispersion


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
