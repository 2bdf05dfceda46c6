"""Molecule templates of the carbonate electrolyte: EC, DMC, PF₆⁻ and Li⁺.

The templates are GFN2-xTB minima shipped as package data
(``constpot/build/data/molecules/<name>.xyz``, extended XYZ); how they were made
is recorded in ``data/molecules/README.md`` and :func:`relax_templates` remakes
them. Each template is one rigid molecule: :mod:`.electrolyte` packs copies of
it with packmol, which moves molecules rigidly.

Names (the keys of :data:`MOLECULES`, also the per-atom ``molecule`` label of a
packed box):

=======  ====================  ================  =======================
name     molecule              formal charge     per-atom formal charges
=======  ====================  ================  =======================
``EC``   ethylene carbonate    0                 all 0
``DMC``  dimethyl carbonate    0                 all 0
``PF6``  hexafluorophosphate   −1                P +5, F −1
``Li``   lithium cation        +1                Li +1
=======  ====================  ================  =======================

Per-atom formal charges follow the template's atom order (P first in PF₆⁻).
They are bookkeeping labels (oxidation states), not QEq charges.

Examples
--------
>>> from constpot.build.molecules import load_molecule, molar_mass
>>> ec = load_molecule("EC")
>>> ec.get_chemical_formula()
'C3H4O3'
>>> round(molar_mass("EC"), 2)
88.06
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read, write
from ase.optimize import BFGS

from ..io import atomic_path

__all__ = [
    "MOLECULES",
    "MoleculeInfo",
    "load_molecule",
    "molar_mass",
    "relax_templates",
    "vdw_volume_A3",
]


@dataclass(frozen=True)
class MoleculeInfo:
    """What constpot needs to know about one template.

    Attributes
    ----------
    formula : str
        Hill formula of the template (``ase.Atoms.get_chemical_formula()``).
    charge : int
        Formal charge of the molecule, e.
    atomic_charges : tuple of float
        Formal charge of each atom in template order, e; sums to ``charge``.
    description : str
        Human-readable name.
    """

    formula: str
    charge: int
    atomic_charges: tuple[float, ...]
    description: str


#: The templates: name → formula, formal charge and per-atom formal charges.
MOLECULES: dict[str, MoleculeInfo] = {
    "EC": MoleculeInfo("C3H4O3", 0, (0.0,) * 10, "ethylene carbonate"),
    "DMC": MoleculeInfo("C3H6O3", 0, (0.0,) * 12, "dimethyl carbonate"),
    "PF6": MoleculeInfo(
        "F6P", -1, (5.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0), "hexafluorophosphate"
    ),
    "Li": MoleculeInfo("Li", 1, (1.0,), "lithium cation"),
}

# Bondi (1964) van der Waals radii, Å (J. Phys. Chem. 68, 441); the bare Li⁺
# cation uses its Shannon ionic radius (CN 6, 0.76 Å; Acta Cryst. A32, 751).
_BONDI_RADIUS_A = {"H": 1.20, "C": 1.70, "O": 1.52, "F": 1.47, "P": 1.80}
_LI_ION_RADIUS_A = 0.76

_DATA = ("build", "data", "molecules")


def _check_name(name: str) -> None:
    if name not in MOLECULES:
        raise ValueError(f"unknown molecule {name!r}; known: {', '.join(MOLECULES)}")


@functools.cache
def _template(name: str) -> Atoms:
    ref = resources.files("constpot").joinpath(*_DATA, f"{name}.xyz")
    with resources.as_file(ref) as path:
        atoms = read(path, format="extxyz")
    info = MOLECULES[name]
    if atoms.get_chemical_formula() != info.formula:
        raise RuntimeError(
            f"template {name}.xyz holds {atoms.get_chemical_formula()}, "
            f"expected {info.formula}"
        )
    return atoms


def load_molecule(name: str) -> Atoms:
    """The relaxed template of molecule ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`MOLECULES` ("EC", "DMC", "PF6", "Li").

    Returns
    -------
    ase.Atoms
        A fresh copy: no cell, ``pbc`` False, positions in Å (centred near the
        origin), ``initial_charges`` = per-atom formal charges, info
        ``name``, ``charge`` (formal, e) and ``xtb_energy_eV`` (GFN2-xTB total
        energy of the relaxed template).

    Raises
    ------
    ValueError
        Unknown name.
    """
    _check_name(name)
    atoms = _template(name).copy()
    atoms.set_initial_charges(np.array(MOLECULES[name].atomic_charges))
    atoms.info["name"] = name
    atoms.info["charge"] = MOLECULES[name].charge
    return atoms


def molar_mass(name: str) -> float:
    """Molar mass of molecule ``name`` in g/mol (= mass of one molecule, amu).

    Standard atomic weights as tabulated in :data:`ase.data.atomic_masses`.
    """
    _check_name(name)
    return float(_template(name).get_masses().sum())


@functools.cache
def vdw_volume_A3(
    name: str, radius_A: float | None = None, spacing_A: float = 0.05
) -> float:
    """Volume of the union of atom-centred spheres of molecule ``name``, Å³.

    With ``radius_A=None`` this is the van der Waals volume (Bondi radii; the
    bare Li⁺ cation its Shannon ionic radius 0.76 Å). With a number, every atom
    gets that radius: ``radius_A = tolerance/2`` gives the volume packmol keeps
    free of other molecules' atoms (its hard-sphere model), used by
    :mod:`.electrolyte` to estimate packing fractions. Counted on a cubic grid
    of ``spacing_A`` (error ≲ 1 % at 0.05 Å).

    Parameters
    ----------
    name : str
        A key of :data:`MOLECULES`.
    radius_A : float, optional, Å
        One radius for every atom; Bondi/ionic radii when None.
    spacing_A : float, Å
        Grid spacing.

    Returns
    -------
    float, Å³
    """
    _check_name(name)
    atoms = _template(name)
    if radius_A is not None:
        radii = np.full(len(atoms), float(radius_A))
    elif name == "Li":
        radii = np.array([_LI_ION_RADIUS_A])
    else:
        radii = np.array([_BONDI_RADIUS_A[s] for s in atoms.get_chemical_symbols()])
    pos = atoms.positions
    lo = (pos - radii[:, None]).min(axis=0)
    hi = (pos + radii[:, None]).max(axis=0)
    axes = [np.arange(lo[k], hi[k] + spacing_A, spacing_A) for k in range(3)]
    inside = np.zeros((len(axes[0]), len(axes[1]), len(axes[2])), bool)
    for p, r in zip(pos, radii, strict=True):
        dx = (axes[0] - p[0]) ** 2
        dy = (axes[1] - p[1]) ** 2
        dz = (axes[2] - p[2]) ** 2
        inside |= dx[:, None, None] + dy[None, :, None] + dz[None, None, :] <= r * r
    return float(inside.sum()) * spacing_A**3


# --------------------------------------------------------------------------
# Regenerating the templates (GFN2-xTB with tblite)
# --------------------------------------------------------------------------


def _place(a, b, c, bond, angle_deg, dihedral_deg):
    """Position of atom d with |cd| = bond, ∠bcd = angle, dihedral abcd (NeRF)."""
    a, b, c = (np.asarray(v, float) for v in (a, b, c))
    bc = c - b
    bc /= np.linalg.norm(bc)
    n = np.cross(b - a, bc)
    n /= np.linalg.norm(n)
    m = np.cross(n, bc)
    theta, phi = math.radians(angle_deg), math.radians(dihedral_deg)
    d_local = np.array(
        [
            -math.cos(theta),
            math.sin(theta) * math.cos(phi),
            math.sin(theta) * math.sin(phi),
        ]
    )
    return c + bond * (d_local[0] * bc + d_local[1] * m + d_local[2] * n)


def _initial_ec() -> Atoms:
    """Ethylene carbonate: a regular-pentagon ring, CH₂ groups twisted ±0.25 Å.

    Ring order C(carbonyl), O, CH₂, CH₂, O. The twist breaks the planar
    symmetry so that the relaxation is free to find a twisted (C2) minimum;
    GFN2-xTB returns to the planar C2v ring (positive puckering frequency).
    """
    side = 1.40  # mean ring bond, Å
    radius = side / (2.0 * math.sin(math.pi / 5.0))
    angles = math.pi / 2.0 + 2.0 * math.pi * np.arange(5) / 5.0
    ring = np.column_stack(
        [radius * np.cos(angles), radius * np.sin(angles), np.zeros(5)]
    )
    ring[2, 2], ring[3, 2] = 0.25, -0.25
    out = ring[0] / np.linalg.norm(ring[0])
    symbols = ["C", "O", "C", "C", "O", "O"]
    positions = [*ring, ring[0] + 1.20 * out]
    half = math.radians(109.5 / 2.0)
    for k in (2, 3):
        radial = ring[k].copy()
        radial[2] = 0.0
        radial /= np.linalg.norm(radial)
        for sign in (1.0, -1.0):
            direction = math.cos(half) * radial + sign * math.sin(half) * np.array(
                [0.0, 0.0, 1.0]
            )
            symbols.append("H")
            positions.append(ring[k] + 1.09 * direction)
    return Atoms(symbols, positions=np.array(positions))


def _initial_dmc() -> Atoms:
    """Dimethyl carbonate, cis–cis (both methyls syn to C=O, C2v), from a z-matrix."""
    c = np.zeros(3)
    o_carbonyl = np.array([0.0, 1.20, 0.0])
    pos = {"C": c, "O=": o_carbonyl}
    angle = math.radians(125.0)
    pos["Oa"] = 1.34 * np.array([math.sin(angle), math.cos(angle), 0.0])
    pos["Ob"] = 1.34 * np.array([-math.sin(angle), math.cos(angle), 0.0])
    symbols = ["C", "O", "O", "O"]
    positions = [c, o_carbonyl, pos["Oa"], pos["Ob"]]
    for ester in ("Oa", "Ob"):
        methyl = _place(o_carbonyl, c, pos[ester], 1.43, 115.0, 0.0)
        symbols.append("C")
        positions.append(methyl)
        for dihedral in (180.0, 60.0, -60.0):
            symbols.append("H")
            positions.append(_place(c, pos[ester], methyl, 1.09, 109.5, dihedral))
    return Atoms(symbols, positions=np.array(positions))


def _initial_pf6() -> Atoms:
    """Hexafluorophosphate: octahedron, P–F 1.60 Å, P first."""
    axes = np.vstack([np.eye(3), -np.eye(3)])
    return Atoms("PF6", positions=np.vstack([np.zeros(3), 1.60 * axes]))


def _initial_geometry(name: str) -> Atoms:
    builders = {
        "EC": _initial_ec,
        "DMC": _initial_dmc,
        "PF6": _initial_pf6,
        "Li": lambda: Atoms("Li", positions=[[0.0, 0.0, 0.0]]),
    }
    atoms = builders[name]()
    atoms.positions -= atoms.get_center_of_mass()
    return atoms


def relax_templates(
    out_dir: str | os.PathLike,
    fmax_eV_A: float = 0.01,
    names: tuple[str, ...] | None = None,
    logfile: str | None = None,
) -> dict[str, dict]:
    """Relax the molecule templates with GFN2-xTB and write ``<name>.xyz``.

    Each molecule is built from hand-made coordinates (:func:`_initial_geometry`),
    relaxed in vacuum (no cell, non-periodic) with tblite's ASE calculator,
    method GFN2-xTB, the molecule's formal charge, closed shell, and
    :class:`ase.optimize.BFGS` to max |F| < ``fmax_eV_A``; the single-atom Li⁺
    gets one single-point evaluation. The relaxed geometry is centred on its
    centre of mass and written as extended XYZ (positions to 1e-8 Å) with info
    ``name``, ``charge``, ``method`` and ``xtb_energy_eV``.

    Parameters
    ----------
    out_dir : path
        Folder for the files (the package's ``build/data/molecules`` to
        regenerate the shipped templates).
    fmax_eV_A : float, eV/Å
        BFGS convergence threshold on the largest atomic force.
    names : tuple of str, optional
        Which templates; all of :data:`MOLECULES` by default.
    logfile : str, optional
        BFGS log (``"-"`` for stdout); silent by default.

    Returns
    -------
    dict
        name → {"energy_eV", "fmax_eV_A" (final largest force), "steps"}.

    Raises
    ------
    ImportError
        tblite is not installed.
    RuntimeError
        A relaxation did not converge in 1000 BFGS steps.
    """
    try:
        from tblite.ase import TBLite
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "relax_templates needs tblite with its ASE interface: "
            "pip install tblite (or conda install -c conda-forge tblite-python)"
        ) from err
    out_dir = Path(out_dir)
    results = {}
    for name in names or tuple(MOLECULES):
        _check_name(name)
        atoms = _initial_geometry(name)
        charge = MOLECULES[name].charge
        atoms.calc = TBLite(
            method="GFN2-xTB", charge=charge, multiplicity=1, verbosity=0
        )
        steps = 0
        if len(atoms) > 1:
            opt = BFGS(atoms, logfile=logfile)
            if not opt.run(fmax=fmax_eV_A, steps=1000):
                raise RuntimeError(
                    f"{name}: BFGS did not reach fmax = {fmax_eV_A} eV/Å in 1000 steps"
                )
            steps = opt.get_number_of_steps()
        energy = float(atoms.get_potential_energy())
        fmax = float(np.linalg.norm(atoms.get_forces(), axis=1).max())
        out = Atoms(atoms.get_chemical_symbols(), positions=atoms.positions)
        out.positions -= out.get_center_of_mass()
        out.info.update(
            {
                "name": name,
                "charge": charge,
                "method": "GFN2-xTB",
                "xtb_energy_eV": energy,
            }
        )
        path = out_dir / f"{name}.xyz"
        with atomic_path(path) as tmp:
            write(tmp, out, format="extxyz")
        path.chmod(0o644)  # package data: readable by all
        results[name] = {"energy_eV": energy, "fmax_eV_A": fmax, "steps": steps}
    _template.cache_clear()
    vdw_volume_A3.cache_clear()
    return results
