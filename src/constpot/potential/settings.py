"""QEq settings shared by training targets and inference.

The short-range network learns E_ref − E_QEq, so it is only meaningful together
with the QEq model that was subtracted. :class:`QEqSettings` is that model: the
element table (χ, J, σ) and the Ewald accuracy. It is written as JSON next to
the targets and the trained models, and :class:`~constpot.potential.HybridCalculator`
refuses a model whose saved settings differ from the ones it is given.

Geometry (3D or slab), solver method, tolerance and device are not part of the
model: labelled frames are 3D periodic, interfaces are slabs, and both use the
same parameters.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..io import atomic_path
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
    """

    params: QEqParameters = field(default_factory=QEqParameters.paper)
    accuracy: float = 1e-6
    source: str = "paper"

    def __post_init__(self):
        if not isinstance(self.params, QEqParameters):
            raise TypeError("QEqSettings.params must be a QEqParameters")
        if not (0 < self.accuracy < 1):
            raise ValueError(
                f"QEqSettings.accuracy must be in (0, 1), got {self.accuracy}"
            )

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
        }

    @classmethod
    def fromdict(cls, data: dict, origin: str = "settings") -> QEqSettings:
        if not isinstance(data, dict) or "params" not in data:
            raise ValueError(f"{origin}: expected a mapping with key 'params'")
        return cls(
            params=QEqParameters(data["params"]),
            accuracy=float(data.get("accuracy", 1e-6)),
            source=str(data.get("source", origin)),
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
        return out

    def check_compatible(self, other: QEqSettings, what: str = "model") -> None:
        """Raise ValueError naming each mismatch between two settings."""
        diff = self.differences(other)
        if diff:
            raise ValueError(
                f"QEq settings differ from those the {what} was trained with: "
                + "; ".join(diff)
            )
