"""Labels from a universal machine-learned potential (:class:`TeacherLabeller`).

A universal potential trained on PBE data whose weights ship inside its PyPI
wheel (SevenNet: ``7net-0``, ``7net-l3i5``, ``7net-mf-0``) labels frames as a
*teacher*: energies, forces and stress at PBE quality for a fraction of a
second per frame, so the demo can train on labels that describe the metal.
The measurements that chose it (``benchmarks/labeller_candidates.py``,
docs/labels.md) compare it with GFN1-xTB and with PBE from GPAW:

=================  ======  =======  =======  ==================
method             a(Li)   a(LiF)   a(Li₂O)  γ Li(100), J/m²
=================  ======  =======  =======  ==================
PBE (GPAW)         3.437   —        —        0.466
SevenNet-0         3.428   4.088    4.659    0.324
PBE+D3(BJ) (GPAW)  3.327   —        —        0.639
SevenNet-0+D3(BJ)  3.328   4.006    4.552    0.475
GFN1-xTB           none    4.273    5.176    −0.72 (at 3.33 Å)
experiment         3.451   4.03     4.61     ≈ 0.5
=================  ======  =======  =======  ==================

(γ: relaxed 7-layer slabs; GFN1-xTB's bcc Li has no minimum near the metal's
density, so its γ is unrelaxed.) The teacher's surface energy is 26–30 %
below DFT's, the softening universal potentials are known for, but positive:
the metal holds together, which GFN1-xTB's negative γ does not allow.

A teacher has no electrons, so no charges of its own: the QEq part of the
hybrid model uses the paper's parameter table, which needs none. With
``charge_labeller`` a second labeller (e.g. ``{"kind": "xtb"}``) supplies the
charges (for the charge parity and the χ/J fit) at that labeller's cost; its
energy and forces are discarded.

The potential is local (a cutoff of 5 Å), so a frame of any lateral cell is
labelled consistently: the sampler may cut metal frames of any cell, as with a
k-point rule (:attr:`TeacherLabeller.cell_consistent`).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from .base import (
    Label,
    LabelError,
    Labeller,
    _check_dispersion,
    _d3,
    _stress_or_none,
)

__all__ = ["TEACHER_MODELS", "TeacherLabeller"]

#: Pretrained SevenNet models that ship inside the ``sevenn`` wheel, with the
#: modalities a multi-fidelity model accepts (None: a single-fidelity model).
TEACHER_MODELS = {
    "7net-0": (None,),
    "7net-l3i5": (None,),
    "7net-mf-0": ("PBE", "R2SCAN"),
}


class TeacherLabeller(Labeller):
    """Energies, forces and stress from a pretrained SevenNet model.

    Parameters
    ----------
    model : str
        A key of :data:`TEACHER_MODELS`; ``7net-0`` (trained on the PBE
        Materials Project trajectories) is the default.
    modal : str or None
        Fidelity of a multi-fidelity model (``PBE`` or ``R2SCAN`` for
        ``7net-mf-0``); None for the others.
    dispersion : {"d3bj", "d3zero", "d3bjm", "d3zerom", "d3op"} or None
        Grimme D3 dispersion (the ``dftd3`` package, PBE parameters, with
        the three-body term) added to the teacher's energy, forces and
        stress: ``d3bj`` makes the teacher PBE+D3(BJ), the paper's level of
        theory. None: the teacher alone (PBE).
    charge_labeller : dict or None
        Config of a labeller (:func:`~constpot.label.labellers.make_labeller`)
        whose charges are attached to each label; None: no charges.
    device : str
        Torch device of the teacher (``cpu`` or ``cuda``).

    Notes
    -----
    The model is loaded once per labeller (on the first frame). Its
    evaluation is deterministic on the CPU. A frame with a non-finite
    energy or force raises :class:`LabelError` (reason ``"teacher_nonfinite"``).
    """

    name = "teacher"
    cell_consistent = True

    def __init__(
        self,
        model: str = "7net-0",
        modal: str | None = None,
        dispersion: str | None = None,
        charge_labeller: dict | None = None,
        device: str = "cpu",
    ):
        if model not in TEACHER_MODELS:
            raise ValueError(
                f"model must be one of {sorted(TEACHER_MODELS)}, got {model!r}"
            )
        if modal not in TEACHER_MODELS[model]:
            raise ValueError(
                f"modal of {model} must be one of {list(TEACHER_MODELS[model])}, "
                f"got {modal!r}"
            )
        _check_dispersion(dispersion)
        if device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
        self._charges = None
        if charge_labeller is not None:
            # The registry imports this module: build the charge labeller
            # through it lazily to avoid an import cycle.
            from . import make_labeller

            self._charges = make_labeller(dict(charge_labeller))
        self.model = model
        self.modal = modal
        self.dispersion = dispersion
        self.device = device
        self._calculator = None
        self._kwargs = {
            "model": model,
            "modal": modal,
            "dispersion": dispersion,
            "charge_labeller": None
            if self._charges is None
            else self._charges.todict(),
            "device": device,
        }

    @property
    def method(self) -> str:
        """The level of theory, e.g. ``7net-0+D3(BJ)``."""
        name = self.model if self.modal is None else f"{self.model}/{self.modal}"
        if self.dispersion is None:
            return name
        return f"{name}+D3({self.dispersion[2:].upper()})"

    def calculator(self):
        """The teacher as an ASE calculator (plus D3 when configured).

        For relaxations and MD at the teacher's level of theory (tests,
        ``benchmarks/labeller_candidates.py``); :meth:`label` gives the same
        energy, forces and stress.
        """
        if self.dispersion is None:
            return self._calc()
        # dftd3 is imported only when the teacher is used with dispersion.
        from ase.calculators.mixing import SumCalculator
        from dftd3.ase import DFTD3

        return SumCalculator(
            [self._calc(), DFTD3(method="PBE", damping=self.dispersion)]
        )

    def _calc(self):
        if self._calculator is None:
            # sevenn loads torch_geometric and e3nn: only when a frame is labelled.
            import torch
            from sevenn.calculator import SevenNetCalculator

            # SevenNet's float32 weights fail to load ("Float did not match
            # Double") under a float64 default dtype, which loading a NequIP
            # model sets for the whole process; inference works under either.
            default = torch.get_default_dtype()
            torch.set_default_dtype(torch.float32)
            try:
                self._calculator = SevenNetCalculator(
                    self.model, device=self.device, modal=self.modal
                )
            finally:
                torch.set_default_dtype(default)
        return self._calculator

    def label(self, atoms: Atoms) -> Label:
        """Label one frame; see :meth:`Labeller.label`."""
        import sevenn

        work = atoms.copy()
        calc = self._calc()
        calc.reset()
        work.calc = calc
        energy = float(work.get_potential_energy())
        forces = np.array(work.get_forces(), dtype=float)
        stress = _stress_or_none(work, calc)
        if not (np.isfinite(energy) and np.isfinite(forces).all()):
            raise LabelError(
                f"{self.model} gave a non-finite energy or force",
                reason="teacher_nonfinite",
            )
        code = f"sevenn {getattr(sevenn, '__version__', 'unknown')}"
        dispersion_eV = None
        if self.dispersion is not None:
            d3 = _d3(atoms, "PBE", self.dispersion)
            energy += d3.energy
            forces = forces + d3.forces
            if stress is not None:
                stress = stress + d3.stress
            dispersion_eV = d3.energy
            code += f", dftd3 {d3.settings['code']}"
        charges, charges_model, charge_settings = None, None, None
        if self._charges is not None:
            charge_label = self._charges.label(atoms)
            charges = charge_label.charges
            charges_model = charge_label.settings.get("charges_model")
            charge_settings = charge_label.settings
        settings = {
            "labeller": self.name,
            **self._kwargs,
            "method": self.method,
            "charges_model": charges_model,
            "dispersion_energy_eV": dispersion_eV,
            "code": code,
        }
        if charge_settings is not None:
            settings["charges_from"] = charge_settings
        return Label(energy, forces, stress, charges, settings)
