"""Reference data: configuration sampling and labelling.

:mod:`.sample` cuts and perturbs small periodic configurations from built
interfaces and bulk references; :mod:`.labellers` labels them (tblite GFN1/GFN2
xTB by default, GPAW DFT, or any ASE calculator); :mod:`.dataset` runs the
labelling in resumable shards and merges them into one extxyz dataset.
"""

from .dataset import label_shard, merge_shards, read_failures, shard_indices
from .labellers import (
    ASELabeller,
    GPAWLabeller,
    Label,
    LabelError,
    Labeller,
    XTBLabeller,
    make_labeller,
)
from .sample import CATEGORIES, sample_configurations

__all__ = [
    "CATEGORIES",
    "ASELabeller",
    "GPAWLabeller",
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
