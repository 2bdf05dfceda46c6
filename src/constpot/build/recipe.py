"""Build recipes: named systems from config, resolved against presets.

A recipe is a small mapping (config ``systems: {name: recipe}``)::

    preset: demo            # demo (≈ 300–600 atoms) | paper (≈ 3000–4000 atoms)
    seed: 1
    sei:
      phase: amorphous      # amorphous | crystalline | none
      layout: mosaic        # mosaic (lateral patches) | layered (one on another)
      components: {LiF: 0.5, Li2O: 0.5}   # lateral (mosaic) or thickness fractions
      thickness_A: 6.0

Keys left out take the preset's value (:data:`PRESETS`). :func:`build_interface`
turns a recipe into an anode | SEI | electrolyte | counter-electrode cell;
:func:`resolve_recipe` checks it first and fails with a message naming the key
and the numbers, before anything is built.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from ase import Atoms

from ..keys import (
    ANODE_REGION,
    COUNTER_REGION,
    ELECTROLYTE_REGION,
    SEI_REGION,
    SYSTEM,
    WALL_LOWER_A,
    WALL_UPPER_A,
)
from ..units import AMU_PER_A3_IN_G_PER_CM3, AVOGADRO_PER_MOL, LITRE_IN_A3
from .amorphous import amorphous_block
from .crystal import (
    crystalline_block,
    formula_mass_amu,
    formula_units,
    lateral_fit,
    target_density_g_cm3,
)
from .electrolyte import electrolyte_box
from .lithium import LI_BCC_A_A, lateral_cell, layer_spacing_A, li_slab
from .stack import Block, stack_blocks

__all__ = ["PRESETS", "build_interface", "resolve_recipe"]

SEI_COMPONENTS = ("LiF", "Li2O")
SOLVENTS = ("EC", "DMC")

#: Size presets. ``demo``: minutes on a laptop; ``paper``: lateral size like the
#: paper's example cell (≈ 33 × 16 Å; here 9 × 5 bcc(100) cells, 31.0 × 17.2 Å).
#: Both build the metal at ``li.a_A`` = :data:`.lithium.LI_BCC_A_A` = 3.33 Å,
#: the PBE+D3(BJ) lattice constant of bcc Li (3.3265 Å with GPAW, 3.328 Å with
#: SevenNet-0 + D3(BJ): ``benchmarks/labeller_candidates.py``): the paper's
#: level of theory and that of both presets' reference methods (the demo's
#: teacher, the paper's GPAW), so the model meets the metal at its own a₀. It
#: puts bcc's second shell 0.17 Å inside the metallic-Li rule's cutoff (≥ 8 Li
#: within 3.5 Å); experiment, 3.51 Å, puts it outside, and the (100) surface
#: layer is never metallic (:mod:`.lithium`, "The lattice constant").
PRESETS: dict[str, dict] = {
    "demo": {
        "seed": 0,
        "li": {
            "surface": "100",
            "lateral_reps": [4, 4],
            "layers": 6,
            "frozen_layers": 2,
            "a_A": LI_BCC_A_A,
        },
        "counter_electrode": {"enabled": True, "layers": 4, "frozen_layers": 2},
        "sei": {
            "phase": "amorphous",
            "layout": "mosaic",
            "components": {"LiF": 0.5, "Li2O": 0.5},
            "thickness_A": 6.0,
            "quality": "demo",
        },
        "electrolyte": {
            "thickness_A": 16.0,
            "solvents": {"EC": 1.0},
            # 4 LiPF6 + 19 EC in the demo cell: the salt-to-solvent ratio of
            # the paper's released cell (25 LiPF6 + 147 EC, ~2 M), enough ions
            # that one atom does not decide a claim
            "salt_molarity": 2.3,
            "density_g_cm3": 1.3,
            "tolerance_A": 2.0,
        },
        "gap_A": 2.0,
        "vacuum_factor": 3.0,
        "cell_height_A": None,
    },
}


def _merge(base: dict, override: Mapping, path: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        where = f"{path}.{key}" if path else key
        if key not in base:
            raise ValueError(
                f"recipe key {where!r} is not known; known keys here: "
                f"{', '.join(sorted(base))}"
            )
        if isinstance(base[key], dict) and key not in ("components", "solvents"):
            if not isinstance(value, Mapping):
                raise ValueError(f"recipe key {where!r} must be a mapping")
            out[key] = _merge(base[key], value, where)
        else:
            out[key] = copy.deepcopy(value)
    return out


# The paper preset differs from the demo only in size and schedule.
PRESETS["paper"] = _merge(
    PRESETS["demo"],
    {
        "li": {"lateral_reps": [9, 5], "layers": 12},
        "counter_electrode": {"layers": 6},
        "sei": {"thickness_A": 12.0, "quality": "paper"},
        # 25 LiPF6 + 146 EC: the paper's released cell has 25 + 147
        "electrolyte": {"thickness_A": 40.0, "salt_molarity": 1.95},
    },
    "",
)


def _fractions(values: Mapping, known: tuple[str, ...], key: str) -> dict:
    if not values:
        raise ValueError(f"recipe key {key!r} is empty")
    for name, frac in values.items():
        if name not in known:
            raise ValueError(
                f"recipe key {key!r}: unknown component {name!r}; known: "
                f"{', '.join(known)}"
            )
        if not frac > 0:
            raise ValueError(f"recipe key {key}.{name} must be > 0, got {frac}")
    total = sum(values.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"recipe key {key!r}: fractions sum to {total:g}, not 1")
    # In name order, whatever order the config lists them in: the workflow
    # hands each job its config as JSON with sorted keys, and `constpot build`
    # on the YAML must build the same cell (mosaic patch order, block seeds).
    return dict(sorted(values.items()))


def resolve_recipe(recipe: Mapping | None, name: str = "system") -> dict:
    """Fill a recipe from its preset and check it.

    Returns
    -------
    dict
        The complete recipe, plus ``name`` and the planned electrolyte
        thickness ``electrolyte.thickness_A`` adjusted so that the salt count
        is an integer at exactly the requested molarity.

    Raises
    ------
    ValueError
        Unknown preset, key or component; fractions not summing to 1;
        non-positive sizes; a stack taller than ``cell_height_A``.
    """
    recipe = dict(recipe or {})
    preset = recipe.pop("preset", "demo")
    if preset not in PRESETS:
        raise ValueError(
            f"system {name!r}: unknown preset {preset!r}; known: {', '.join(PRESETS)}"
        )
    full = _merge(PRESETS[preset], recipe, "")
    full["preset"] = preset
    full["name"] = name
    li, sei, ely = full["li"], full["sei"], full["electrolyte"]
    if sei["phase"] not in ("amorphous", "crystalline", "none"):
        raise ValueError(
            f"system {name!r}: sei.phase must be amorphous, crystalline or none, "
            f"got {sei['phase']!r}"
        )
    if sei["layout"] not in ("mosaic", "layered"):
        raise ValueError(
            f"system {name!r}: sei.layout must be mosaic or layered, got "
            f"{sei['layout']!r}"
        )
    if sei["phase"] != "none":
        sei["components"] = _fractions(
            sei["components"], SEI_COMPONENTS, "sei.components"
        )
        if not sei["thickness_A"] > 0:
            raise ValueError(
                f"system {name!r}: sei.thickness_A must be > 0, "
                f"got {sei['thickness_A']}"
            )
    ely["solvents"] = _fractions(ely["solvents"], SOLVENTS, "electrolyte.solvents")
    for key in ("thickness_A", "density_g_cm3", "tolerance_A"):
        if not ely[key] > 0:
            raise ValueError(f"system {name!r}: electrolyte.{key} must be > 0")
    if ely["salt_molarity"] < 0:
        raise ValueError(f"system {name!r}: electrolyte.salt_molarity must be >= 0")
    reps = li["lateral_reps"]
    if len(reps) != 2 or min(reps) < 1:
        raise ValueError(
            f"system {name!r}: li.lateral_reps must be two integers >= 1, got {reps}"
        )

    # Electrolyte thickness for an integer salt count at the exact molarity.
    cell_xy = np.asarray(lateral_cell(reps, li["surface"], li["a_A"]))
    area = abs(float(np.linalg.det(cell_xy)))
    if ely["salt_molarity"] > 0:
        per_A = ely["salt_molarity"] * AVOGADRO_PER_MOL * area / LITRE_IN_A3
        n_salt = max(1, round(per_A * ely["thickness_A"]))
        ely["thickness_A"] = n_salt / per_A
        ely["n_salt"] = n_salt
    else:
        ely["n_salt"] = 0

    planned = _planned_height(full)
    height = full["cell_height_A"]
    if height is not None and planned + 2 * full["gap_A"] > height:
        raise ValueError(
            f"system {name!r}: the stack needs {planned:.1f} Å along z (anode, SEI "
            f"{sei['thickness_A'] if sei['phase'] != 'none' else 0:.1f} Å, "
            f"electrolyte {ely['thickness_A']:.1f} Å, counter electrode) plus gaps, "
            f"more than cell_height_A = {height:.1f} Å"
        )
    return full


def _planned_height(full: dict) -> float:
    li = full["li"]
    d = layer_spacing_A(li["surface"], li["a_A"])
    height = li["layers"] * d + full["electrolyte"]["thickness_A"]
    if full["sei"]["phase"] != "none":
        height += full["sei"]["thickness_A"]
    if full["counter_electrode"]["enabled"]:
        height += full["counter_electrode"]["layers"] * d
    return height + 3 * full["gap_A"]


def _seeds(seed: int, n: int) -> list[int]:
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n)]


def _sei_blocks(
    full: dict, cell: np.ndarray, seeds: list[int], log=None, store=None
) -> list[Block]:
    sei = full["sei"]
    if sei["phase"] == "none":
        return []
    if sei["phase"] == "crystalline":

        def make(comp, cxy, thickness, seed):
            return crystalline_block(comp, cxy, thickness)
    else:

        def make(comp, cxy, thickness, seed):
            return amorphous_block(
                comp,
                cxy,
                thickness,
                seed=seed,
                quality=sei["quality"],
                log=log,
                store=store,
            )

    cell_xy = cell[:2, :2]
    comps = list(sei["components"].items())
    if sei["layout"] == "layered":
        return [
            Block(make(comp, cell_xy, frac * sei["thickness_A"], seeds[k]), SEI_REGION)
            for k, (comp, frac) in enumerate(comps)
        ]
    # Mosaic: patches side by side along the first lateral vector, in name
    # order of the components (resolve_recipe); the free
    # width is shared out as equal seams (each at least gap_A). Crystalline
    # patches are built in their own periodic box and take a whole number of
    # surface cells along x (no strain there). Amorphous patches are carved
    # from a block quenched in the full lateral cell: a melt-quench box only a
    # few Å wide stays ordered (its periodic images constrain it).
    gap = full["gap_A"]
    length = math.hypot(*cell_xy[0])
    unit = cell_xy[0] / length
    widths = []
    for comp, frac in comps:
        avail = frac * length - gap
        if avail <= 0:
            raise ValueError(
                f"system {full['name']!r}: sei.components.{comp} = {frac} gives a "
                f"patch {frac * length:.2f} Å wide, not wider than gap_A = {gap}"
            )
        if sei["phase"] == "crystalline":
            fit = lateral_fit(comp, np.array([[avail, 0.0], [0.0, cell_xy[1, 1]]]))
            bx = fit.cell_A[0]
            n_cells = math.floor(avail / bx)
            if n_cells < 1:
                raise ValueError(
                    f"system {full['name']!r}: the {comp} patch ({avail:.2f} Å "
                    f"free) is narrower than one surface cell ({bx:.2f} Å); raise "
                    f"sei.components.{comp} or li.lateral_reps"
                )
            avail = n_cells * bx
        widths.append(avail)
    seam = (length - sum(widths)) / len(widths)
    patches = Atoms(cell=cell, pbc=True)
    offset = 0.5 * seam
    for k, ((comp, _), width) in enumerate(zip(comps, widths, strict=True)):
        if sei["phase"] == "crystalline":
            sub = cell_xy.copy()
            sub[0] = unit * width
            block = make(comp, sub, sei["thickness_A"], seeds[k])
        else:
            melt = max(sei["thickness_A"], _MIN_GLASS_BOX_A)
            block = _carve_patch(
                make(comp, cell_xy, melt, seeds[k]),
                comp,
                unit,
                width,
                abs(float(np.linalg.det(cell_xy))) / length,
                sei["thickness_A"],
            )
        pos = block.positions.copy()
        pos[:, :2] += offset * unit
        pos[:, 2] -= pos[:, 2].min()
        patches += Atoms(
            block.get_chemical_symbols(),
            positions=pos,
            cell=cell,
            pbc=True,
            charges=block.get_initial_charges(),
        )
        offset += width + seam
    patches.info["sei_patch_widths_A"] = " ".join(f"{w:.4f}" for w in widths)
    return [Block(patches, SEI_REGION)]


#: Smallest periodic width (Å) of a melt-quench box that holds a glass: below
#: it the box's own images keep the ions ordered (amorphous.py's check).
_MIN_GLASS_BOX_A = 10.0


def _carve_patch(
    block: Atoms,
    component: str,
    unit: np.ndarray,
    width: float,
    depth: float,
    thickness: float,
) -> Atoms:
    """A stoichiometric patch of ``block`` at its own density.

    The patch is the box ``[0, width)`` along ``unit`` × ``depth`` × the lowest
    ``thickness`` along z. It takes the number of formula units that fills that
    box at the block's amorphous target density, choosing the ions of each
    species that lie deepest inside the box (ions just outside it, by the
    smallest distance, make up a shortfall). Neutral and stoichiometric by
    construction, at the target density to one formula unit.
    """
    density = target_density_g_cm3(component, "amorphous")
    mass = density / AMU_PER_A3_IN_G_PER_CM3 * width * depth * thickness
    n_units = max(1, round(mass / formula_mass_amu(component)))
    period = float(np.linalg.norm(block.cell.array[0, :2]))
    t = (block.positions[:, :2] @ unit) % period
    z = block.positions[:, 2] - block.positions[:, 2].min()
    # Signed depth inside the box: > 0 inside (distance to the nearest cut
    # face; the bottom is the block's own surface), < 0 outside.
    inside = np.minimum.reduce([t, width - t, thickness - z])
    keep = []
    symbols = np.array(block.get_chemical_symbols())
    for element, per_unit in formula_units(component).items():
        idx = np.flatnonzero(symbols == element)
        need = per_unit * n_units
        if need > idx.size:
            raise ValueError(
                f"{component} patch: needs {need} {element}, the block has "
                f"{idx.size}; build a thicker block"
            )
        keep.extend(idx[np.argsort(-inside[idx], kind="stable")[:need]])
    keep = np.sort(np.asarray(keep))
    out = block[keep]
    along = out.positions[:, :2] @ unit
    out.positions[:, :2] += np.outer(t[keep] - along, unit)
    return out


def build_interface(
    recipe: Mapping | None,
    name: str = "system",
    log: Callable[[str], None] | None = None,
    amorphous_store: str | Path | None = None,
) -> Atoms:
    """Build the interface cell of a recipe.

    Parameters
    ----------
    recipe : mapping or None
        See the module docstring; ``None`` is the demo preset.
    name : str
        System name, recorded in ``atoms.info["system"]``.
    log : callable or None
        Receives progress lines of the long parts (the melt–quench of an
        amorphous SEI: minutes in the demo, an hour or more at paper size).
    amorphous_store : path or None
        Folder of melt-quenched SEI blocks
        (:func:`constpot.build.amorphous.amorphous_block`, ``store``): a
        block stored there is read, a new one is quenched and added.

    Returns
    -------
    ase.Atoms
        Surface normal z, anode at the bottom, counter electrode at the top,
        electrolyte centred in the cell; arrays ``region``, ``mol_id``,
        ``frozen``, ``initial_charges`` (formal charges, summing to zero);
        the frozen atoms also held by :class:`ase.constraints.FixAtoms`
        (``move_mask`` in extended XYZ);
        info ``wall_lower_A``/``wall_upper_A`` (planes confining the
        electrolyte), region bounds, ``seed``, ``preset``.
    """
    full = resolve_recipe(recipe, name)
    li, ely = full["li"], full["electrolyte"]
    seeds = _seeds(int(full["seed"]), 8)

    def electrode(layers: int, frozen_layers: int) -> Atoms:
        return li_slab(
            lateral_reps=tuple(li["lateral_reps"]),
            layers=layers,
            surface=li["surface"],
            a_A=li["a_A"],
            frozen_layers=frozen_layers,
        )

    anode = electrode(li["layers"], li["frozen_layers"])
    cell = anode.cell.array.copy()
    blocks = [Block(anode, ANODE_REGION)]
    blocks += _sei_blocks(full, cell, seeds[:4], log, amorphous_store)
    electrolyte = electrolyte_box(
        cell[:2, :2],
        ely["thickness_A"],
        solvents=ely["solvents"],
        salt_molarity=ely["salt_molarity"],
        density_g_cm3=ely["density_g_cm3"],
        seed=seeds[4] % (2**31 - 1),
        tolerance_A=ely["tolerance_A"],
    )
    blocks.append(Block(electrolyte, ELECTROLYTE_REGION))
    counter = full["counter_electrode"]
    if counter["enabled"]:
        slab = electrode(counter["layers"], counter["frozen_layers"])
        blocks.append(Block(slab, COUNTER_REGION, flip=True))
    atoms = stack_blocks(
        blocks, gap_A=full["gap_A"], vacuum_factor=full["vacuum_factor"]
    )
    if full["cell_height_A"] is not None:
        z = atoms.positions[:, 2]
        new = atoms.cell.array.copy()
        new[2, 2] = full["cell_height_A"]
        shift = 0.5 * full["cell_height_A"] - 0.5 * atoms.cell[2, 2]
        atoms.set_cell(new, scale_atoms=False)
        atoms.positions[:, 2] = z + shift
    info = atoms.info
    for block in blocks:
        if "sei_patch_widths_A" in block.atoms.info:
            info["sei_patch_widths_A"] = block.atoms.info["sei_patch_widths_A"]
    below = SEI_REGION if "sei_z_max_A" in info else ANODE_REGION
    info[WALL_LOWER_A] = 0.5 * (info[f"{below}_z_max_A"] + info["electrolyte_z_min_A"])
    if counter["enabled"]:
        info[WALL_UPPER_A] = 0.5 * (
            info["electrolyte_z_max_A"] + info["counter_z_min_A"]
        )
    else:
        info[WALL_UPPER_A] = info["electrolyte_z_max_A"] + 0.5 * full["gap_A"]
    info.update(
        {
            SYSTEM: name,
            "preset": full["preset"],
            "seed": int(full["seed"]),
            "salt_pairs": int(ely["n_salt"]),
        }
    )
    total = float(atoms.get_initial_charges().sum())
    if abs(total) > 1e-9:
        raise RuntimeError(f"system {name!r}: formal charges sum to {total}, not 0")
    return atoms
