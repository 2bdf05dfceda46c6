"""Units and physical constants: the one place they are defined.

constpot works in eV, Å, fs, elementary charge e and volts (ASE conventions).
"""

import math

__all__ = [
    "AMU_PER_A3_IN_G_PER_CM3",
    "AVOGADRO_PER_MOL",
    "COULOMB_EV_A",
    "EPSILON0_E_PER_V_A",
    "EV_PER_A2_IN_J_PER_M2",
    "E_PER_V_A2_IN_UF_PER_CM2",
    "LITRE_IN_A3",
    "MIN_DISTANCE_A",
    "mass_density_g_cm3",
]

#: Coulomb constant k = 1/(4πε₀) in eV·Å/e² (CODATA 2018; equals torch-pme's
#: ``prefactors.eV_A``).
COULOMB_EV_A: float = 14.399645478425667

#: Vacuum permittivity ε₀ = 1/(4πk) in e/(V·Å).
EPSILON0_E_PER_V_A: float = 1.0 / (4.0 * math.pi * COULOMB_EV_A)

#: Atoms closer than this (Å) are treated as overlapping: bad input.
MIN_DISTANCE_A: float = 0.3

#: Avogadro constant, 1/mol (exact, SI 2019).
AVOGADRO_PER_MOL: float = 6.02214076e23

#: 1 amu/Å³ expressed in g/cm³ (1.66053906660e-24 g / 1e-24 cm³).
AMU_PER_A3_IN_G_PER_CM3: float = 1.66053906660

#: One litre in Å³.
LITRE_IN_A3: float = 1.0e27

#: 1 e/(V·Å²) in µF/cm², for a capacitance per area (electrode charge per
#: volt per Å² of electrode): e = 1.602176634e-19 C (exact, SI 2019) and
#: 1 Å² = 1e-16 cm², so 1 e/(V·Å²) = 1.602176634e-19 C / (1 V · 1e-16 cm²)
#: = 1.602176634e-3 F/cm² = 1.602176634e3 µF/cm².
E_PER_V_A2_IN_UF_PER_CM2: float = 1.602176634e3

#: 1 eV/Å² in J/m², for a surface energy: 1.602176634e-19 J / 1e-20 m²
#: (e exact, SI 2019).
EV_PER_A2_IN_J_PER_M2: float = 16.02176634


def mass_density_g_cm3(total_mass_amu: float, volume_A3: float) -> float:
    """Mass density in g/cm³ of ``total_mass_amu`` in ``volume_A3``."""
    return AMU_PER_A3_IN_G_PER_CM3 * total_mass_amu / volume_A3
