"""The selection settings of one active-learning iteration (config ``active:``)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from ..errors import SetupError

__all__ = ["ActiveSettings"]


@dataclass(frozen=True)
class ActiveSettings:
    """How exploration frames are classified and candidates picked.

    Parameters
    ----------
    trust_lo_eV_A : float, eV/Å
        Below this model deviation a frame is *accurate* (default 0.1, the
        paper's window 0.1–0.2).
    trust_hi_eV_A : float, eV/Å
        At or above it a frame is *failed*: the models disagree too much for
        the configuration to be physical (default 0.2). Frames in between are
        *candidates*.
    max_candidates : int
        Most frames selected per iteration, over all runs (default 12).
    min_step_gap : int
        Two frames of one run picked less than this many MD steps apart are
        too alike; the later pick is skipped (default 20; 0 turns it off).
    max_atoms : int or None
        Frames with more atoms are carved to a z-window of at most this many
        atoms (needs the models); None keeps frames whole (default).

    Raises
    ------
    SetupError
        From :meth:`from_config`: an unknown key, a value of the wrong type or
        out of range, ``trust_lo_eV_A >= trust_hi_eV_A``; the message names
        the key.
    """

    trust_lo_eV_A: float = 0.1
    trust_hi_eV_A: float = 0.2
    max_candidates: int = 12
    min_step_gap: int = 20
    max_atoms: int | None = None

    def __post_init__(self):
        values = asdict(self)
        _check_types(values, "ActiveSettings")
        _check_values(values, "ActiveSettings")

    @classmethod
    def from_config(
        cls, section: dict | None, source: str = "active"
    ) -> ActiveSettings:
        """Settings from a config ``active:`` mapping; missing keys default.

        Parameters
        ----------
        section : dict or None
        source : str
            Where the mapping came from, for messages (``"--config-json"``).
        """
        section = {} if section is None else section
        if not isinstance(section, dict):
            raise SetupError(f"{source}: active: expected a mapping, got {section!r}")
        known = {f.name for f in fields(cls)}
        for key in section:
            if key not in known:
                raise SetupError(
                    f"{source}: active.{key}: unknown key "
                    f"(known: {', '.join(sorted(known))})"
                )
        values = {**asdict(cls()), **section}
        _check_types(values, source)
        _check_values(values, source)
        return cls(**values)

    def todict(self) -> dict:
        """The settings as a JSON-able dict (:meth:`from_config` accepts it)."""
        return asdict(self)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_types(values: dict, source: str) -> None:
    for key in ("trust_lo_eV_A", "trust_hi_eV_A"):
        v = values[key]
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or not math.isfinite(v)
        ):
            raise SetupError(f"{source}: active.{key}: expected a number, got {v!r}")
    for key in ("max_candidates", "min_step_gap"):
        if not _is_int(values[key]):
            raise SetupError(
                f"{source}: active.{key}: expected an integer, got {values[key]!r}"
            )
    if values["max_atoms"] is not None and not _is_int(values["max_atoms"]):
        raise SetupError(
            f"{source}: active.max_atoms: expected an integer or null, "
            f"got {values['max_atoms']!r}"
        )


def _check_values(v: dict, source: str) -> None:
    if v["trust_lo_eV_A"] <= 0:
        raise SetupError(
            f"{source}: active.trust_lo_eV_A: must be > 0, got {v['trust_lo_eV_A']!r}"
        )
    if v["trust_lo_eV_A"] >= v["trust_hi_eV_A"]:
        raise SetupError(
            f"{source}: active.trust_lo_eV_A ({v['trust_lo_eV_A']}) must be below "
            f"active.trust_hi_eV_A ({v['trust_hi_eV_A']})"
        )
    if v["max_candidates"] < 0:
        raise SetupError(
            f"{source}: active.max_candidates: must be >= 0, "
            f"got {v['max_candidates']!r}"
        )
    if v["min_step_gap"] < 0:
        raise SetupError(
            f"{source}: active.min_step_gap: must be >= 0, got {v['min_step_gap']!r}"
        )
    if v["max_atoms"] is not None and v["max_atoms"] < 1:
        raise SetupError(
            f"{source}: active.max_atoms: must be >= 1 or null, got {v['max_atoms']!r}"
        )
