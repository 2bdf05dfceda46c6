"""Li⁺ solvation clusters in vacuum: neutral Li⁺ + 3–4 EC/DMC + PF₆⁻.

Cut from an interface (the solvents nearest the Li⁺ by their O, and the
nearest PF₆⁻, whole, minimum image) or built from a template: the solvents
bind by their carbonyl O at :data:`_LI_O_A` and the PF₆⁻ lies along the
direction farthest from them, a contact ion pair with 3 solvents and
solvent-separated with 4.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.geometry import find_mic

from ...build.molecules import load_molecule
from ...keys import ELECTROLYTE_REGION, FROZEN, MOL_ID, MOLECULE, REGION
from .geometry import VACUUM_A, _box, _has
from .liquid import _SOLVENTS

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
    out.set_array(REGION, np.array([ELECTROLYTE_REGION] * len(out)).astype(str))
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
        if _has(a, ELECTROLYTE_REGION)
        and (
            (a.arrays[MOLECULE] == "Li") & (a.arrays[REGION] == ELECTROLYTE_REGION)
        ).any()
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
        lis = np.flatnonzero(
            (names == "Li") & (atoms.arrays[REGION] == ELECTROLYTE_REGION)
        )
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
