"""Reference data: configuration sampling and labelling.

:mod:`.sampling` cuts and perturbs small periodic configurations from built
interfaces and bulk references, as the labeller needs them (the metal frames
of a Γ-only labeller share the anode's lateral cell; a labeller with a k-point
rule takes frames of any cell); :mod:`.labellers` labels them (tblite
GFN1/GFN2 xTB by default, GPAW PBE+D3(BJ) DFT, or any ASE calculator) with the
k-point grid of :mod:`.kpoints` per frame; :mod:`.dataset` runs the labelling
in resumable shards and merges them into one extxyz dataset.
"""

from .dataset import label_shard, merge_shards, read_failures, shard_indices
from .kpoints import KPointRule
from .labellers import (
    ASELabeller,
    GPAWLabeller,
    Label,
    LabelError,
    Labeller,
    XTBLabeller,
    make_labeller,
)
from .sampling import CATEGORIES, sample_configurations

__all__ = [
    "CATEGORIES",
    "ASELabeller",
    "GPAWLabeller",
    "KPointRule",
    "Label",
    "LabelError",
    "Labeller",
    "XTBLabeller",
    "label_shard",
    "make_labeller",
    "merge_shards",
    "read_failures",
    "sample_configurations",
    "shard_indices",
]
