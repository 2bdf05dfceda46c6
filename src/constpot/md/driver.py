"""Constant-potential molecular dynamics of an electrode | electrolyte interface.

The driver integrates Newton's (NVE, velocity Verlet) or Langevin's (NVT,
ASE's :class:`~ase.md.langevin.Langevin` with an explicitly seeded NumPy
generator) equations of motion with forces from a
:class:`~constpot.potential.HybridCalculator`: short-range model + QEq whose
charges minimise the grand energy (DESIGN §4)

.. math::

    \\Omega(q, R) = E_\\text{QEq}(q, R) - \\sum_i \\psi_i q_i ,
    \\qquad \\sum_i q_i = Q .

Modes
-----
``constp``
    Electrode atoms held at the applied potentials ψ (anode, counter
    electrode; volts). Lowering ψ puts electrons on the electrode; the paper's
    electronegativity shift is φ = −ψ (Hu et al., Nat. Commun. 16, 7379
    (2025): anode +6 eV is ψ = −6 V, counter −2 eV is ψ = +2 V).
``constq``
    No applied potential; total charge fixed (the paper's control).

Conserved quantity
------------------
With exactly minimised charges the forces −dΩ/dR are the Hellmann–Feynman
forces at the solved charges, and NVE conserves

.. math::

    H = K + E_\\text{short} + \\Omega(q^*(R), R) + U_\\text{walls}

(``conserved_eV`` in ``thermo.csv``; in NVT the thermostat exchanges energy
with the system and H drifts accordingly). H is a constant of motion only while
the electrode membership is fixed: when atoms join or leave an electrode, ψ
jumps on them and so does Ω.

Electrode membership
--------------------
``electrodes="metallic"`` re-applies the paper's rule every ``electrode_every``
steps (a Li atom with ≥ 8 Li neighbours within 3.5 Å is metallic; lower half
anode, upper half counter electrode; frozen atoms always belong), so Li that
deposits joins the anode. ``"static"`` keeps the membership of step 0 (the
calculator's ``electrode_labels``, the structure's ``electrode`` array, or the
rule applied once).

Charges every n steps
---------------------
With ``qeq_every = n > 1`` the charges are solved (warm-started) only at steps
that are multiples of n, and whenever the membership changes; in between the
last solved charges are *reused* and the forces are −∂/∂R of
E_short + E_QEq(q_fixed, R) − Σψq_fixed at those fixed charges. This is a
fixed-charge Hamiltonian whose charges are reset every n steps: the forces miss
the response ∂q*/∂R (an error first order in the charge change since the last
solve), the energy jumps by a second-order (variationally small, never
positive) amount at each re-solve, and the dynamics is no longer that of the
constant-potential Hamiltonian. It is a speed/accuracy trade-off for slowly
varying charges; use n = 1 (the default) for anything quantitative.

Outputs
-------
In ``outdir``: ``traj.extxyz`` (frames every ``traj_every`` steps),
``thermo.csv`` (every ``thermo_every`` steps), ``checkpoint.npz`` (every
``checkpoint_every`` steps, atomic), ``summary.json`` (at the end) and
``md.log``. See :mod:`constpot.md.output` and :mod:`constpot.md.checkpoint`.

Example
-------
>>> from constpot.potential import HybridCalculator           # doctest: +SKIP
>>> calc = HybridCalculator.from_models(["model.nequip.zip"])   # doctest: +SKIP
>>> settings = MDSettings(mode="constp", anode_potential_V=-6.0,
...                       counter_potential_V=2.0, n_steps=2000)
>>> summary = run(atoms, calc, settings, "results/md/demo")     # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator, all_changes
from ase.constraints import FixAtoms
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import thermalize_momenta
from ase.md.verlet import VelocityVerlet

from ..io import atomic_path, frozen_mask
from ..keys import (
    ANODE,
    COUNTER,
    ELECTRODE,
    FROZEN,
    MOL_ID,
    MOLECULE,
    NOT_ELECTRODE,
    REGION,
)
from ..qeq import metallic_li
from ..qeq.errors import ConvergenceError
from .checkpoint import Checkpoint, read_checkpoint, write_checkpoint
from .guards import (
    GuardLimits,
    MDGuardError,
    check_forces,
    check_geometry,
    check_temperature,
)
from .output import ThermoWriter, TrajectoryWriter, frame_atoms, read_thermo
from .walls import WALL_ATOMS, HarmonicWalls, wall_indices

__all__ = [
    "MODES",
    "ConstantPotentialMD",
    "MDSettings",
    "MDSetupError",
    "potential_label",
    "run",
]

#: Control modes: constant potential, constant charge.
MODES = ("constp", "constq")

#: File names inside a run folder.
TRAJ_FILE = "traj.extxyz"
THERMO_FILE = "thermo.csv"
CHECKPOINT_FILE = "checkpoint.npz"
SUMMARY_FILE = "summary.json"
LOG_FILE = "md.log"

#: Settings that may differ between a run and its resumption (the run length,
#: logging, and the guard limits, e.g. to get past a false alarm).
_RESUMABLE = frozenset(
    {
        "n_steps",
        "log_every",
        "min_distance_A",
        "max_force_eV_A",
        "max_temperature_factor",
    }
)


class MDSetupError(ValueError):
    """The run cannot start: bad settings, structure or checkpoint."""


def potential_label(mode: str, anode_potential_V: float | None) -> str:
    """Run-name part for the applied anode potential: ``"-6.0V"`` or ``"none"``.

    The number is Python's shortest float repr (``-6.0V``, ``-2.25V``; never
    ``-0.0V``), the same as the workflow's ``md_potential_label``.

    Parameters
    ----------
    mode : {"constp", "constq"}
    anode_potential_V : float or None, V

    Examples
    --------
    >>> potential_label("constp", -6), potential_label("constq", None)
    ('-6.0V', 'none')
    """
    if mode == "constq":
        return "none"
    return f"{float(anode_potential_V) + 0.0}V"


@dataclass
class MDSettings:
    """Settings of one MD run (validated on construction).

    Parameters
    ----------
    mode : {"constp", "constq"}
        Constant electrode potentials, or constant total charge (control).
    anode_potential_V : float or None, V
        Applied anode potential ψ (constp; required there, ignored in constq).
    counter_potential_V : float, V
        Applied counter-electrode potential ψ (constp).
    total_charge_e : float, e
        Total charge of the cell (both modes).
    ensemble : {"nvt", "nve"}
        Langevin thermostat or plain velocity Verlet.
    temperature_K : float, K
        Thermostat target, initial-velocity temperature, guard reference.
    timestep_fs : float, fs
    friction_per_fs : float, 1/fs
        Langevin friction (0.01 fs⁻¹ = 10 ps⁻¹).
    n_steps : int
        Total number of steps of the run (a resumed run continues to it).
    seed : int
        Seeds the thermostat's and the initial velocities' generator.
    initial_velocities : bool
        Draw Maxwell–Boltzmann velocities at ``temperature_K`` (else keep the
        structure's momenta).
    electrodes : {"metallic", "static"}
        Membership re-evaluated by the metallic-Li rule, or fixed at step 0.
    electrode_every : int
        Steps between membership updates (metallic).
    qeq_every : int
        Steps between charge solves (1: every step; see module docstring).
    traj_every, thermo_every, checkpoint_every, log_every : int
        Output intervals in steps.
    walls : {"molecules", "electrolyte", "none"}
        Atoms confined by the harmonic walls (see
        :func:`constpot.md.walls.wall_indices`).
    wall_spring_eV_A2 : float, eV/Å²
    min_distance_A, max_force_eV_A, max_temperature_factor : float
        Guard limits (Å, eV/Å, × temperature_K).
    relax_steps : int
        FIRE steps that minimise Ω + E_short (the constant-potential energy,
        constraints and walls included) before step 0 of a fresh run; 0 skips.
        A built interface is not at the model's minimum: relaxing first stops
        its strain energy from heating the first picoseconds.
    relax_fmax_eV_A : float, eV/Å
        FIRE stops when the largest force is below this.
    """

    mode: str = "constp"
    anode_potential_V: float | None = None
    counter_potential_V: float = 2.0
    total_charge_e: float = 0.0
    ensemble: str = "nvt"
    temperature_K: float = 300.0
    timestep_fs: float = 1.0
    friction_per_fs: float = 0.01
    n_steps: int = 1000
    seed: int = 0
    initial_velocities: bool = True
    electrodes: str = "metallic"
    electrode_every: int = 10
    qeq_every: int = 1
    traj_every: int = 10
    thermo_every: int = 1
    checkpoint_every: int = 100
    log_every: int = 100
    walls: str = "molecules"
    wall_spring_eV_A2: float = 10.0
    min_distance_A: float = 0.5
    max_force_eV_A: float = 50.0
    max_temperature_factor: float = 5.0
    relax_steps: int = 0
    relax_fmax_eV_A: float = 0.2

    def __post_init__(self):
        _validate(self)

    @property
    def guard_limits(self) -> GuardLimits:
        return GuardLimits(
            self.min_distance_A, self.max_force_eV_A, self.max_temperature_factor
        )

    @property
    def potentials(self) -> tuple[float, float]:
        """(anode, counter) ψ in V; NaN in constq (no potential applied)."""
        if self.mode == "constq":
            return (math.nan, math.nan)
        return (float(self.anode_potential_V), float(self.counter_potential_V))

    def todict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, section: dict | None, **overrides) -> MDSettings:
        """Settings from a config ``md:`` section plus overrides.

        Keys of ``section`` that are not settings (the sweep: ``systems``,
        ``anode_potentials_V``, ``replicas``, ...) are ignored; ``None``
        overrides are skipped.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in (section or {}).items() if k in names}
        guards = (section or {}).get("guards") or {}
        for key in ("min_distance_A", "max_force_eV_A", "max_temperature_factor"):
            if key in guards:
                values[key] = guards[key]
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - names
        if unknown:
            raise MDSetupError(f"unknown MD settings: {sorted(unknown)}")
        return cls(**values)


def _validate(s: MDSettings) -> None:
    def need(cond: bool, name: str, expected: str):
        if not cond:
            raise MDSetupError(
                f"MD setting {name} must be {expected}, got {getattr(s, name)!r}"
            )

    need(s.mode in MODES, "mode", f"one of {MODES}")
    need(s.ensemble in ("nvt", "nve"), "ensemble", "'nvt' or 'nve'")
    need(s.electrodes in ("metallic", "static"), "electrodes", "metallic|static")
    need(s.walls in WALL_ATOMS, "walls", f"one of {WALL_ATOMS}")
    if s.mode == "constp":
        need(
            s.anode_potential_V is not None
            and math.isfinite(float(s.anode_potential_V)),
            "anode_potential_V",
            "a finite number of volts in constp mode",
        )
    for name in ("counter_potential_V", "total_charge_e"):
        need(math.isfinite(float(getattr(s, name))), name, "finite")
    for name in (
        "temperature_K",
        "timestep_fs",
        "wall_spring_eV_A2",
        "min_distance_A",
        "max_force_eV_A",
        "max_temperature_factor",
        "relax_fmax_eV_A",
    ):
        value = getattr(s, name)
        need(
            isinstance(value, (int, float)) and math.isfinite(value) and value > 0,
            name,
            "a number > 0",
        )
    need(
        isinstance(s.friction_per_fs, (int, float)) and s.friction_per_fs >= 0,
        "friction_per_fs",
        "a number >= 0 (1/fs)",
    )
    need(
        isinstance(s.n_steps, (int, np.integer)) and s.n_steps >= 0,
        "n_steps",
        "an integer >= 0",
    )
    need(isinstance(s.seed, (int, np.integer)) and s.seed >= 0, "seed", "int >= 0")
    need(
        isinstance(s.relax_steps, (int, np.integer)) and s.relax_steps >= 0,
        "relax_steps",
        "an integer >= 0",
    )
    for name in (
        "electrode_every",
        "qeq_every",
        "traj_every",
        "thermo_every",
        "checkpoint_every",
        "log_every",
    ):
        value = getattr(s, name)
        need(isinstance(value, (int, np.integer)) and value >= 1, name, "int >= 1")


# --------------------------------------------------------------------- forces
class _StepCalculator(Calculator):
    """The MD's view of a HybridCalculator: one evaluation per step.

    Before each evaluation it applies the step's schedule: membership update
    (every ``electrode_every`` steps), geometry guard, and either a charge
    solve (through the hybrid calculator, warm-started from ``hybrid.guess``)
    or a fixed-charge evaluation with the last solved charges. The hybrid
    calculator gets a bare copy of the atoms (no constraints): the walls and
    FixAtoms act once, in :meth:`ase.Atoms.get_forces` of the MD's atoms.
    """

    implemented_properties = ("energy", "free_energy", "forces")

    def __init__(self, hybrid, settings: MDSettings, frozen: np.ndarray):
        super().__init__()
        self.hybrid = hybrid
        self.settings = settings
        self.frozen = frozen
        self.step = 0
        self.labels: np.ndarray | None = None
        self.initial_labels: np.ndarray | None = None
        self.last: dict = {}
        self.timings = {"short_range": 0.0, "qeq": 0.0, "neighbour_list": 0.0}
        self.n_evaluations = 0

    # --------------------------------------------------------- membership
    def membership(self, atoms: Atoms) -> np.ndarray:
        start = time.perf_counter()
        labels = metallic_li(
            atoms,
            cutoff=getattr(self.hybrid, "metallic_cutoff_A", 3.5),
            min_neighbors=getattr(self.hybrid, "metallic_min_neighbors", 8),
            always=self.frozen,
            exclude_bonded_to=getattr(self.hybrid, "metallic_exclude", ()),
        )
        self.timings["neighbour_list"] += time.perf_counter() - start
        return labels

    def initial_membership(self, atoms: Atoms) -> np.ndarray:
        """Labels at step 0: the calculator's, the structure's, or the rule."""
        n = len(atoms)
        given = getattr(self.hybrid, "electrode_labels", None)
        if self.settings.electrodes == "static" and given is not None:
            labels = np.asarray(given, dtype=np.int64)
        elif self.settings.electrodes == "static" and ELECTRODE in atoms.arrays:
            labels = np.asarray(atoms.arrays[ELECTRODE], dtype=np.int64)
        else:
            labels = self.membership(atoms)
        if labels.shape != (n,):
            raise MDSetupError(
                f"electrode labels have shape {labels.shape}, expected ({n},)"
            )
        bad = ~np.isin(labels, (NOT_ELECTRODE, ANODE, COUNTER))
        if bad.any():
            raise MDSetupError(
                f"electrode label {int(labels[bad][0])} of atom "
                f"{int(np.flatnonzero(bad)[0])} is not 0, 1 or 2"
            )
        return labels.copy()

    def set_labels(self, labels: np.ndarray) -> None:
        self.labels = np.asarray(labels, dtype=np.int64).copy()
        self.hybrid.set_electrode_labels(self.labels)

    # --------------------------------------------------------- evaluation
    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        s = self.settings
        start = time.perf_counter()
        check_geometry(atoms, self.step, s.min_distance_A)
        self.timings["neighbour_list"] += time.perf_counter() - start

        relabelled = False
        if s.electrodes == "metallic" and self.step % s.electrode_every == 0:
            new = self.membership(atoms)
            if not np.array_equal(new, self.labels):
                self.set_labels(new)
                relabelled = True
        bare = Atoms(
            numbers=atoms.numbers,
            positions=atoms.positions,
            cell=atoms.cell,
            pbc=atoms.pbc,
        )
        bare.arrays[FROZEN] = self.frozen.copy()
        for key in (MOLECULE, MOL_ID):  # charge groups of the QEq settings
            if key in atoms.arrays:
                bare.arrays[key] = atoms.arrays[key]
        guess = self.hybrid.guess
        solve = (
            self.step % s.qeq_every == 0
            or relabelled
            or guess is None
            or len(guess) != len(atoms)
        )
        if solve:
            self._solve(bare)
        else:
            self._reuse(bare, np.asarray(guess, dtype=float))
        self.n_evaluations += 1
        last = self.last
        self.results = {
            "energy": last["energy"],
            "free_energy": last["free_energy"],
            "forces": last["forces"],
        }

    def _solve(self, bare: Atoms) -> None:
        hybrid = self.hybrid
        solver = hybrid.solver
        original = solver.solve
        spent = [0.0]

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t0

        start = time.perf_counter()
        solver.solve = timed
        try:
            hybrid.calculate(bare, ["energy", "free_energy", "forces"], all_changes)
        finally:
            del solver.solve  # back to the class method
        total = time.perf_counter() - start
        self.timings["qeq"] += spent[0]
        self.timings["short_range"] += total - spent[0]
        r = hybrid.results
        charges = np.asarray(r["charges"], dtype=float)
        self.last = {
            "energy": float(r["energy"]),
            "free_energy": float(r["free_energy"]),
            "forces": np.asarray(r["forces"], dtype=float).copy(),
            "charges": charges.copy(),
            "electrode": self.labels.copy(),
            "anode_charge_e": float(charges[self.labels == ANODE].sum()),
            "counter_charge_e": float(charges[self.labels == COUNTER].sum()),
            "cg_iterations": int(r.get("cg_iterations", 0)),
            "solved": True,
        }

    def _reuse(self, bare: Atoms, charges: np.ndarray) -> None:
        """Short range + QEq at the fixed charges ``charges`` (no solve)."""
        hybrid = self.hybrid
        n = len(bare)
        start = time.perf_counter()
        e_short, f_short = 0.0, np.zeros((n, 3))
        members = list(getattr(hybrid, "short_range", []) or [])
        if members:
            energies, forces = [], []
            for member in members:
                probe = bare.copy()
                probe.calc = member
                energies.append(float(probe.get_potential_energy()))
                forces.append(np.asarray(probe.get_forces(), dtype=float))
            e_short = float(np.mean(energies))
            f_short = np.mean(forces, axis=0)
        t_short = time.perf_counter() - start
        start = time.perf_counter()
        fixed = bare.copy()
        fixed.set_initial_charges(charges)
        psi = np.zeros(n)
        if self.settings.mode == "constp":
            psi[self.labels == ANODE] = self.settings.anode_potential_V
            psi[self.labels == COUNTER] = self.settings.counter_potential_V
        res = hybrid.solver.solve(
            fixed,
            potential=psi,
            fixed=np.ones(n, bool),
            total_charge=float(charges.sum()),
        )
        self.timings["qeq"] += time.perf_counter() - start
        self.timings["short_range"] += t_short
        self.last = {
            "energy": e_short + float(res.energy),
            "free_energy": e_short + float(res.grand_energy),
            "forces": f_short + res.forces,
            "charges": charges.copy(),
            "electrode": self.labels.copy(),
            "anode_charge_e": float(charges[self.labels == ANODE].sum()),
            "counter_charge_e": float(charges[self.labels == COUNTER].sum()),
            "cg_iterations": 0,
            "solved": False,
        }


# ----------------------------------------------------------------------- loop
@dataclass
class _State:
    """A consistent snapshot after a step (for checkpoints and guards)."""

    step: int
    positions: np.ndarray
    momenta: np.ndarray
    forces: np.ndarray | None
    guess: np.ndarray | None
    labels: np.ndarray
    rng_state: dict
    last: dict


class ConstantPotentialMD:
    """One constant-potential (or constant-charge) MD run.

    Parameters
    ----------
    atoms : ase.Atoms
        Starting structure (a built interface: normal z, anode in the lower
        half; per-atom ``frozen``, ``region``, ``molecule`` arrays and the
        ``wall_lower_A``/``wall_upper_A`` info when walls are on). Copied.
    calc : HybridCalculator
        Forces and charges; the driver sets its potentials, total charge and
        electrode labels from ``settings``.
    settings : MDSettings
    outdir : path-like
        Run folder.
    resume : bool
        Continue from ``outdir/checkpoint.npz`` and append to the outputs
        (frames and rows after the checkpoint's step are dropped first).
    log : callable, optional
        Receives each log line (default: print to stdout); lines also go to
        ``outdir/md.log``.
    progress : bool or None
        tqdm bar on stderr; None: only when stderr is a terminal.
    callback : callable, optional
        ``callback(md, step)`` after each completed step (tests use it to
        interrupt a run).
    metadata : dict, optional
        Provenance stored under ``"run"`` in ``summary.json`` (system, models,
        versions, ...).

    Attributes
    ----------
    atoms : ase.Atoms
        The simulated atoms (with FixAtoms and walls constraints).
    timings : dict
        Seconds spent in short_range, qeq, neighbour_list, io, integrator.
    """

    def __init__(
        self,
        atoms: Atoms,
        calc,
        settings: MDSettings,
        outdir,
        *,
        resume: bool = False,
        log: Callable[[str], None] | None = None,
        progress: bool | None = None,
        callback: Callable | None = None,
        metadata: dict | None = None,
    ):
        if not isinstance(settings, MDSettings):
            raise TypeError(
                f"settings must be an MDSettings, got {type(settings).__name__}"
            )
        for attr in ("solver", "guess", "set_electrode_labels", "calculate"):
            if not hasattr(calc, attr):
                raise TypeError(
                    f"calc must be a constpot HybridCalculator (missing {attr!r})"
                )
        if len(atoms) == 0:
            raise MDSetupError("atoms is empty")
        if not np.all(atoms.pbc):
            raise MDSetupError(f"atoms must be periodic (pbc {atoms.pbc.tolist()})")
        self.settings = settings
        self.outdir = Path(outdir)
        self.resume = bool(resume)
        self._print = print if log is None else log
        self.progress = sys.stderr.isatty() if progress is None else bool(progress)
        self.callback = callback
        self.metadata = dict(metadata or {})
        self.calc = calc

        self.atoms = atoms.copy()
        self.atoms.calc = None
        frozen = frozen_mask(self.atoms)
        self.atoms.set_constraint()
        self.atoms.arrays[FROZEN] = frozen
        self.frozen = frozen
        constraints = []
        if frozen.any():
            constraints.append(FixAtoms(mask=frozen))
        self.walls = None
        if settings.walls != "none":
            idx = wall_indices(self.atoms, settings.walls)
            info = self.atoms.info
            if "wall_lower_A" not in info or "wall_upper_A" not in info:
                raise MDSetupError(
                    f"walls={settings.walls!r} need info 'wall_lower_A' and "
                    "'wall_upper_A' (written by constpot build); use walls='none'"
                )
            self.walls = HarmonicWalls(
                idx,
                info["wall_lower_A"],
                info["wall_upper_A"],
                settings.wall_spring_eV_A2,
            )
            constraints.append(self.walls)
        self.atoms.set_constraint(constraints)

        # The driver owns mode and membership: configure the calculator.
        if settings.mode == "constp":
            calc.anode_potential_V = float(settings.anode_potential_V)
            calc.counter_potential_V = float(settings.counter_potential_V)
        else:
            calc.anode_potential_V = None
        calc.total_charge = float(settings.total_charge_e)
        if hasattr(calc, "electrodes"):
            calc.electrodes = "static"
        self.step_calc = _StepCalculator(calc, settings, frozen)
        self.atoms.calc = self.step_calc

        self.rng = np.random.default_rng(settings.seed)
        dt = settings.timestep_fs * units.fs
        if settings.ensemble == "nvt":
            self.dyn = Langevin(
                self.atoms,
                dt,
                temperature_K=settings.temperature_K,
                friction=settings.friction_per_fs / units.fs,
                fixcm=False,
                rng=self.rng,
            )
        else:
            self.dyn = VelocityVerlet(self.atoms, dt)
        self.timings = {"io": 0.0, "integrator": 0.0}
        self.step = 0
        self._wall_before = 0.0
        self._last_frame_step = -1
        self._last_ckpt_step = -1

    # ------------------------------------------------------------- helpers
    def _log(self, line: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        with open(self.outdir / LOG_FILE, "a") as fh:
            fh.write(f"{stamp} {line}\n")
        if not self.progress:
            self._print(line)
        else:
            from tqdm import tqdm

            tqdm.write(line, file=sys.stderr)

    def _snapshot(self, forces) -> _State:
        guess = self.calc.guess
        return _State(
            step=self.step,
            positions=self.atoms.positions.copy(),
            momenta=self.atoms.get_momenta().copy(),
            forces=None if forces is None else np.array(forces, dtype=float),
            guess=None if guess is None else np.array(guess, dtype=float),
            labels=self.step_calc.labels.copy(),
            rng_state=self.rng.bit_generator.state,
            last=self.step_calc.last,
        )

    def _thermo(self, state: _State) -> dict:
        """Thermo row of a snapshot (kinetic terms from its momenta)."""
        masses = self.atoms.get_masses()
        ke = float(0.5 * np.sum(state.momenta**2 / masses[:, None]))
        dof = 3 * len(self.atoms) - 3 * int(self.frozen.sum())
        temp = 2.0 * ke / (max(dof, 1) * units.kB)
        e_wall = 0.0 if self.walls is None else self.walls.energy(state.positions)
        last = state.last
        grand = last["free_energy"] + e_wall
        return {
            "step": state.step,
            "time_fs": state.step * self.settings.timestep_fs,
            "temperature_K": temp,
            "potential_energy_eV": last["energy"] + e_wall,
            "grand_energy_eV": grand,
            "kinetic_energy_eV": ke,
            "conserved_eV": grand + ke,
            "anode_charge_e": last["anode_charge_e"],
            "counter_charge_e": last["counter_charge_e"],
            "cg_iterations": last["cg_iterations"],
        }

    def _frame(self, state: _State, row: dict) -> Atoms:
        anode_v, counter_v = self.settings.potentials
        info = {
            "step": int(state.step),
            "time_fs": float(row["time_fs"]),
            "temperature_K": float(row["temperature_K"]),
            "potential_energy_eV": float(row["potential_energy_eV"]),
            "grand_energy_eV": float(row["grand_energy_eV"]),
            "kinetic_energy_eV": float(row["kinetic_energy_eV"]),
            "anode_charge_e": float(row["anode_charge_e"]),
            "counter_charge_e": float(row["counter_charge_e"]),
            "cg_iterations": int(row["cg_iterations"]),
            "qeq_solved": bool(state.last.get("solved", True)),
            "mode": self.settings.mode,
            "anode_potential_V": anode_v,
            "counter_potential_V": counter_v,
            "total_charge_e": float(self.settings.total_charge_e),
        }
        probe = self.atoms.copy()
        probe.positions = state.positions
        return frame_atoms(probe, state.last["charges"], state.labels, info)

    def _write_outputs(self, state: _State, force_frame=False, force_ckpt=False):
        s = self.settings
        start = time.perf_counter()
        row = self._thermo(state)
        if state.step % s.thermo_every == 0 or force_frame:
            self.thermo.write(row)
        if (state.step % s.traj_every == 0 or force_frame) and (
            state.step != self._last_frame_step
        ):
            self.traj.write(self._frame(state, row))
            self._last_frame_step = state.step
        if (state.step % s.checkpoint_every == 0 or force_ckpt) and (
            state.step != self._last_ckpt_step
        ):
            self._checkpoint(state)
        self.timings["io"] += time.perf_counter() - start
        return row

    def _checkpoint(self, state: _State) -> None:
        self.traj.flush()
        self.thermo.flush()
        last = state.last
        results = {
            k: last[k]
            for k in (
                "energy",
                "free_energy",
                "anode_charge_e",
                "counter_charge_e",
                "cg_iterations",
            )
            if k in last
        }
        write_checkpoint(
            self.outdir / CHECKPOINT_FILE,
            Checkpoint(
                step=state.step,
                positions=state.positions,
                momenta=state.momenta,
                forces=state.forces,
                guess=state.guess,
                electrode=state.labels,
                initial_electrode=self.step_calc.initial_labels,
                rng_state=state.rng_state,
                numbers=self.atoms.numbers,
                results=results,
                wall_time_s=self._wall_before + time.perf_counter() - self._t0,
                settings=self.settings.todict(),
            ),
        )
        self._last_ckpt_step = state.step

    # ---------------------------------------------------------------- start
    def _start_fresh(self):
        s = self.settings
        atoms = self.atoms
        for name in (TRAJ_FILE, THERMO_FILE, CHECKPOINT_FILE, SUMMARY_FILE):
            (self.outdir / name).unlink(missing_ok=True)
        if s.initial_velocities:
            thermalize_momenta(atoms, s.temperature_K, rng=self.rng)
        self.step = 0
        self.step_calc.step = 0
        labels = self.step_calc.initial_membership(atoms)
        self.step_calc.initial_labels = labels.copy()
        self.step_calc.set_labels(labels)
        self.traj = TrajectoryWriter(self.outdir / TRAJ_FILE)
        self.thermo = ThermoWriter(self.outdir / THERMO_FILE)
        try:
            check_geometry(atoms, 0, s.min_distance_A)
        except MDGuardError as err:
            # Nothing good to keep: record the starting state for inspection.
            self._log(f"guard: {err}; checkpoint of step 0 written")
            self.step_calc.last = {}
            self._checkpoint(
                _State(
                    0,
                    atoms.positions.copy(),
                    atoms.get_momenta(),
                    None,
                    None,
                    labels,
                    self.rng.bit_generator.state,
                    {},
                )
            )
            raise
        if s.relax_steps:
            self._relax()
            if s.electrodes == "metallic":
                labels = self.step_calc.membership(atoms)
                self.step_calc.initial_labels = labels.copy()
                self.step_calc.set_labels(labels)
        forces = atoms.get_forces(md=True)
        return forces

    def _relax(self) -> None:
        """FIRE on Ω + E_short at the starting membership (fresh runs only)."""
        from ase.optimize import FIRE

        s = self.settings
        start = time.perf_counter()
        energy0 = self.atoms.get_potential_energy(force_consistent=True)
        # FIRE would carry a NaN force into the positions: stop here instead
        check_forces(self.atoms, 0, energy0, self.atoms.get_forces(), math.inf)
        opt = FIRE(self.atoms, logfile=None)
        converged = opt.run(fmax=s.relax_fmax_eV_A, steps=s.relax_steps)
        fmax = float(np.linalg.norm(self.atoms.get_forces(), axis=1).max())
        energy1 = self.atoms.get_potential_energy(force_consistent=True)
        self._log(
            f"relaxed: {opt.nsteps} FIRE steps "
            f"({'converged' if converged else 'not converged'} to "
            f"{s.relax_fmax_eV_A} eV/Å), max force {fmax:.3f} eV/Å, "
            f"Ω + E_short {energy0:.4f} -> {energy1:.4f} eV "
            f"in {time.perf_counter() - start:.1f} s"
        )

    def _start_resume(self):
        s = self.settings
        ckpt = read_checkpoint(self.outdir / CHECKPOINT_FILE)
        if not np.array_equal(ckpt.numbers, self.atoms.numbers):
            raise MDSetupError(
                f"{self.outdir / CHECKPOINT_FILE}: checkpoint atoms do not match "
                "the structure (different elements or order)"
            )
        old = {k: v for k, v in ckpt.settings.items() if k not in _RESUMABLE}
        new = {k: v for k, v in s.todict().items() if k not in _RESUMABLE}
        changed = sorted(k for k in new if old.get(k, new[k]) != new[k])
        if changed:
            raise MDSetupError(
                "cannot resume with changed settings: "
                + ", ".join(f"{k} {old[k]!r} -> {new[k]!r}" for k in changed)
            )
        atoms = self.atoms
        atoms.set_positions(ckpt.positions, apply_constraint=False)
        atoms.set_momenta(ckpt.momenta, apply_constraint=False)
        self.rng.bit_generator.state = ckpt.rng_state
        self.calc.guess = None if ckpt.guess is None else ckpt.guess.copy()
        self.step_calc.initial_labels = ckpt.initial_electrode.copy()
        self.step_calc.set_labels(ckpt.electrode)
        self.step = ckpt.step
        self.step_calc.step = ckpt.step
        self._wall_before = ckpt.wall_time_s
        n_frames = TrajectoryWriter.truncate_after(self.outdir / TRAJ_FILE, ckpt.step)
        n_rows = ThermoWriter.truncate_after(self.outdir / THERMO_FILE, ckpt.step)
        self.traj = TrajectoryWriter(self.outdir / TRAJ_FILE, append=True)
        self.thermo = ThermoWriter(self.outdir / THERMO_FILE, append=True)
        self._last_frame_step = ckpt.step if ckpt.step % s.traj_every == 0 else -1
        self._last_ckpt_step = ckpt.step
        self._log(
            f"resumed from step {ckpt.step} ({n_frames} frames, {n_rows} thermo "
            "rows kept)"
        )
        if ckpt.forces is None:
            return atoms.get_forces(md=True)
        # Restore the evaluation the checkpoint was written after.
        self.step_calc.last = {
            **ckpt.results,
            "charges": self.calc.guess,
            "electrode": ckpt.electrode.copy(),
            "forces": None,
            "solved": True,
        }
        return ckpt.forces.copy()

    # ------------------------------------------------------------------ run
    def run(self) -> dict:
        """Run to ``settings.n_steps``; returns the summary (also written).

        Raises
        ------
        MDGuardError
            A guard stopped the run (last good frame and checkpoint written).
        MDSetupError
            Bad structure, settings or checkpoint.
        """
        s = self.settings
        self.outdir.mkdir(parents=True, exist_ok=True)
        self._t0 = time.perf_counter()
        if not self.resume:
            (self.outdir / LOG_FILE).unlink(missing_ok=True)
        n_walled = 0 if self.walls is None else self.walls.index.size
        self._log(
            f"constpot md: {len(self.atoms)} atoms, mode {s.mode}, "
            f"potentials (anode, counter) {s.potentials} V, {s.ensemble} "
            f"{s.temperature_K} K, dt {s.timestep_fs} fs, {s.n_steps} steps, "
            f"electrodes {s.electrodes}/{s.electrode_every}, qeq every "
            f"{s.qeq_every}, walls {s.walls} ({n_walled} atoms), "
            f"frozen {int(self.frozen.sum())}"
        )
        stopped = None
        try:
            forces = self._start_resume() if self.resume else self._start_fresh()
            if not self.resume:
                state = self._snapshot(forces)
                try:
                    self._guard(state, forces)
                except MDGuardError as err:
                    # No good state yet: keep the start for inspection.
                    self._checkpoint(state)
                    self._log(f"guard: {err}; checkpoint of step 0 written")
                    raise
                self._write_outputs(state, force_frame=True, force_ckpt=True)
            self._loop(forces)
        except MDGuardError as err:
            stopped = err
        finally:
            for writer in ("traj", "thermo"):
                if hasattr(self, writer):
                    getattr(self, writer).close()
        if stopped is not None:
            # The summary of what ran (status "stopped"), then the error.
            self._finish(stopped)
            raise stopped
        return self._finish()

    def _guard(self, state: _State, forces) -> None:
        s = self.settings
        check_forces(
            self.atoms, state.step, state.last["free_energy"], forces, s.max_force_eV_A
        )
        row = self._thermo(state)
        check_temperature(
            self.atoms,
            state.step,
            row["temperature_K"],
            s.max_temperature_factor * s.temperature_K,
        )

    def _loop(self, forces) -> None:
        s = self.settings
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(
                total=s.n_steps,
                initial=self.step,
                unit="step",
                file=sys.stderr,
                dynamic_ncols=True,
            )
        good = self._snapshot(forces)
        t_loop = time.perf_counter()
        first = self.step
        try:
            while self.step < s.n_steps:
                self.step_calc.step = self.step + 1
                t_eval = sum(self.step_calc.timings.values())
                start = time.perf_counter()
                try:
                    forces = self.dyn.step(forces)
                    self.step += 1
                    state = self._snapshot(forces)
                    self._guard(state, forces)
                except (MDGuardError, ConvergenceError) as err:
                    self._stop(good, err)
                spent = time.perf_counter() - start
                self.timings["integrator"] += spent - (
                    sum(self.step_calc.timings.values()) - t_eval
                )
                last = self.step == s.n_steps
                row = self._write_outputs(state, force_frame=last, force_ckpt=last)
                good = state
                if bar is not None:
                    bar.update(1)
                if self.step % s.log_every == 0 or last:
                    done = self.step - first
                    rate = done / max(time.perf_counter() - t_loop, 1e-9)
                    eta = (s.n_steps - self.step) / max(rate, 1e-9)
                    self._log(
                        f"step {self.step}/{s.n_steps} "
                        f"t {row['time_fs'] / 1000:.3f} ps "
                        f"T {row['temperature_K']:.1f} K "
                        f"H {row['conserved_eV']:.4f} eV "
                        f"anode {row['anode_charge_e']:+.4f} e "
                        f"CG {row['cg_iterations']} | {rate:.2f} steps/s "
                        f"ETA {_hms(eta)}"
                    )
                if self.callback is not None:
                    self.callback(self, self.step)
        finally:
            if bar is not None:
                bar.close()

    def _stop(self, good: _State, err: Exception):
        """Write the last good frame and checkpoint, then raise MDGuardError."""
        if self._last_frame_step != good.step and good.last:
            row = self._thermo(good)
            self.traj.write(self._frame(good, row))
            self._last_frame_step = good.step
        self._checkpoint(good)
        if isinstance(err, MDGuardError):
            message, guard = str(err), err
        else:
            message = (
                f"step {good.step + 1}: charge solve failed ({err}; "
                f"{err.iterations} iterations, residual {err.residual:.2e})"
            )
            guard = MDGuardError(message, good.step + 1, "qeq")
        text = (
            f"{message}; stopped after writing the frame and checkpoint of "
            f"step {good.step} to {self.outdir}"
        )
        self._log(f"guard: {text}")
        raise MDGuardError(text, guard.step, guard.reason, guard.atoms) from err

    # --------------------------------------------------------------- summary
    def _finish(self, stopped: MDGuardError | None = None) -> dict:
        s = self.settings
        wall = self._wall_before + time.perf_counter() - self._t0
        status = {"status": "completed"}
        if stopped is not None:
            status = {
                "status": "stopped",
                "stop_step": stopped.step,
                "stop_reason": stopped.reason,
                "stop_atoms": stopped.atoms,
                "stop_message": str(stopped),
            }
        thermo_path = self.outdir / THERMO_FILE
        thermo = read_thermo(thermo_path) if thermo_path.is_file() else {}
        if not len(thermo.get("step", ())):
            # Stopped before the first thermo row: nothing but the status.
            summary = {**status, "steps": 0, "settings": s.todict()}
            with atomic_path(self.outdir / SUMMARY_FILE) as tmp:
                tmp.write_text(json.dumps(summary, indent=2) + "\n")
            return summary
        labels0 = self.step_calc.initial_labels
        labels1 = self.step_calc.labels
        symbols = np.asarray(self.atoms.get_chemical_symbols())
        li = symbols == "Li"
        if REGION in self.atoms.arrays:
            outside = np.isin(self.atoms.arrays[REGION], ("electrolyte", "sei"))
        else:
            outside = np.ones(len(self.atoms), bool)
        joined = li & outside & (labels0 != ANODE) & (labels1 == ANODE)
        left = li & outside & (labels0 == ANODE) & (labels1 != ANODE)
        cg = thermo["cg_iterations"]
        solved = cg[cg > 0] if np.any(cg > 0) else cg
        timings = {**self.step_calc.timings, **self.timings}
        n_run = max(self.step_calc.n_evaluations, 1)
        steps = int(self.step if stopped is None else thermo["step"][-1])
        summary = {
            **status,
            "steps": steps,
            "time_ps": steps * s.timestep_fs / 1000.0,
            "mode": s.mode,
            "anode_potential_V": None if s.mode == "constq" else s.potentials[0],
            "counter_potential_V": None if s.mode == "constq" else s.potentials[1],
            "anode_charge_start_e": float(thermo["anode_charge_e"][0]),
            "anode_charge_end_e": float(thermo["anode_charge_e"][-1]),
            "counter_charge_start_e": float(thermo["counter_charge_e"][0]),
            "counter_charge_end_e": float(thermo["counter_charge_e"][-1]),
            "anode_atoms_start": int((labels0 == ANODE).sum()),
            "anode_atoms_end": int((labels1 == ANODE).sum()),
            "li_joined_anode": int(joined.sum()),
            "li_joined_anode_indices": np.flatnonzero(joined).tolist(),
            "li_left_anode": int(left.sum()),
            "cg_iterations_mean": float(np.mean(solved)) if solved.size else 0.0,
            "cg_iterations_max": int(np.max(cg)) if cg.size else 0,
            "temperature_mean_K": float(np.mean(thermo["temperature_K"])),
            "conserved_drift_eV_per_atom": float(
                (thermo["conserved_eV"][-1] - thermo["conserved_eV"][0])
                / len(self.atoms)
            ),
            "wall_time_s": wall,
            "timings_this_session_s": timings,
            "evaluations_this_session": n_run,
            "n_atoms": len(self.atoms),
            "settings": s.todict(),
            "calculator": _calc_dict(self.calc),
            "run": self.metadata,
        }
        with atomic_path(self.outdir / SUMMARY_FILE) as tmp:
            tmp.write_text(json.dumps(summary, indent=2) + "\n")
        self._log(
            f"{status['status']}: {steps} steps in {_hms(wall)}; anode charge "
            f"{summary['anode_charge_start_e']:+.4f} -> "
            f"{summary['anode_charge_end_e']:+.4f} e; {summary['li_joined_anode']} "
            f"Li joined the anode; CG iterations mean "
            f"{summary['cg_iterations_mean']:.1f} max {summary['cg_iterations_max']}"
        )
        return summary


def _calc_dict(calc) -> dict:
    try:
        return calc.todict()
    except Exception:  # provenance only
        return {"type": type(calc).__name__}


def _hms(seconds: float) -> str:
    seconds = round(max(seconds, 0))
    h, rem = divmod(seconds, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s"


def run(
    atoms: Atoms,
    calc,
    settings: MDSettings,
    outdir,
    resume: bool = False,
    **kwargs,
) -> dict:
    """Run one MD (see :class:`ConstantPotentialMD`); returns the summary.

    Parameters
    ----------
    atoms : ase.Atoms
    calc : HybridCalculator
    settings : MDSettings
    outdir : path-like
        Run folder (``traj.extxyz``, ``thermo.csv``, ``checkpoint.npz``,
        ``summary.json``, ``md.log``).
    resume : bool
        Continue from the folder's checkpoint.
    **kwargs
        ``log``, ``progress``, ``callback``, ``metadata`` of
        :class:`ConstantPotentialMD`.

    Raises
    ------
    MDGuardError
        A guard stopped the run.
    MDSetupError
        Bad settings, structure or checkpoint.
    """
    return ConstantPotentialMD(
        atoms, calc, settings, outdir, resume=resume, **kwargs
    ).run()
