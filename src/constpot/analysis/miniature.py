"""The miniature: one Li⁺ at the anode under constant potential and charge.

User guide
----------
The cell of :func:`constpot.build.li_ion_at_anode` (a Li⁺ above a hollow of a
bcc(100) Li anode, a PF₆⁻ above it) is run twice from the same start: at
constant potential (ConstP, anode at ψ) and at constant charge (ConstQ).
:class:`MiniatureIon` follows the ion through one trajectory, frame by frame:

- its QEq charge q(t), e;
- its electrode membership: the MD's ``electrode`` label (the metallic-Li
  rule that decides which atoms the solver holds at ψ; > 0 is a member),
  and, from structure alone, whether it is part of the anode's metal network
  (:class:`~constpot.analysis.NetworkRule`, the deposition criterion);
- its height above the anode's top layer (the ion's z minus the mean z of
  the atoms of the slab's top layer in the first frame), Å;
- its lateral distance to the nearest fourfold hollow (in-plane minimum-image
  distance to the nearest atom of the layer below the top one), Å;
- the anode's total charge (sum over the atoms labelled anode), e, and the
  counter electrode's when the cell has one.

:func:`miniature_report` runs it on both trajectories and writes the
per-frame series and a headline per mode (mean charge over the last half of
the run, fraction of frames as an electrode member, final height and its
change from the start) with the ConstP − ConstQ differences (JSON), a
Markdown paragraph of the measured numbers, and a three-panel figure.

Pitfalls: the layers are found in the first frame (layers split at gaps of
more than 0.5 Å along z), so analyse a trajectory from its start; the ion is
``atoms.info["miniature_ion"]`` of the builder (else the only atom whose
``molecule`` is "Li"). On a flat bcc(100) surface an adatom has at most 5 Li
within 3.5 Å (4 at √3a/2, 1 at a below), so the paper's rule (≥ 8) cannot
make a lone deposited ion a member: its ``electrode`` label stays 0 however
close it comes, and the network column is the one that shows contact.

Example
-------
>>> miniature_report(                                      # doctest: +SKIP
...     "results/miniature/constp/traj.extxyz",
...     "results/miniature/constq/traj.extxyz",
...     "miniature.json", "miniature.md", "miniature.png")
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from ..build.miniature import ION_INFO
from ..io import atomic_path
from ..keys import (
    ANODE,
    ANODE_REGION,
    CHARGES,
    COUNTER,
    ELECTRODE,
    MOLECULE,
    REGION,
)
from ._frames import FrameAnalysis, info_float
from .figures.style import (
    CONSTQ_COLOUR,
    OKABE_ITO,
    figure_legend,
    plot_style,
    save_figure,
)
from .network import NetworkRule

__all__ = ["MODES", "MiniatureIon", "miniature_report"]

#: The two runs of the miniature, in report order: key → label.
MODES = {"constp": "ConstP", "constq": "ConstQ"}

#: Atoms of one layer lie within this distance of each other along z, Å.
_LAYER_GAP_A = 0.5

#: Headline numbers that have a ConstP − ConstQ difference.
_DIFFERENCES = (
    "charge_initial_e",
    "charge_mean_last_half_e",
    "charge_final_e",
    "member_fraction",
    "network_fraction",
    "height_initial_A",
    "height_final_A",
    "height_change_A",
    "lateral_final_A",
    "anode_charge_mean_last_half_e",
)


def _ion_index(atoms: Atoms, source: str) -> int:
    if ION_INFO in atoms.info:
        ion = int(atoms.info[ION_INFO])
        if not 0 <= ion < len(atoms):
            raise ValueError(
                f"{source}: info {ION_INFO} = {ion} is not an atom index "
                f"(0..{len(atoms) - 1})"
            )
        return ion
    if MOLECULE in atoms.arrays:
        li = np.flatnonzero(atoms.arrays[MOLECULE].astype(str) == "Li")
        if li.size == 1:
            return int(li[0])
    raise ValueError(
        f"{source}: cannot find the ion: no info {ION_INFO!r} and not exactly one "
        f"atom with {MOLECULE} 'Li' (pass ion=INDEX)"
    )


def _layers(z: np.ndarray) -> list[np.ndarray]:
    """Positions (indices into ``z``) of each layer, bottom first."""
    order = np.argsort(z)
    cuts = np.flatnonzero(np.diff(z[order]) > _LAYER_GAP_A) + 1
    return np.split(order, cuts)


def _lateral_distance(point: np.ndarray, sites: np.ndarray, cell) -> float:
    """In-plane minimum-image distance from ``point`` to the nearest site, Å."""
    lateral = np.asarray(cell)[:2, :2]
    frac = np.linalg.solve(lateral.T, (sites[:, :2] - point[:2]).T).T
    frac -= np.round(frac)
    return float(np.linalg.norm(frac @ lateral, axis=1).min())


class MiniatureIon(FrameAnalysis):
    """Charge, membership and position of the miniature's ion per frame.

    Parameters
    ----------
    trajectory : path or sequence of ase.Atoms
        ``traj.extxyz`` of one MD run of the miniature: per-atom ``charges``
        (e), ``electrode``, ``region``, info ``time_fs``.
    ion : int, optional
        Index of the ion; default from the first frame (module docstring).
    rule : NetworkRule, optional
        Structural anode network (default :class:`NetworkRule()`).

    Attributes
    ----------
    results["series"] : dict of lists
        One entry per frame: ``time_ps``, ``charge_e``, ``member`` (0/1, MD
        ``electrode`` label > 0), ``network`` (0/1, in the anode's metal
        network), ``height_A``, ``lateral_A``, ``anode_charge_e``,
        ``counter_charge_e`` (0 without a counter electrode).
    results["headline"] : dict
        ``n_frames``, ``duration_ps``, ``anode_potential_V`` (NaN at
        constant charge), ``charge_initial_e``, ``charge_mean_last_half_e``
        (frames with t ≥ t₀ + (t_end − t₀)/2), ``charge_final_e``,
        ``member_fraction``, ``network_fraction``, ``height_initial_A``,
        ``height_final_A``, ``height_change_A`` (final − initial),
        ``lateral_final_A``, ``anode_charge_mean_last_half_e``.
    results["ion"] : int
    """

    required_arrays = (CHARGES, ELECTRODE, REGION)

    def __init__(
        self,
        trajectory: str | Path | Sequence[Atoms],
        ion: int | None = None,
        rule: NetworkRule | None = None,
    ):
        super().__init__(trajectory)
        first = self.frames[0]
        self.ion = _ion_index(first, self.source) if ion is None else int(ion)
        if not 0 <= self.ion < len(first):
            raise ValueError(
                f"ion must be an atom index 0..{len(first) - 1}, got {ion!r}"
            )
        if first.symbols[self.ion] != "Li":
            raise ValueError(
                f"{self.source}: atom {self.ion} (the ion) is "
                f"{first.symbols[self.ion]}, not Li"
            )
        anode = np.flatnonzero(
            (first.arrays[REGION].astype(str) == ANODE_REGION) & (first.symbols == "Li")
        )
        layers = _layers(first.positions[anode, 2]) if anode.size else []
        if len(layers) < 2:
            raise ValueError(
                f"{self.source}: the anode region needs at least two Li layers "
                f"(found {len(layers)}) to define its top layer and hollows"
            )
        self.top = anode[layers[-1]]
        self.below = anode[layers[-2]]
        self.rule = rule or NetworkRule()
        self._anchors = self.rule.anchors(first)

    def _prepare(self) -> None:
        self._rows: dict[str, list] = {
            k: []
            for k in (
                "time_ps",
                "charge_e",
                "member",
                "network",
                "height_A",
                "lateral_A",
                "anode_charge_e",
                "counter_charge_e",
            )
        }

    def _single_frame(self, index: int, atoms: Atoms) -> None:
        q = np.asarray(atoms.arrays[CHARGES], dtype=float)
        labels = np.asarray(atoms.arrays[ELECTRODE], dtype=int)
        network, _ = self.rule.labels(atoms, self._anchors)
        pos = atoms.positions
        rows = self._rows
        rows["time_ps"].append(float(atoms.info["time_fs"]) * 1e-3)
        rows["charge_e"].append(float(q[self.ion]))
        rows["member"].append(int(labels[self.ion] > 0))
        rows["network"].append(int(network[self.ion] == ANODE))
        rows["height_A"].append(float(pos[self.ion, 2] - pos[self.top, 2].mean()))
        rows["lateral_A"].append(
            _lateral_distance(pos[self.ion], pos[self.below], atoms.cell.array)
        )
        rows["anode_charge_e"].append(float(q[labels == ANODE].sum()))
        rows["counter_charge_e"].append(float(q[labels == COUNTER].sum()))

    def _conclude(self) -> None:
        s = {k: np.asarray(v) for k, v in self._rows.items()}
        t = s["time_ps"]
        late = t >= t[0] + 0.5 * (t[-1] - t[0])
        first = self.frames[self._indices[0]]
        self.results = {
            "ion": self.ion,
            "series": {k: v.tolist() for k, v in s.items()},
            "headline": {
                "n_frames": int(t.size),
                "duration_ps": float(t[-1] - t[0]),
                "anode_potential_V": info_float(first, "anode_potential_V"),
                "charge_initial_e": float(s["charge_e"][0]),
                "charge_mean_last_half_e": float(s["charge_e"][late].mean()),
                "charge_final_e": float(s["charge_e"][-1]),
                "member_fraction": float(s["member"].mean()),
                "network_fraction": float(s["network"].mean()),
                "height_initial_A": float(s["height_A"][0]),
                "height_final_A": float(s["height_A"][-1]),
                "height_change_A": float(s["height_A"][-1] - s["height_A"][0]),
                "lateral_final_A": float(s["lateral_A"][-1]),
                "anode_charge_mean_last_half_e": float(
                    s["anode_charge_e"][late].mean()
                ),
            },
        }


def _finite_or_null(value):
    """``value`` with NaN and infinities replaced by None (strict JSON)."""
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _paragraph(report: dict) -> str:
    """The measured numbers, one sentence per run and one for the difference."""
    runs = report["runs"]
    p, q = runs["constp"]["headline"], runs["constq"]["headline"]
    psi = p["anode_potential_V"]
    psi_text = "ψ not recorded" if psi is None else f"ψ = {psi:+.2f} V"
    parts = [
        f"One Li⁺ (atom {report['ion']}) started "
        f"{p['height_initial_A']:.2f} Å above the anode's top layer and was "
        f"followed for {p['duration_ps']:.2f} ps at constant potential "
        f"(ConstP, anode at {psi_text}) and {q['duration_ps']:.2f} ps at constant "
        "charge (ConstQ) from the same start."
    ]
    for key, label in MODES.items():
        h = runs[key]["headline"]
        parts.append(
            f"{label}: ion charge {h['charge_initial_e']:+.3f} e at t = 0, "
            f"{h['charge_mean_last_half_e']:+.3f} e on average over the last half, "
            f"{h['charge_final_e']:+.3f} e at the end; an electrode member in "
            f"{100 * h['member_fraction']:.0f} % of {h['n_frames']} frames and in "
            f"the anode's metal network in {100 * h['network_fraction']:.0f} %; "
            f"height {h['height_initial_A']:.2f} → {h['height_final_A']:.2f} Å "
            f"(change {h['height_change_A']:+.2f} Å), "
            f"{h['lateral_final_A']:.2f} Å from the nearest hollow at the end; "
            f"anode charge {h['anode_charge_mean_last_half_e']:+.3f} e over the "
            "last half."
        )
    d = report["difference"]
    parts.append(
        "ConstP − ConstQ: mean charge over the last half "
        f"{d['charge_mean_last_half_e']:+.3f} e, charge at t = 0 "
        f"{d['charge_initial_e']:+.3f} e, member fraction "
        f"{d['member_fraction']:+.2f}, network fraction "
        f"{d['network_fraction']:+.2f}, final height {d['height_final_A']:+.2f} Å, "
        f"anode charge {d['anode_charge_mean_last_half_e']:+.3f} e."
    )
    return "## Miniature: one Li⁺ at the anode\n\n" + " ".join(parts) + "\n"


def _figure(report: dict, out: str | Path) -> Path:
    style = {
        "constp": {"color": OKABE_ITO[1], "ls": "-", "lw": 1.6},
        "constq": {"color": CONSTQ_COLOUR, "ls": "--", "lw": 1.4},
    }
    with plot_style() as plt:
        fig, axes = plt.subplots(
            3, 1, figsize=(6.0, 6.4), sharex=True, layout="constrained"
        )
        for key, label in MODES.items():
            s = report["runs"][key]["series"]
            t = s["time_ps"]
            axes[0].plot(t, s["charge_e"], label=label, **style[key])
            axes[1].plot(t, s["height_A"], label=label, **style[key])
            # one level per frame: 2 electrode member, 1 metal network only
            level = np.maximum(2 * np.asarray(s["member"]), s["network"])
            axes[2].step(t, level, where="post", label=label, **style[key])
        axes[0].set_ylabel("ion charge (e)")
        axes[1].set_ylabel("height above top layer (Å)")
        axes[2].set_ylabel("ion is")
        axes[2].set_yticks(
            [0, 1, 2], ["free", "in metal\nnetwork", "electrode\nmember"]
        )
        axes[2].set_ylim(-0.2, 2.2)
        axes[2].set_xlabel("time (ps)")
        axes[0].set_title("One Li⁺ at the anode")
        figure_legend(fig)
        return save_figure(fig, out)


def miniature_report(
    constp_traj: str | Path | Sequence[Atoms],
    constq_traj: str | Path | Sequence[Atoms],
    out_json: str | Path,
    out_md: str | Path,
    figure: str | Path | None = None,
) -> dict:
    """Follow the miniature's ion in both runs; write JSON, Markdown, figure.

    Parameters
    ----------
    constp_traj, constq_traj : path or sequence of ase.Atoms
        ``traj.extxyz`` of the constant-potential and constant-charge runs of
        the same miniature (same atoms, same order).
    out_json : path
        Per-frame series and headline of each run (:class:`MiniatureIon`),
        their ConstP − ConstQ differences, the sources and the network rule.
    out_md : path
        A heading and one paragraph of the measured numbers.
    figure : path, optional
        PNG: ion charge, height above the top layer and membership (free,
        in the anode's metal network, electrode member) vs time, both runs.

    Returns
    -------
    dict
        What ``out_json`` holds (NaN, e.g. ψ at constant charge, as None).

    Raises
    ------
    ValueError
        A trajectory that cannot be read or lacks an array (the message names
        the file), runs of different cells (atom counts or ion), an ion that
        cannot be found.
    """
    tracks = {
        "constp": MiniatureIon(constp_traj).run(),
        "constq": MiniatureIon(constq_traj).run(),
    }
    a, b = tracks["constp"], tracks["constq"]
    if len(a.frames[0]) != len(b.frames[0]) or a.ion != b.ion:
        raise ValueError(
            f"{a.source} and {b.source} are not runs of one cell: "
            f"{len(a.frames[0])} vs {len(b.frames[0])} atoms, ion {a.ion} vs {b.ion}"
        )
    runs = {
        k: {
            "source": t.source,
            "headline": t.results["headline"],
            "series": t.results["series"],
        }
        for k, t in tracks.items()
    }
    hp, hq = runs["constp"]["headline"], runs["constq"]["headline"]
    report = {
        "ion": a.ion,
        "runs": runs,
        "difference": {k: hp[k] - hq[k] for k in _DIFFERENCES},
        "network_rule": a.rule.todict(),
    }
    report = _finite_or_null(report)
    text = json.dumps(report, indent=2) + "\n"
    with atomic_path(out_json) as tmp:
        tmp.write_text(text)
    with atomic_path(out_md) as tmp:
        tmp.write_text(_paragraph(report))
    if figure is not None:
        _figure(report, figure)
    return report
