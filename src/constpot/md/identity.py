"""What a run is: its models, starting structure and physics, as hashes.

A run continued from a checkpoint must be the run that wrote it. Every
checkpoint records the :class:`RunIdentity` of its run, and a resume compares
it with the identity of the run being started (:meth:`RunIdentity.mismatch`):

``models``
    SHA-256 of each short-range model file, in order (the ensemble's members).
    Paths do not count: a moved file with the same bytes is the same model.
``structure``
    SHA-256 of the starting structure: atomic numbers, positions, cell,
    periodicity, every per-atom array (``frozen``, ``region``, ``electrode``,
    momenta, ...) and the scalar ``info`` entries (wall planes, ...), as given
    to the driver. Not the file: the same atoms read from another copy match.
``physics``
    SHA-256 of the :meth:`MDSettings.physics <constpot.md.MDSettings.physics>`
    (every setting but the run length, output cadence and guard limits) and of
    the calculator's parameters (:meth:`HybridCalculator.todict
    <constpot.potential.HybridCalculator.todict>`: QEq parameters, solver and
    tolerance, metallic rule, the short-range calculators' own parameters),
    less what does not change the physics (the device, the QEq settings'
    ``source`` label) and what the settings set (potentials, total charge,
    the step's electrode mode).

The readable settings and calculator parameters are stored beside the hashes,
so that a refusal names what changed.

Example
-------
>>> ident = RunIdentity.of(atoms, settings, calc, ["m.nequip.zip"])  # doctest: +SKIP
>>> ident.mismatch(saved)   # None, or "models differ: ..."          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from .settings import MDSettings

__all__ = ["RunIdentity", "file_sha256", "structure_sha256"]

#: Bytes read at a time when hashing a file.
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RunIdentity:
    """Models, starting structure and physics of a run.

    Attributes
    ----------
    models : tuple of (str, str)
        (file name as given, SHA-256 hex) of each model file, in order; empty
        for a calculator built in memory.
    structure : str
        SHA-256 hex of the starting structure (:func:`structure_sha256`).
    physics : str
        SHA-256 hex of ``{"settings": ..., "calculator": ...}``.
    settings, calculator : dict
        The hashed settings and calculator parameters (JSON-ready), for
        messages.
    """

    models: tuple[tuple[str, str], ...]
    structure: str
    physics: str
    settings: dict = field(default_factory=dict)
    calculator: dict = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        atoms: Atoms,
        settings: MDSettings,
        calc,
        models: Sequence[str | os.PathLike] = (),
    ) -> RunIdentity:
        """The identity of a run of ``atoms`` with ``calc`` and ``settings``.

        Parameters
        ----------
        atoms : ase.Atoms
            The starting structure, as given to the driver.
        settings : MDSettings
        calc : HybridCalculator
            Configured with the run's potentials and total charge.
        models : sequence of path-like
            The model files behind ``calc``'s short range.

        Raises
        ------
        FileNotFoundError
            A model file is missing.
        """
        hashed = []
        for path in models:
            path = Path(path)
            if not path.is_file():
                raise FileNotFoundError(f"model file not found: {path}")
            hashed.append((str(path), file_sha256(path)))
        physics = {
            "settings": _plain(settings.physics()),
            "calculator": calculator_physics(calc),
        }
        return cls(
            models=tuple(hashed),
            structure=structure_sha256(atoms),
            physics=_sha256_json(physics),
            settings=physics["settings"],
            calculator=physics["calculator"],
        )

    def todict(self) -> dict:
        return {
            "models": [list(m) for m in self.models],
            "structure": self.structure,
            "physics": self.physics,
            "settings": self.settings,
            "calculator": self.calculator,
        }

    @classmethod
    def fromdict(cls, data: dict) -> RunIdentity:
        return cls(
            models=tuple((str(name), str(sha)) for name, sha in data["models"]),
            structure=str(data["structure"]),
            physics=str(data["physics"]),
            settings=dict(data.get("settings", {})),
            calculator=dict(data.get("calculator", {})),
        )

    def mismatch(self, saved: RunIdentity) -> str | None:
        """What differs from ``saved`` (the checkpoint's), or None.

        Returns
        -------
        str or None
            One clause per difference: the models (names and hash prefixes),
            the structure (hash prefixes), each changed setting and calculator
            parameter (old -> new).
        """
        problems = []
        if [sha for _, sha in self.models] != [sha for _, sha in saved.models]:
            problems.append(
                f"models differ: {_describe(saved.models)} -> {_describe(self.models)}"
            )
        if self.structure != saved.structure:
            problems.append(
                "the starting structure differs (sha256 "
                f"{saved.structure[:12]} -> {self.structure[:12]})"
            )
        if self.physics != saved.physics:
            changed = _differences(saved.settings, self.settings, "")
            changed += _differences(saved.calculator, self.calculator, "calculator ")
            problems.append(
                "physics differ: "
                + ("; ".join(changed) if changed else "(hash differs)")
            )
        return "; ".join(problems) or None


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def structure_sha256(atoms: Atoms) -> str:
    """SHA-256 hex of a structure: numbers, positions, cell, pbc, arrays, info.

    Per-atom arrays enter with their name, dtype, shape and bytes; ``info``
    entries only when scalar (numbers, strings). A calculator attached to
    ``atoms`` and its results do not count.
    """
    digest = hashlib.sha256()
    arrays = {
        "cell": np.asarray(atoms.cell[:], dtype=float),
        "pbc": np.asarray(atoms.pbc, dtype=bool),
        **{f"arrays.{k}": np.asarray(v) for k, v in atoms.arrays.items()},
    }
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        if value.dtype == object:
            value = np.asarray([repr(v) for v in value.ravel()])
        digest.update(f"{name}|{value.dtype.str}|{value.shape}|".encode())
        digest.update(value.tobytes())
    info = {
        str(k): v
        for k, v in atoms.info.items()
        if isinstance(v, (str, int, float, bool, np.integer, np.floating, np.bool_))
    }
    digest.update(json.dumps(_plain(info), sort_keys=True).encode())
    return digest.hexdigest()


def calculator_physics(calc) -> dict:
    """The calculator's parameters that change the physics (JSON-ready).

    :meth:`HybridCalculator.todict` less the device, the QEq ``source`` label
    and what the MD settings set (potentials, total charge, the step's
    electrode mode, the charge predictor), with each short-range calculator
    as its class name and its own ``todict()`` (ASE parameters; a NequIP
    calculator has none: the model file's hash stands for it).
    """
    out = _plain(calc.todict())
    for key in (
        "electrodes",
        "anode_potential_V",
        "counter_potential_V",
        "total_charge",
        "charge_predictor",
    ):
        out.pop(key, None)
    if isinstance(out.get("solver"), dict):
        out["solver"].pop("device", None)
    if isinstance(out.get("qeq"), dict):
        out["qeq"].pop("source", None)
    out["short_range"] = [
        {
            "class": type(m).__name__,
            "parameters": _plain(m.todict()) if hasattr(m, "todict") else {},
        }
        for m in getattr(calc, "short_range", [])
    ]
    return out


def _plain(value):
    """``value`` as JSON-ready data, deterministically (never an address)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if hasattr(value, "todict"):
        return _plain(value.todict())
    return f"<{type(value).__name__}>"


def _sha256_json(data) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _describe(models) -> str:
    if not models:
        return "none"
    return "[" + ", ".join(f"{Path(n).name} {sha[:12]}" for n, sha in models) + "]"


def _differences(old: dict, new: dict, prefix: str) -> list[str]:
    """``"key old -> new"`` for each leaf that differs (nested keys dotted,
    list items by index)."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key, "(absent)"), new.get(key, "(absent)")
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            a, b = dict(enumerate(a)), dict(enumerate(b))
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif _sha256_json(a) != _sha256_json(b):
            out.append(f"{prefix}{key} {a!r} -> {b!r}")
    return out
