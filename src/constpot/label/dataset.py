"""Sharded, resumable labelling and the merged dataset.

Frames to label (from :mod:`constpot.label.sampling`) are split into shards by
index (frame ``i`` belongs to shard ``i mod n_shards``), so ``snakemake
--cores N`` labels N shards at once and a cluster runs them as jobs.

A shard is written atomically after every frame to ``<stem>.partial.extxyz``
(with its failures beside it); a rerun after a kill reads it back and labels only the
frames still missing; the finished shard is renamed into place. A frame whose
SCF does not converge, even at the labeller's raised electronic temperatures,
is recorded in the failures table (frame index, category, reason) and skipped:
the run goes on.

:func:`merge_shards` joins shards in frame order into one extxyz dataset and
writes a summary table (frames per category, atoms, energy and force ranges)
and a histogram figure.
"""

from __future__ import annotations

import csv
import functools
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write

from ..errors import SetupError
from ..io import atomic_path
from ..keys import CATEGORY, SAMPLE_INDEX
from ..plotstyle import integer_ticks, plot_style, save_figure
from .labellers import LabelError

__all__ = [
    "FAILURE_FIELDS",
    "label_shard",
    "merge_shards",
    "read_failures",
    "shard_indices",
]

#: Columns of a failures table.
FAILURE_FIELDS = ("sample_index", "category", "n_atoms", "reason")


def shard_indices(n_frames: int, shard: int, n_shards: int) -> list[int]:
    """Frame indices of ``shard`` (0-based) out of ``n_shards``."""
    if n_shards < 1 or not 0 <= shard < n_shards:
        raise ValueError(f"shard {shard} is not in 0..{n_shards - 1}")
    return list(range(shard, n_frames, n_shards))


def read_failures(path: str | Path) -> list[dict]:
    """Rows of a failures CSV (empty list when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _write_failures(path: Path, rows: Sequence[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FAILURE_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def _read_frames(path: str | Path) -> list[Atoms]:
    """Frames of an extxyz file; an empty file (no frames) gives []."""
    if Path(path).stat().st_size == 0:
        return []
    return read(path, index=":", format="extxyz")


def _write_frames(path: Path, frames: Sequence[Atoms]) -> None:
    with atomic_path(path) as tmp:
        write(tmp, list(frames), format="extxyz")


def _flat_settings(settings: dict) -> dict:
    """Scalar ``label_*`` info keys (extxyz keeps scalars and strings; an
    empty value would corrupt its comment line, so empty lists are left out)."""
    out = {}
    for key, value in settings.items():
        if isinstance(value, (bool, int, float, str)):
            out[f"label_{key}"] = value
        elif (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(v, (int, float)) for v in value)
        ):
            out[f"label_{key}"] = " ".join(str(v) for v in value)
    return out


def _labelled(frame: Atoms, result) -> Atoms:
    atoms = frame.copy()
    atoms.calc = None
    props = {"energy": result.energy, "forces": result.forces}
    if result.stress is not None:
        props["stress"] = result.stress
    if result.charges is not None:
        props["charges"] = result.charges
    atoms.calc = SinglePointCalculator(atoms, **props)
    atoms.info.update(_flat_settings(result.settings))
    return atoms


def label_shard(
    frames_path: str | Path,
    labeller,
    shard: int,
    n_shards: int,
    out: str | Path,
    failures: str | Path,
    log=print,
) -> tuple[int, int]:
    """Label one shard of the frames in ``frames_path``; resumable.

    Parameters
    ----------
    frames_path : path
        extxyz of unlabelled frames with ``info["sample_index"]``.
    labeller : constpot.label.labellers.Labeller
    shard, n_shards : int
        Which shard, of how many.
    out : path
        Labelled frames of this shard (extxyz), written when the shard is done;
        progress goes to ``<stem>.partial.extxyz`` meanwhile.
    failures : path
        CSV of the frames that could not be labelled (columns
        :data:`FAILURE_FIELDS`).
    log : callable
        Progress lines (one per frame, with an ETA).

    Returns
    -------
    (int, int)
        Frames labelled and frames failed in this shard.
    """
    out, failures = Path(out), Path(failures)
    partial = out.with_name(out.stem + ".partial" + out.suffix)
    partial_fail = failures.with_name(failures.stem + ".partial" + failures.suffix)
    frames = _read_frames(frames_path)
    todo = shard_indices(len(frames), shard, n_shards)
    done: list[Atoms] = read(partial, index=":") if partial.exists() else []
    _check_same_frames(partial, done, frames, frames_path)
    failed = read_failures(partial_fail)
    finished = {int(a.info[SAMPLE_INDEX]) for a in done}
    finished |= {int(row["sample_index"]) for row in failed}
    remaining = [i for i in todo if int(frames[i].info[SAMPLE_INDEX]) not in finished]
    if finished:
        log(f"shard {shard}: resuming, {len(finished)} of {len(todo)} frames done")
    start = time.perf_counter()
    for k, i in enumerate(remaining, 1):
        frame = frames[i]
        index = int(frame.info[SAMPLE_INDEX])
        category = frame.info.get(CATEGORY, "")
        labeller.progress = functools.partial(
            _frame_line,
            log,
            f"shard {shard}: frame {index} ({category}, {len(frame)} atoms)",
        )
        try:
            result = labeller.label(frame)
        except LabelError as err:
            failed.append(
                {
                    "sample_index": index,
                    "category": category,
                    "n_atoms": len(frame),
                    "reason": err.reason,
                }
            )
            _write_failures(partial_fail, failed)
            log(f"shard {shard}: frame {index} ({category}) failed: {err.reason}")
        else:
            done.append(_labelled(frame, result))
            _write_frames(partial, done)
        elapsed = time.perf_counter() - start
        eta = elapsed / k * (len(remaining) - k)
        log(
            f"shard {shard}: {k}/{len(remaining)} frame {index} ({category}, "
            f"{len(frame)} atoms) {elapsed:.0f} s, ETA {eta:.0f} s"
        )
    labeller.progress = None
    done.sort(key=lambda a: int(a.info[SAMPLE_INDEX]))
    _write_frames(out, done)
    _write_failures(failures, failed)
    partial.unlink(missing_ok=True)
    partial_fail.unlink(missing_ok=True)
    return len(done), len(failed)


# Positions of a labelled frame and of its input frame agree to the digits an
# extxyz file keeps (8 decimals); anything beyond this is another structure.
_SAME_POSITION_A = 1.0e-5


def _check_same_frames(
    partial: Path, done: Sequence[Atoms], frames: Sequence[Atoms], frames_path
) -> None:
    """Refuse to resume from labels of other structures than ``frames``.

    A shard resumes by frame index, so progress made on another sample (the
    frames of a different seed or config, or of a chaotic build run on another
    machine) would otherwise be merged under the wrong structures.
    """
    by_index = {int(a.info[SAMPLE_INDEX]): a for a in frames}
    for labelled in done:
        index = int(labelled.info[SAMPLE_INDEX])
        frame = by_index.get(index)
        where = f"{partial}: frame {index} ({labelled.info.get(CATEGORY, '')})"
        if frame is None:
            raise SetupError(f"{where} is not in {frames_path}")
        same = len(frame) == len(labelled) and np.array_equal(
            frame.numbers, labelled.numbers
        )
        if same:
            moved = np.abs(frame.positions - labelled.positions).max(initial=0.0)
            same = moved <= _SAME_POSITION_A and np.allclose(
                frame.cell[:], labelled.cell[:], rtol=0.0, atol=_SAME_POSITION_A
            )
        if not same:
            raise SetupError(
                f"{where} was labelled from another structure than frame {index}"
                f" of {frames_path}; label the frames it came from, or move the"
                " partial file away to start the shard again"
            )


def _frame_line(log, prefix: str, line: str) -> None:
    log(f"{prefix}: {line}")


def merge_shards(
    shards: Sequence[str | Path],
    failure_tables: Sequence[str | Path],
    out: str | Path,
    failures_out: str | Path,
    summary: str | Path,
    figure: str | Path | None = None,
) -> dict[str, dict]:
    """Join labelled shards into one dataset, with a summary and a figure.

    Returns
    -------
    dict
        category → {"frames", "atoms", "e_min_eV_atom", "e_max_eV_atom",
        "f_max_eV_A", "f_rms_eV_A"}; the same rows as the summary CSV.
    """
    frames: list[Atoms] = []
    for path in shards:
        frames.extend(_read_frames(path))
    frames.sort(key=lambda a: int(a.info[SAMPLE_INDEX]))
    rows_fail: list[dict] = []
    for path in failure_tables:
        rows_fail.extend(read_failures(path))
    rows_fail.sort(key=lambda r: int(r["sample_index"]))
    if not frames:
        raise ValueError("no labelled frames in the shards")
    _write_frames(Path(out), frames)
    _write_failures(Path(failures_out), rows_fail)

    table: dict[str, dict] = {}
    for cat in dict.fromkeys(a.info.get(CATEGORY, "") for a in frames):
        sel = [a for a in frames if a.info.get(CATEGORY, "") == cat]
        e = np.array([a.get_potential_energy() / len(a) for a in sel])
        f = np.concatenate([np.linalg.norm(a.get_forces(), axis=1) for a in sel])
        table[cat] = {
            "frames": len(sel),
            "atoms": int(sum(len(a) for a in sel)),
            "e_min_eV_atom": float(e.min()),
            "e_max_eV_atom": float(e.max()),
            "f_max_eV_A": float(f.max()),
            "f_rms_eV_A": float(np.sqrt(np.mean(f**2))),
        }
    with atomic_path(summary) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["category", *next(iter(table.values()))])
        for cat, row in table.items():
            writer.writerow(
                [
                    cat,
                    *(f"{v:.6g}" if isinstance(v, float) else v for v in row.values()),
                ]
            )
    if figure is not None:
        _plot_histograms(frames, figure)
    return table


def _plot_histograms(frames: Sequence[Atoms], out: str | Path) -> None:
    cats = list(dict.fromkeys(a.info.get(CATEGORY, "") for a in frames))
    with plot_style() as plt:
        fig, (ax_e, ax_f) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
        for cat in cats:
            sel = [a for a in frames if a.info.get(CATEGORY, "") == cat]
            e = [a.get_potential_energy() / len(a) for a in sel]
            f = np.concatenate([np.linalg.norm(a.get_forces(), axis=1) for a in sel])
            ax_e.hist(e, bins=20, histtype="step", label=f"{cat} ({len(sel)})")
            ax_f.hist(f, bins=40, histtype="step", density=True, label=cat)
        ax_e.set_xlabel("energy per atom (eV/atom)")
        ax_e.set_ylabel("frames")
        integer_ticks(ax_e.yaxis)
        ax_f.set_xlabel("|force| (eV/Å)")
        ax_f.set_ylabel("probability density (Å/eV)")
        ax_f.set_yscale("log")
        ax_e.legend(fontsize=6)
        save_figure(fig, out)
