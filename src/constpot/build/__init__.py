"""Interface construction: Li anode | SEI | carbonate electrolyte | Li counter.

Blocks (:mod:`.lithium`, :mod:`.crystal`, :mod:`.amorphous` with its
rigid-ion force field :mod:`.ionpair`, :mod:`.electrolyte`) are built in the Li
slab's lateral cell and stacked along z (:mod:`.stack`); :mod:`.recipe` turns a
config recipe into the whole cell and :mod:`.render` draws it. Lattices come
from :mod:`ase.build` and :mod:`ase.spacegroup`, rotations from
:mod:`scipy.spatial.transform`, the picture from
:func:`ase.visualize.plot.plot_atoms`.
"""

from .miniature import li_ion_at_anode
from .recipe import PRESETS, build_interface, resolve_recipe
from .render import render_side_view
from .stack import Block, min_distance_between, stack_blocks

__all__ = [
    "PRESETS",
    "Block",
    "build_interface",
    "li_ion_at_anode",
    "min_distance_between",
    "render_side_view",
    "resolve_recipe",
    "stack_blocks",
]
