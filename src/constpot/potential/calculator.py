"""`HybridCalculator`: machine-learned short range + QEq with electrode potentials.

The energy model of Hu et al. (2025) (docs/design.md §4–5):

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
the anode and counter electrode (e). Each evaluation also reports its own cost:
``electrode_seconds`` (membership rule), ``qeq_seconds`` (charge solve and QEq
forces; of it ``qeq_setup_seconds`` for the Ewald operator and preconditioner,
``qeq_cg_seconds`` for the iterations and the true residual,
``qeq_forces_seconds`` for the forces) and ``short_seconds`` (short-range
model).

Settings are ASE parameters: ``calc.parameters`` holds them (see
:attr:`HybridCalculator.default_parameters`) and ``calc.set(...)`` changes them,
returns the changed ones and discards cached results when anything changed, so
that a new ψ on unchanged atoms gives new charges. Writing an attribute does not
configure the calculator (the parameter names are read-only properties).

Electrodes are atoms with an applied potential ψ. Their membership is either
given (``electrodes="static"``: ``electrode_labels``, else the ``electrode``
array of the atoms, else the metallic rule applied once at the first call) or
recomputed at each call by the paper's metallic-Li rule
(``electrodes="metallic"``: a :class:`~constpot.qeq.MetallicRule`, ≥ 8 Li
neighbours within 3.5 Å, frozen Li always members; anode and counter electrode
told apart by :func:`~constpot.qeq.metallic_li`). With
``anode_potential_V=None`` no potential is applied: constant total charge, the
paper's ConstQ control.

Evaluation at given charges: ``fixed_charges`` (e per atom) replaces the
solve: E, Ω and the forces are those at these charges (forces −∂/∂R at fixed q,
without the charge response). Atoms whose entry is NaN are solved with the
others held (docs/design.md §4, "fixed" atoms). The MD uses it to reuse charges between
solves (``qeq_every > 1``).

Warm starts: each solve starts CG at the charges the calculator's
:class:`~constpot.potential.predictor.ChargePredictor` predicts from the
converged charges of earlier solves (``charge_predictor``: the last charges by
default; an extrapolation over the last few for MD, where consecutive calls are
consecutive time steps) and converges to ``tol`` from there: the start changes
the number of CG iterations, not the physics.

Sign convention: lowering ψ puts electrons on the electrode; the paper's
electronegativity shift is φ = −ψ (its anode shift +6 eV is ψ = −6 V).

Example
-------
>>> calc = HybridCalculator.from_models(["model.nequip.zip"],        # doctest: +SKIP
...                                     anode_potential_V=-6.0,
...                                     counter_potential_V=2.0)
>>> atoms.calc = calc                                                 # doctest: +SKIP
>>> atoms.get_forces(), calc.results["electrode_charges"]             # doctest: +SKIP
>>> calc.set(anode_potential_V=-4.0)        # results discarded       # doctest: +SKIP
>>> atoms.get_charges()                     # solved again at −4 V    # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from ..io import frozen_mask
from ..keys import ANODE, COUNTER, ELECTRODE, FROZEN, MOL_ID, MOLECULE, NOT_ELECTRODE
from ..qeq import ChargeSolver, MetallicRule, electrode_potentials
from ..qeq.errors import QEqSetupError
from ._parameters import (
    DEFAULTS,
    MEMBERSHIP_KEYS,
    PER_ATOM,
    RULE_KEYWORDS,
    SOLVER_KEYS,
    normalise,
    parameter_property,
    same,
)
from .nequip_io import QEQ_SETTINGS_NAME, load_calculator
from .predictor import ChargePredictor, constraint_key
from .settings import QEqSettings

__all__ = ["HybridCalculator"]

#: Per-atom arrays a calculation reads besides ASE's own (a change of any of
#: them discards cached results, see ``check_state``).
_READ_ARRAYS = (ELECTRODE, FROZEN, MOLECULE, MOL_ID)


class HybridCalculator(Calculator):
    """Short-range model + constant-potential QEq, as an ASE calculator.

    Parameters
    ----------
    short_range : ase Calculator, sequence of Calculators, or None
        Short-range energy and forces (a NequIP model, or any ASE calculator).
        A sequence is an ensemble: its mean is used, and the force deviation
        max_i std_m |F_i^m| is reported. None: QEq only. The model, not a
        parameter: fixed for the calculator's life.
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
        Fixed membership, or the metallic rule re-applied at every call.
    electrode_labels : (n_atoms,) int array_like, optional
        Static membership (0 none, 1 anode, 2 counter). Default: the atoms'
        ``electrode`` array, else the metallic rule at the first call.
    metallic_rule : MetallicRule, optional
        The metallic-Li rule (default: the paper's, 8 Li within 3.5 Å).
    metallic_cutoff_A, metallic_min_neighbors, metallic_exclude : optional
        Fields of ``metallic_rule`` given one by one (``cutoff_A``,
        ``min_neighbors``, ``exclude``); not together with ``metallic_rule``.
    fixed_charges : (n_atoms,) float array_like, e, optional
        Evaluate at these charges instead of solving; NaN entries are solved
        with the others held. With every atom given, ``total_charge`` and the
        molecule constraints are not applied: the charges are taken as they
        are (their sum is the total).
    charge_predictor : dict, str or None
        CG starting charges: ``{"method": ..., "order": k}`` of
        :class:`~constpot.potential.predictor.ChargePredictor` (``"none"``,
        ``"previous"``, ``"polynomial"``, ``"aspc"``), a method name, or None
        for ``"previous"`` (the last solve's charges; safe for calls that are
        not consecutive MD steps). Numerics: every method converges to ``tol``.
    solver_options : dict, optional
        Extra keyword arguments of :class:`~constpot.qeq.ChargeSolver`
        (``kspace``, ``max_iter``, ``preconditioner``, ``cutoff``).
    **kwargs
        Of :class:`ase.calculators.calculator.Calculator` (``label``,
        ``directory``, ``atoms``).

    Attributes
    ----------
    parameters : dict
        The settings above (``metallic_*`` folded into ``metallic_rule``).
        Change them with :meth:`set`.
    predictor : ChargePredictor
        The converged charges of the last solves and the prediction made from
        them (state: :meth:`set` keeps the last solve, a new atom count
        forgets it; see :mod:`constpot.potential.predictor`).
    guess : (n_atoms,) ndarray or None, e
        Charges of the last solve (read-only; ``predictor.last``).
    batch : BatchGroup or None
        The group this calculator evaluates with (batched sweeps,
        :mod:`constpot.potential.batch`): set by
        :func:`constpot.md.batch.run_batch`; None evaluates alone.

    Raises
    ------
    ValueError, TypeError
        A parameter out of range or of the wrong type (the message names it).
    QEqSetupError
        At calculation: bad electrode labels (the message names the atom), no
        electrode atom under a potential, ``fixed_charges`` of the wrong length.
    """

    implemented_properties: ClassVar[list[str]] = [
        "energy",
        "free_energy",
        "forces",
        "charges",
        "electrode_charges",
    ]
    default_parameters: ClassVar[dict] = DEFAULTS

    # The old attribute names stay readable; writing one raises AttributeError.
    anode_potential_V = parameter_property("anode_potential_V")
    counter_potential_V = parameter_property("counter_potential_V")
    total_charge = parameter_property("total_charge")
    electrodes = parameter_property("electrodes")
    electrode_labels = parameter_property("electrode_labels")
    metallic_rule = parameter_property("metallic_rule")
    fixed_charges = parameter_property("fixed_charges")
    charge_predictor = parameter_property("charge_predictor")

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
        metallic_rule: MetallicRule | None = None,
        metallic_cutoff_A: float | None = None,
        metallic_min_neighbors: int | None = None,
        metallic_exclude: Sequence[str] | None = None,
        fixed_charges=None,
        solver_options: dict | None = None,
        charge_predictor: dict | str | None = None,
        **kwargs,
    ):
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
        self.predictor = ChargePredictor()
        self._solver: ChargeSolver | None = None
        self._rule_labels: np.ndarray | None = None  # static mode, rule applied once
        self.batch = None  # a BatchGroup: batched sweeps
        super().__init__(**kwargs)
        self.set(
            qeq=qeq,
            slab=slab,
            method=method,
            tol=tol,
            device=device,
            solver_options=solver_options,
            anode_potential_V=anode_potential_V,
            counter_potential_V=counter_potential_V,
            total_charge=total_charge,
            electrodes=electrodes,
            electrode_labels=electrode_labels,
            metallic_rule=metallic_rule,
            metallic_cutoff_A=metallic_cutoff_A,
            metallic_min_neighbors=metallic_min_neighbors,
            metallic_exclude=metallic_exclude,
            fixed_charges=fixed_charges,
            charge_predictor=charge_predictor,
        )
        if self._solver is None:  # every solver parameter at its default
            self._solver = self._build_solver()

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
        ``device="auto"`` picks CUDA when present. Other keywords are those of
        the constructor.

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
            saved.append(QEqSettings.read(p.parent / QEQ_SETTINGS_NAME))
        for p, s in zip(paths[1:], saved[1:], strict=True):
            saved[0].check_compatible(s, what=f"model {p}")
        if qeq is None:
            qeq = saved[0]
        elif not isinstance(qeq, QEqSettings):
            qeq = QEqSettings.read(qeq)
        qeq.check_compatible(saved[0], what=f"model {paths[0]}")
        device = _auto_device() if device == "auto" else device
        members = [load_calculator(p, device=device) for p in paths]
        return cls(members, qeq, device=device, **kwargs)

    # -------------------------------------------------------------- parameters
    def set(self, **kwargs) -> dict:
        """Change parameters; returns those that changed (normalised values).

        Any change discards the cached results (ASE's ``reset``), so the next
        property request recomputes even on unchanged atoms. The predictor's
        history is kept, but for a change of the QEq settings, the solver or
        the predictor itself, after which only the last solve is (a start, not
        a base to extrapolate from). ``metallic_cutoff_A``,
        ``metallic_min_neighbors`` and ``metallic_exclude`` change one field
        of ``metallic_rule``; None for any of them means "leave as is".

        Raises
        ------
        TypeError
            An unknown parameter name.
        ValueError
            A bad value (the message names the parameter).
        """
        fields = {
            field: kwargs.pop(key)
            for key, field in RULE_KEYWORDS.items()
            if kwargs.get(key, None) is not None
        }
        for key in RULE_KEYWORDS:
            kwargs.pop(key, None)
        if fields:
            if kwargs.get("metallic_rule") is not None:
                raise ValueError(
                    "give metallic_rule or its fields (metallic_cutoff_A, "
                    "metallic_min_neighbors, metallic_exclude), not both"
                )
            base = self.parameters.get("metallic_rule") or MetallicRule()
            kwargs["metallic_rule"] = dataclasses.replace(base, **fields)
        unknown = sorted(set(kwargs) - set(self.default_parameters))
        if unknown:
            raise TypeError(
                f"HybridCalculator has no parameter(s) {unknown}; known: "
                f"{sorted(self.default_parameters)} and {sorted(RULE_KEYWORDS)}"
            )
        changed = {}
        for key, value in kwargs.items():
            value = normalise(key, value)
            if key not in self.parameters or not same(self.parameters[key], value):
                changed[key] = value
        if not changed:
            return changed
        if changed.keys() & SOLVER_KEYS:
            # build before storing: a bad solver setting leaves the old ones
            solver = self._build_solver({**self.parameters, **changed})
        else:
            solver = self._solver
        self.parameters.update(changed)
        self._solver = solver
        if changed.keys() & MEMBERSHIP_KEYS:
            self._rule_labels = None
        if "charge_predictor" in changed:
            last = self.predictor.last
            self.predictor = ChargePredictor.from_config(changed["charge_predictor"])
            self.predictor.restart(last)
        elif changed.keys() & SOLVER_KEYS:
            self.predictor.restart(self.predictor.last)
        self.reset()
        return changed

    def _build_solver(self, params: dict | None = None) -> ChargeSolver:
        p = self.parameters if params is None else params
        return p["qeq"].solver(
            slab=p["slab"],
            method=p["method"],
            tol=p["tol"],
            device=p["device"],
            **p["solver_options"],
        )

    @property
    def solver(self) -> ChargeSolver:
        """The charge solver built from the parameters (rebuilt by :meth:`set`)."""
        return self._solver

    @property
    def guess(self) -> np.ndarray | None:
        """Charges of the last solve (e; a copy), or None."""
        return self.predictor.last

    @property
    def qeq(self) -> QEqSettings:
        """The QEq settings (``parameters["qeq"]``)."""
        return self.parameters["qeq"]

    @property
    def constant_potential(self) -> bool:
        """True when a potential is applied (``anode_potential_V`` not None)."""
        return self.parameters["anode_potential_V"] is not None

    def todict(self, skip_default: bool = False) -> dict:
        """Settings, for provenance records (JSON-ready).

        The short-range model's class names, the QEq settings, the solver's
        settings (``slab``, ``method``, ``tol``, ``device`` and the
        ``solver_options`` it uses), and the other parameters except the
        per-atom ones (``electrode_labels``, ``fixed_charges``: the trajectory
        records what was used). ``skip_default`` leaves out those at their
        default.
        """
        out = {
            "short_range": [type(m).__name__ for m in self.short_range],
            "solver": self.solver.todict(),
        }
        defaults = self.get_default_parameters()
        for key, value in self.parameters.items():
            if key in PER_ATOM or (key in SOLVER_KEYS and key != "qeq"):
                continue
            if skip_default and same(normalise(key, defaults.get(key)), value):
                continue
            out[key] = value.todict() if hasattr(value, "todict") else value
        return out

    def check_state(self, atoms: Atoms, tol: float = 1e-15) -> list[str]:
        """ASE's system changes, plus the per-atom arrays a calculation reads."""
        changes = super().check_state(atoms, tol=tol)
        if self.atoms is not None:
            for key in _READ_ARRAYS:
                old, new = self.atoms.arrays.get(key), atoms.arrays.get(key)
                if (old is None) != (new is None) or (
                    old is not None and not np.array_equal(old, new)
                ):
                    changes.append(key)
        return changes

    # ------------------------------------------------------------ electrodes
    def membership(self, atoms: Atoms) -> np.ndarray:
        """The electrode labels a calculation on ``atoms`` uses (no solve).

        Returns
        -------
        (n_atoms,) int ndarray
            0 none, 1 anode, 2 counter electrode (a copy).

        Raises
        ------
        QEqSetupError
            Labels of the wrong length, or a value other than 0, 1, 2 (the
            message names the atom index).
        """
        p = self.parameters
        n = len(atoms)
        if p["electrodes"] == "metallic":
            labels = p["metallic_rule"].labels(atoms, frozen_mask(atoms))
        elif p["electrode_labels"] is not None:
            labels = p["electrode_labels"]
        elif ELECTRODE in atoms.arrays:
            labels = np.asarray(atoms.arrays[ELECTRODE], dtype=np.int64)
        else:
            if self._rule_labels is None or len(self._rule_labels) != n:
                self._rule_labels = p["metallic_rule"].labels(atoms, frozen_mask(atoms))
            labels = self._rule_labels
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
        return np.array(labels, dtype=np.int64)

    # ------------------------------------------------------------ calculation
    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        start = time.perf_counter()
        labels = self.membership(atoms)
        t_electrode = time.perf_counter() - start

        start = time.perf_counter()
        (solver, job), key = self._charge_job(atoms, labels)
        if self.batch is None:
            res = solver.solve(**job)
            t_qeq = time.perf_counter() - start
            start = time.perf_counter()
            e_short, f_short, f_dev = self._short_range(atoms)
            t_short = time.perf_counter() - start
        else:  # one round of the batch group: its time split by the solve's
            short, res = self.batch.evaluate(atoms, (solver, job))
            e_short, f_short, f_dev = short or (0.0, np.zeros((len(atoms), 3)), None)
            t_qeq = sum(res.seconds.values())
            t_short = max(time.perf_counter() - start - t_qeq, 0.0)
        solved = key is not None
        if solved:
            self.predictor.push(res.charges, key)
        anode_q = float(res.charges[labels == ANODE].sum())
        counter_q = float(res.charges[labels == COUNTER].sum())
        self.results.update(
            energy=e_short + res.energy,
            free_energy=e_short + res.grand_energy,
            forces=f_short + res.forces,
            charges=res.charges.copy(),
            electrode_charges=np.array([anode_q, counter_q]),
            electrode=labels,
            qeq_energy=res.energy,
            grand_energy=res.grand_energy,
            short_energy=e_short,
            short_forces=f_short,
            cg_iterations=int(res.iterations),
            qeq_residual=float(res.residual),
            qeq_solved=solved,
            electrode_seconds=t_electrode,
            qeq_seconds=t_qeq,
            qeq_setup_seconds=res.seconds.get("setup", 0.0),
            qeq_cg_seconds=res.seconds.get("solve", 0.0),
            qeq_forces_seconds=res.seconds.get("forces", 0.0),
            short_seconds=t_short,
        )
        if f_dev is not None:
            self.results["force_deviation"] = f_dev

    def _charge_job(self, atoms: Atoms, labels: np.ndarray):
        """The charge solve of a calculation: ``(solver, solve keywords)``
        and the predictor's constraint key (None: evaluated at
        ``fixed_charges``, no solve to remember)."""
        p = self.parameters
        n = len(atoms)
        psi = None
        if p["anode_potential_V"] is not None:
            psi = electrode_potentials(
                labels, p["anode_potential_V"], p["counter_potential_V"]
            )
        given = p["fixed_charges"]
        fixed = None
        if given is not None:
            if given.shape != (n,):
                raise QEqSetupError(
                    f"fixed_charges has shape {given.shape}, atoms has {n} atoms"
                )
            fixed = ~np.isnan(given)
            # the solver reads held charges from the initial charges
            atoms = Atoms(
                numbers=atoms.numbers,
                positions=atoms.positions,
                cell=atoms.cell,
                pbc=atoms.pbc,
                charges=np.where(fixed, given, 0.0),
            )
            if fixed.all():
                # Charges as given: their sum is the total, no group constraint.
                job = dict(atoms=atoms, potential=psi, fixed=fixed)
                return (self.solver, {**job, "total_charge": float(given.sum())}), None
        groups = p["qeq"].groups(self.atoms)
        key = constraint_key(n, psi, given, p["total_charge"], groups)
        job = dict(atoms=atoms, potential=psi, fixed=fixed, groups=groups)
        job.update(total_charge=p["total_charge"], guess=self.predictor.predict(n))
        return (self.solver, job), key

    def _short_range(self, atoms: Atoms):
        """Mean short-range energy (eV), forces (eV/Å) and force deviation."""
        n = len(atoms)
        if not self.short_range:
            return 0.0, np.zeros((n, 3)), None
        energies, forces = [], []
        for member in self.short_range:
            # the members' raw results: constraints (frozen atoms, walls)
            # are applied once, by Atoms, to the total
            energies.append(float(member.get_potential_energy(atoms)))
            forces.append(np.asarray(member.get_forces(atoms), dtype=float))
        stack = np.stack(forces)
        mean = stack.mean(axis=0)
        deviation = None
        if self.ensemble:
            # max over atoms of the norm of the per-atom force standard
            # deviation across members (DP-GEN's model deviation)
            spread = np.sqrt(((stack - mean) ** 2).sum(axis=2).mean(axis=0))
            deviation = float(spread.max())
        return float(np.mean(energies)), mean, deviation


def _auto_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
