"""Per-element charge-equilibration parameters.

Each element carries an electronegativity χ (eV), a hardness J (eV) and a
Gaussian charge width σ (Å; the standard deviation of the charge density,
σ = 0 meaning a point charge). The QEq energy they define is

.. math::

    E = \\sum_i \\left(\\chi_i q_i + \\tfrac12 J_i q_i^2\\right)
        + k\\left[\\tfrac12 \\sum_{i \\neq j} q_i q_j
          \\frac{\\operatorname{erf}(r_{ij}/\\gamma_{ij})}{r_{ij}}
        + \\sum_i \\frac{q_i^2}{2\\sqrt{\\pi}\\,\\sigma_i}\\right],
    \\qquad \\gamma_{ij} = \\sqrt{2(\\sigma_i^2 + \\sigma_j^2)}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from ase.data import atomic_numbers

from .errors import QEqSetupError

__all__ = ["PAPER_TABLE", "QEqParameters"]

#: Hu et al., Nat. Commun. 16, 7379 (2025), parameter table (σ = covalent
#: radius): element -> (χ eV, J eV, σ Å).
PAPER_TABLE: dict[str, tuple[float, float, float]] = {
    "Li": (-3.0000, 10.0241, 1.28),
    "C": (5.8678, 7.0000, 0.76),
    "H": (5.3200, 7.4366, 0.31),
    "O": (8.5000, 8.9989, 0.66),
    "P": (1.8000, 7.0946, 1.07),
    "F": (9.0000, 8.0000, 0.57),
}


class QEqParameters:
    """Element table of (χ, J, σ).

    Parameters
    ----------
    table : mapping of str to (float, float, float)
        Element symbol -> (electronegativity χ in eV, hardness J in eV,
        Gaussian width σ in Å). σ = 0 gives point charges.

    Raises
    ------
    QEqSetupError
        An unknown element symbol, a negative width or hardness, or a non-finite
        value.

    Examples
    --------
    >>> params = QEqParameters.paper()
    >>> params["Li"]
    (-3.0, 10.0241, 1.28)
    """

    def __init__(self, table: Mapping[str, Sequence[float]]):
        clean: dict[str, tuple[float, float, float]] = {}
        for symbol, values in table.items():
            if symbol not in atomic_numbers:
                raise QEqSetupError(f"QEqParameters: unknown element {symbol!r}")
            if len(values) != 3:
                raise QEqSetupError(
                    f"QEqParameters[{symbol!r}]: expected (chi_eV, J_eV, sigma_A), "
                    f"got {values!r}"
                )
            chi, hardness, sigma = (float(v) for v in values)
            if not np.all(np.isfinite([chi, hardness, sigma])):
                raise QEqSetupError(f"QEqParameters[{symbol!r}]: non-finite {values}")
            if hardness < 0 or sigma < 0:
                raise QEqSetupError(
                    f"QEqParameters[{symbol!r}]: hardness J and width sigma must be "
                    f">= 0, got J={hardness}, sigma={sigma}"
                )
            clean[symbol] = (chi, hardness, sigma)
        self._table = clean

    @classmethod
    def paper(cls) -> QEqParameters:
        """The table of Hu et al. (2025), docs/design.md §4."""
        return cls(PAPER_TABLE)

    def __getitem__(self, symbol: str) -> tuple[float, float, float]:
        return self._table[symbol]

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._table

    def __repr__(self) -> str:
        return f"QEqParameters({self._table!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QEqParameters) and self._table == other._table

    @property
    def elements(self) -> list[str]:
        """Element symbols in the table."""
        return list(self._table)

    def todict(self) -> dict[str, list[float]]:
        """Plain dictionary (JSON/YAML friendly) that round-trips the table."""
        return {s: list(v) for s, v in self._table.items()}

    def per_atom(
        self, symbols: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Expand the table to per-atom arrays.

        Parameters
        ----------
        symbols : sequence of str, length n_atoms

        Returns
        -------
        chi : (n_atoms,) ndarray, eV
        hardness : (n_atoms,) ndarray, eV
        sigma : (n_atoms,) ndarray, Å

        Raises
        ------
        QEqSetupError
            When an element has no parameters; the message names the element
            and the first atom index that carries it.
        """
        values = np.empty((len(symbols), 3))
        for i, s in enumerate(symbols):
            try:
                values[i] = self._table[s]
            except KeyError:
                raise QEqSetupError(
                    f"no QEq parameters for element {s!r} (atom index {i}); "
                    f"known elements: {', '.join(self._table)}"
                ) from None
        return values[:, 0].copy(), values[:, 1].copy(), values[:, 2].copy()
