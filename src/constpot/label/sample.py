"""Small configurations for reference labelling, from bulk phases and interfaces.

Reference methods (GFN-xTB, DFT at the Γ point) cannot label a whole interface
cell, so the training set is made of small periodic frames (≤ ``max_atoms``)
that sample every local environment of the interface: bulk and surface Li,
crystalline and amorphous LiF/Li₂O, the anode|SEI, SEI|electrolyte and
Li|electrolyte contacts (the counter electrode, and the anode without SEI,
touch the liquid), the liquid, the Li⁺ solvation shell (with its PF₆⁻
counter-ion) and Li deposition sites.
:func:`sample_configurations` draws them with one ``np.random.default_rng(seed)``:
same inputs and seed, identical frames.

Conventions
-----------
- Every frame is periodic (``pbc`` True). Slabs and windows cut from an
  interface keep z as the surface normal and get :data:`VACUUM_A` of vacuum
  along z; clusters get :data:`VACUUM_A` of vacuum along x, y and z.
- A lateral axis of an interface that fits whole is kept periodic as it is
  (the crystal stays commensurate); an axis that is cut gets a new periodic
  length = extent of the kept atoms + :data:`CUT_PAD_A`, so no two atoms
  across the new boundary are closer than :data:`CUT_PAD_A`.
- Metallic Li is computed at the Γ point, whose finite-size error depends on
  the cell (for GFN1-xTB up to ≈ 0.5 eV/atom between bcc supercells, and
  ≈ 30 meV/atom between 4- to 7-layer films; raising the electronic
  temperature to 3000–6000 K does not remove it). So every frame with metallic
  Li has ONE lateral cell, the anode's (nx × ny bcc(100) cells,
  :func:`_li_lateral_reps`, 4 × 4 = 14.04 × 14.04 Å in the demo), never cut:
  li_bulk is the nx × ny × nz cubic supercell (nz: :data:`LI_BULK_CELLS_Z`,
  or fewer to fit ``max_atoms``), li_surface and the Li-slab li_adatom frames
  the :data:`LI_SLAB_LAYERS`-layer (100) slab, and li_sei_contact keeps the
  :data:`CONTACT_LI_LAYERS` topmost anode layers under the SEI, and
  li_electrolyte_contact is a fresh :data:`CONTACT_LI_LAYERS`-layer (100) slab
  under a layer of electrolyte. The Γ error is then the same in every frame of
  a kind, up to the perturbation.
- Liquid frames (category electrolyte) are fresh periodic packmol boxes
  (:func:`constpot.build.electrolyte.electrolyte_box`) of the interface
  electrolyte's composition and density, one per frame: a cube cut from the
  interface and made periodic leaves molecules face to face across the new
  boundary (GFN1-xTB energies of same-composition frames then spread by
  ≈ 20 eV per 70 atoms). packmol keeps atoms of different molecules ≥
  :data:`LIQUID_TOLERANCE_A` apart, images included.
- The liquid of a li_electrolyte_contact frame is the lowest molecules of such
  a box (the slab's lateral cell, :data:`_CONTACT_LIQUID_A` thick, packed
  against its wall as the interface electrolyte is), as many as fit in
  ``max_atoms`` with the slab, Li⁺ and PF₆⁻ in pairs (neutral). The layer is
  lowered onto the slab until one atom sits at its smallest height above the
  top Li plane: :data:`METAL_CONTACT_A` (heavy atoms) or
  :data:`METAL_CONTACT_H_A` (H), plus a uniform 0–:data:`_CONTACT_EXTRA_A`;
  every atom is then at least that far from every Li (images included).
- Molecules are never cut: molecular atoms (``mol_id`` ≥ 0) are selected by
  the centroid of their molecule, whole. Extended phases (``mol_id`` −1) are
  selected atom by atom; the frame is then made neutral in formal charge by
  dropping the charged units (ions, molecular ions) nearest the cuts, as the
  SEI carve of :mod:`constpot.build.recipe` does.
- li_solvent_cluster frames are neutral ion pairs in vacuum: a Li⁺, 3–4
  EC/DMC and one PF₆⁻. Cut from an interface: the solvents whose O is nearest
  the Li⁺ and the nearest PF₆⁻, whole (minimum image). From the template: the
  solvents bind by their carbonyl O at 2.0 Å and the PF₆⁻ lies along the
  direction farthest from them, with 3 solvents a contact ion pair (one F
  towards the Li⁺, Li–F 1.95 Å), with 4 solvent-separated (Li–P 6.0 Å).
- ``initial_charges`` are formal charges; their sum (an integer) is
  ``info["total_charge"]``: 0 in every frame, li_solvent_cluster included (a
  neutral ion pair). Charged periodic cells are labelled under different
  net-charge (background) conventions by GFN1-xTB and by the QEq of the
  potential, which leaves a cell-dependent energy offset no local model can
  learn.
- Perturbations: Gaussian displacements of width ``rattle_A`` per Cartesian
  component (truncated at 3σ; atoms of molecules move
  :data:`MOLECULE_RATTLE_SCALE` = 0.2 times as far, their bonds being stiff);
  a "hot" frame (probability ``hot_snapshots``) uses
  ``hot_factor · rattle_A`` in place of a high-temperature MD snapshot; a
  symmetric strain ε with |ε_ij| ≤ ``strain`` maps cell and positions by
  (I + ε) — all components for 3D-periodic frames, the in-plane block only for
  slabs (the vacuum stays), none for clusters. Recorded in
  ``info["perturbation"]`` ("rattle" or "hot"), ``info["rattle_A"]`` and
  ``info["strain"]`` (Voigt order xx, yy, zz, yz, xz, xy).

Example
-------
>>> from constpot.build.recipe import build_interface
>>> iface = build_interface({"seed": 1, "sei": {"phase": "crystalline"}}, "t")
>>> frames = sample_configurations([iface], {"li_bulk": 2, "li_sei_contact": 3})
>>> [f.info["category"] for f in frames]   # doctest: +SKIP
['li_bulk', 'li_bulk', 'li_sei_contact', 'li_sei_contact', 'li_sei_contact']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.geometry import find_mic
from ase.neighborlist import neighbor_list

from ..keys import FROZEN, MOL_ID, MOLECULE, REGION

__all__ = [
    "CATEGORIES",
    "CONTACT_LI_LAYERS",
    "CUT_PAD_A",
    "LIQUID_TOLERANCE_A",
    "LI_BULK_CELLS_Z",
    "LI_SLAB_LAYERS",
    "METAL_CONTACT_A",
    "METAL_CONTACT_H_A",
    "MIN_DISTANCE_A",
    "VACUUM_A",
    "sample_configurations",
]

CATEGORIES: tuple[str, ...] = (
    "li_bulk",
    "li_surface",
    "lif_crystal",
    "li2o_crystal",
    "lif_amorphous",
    "li2o_amorphous",
    "li_sei_contact",
    "sei_electrolyte_contact",
    "electrolyte",
    "li_solvent_cluster",
    "li_adatom",
    "li_electrolyte_contact",
)

#: Vacuum (Å) added along z for slabs and around clusters.
VACUUM_A = 10.0
#: Gap (Å) between the kept atoms and their images across a new cut boundary.
CUT_PAD_A = 2.0
#: Smallest interatomic distance (Å, images included) of an accepted frame.
MIN_DISTANCE_A = 0.7
#: Smallest edge (Å) of a 3D-periodic bulk supercell.
_MIN_BULK_EDGE_A = 6.5
#: Cubic bcc cells along z of a li_bulk frame (4 × 4 × 3 = 96 atoms in the demo).
LI_BULK_CELLS_Z = 3
#: (100) layers of the li_surface and Li-slab li_adatom frames (the anode's 6).
LI_SLAB_LAYERS = 6
#: Topmost anode layers kept under the SEI in li_sei_contact frames.
CONTACT_LI_LAYERS = 3
#: packmol tolerance (Å) of liquid frames: atoms of different molecules apart.
LIQUID_TOLERANCE_A = 2.0
#: Smallest height (Å) of a heavy atom (not H) of the liquid above the top Li
#: plane of a li_electrolyte_contact frame (the interfaces' electrode gap).
METAL_CONTACT_A = 2.0
#: Smallest height (Å) of an H atom above the top Li plane (li_electrolyte_contact).
METAL_CONTACT_H_A = 1.8
#: Upper bound (Å) of the random extra height of the liquid layer.
_CONTACT_EXTRA_A = 0.5
#: Thickness (Å) of the packmol box whose lowest molecules make the liquid of a
#: li_electrolyte_contact frame (≥ 2·tolerance + DMC's 6.2 Å).
_CONTACT_LIQUID_A = 11.0
#: Attempts per frame before giving up.
_MAX_TRIES = 50
#: Formal charges of the extended phases.
_FORMAL = {"Li": 1.0, "F": -1.0, "O": -2.0}
_COMPONENT = {"lif_amorphous": "LiF", "li2o_amorphous": "Li2O"}
_CRYSTAL = {"lif_crystal": "LiF", "li2o_crystal": "Li2O"}
_SOLVENTS = ("EC", "DMC")
#: Li⁺–carbonyl O distance (Å) of the template solvation shell.
_LI_O_A = 2.0
#: Li⁺–F distance (Å) of the template contact ion pair (3 solvents).
_LI_F_A = 1.95
#: Li⁺–P distance (Å) of the template solvent-separated ion pair (4 solvents).
_LI_P_SEPARATED_A = 6.0
#: Random directions tried for the PF₆⁻ of a template cluster.
_DIRECTION_CANDIDATES = 2048
#: Random orientations tried for that PF₆⁻ (the one farthest from the solvents
#: is kept).
_PF6_ORIENTATIONS = 8


# --------------------------------------------------------------------------
# validation


def _check_counts(counts) -> dict[str, int]:
    if not isinstance(counts, Mapping):
        raise TypeError(f"counts must be a mapping category -> int, got {type(counts)}")
    out = {}
    for name, n in counts.items():
        if name not in CATEGORIES:
            raise ValueError(
                f"counts: unknown category {name!r}; known: {', '.join(CATEGORIES)}"
            )
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"counts[{name!r}] must be an integer >= 0, got {n!r}")
        out[name] = int(n)
    return out


def _check_number(value, name: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not (np.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    return value


def _has(atoms: Atoms, *regions: str) -> bool:
    if REGION not in atoms.arrays:
        return False
    present = set(atoms.arrays[REGION].tolist())
    return all(r in present for r in regions)


def _check_interfaces(interfaces) -> list[Atoms]:
    if isinstance(interfaces, Atoms) or not isinstance(interfaces, Sequence):
        raise TypeError("interfaces must be a list of ase.Atoms")
    out = []
    for k, atoms in enumerate(interfaces):
        if not isinstance(atoms, Atoms):
            raise TypeError(f"interfaces[{k}] must be ase.Atoms, got {type(atoms)}")
        for key in (REGION, MOL_ID):
            if key not in atoms.arrays:
                raise ValueError(f"interfaces[{k}] has no per-atom array {key!r}")
        cell = atoms.cell.array
        if np.abs(cell - np.diag(np.diag(cell))).max() > 1e-8:
            raise ValueError(f"interfaces[{k}] must have an orthorhombic cell")
        out.append(atoms)
    return out


def _requirements(counts: dict[str, int], interfaces: list[Atoms]) -> None:
    needs = {
        "li_sei_contact": ("anode", "sei"),
        "sei_electrolyte_contact": ("sei", "electrolyte"),
    }
    for cat, regions in needs.items():
        if counts.get(cat, 0) and not any(_has(a, *regions) for a in interfaces):
            raise ValueError(
                f"category {cat!r} needs an interface with regions "
                f"{' and '.join(regions)}; none of the {len(interfaces)} interfaces "
                "given has them"
            )


# --------------------------------------------------------------------------
# helpers on atoms


def _tag(atoms: Atoms, region: str) -> Atoms:
    """Fill the per-atom arrays of a frame made from a bulk phase."""
    n = len(atoms)
    atoms.set_array(REGION, np.array([region] * n, dtype=object).astype(str))
    atoms.set_array(MOL_ID, np.full(n, -1, dtype=int))
    atoms.set_array(MOLECULE, np.array(["-"] * n).astype(str))
    atoms.set_array(FROZEN, np.zeros(n, dtype=bool))
    if not np.any(atoms.get_initial_charges()):
        atoms.set_initial_charges(
            [_FORMAL.get(s, 0.0) if region == "sei" else 0.0 for s in atoms.symbols]
        )
    return atoms


def _ensure_arrays(atoms: Atoms) -> None:
    n = len(atoms)
    if MOLECULE not in atoms.arrays:
        atoms.set_array(MOLECULE, np.array(["-"] * n).astype(str))
    if FROZEN not in atoms.arrays:
        atoms.set_array(FROZEN, np.zeros(n, dtype=bool))


def _unwrap_molecules(atoms: Atoms) -> Atoms:
    """A copy with every molecule whole (minimum image about its first atom)."""
    atoms = atoms.copy()
    _ensure_arrays(atoms)
    mol = atoms.arrays[MOL_ID]
    pos = atoms.positions
    for m in np.unique(mol[mol >= 0]):
        idx = np.flatnonzero(mol == m)
        d, _ = find_mic(pos[idx] - pos[idx[0]], atoms.cell, atoms.pbc)
        pos[idx] = pos[idx[0]] + d
    atoms.positions = pos
    return atoms


def _units(atoms: Atoms) -> list[np.ndarray]:
    """Index groups moved and kept together: whole molecules, single atoms."""
    mol = atoms.arrays[MOL_ID]
    units = [np.array([i]) for i in np.flatnonzero(mol < 0)]
    units += [np.flatnonzero(mol == m) for m in np.unique(mol[mol >= 0])]
    return units


def _box(atoms: Atoms, axes, pad: float) -> Atoms:
    """Set the cell lengths along ``axes`` to the atoms' extent + ``pad``,
    the atoms centred (other axes unchanged)."""
    cell = atoms.cell.array.copy()
    pos = atoms.positions
    for ax in axes:
        lo, hi = pos[:, ax].min(), pos[:, ax].max()
        cell[ax] = 0.0
        cell[ax, ax] = hi - lo + pad
        pos[:, ax] += 0.5 * pad - lo
    atoms.positions = pos
    atoms.set_cell(cell)
    atoms.pbc = True
    return atoms


def _total_charge(atoms: Atoms) -> int:
    total = float(atoms.get_initial_charges().sum())
    if abs(total - round(total)) > 1e-6:
        raise RuntimeError(f"formal charges sum to {total}, not an integer")
    return round(total)


def _min_distance_ok(atoms: Atoms) -> bool:
    return len(neighbor_list("i", atoms, MIN_DISTANCE_A)) == 0


def _cut(
    atoms: Atoms,
    center_xy: np.ndarray,
    window_xy: tuple[float, float],
    z_range: tuple[float, float],
    regions: Sequence[str],
    z_periodic: bool = False,
) -> Atoms | None:
    """Cut a window from an unwrapped interface and make it neutral.

    A lateral axis whose window is ≥ the cell length is kept whole and
    periodic; a cut axis, and z, get new lengths from the kept atoms' extent
    (+ :data:`CUT_PAD_A` laterally; + :data:`VACUUM_A` along z unless
    ``z_periodic``, then + :data:`CUT_PAD_A`). Units (single atoms of extended
    phases, whole molecules) are kept by their centroid. Returns None when
    nothing is left.
    """
    lengths = np.diag(atoms.cell.array)[:2]
    full = [window_xy[k] >= lengths[k] - 1e-9 for k in range(2)]
    pos = atoms.positions
    charges = atoms.get_initial_charges()
    in_region = np.isin(atoms.arrays[REGION], list(regions))
    keep, shifts, edges = [], [], []
    for unit in _units(atoms):
        if not in_region[unit].all():
            continue
        c = pos[unit].mean(axis=0)
        if not (z_range[0] <= c[2] < z_range[1]):
            continue
        d = c[:2] - center_xy
        d -= lengths * np.round(d / lengths)
        edge = [c[2] - z_range[0], z_range[1] - c[2]]
        inside = True
        for k in range(2):
            if not full[k]:
                inside &= abs(d[k]) < 0.5 * window_xy[k]
                edge.append(0.5 * window_xy[k] - abs(d[k]))
        if not inside:
            continue
        keep.append(unit)
        shifts.append(d - (c[:2] - center_xy))
        edges.append(min(edge))
    if not keep:
        return None
    # Neutralise: drop the charged unit of the needed sign nearest a cut.
    q = np.array([charges[u].sum() for u in keep])
    edges = np.array(edges)
    alive = np.ones(len(keep), dtype=bool)
    total = round(float(q.sum()))
    while total != 0:
        sign = 1.0 if total > 0 else -1.0
        cand = np.flatnonzero(alive & (np.sign(np.round(q)) == sign))
        if len(cand) == 0:
            return None
        drop = cand[np.argmin(edges[cand])]
        alive[drop] = False
        total -= round(float(q[drop]))
    idx = np.concatenate([u for u, a in zip(keep, alive, strict=True) if a])
    shift = np.concatenate(
        [
            np.repeat(s[None], len(u), axis=0)
            for u, s, a in zip(keep, shifts, alive, strict=True)
            if a
        ]
    )
    order = np.argsort(idx, kind="stable")
    idx, shift = idx[order], shift[order]
    out = atoms[idx]
    p = out.positions
    p[:, :2] += shift - center_xy  # lateral coordinates relative to the centre
    for k in range(2):
        if full[k]:
            p[:, k] += 0.5 * lengths[k]
    out.positions = p
    cut_axes = [k for k in range(2) if not full[k]]
    out = _box(out, cut_axes, CUT_PAD_A)
    return _box(out, [2], CUT_PAD_A if z_periodic else VACUUM_A)


def _lateral_window(
    atoms: Atoms, rng, regions, z_range, max_atoms, z_periodic=False, side_A=None
) -> Atoms | None:
    """The largest window (full cell if it fits) around a random centre with
    ≤ ``max_atoms`` atoms after neutralisation."""
    lengths = np.diag(atoms.cell.array)[:2]
    center = rng.random(2) * lengths
    window = lengths.copy() if side_A is None else np.minimum(side_A, lengths)
    for _ in range(40):
        frame = _cut(atoms, center, tuple(window), z_range, regions, z_periodic)
        if frame is None:
            return None
        if len(frame) <= max_atoms:
            return frame
        window = np.minimum(window, lengths) * max(
            0.5, min(0.95, np.sqrt(max_atoms / len(frame)))
        )
    return None


def _boundary(atoms: Atoms, lower: str, upper: str) -> float:
    z, region = atoms.positions[:, 2], atoms.arrays[REGION]
    return 0.5 * (z[region == lower].max() + z[region == upper].min())


# --------------------------------------------------------------------------
# category recipes: each returns (atoms, kind, source) or None (try again)


def _li_lateral_reps(interfaces: list[Atoms]) -> tuple[int, int]:
    """bcc(100) cells (nx, ny) of the anodes' lateral cell; (4, 4) without one.

    Raises ValueError when interfaces with an anode disagree: the frames with
    metallic Li must share one lateral cell (module docstring).
    """
    from ..build.lithium import LI_BCC_A_A

    found = {
        tuple(int(n) for n in np.round(np.diag(a.cell.array)[:2] / LI_BCC_A_A))
        for a in interfaces
        if _has(a, "anode")
    }
    if len(found) > 1:
        raise ValueError(
            "interfaces: the anodes have different lateral cells "
            f"{sorted(found)} (bcc(100) cells); frames with metallic Li need one"
        )
    return found.pop() if found else (4, 4)


def _li_bulk(ctx):
    from ..build.lithium import LI_BCC_A_A

    nx, ny = ctx.li_reps
    nz = min(LI_BULK_CELLS_Z, ctx.max_atoms // (2 * nx * ny))
    if nz < 1 or LI_BCC_A_A * min(nx, ny, nz) < _MIN_BULK_EDGE_A:
        raise ValueError(
            f"category 'li_bulk': max_atoms = {ctx.max_atoms} is below the "
            f"{2 * nx * ny * 2} atoms of the bcc Li supercell {nx} × {ny} × 2 "
            "(the anode's lateral cell, edges ≥ 6.5 Å)"
        )
    atoms = bulk("Li", "bcc", a=LI_BCC_A_A, cubic=True).repeat((nx, ny, nz))
    return _tag(atoms, "anode"), "bulk", "bulk"


def _li_slab_frame(ctx, category: str, spare: int = 0):
    from ..build.lithium import LI_BCC_A_A, li_slab

    nx, ny = ctx.li_reps
    layers = min(LI_SLAB_LAYERS, (ctx.max_atoms - spare) // (nx * ny))
    if layers < 4:
        raise ValueError(
            f"category {category!r}: max_atoms = {ctx.max_atoms} is too small for a "
            f"Li(100) slab of ≥ 4 layers on the anode's {nx} × {ny} lateral cell"
        )
    slab = li_slab((nx, ny), layers, "100", LI_BCC_A_A, frozen_layers=0)
    slab = _tag(slab, "anode")
    slab.info = {"surface": "100"}
    return _box(slab, [2], VACUUM_A)


def _li_surface(ctx):
    return _li_slab_frame(ctx, "li_surface"), "slab", "bulk"


def _crystal(ctx, category):
    from ..build.crystal import LATTICE_CONSTANT_A

    comp = _CRYSTAL[category]
    a = LATTICE_CONSTANT_A[comp]
    if comp == "LiF":
        unit = bulk("LiF", "rocksalt", a=a, cubic=True)
    else:
        unit = bulk("OLi2", "fluorite", a=a, cubic=True)
    cands = [
        (i, j, k)
        for i in range(1, 6)
        for j in range(i, 6)
        for k in range(j, 6)
        if len(unit) * i * j * k <= ctx.max_atoms and a * i >= _MIN_BULK_EDGE_A
    ]
    if not cands:
        raise ValueError(
            f"category {category!r}: max_atoms = {ctx.max_atoms} is below the "
            f"{len(unit) * 8} atoms of the smallest {comp} supercell (2 × 2 × 2)"
        )
    reps = tuple(ctx.rng.permutation(cands[ctx.rng.integers(len(cands))]))
    atoms = unit.repeat(reps)
    atoms.set_initial_charges([_FORMAL[s] for s in atoms.symbols])
    return _tag(atoms, "sei"), "bulk", "bulk"


def _is_amorphous(sei: Atoms) -> bool:
    """Crystalline SEI has a few distinct cation–anion nearest distances
    (strain splits them); a glass has a continuum."""
    if "sei_phase" in sei.info:
        return sei.info["sei_phase"] == "amorphous"
    i, j, d = neighbor_list("ijd", sei, 3.0)
    q = sei.get_initial_charges()
    pair = (q[i] > 0) & (q[j] < 0)
    if not pair.any():
        return False
    nearest = np.full(len(sei), np.inf)
    np.minimum.at(nearest, i[pair], d[pair])
    nearest = nearest[np.isfinite(nearest)]
    # A (strained) crystal has a handful of distinct nearest distances.
    return len(np.unique(np.round(nearest / 0.02))) > 6


def _sei_component_mask(atoms: Atoms, comp: str) -> np.ndarray:
    """SEI atoms of ``comp``: its anions and the Li whose nearest anion is one."""
    anion = "F" if comp == "LiF" else "O"
    sei = np.flatnonzero(atoms.arrays[REGION] == "sei")
    sym = np.array(atoms.get_chemical_symbols())
    mask = np.zeros(len(atoms), dtype=bool)
    anions = sei[sym[sei] != "Li"]
    if len(anions) == 0:
        return mask
    for i in sei:
        if sym[i] != "Li":
            mask[i] = sym[i] == anion
            continue
        _, dist = find_mic(
            atoms.positions[anions] - atoms.positions[i], atoms.cell, True
        )
        mask[i] = sym[anions[np.argmin(dist)]] == anion
    return mask


def _amorphous(ctx, category):
    comp = _COMPONENT[category]
    sources = ctx.amorphous_sei(comp)
    if sources:
        k = sources[ctx.rng.integers(len(sources))]
        atoms = ctx.unwrapped[k].copy()
        mask = _sei_component_mask(atoms, comp)
        region = atoms.arrays[REGION].copy()
        region[~mask & (region == "sei")] = "sei_other"
        atoms.set_array(REGION, region)
        z = atoms.positions[mask, 2]
        frame = _lateral_window(
            atoms, ctx.rng, ["sei"], (z.min() - 0.1, z.max() + 0.1), ctx.max_atoms
        )
        if frame is None:
            return None
        region = frame.arrays[REGION]
        frame.set_array(REGION, np.where(region == "sei_other", "sei", region))
        return frame, "slab", ctx.source(k)
    block = ctx.amorphous_block(comp)
    if len(block) <= ctx.max_atoms:
        return block.copy(), "bulk", "bulk"
    # Too large: a neutral cube cut from it, as a cluster in vacuum.
    side = np.diag(block.cell.array).min() * (ctx.max_atoms / len(block)) ** (1 / 3)
    atoms = _tag(block.copy(), "sei")
    atoms.positions[:, 2] -= atoms.positions[:, 2].min()
    lo = ctx.rng.random() * max(atoms.cell[2, 2] - side, 0.0)
    frame = _lateral_window(
        atoms, ctx.rng, ["sei"], (lo, lo + side), ctx.max_atoms, side_A=side
    )
    if frame is None:
        return None
    return _box(frame, [0, 1], VACUUM_A), "cluster", "bulk"


def _contact(ctx, category, lower, upper, below_A, above_A):
    cands = [k for k, a in enumerate(ctx.interfaces) if _has(a, lower, upper)]
    k = cands[ctx.rng.integers(len(cands))]
    atoms = ctx.unwrapped[k]
    zb = _boundary(atoms, lower, upper)
    below, above = ctx.rng.uniform(*below_A), ctx.rng.uniform(*above_A)
    metal = lower == "anode"
    if metal:
        # Exactly the CONTACT_LI_LAYERS topmost anode layers (module docstring).
        from ..build.lithium import LI_BCC_A_A

        top = atoms.positions[atoms.arrays[REGION] == "anode", 2].max()
        below = zb - top + (CONTACT_LI_LAYERS - 0.5) * 0.5 * LI_BCC_A_A
    lengths = tuple(np.diag(atoms.cell.array)[:2])
    # Thin the z-window first (the lateral cell stays whole and periodic), then
    # cut laterally (never with metallic Li: its lateral cell is fixed).
    for _ in range(8):
        z_range = (zb - below, zb + above)
        frame = _cut(atoms, np.zeros(2), lengths, z_range, [lower, upper])
        if frame is None or len(frame) <= ctx.max_atoms:
            break
        if not metal:
            below = max(2.0, 0.85 * below)
        above = max(3.0, 0.85 * above)
    else:
        if metal:
            return None
        frame = _lateral_window(atoms, ctx.rng, [lower, upper], z_range, ctx.max_atoms)
    if frame is None or not _has(frame, lower, upper):
        return None
    return frame, "slab", ctx.source(k)


def _li_sei_contact(ctx):
    return _contact(ctx, "li_sei_contact", "anode", "sei", (3.0, 6.0), (4.0, 8.0))


def _sei_electrolyte_contact(ctx):
    return _contact(
        ctx, "sei_electrolyte_contact", "sei", "electrolyte", (3.0, 5.0), (4.0, 7.0)
    )


def _electrolyte(ctx):
    cands = [k for k, a in enumerate(ctx.interfaces) if _has(a, "electrolyte")]
    k = cands[ctx.rng.integers(len(cands))] if cands else None
    # 9–11 Å cubes (≈ 60–120 atoms at 1.3 g/cm³), smaller for a small max_atoms.
    side = ctx.rng.uniform(9.0, 11.0) * min(1.0, (ctx.max_atoms / 120) ** (1 / 3))
    frame = ctx.fresh_electrolyte(k, (side, side, side))
    # A liquid frame needs a few molecules; more than max_atoms: another side.
    if len(frame) > ctx.max_atoms or len(np.unique(frame.arrays[MOL_ID])) < 4:
        return None
    return frame, "bulk", "electrolyte_box" if k is None else ctx.source(k)


def _liquid_recipe(atoms: Atoms) -> dict:
    """Solvent mole fractions, LiPF₆ molarity (mol/L) and density (g/cm³) of an
    interface's electrolyte region. Its volume is the packing slab between the
    walls (``info`` ``wall_lower_A``/``wall_upper_A``) or, without them, the
    atoms' z-extent + :data:`LIQUID_TOLERANCE_A` (the packmol margins)."""
    from ..units import AVOGADRO_PER_MOL, LITRE_IN_A3, mass_density_g_cm3

    sel = atoms.arrays[REGION] == "electrolyte"
    names, mol = atoms.arrays[MOLECULE][sel], atoms.arrays[MOL_ID][sel]
    n = {name: len(np.unique(mol[names == name])) for name in np.unique(names)}
    n_solvent = sum(n.get(name, 0) for name in _SOLVENTS)
    if n_solvent == 0:
        return {"solvents": None, "salt_molarity": 1.0, "density_g_cm3": 1.3}
    z = atoms.positions[sel, 2]
    if "wall_lower_A" in atoms.info and "wall_upper_A" in atoms.info:
        height = float(atoms.info["wall_upper_A"]) - float(atoms.info["wall_lower_A"])
    else:
        height = float(np.ptp(z)) + LIQUID_TOLERANCE_A
    volume = float(np.prod(np.diag(atoms.cell.array)[:2])) * height
    return {
        "solvents": {s: n.get(s, 0) / n_solvent for s in _SOLVENTS if n.get(s, 0)},
        "salt_molarity": n.get("PF6", 0) / AVOGADRO_PER_MOL / (volume / LITRE_IN_A3),
        "density_g_cm3": mass_density_g_cm3(
            float(atoms.get_masses()[sel].sum()), volume
        ),
    }


def _carbonyl(mol: Atoms) -> tuple[int, int]:
    """(carbonyl O, its C): the O bonded to a single C."""
    sym = np.array(mol.get_chemical_symbols())
    d = mol.get_all_distances()
    for o in np.flatnonzero(sym == "O"):
        carbons = np.flatnonzero((sym == "C") & (d[o] < 1.6))
        if len(carbons) == 1:
            return int(o), int(carbons[0])
    raise RuntimeError(f"no carbonyl O in {mol.info.get('name')}")


def _rotation_to(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotation matrix taking unit vector u onto unit vector v."""
    w = np.cross(u, v)
    c = float(u @ v)
    if np.linalg.norm(w) < 1e-12:
        if c > 0:
            return np.eye(3)
        perp = np.cross(u, [1.0, 0, 0] if abs(u[0]) < 0.9 else [0, 1.0, 0])
        perp /= np.linalg.norm(perp)
        return 2 * np.outer(perp, perp) - np.eye(3)
    k = np.array([[0, -w[2], w[1]], [w[2], 0, -w[0]], [-w[1], w[0], 0]])
    return np.eye(3) + k + k @ k / (1 + c)


def _random_rotation(rng) -> np.ndarray:
    """A uniformly random rotation matrix (unit quaternion from ``rng``)."""
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _farthest_direction(rng, dirs: np.ndarray) -> np.ndarray:
    """The unit vector whose smallest angle to ``dirs`` is largest (best of
    :data:`_DIRECTION_CANDIDATES` random directions: ties broken at random)."""
    cand = rng.normal(size=(_DIRECTION_CANDIDATES, 3))
    cand /= np.linalg.norm(cand, axis=1)[:, None]
    return cand[np.argmin((cand @ dirs.T).max(axis=1))]


def _spin(u: np.ndarray, angle: float) -> np.ndarray:
    """Rotation by ``angle`` about the unit vector ``u`` (Rodrigues)."""
    k = np.array([[0, -u[2], u[1]], [u[2], 0, -u[0]], [-u[1], u[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def _template_shell(ctx, n: int) -> Atoms | None:
    """Li⁺ with ``n`` EC/DMC molecules coordinating by their carbonyl O, and
    one PF₆⁻ (neutral ion pair; module docstring).

    The PF₆⁻ lies along the direction farthest from the solvents: with n = 3 a
    contact ion pair (one F towards the Li⁺ at :data:`_LI_F_A`), with n = 4
    solvent-separated (P at :data:`_LI_P_SEPARATED_A`, random orientation).
    None when two molecules overlap (the caller draws again).
    """
    from ..build.molecules import load_molecule

    li = load_molecule("Li")
    li.positions[:] = 0.0
    parts = [li]
    dirs = ctx.rng.normal(size=(n, 3))
    # Spread the directions: a few rounds of mutual repulsion on the sphere.
    dirs /= np.linalg.norm(dirs, axis=1)[:, None]
    for _ in range(50):
        diff = dirs[:, None] - dirs[None]
        r = np.linalg.norm(diff, axis=2) + np.eye(n)
        dirs += 0.1 * (diff / r[..., None] ** 3).sum(axis=1)
        dirs /= np.linalg.norm(dirs, axis=1)[:, None]
    for u in dirs:
        mol = load_molecule(_SOLVENTS[ctx.rng.integers(2)])
        o, c = _carbonyl(mol)
        axis = mol.positions[o] - mol.positions[c]
        rot = _rotation_to(axis / np.linalg.norm(axis), -u)
        rot = _spin(u, ctx.rng.uniform(0, 2 * np.pi)) @ rot
        p = (mol.positions - mol.positions[o]) @ rot.T + _LI_O_A * u
        mol.positions = p
        parts.append(mol)
    # The counter-ion along the direction farthest from the solvents, in the
    # orientation (best of _PF6_ORIENTATIONS) farthest from their atoms.
    u = _farthest_direction(ctx.rng, dirs)
    pf6 = load_molecule("PF6")
    sym = np.array(pf6.get_chemical_symbols())
    phos = int(np.flatnonzero(sym == "P")[0])
    rel = pf6.positions - pf6.positions[phos]
    solvent_pos = np.concatenate([m.positions for m in parts[1:]])
    best, clearance = None, -np.inf
    for _ in range(_PF6_ORIENTATIONS):
        if n == 3:  # contact ion pair: the P→F bond of one F points at the Li⁺
            fl = np.flatnonzero(sym == "F")
            f = int(fl[ctx.rng.integers(len(fl))])
            bond = np.linalg.norm(rel[f])
            rot = _rotation_to(rel[f] / bond, -u)
            rot = _spin(u, ctx.rng.uniform(0, 2 * np.pi)) @ rot
            pos = rel @ rot.T + (_LI_F_A + bond) * u
        else:  # solvent-separated ion pair
            pos = rel @ _random_rotation(ctx.rng).T + _LI_P_SEPARATED_A * u
        gap = np.linalg.norm(pos[:, None] - solvent_pos[None], axis=2).min()
        if gap > clearance:
            best, clearance = pos, gap
    pf6.positions = best
    parts.append(pf6)
    out = Atoms()
    mol_ids, mol_names = [], []
    for m, part in enumerate(parts):
        mol_ids += [m] * len(part)
        mol_names += [part.info["name"]] * len(part)
        out += Atoms(part.symbols, part.positions, charges=part.get_initial_charges())
    out.set_array(MOL_ID, np.array(mol_ids, dtype=int))
    out.set_array(MOLECULE, np.array(mol_names).astype(str))
    out.set_array(REGION, np.array(["electrolyte"] * len(out)).astype(str))
    out.set_array(FROZEN, np.zeros(len(out), dtype=bool))
    # Reject overlapping molecules (heavy contacts below 1.5 Å between molecules).
    mol = out.arrays[MOL_ID]
    d = out.get_all_distances()
    if (d[mol[:, None] != mol[None, :]] < 1.5).any():
        return None
    return out


def _li_solvent_cluster(ctx):
    n = int(ctx.rng.integers(3, 5))
    cands = [
        k
        for k, a in enumerate(ctx.unwrapped)
        if _has(a, "electrolyte")
        and ((a.arrays[MOLECULE] == "Li") & (a.arrays[REGION] == "electrolyte")).any()
        and np.isin(a.arrays[MOLECULE], _SOLVENTS).any()
        and (a.arrays[MOLECULE] == "PF6").any()  # the counter-ion
    ]
    use_interface = bool(cands) and ctx.rng.random() < 0.5
    if not use_interface:
        out = _template_shell(ctx, n)
        source = "template"
    else:
        k = cands[ctx.rng.integers(len(cands))]
        atoms = ctx.unwrapped[k]
        names, mol = atoms.arrays[MOLECULE], atoms.arrays[MOL_ID]
        lis = np.flatnonzero((names == "Li") & (atoms.arrays[REGION] == "electrolyte"))
        li = lis[ctx.rng.integers(len(lis))]
        sym = np.array(atoms.get_chemical_symbols())

        def near(ids, elements):
            """Per molecule: its smallest distance from the Li⁺ (over atoms of
            ``elements``) and the shift bringing it to the Li⁺'s image."""
            dist, shifts = [], []
            for m in ids:
                idx = np.flatnonzero(mol == m)
                c = atoms.positions[idx].mean(axis=0)
                d, _ = find_mic(c - atoms.positions[li], atoms.cell, atoms.pbc)
                shift = atoms.positions[li] + d - c
                sel = idx[np.isin(sym[idx], elements)]
                dist.append(
                    np.linalg.norm(
                        atoms.positions[sel] + shift - atoms.positions[li], axis=1
                    ).min()
                )
                shifts.append(shift)
            return np.array(dist), shifts

        solv = np.unique(mol[np.isin(names, _SOLVENTS)])
        dist, shifts = near(solv, ["O"])
        pick = np.argsort(dist, kind="stable")[:n]
        pick = pick[np.argsort(solv[pick])]
        anions = np.unique(mol[names == "PF6"])
        dist_pf6, shifts_pf6 = near(anions, ["P", "F"])
        a = int(np.argmin(dist_pf6))
        groups = [(np.array([li]), np.zeros(3))]
        groups += [(np.flatnonzero(mol == solv[p]), shifts[p]) for p in pick]
        groups.append((np.flatnonzero(mol == anions[a]), shifts_pf6[a]))
        out = atoms[np.concatenate([ii for ii, _ in groups])]
        out.positions = out.positions + np.concatenate(
            [np.repeat(sh[None], len(ii), axis=0) for ii, sh in groups]
        )
        source = ctx.source(k)
    if out is None or len(out) > ctx.max_atoms:
        if out is not None:
            raise ValueError(
                f"category 'li_solvent_cluster': {len(out)} atoms (Li⁺, {n} "
                f"solvents and PF₆⁻) exceed max_atoms = {ctx.max_atoms}"
            )
        return None
    out.cell = np.eye(3)
    return _box(out, [0, 1, 2], VACUUM_A), "cluster", source


def _li_adatom(ctx):
    sei = [k for k, a in enumerate(ctx.interfaces) if _has(a, "sei")]
    on_sei = bool(sei) and ctx.rng.random() < 0.5
    if on_sei:
        k = sei[ctx.rng.integers(len(sei))]
        atoms = ctx.unwrapped[k]
        z = atoms.positions[atoms.arrays[REGION] == "sei", 2]
        z_range = (z.max() - ctx.rng.uniform(4.0, 7.0), z.max() + 0.1)
        frame = _lateral_window(atoms, ctx.rng, ["sei"], z_range, ctx.max_atoms - 1)
        if frame is None:
            return None
        source, site = ctx.source(k), "sei"
    else:
        frame = _li_slab_frame(ctx, "li_adatom", spare=1)
        source, site = "bulk", "li_" + frame.info["surface"]
    lengths = np.diag(frame.cell.array)
    xy = ctx.rng.random(2) * lengths[:2]
    d = frame.positions[:, :2] - xy
    d -= lengths[:2] * np.round(d / lengths[:2])
    near = np.linalg.norm(d, axis=1) < 2.5
    top = frame.positions[near, 2].max() if near.any() else frame.positions[:, 2].max()
    height = ctx.rng.uniform(1.5, 2.5)
    ad = Atoms(
        "Li", positions=[[xy[0], xy[1], top + height]], cell=frame.cell, pbc=True
    )
    ad.set_initial_charges([0.0])
    ad.set_array(REGION, np.array(["sei" if site == "sei" else "anode"]).astype(str))
    ad.set_array(MOL_ID, np.array([-1]))
    ad.set_array(MOLECULE, np.array(["-"]).astype(str))
    ad.set_array(FROZEN, np.array([False]))
    frame.info = {}
    frame += ad
    frame = _box(frame, [2], VACUUM_A)
    frame.info.update({"adatom_site": site, "adatom_height_A": float(height)})
    return frame, "slab", source


def _lowest_molecules(box: Atoms, budget: int) -> Atoms | None:
    """The lowest whole molecules of a packed box, ≤ ``budget`` atoms, neutral.

    Units are the solvent molecules and Li⁺–PF₆⁻ pairs (each PF₆⁻, lowest
    first, with the nearest free Li⁺, lateral minimum image); a unit's height
    is its lowest centroid. Units are taken from the lowest up, skipping those
    that no longer fit. None when no unit fits.
    """
    mol, names = box.arrays[MOL_ID], box.arrays[MOLECULE]
    pos = box.positions
    ids = np.unique(mol)
    first = {m: np.flatnonzero(mol == m) for m in ids}
    cent = {m: pos[first[m]].mean(axis=0) for m in ids}
    kind = {m: str(names[first[m][0]]) for m in ids}
    units = [[m] for m in ids if kind[m] not in ("Li", "PF6")]
    free_li = [m for m in ids if kind[m] == "Li"]
    for m in sorted((m for m in ids if kind[m] == "PF6"), key=lambda m: cent[m][2]):
        if not free_li:
            break
        _, dist = find_mic(
            np.array([cent[li] - cent[m] for li in free_li]),
            box.cell,
            [True, True, False],
        )
        units.append([m, free_li.pop(int(np.argmin(dist)))])
    units.sort(key=lambda u: min(cent[m][2] for m in u))
    keep, n = [], 0
    for unit in units:
        size = sum(len(first[m]) for m in unit)
        if n + size <= budget:
            keep += unit
            n += size
    if not keep:
        return None
    return box[np.sort(np.concatenate([first[m] for m in keep]))]


def _li_electrolyte_contact(ctx):
    from ..build.lithium import LI_BCC_A_A, li_slab

    nx, ny = ctx.li_reps
    budget = ctx.max_atoms - nx * ny * CONTACT_LI_LAYERS
    if budget < 10:  # EC, the smallest solvent
        raise ValueError(
            f"category 'li_electrolyte_contact': max_atoms = {ctx.max_atoms} leaves "
            f"{budget} atoms above the {CONTACT_LI_LAYERS}-layer Li(100) slab on the "
            f"anode's {nx} × {ny} lateral cell; one EC needs 10"
        )
    cands = [k for k, a in enumerate(ctx.interfaces) if _has(a, "electrolyte")]
    k = cands[ctx.rng.integers(len(cands))] if cands else None
    slab = li_slab((nx, ny), CONTACT_LI_LAYERS, "100", LI_BCC_A_A, frozen_layers=0)
    slab = _tag(slab, "anode")
    slab.info = {}
    for key in (REGION, MOLECULE):  # wide enough for the molecules' strings
        slab.arrays[key] = slab.arrays[key].astype("<U16")
    lx, ly = np.diag(slab.cell.array)[:2]
    box = ctx.fresh_electrolyte(k, (lx, ly, _CONTACT_LIQUID_A))
    layer = _lowest_molecules(box, budget)
    if layer is None:
        return None
    # Lower the layer until one atom sits at its smallest height above the
    # top Li plane (module docstring).
    heavy = np.array(layer.get_chemical_symbols()) != "H"
    height = np.where(heavy, METAL_CONTACT_A, METAL_CONTACT_H_A)
    height += ctx.rng.uniform(0.0, _CONTACT_EXTRA_A)
    top = slab.positions[:, 2].max()
    layer.positions[:, 2] += top + np.max(height - layer.positions[:, 2])
    layer.set_cell(slab.cell)
    frame = slab + layer
    frame = _box(frame, [2], VACUUM_A)
    return frame, "slab", "electrolyte_box" if k is None else ctx.source(k)


_RECIPES = {
    "li_bulk": _li_bulk,
    "li_surface": _li_surface,
    "lif_crystal": lambda ctx: _crystal(ctx, "lif_crystal"),
    "li2o_crystal": lambda ctx: _crystal(ctx, "li2o_crystal"),
    "lif_amorphous": lambda ctx: _amorphous(ctx, "lif_amorphous"),
    "li2o_amorphous": lambda ctx: _amorphous(ctx, "li2o_amorphous"),
    "li_sei_contact": _li_sei_contact,
    "sei_electrolyte_contact": _sei_electrolyte_contact,
    "electrolyte": _electrolyte,
    "li_solvent_cluster": _li_solvent_cluster,
    "li_adatom": _li_adatom,
    "li_electrolyte_contact": _li_electrolyte_contact,
}


class _Context:
    """Inputs, the generator and the per-call caches of one sampling run."""

    def __init__(self, interfaces, max_atoms, rng, amorphous_blocks, quality):
        self.interfaces = interfaces
        self.unwrapped = [_unwrap_molecules(a) for a in interfaces]
        self.max_atoms = max_atoms
        self.rng = rng
        self.quality = quality
        self._blocks = dict(amorphous_blocks or {})
        self._amorphous_sei: dict[str, list[int]] = {}
        self._liquid: dict = {}
        self.li_reps = _li_lateral_reps(interfaces)

    def source(self, k: int) -> str:
        return str(self.interfaces[k].info.get("system", f"interface_{k}"))

    def amorphous_sei(self, comp: str) -> list[int]:
        """Interfaces whose SEI holds an amorphous ``comp`` patch."""
        if comp not in self._amorphous_sei:
            found = []
            for k, atoms in enumerate(self.unwrapped):
                if not _has(atoms, "sei"):
                    continue
                mask = _sei_component_mask(atoms, comp)
                if mask.sum() >= 8 and _is_amorphous(atoms[mask]):
                    found.append(k)
            self._amorphous_sei[comp] = found
        return self._amorphous_sei[comp]

    def amorphous_block(self, comp: str) -> Atoms:
        """One melt-quenched bulk block per component and call, sized to fit."""
        if comp not in self._blocks:
            from ..build.amorphous import amorphous_block
            from ..build.crystal import (
                formula_mass_amu,
                formula_units,
                target_density_g_cm3,
            )

            per_fu = sum(formula_units(comp).values())
            n_fu = max(1, self.max_atoms // per_fu)
            rho = target_density_g_cm3(comp, "amorphous")
            volume = n_fu * formula_mass_amu(comp) * 1.66053906660 / rho
            side = max(volume ** (1 / 3), 10.0)
            seed = int(self.rng.integers(2**31 - 1))
            self._blocks[comp] = amorphous_block(
                comp, [[side, 0.0], [0.0, side]], side, seed=seed, quality=self.quality
            )
        return _tag(self._blocks[comp].copy(), "sei")

    def fresh_electrolyte(self, k: int | None, lengths) -> Atoms:
        """A fresh periodic packmol box of edges ``lengths`` (lx, ly, lz; Å)
        holding interface ``k``'s electrolyte (EC:DMC 1:1, 1 M LiPF₆,
        1.3 g/cm³ when None)."""
        from ..build.electrolyte import electrolyte_box

        if k not in self._liquid:
            self._liquid[k] = (
                {
                    "solvents": {"EC": 0.5, "DMC": 0.5},
                    "salt_molarity": 1.0,
                    "density_g_cm3": 1.3,
                }
                if k is None
                else _liquid_recipe(self.interfaces[k])
            )
        lx, ly, lz = (float(x) for x in lengths)
        box = electrolyte_box(
            [[lx, 0.0], [0.0, ly]],
            lz,
            **self._liquid[k],
            seed=int(self.rng.integers(2**31 - 1)),
            tolerance_A=LIQUID_TOLERANCE_A,
        )
        _ensure_arrays(box)
        box.set_array(FROZEN, np.zeros(len(box), dtype=bool))
        box.info = {}
        return box


#: Displacements of atoms in molecules, relative to ``rattle_A`` (stiff bonds).
MOLECULE_RATTLE_SCALE = 0.2


def _perturb(atoms, kind, rng, rattle_A, strain, hot_fraction, hot_factor) -> None:
    hot = bool(rng.random() < hot_fraction)
    sigma = rattle_A * (hot_factor if hot else 1.0)
    u = rng.uniform(-1.0, 1.0, size=6)
    # Truncated at 3σ; atoms of covalent molecules (mol_id >= 0) move less:
    # their bonds are stiff (C=O, C-H, P-F), and a hot metal-sized rattle would
    # squeeze C=O to < 0.9 Å and give unphysical 100+ eV/Å forces.
    noise = np.clip(rng.normal(size=(len(atoms), 3)), -3.0, 3.0)
    if "mol_id" in atoms.arrays:
        noise[atoms.arrays["mol_id"] >= 0] *= MOLECULE_RATTLE_SCALE
    eps = strain * np.array(
        [[u[0], u[5], u[4]], [u[5], u[1], u[3]], [u[4], u[3], u[2]]]
    )
    if kind == "slab":
        eps[2, :] = 0.0
        eps[:, 2] = 0.0
    elif kind == "cluster":
        eps[:] = 0.0
    deform = np.eye(3) + eps
    atoms.set_cell(atoms.cell.array @ deform, scale_atoms=False)
    atoms.positions = atoms.positions @ deform + sigma * noise
    atoms.info["perturbation"] = "hot" if hot else "rattle"
    atoms.info["rattle_A"] = float(sigma)
    atoms.info["molecule_rattle_A"] = float(sigma * MOLECULE_RATTLE_SCALE)
    atoms.info["strain"] = np.array(
        [eps[0, 0], eps[1, 1], eps[2, 2], eps[1, 2], eps[0, 2], eps[0, 1]]
    )


def sample_configurations(
    interfaces: Sequence[Atoms],
    counts: Mapping[str, int],
    max_atoms: int = 120,
    seed: int = 0,
    rattle_A: float = 0.05,
    strain: float = 0.02,
    hot_snapshots: float = 0.25,
    hot_factor: float = 3.0,
    amorphous_blocks: Mapping[str, Atoms] | None = None,
    amorphous_quality: str = "demo",
) -> list[Atoms]:
    """Draw small, perturbed, periodic configurations for reference labelling.

    Parameters
    ----------
    interfaces : list of ase.Atoms
        Built interfaces (:func:`constpot.build.recipe.build_interface`):
        orthorhombic cells, z the surface normal, arrays ``region``,
        ``mol_id``, ``initial_charges`` (formal). May be empty: then only the
        categories with a bulk fallback can be drawn.
    counts : mapping str → int
        Number of frames per category (keys of :data:`CATEGORIES`, ≥ 0).
    max_atoms : int
        Largest frame size.
    seed : int
        Seed of the single ``np.random.default_rng`` behind every choice.
    rattle_A : float, Å
        Standard deviation of the Gaussian displacement per Cartesian
        component (≥ 0).
    strain : float
        Bound on every component of the symmetric strain tensor, in [0, 0.2].
    hot_snapshots : float
        Fraction (probability per frame) of "hot" frames, in [0, 1].
    hot_factor : float
        Rattle multiplier of a hot frame (≥ 1), standing in for an
        MD snapshot at high temperature.
    amorphous_blocks : mapping {"LiF", "Li2O"} → ase.Atoms, optional
        Pre-built 3D-periodic amorphous bulk blocks (e.g. from the build
        stage); a missing one is melt-quenched once per call
        (:func:`constpot.build.amorphous.amorphous_block`, ≈ 20 s at
        ``quality="demo"``) when an amorphous category has no amorphous SEI
        to cut from.
    amorphous_quality : {"demo", "paper"}
        Melt-quench preset of those blocks.

    Returns
    -------
    list of ase.Atoms
        Categories in :data:`CATEGORIES` order, ``counts[c]`` frames each.
        ``pbc`` True; ≤ ``max_atoms`` atoms; no two atoms (images included)
        closer than :data:`MIN_DISTANCE_A`. Arrays ``region``, ``mol_id``,
        ``molecule``, ``frozen``, ``initial_charges`` (formal, e). Info:
        ``category``, ``source`` ("bulk", "template", "electrolyte_box" or
        the interface's ``info["system"]``; for electrolyte frames the
        interface whose electrolyte was packed), ``sample_index`` (0, 1, … in
        order), ``total_charge`` (int, e; = Σ initial_charges),
        ``kind`` ("bulk", "slab" or "cluster"), ``perturbation``,
        ``rattle_A``, ``strain`` (module docstring); li_adatom frames also
        ``adatom_site`` and ``adatom_height_A``. li_electrolyte_contact frames:
        the Li slab has region "anode", the molecules "electrolyte"; their
        source is the interface whose electrolyte composition was packed
        ("electrolyte_box": the default EC:DMC 1:1, 1 M LiPF₆, without one).

    Raises
    ------
    ValueError
        Unknown category (the message lists the known ones); a count that is
        not an integer ≥ 0; a parameter out of range; a category impossible
        with these interfaces or this ``max_atoms`` (the message names it and
        why); no valid frame after repeated tries.
    TypeError
        ``interfaces`` not a list of ase.Atoms.
    """
    counts = _check_counts(counts)
    interfaces = _check_interfaces(interfaces)
    if (
        isinstance(max_atoms, bool)
        or not isinstance(max_atoms, (int, np.integer))
        or max_atoms < 1
    ):
        raise ValueError(f"max_atoms must be an integer >= 1, got {max_atoms!r}")
    rattle_A = _check_number(rattle_A, "rattle_A", 0.0, 1.0)
    strain = _check_number(strain, "strain", 0.0, 0.2)
    hot_snapshots = _check_number(hot_snapshots, "hot_snapshots", 0.0, 1.0)
    hot_factor = _check_number(hot_factor, "hot_factor", 1.0, 20.0)
    if amorphous_quality not in ("demo", "paper"):
        raise ValueError(
            f"amorphous_quality must be 'demo' or 'paper', got {amorphous_quality!r}"
        )
    _requirements(counts, interfaces)

    rng = np.random.default_rng(seed)
    ctx = _Context(interfaces, int(max_atoms), rng, amorphous_blocks, amorphous_quality)
    frames: list[Atoms] = []
    for category in CATEGORIES:
        for _ in range(counts.get(category, 0)):
            for _attempt in range(_MAX_TRIES):
                made = _RECIPES[category](ctx)
                if made is None:
                    continue
                atoms, kind, source = made
                if len(atoms) > max_atoms:
                    continue
                _perturb(atoms, kind, rng, rattle_A, strain, hot_snapshots, hot_factor)
                if _min_distance_ok(atoms):
                    break
            else:
                raise ValueError(
                    f"category {category!r}: no valid frame (≤ {max_atoms} atoms, "
                    f"no pair closer than {MIN_DISTANCE_A} Å) in {_MAX_TRIES} tries"
                )
            atoms.info.update(
                {
                    "category": category,
                    "source": source,
                    "sample_index": len(frames),
                    "total_charge": _total_charge(atoms),
                    "kind": kind,
                }
            )
            frames.append(atoms)
    return frames
