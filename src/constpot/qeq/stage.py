"""The ``constpot qeq`` stage: equilibrate the charges of one structure file.

:func:`equilibrate_structure` reads a structure, labels its electrodes (the
paper's metallic-Li rule plus frozen atoms), solves constant-charge or
constant-potential QEq with :class:`ChargeSolver` and writes the charged
frame (extxyz with per-atom ``charges`` and ``electrode``) and, optionally,
a JSON summary. Progress and the per-part and per-element charge tables go
to ``log``, one line per call.

This is the one module of :mod:`constpot.qeq` that reads and writes files;
the package's ``__init__`` does not import it, so the charge engine itself
stays free of file I/O. The command line (:mod:`constpot.cli.qeq`) calls it.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from .. import __version__
from ..io import atomic_path, frozen_mask, read_structure
from ..keys import ANODE, COUNTER, ELECTRODE, ELECTRODE_NAMES, FROZEN
from ..provenance import versions
from .electrode import electrode_potentials, metallic_li
from .errors import QEqSetupError
from .geometry import rotate_normal_to_z
from .params import QEqParameters
from .solver import ChargeSolver

__all__ = ["charge_tables", "equilibrate_structure"]


def charge_tables(
    atoms: Atoms, charges: np.ndarray, labels: np.ndarray
) -> tuple[dict, dict]:
    """Charge totals per electrode part and statistics per element.

    Parameters
    ----------
    atoms : ase.Atoms
    charges : (n_atoms,) ndarray, e
    labels : (n_atoms,) int ndarray
        Electrode membership (0 none, 1 anode, 2 counter).

    Returns
    -------
    (dict, dict)
        ``{part: {"n_atoms", "total_e"}}`` for parts ``none``, ``anode``,
        ``counter``; ``{symbol: {"n_atoms", "mean_e", "std_e", "min_e",
        "max_e"}}`` in alphabetical order.
    """
    parts = {}
    for value, name in ELECTRODE_NAMES.items():
        sel = labels == value
        parts[name] = {"n_atoms": int(sel.sum()), "total_e": float(charges[sel].sum())}
    elements = {}
    for sym in sorted(set(atoms.get_chemical_symbols())):
        v = charges[atoms.symbols == sym]
        elements[sym] = {
            "n_atoms": int(v.size),
            "mean_e": float(v.mean()),
            "std_e": float(v.std()),
            "min_e": float(v.min()),
            "max_e": float(v.max()),
        }
    return parts, elements


def _table_lines(parts: dict, elements: dict) -> list[str]:
    lines = [f"{'part':<10}{'atoms':>8}{'total (e)':>14}"]
    for name, row in parts.items():
        lines.append(f"{name:<10}{row['n_atoms']:>8}{row['total_e']:>14.6f}")
    lines.append(
        f"{'element':<8}{'atoms':>7}{'mean':>10}{'std':>10}{'min':>10}{'max':>10}"
    )
    for sym, row in elements.items():
        lines.append(
            f"{sym:<8}{row['n_atoms']:>7}{row['mean_e']:>10.4f}"
            f"{row['std_e']:>10.4f}{row['min_e']:>10.4f}{row['max_e']:>10.4f}"
        )
    return lines


def equilibrate_structure(
    structure: str | Path,
    out: str | Path,
    *,
    summary: str | Path | None = None,
    slab: bool = False,
    normal: str = "z",
    electrodes: str = "paper",
    anode_potential_V: float | None = None,
    counter_potential_V: float | None = None,
    total_charge_e: float = 0.0,
    method: str = "cg",
    tol: float = 1e-8,
    accuracy: float = 1e-6,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> dict:
    """Equilibrate the charges of a structure file and write the charged frame.

    With ``anode_potential_V`` or ``counter_potential_V`` given, the
    electrodes are held at those potentials ψ (V; the paper's
    electronegativity shift is φ = −ψ); otherwise the total charge is fixed
    at ``total_charge_e``.

    Parameters
    ----------
    structure : path
        Any file ASE reads (POSCAR, extxyz, ...).
    out : path
        Output extxyz: per-atom ``charges``, ``electrode``, ``frozen``;
        energy, free energy (grand potential Ω) and forces; the QEq mode,
        potentials, iterations and electrode charges in ``atoms.info``.
    summary : path, optional
        JSON summary (totals per part and element, solver, Ewald settings,
        versions).
    slab : bool
        x, y periodic with normal z (Yeh–Berkowitz correction, cell as given).
    normal : {"x", "y", "z"}
        Surface normal of the input; rotated to z.
    electrodes : {"paper", "none"}
        ``paper``: ≥ 8 Li neighbours within 3.5 Å plus frozen (FixAtoms)
        atoms; ``none``: no electrodes (constant charge only).
    anode_potential_V, counter_potential_V : float, optional, V
    total_charge_e : float, e
    method : {"cg", "dense"}
    tol : float
        Relative KKT residual for CG.
    accuracy : float
        Ewald/PME target accuracy.
    device : {"cpu", "cuda", "auto"}
    log : callable
        Receives each progress line (header, electrode counts, solver
        warnings, timing, the charge tables, the written file).

    Returns
    -------
    dict
        The summary (also written to ``summary`` when given).

    Raises
    ------
    constpot.errors.StructureError
        The structure cannot be read.
    QEqSetupError
        Potentials without electrodes, or a geometry the solver rejects.
        Messages name the ``constpot qeq`` flags.
    """
    path = Path(structure)
    atoms = read_structure(path)
    frozen = frozen_mask(atoms)
    atoms = rotate_normal_to_z(atoms, normal)
    atoms.set_constraint()
    atoms.arrays[FROZEN] = frozen

    constant_potential = (
        anode_potential_V is not None or counter_potential_V is not None
    )
    if electrodes == "paper":
        labels = metallic_li(atoms, always=np.flatnonzero(frozen))
    else:
        labels = np.zeros(len(atoms), dtype=np.int64)
        if constant_potential:
            raise QEqSetupError(
                "--anode-potential/--counter-potential need electrodes; "
                "use --electrodes paper"
            )
    atoms.arrays[ELECTRODE] = labels
    psi = None
    if constant_potential:
        psi = electrode_potentials(
            labels, anode_potential_V or 0.0, counter_potential_V or 0.0
        )

    solver = ChargeSolver(
        QEqParameters.paper(),
        slab=slab,
        method=method,
        tol=tol,
        device=device,
        accuracy=accuracy,
    )
    mode = "constant potential" if constant_potential else "constant charge"
    log(
        f"constpot {__version__} qeq: {path} ({len(atoms)} atoms, {mode}, "
        f"{method}, slab={slab}, normal {normal} -> z)"
    )
    log(
        "electrode atoms: "
        f"anode {int((labels == ANODE).sum())}, "
        f"counter {int((labels == COUNTER).sum())}"
    )
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = solver.solve(atoms, potential=psi, total_charge=total_charge_e)
    for w in caught:
        log(f"warning: {w.message}")
    seconds = time.perf_counter() - start
    log(
        f"solved in {seconds:.2f} s: {res.iterations} CG iterations, relative "
        f"residual {res.residual:.2e}; E_QEq = {res.energy:.6f} eV, "
        f"Omega = {res.grand_energy:.6f} eV"
    )

    q = res.charges
    parts, elements = charge_tables(atoms, q, labels)
    for line in _table_lines(parts, elements):
        log(line)

    atoms.calc = SinglePointCalculator(
        atoms,
        energy=res.energy,
        free_energy=res.grand_energy,
        forces=res.forces,
        charges=q,
    )
    atoms.info.update(
        {
            "qeq_mode": "constp" if constant_potential else "constq",
            "anode_potential_V": float(anode_potential_V or 0.0),
            "counter_potential_V": float(counter_potential_V or 0.0),
            "cg_iterations": int(res.iterations),
            "qeq_residual": float(res.residual),
            "anode_charge_e": parts[ELECTRODE_NAMES[ANODE]]["total_e"],
            "counter_charge_e": parts[ELECTRODE_NAMES[COUNTER]]["total_e"],
        }
    )
    with atomic_path(out) as tmp:
        write(tmp, atoms, format="extxyz")
    record = {
        "structure": str(path),
        "n_atoms": len(atoms),
        "mode": atoms.info["qeq_mode"],
        "anode_potential_V": anode_potential_V,
        "counter_potential_V": counter_potential_V,
        "total_charge_e": float(q.sum()),
        "energy_eV": res.energy,
        "grand_energy_eV": res.grand_energy,
        "iterations": res.iterations,
        "residual": res.residual,
        "seconds": seconds,
        "parts": parts,
        "elements": elements,
        "solver": solver.todict(),
        "ewald": res.settings,
        "versions": versions("torch", "torch-pme", "ase"),
    }
    if summary:
        with atomic_path(summary) as tmp:
            tmp.write_text(json.dumps(record, indent=2) + "\n")
    log(f"wrote {out}")
    return record
