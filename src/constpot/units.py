"""Units and physical constants: the one place they are defined.

constpot works in eV, Å, fs, elementary charge e and volts (ASE conventions).
"""

import math

__all__ = [
    "COULOMB_EV_A",
    "EPSILON0_E_PER_V_A",
    "MIN_DISTANCE_A",
]

#: Coulomb constant k = 1/(4πε₀) in eV·Å/e² (CODATA 2018; equals torch-pme's
#: ``prefactors.eV_A``).
COULOMB_EV_A: float = 14.399645478425667

#: Vacuum permittivity ε₀ = 1/(4πk) in e/(V·Å).
EPSILON0_E_PER_V_A: float = 1.0 / (4.0 * math.pi * COULOMB_EV_A)

#: Atoms closer than this (Å) are treated as overlapping: bad input.
MIN_DISTANCE_A: float = 0.3
