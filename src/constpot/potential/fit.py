"""Fit of the QEq electronegativities χ and hardnesses J to reference charges.

The paper's table (:data:`constpot.qeq.PAPER_TABLE`) is a starting point; the
charges it gives for the labelled frames can be far from the labeller's. This
fit adjusts χ_e and J_e per element (σ_e fixed) to minimise the charge error

.. math::

    L(\\chi, J) = \\frac{1}{N} \\sum_f \\sum_{i \\in f}
        \\left(q_i^*(\\chi, J) - q_i^\\mathrm{ref}\\right)^2
      + w \\sum_e \\left[(\\chi_e - \\chi_e^0)^2 + (J_e - J_e^0)^2\\right],

where :math:`q^*` solves the constant-charge QEq system of each frame (the
bordered system of docs/design.md §4):

.. math::

    \\begin{pmatrix} \\operatorname{diag}(J) + kG & C^\\mathsf T \\\\
    C & 0 \\end{pmatrix}
    \\begin{pmatrix} q \\\\ \\lambda \\end{pmatrix} =
    \\begin{pmatrix} -\\chi \\\\ d \\end{pmatrix},

with the charge solver's constraints :math:`Cq = d`
(:class:`constpot.qeq.ChargeConstraints`): the frame's total charge
(``info["total_charge"]``, default 0) and one row per molecule held at its
charge (the settings' ``molecule_charges``), solved by
:func:`constpot.qeq.kkt_solve`.

The Coulomb matrix kG depends on positions and σ only, so it is built once per
frame (:meth:`constpot.qeq.GaussianEwald.matrix`); the dense KKT solve is then
differentiated by torch autograd and minimised with L-BFGS. J_e = J_min +
softplus(u_e) keeps every hardness above ``J_min`` (> 0). A uniform shift of
all χ leaves the charges unchanged (it is absorbed by λ), so one χ is a gauge;
the weak regulariser w (default 1e-4 per eV²) pins it near the paper table and
keeps elements with little data near their table values.

Reference charges: whatever the labeller wrote. For the demo (GFN1-xTB via
tblite) they are **Mulliken** charges — basis-dependent population charges, not
observables, so a perfect fit is neither possible nor the goal; the fit only
makes the QEq charges (and so the long-range electrostatics the network does
not learn) closer to the reference method's charge distribution.

The fit uses only the training split; the report gives per-element charge
RMSE before and after on the training and held-out (val + test) frames.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from ase import Atoms

from ..io import atomic_path
from ..keys import CHARGES
from ..qeq import ChargeConstraints, GaussianEwald, QEqParameters, kkt_solve
from .settings import QEqSettings
from .targets import REF_CHARGES

__all__ = ["QEqFit", "charge_rmse", "fit_qeq", "write_fit_report"]

#: Smallest hardness the fit can reach, eV.
J_MIN_EV = 0.5


@dataclass
class QEqFit:
    """Result of :func:`fit_qeq`.

    Attributes
    ----------
    settings : QEqSettings
        The fitted table (``source="fit"``), σ and accuracy unchanged.
    initial : QEqSettings
        The starting table.
    rmse : list of dict
        One row per (split, element or "all"): ``split``, ``element``,
        ``n_atoms``, ``rmse_before_e``, ``rmse_after_e``.
    loss_before, loss_after : float
        Objective (e², regulariser included) at the start and the end.
    iterations : int
        L-BFGS function evaluations.
    seconds : float
    """

    settings: QEqSettings
    initial: QEqSettings
    rmse: list[dict] = field(default_factory=list)
    loss_before: float = math.nan
    loss_after: float = math.nan
    iterations: int = 0
    seconds: float = 0.0

    def todict(self) -> dict:
        return {
            "reference_charges": "labeller charges (GFN1-xTB: Mulliken)",
            "initial": self.initial.todict(),
            "fitted": self.settings.todict(),
            "loss_before": self.loss_before,
            "loss_after": self.loss_after,
            "iterations": self.iterations,
            "seconds": self.seconds,
            "rmse": self.rmse,
        }


class _Frame:
    """One frame's fixed data: element indices, kG, constraints, reference."""

    def __init__(self, atoms: Atoms, index: int, settings, elements):
        symbols = atoms.get_chemical_symbols()
        _, _, sigma = settings.params.per_atom(symbols)
        q_ref = _reference_charges(atoms, index)
        op = GaussianEwald(
            atoms.positions,
            atoms.cell.array,
            sigma,
            slab=False,
            accuracy=settings.accuracy,
            kspace="ewald",
        )
        self.kg = op.matrix().detach()
        self.types = torch.as_tensor([elements.index(s) for s in symbols])
        # the solver's constraints: the total charge, then one row per molecule
        # held at its charge (the QEq settings' molecule_charges)
        try:
            self.constraints = ChargeConstraints.from_atoms(
                atoms,
                total_charge=float(atoms.info.get("total_charge", 0.0)),
                groups=settings.groups(atoms),
            )
        except ValueError as err:
            raise ValueError(f"frame {index}: {err}") from None
        self.q_ref = torch.as_tensor(q_ref, dtype=torch.float64)
        self.symbols = np.asarray(symbols)

    def solve(self, chi: torch.Tensor, hardness: torch.Tensor) -> torch.Tensor:
        """Charges (n_atoms,) e at per-element χ and J (eV), differentiable."""
        a = self.kg + torch.diag(hardness[self.types])
        return kkt_solve(a, chi[self.types], self.constraints)[0]


def _reference_charges(atoms: Atoms, index: int) -> np.ndarray:
    for source in (
        atoms.arrays.get(REF_CHARGES),
        atoms.calc.results.get(CHARGES) if atoms.calc is not None else None,
        atoms.arrays.get(CHARGES),
    ):
        if source is not None:
            return np.asarray(source, dtype=float)
    raise ValueError(
        f"frame {index}: no reference charges (calculator 'charges' or array "
        "'charges'/'ref_charges')"
    )


def _softplus_inverse(y: float) -> float:
    return y + math.log(-math.expm1(-y)) if y < 30 else y


def fit_qeq(
    frames: Sequence[Atoms],
    settings: QEqSettings,
    train: Sequence[int],
    held_out: Sequence[int] = (),
    *,
    weight: float = 1e-4,
    max_iter: int = 200,
    log: Callable[[str], None] | None = None,
) -> QEqFit:
    """Fit χ and J per element to the frames' reference charges.

    Parameters
    ----------
    frames : sequence of ase.Atoms
        Labelled 3D-periodic frames with reference charges (calculator or
        array ``charges``, or ``ref_charges`` of a targets file) and
        ``info["total_charge"]`` (e, default 0).
    settings : QEqSettings
        Starting table and Ewald accuracy; σ is kept.
    train : sequence of int
        Frame indices the fit uses.
    held_out : sequence of int
        Frame indices only reported on (val + test).
    weight : float, 1/eV²
        Regulariser toward the starting table (fixes the χ gauge).
    max_iter : int
        L-BFGS iterations.
    log : callable, optional
        Progress lines.

    Returns
    -------
    QEqFit

    Raises
    ------
    ValueError
        No training frames, an index out of range, a frame without reference
        charges (the message names the frame), or a non-finite result.
    """
    n = len(frames)
    train, held_out = [int(i) for i in train], [int(i) for i in held_out]
    if not train:
        raise ValueError("fit_qeq: no training frames")
    for i in (*train, *held_out):
        if not 0 <= i < n:
            raise ValueError(f"fit_qeq: frame index {i} out of range (0..{n - 1})")
    if weight < 0:
        raise ValueError(f"fit_qeq: weight must be >= 0, got {weight}")
    start = time.perf_counter()
    params = settings.params
    present = sorted({s for i in (*train, *held_out) for s in frames[i].symbols})
    elements = list(dict.fromkeys([*params.elements, *present]))
    missing = [e for e in present if e not in params]
    if missing:
        raise ValueError(f"fit_qeq: no starting QEq parameters for {missing}")
    data = {i: _Frame(frames[i], i, settings, elements) for i in (*train, *held_out)}
    chi0 = torch.tensor([params[e][0] for e in elements], dtype=torch.float64)
    j0 = torch.tensor([params[e][1] for e in elements], dtype=torch.float64)
    if torch.any(j0 <= J_MIN_EV):
        raise ValueError(f"fit_qeq: starting hardness must exceed {J_MIN_EV} eV")
    chi = chi0.clone().requires_grad_(True)
    u = torch.tensor(
        [_softplus_inverse(float(j) - J_MIN_EV) for j in j0], dtype=torch.float64
    ).requires_grad_(True)
    n_train_atoms = sum(len(data[i].types) for i in train)

    def hardness():
        return J_MIN_EV + torch.nn.functional.softplus(u)

    def objective():
        j = hardness()
        sq = sum(((data[i].solve(chi, j) - data[i].q_ref) ** 2).sum() for i in train)
        reg = weight * (((chi - chi0) ** 2).sum() + ((j - j0) ** 2).sum())
        return sq / n_train_atoms + reg

    with torch.no_grad():
        loss_before = float(objective())
    before = _per_element_sq(data, chi.detach(), hardness().detach())
    opt = torch.optim.LBFGS(
        [chi, u],
        lr=1.0,
        max_iter=max_iter,
        tolerance_grad=1e-10,
        tolerance_change=1e-14,
        history_size=20,
        line_search_fn="strong_wolfe",
    )
    calls = 0

    def closure():
        nonlocal calls
        opt.zero_grad()
        loss = objective()
        loss.backward()
        calls += 1
        return loss

    opt.step(closure)
    with torch.no_grad():
        j_fit = hardness()
        loss_after = float(objective())
    if not (torch.all(torch.isfinite(chi)) and torch.all(torch.isfinite(j_fit))):
        raise ValueError("fit_qeq: the fit diverged (non-finite parameters)")
    after = _per_element_sq(data, chi.detach(), j_fit)
    table = {
        e: (float(chi[k].detach()), float(j_fit[k]), params[e][2])
        for k, e in enumerate(elements)
    }
    fitted = QEqSettings(
        params=QEqParameters(table),
        accuracy=settings.accuracy,
        source="fit",
        molecule_charges=settings.molecule_charges,
    )
    rmse = []
    for split, idx in (("train", train), ("held_out", held_out)):
        for el in ["all", *present]:
            sb, na = _collect(before, idx, el)
            sa, _ = _collect(after, idx, el)
            if na == 0:
                continue
            rmse.append(
                {
                    "split": split,
                    "element": el,
                    "n_atoms": na,
                    "rmse_before_e": math.sqrt(sb / na),
                    "rmse_after_e": math.sqrt(sa / na),
                }
            )
    result = QEqFit(
        settings=fitted,
        initial=settings,
        rmse=rmse,
        loss_before=loss_before,
        loss_after=loss_after,
        iterations=calls,
        seconds=time.perf_counter() - start,
    )
    if log is not None:
        log(
            f"QEq fit: {len(train)} train frames, {calls} evaluations, loss "
            f"{loss_before:.4e} -> {loss_after:.4e} in {result.seconds:.1f} s"
        )
        for row in rmse:
            log(
                f"  {row['split']:<9}{row['element']:<5}{row['n_atoms']:>7} atoms  "
                f"RMSE {row['rmse_before_e']:.4f} -> {row['rmse_after_e']:.4f} e"
            )
        for e in present:
            log(
                f"  {e:<3} chi {params[e][0]:8.4f} -> {table[e][0]:8.4f} eV, "
                f"J {params[e][1]:8.4f} -> {table[e][1]:8.4f} eV"
            )
    return result


def _per_element_sq(data, chi, hardness) -> dict[int, dict[str, tuple]]:
    """Per frame: element -> (sum of squared charge errors, atom count)."""
    out = {}
    with torch.no_grad():
        for i, fr in data.items():
            err = (fr.solve(chi, hardness) - fr.q_ref).numpy() ** 2
            out[i] = {
                el: (float(err[fr.symbols == el].sum()), int((fr.symbols == el).sum()))
                for el in set(fr.symbols.tolist())
            }
    return out


def _collect(table, indices, element) -> tuple[float, int]:
    sq, na = 0.0, 0
    for i in indices:
        for el, (s, c) in table[i].items():
            if element in ("all", el):
                sq += s
                na += c
    return sq, na


def charge_rmse(charges: np.ndarray, reference: np.ndarray) -> float:
    """RMSE between two charge arrays, e."""
    charges, reference = np.asarray(charges), np.asarray(reference)
    return float(np.sqrt(np.mean((charges - reference) ** 2)))


def write_fit_report(
    fit: QEqFit, json_path: str | os.PathLike, csv_path: str | os.PathLike
) -> None:
    """Write the fit summary (JSON) and the per-element RMSE table (CSV)."""
    import csv

    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(fit.todict(), indent=2) + "\n")
    with atomic_path(csv_path) as tmp, Path(tmp).open("w", newline="") as fh:
        writer = csv.DictWriter(
            fh,
            fieldnames=[
                "split",
                "element",
                "n_atoms",
                "rmse_before_e",
                "rmse_after_e",
                "chi_before_eV",
                "chi_after_eV",
                "J_before_eV",
                "J_after_eV",
            ],
        )
        writer.writeheader()
        for row in fit.rmse:
            el = row["element"]
            extra = {}
            if el != "all":
                b, a = fit.initial.params[el], fit.settings.params[el]
                extra = {
                    "chi_before_eV": b[0],
                    "chi_after_eV": a[0],
                    "J_before_eV": b[1],
                    "J_after_eV": a[1],
                }
            writer.writerow({**row, **extra})
