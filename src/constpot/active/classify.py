"""Frame classes from the ensemble's model deviation (DP-GEN's trust window).

.. math::

    \\sigma = \\max_i \\sqrt{\\langle \\lVert \\mathbf F_i^m
              - \\langle \\mathbf F_i \\rangle \\rVert^2 \\rangle_m}

over atoms *i* and ensemble members *m* (Zhang et al., Comput. Phys. Commun.
253, 107206 (2020), doi:10.1016/j.cpc.2020.107206, Eq. 1). A frame is
*accurate* when σ < trust_lo, a *candidate* when trust_lo ≤ σ < trust_hi, and
*failed* when σ ≥ trust_hi: the models disagree so much that the
configuration is probably unphysical and not worth labelling.
"""

from __future__ import annotations

import numpy as np

from .keys import ACCURATE, CANDIDATE, CLASSES, FAILED

__all__ = ["class_counts", "classify"]


def classify(deviation_eV_A, trust_lo_eV_A: float, trust_hi_eV_A: float) -> np.ndarray:
    """The class of each frame.

    Parameters
    ----------
    deviation_eV_A : (n_frames,) array_like, eV/Å
        Model deviation σ of each frame; finite.
    trust_lo_eV_A, trust_hi_eV_A : float, eV/Å
        The trust window, ``trust_lo_eV_A < trust_hi_eV_A``.

    Returns
    -------
    (n_frames,) ndarray of str
        :data:`~constpot.active.keys.ACCURATE`, ``CANDIDATE`` or ``FAILED``.
    """
    sigma = np.asarray(deviation_eV_A, dtype=float)
    out = np.full(sigma.shape, CANDIDATE, dtype=object)
    out[sigma < trust_lo_eV_A] = ACCURATE
    out[sigma >= trust_hi_eV_A] = FAILED
    return out


def class_counts(classes) -> dict[str, int]:
    """Frames per class, every class present (zero counts included)."""
    classes = np.asarray(classes, dtype=object)
    return {c: int(np.sum(classes == c)) for c in CLASSES}
