"""The parameters of :class:`~constpot.potential.HybridCalculator`.

Their defaults, the stored (normalised, validated) form of each value, and the
equality that decides whether ``calc.set(...)`` changed anything. Per-atom
arrays are stored as read-only copies: changing one in place would bypass
``set`` and leave stale cached results.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..qeq import MetallicRule
from .predictor import ChargePredictor
from .settings import QEqSettings

#: Every parameter and its default (see the HybridCalculator docstring).
DEFAULTS = {
    "qeq": None,  # QEqSettings; None: the paper's table
    "slab": True,
    "method": "cg",
    "tol": 1e-8,
    "device": "cpu",
    "solver_options": {},
    "anode_potential_V": None,
    "counter_potential_V": 0.0,
    "total_charge": 0.0,
    "electrodes": "static",
    "electrode_labels": None,
    "metallic_rule": MetallicRule(),
    "fixed_charges": None,
    # where CG starts (numerics, not physics): see constpot.potential.predictor
    "charge_predictor": ChargePredictor().todict(),
}

#: Parameters that define the charge solver: a change rebuilds it.
SOLVER_KEYS = frozenset({"qeq", "slab", "method", "tol", "device", "solver_options"})
#: Parameters that define the electrode membership.
MEMBERSHIP_KEYS = frozenset({"electrodes", "electrode_labels", "metallic_rule"})
#: Per-atom parameters (left out of provenance records: trajectories hold them).
PER_ATOM = frozenset({"electrode_labels", "fixed_charges"})
#: Keywords of the metallic rule accepted for backward compatibility, and the
#: :class:`~constpot.qeq.MetallicRule` field each sets.
RULE_KEYWORDS = {
    "metallic_cutoff_A": "cutoff_A",
    "metallic_min_neighbors": "min_neighbors",
    "metallic_exclude": "exclude",
}


def parameter_property(key: str) -> property:
    """Read-only attribute for ``parameters[key]``.

    Writing it raises AttributeError: a caller that configures the calculator
    by attribute fails loudly instead of being ignored.
    """

    def get(self):
        return self.parameters[key]

    return property(get, doc=f"``parameters[{key!r}]`` (read-only: use ``set``).")


def normalise(key: str, value):
    """``value`` of parameter ``key`` in its stored form.

    Raises
    ------
    ValueError, TypeError
        The value is not valid for ``key`` (the message names it). ``method``
        and ``device`` are checked by the charge solver, which ``set`` builds
        at once.
    """
    if key == "qeq":
        if value is None:
            return QEqSettings()
        if isinstance(value, QEqSettings):
            return value
        if isinstance(value, (str, os.PathLike)):
            return QEqSettings.read(value)
        raise TypeError(
            "qeq must be a QEqSettings, a path to its JSON or None, got "
            f"{type(value).__name__}"
        )
    if key == "solver_options":
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise TypeError(f"solver_options must be a dict, got {value!r}")
        return dict(value)
    if key == "slab":
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"slab must be True or False, got {value!r}")
        return bool(value)
    if key == "anode_potential_V" and value is None:
        return None
    if key in ("tol", "anode_potential_V", "counter_potential_V", "total_charge"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(f"{key} must be a finite number, got {value!r}")
        return number
    if key == "electrodes":
        if value not in ("static", "metallic"):
            raise ValueError(
                f"electrodes must be 'static' or 'metallic', got {value!r}"
            )
        return value
    if key == "metallic_rule":
        if value is None:
            return MetallicRule()
        if not isinstance(value, MetallicRule):
            raise TypeError(
                f"metallic_rule must be a MetallicRule, got {type(value).__name__}"
            )
        return value
    if key == "charge_predictor":
        return ChargePredictor.from_config(value).todict()
    if key == "electrode_labels":
        return None if value is None else _read_only(value, np.int64, key)
    if key == "fixed_charges":
        if value is None:
            return None
        charges = _read_only(value, float, key)
        if np.isinf(charges).any():
            raise ValueError("fixed_charges must be finite (NaN: solve that atom)")
        return charges
    return value


def same(old, new) -> bool:
    """Parameter equality: arrays by value (NaN equal to NaN), others by ==."""
    if old is None or new is None:
        return old is new
    if isinstance(old, np.ndarray) or isinstance(new, np.ndarray):
        if np.shape(old) != np.shape(new):
            return False
        floating = np.result_type(old, new).kind == "f"
        return bool(np.array_equal(old, new, equal_nan=floating))
    return bool(old == new)


def _read_only(value, dtype, key: str) -> np.ndarray:
    """A read-only 1-D copy of ``value``."""
    try:
        array = np.array(value, dtype=dtype)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a 1-D array of numbers") from None
    if array.ndim != 1:
        raise ValueError(f"{key} must be 1-D (one value per atom), got {array.shape}")
    array.flags.writeable = False
    return array
