"""The sampler: :func:`sample_configurations` and its per-call context.

Validates the inputs once, then draws ``counts[c]`` frames of each category
in :data:`CATEGORIES` order from one generator, each through its recipe
(:data:`_RECIPES`), retrying a recipe that gives no valid frame (too large,
two atoms closer than :data:`~.geometry.MIN_DISTANCE_A`). See
:mod:`constpot.label.sampling` for the categories and conventions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ...build.amorphous import amorphous_block
from ...build.crystal import formula_mass_amu, formula_units, target_density_g_cm3
from ...build.electrolyte import electrolyte_box
from ...keys import (
    ANODE_REGION,
    CATEGORY,
    ELECTROLYTE_REGION,
    FROZEN,
    MOL_ID,
    REGION,
    SAMPLE_INDEX,
    SEI_REGION,
    SYSTEM,
    TOTAL_CHARGE,
)
from ..labellers import Labeller, make_labeller
from .bulk import (
    _amorphous,
    _crystal,
    _is_amorphous,
    _li_bulk,
    _li_lateral_reps,
    _li_lattice_A,
    _li_surface,
    _sei_component_mask,
)
from .clusters import _li_solvent_cluster
from .contacts import (
    _li_adatom,
    _li_electrolyte_contact,
    _li_sei_contact,
    _sei_electrolyte_contact,
)
from .geometry import (
    MIN_DISTANCE_A,
    _ensure_arrays,
    _has,
    _min_distance_ok,
    _tag,
    _total_charge,
    _unwrap_molecules,
)
from .liquid import LIQUID_TOLERANCE_A, _electrolyte, _liquid_recipe
from .perturb import _perturb

__all__ = ["CATEGORIES", "sample_configurations"]


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
#: Attempts per frame before giving up.
_MAX_TRIES = 50


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


def _uses_kpoints(labeller) -> bool:
    """Whether ``labeller`` (None, a config dict or a Labeller) labels frames
    of any cell consistently (a k-point rule, or a local teacher potential);
    None (the default) stands for a Γ-only labeller."""
    if labeller is None:
        return False
    if isinstance(labeller, Mapping):
        labeller = make_labeller(dict(labeller))
    if not isinstance(labeller, Labeller):
        raise TypeError(
            "labeller must be None, a labeller config dict or a "
            f"constpot.label.Labeller, got {type(labeller).__name__}"
        )
    return labeller.cell_consistent


def _requirements(counts: dict[str, int], interfaces: list[Atoms]) -> None:
    needs = {
        "li_sei_contact": (ANODE_REGION, SEI_REGION),
        "sei_electrolyte_contact": (SEI_REGION, ELECTROLYTE_REGION),
    }
    for cat, regions in needs.items():
        if counts.get(cat, 0) and not any(_has(a, *regions) for a in interfaces):
            raise ValueError(
                f"category {cat!r} needs an interface with regions "
                f"{' and '.join(regions)}; none of the {len(interfaces)} interfaces "
                "given has them"
            )


class _Context:
    """Inputs, the generator and the per-call caches of one sampling run."""

    def __init__(
        self,
        interfaces,
        max_atoms,
        rng,
        amorphous_blocks,
        quality,
        kpoints=False,
        store=None,
    ):
        self.interfaces = interfaces
        self.store = store
        self.unwrapped = [_unwrap_molecules(a) for a in interfaces]
        self.max_atoms = max_atoms
        self.rng = rng
        self.quality = quality
        #: The labeller has a k-point rule: metal frames need no common cell.
        self.kpoints = bool(kpoints)
        self._blocks = dict(amorphous_blocks or {})
        self._amorphous_sei: dict[str, list[int]] = {}
        self._liquid: dict = {}
        # Γ-only labeller: the anodes' one lateral cell (checked up front).
        self.li_reps = None if self.kpoints else _li_lateral_reps(interfaces)
        #: Lattice constant (Å) of fresh metal frames: the anode's.
        self.li_a_A = _li_lattice_A(interfaces)

    def source(self, k: int) -> str:
        return str(self.interfaces[k].info.get(SYSTEM, f"interface_{k}"))

    def amorphous_sei(self, comp: str) -> list[int]:
        """Interfaces whose SEI holds an amorphous ``comp`` patch."""
        if comp not in self._amorphous_sei:
            found = []
            for k, atoms in enumerate(self.unwrapped):
                if not _has(atoms, SEI_REGION):
                    continue
                mask = _sei_component_mask(atoms, comp)
                if mask.sum() >= 8 and _is_amorphous(atoms[mask]):
                    found.append(k)
            self._amorphous_sei[comp] = found
        return self._amorphous_sei[comp]

    def amorphous_block(self, comp: str) -> Atoms:
        """One melt-quenched bulk block per component and call, sized to fit."""
        if comp not in self._blocks:
            per_fu = sum(formula_units(comp).values())
            n_fu = max(1, self.max_atoms // per_fu)
            rho = target_density_g_cm3(comp, "amorphous")
            volume = n_fu * formula_mass_amu(comp) * 1.66053906660 / rho
            side = max(volume ** (1 / 3), 10.0)
            seed = int(self.rng.integers(2**31 - 1))
            self._blocks[comp] = amorphous_block(
                comp,
                [[side, 0.0], [0.0, side]],
                side,
                seed=seed,
                quality=self.quality,
                store=self.store,
            )
        return _tag(self._blocks[comp].copy(), SEI_REGION)

    def liquid_recipe(self, k: int | None) -> dict:
        """Interface ``k``'s electrolyte as keyword arguments of
        :func:`constpot.build.electrolyte.electrolyte_box` (EC:DMC 1:1,
        1 M LiPF₆, 1.3 g/cm³ when None)."""
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
        return self._liquid[k]

    def fresh_electrolyte(self, k: int | None, lengths) -> Atoms:
        """A fresh periodic packmol box of edges ``lengths`` (lx, ly, lz; Å)
        holding interface ``k``'s electrolyte (:meth:`liquid_recipe`)."""
        lx, ly, lz = (float(x) for x in lengths)
        box = electrolyte_box(
            [[lx, 0.0], [0.0, ly]],
            lz,
            **self.liquid_recipe(k),
            seed=int(self.rng.integers(2**31 - 1)),
            tolerance_A=LIQUID_TOLERANCE_A,
        )
        _ensure_arrays(box)
        box.set_array(FROZEN, np.zeros(len(box), dtype=bool))
        box.info = {}
        return box


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


def sample_configurations(
    interfaces: Sequence[Atoms],
    counts: Mapping[str, int],
    max_atoms: int = 120,
    seed: int = 0,
    rattle_A: float = 0.05,
    strain: float = 0.02,
    hot_snapshots: float = 0.25,
    hot_factor: float = 3.0,
    metal_rattle_A: float | None = None,
    amorphous_blocks: Mapping[str, Atoms] | None = None,
    amorphous_quality: str = "demo",
    labeller: Labeller | Mapping | None = None,
    amorphous_store: str | Path | None = None,
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
    metal_rattle_A : float or None, Å
        Displacement width of frames of metallic Li only (li_bulk,
        li_surface, Li-slab li_adatom), in place of ``rattle_A`` and the hot
        factor: the metal's thermal amplitude (0.21 Å per component in
        SevenNet-0+D3(BJ) MD of a Li(100) slab at 300 K). None: ``rattle_A``
        like every other frame.
    amorphous_blocks : mapping {"LiF", "Li2O"} → ase.Atoms, optional
        Pre-built 3D-periodic amorphous bulk blocks (e.g. from the build
        stage); a missing one is melt-quenched once per call
        (:func:`constpot.build.amorphous.amorphous_block`, ≈ 20 s at
        ``quality="demo"``) when an amorphous category has no amorphous SEI
        to cut from.
    amorphous_quality : {"demo", "paper"}
        Melt-quench preset of those blocks.
    amorphous_store : path or None
        Folder of stored melt-quenched blocks for those blocks
        (:func:`constpot.build.amorphous.amorphous_block`, ``store``).
    labeller : constpot.label.Labeller, labeller config dict, or None
        The labeller the frames are for. Without a k-point rule (None, the
        default, or kind xtb), every frame with metallic Li has the anode's
        lateral cell, so interfaces whose anodes differ, or whose anode's
        frames do not fit ``max_atoms``, are refused. With one (kind gpaw, or
        ase with ``kpt_spacing_inv_A``), metal frames are fresh small cells or
        periodic windows of whole bcc cells cut from the interface
        (:mod:`constpot.label.sampling`).

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
        ``interfaces`` not a list of ase.Atoms; ``labeller`` of another type.
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
    if metal_rattle_A is not None:
        metal_rattle_A = _check_number(metal_rattle_A, "metal_rattle_A", 0.0, 1.0)
    if amorphous_quality not in ("demo", "paper"):
        raise ValueError(
            f"amorphous_quality must be 'demo' or 'paper', got {amorphous_quality!r}"
        )
    kpoints = _uses_kpoints(labeller)
    _requirements(counts, interfaces)

    rng = np.random.default_rng(seed)
    ctx = _Context(
        interfaces,
        int(max_atoms),
        rng,
        amorphous_blocks,
        amorphous_quality,
        kpoints,
        amorphous_store,
    )
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
                _perturb(
                    atoms,
                    kind,
                    rng,
                    rattle_A,
                    strain,
                    hot_snapshots,
                    hot_factor,
                    metal_rattle_A,
                )
                if _min_distance_ok(atoms):
                    break
            else:
                raise ValueError(
                    f"category {category!r}: no valid frame (≤ {max_atoms} atoms, "
                    f"no pair closer than {MIN_DISTANCE_A} Å) in {_MAX_TRIES} tries"
                )
            atoms.info.update(
                {
                    CATEGORY: category,
                    "source": source,
                    SAMPLE_INDEX: len(frames),
                    TOTAL_CHARGE: _total_charge(atoms),
                    "kind": kind,
                }
            )
            frames.append(atoms)
    return frames
