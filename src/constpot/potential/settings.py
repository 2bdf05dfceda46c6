"""QEq settings shared by training targets and inference.

The short-range network learns E_ref − E_QEq, so it is only meaningful together
with the QEq model that was subtracted. :class:`QEqSettings` is that model: the
element table (χ, J, σ), the Ewald accuracy and the molecules whose total
charge is held at its formal value. It is written as JSON next to the targets
and the trained models, and :class:`~constpot.potential.HybridCalculator`
refuses a model whose saved settings differ from the ones it is given.

Molecule charges. With only a total-charge constraint QEq moves charge between
distant molecules (its known long-range charge-transfer artefact: every EC of
a Li | EC contact takes −0.6 e, where GFN1-xTB's Mulliken charges give
+0.05 e). That energy, ~140 meV/atom in such frames, is not a function of any
atom's neighbourhood, so E_ref − E_QEq becomes unlearnable by a local model.
``molecule_charges`` (e.g. ``{"EC": 0, "DMC": 0, "PF6": -1}``) adds one
constraint per molecule of those names (atoms grouped by the per-atom arrays
``molecule`` and ``mol_id`` that :mod:`constpot.build` writes); every other
atom (metal, SEI, Li⁺) stays free, so Li⁺ can still be reduced at the anode.

Geometry (3D or slab), solver method, tolerance and device are not part of the
model: labelled frames are 3D periodic, interfaces are slabs, and both use the
same parameters.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms

from ..io import atomic_path
from ..keys import MOL_ID, MOLECULE
from ..qeq import ChargeSolver, QEqParameters

__all__ = ["QEqSettings"]

#: Relative tolerance when comparing two parameter tables (values pass through
#: JSON, so bit equality is expected; this only forgives round-off).
_RTOL = 1e-10


@dataclass(frozen=True)
class QEqSettings:
    """The QEq half of a hybrid model.

    Parameters
    ----------
    params : QEqParameters
        Element table (χ eV, J eV, σ Å).
    accuracy : float
        Ewald target accuracy (torch-pme error-bound units).
    source : str
        Where the table came from ("paper", "fit", a file name); provenance
        only, not compared.
    molecule_charges : mapping of str to float, e
        Molecule name -> total charge held fixed for every molecule of that
        name (see the module docstring); empty: one total-charge constraint.
    """

    params: QEqParameters = field(default_factory=QEqParameters.paper)
    accuracy: float = 1e-6
    source: str = "paper"
    molecule_charges: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.params, QEqParameters):
            raise TypeError("QEqSettings.params must be a QEqParameters")
        if not (0 < self.accuracy < 1):
            raise ValueError(
                f"QEqSettings.accuracy must be in (0, 1), got {self.accuracy}"
            )
        if not isinstance(self.molecule_charges, Mapping):
            raise TypeError(
                "QEqSettings.molecule_charges must be a mapping of molecule name "
                f"to charge (e), got {type(self.molecule_charges).__name__}"
            )
        clean = {}
        for name, charge in self.molecule_charges.items():
            try:
                clean[str(name)] = float(charge)
            except (TypeError, ValueError):
                raise ValueError(
                    f"molecule_charges[{name!r}]: charge must be a number (e), "
                    f"got {charge!r}"
                ) from None
        object.__setattr__(self, "molecule_charges", dict(sorted(clean.items())))

    # ------------------------------------------------------------------ groups
    def groups(self, atoms: Atoms) -> list[tuple[np.ndarray, float]] | None:
        """Charge groups of ``atoms``: ``(indices, total_e)`` per molecule.

        One group per ``mol_id`` whose ``molecule`` name is a key of
        :attr:`molecule_charges`; the format of ``ChargeSolver.solve(groups=)``.
        ``None`` when :attr:`molecule_charges` is empty or no atom matches.

        Raises
        ------
        ValueError
            ``molecule_charges`` is set but ``atoms`` lacks the ``molecule`` or
            ``mol_id`` array, or a molecule's atoms carry two names.
        """
        if not self.molecule_charges:
            return None
        missing = [k for k in (MOLECULE, MOL_ID) if k not in atoms.arrays]
        if missing:
            raise ValueError(
                "the QEq settings hold the charge of molecules "
                f"{', '.join(self.molecule_charges)} fixed, but the atoms have no "
                f"per-atom array(s) {', '.join(repr(k) for k in missing)} (structures "
                "from constpot.build carry them; set them, or use settings with "
                "molecule_charges = {})"
            )
        names = np.asarray(atoms.arrays[MOLECULE]).astype(str)
        mol_id = np.asarray(atoms.arrays[MOL_ID], dtype=np.int64)
        selected = np.isin(names, list(self.molecule_charges)) & (mol_id >= 0)
        if not selected.any():
            return None
        # every atom of a selected molecule must be selected, under one name
        stray = np.flatnonzero(np.isin(mol_id, mol_id[selected]) & ~selected)
        if stray.size:
            m = int(mol_id[stray[0]])
            raise ValueError(
                f"mol_id {m} (atom index {int(stray[0])}) mixes molecule names "
                f"{sorted(set(names[mol_id == m]))}"
            )
        atoms_sel = np.flatnonzero(selected)
        order = np.argsort(mol_id[atoms_sel], kind="stable")
        atoms_sel = atoms_sel[order]
        starts = np.flatnonzero(np.diff(mol_id[atoms_sel], prepend=-2))
        out = []
        for idx in np.split(atoms_sel, starts[1:]):
            kinds = sorted(set(names[idx]))
            if len(kinds) != 1:
                raise ValueError(
                    f"mol_id {int(mol_id[idx[0]])} (atom index {int(idx[0])}) "
                    f"mixes molecule names {kinds}"
                )
            out.append((idx, self.molecule_charges[names[idx[0]]]))
        return out or None

    # ------------------------------------------------------------------ solver
    def solver(
        self,
        *,
        slab: bool,
        method: str = "cg",
        tol: float = 1e-8,
        device: str = "cpu",
        **kwargs,
    ) -> ChargeSolver:
        """A :class:`ChargeSolver` with these parameters and accuracy."""
        return ChargeSolver(
            self.params,
            slab=slab,
            method=method,
            tol=tol,
            device=device,
            accuracy=self.accuracy,
            **kwargs,
        )

    # --------------------------------------------------------------------- I/O
    def todict(self) -> dict:
        return {
            "params": self.params.todict(),
            "accuracy": self.accuracy,
            "source": self.source,
            "molecule_charges": dict(self.molecule_charges),
        }

    @classmethod
    def fromdict(cls, data: dict, origin: str = "settings") -> QEqSettings:
        if not isinstance(data, dict) or "params" not in data:
            raise ValueError(f"{origin}: expected a mapping with key 'params'")
        return cls(
            params=QEqParameters(data["params"]),
            accuracy=float(data.get("accuracy", 1e-6)),
            source=str(data.get("source", origin)),
            molecule_charges=data.get("molecule_charges") or {},
        )

    def write(self, path: str | os.PathLike) -> Path:
        """Write JSON atomically; returns the path."""
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.todict(), indent=2) + "\n")
        return Path(path)

    @classmethod
    def read(cls, path: str | os.PathLike) -> QEqSettings:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"QEq settings file not found: {path}")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from None
        return cls.fromdict(data, origin=str(path))

    # ------------------------------------------------------------- comparison
    def differences(self, other: QEqSettings) -> list[str]:
        """Human-readable list of what differs (empty when compatible)."""
        out = []
        names = ("chi_eV", "J_eV", "sigma_A")
        for el in sorted(set(self.params.elements) | set(other.params.elements)):
            if el not in self.params or el not in other.params:
                out.append(f"element {el} present in only one table")
                continue
            for name, a, b in zip(
                names, self.params[el], other.params[el], strict=True
            ):
                if abs(a - b) > _RTOL * max(1.0, abs(a), abs(b)):
                    out.append(f"{el} {name}: {a} vs {b}")
        if abs(self.accuracy - other.accuracy) > _RTOL * self.accuracy:
            out.append(f"accuracy: {self.accuracy} vs {other.accuracy}")
        if self.molecule_charges != other.molecule_charges:
            out.append(
                f"molecule_charges: {self.molecule_charges or '{}'} vs "
                f"{other.molecule_charges or '{}'}"
            )
        return out

    def check_compatible(self, other: QEqSettings, what: str = "model") -> None:
        """Raise ValueError naming each mismatch between two settings."""
        diff = self.differences(other)
        if diff:
            raise ValueError(
                f"QEq settings differ from those the {what} was trained with: "
                + "; ".join(diff)
            )
