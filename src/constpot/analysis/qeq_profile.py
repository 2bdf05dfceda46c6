"""Charges along the surface normal and electrode totals.

A user guide in brief: run ``constpot qeq`` once at constant charge and once at
constant potential, then :func:`electrode_totals` gives the total charge of the
anode, counter electrode and electrolyte in each, and :func:`charge_profile` the
laterally summed charge per slice of z (e/Å). Under a lower anode potential the
anode total drops (electrons flow onto it) and the counter electrode's rises;
the total stays zero.

Example
-------
>>> frame = read_charged_frame("results/qeq/constp/charges.extxyz")  # doctest: +SKIP
>>> electrode_totals(frame)                                           # doctest: +SKIP
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read

from ..io import atomic_path
from ..keys import ANODE, COUNTER, ELECTRODE, ELECTRODE_NAMES, NOT_ELECTRODE
from ..plotstyle import label_colours, plot_style, save_figure

__all__ = [
    "charge_profile",
    "electrode_totals",
    "plot_charge_profiles",
    "read_charged_frame",
    "write_totals_csv",
]


def read_charged_frame(path: str | Path) -> Atoms:
    """Read the last frame of an extxyz written by ``constpot qeq``.

    Raises
    ------
    ValueError
        When the frame has no per-atom charges or electrode labels.
    """
    atoms = read(path, index=-1)
    try:
        charges = atoms.get_charges()
    except Exception:
        charges = atoms.arrays.get("charges")
    if charges is None:
        raise ValueError(f"{path}: no per-atom 'charges' in the file")
    if ELECTRODE not in atoms.arrays:
        raise ValueError(f"{path}: no per-atom '{ELECTRODE}' labels in the file")
    atoms.arrays["_q"] = np.asarray(charges, dtype=float)
    return atoms


def electrode_totals(atoms: Atoms) -> dict[str, dict[str, float]]:
    """Total and mean charge per part of the cell.

    Returns
    -------
    dict
        ``{"anode" | "counter" | "none": {"n_atoms", "total_e", "mean_e"}}``.
    """
    q = atoms.arrays["_q"]
    labels = atoms.arrays[ELECTRODE]
    out = {}
    for value in (ANODE, COUNTER, NOT_ELECTRODE):
        sel = labels == value
        out[ELECTRODE_NAMES[value]] = {
            "n_atoms": int(sel.sum()),
            "total_e": float(q[sel].sum()),
            "mean_e": float(q[sel].mean()) if sel.any() else float("nan"),
        }
    return out


def charge_profile(
    atoms: Atoms, bin_width: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Laterally summed charge per z slice.

    Parameters
    ----------
    atoms : ase.Atoms
        Frame from :func:`read_charged_frame` (normal along z).
    bin_width : float, Å

    Returns
    -------
    z_A : (n_bins,) ndarray, Å
        Bin centres.
    line_charge : (n_bins,) ndarray, e/Å
        Total charge in the slice divided by its width.
    """
    z = atoms.positions[:, 2]
    length = float(atoms.cell[2, 2])
    n_bins = max(1, round(length / bin_width))
    edges = np.linspace(0.0, length, n_bins + 1)
    total, _ = np.histogram(z, bins=edges, weights=atoms.arrays["_q"])
    return 0.5 * (edges[1:] + edges[:-1]), total / np.diff(edges)


def write_totals_csv(
    path: str | Path, totals_by_mode: Mapping[str, Mapping[str, Mapping]]
) -> None:
    """Write ``mode, part, n_atoms, total_e, mean_e`` rows atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["mode", "part", "n_atoms", "total_e", "mean_e"])
        for mode, parts in totals_by_mode.items():
            for part, row in parts.items():
                writer.writerow(
                    [
                        mode,
                        part,
                        row["n_atoms"],
                        f"{row['total_e']:.8f}",
                        f"{row['mean_e']:.8f}",
                    ]
                )


def plot_charge_profiles(
    frames: Mapping[str, Atoms], out: str | Path, bin_width: float = 0.5
) -> Path:
    """Figure: per-atom charge along z, slice charge, and electrode totals.

    Parameters
    ----------
    frames : mapping of str to ase.Atoms
        Label (e.g. "constant charge") -> frame from :func:`read_charged_frame`.
    out : path
        PNG file, written atomically.
    bin_width : float, Å

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    colours = label_colours(list(frames))
    with plot_style() as plt:
        fig, axes = plt.subplots(
            3,
            1,
            figsize=(7.5, 9.0),
            gridspec_kw={"height_ratios": [3, 2, 1.6]},
            layout="constrained",
        )
        ax_atoms, ax_line, ax_bar = axes
        for label, atoms in frames.items():
            _draw_frame(ax_atoms, ax_line, atoms, label, colours[label], bin_width)
        ax_atoms.set_ylabel("Li charge (e)")
        ax_atoms.legend(fontsize=7, ncol=2, markerscale=2)
        ax_atoms.set_xlabel("z along the surface normal (Å)")
        ax_line.axhline(0.0, color="0.5", lw=0.5)
        ax_line.set_xlabel("z along the surface normal (Å)")
        ax_line.set_ylabel(f"charge per slice (e/Å), {bin_width:g} Å bins")
        ax_line.legend(fontsize=8)
        _draw_totals(ax_bar, frames, colours)
        return save_figure(fig, out)


def _draw_frame(ax_atoms, ax_line, atoms, label, colour, bin_width) -> None:
    """One frame's Li charges against z (electrode Li as dots, the others as
    outlined triangles) and its slice charge."""
    q = atoms.arrays["_q"]
    z = atoms.positions[:, 2]
    li = atoms.symbols == "Li"
    electrode = atoms.arrays[ELECTRODE] != NOT_ELECTRODE
    ax_atoms.scatter(
        z[li & electrode],
        q[li & electrode],
        s=3,
        color=colour,
        alpha=0.5,
        label=f"electrode Li, {label}",
    )
    ax_atoms.scatter(
        z[li & ~electrode],
        q[li & ~electrode],
        s=12,
        marker="^",
        color=colour,
        edgecolor="k",
        linewidth=0.3,
        label=f"other Li, {label}",
    )
    zc, line = charge_profile(atoms, bin_width)
    ax_line.plot(zc, line, color=colour, lw=1.0, label=label)


def _draw_totals(ax_bar, frames, colours) -> None:
    """Grouped bars: total charge of the anode and the counter electrode."""
    parts = [ELECTRODE_NAMES[ANODE], ELECTRODE_NAMES[COUNTER]]
    names = list(frames)
    width = 0.8 / max(len(names), 1)
    for k, label in enumerate(names):
        totals = electrode_totals(frames[label])
        xs = np.arange(len(parts)) + (k - (len(names) - 1) / 2) * width
        vals = [totals[p]["total_e"] for p in parts]
        bars = ax_bar.bar(xs, vals, width, color=colours[label], label=label)
        ax_bar.bar_label(bars, fmt="%.2f", fontsize=7)
    ax_bar.set_xticks(np.arange(len(parts)), ["anode", "counter electrode"])
    ax_bar.set_ylabel("total charge (e)")
    ax_bar.axhline(0.0, color="0.5", lw=0.5)
    ax_bar.legend(fontsize=8)
