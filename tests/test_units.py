"""Unit constants of constpot.units against CODATA (scipy.constants)."""

import pytest
from scipy import constants

from constpot import units


def test_capacitance_per_area_conversion():
    """1 e/(V·Å²) = e/Å² in F/m², ÷ 1e4 to F/cm², × 1e6 to µF/cm².

    rel 1e-15: e is exact since SI 2019; the only error is float round-off.
    """
    uf_per_cm2 = constants.e / constants.angstrom**2 / 1e4 * 1e6
    assert units.E_PER_V_A2_IN_UF_PER_CM2 == pytest.approx(uf_per_cm2, rel=1e-15)


def test_vacuum_capacitor_of_one_angstrom():
    """A parallel-plate vacuum capacitor of gap d = 1 Å holds ε₀/d per area:
    in the package's units ε₀ [e/(V·Å)] / 1 Å, converted, equals the SI
    ε₀ / 1e-10 m in µF/cm² (about 8.854).

    rel 2e-9: the package's k is CODATA 2018, scipy's ε₀ may be CODATA 2022
    (they differ by 7e-10 relative).
    """
    gap_A = 1.0
    package = units.EPSILON0_E_PER_V_A / gap_A * units.E_PER_V_A2_IN_UF_PER_CM2
    si = constants.epsilon_0 / (gap_A * constants.angstrom) * 1e6 / 1e4
    assert package == pytest.approx(si, rel=2e-9)
