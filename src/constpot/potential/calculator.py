"""`HybridCalculator`: machine-learned short range + QEq with electrode potentials.

The energy model of Hu et al. (2025) (DESIGN §4–5):

.. math::

    E = E_\\text{short}(R) + E_\\text{QEq}(q^*, R), \\qquad
    \\Omega = E_\\text{short}(R) + E_\\text{QEq}(q^*, R) - \\sum_i \\psi_i q^*_i ,

with q* the charges that minimise Ω under the total-charge constraint. The
short-range part is a NequIP model (or any ASE calculator, or the mean of an
ensemble of them) trained on E_ref − E_QEq at constant charge, so one model
serves every electrode potential: ψ enters only through QEq.

Results follow ASE: ``energy`` is E (what an experiment at fixed charge would
call the potential energy), ``free_energy`` is Ω (the potential part of the
constant-potential conserved quantity), and ``forces`` are −∂Ω/∂R, which by the
Hellmann–Feynman argument equal −∂E/∂R at fixed q* (the constraints do not
depend on R). ``charges`` are q* (e) and ``electrode_charges`` the totals of
the anode and counter electrode (e).

Electrodes are atoms with an applied potential ψ. Their membership is either
given (``electrodes="static"``: ``electrode_labels`` or the ``electrode`` array
of the atoms) or recomputed at each call by the paper's metallic-Li rule
(``electrodes="metallic"``: ≥ 8 Li neighbours within 3.5 Å, frozen atoms always
members, lower half anode, upper half counter electrode). With
``anode_potential_V=None`` no potential is applied: constant total charge, the
paper's ConstQ control.

Sign convention: lowering ψ puts electrons on the electrode; the paper's
electronegativity shift is φ = −ψ (its anode shift +6 eV is ψ = −6 V).

Example
-------
>>> calc = HybridCalculator.from_models(["model.nequip.zip"],        # doctest: +SKIP
...                                     anode_potential_V=-6.0,
...                                     counter_potential_V=2.0)
>>> atoms.calc = calc                                                 # doctest: +SKIP
>>> atoms.get_forces(), calc.results["electrode_charges"]             # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from ..io import frozen_mask
from ..keys import ANODE, COUNTER, ELECTRODE, NOT_ELECTRODE
from ..qeq import electrode_potentials, metallic_li
from ..qeq.errors import QEqSetupError
from .settings import QEqSettings

__all__ = ["HybridCalculator"]

#: Name of the QEq settings file saved beside each trained model.
QEQ_SETTINGS_FILE = "qeq.json"


class HybridCalculator(Calculator):
    """Short-range model + constant-potential QEq, as an ASE calculator.

    Parameters
    ----------
    short_range : ase Calculator, sequence of Calculators, or None
        Short-range energy and forces (a NequIP model, or any ASE calculator).
        A sequence is an ensemble: its mean is used, and the force deviation
        max_i std_m |F_i^m| is reported. None: QEq only.
    qeq : QEqSettings, path to its JSON, or None
        QEq parameters; None means the paper's table. When the settings hold
        ``molecule_charges``, every call constrains those molecules (from the
        atoms' ``molecule``/``mol_id`` arrays, which must then be present).
    slab : bool
        Slab geometry (x, y periodic, normal z, Yeh–Berkowitz correction).
    method, tol, device : see :class:`constpot.qeq.ChargeSolver`.
    anode_potential_V : float or None, V
        Applied potential of the anode; None gives constant charge (no ψ).
    counter_potential_V : float, V
        Applied potential of the counter electrode (constant potential only).
    total_charge : float, e
        Total charge of the cell.
    electrodes : {"static", "metallic"}
        Fixed membership, or the metallic-Li rule re-applied at every call.
    electrode_labels : (n_atoms,) int array_like, optional
        Static membership (0 none, 1 anode, 2 counter). Default: the atoms'
        ``electrode`` array, else the metallic-Li rule at the first call.
    metallic_cutoff_A, metallic_min_neighbors : float, int
        The metallic-Li rule (3.5 Å, 8 neighbours).
    metallic_exclude : sequence of str
        Elements that make a Li within 2.6 Å ionic, never metallic (e.g.
        ``("F", "O")`` keeps SEI Li off the electrode; not in the paper's
        rule, see :func:`constpot.qeq.metallic_li`).
    solver_options : dict, optional
        Extra keyword arguments of :class:`~constpot.qeq.ChargeSolver`
        (``kspace``, ``max_iter``, ``preconditioner``, ``cutoff``).
    """

    implemented_properties: ClassVar[list[str]] = [
        "energy",
        "free_energy",
        "forces",
        "charges",
        "electrode_charges",
    ]
    default_parameters: ClassVar[dict] = {}

    def __init__(
        self,
        short_range: Calculator | Sequence[Calculator] | None = None,
        qeq: QEqSettings | str | os.PathLike | None = None,
        *,
        slab: bool = True,
        method: str = "cg",
        tol: float = 1e-8,
        device: str = "cpu",
        anode_potential_V: float | None = None,
        counter_potential_V: float = 0.0,
        total_charge: float = 0.0,
        electrodes: str = "static",
        electrode_labels=None,
        metallic_cutoff_A: float = 3.5,
        metallic_min_neighbors: int = 8,
        metallic_exclude: Sequence[str] = (),
        solver_options: dict | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if short_range is None:
            members: list[Calculator] = []
        elif isinstance(short_range, Calculator) or hasattr(
            short_range, "get_potential_energy"
        ):
            members = [short_range]
        else:
            members = list(short_range)
        self.short_range = members
        self.ensemble = len(members) > 1
        if qeq is None:
            qeq = QEqSettings()
        elif not isinstance(qeq, QEqSettings):
            qeq = QEqSettings.read(qeq)
        self.qeq = qeq
        if electrodes not in ("static", "metallic"):
            raise ValueError(
                f"electrodes must be 'static' or 'metallic', got {electrodes!r}"
            )
        self.electrodes = electrodes
        self.anode_potential_V = (
            None if anode_potential_V is None else float(anode_potential_V)
        )
        self.counter_potential_V = float(counter_potential_V)
        self.total_charge = float(total_charge)
        self.metallic_cutoff_A = float(metallic_cutoff_A)
        self.metallic_min_neighbors = int(metallic_min_neighbors)
        self.metallic_exclude = tuple(metallic_exclude)
        self.solver = qeq.solver(
            slab=slab, method=method, tol=tol, device=device, **(solver_options or {})
        )
        self.electrode_labels = (
            None
            if electrode_labels is None
            else np.asarray(electrode_labels, dtype=np.int64).copy()
        )
        #: Warm start for the next charge solve (last solved charges).
        self.guess: np.ndarray | None = None

    # ------------------------------------------------------------ construction
    @classmethod
    def from_models(
        cls,
        paths: str | os.PathLike | Sequence[str | os.PathLike],
        qeq: QEqSettings | str | os.PathLike | None = None,
        *,
        device: str = "cpu",
        **kwargs,
    ) -> HybridCalculator:
        """Load trained NequIP model(s) and the QEq settings they were trained with.

        Each model file must have ``qeq.json`` beside it (written by
        ``constpot train``); all must agree, and so must ``qeq`` when given.

        Raises
        ------
        FileNotFoundError
            A model or its ``qeq.json`` is missing.
        ValueError
            The QEq settings differ (the message names element and parameter).
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        paths = [Path(p) for p in paths]
        if not paths:
            raise ValueError("from_models: no model paths given")
        saved = []
        for p in paths:
            if not p.is_file():
                raise FileNotFoundError(f"model file not found: {p}")
            saved.append(QEqSettings.read(p.parent / QEQ_SETTINGS_FILE))
        for p, s in zip(paths[1:], saved[1:], strict=True):
            saved[0].check_compatible(s, what=f"model {p}")
        if qeq is None:
            qeq = saved[0]
        elif not isinstance(qeq, QEqSettings):
            qeq = QEqSettings.read(qeq)
        qeq.check_compatible(saved[0], what=f"model {paths[0]}")
        from .nequip_io import load_calculator

        device = _auto_device() if device == "auto" else device
        members = [load_calculator(p, device=device) for p in paths]
        return cls(members, qeq, device=device, **kwargs)

    # ------------------------------------------------------------ electrodes
    @property
    def constant_potential(self) -> bool:
        return self.anode_potential_V is not None

    def set_electrode_labels(self, labels) -> None:
        """Fix the electrode membership used by the next calls (static mode)."""
        self.electrode_labels = np.asarray(labels, dtype=np.int64).copy()
        self.reset()

    def metallic_labels(self, atoms: Atoms) -> np.ndarray:
        """The paper's metallic-Li membership, frozen atoms always members."""
        return metallic_li(
            atoms,
            cutoff=self.metallic_cutoff_A,
            min_neighbors=self.metallic_min_neighbors,
            always=frozen_mask(atoms),
            exclude_bonded_to=self.metallic_exclude,
        )

    def _labels_for(self, atoms: Atoms) -> np.ndarray:
        n = len(atoms)
        if self.electrodes == "metallic":
            self.electrode_labels = self.metallic_labels(atoms)
        elif self.electrode_labels is None:
            if ELECTRODE in atoms.arrays:
                self.electrode_labels = np.asarray(
                    atoms.arrays[ELECTRODE], dtype=np.int64
                ).copy()
            else:
                self.electrode_labels = self.metallic_labels(atoms)
        labels = self.electrode_labels
        if labels.shape != (n,):
            raise QEqSetupError(
                f"electrode_labels has shape {labels.shape}, atoms has {n} atoms"
            )
        bad = np.flatnonzero(~np.isin(labels, (NOT_ELECTRODE, ANODE, COUNTER)))
        if bad.size:
            raise QEqSetupError(
                f"electrode label {int(labels[bad[0]])} of atom index {int(bad[0])} "
                f"is not one of {NOT_ELECTRODE}, {ANODE}, {COUNTER}"
            )
        return labels

    # ------------------------------------------------------------ calculation
    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        n = len(atoms)
        labels = self._labels_for(atoms)
        psi = None
        if self.constant_potential:
            psi = electrode_potentials(
                labels, self.anode_potential_V, self.counter_potential_V
            )
        guess = self.guess if self.guess is not None and len(self.guess) == n else None
        res = self.solver.solve(
            atoms,
            potential=psi,
            total_charge=self.total_charge,
            groups=self.qeq.groups(atoms),
            guess=guess,
        )
        self.guess = res.charges.copy()

        e_short, f_short, f_dev = 0.0, np.zeros((n, 3)), None
        if self.short_range:
            energies, forces = [], []
            for member in self.short_range:
                # the members' raw results: constraints (frozen atoms, walls)
                # are applied once, by Atoms, to the total
                energies.append(float(member.get_potential_energy(atoms)))
                forces.append(np.asarray(member.get_forces(atoms), dtype=float))
            e_short = float(np.mean(energies))
            stack = np.stack(forces)
            f_short = stack.mean(axis=0)
            if self.ensemble:
                # max over atoms of the norm of the per-atom force standard
                # deviation across members (DP-GEN's model deviation)
                spread = np.sqrt(((stack - f_short) ** 2).sum(axis=2).mean(axis=0))
                f_dev = float(spread.max())

        anode_q = float(res.charges[labels == ANODE].sum())
        counter_q = float(res.charges[labels == COUNTER].sum())
        self.results.update(
            energy=e_short + res.energy,
            free_energy=e_short + res.grand_energy,
            forces=f_short + res.forces,
            charges=res.charges.copy(),
            electrode_charges=np.array([anode_q, counter_q]),
            electrode=labels.copy(),
            qeq_energy=res.energy,
            grand_energy=res.grand_energy,
            short_energy=e_short,
            short_forces=f_short,
            cg_iterations=int(res.iterations),
            qeq_residual=float(res.residual),
        )
        if f_dev is not None:
            self.results["force_deviation"] = f_dev

    def todict(self) -> dict:
        """Settings, for provenance records."""
        return {
            "short_range": [type(m).__name__ for m in self.short_range],
            "qeq": self.qeq.todict(),
            "solver": self.solver.todict(),
            "anode_potential_V": self.anode_potential_V,
            "counter_potential_V": self.counter_potential_V,
            "total_charge": self.total_charge,
            "electrodes": self.electrodes,
            "metallic_cutoff_A": self.metallic_cutoff_A,
            "metallic_min_neighbors": self.metallic_min_neighbors,
            "metallic_exclude": list(self.metallic_exclude),
        }


def _auto_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
