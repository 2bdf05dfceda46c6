"""Figures of the paper's evidence, drawn from the analysis CSV tables only.

One plotting function per figure; each takes tidy tables (pandas DataFrames,
concatenated over runs, with the run labels ``system, mode, potential,
replica, anode_potential_V``) and an output path ``out``, writes a PNG there
atomically and returns ``out`` as a Path.
A figure without data is still written, with a "no data" note, so the workflow
always has its outputs. :func:`draw_figures` reads the tables of many run
folders and draws the whole set (:data:`FIGURES`).

Modules, by paper claim: :mod:`.deposition` (claims 1–2: deposited Li vs
time, rate vs potential), :mod:`.surface` (claim 3: height-change maps with
events, roughness), :mod:`.clusters` (claim 3: reduced-Li aggregation in the
SEI), :mod:`.electrostatics` (claim 4: profiles along z, electrode charge vs
potential), :mod:`.accuracy` (claim 5: parity), :mod:`.diffusion` (claim 6:
Li MSD), :mod:`.draw` (:func:`draw_figures`); every one draws in the shared
look of :mod:`.style`.

Conventions, for a referee reading them side by side: time in ps, lengths in
Å, charges in e, potentials in V with the physical sign (the paper's
electronegativity shift is φ = −ψ); changes are from the first frame (t = 0)
of each run. Colours are colour-blind safe: one colour per anode potential
from viridis (most negative darkest), grey for constant charge, the
Okabe–Ito colours for systems and SEI phases (vermillion amorphous, blue
crystalline), a diverging ColorBrewer map (RdBu) for height changes.
Legends sit outside the axes; counts have integer ticks.

Example
-------
>>> runs = ["results/analysis/no_sei/constp_-6.0V_r0"]
>>> draw_figures(runs, "results/figures")                     # doctest: +SKIP
"""

from ..catalogue import FIGURES, load_tables
from .accuracy import plot_parity
from .clusters import plot_li_clusters
from .deposition import plot_deposition_vs_potential, plot_deposition_vs_time
from .diffusion import plot_li_msd
from .draw import draw_figures
from .electrostatics import plot_electrode_charge, plot_potential_profiles
from .style import CONSTQ_COLOUR, OKABE_ITO, PHASE_COLOURS, plot_style
from .surface import plot_height_maps, plot_surface_roughness

__all__ = [
    "CONSTQ_COLOUR",
    "FIGURES",
    "OKABE_ITO",
    "PHASE_COLOURS",
    "draw_figures",
    "load_tables",
    "plot_deposition_vs_potential",
    "plot_deposition_vs_time",
    "plot_electrode_charge",
    "plot_height_maps",
    "plot_li_clusters",
    "plot_li_msd",
    "plot_parity",
    "plot_potential_profiles",
    "plot_style",
    "plot_surface_roughness",
]
