"""Settings of one MD run: :class:`MDSettings` and its validation.

One object carries every choice of a run (mode and potentials, ensemble,
schedule, outputs, walls, guards, relaxation); it is validated on construction,
recorded in ``summary.json`` and ``checkpoint.npz`` (:meth:`MDSettings.todict`),
and a resumed run must match it except in :data:`RESUMABLE`
(:meth:`MDSettings.physics` is the part that must match; see
:mod:`constpot.md.identity`).

Example
-------
>>> s = MDSettings(mode="constp", anode_potential_V=-6.0, n_steps=2000)
>>> s.potentials
(-6.0, 2.0)
>>> potential_label(s.mode, s.anode_potential_V)
'-6.0V'
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import SetupError
from ..potential.predictor import ChargePredictor
from ..runs import MODES, potential_label
from .guards import GuardLimits
from .schedule import Schedule
from .walls import WALL_ATOMS

__all__ = [
    "MODES",
    "RESUMABLE",
    "MDSettings",
    "MDSetupError",
    "potential_label",
]


#: Settings that may differ between a run and its resumption: the run length
#: (a longer run continues; a shorter one than the checkpoint is refused), the
#: output and log cadence, and the guard limits (e.g. to get past a false
#: alarm). None of them changes the trajectory.
RESUMABLE = frozenset(
    {
        "n_steps",
        "traj_every",
        "thermo_every",
        "checkpoint_every",
        "log_every",
        "min_distance_A",
        "max_force_eV_A",
        "max_temperature_factor",
        "deviation_flag_eV_A",
    }
)


class MDSetupError(SetupError):
    """The run cannot start: bad settings, structure, checkpoint or run folder."""


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
        Steps between membership updates (metallic); each update also solves
        the charges.
    qeq_every : int
        Steps between charge solves (1: every step; see
        :mod:`constpot.md.schedule`).
    charge_predictor : dict
        ``{"method": ..., "order": k}``: where each solve's CG starts, predicted
        from the charges of earlier solves
        (:class:`~constpot.potential.predictor.ChargePredictor`: ``"aspc"``,
        ``"polynomial"``, ``"previous"``, ``"none"``). Numerics, not physics:
        every solve converges to the solver's tolerance; but part of the run's
        identity, so that a resumed run is bit-identical.
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
    deviation_flag_eV_A : float, eV/Å
        With an ensemble of models: a frame whose model deviation (max over
        atoms of the spread of the members' forces) exceeds this is counted,
        and a run with any such frame is flagged in ``summary.json`` (not
        stopped): the configurations the models disagree on, where the
        trajectory is not to be trusted (the upper end of the paper's trust
        window, 0.1–0.2 eV/Å).
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
    charge_predictor: dict = field(
        default_factory=lambda: {"method": "aspc", "order": 2}
    )
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
    deviation_flag_eV_A: float = 0.2

    def __post_init__(self):
        _validate(self)

    @property
    def guard_limits(self) -> GuardLimits:
        return GuardLimits(
            self.min_distance_A, self.max_force_eV_A, self.max_temperature_factor
        )

    @property
    def schedule(self) -> Schedule:
        """When membership is updated and charges are solved."""
        return Schedule(self.electrodes, self.electrode_every, self.qeq_every)

    @property
    def potentials(self) -> tuple[float, float]:
        """(anode, counter) ψ in V; NaN in constq (no potential applied)."""
        if self.mode == "constq":
            return (math.nan, math.nan)
        return (float(self.anode_potential_V), float(self.counter_potential_V))

    def calculator_parameters(self) -> dict:
        """The run's potentials, total charge and charge predictor as
        HybridCalculator parameters."""
        params = {
            "anode_potential_V": self.anode_potential_V,
            "counter_potential_V": self.counter_potential_V,
            "total_charge": self.total_charge_e,
            "charge_predictor": dict(self.charge_predictor),
        }
        if self.mode == "constq":
            params["anode_potential_V"] = None
            del params["counter_potential_V"]
        return params

    def todict(self) -> dict:
        return dataclasses.asdict(self)

    def physics(self) -> dict:
        """The settings a resumed run must share: :meth:`todict` less
        :data:`RESUMABLE`, numbers in their declared type (``300`` and
        ``300.0`` K are one temperature; −0.0 is 0.0)."""
        out = {}
        for f in dataclasses.fields(self):
            if f.name in RESUMABLE:
                continue
            value = getattr(self, f.name)
            if value is not None and str(f.type).startswith("float"):
                value = float(value) + 0.0
            elif isinstance(value, np.integer):
                value = int(value)
            out[f.name] = value
        return out

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
    try:
        s.charge_predictor = ChargePredictor.from_config(s.charge_predictor).todict()
    except (TypeError, ValueError) as err:
        raise MDSetupError(f"MD setting {err}") from None
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
        "deviation_flag_eV_A",
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
