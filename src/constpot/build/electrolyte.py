"""Carbonate electrolyte block: EC/DMC + LiPF₆ packed with packmol.

:func:`electrolyte_box` fills a slab of the electrode's lateral cell with a
solvent mixture (mole fractions of EC and DMC) and LiPF₆ at a given molarity,
at a target mass density, and returns it as one block for :mod:`.stack`.

Method
------
1. Counts (:func:`electrolyte_counts`). Box volume :math:`V = A\\,L_z` (lateral
   area times ``thickness_A``). Salt pairs :math:`n_s = \\mathrm{round}(c V N_A)`
   (``salt_molarity`` c in mol per litre of solution). Solvent molecules
   :math:`N = \\mathrm{round}((\\rho V - n_s M_{\\mathrm{LiPF_6}}) / \\bar M)`,
   :math:`\\bar M = \\sum_i x_i M_i`, at least 1, split over the solvents by
   largest remainder so that :math:`|n_i/N - x_i| < 1/N`. The achieved
   molarity and density are reported in ``atoms.info``: with integer counts a
   small box cannot hit the request (``n_s = 2.7`` rounds to 3, +11 %); the
   relative rounding error of the molarity is at most :math:`0.5/(c V N_A)`,
   below 5 % once :math:`c V N_A \\ge 10` (V ≳ 16.6 nm³ at 1 M).
2. Checks before packing: the packing fraction of packmol's hard-sphere model
   (each molecule the union of spheres of radius ``tolerance_A/2`` on its
   atoms, :func:`.molecules.vdw_volume_A3`) must not exceed
   :data:`MAX_PACKING_FRACTION`; the slab must hold the largest molecule with
   the tolerance on both sides.
3. Packing with packmol (≥ 20, for ``pbc``): ``tolerance``, ``seed``, the
   periodic box ``pbc 0 0 0 Lx Ly Lz`` so that distances across the x and y
   boundaries (and z) respect the tolerance, and every molecule ``inside box
   0 0 m Lx Ly Lz−m`` with the wall margin m = ``tolerance_A/2``: atoms stay
   in z ∈ [m, Lz − m] (to packmol's constraint precision, ≲ 0.1 Å), so two
   blocks stacked edge to edge (or the block's own z image) are about the
   tolerance apart. packmol runs in a temporary folder that is removed
   afterwards, success or not.
4. packmol moves molecules rigidly; its output (6 decimals) is replaced by the
   exact template moved by the best-fit rotation and translation of each
   molecule (Kabsch), so intramolecular geometry equals the template's to
   round-off.

Conventions and pitfalls
------------------------
- The lateral cell must be rectangular (a ∥ x, b ∥ y): packmol's periodic box
  is orthorhombic.
- Molecules are whole, not wrapped: every atom lies in the cell to within
  packmol's constraint precision (≲ 0.1 Å). packmol's own box constraint keeps
  molecules from straddling the x/y boundaries, a mild layering that the first
  picoseconds of MD remove.
- The per-atom molecule name is the array ``molecule`` (:data:`MOLECULE_KEY`),
  not ``species``: extended XYZ writes the chemical symbols under ``species``
  and would silently drop an array of that name.
- Formal charges (Li⁺ +1, P +5, F −1, solvent 0) go to ``initial_charges``;
  they sum to exactly zero.

Examples
--------
>>> from constpot.build.electrolyte import electrolyte_box
>>> box = electrolyte_box([[15.0, 0.0], [0.0, 15.0]], 20.0,
...                       solvents={"EC": 0.5, "DMC": 0.5}, seed=1)  # doctest: +SKIP
>>> box.info["counts"], box.info["molarity_M"]                       # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from ase import Atoms
from scipy.spatial.transform import Rotation

from ..keys import ELECTROLYTE_REGION, MOL_ID, MOLECULE, REGION
from ..units import (
    AMU_PER_A3_IN_G_PER_CM3,
    AVOGADRO_PER_MOL,
    LITRE_IN_A3,
    mass_density_g_cm3,
)
from ._cell import rectangular_lengths
from .molecules import MOLECULES, load_molecule, molar_mass, vdw_volume_A3

__all__ = [
    "MAX_PACKING_FRACTION",
    "MOLECULE_KEY",
    "SALT",
    "SOLVENTS",
    "electrolyte_box",
    "electrolyte_counts",
]

#: Solvents :func:`electrolyte_box` knows (keys of ``solvents``).
SOLVENTS = ("EC", "DMC")
#: The salt's ions, cation first: LiPF₆.
SALT = ("Li", "PF6")
#: (n_atoms,) str. Name of the molecule or ion each atom belongs to.
MOLECULE_KEY = MOLECULE  # re-exported; defined in constpot.keys
#: Largest packing fraction of packmol's hard-sphere model accepted. Measured
#: with packmol 21.2 (tolerance 2 Å, EC in a 20 Å periodic cube): 0.43 packs in
#: 4 s, 0.49 in 7 s, 0.51 in 115 s; 0.53 is not done in 120 s and 0.55 fails
#: (liquid EC at 1.32 g/cm³: 0.31; 1 M LiPF₆ in EC at 1.3 g/cm³: 0.29).
MAX_PACKING_FRACTION = 0.5

# Order of molecules in the packed box (and of mol_id): fixed, so that the
# result does not depend on the order of the ``solvents`` mapping.
_ORDER = (*SOLVENTS, "PF6", "Li")
_MIN_PACKMOL_MAJOR = 20
_SEED_MAX = 2**31 - 1


# --------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------


def _check_solvents(solvents: Mapping[str, float]) -> dict[str, float]:
    if not isinstance(solvents, Mapping) or not solvents:
        raise ValueError(
            f"solvents must be a non-empty mapping name → mole fraction, got "
            f"{solvents!r}"
        )
    out = {}
    for name, frac in solvents.items():
        if name not in SOLVENTS:
            raise ValueError(
                f"solvents: unknown solvent {name!r}; known: {', '.join(SOLVENTS)}"
            )
        frac = float(frac)
        if not (math.isfinite(frac) and frac >= 0.0):
            raise ValueError(
                f"solvents: mole fraction of {name} must be >= 0, got {frac}"
            )
        out[name] = frac
    total = sum(out.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(
            f"solvents: mole fractions must sum to 1, got {total:.6g} "
            f"({', '.join(f'{k}: {v:g}' for k, v in out.items())})"
        )
    return {k: v / total for k, v in out.items()}


def _positive(value, key: str, allow_zero: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{key} must be a number, got {value!r}") from None
    ok = value >= 0.0 if allow_zero else value > 0.0
    if not (math.isfinite(value) and ok):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{key} must be finite and {bound}, got {value}")
    return value


def _largest_remainder(total: int, fractions: dict[str, float]) -> dict[str, int]:
    exact = {k: total * x for k, x in fractions.items()}
    counts = {k: math.floor(v) for k, v in exact.items()}
    left = total - sum(counts.values())
    # Ties broken by the fixed molecule order: deterministic.
    by_remainder = sorted(
        exact, key=lambda k: (-(exact[k] - counts[k]), _ORDER.index(k))
    )
    for k in by_remainder[:left]:
        counts[k] += 1
    return counts


def electrolyte_counts(
    volume_A3: float,
    solvents: Mapping[str, float] | None = None,
    salt_molarity: float = 1.0,
    density_g_cm3: float = 1.3,
) -> dict[str, int]:
    """Numbers of each molecule for a box of ``volume_A3`` (see module docstring).

    Parameters
    ----------
    volume_A3 : float, Å³
        Volume of the electrolyte block.
    solvents : mapping str → float, optional
        Mole fractions of the solvents (keys from :data:`SOLVENTS`), summing to
        1; default ``{"EC": 1.0}``.
    salt_molarity : float, mol/L
        LiPF₆ concentration per litre of solution, >= 0.
    density_g_cm3 : float, g/cm³
        Target mass density of the solution.

    Returns
    -------
    dict str → int
        Counts for every name in (*SOLVENTS, "PF6", "Li"), zeros included;
        ``counts["Li"] == counts["PF6"]``.

    Raises
    ------
    ValueError
        Unknown solvent, fractions not summing to 1, negative molarity,
        non-positive volume or density, or a salt mass that alone exceeds the
        target density.
    """
    fractions = _check_solvents({"EC": 1.0} if solvents is None else solvents)
    volume = _positive(volume_A3, "volume_A3")
    molarity = _positive(salt_molarity, "salt_molarity", allow_zero=True)
    density = _positive(density_g_cm3, "density_g_cm3")
    n_salt = round(molarity * volume / LITRE_IN_A3 * AVOGADRO_PER_MOL)
    salt_mass = n_salt * sum(molar_mass(ion) for ion in SALT)
    target_mass = density * volume / AMU_PER_A3_IN_G_PER_CM3
    solvent_mass = target_mass - salt_mass
    if solvent_mass <= 0.0:
        raise ValueError(
            f"salt_molarity = {molarity} M puts {n_salt} LiPF6 "
            f"({salt_mass:.0f} amu) in {volume:.0f} Å^3, at least the whole "
            f"mass for density_g_cm3 = {density} ({target_mass:.0f} amu)"
        )
    mean_mass = sum(x * molar_mass(k) for k, x in fractions.items())
    n_solvent = max(1, round(solvent_mass / mean_mass))
    counts = dict.fromkeys(_ORDER, 0)
    counts.update(_largest_remainder(n_solvent, fractions))
    counts["PF6"] = counts["Li"] = n_salt
    return counts


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if not 0 <= int(seed) < _SEED_MAX:
        raise ValueError(
            f"seed must be in [0, {_SEED_MAX}) (packmol's integer seed; negative "
            f"seeds mean 'from the clock'), got {seed}"
        )
    return int(seed)


def molecule_size_A(name: str) -> float:
    """Largest interatomic distance (Å) of molecule ``name``: what a packmol
    box must hold beside twice its tolerance."""
    atoms = load_molecule(name)
    return float(atoms.get_all_distances().max()) if len(atoms) > 1 else 0.0


def _check_fits(
    counts: dict[str, int],
    lx: float,
    ly: float,
    thickness: float,
    tolerance: float,
) -> float:
    """Raise ValueError if the molecules cannot fit; return the packing fraction."""
    present = [k for k in _ORDER if counts[k] > 0]
    size_name = max(present, key=molecule_size_A)
    size = molecule_size_A(size_name)
    need_z = 2.0 * tolerance + size
    if thickness < need_z:
        raise ValueError(
            f"thickness_A = {thickness:.3g} Å is too thin: the slab needs "
            f"2·tolerance_A + size of {size_name} = 2·{tolerance:.3g} + "
            f"{size:.3g} = {need_z:.3g} Å"
        )
    need_xy = tolerance + size
    if min(lx, ly) < need_xy:
        raise ValueError(
            f"cell_xy lengths {lx:.3g} × {ly:.3g} Å are too small: a molecule must "
            f"not touch its own periodic image, need tolerance_A + size of "
            f"{size_name} = {need_xy:.3g} Å"
        )
    volume = lx * ly * thickness
    excluded = sum(n * vdw_volume_A3(k, 0.5 * tolerance) for k, n in counts.items())
    fraction = excluded / volume
    if fraction > MAX_PACKING_FRACTION:
        listing = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
        raise ValueError(
            f"too many molecules for the box: {listing} in {lx:.3g} × {ly:.3g} × "
            f"{thickness:.3g} Å fill a fraction {fraction:.2f} of it (spheres of "
            f"radius tolerance_A/2 = {0.5 * tolerance:.3g} Å on the atoms), above "
            f"{MAX_PACKING_FRACTION}; lower density_g_cm3 or salt_molarity, or "
            f"tolerance_A"
        )
    return fraction


# --------------------------------------------------------------------------
# packmol
# --------------------------------------------------------------------------


def _find_packmol(packmol: str | os.PathLike | None) -> str:
    if packmol is not None:
        found = shutil.which(str(packmol))
        if found is None:
            raise FileNotFoundError(
                f"packmol = {str(packmol)!r} is not an executable file or command"
            )
        return found
    beside = Path(sys.executable).parent / "packmol"
    candidates = [str(beside)] if beside.is_file() else []
    on_path = shutil.which("packmol")
    if on_path:
        candidates.append(on_path)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(
        f"packmol not found next to {sys.executable} or on PATH; install it with "
        f"`pip install packmol` (>= 20, periodic boxes) or pass packmol='/path/to/"
        f"packmol'"
    )


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _write_xyz(path: Path, atoms: Atoms) -> None:
    rows = [str(len(atoms)), atoms.info.get("name", "molecule")]
    rows += [
        f"{s:2s} {x:.10f} {y:.10f} {z:.10f}"
        for s, (x, y, z) in zip(
            atoms.get_chemical_symbols(), atoms.positions, strict=True
        )
    ]
    path.write_text("\n".join(rows) + "\n")


def _read_xyz(path: Path) -> tuple[list[str], np.ndarray]:
    lines = path.read_text().splitlines()
    n = int(lines[0].split()[0])
    fields = [line.split() for line in lines[2 : 2 + n]]
    symbols = [f[0] for f in fields]
    positions = np.array([[float(v) for v in f[1:4]] for f in fields])
    return symbols, positions


def _run_packmol(
    exe: str,
    counts: dict[str, int],
    lx: float,
    ly: float,
    thickness: float,
    tolerance: float,
    margin: float,
    seed: int,
) -> tuple[list[str], np.ndarray, str]:
    """Pack in a temporary folder; return packmol's symbols, positions, version."""
    with tempfile.TemporaryDirectory(prefix="constpot-packmol-") as tmp:
        tmp = Path(tmp)
        lines = [
            f"tolerance {tolerance:.10g}",
            f"seed {seed}",
            "filetype xyz",
            "output packed.xyz",
            f"pbc 0. 0. 0. {lx:.10f} {ly:.10f} {thickness:.10f}",
        ]
        for name in _ORDER:
            if counts[name] == 0:
                continue
            _write_xyz(tmp / f"{name}.xyz", load_molecule(name))
            lines += [
                f"structure {name}.xyz",
                f"  number {counts[name]}",
                f"  inside box 0. 0. {margin:.10f} {lx:.10f} {ly:.10f} "
                f"{thickness - margin:.10f}",
                "end structure",
            ]
        (tmp / "packmol.inp").write_text("\n".join(lines) + "\n")
        with open(tmp / "packmol.inp") as stdin:
            proc = subprocess.run(
                [exe],
                stdin=stdin,
                cwd=tmp,
                capture_output=True,
                text=True,
                errors="replace",
                check=False,
            )
        log = proc.stdout + proc.stderr
        match = re.search(r"Version\s+(\d+)\.(\d+)(?:\.(\d+))?", log)
        version = ".".join(g for g in match.groups() if g) if match else "unknown"
        ok = proc.returncode == 0 and "Success!" in log
        if ok and match and int(match.group(1)) < _MIN_PACKMOL_MAJOR:
            raise RuntimeError(
                f"packmol {version} ({exe}) is too old: the periodic box (pbc) "
                f"needs packmol >= {_MIN_PACKMOL_MAJOR}; pip install -U packmol"
            )
        if not ok or not (tmp / "packed.xyz").is_file():
            raise RuntimeError(
                f"packmol ({exe}) failed with exit status {proc.returncode} packing "
                f"{', '.join(f'{n} {k}' for k, n in counts.items() if n)} in "
                f"{lx:.3g} × {ly:.3g} × {thickness:.3g} Å (tolerance "
                f"{tolerance} Å, seed {seed}); last lines of its output:\n"
                f"{_tail(log)}"
            )
        symbols, positions = _read_xyz(tmp / "packed.xyz")
    return symbols, positions, version


def _rigid_copies(template: np.ndarray, packed: np.ndarray) -> np.ndarray:
    """Best-fit rigid copies (Kabsch) of ``template`` onto each of ``packed``.

    Parameters
    ----------
    template : (k, 3) ndarray, Å
    packed : (m, k, 3) ndarray, Å
        m copies as written by packmol.

    Returns
    -------
    (m, k, 3) ndarray, Å
        ``template`` rotated (proper rotations) and translated onto each copy:
        the Kabsch solution, :meth:`scipy.spatial.transform.Rotation.align_vectors`.
    """
    t = template - template.mean(axis=0)
    centre = packed.mean(axis=1, keepdims=True)
    if len(t) == 1:  # a monatomic ion: translation only
        return centre + t
    # align_vectors(a, b) is the proper rotation R minimising Σ|a_k − R b_k|².
    rot = np.stack(
        [Rotation.align_vectors(p, t)[0].as_matrix() for p in packed - centre]
    )
    return np.einsum("mij,kj->mki", rot, t) + centre


# --------------------------------------------------------------------------
# The block
# --------------------------------------------------------------------------


def electrolyte_box(
    cell_xy,
    thickness_A: float,
    solvents: Mapping[str, float] | None = None,
    salt_molarity: float = 1.0,
    density_g_cm3: float = 1.3,
    seed: int = 0,
    tolerance_A: float = 2.0,
    packmol: str | os.PathLike | None = None,
) -> Atoms:
    """A slab of carbonate electrolyte packed with packmol.

    Parameters
    ----------
    cell_xy : (2, 2) array_like, Å
        Lateral cell vectors a, b (rows; x, y components), rectangular:
        a along x, b along y.
    thickness_A : float, Å
        Slab thickness along z (the cell's c).
    solvents : mapping str → float, optional
        Mole fractions of the solvents, summing to 1, e.g.
        ``{"EC": 0.5, "DMC": 0.5}``; default ``{"EC": 1.0}``.
    salt_molarity : float, mol/L
        LiPF₆ per litre of solution (0: neat solvent).
    density_g_cm3 : float, g/cm³
        Target mass density (1 M LiPF₆ in EC ≈ 1.4, in EC:DMC 1:1 ≈ 1.3).
    seed : int
        packmol's random seed, in [0, 2³¹−1). Same seed ⇒ same box.
    tolerance_A : float, Å
        Minimum distance between atoms of different molecules (periodic images
        in x, y and z included); the wall margin is ``tolerance_A/2``.
    packmol : path or str, optional
        packmol executable; default: ``packmol`` next to ``sys.executable`` (the
        PyPI wheel's), else the one on PATH.

    Returns
    -------
    ase.Atoms
        Cell rows (a, 0), (b, 0), (0, 0, ``thickness_A``); ``pbc`` True. Atoms
        ordered by molecule: EC, DMC, PF₆⁻, Li⁺. Arrays ``mol_id`` (int,
        0..n_mol−1), ``molecule`` (str, molecule name), ``region``
        ("electrolyte"), ``initial_charges`` (formal, e; sum 0). Info
        ``counts`` (name → number), ``molarity_M`` and ``density_g_cm3``
        (achieved), ``packing_fraction``, ``seed``, ``tolerance_A``,
        ``margin_A``, ``packmol_version``.

    Raises
    ------
    ValueError
        Bad cell, thickness, fractions, molarity, density, tolerance or seed;
        too many molecules for the box; a slab too thin for the molecules.
    FileNotFoundError
        No packmol executable.
    RuntimeError
        packmol failed (the message ends with the tail of its output) or is
        older than 20.
    """
    lx, ly = rectangular_lengths(cell_xy, " (packmol's periodic box is orthorhombic)")
    thickness = _positive(thickness_A, "thickness_A")
    tolerance = _positive(tolerance_A, "tolerance_A")
    seed = _check_seed(seed)
    volume = lx * ly * thickness
    counts = electrolyte_counts(volume, solvents, salt_molarity, density_g_cm3)
    fraction = _check_fits(counts, lx, ly, thickness, tolerance)
    exe = _find_packmol(packmol)

    margin = 0.5 * tolerance
    symbols, packed, version = _run_packmol(
        exe, counts, lx, ly, thickness, tolerance, margin, seed
    )

    names = [k for k in _ORDER for _ in range(counts[k])]
    expected = [s for k in names for s in load_molecule(k).get_chemical_symbols()]
    if symbols != expected:
        raise RuntimeError(
            "packmol's output does not list the molecules in input order "
            f"({len(symbols)} atoms, expected {len(expected)})"
        )
    positions = np.empty_like(packed)
    start = 0
    for name in _ORDER:
        if counts[name] == 0:
            continue
        template = load_molecule(name).positions
        size = counts[name] * len(template)
        copies = packed[start : start + size].reshape(counts[name], len(template), 3)
        fitted = _rigid_copies(template, copies)
        deviation = float(np.abs(fitted - copies).max())
        if deviation > 1e-3:
            raise RuntimeError(
                f"packmol's {name} copies deviate by {deviation:.2g} Å from rigid "
                "copies of the template"
            )
        positions[start : start + size] = fitted.reshape(-1, 3)
        start += size

    mol_id = np.concatenate(
        [np.full(len(load_molecule(k)), i) for i, k in enumerate(names)]
    ).astype(int)
    charges = np.concatenate([MOLECULES[k].atomic_charges for k in names])
    cell = np.array([[lx, 0.0, 0.0], [0.0, ly, 0.0], [0.0, 0.0, thickness]])
    atoms = Atoms(symbols, positions=positions, cell=cell, pbc=True)
    atoms.set_initial_charges(charges)
    atoms.arrays[MOL_ID] = mol_id
    atoms.arrays[MOLECULE_KEY] = np.array(
        [k for k in names for _ in range(len(load_molecule(k)))], dtype="<U8"
    )
    atoms.arrays[REGION] = np.full(len(atoms), ELECTROLYTE_REGION, dtype="<U16")
    n_salt = counts["Li"]
    atoms.info.update(
        {
            "counts": counts,
            "molarity_M": n_salt / AVOGADRO_PER_MOL / (volume / LITRE_IN_A3),
            "density_g_cm3": mass_density_g_cm3(
                float(atoms.get_masses().sum()), volume
            ),
            "packing_fraction": fraction,
            "seed": seed,
            "tolerance_A": tolerance,
            "margin_A": margin,
            "packmol_version": version,
        }
    )
    return atoms
