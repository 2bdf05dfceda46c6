"""Names of active learning: frame classes, ``atoms.info`` keys, report columns.

The info keys are written on every selected frame (``constpot
select-candidates``) and travel with it through labelling into the next data
set, so a labelled frame says which exploration it came from. The MD step of
the frame keeps the MD's own key, :data:`constpot.keys.STEP`; the category is
:data:`ACTIVE_CATEGORY` under :data:`constpot.keys.CATEGORY`.
"""

from ..keys import FORCE_DEVIATION

__all__ = [
    "ACCURATE",
    "ACTIVE_CATEGORY",
    "ACTIVE_INDEX_BASE",
    "CANDIDATE",
    "CARVE_ATOM",
    "CLASSES",
    "DEVIATION",
    "FAILED",
    "ITERATION",
    "RUN",
    "THERMO_DEVIATION",
    "active_sample_index",
]

#: Frame classes (DP-GEN's): σ < trust_lo; trust_lo ≤ σ < trust_hi; σ ≥ trust_hi.
ACCURATE = "accurate"
CANDIDATE = "candidate"
FAILED = "failed"
#: The classes in report order.
CLASSES = (ACCURATE, CANDIDATE, FAILED)

#: Column of ``thermo.csv`` holding the ensemble's model deviation (eV/Å):
#: max over atoms of the norm of the per-atom force standard deviation.
THERMO_DEVIATION = FORCE_DEVIATION

#: ``atoms.info[CATEGORY]`` of a selected frame.
ACTIVE_CATEGORY = "active"

# --- per-frame atoms.info keys of a selected frame --------------------------

#: int. Active-learning iteration whose exploration produced the frame.
ITERATION = "active_iteration"
#: str. Exploration run the frame comes from, ``"{system}/{condition}"``.
RUN = "active_run"
#: float, eV/Å. The frame's model deviation σ (from ``thermo.csv``).
DEVIATION = FORCE_DEVIATION
#: int. Index (in the MD frame) of the atom the carved window is centred on,
#: the one of largest per-atom force deviation; -1 when the frame is whole.
CARVE_ATOM = "active_carve_atom"

#: Sample indices of selected frames start at ACTIVE_INDEX_BASE × (k + 1) in
#: iteration k: unique across iterations and after every sampled frame (the
#: sampler numbers its frames 0, 1, ...), so merged data sets keep the
#: sampled frames first, in their order, and a frame's index names it.
ACTIVE_INDEX_BASE = 1_000_000


def active_sample_index(iteration: int, position: int) -> int:
    """``sample_index`` of the ``position``-th frame selected in ``iteration``."""
    return ACTIVE_INDEX_BASE * (int(iteration) + 1) + int(position)
