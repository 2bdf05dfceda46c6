"""constpot: machine-learning enhanced constant-potential simulations.

Hybrid potential = short-range machine-learned energy + charge equilibration
(QEq) electrostatics with electrodes held at fixed potentials, after Hu et al.,
Nat. Commun. 16, 7379 (2025), doi:10.1038/s41467-025-62824-5.

Subpackages follow the data flow: :mod:`constpot.units` and :mod:`constpot.keys`
(facts), :mod:`constpot.qeq` (electrostatics and charges), then later stages.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
