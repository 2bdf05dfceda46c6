"""Amorphous LiF and Li₂O blocks by melt–quench molecular dynamics.

The SEI components of the paper (Hu et al., Nat. Commun. 16, 7379 (2025)) are
amorphous. :func:`amorphous_block` makes such a block: random ions at the target
density in a fully periodic box whose lateral cell is the interface's, Langevin
dynamics of a classical rigid-ion model far above the melting point, a linear
quench to room temperature, a short hold and a relaxation, all at fixed volume
(the box sets the density).

The model is :class:`constpot.build.ionpair.IonPairCalculator`: formal point
charges (Li +1, F −1, O −2 e) with the Tosi–Fumi (LiF) and Bush et al. (Li₂O)
short-range terms; its module docstring gives the equations, parameters,
sources and the model's own pitfalls (four-fold coordinated LiF glass).

Pitfalls
--------
- LiF and Li₂O are not glass formers: quenches of ≤ 4×10¹⁴ K/s and boxes with
  a periodic width below ~10 Å crystallise. :func:`amorphous_block` measures the
  anion bond order Q6 and melts again (``max_attempts``) when it is crystal-like;
  it warns if every attempt stayed ordered. Give each block ≥ 10 Å per
  direction.
- Coordinates are wrapped into the cell, 0 <= z < L_z; the block is 3D periodic
  and is returned relaxed, with zero velocities.

Example
-------
>>> from constpot.build.amorphous import amorphous_block
>>> block = amorphous_block("LiF", [[11.0, 0.0], [0.0, 11.0]], 9.0, seed=1)
>>> len(block), block.info["phase"], round(block.info["density_g_cm3"], 3)
(126, 'amorphous', 2.5)
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.md.langevin import Langevin
from ase.optimize import FIRE
from vesin import NeighborList

from ..units import AMU_PER_A3_IN_G_PER_CM3, mass_density_g_cm3
from ._cell import wrap_positions
from .amorphous_store import read_stored, store_path, write_stored
from .crystal import target_density_g_cm3
from .ionpair import ION_PAIR_POTENTIALS, IonPairCalculator, IonPairPotential

__all__ = ["MELT_QUENCH_PRESETS", "MeltQuench", "amorphous_block"]

# Random insertion: minimum separations (Å) by charge signs (+ +, + -, - -).
_INSERT_MIN_DIST = (1.8, 1.6, 2.0)
# A block whose anion bond order Q6 exceeds this is (partly) crystalline:
# single crystals give 0.575 (0.54-0.56 at 300 K), glasses of 100-130 ions
# 0.11-0.26 (LiF) and 0.12-0.22 (Li2O); partly ordered runs 0.30-0.46.
_ORDERED_Q6 = 0.30
# Final structure: pairs of opposite charge closer than this (Å) mean the
# dynamics failed (Buckingham collapse or a too-long time step).
_COLLAPSE_A = 1.4


@dataclass(frozen=True)
class MeltQuench:
    """A melt–quench schedule (Langevin NVT).

    Attributes
    ----------
    timestep_fs : float, fs
    melt_steps : int
        Steps at ``melt_K``.
    quench_steps : int
        Steps of the linear ramp from ``melt_K`` to ``final_K``.
    equil_steps : int
        Steps at ``final_K``.
    friction_per_fs : float, 1/fs
        Langevin friction.
    """

    timestep_fs: float
    melt_steps: int
    quench_steps: int
    equil_steps: int
    friction_per_fs: float = 0.02

    def describe(self, melt_K: float, final_K: float) -> str:
        """One-line summary, e.g. ``"melt 2500 K 1.0 ps; quench ...``."""

        def ps(steps):
            return f"{steps * self.timestep_fs / 1000.0:g} ps"

        rate = (melt_K - final_K) / max(self.quench_steps * self.timestep_fs, 1e-300)
        return (
            f"melt {melt_K:g} K {ps(self.melt_steps)}; quench linear to {final_K:g} K "
            f"in {ps(self.quench_steps)} ({rate * 1e15:.2g} K/s); hold {final_K:g} K "
            f"{ps(self.equil_steps)}; Langevin NVT dt {self.timestep_fs:g} fs, "
            f"friction {self.friction_per_fs:g}/fs"
        )


#: Schedules by ``quality``. ``"demo"``: 2 fs steps, 1 ps melt, 2.5 ps linear
#: quench (~10¹⁵ K/s), 0.5 ps hold (about 15 s for 120 ions on one core).
#: ``"paper"``: 1 fs steps, 5 ps melt, the same quench rate, 2.5 ps hold.
#: Slower quenches are not better here: LiF and Li₂O are not glass formers, and
#: a 5 ps quench (4×10¹⁴ K/s) crystallised a 126-ion LiF box in 3 of 3 runs.
MELT_QUENCH_PRESETS: dict[str, MeltQuench] = {
    "demo": MeltQuench(
        timestep_fs=2.0, melt_steps=500, quench_steps=1250, equil_steps=250
    ),
    "paper": MeltQuench(
        timestep_fs=1.0, melt_steps=5000, quench_steps=2500, equil_steps=2500
    ),
}

# Default melt temperatures (K): ~2.2× (LiF) and ~1.75× (Li2O) the experimental
# melting points. Both models are liquid there at the target densities (the
# anions' mean-square displacement grows by ~5 and ~2.5 Å² per ps).
_MELT_K = {"LiF": 2500.0, "Li2O": 3000.0}


def _validate(
    model, cell_xy, thickness_A, density_g_cm3, melt_K, final_K, schedule, max_attempts
):
    cell_xy = np.asarray(cell_xy, dtype=float)
    if cell_xy.shape != (2, 2) or not np.all(np.isfinite(cell_xy)):
        raise ValueError(
            "cell_xy must be two finite lateral vectors, shape (2, 2), got "
            f"{np.asarray(cell_xy).tolist()}"
        )
    area = float(cell_xy[0, 0] * cell_xy[1, 1] - cell_xy[0, 1] * cell_xy[1, 0])
    if area <= 1e-6:
        raise ValueError(
            f"cell_xy must span a right-handed area > 0 Å^2, got area {area:g} Å^2 "
            f"from {cell_xy.tolist()}"
        )
    if not (density_g_cm3 > 0 and math.isfinite(density_g_cm3)):
        raise ValueError(f"density_g_cm3 must be > 0 g/cm^3, got {density_g_cm3}")
    volume_fu = model.formula_mass_amu * AMU_PER_A3_IN_G_PER_CM3 / density_g_cm3
    layer = volume_fu ** (1.0 / 3.0)
    if not (thickness_A >= layer):
        raise ValueError(
            f"thickness_A = {thickness_A} Å is smaller than one formula-unit layer "
            f"of {model.name} at {density_g_cm3:g} g/cm^3: {layer:.3f} Å = (volume "
            f"per formula unit {volume_fu:.3f} Å^3)^(1/3)"
        )
    if not (melt_K > final_K > 0):
        raise ValueError(
            f"need melt_K > final_K > 0 K, got melt_K = {melt_K}, final_K = {final_K}"
        )
    for name in ("melt_steps", "quench_steps", "equil_steps"):
        if getattr(schedule, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(schedule, name)}")
    if not (isinstance(max_attempts, int) and max_attempts >= 1):
        raise ValueError(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
    for name in ("timestep_fs", "friction_per_fs"):
        if not getattr(schedule, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(schedule, name)}")
    return cell_xy, area, volume_fu


def _random_ions(model, counts, cell, rng, max_tries=4096):
    """Random ions, anions first, at least the insertion separations apart.

    Candidates are drawn uniformly in the cell, in batches; the first that keeps
    its separations (minimum image in fractional coordinates) to all placed
    ions is taken. If an ion finds no place, all separations shrink by 10 %
    and the insertion starts again (at most three times).
    """
    anion = min(model.charges, key=model.charges.get)
    cation = max(model.charges, key=model.charges.get)
    elements = [anion] * counts[anion] + [cation] * counts[cation]
    is_anion = np.array([el == anion for el in elements])
    batch = 32
    for attempt in range(4):
        plus_plus, plus_minus, minus_minus = np.multiply(_INSERT_MIN_DIST, 0.9**attempt)
        frac = np.zeros((len(elements), 3))
        for n in range(len(elements)):
            need = np.where(
                is_anion[:n],
                minus_minus if is_anion[n] else plus_minus,
                plus_minus if is_anion[n] else plus_plus,
            )
            for _ in range(0, max_tries, batch):
                trial = rng.random((batch, 3))
                diff = trial[:, None, :] - frac[None, :n, :]
                diff -= np.round(diff)
                dist = np.linalg.norm(diff @ cell, axis=-1)
                ok = np.flatnonzero(np.all(dist >= need, axis=1))
                if ok.size:
                    frac[n] = trial[ok[0]]
                    break
            else:
                break
        else:
            return elements, frac @ cell
    raise RuntimeError(
        f"could not place {len(elements)} ions at random in a cell of volume "
        f"{abs(np.linalg.det(cell)):.1f} Å^3 with separations (+ +, + -, - -) down "
        f"to {plus_plus:.2f}, {plus_minus:.2f}, {minus_minus:.2f} Å"
    )


def amorphous_block(
    component: str,
    cell_xy,
    thickness_A: float,
    density_g_cm3: float | None = None,
    seed: int = 0,
    melt_K: float | None = None,
    quench_steps: int | None = None,
    *,
    quality: str = "demo",
    melt_steps: int | None = None,
    equil_steps: int | None = None,
    timestep_fs: float | None = None,
    friction_per_fs: float | None = None,
    final_K: float = 300.0,
    relax_fmax: float | None = 0.05,
    max_attempts: int = 3,
    cutoff: float = 8.0,
    ewald_accuracy: float = 1e-5,
    log: Callable[[str], None] | None = None,
    store: str | Path | None = None,
) -> Atoms:
    """Amorphous LiF or Li₂O block by melt–quench MD at fixed density.

    The box has the lateral cell ``cell_xy`` and the height that holds the
    whole number of formula units closest to ``thickness_A`` at
    ``density_g_cm3``. Ions start at random (``np.random.default_rng(seed)``;
    at least 1.6 Å cation–anion, 1.8 Å cation–cation and 2.0 Å anion–anion
    apart); then Langevin NVT with :class:`IonPairCalculator`: ``melt_steps``
    at ``melt_K``, a linear ramp to ``final_K`` over ``quench_steps``,
    ``equil_steps`` at ``final_K`` (defaults from :data:`MELT_QUENCH_PRESETS`
    ``[quality]``), and a FIRE relaxation of the positions to ``relax_fmax``
    (the inherent structure of the final snapshot: no thermally compressed
    contacts).

    Parameters
    ----------
    component : {"LiF", "Li2O"}
    cell_xy : (2, 2) array_like, Å
        Lateral cell vectors (rows, x–y components), right-handed.
    thickness_A : float, Å
        Wanted block height L_z.
    density_g_cm3 : float or None, g/cm³
        Target density; ``None``: ``constpot.build.crystal.target_density_g_cm3(
        component, "amorphous")`` (LiF 2.50, Li₂O 1.95).
    seed : int
        Seed of the one generator used for positions, velocities and the
        Langevin noise: same seed and arguments, bit-identical positions (on the
        same machine and library versions).
    melt_K : float or None, K
        Melt temperature; default 2500 K (LiF, T_m 1118 K), 3000 K (Li₂O,
        T_m 1711 K).
    quench_steps : int or None
        Steps of the linear quench (overrides the preset).
    quality : {"demo", "paper"}
        Schedule preset (:data:`MELT_QUENCH_PRESETS`).
    melt_steps, equil_steps : int or None
        Override the preset.
    timestep_fs : float or None, fs
        Override the preset (2 fs demo, 1 fs paper).
    friction_per_fs : float or None, 1/fs
        Langevin friction (preset 0.02/fs).
    final_K : float, K
        Temperature at the end of the quench and of the hold (300 K).
    relax_fmax : float or None, eV/Å
        Force threshold of the final relaxation (at most 500 FIRE steps);
        ``None`` returns the last MD snapshot.
    max_attempts : int
        Melt–quench runs (each from new random positions, same generator) until
        the anion sublattice is disordered: global bond order Q6 of the
        anion–anion bonds <= 0.30 (crystal 0.54–0.575; glasses of 100–130
        ions 0.11–0.26). LiF and Li₂O are not glass formers and crystallise now and
        then in small periodic boxes; the least ordered run is returned.
    cutoff : float, Å
        Short-range cutoff of :class:`IonPairCalculator`.
    ewald_accuracy : float
        Ewald accuracy of :class:`IonPairCalculator`.
    log : callable or None
        Receives progress lines: the block's size and schedule, about ten
        lines per melt–quench attempt (phase, step, temperature, elapsed
        time and ETA; a paper-quality block of a few hundred ions runs for
        tens of minutes per attempt) and each attempt's Q6.
    store : path or None
        Folder of melt-quenched blocks (:mod:`constpot.build.amorphous_store`),
        one file per set of arguments. A block found there is read instead
        of quenched; a block not there is quenched, written there and read
        back, so that both give the same bits. The melt-quench is chaotic:
        another CPU (AVX-512 or AVX2 kernels) quenches the same arguments
        into another glass, and a committed store gives every machine the
        same one.

    Returns
    -------
    ase.Atoms
        3D periodic, cell ``[[a, 0], [b, 0], [0, 0, L_z]]``, positions wrapped
        (0 <= z < L_z), cations first, no calculator, zero velocities;
        ``initial_charges`` the formal charges (Li +1, F −1, O −2). ``info``:
        ``"component"``, ``"phase"`` (``"amorphous"``), ``"density_g_cm3"`` (of
        the box), ``"melt_quench"`` (the schedule), ``"potential"`` (citation),
        ``"seed"``, ``"anion_q6"`` (the bond order above), ``"attempts"``.

    Raises
    ------
    ValueError
        Unknown ``component`` or ``quality``, non-positive ``density_g_cm3``,
        ``thickness_A`` below one formula-unit layer ((volume per formula
        unit)^(1/3)), a degenerate ``cell_xy``, ``melt_K <= final_K``, negative
        step counts, non-positive time step or friction.
    RuntimeError
        Random insertion failed, or the dynamics collapsed (an opposite-charge
        pair closer than 1.4 Å, or non-finite positions, at the end).

    Warns
    -----
    RuntimeWarning
        No attempt gave Q6 <= 0.30 (typical when a periodic width is below
        ~10 Å: such a box cannot hold an amorphous structure).
    """
    if component not in ION_PAIR_POTENTIALS:
        raise ValueError(
            f"component must be one of {sorted(ION_PAIR_POTENTIALS)}, got {component!r}"
        )
    if quality not in MELT_QUENCH_PRESETS:
        raise ValueError(
            f"quality must be one of {sorted(MELT_QUENCH_PRESETS)}, got {quality!r}"
        )
    model = ION_PAIR_POTENTIALS[component]
    preset = MELT_QUENCH_PRESETS[quality]
    schedule = MeltQuench(
        timestep_fs=preset.timestep_fs if timestep_fs is None else float(timestep_fs),
        melt_steps=preset.melt_steps if melt_steps is None else int(melt_steps),
        quench_steps=preset.quench_steps if quench_steps is None else int(quench_steps),
        equil_steps=preset.equil_steps if equil_steps is None else int(equil_steps),
        friction_per_fs=(
            preset.friction_per_fs
            if friction_per_fs is None
            else float(friction_per_fs)
        ),
    )
    if density_g_cm3 is None:
        density_g_cm3 = float(target_density_g_cm3(component, "amorphous"))
    melt_K = _MELT_K[component] if melt_K is None else float(melt_K)
    cell_xy, area, volume_fu = _validate(
        model,
        cell_xy,
        float(thickness_A),
        float(density_g_cm3),
        melt_K,
        float(final_K),
        schedule,
        max_attempts,
    )

    n_fu = max(1, round(thickness_A * area / volume_fu))
    cell = np.zeros((3, 3))
    cell[:2, :2] = cell_xy
    cell[2, 2] = n_fu * volume_fu / area
    counts = {el: n * n_fu for el, n in model.stoichiometry.items()}
    say = log or (lambda line: None)
    resolved = {
        "component": component,
        "cell": cell,
        "seed": seed,
        "melt_K": melt_K,
        "final_K": float(final_K),
        "schedule": schedule,
        "relax_fmax": relax_fmax,
        "max_attempts": max_attempts,
        "cutoff": cutoff,
        "ewald_accuracy": ewald_accuracy,
    }
    if store is None:
        return _quench(**resolved, counts=counts, say=say)
    path = store_path(store, **resolved)
    if path.exists():
        say(f"{component} glass: read from {path}")
    else:
        write_stored(path, _quench(**resolved, counts=counts, say=say))
        say(f"{component} glass: written to {path}")
    return read_stored(path, component, cell, counts)


def _quench(
    *,
    component,
    cell,
    seed,
    melt_K,
    final_K,
    schedule,
    relax_fmax,
    max_attempts,
    cutoff,
    ewald_accuracy,
    counts,
    say,
) -> Atoms:
    """The melt-quench of :func:`amorphous_block`, its arguments resolved."""
    model = ION_PAIR_POTENTIALS[component]
    rng = np.random.default_rng(seed)
    calc = IonPairCalculator(model, cutoff=cutoff, ewald_accuracy=ewald_accuracy)
    n_ions = sum(counts.values())
    say(
        f"{component} glass, {n_ions} ions, cell height {cell[2, 2]:.2f} Å: "
        + schedule.describe(melt_K, float(final_K))
    )
    best = None
    for attempt in range(1, max_attempts + 1):
        symbols, positions = _random_ions(model, counts, cell, rng)
        order = np.argsort([-model.charges[s] for s in symbols], kind="stable")
        atoms = Atoms(
            [symbols[k] for k in order], positions=positions[order], cell=cell, pbc=True
        )
        atoms.calc = calc
        tag = f"{component} attempt {attempt}/{max_attempts}"
        _run_melt_quench(
            atoms, schedule, melt_K, float(final_K), rng, _progress(say, tag)
        )
        if relax_fmax is not None:
            FIRE(atoms, logfile=None).run(fmax=relax_fmax, steps=500)
        q6 = _anion_q6(atoms, model)
        say(
            f"{tag}: anion bond order Q6 {q6:.2f} "
            + ("(a glass)" if q6 <= _ORDERED_Q6 else f"(ordered: > {_ORDERED_Q6})")
        )
        if best is None or q6 < best[0]:
            best = (q6, attempt, atoms.positions.copy(), atoms.get_chemical_symbols())
        if q6 <= _ORDERED_Q6:
            break
    q6, attempt, positions, symbols = best
    if q6 > _ORDERED_Q6:
        widths = abs(np.linalg.det(cell)) / np.linalg.norm(
            np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1
        )
        warnings.warn(
            f"amorphous_block({component!r}): the anion sublattice stayed ordered "
            f"in {max_attempts} melt-quench attempts (best bond order Q6 = {q6:.2f} "
            f"> {_ORDERED_Q6}; crystal 0.57, glass 0.1-0.26). Periodic widths "
            f"{np.round(widths, 2).tolist()} Å: boxes narrower than ~10 Å cannot "
            "hold a glass, and quenches slower than ~10^15 K/s crystallise these "
            "salts; enlarge the box or shorten the quench",
            RuntimeWarning,
            stacklevel=2,
        )

    block = Atoms(
        symbols, positions=wrap_positions(positions, cell), cell=cell, pbc=True
    )
    _check_collapse(block, model)
    block.set_initial_charges([model.charges[s] for s in block.get_chemical_symbols()])
    block.info.update(
        component=component,
        phase="amorphous",
        density_g_cm3=mass_density_g_cm3(
            float(block.get_masses().sum()), block.get_volume()
        ),
        melt_quench=schedule.describe(melt_K, final_K)
        + (f"; FIRE to fmax {relax_fmax:g} eV/Å" if relax_fmax is not None else ""),
        potential=model.reference,
        seed=int(seed),
        anion_q6=float(q6),
        attempts=int(attempt),
    )
    return block


def _anion_q6(atoms: Atoms, model: IonPairPotential) -> float:
    """Global Steinhardt Q6 of the anion–anion bonds (crystal 0.575).

    Bonds join anions closer than the midpoint of the first and second
    anion–anion shells of the crystal (LiF 3.44 Å, Li₂O 3.94 Å). By the
    addition theorem :math:`Q_6^2 = \\langle P_6(\\hat u_b \\cdot \\hat u_{b'})
    \\rangle_{b, b'}` over all bond pairs; a single crystal gives its local value,
    a glass ~1/√(number of bonds).
    """
    anion = min(model.charges, key=model.charges.get)
    cutoff = 0.5 * (1.0 + 1.0 / math.sqrt(2.0)) * model.lattice_constant_A
    nl = NeighborList(cutoff=cutoff, full_list=False)
    i, j, vec = nl.compute(atoms.positions, atoms.cell.array, True, quantities="ijD")
    is_anion = np.array(atoms.get_chemical_symbols()) == anion
    vec = vec[is_anion[i] & is_anion[j]]
    if not len(vec):
        return 0.0
    unit = vec / np.linalg.norm(vec, axis=1)[:, None]
    total = 0.0
    for start in range(0, len(unit), 1024):
        cos = np.clip(unit[start : start + 1024] @ unit.T, -1.0, 1.0)
        total += float(np.polynomial.legendre.legval(cos, [0] * 6 + [1]).sum())
    return math.sqrt(max(total, 0.0)) / len(unit)


def _progress(say: Callable[[str], None], tag: str, lines: int = 10):
    """``report(step, total, phase, temperature_K)`` for :func:`_run_melt_quench`:
    a line to ``say`` about every ``total / lines`` steps and at the end."""
    start = time.perf_counter()

    def report(step: int, total: int, phase: str, temperature_K: float) -> None:
        every = max(1, total // lines)
        if step % every and step != total:
            return
        elapsed = time.perf_counter() - start
        eta = elapsed * (total - step) / step
        say(
            f"{tag}: step {step}/{total} ({phase}, {temperature_K:.0f} K), "
            f"{elapsed:.0f} s, ETA {eta:.0f} s"
        )

    return report


def _run_melt_quench(atoms, schedule, melt_K, final_K, rng, report=None) -> None:
    """Langevin NVT: hold ``melt_K``, ramp linearly to ``final_K``, hold.

    ``report(step, total, phase, temperature_K)``, if given, is called after
    every step."""
    # Maxwell–Boltzmann momenta from the shared generator, zero total momentum.
    masses = atoms.get_masses()[:, None]
    momenta = rng.standard_normal((len(atoms), 3)) * np.sqrt(masses * units.kB * melt_K)
    momenta -= masses * momenta.sum(axis=0) / masses.sum()
    atoms.set_momenta(momenta)
    md = Langevin(
        atoms,
        schedule.timestep_fs * units.fs,
        temperature_K=melt_K,
        friction=schedule.friction_per_fs / units.fs,
        fixcm=False,
        rng=rng,
    )
    total = schedule.melt_steps + schedule.quench_steps + schedule.equil_steps
    report = report or (lambda step, total, phase, temperature_K: None)
    done = 0
    for _ in range(schedule.melt_steps):
        md.step()
        done += 1
        report(done, total, "melt", melt_K)
    for step in range(schedule.quench_steps):
        fraction = (step + 1) / schedule.quench_steps
        temperature_K = melt_K + (final_K - melt_K) * fraction
        md.set_temperature(temperature_K=temperature_K)
        md.step()
        done += 1
        report(done, total, "quench", temperature_K)
    md.set_temperature(temperature_K=final_K)
    for _ in range(schedule.equil_steps):
        md.step()
        done += 1
        report(done, total, "hold", final_K)


def _check_collapse(block: Atoms, model: IonPairPotential) -> None:
    if not np.all(np.isfinite(block.positions)):
        raise RuntimeError(
            "melt-quench MD diverged (non-finite positions); lower timestep_fs"
        )
    nl = NeighborList(cutoff=_COLLAPSE_A, full_list=False)
    i, j, d = nl.compute(block.positions, block.cell.array, True, quantities="ijd")
    q = np.array([model.charges[s] for s in block.get_chemical_symbols()])
    bad = np.flatnonzero(q[i] * q[j] < 0)
    if bad.size:
        p = bad[np.argmin(d[bad])]
        raise RuntimeError(
            f"melt-quench MD collapsed: atoms {int(i[p])} and {int(j[p])} are "
            f"{d[p]:.3f} Å apart (< {_COLLAPSE_A} Å); lower timestep_fs or melt_K"
        )
