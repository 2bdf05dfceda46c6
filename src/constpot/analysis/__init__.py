"""Science out of constpot's files: profiles, totals and figures.

Analyses read files (extended XYZ with per-atom ``charges`` and ``electrode``)
and write tidy CSV tables; figures are drawn from those tables.
"""

from .qeq_profile import (
    charge_profile,
    electrode_totals,
    plot_charge_profiles,
    read_charged_frame,
)

__all__ = [
    "charge_profile",
    "electrode_totals",
    "plot_charge_profiles",
    "read_charged_frame",
]
