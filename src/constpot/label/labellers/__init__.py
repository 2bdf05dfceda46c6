"""Reference labellers: energy, forces, stress and charges of one frame.

Every labeller has the same interface: construct it with its settings, call
:meth:`Labeller.label` on an :class:`ase.Atoms` and get a :class:`Label`. A
frame whose electronic structure cannot be converged raises
:class:`LabelError`, whose ``reason`` is a short string for ``failures.csv``;
the caller records it and moves on. :func:`make_labeller` builds a labeller
from a config dict (``{"kind": "xtb" | "gpaw" | "teacher" | "ase", ...}``), and
:meth:`Labeller.todict` gives that dict back, so ``make_labeller(l.todict())``
rebuilds ``l``.

Labellers
---------
``xtb`` (:class:`XTBLabeller`, the default)
    tblite GFN1-xTB (or GFN2-xTB) through ``tblite.ase.TBLite``. Periodic cells
    are computed at the Γ point only (tblite has no k-points). Charges are
    tblite's Mulliken charges. An SCF that does not converge is retried at
    raised electronic temperatures.
``gpaw`` (:class:`GPAWLabeller`)
    DFT with GPAW, the paper's level of theory: PBE + D3(BJ) (the ``dftd3``
    package), plane waves or LCAO, Fermi–Dirac smearing, Hirshfeld charges,
    and a k-point grid per frame from one density rule
    (:class:`~constpot.label.kpoints.KPointRule`: converged for metals, one
    k-point along vacuum, Γ for molecular frames), so metal frames of any
    cell are labelled consistently. GPAW is imported only when a frame is
    labelled.
``teacher`` (:class:`TeacherLabeller`)
    A universal machine-learned potential trained on PBE data whose weights
    ship in its wheel (SevenNet ``7net-0``) as a teacher: PBE-quality energies,
    forces and stress in a fraction of a second per frame; charges only from
    an optional ``charge_labeller``. It describes the metal (a positive Li(100)
    surface energy, lattice constants within 1.5 %), which GFN1-xTB does not;
    the demo uses it.
``ase`` (:class:`ASELabeller`)
    Any ASE calculator given by import path and keyword arguments, e.g.
    ``("ase.calculators.vasp.Vasp", {"encut": 500, ...})``; with
    ``kpt_spacing_inv_A`` it gets each frame's grid from the same rule.

A labeller whose ``kpoint_rule`` is not None samples the Brillouin zone by
the rule; it, and the local teacher, are ``cell_consistent``: the sampler
(:func:`constpot.label.sampling.sample_configurations`, argument
``labeller``) then cuts paper-size interfaces into frames of any
lateral cell. Γ-only labellers (xtb) need every metal frame on the anode's
lateral cell.

Conventions
-----------
Units are eV, Å, e. Stress is the ASE stress in Voigt order
``(xx, yy, zz, yz, xz, xy)``, eV/Å³, with ASE's sign,
:math:`\\sigma_{ab} = \\frac{1}{V}\\,\\partial E/\\partial \\varepsilon_{ab}`
(positive = tensile, the cell wants to shrink). It is returned only for cells
periodic in all three directions, else ``None``.

The total charge of a frame is the labeller's ``charge`` argument or, when that
is ``None``, ``round(sum(atoms.get_initial_charges()))``: the formal charges
that :mod:`constpot.build` writes on its structures.

Every labeller works on a copy of the frame with a fresh calculator, so a label
does not depend on which frames were labelled before it (no SCF guess is
carried over) and the input ``atoms`` is not modified.

Example
-------
>>> from ase.build import bulk
>>> from constpot.label.labellers import make_labeller
>>> labeller = make_labeller({"kind": "xtb", "method": "GFN1-xTB"})
>>> label = labeller.label(bulk("LiF", "rocksalt", a=4.03, cubic=True))
>>> label.settings["electronic_temperature_K"]
300.0
"""

from __future__ import annotations

import inspect

from .base import Label, LabelError, Labeller
from .generic import ASELabeller
from .gpaw import GPAWLabeller
from .teacher import TeacherLabeller
from .xtb import XTBLabeller

__all__ = [
    "ASELabeller",
    "GPAWLabeller",
    "Label",
    "LabelError",
    "Labeller",
    "TeacherLabeller",
    "XTBLabeller",
    "make_labeller",
]


_LABELLERS = {
    cls.name: cls for cls in (XTBLabeller, GPAWLabeller, TeacherLabeller, ASELabeller)
}


def make_labeller(config: dict) -> Labeller:
    """Build a labeller from a config dict.

    Parameters
    ----------
    config : dict
        ``{"kind": "xtb" | "gpaw" | "teacher" | "ase", **constructor_arguments}``, e.g.
        ``{"kind": "xtb", "method": "GFN2-xTB", "electronic_temperature_K": 500}``
        or ``{"kind": "ase", "calculator": "ase.calculators.vasp.Vasp",
        "parameters": {...}}``. The output of :meth:`Labeller.todict` is valid.

    Returns
    -------
    Labeller

    Raises
    ------
    ValueError
        If ``kind`` is missing or unknown, or a key is not an argument of that
        labeller (the message names the key).
    """
    if not isinstance(config, dict):
        raise TypeError(f"labeller config must be a dict, got {type(config).__name__}")
    config = dict(config)
    if "kind" not in config:
        raise ValueError(
            f"labeller config needs key 'kind' (one of {sorted(_LABELLERS)})"
        )
    kind = config.pop("kind")
    if kind not in _LABELLERS:
        raise ValueError(
            f"labeller config key 'kind' must be one of {sorted(_LABELLERS)}, "
            f"got {kind!r}"
        )
    cls = _LABELLERS[kind]
    allowed = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ValueError(
            f"labeller config for kind {kind!r} has unknown key(s) {unknown}; "
            f"allowed: {sorted(allowed)}"
        )
    return cls(**config)
