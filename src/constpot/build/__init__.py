"""Interface construction: Li anode | SEI | carbonate electrolyte | Li counter.

Blocks (:mod:`.lithium`, :mod:`.crystal`, :mod:`.amorphous`,
:mod:`.electrolyte`) are built in the Li slab's lateral cell and stacked along
z (:mod:`.stack`); :mod:`.recipe` turns a config recipe into the whole cell and
:mod:`.render` draws it.
"""

from .recipe import PRESETS, build_interface, resolve_recipe
from .render import render_side_view
from .stack import Block, min_distance_between, stack_blocks

__all__ = [
    "PRESETS",
    "Block",
    "build_interface",
    "min_distance_between",
    "render_side_view",
    "resolve_recipe",
    "stack_blocks",
]
