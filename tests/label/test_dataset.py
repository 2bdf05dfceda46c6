"""Sharded labelling: failures recorded and skipped, kill and resume, merge.

Uses real engines: EMT through ASELabeller (fast, exact) for the bookkeeping,
and tblite GFN1-xTB with one SCF iteration allowed for a real SCF failure.
"""

import csv
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from ase.io import read, write

from constpot.errors import SetupError
from constpot.label import ASELabeller, XTBLabeller, label_shard, merge_shards
from constpot.label.dataset import shard_indices


def _frames(n, rng):
    frames = []
    for k in range(n):
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 1, 1))
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        atoms.info["sample_index"] = k
        atoms.info["category"] = "cu" if k % 2 else "cu_odd"
        frames.append(atoms)
    return frames


class Killed(Exception):
    """Stands in for the job being killed mid-shard."""


class CountingEMT(ASELabeller):
    def __init__(self, kill_after=None):
        super().__init__("ase.calculators.emt.EMT")
        self.calls = 0
        self.kill_after = kill_after

    def label(self, atoms):
        if self.kill_after is not None and self.calls == self.kill_after:
            raise Killed
        self.calls += 1
        return super().label(atoms)


def test_shards_partition_the_frames():
    seen = sorted(i for s in range(3) for i in shard_indices(10, s, 3))
    assert seen == list(range(10))
    with pytest.raises(ValueError, match="shard 3"):
        shard_indices(10, 3, 3)


def test_kill_and_resume_labels_only_missing_frames(tmp_path, rng):
    frames_path = tmp_path / "frames.extxyz"
    write(frames_path, _frames(8, rng))
    out, fail = tmp_path / "s0.extxyz", tmp_path / "s0.csv"
    # Straight run of shard 0 of 2 (frames 0, 2, 4, 6) as the reference.
    ref_out = tmp_path / "ref.extxyz"
    label_shard(
        frames_path,
        CountingEMT(),
        0,
        2,
        ref_out,
        tmp_path / "ref.csv",
        log=lambda line: None,
    )
    killer = CountingEMT(kill_after=2)
    with pytest.raises(Killed):
        label_shard(frames_path, killer, 0, 2, out, fail, log=lambda line: None)
    assert not out.exists()  # the shard is not done: only its progress file
    assert len(read(tmp_path / "s0.partial.extxyz", index=":")) == 2
    resumed = CountingEMT()
    n_ok, n_fail = label_shard(
        frames_path, resumed, 0, 2, out, fail, log=lambda line: None
    )
    assert (n_ok, n_fail) == (4, 0)
    assert resumed.calls == 2  # only the two missing frames were labelled
    got, ref = read(out, index=":"), read(ref_out, index=":")
    assert [a.info["sample_index"] for a in got] == [0, 2, 4, 6]
    for a, b in zip(got, ref, strict=True):
        # Same frame, same engine: identical labels (EMT is deterministic).
        assert a.get_potential_energy() == b.get_potential_energy()
        np.testing.assert_array_equal(a.get_forces(), b.get_forces())
    assert not (tmp_path / "s0.partial.extxyz").exists()


def test_resume_refuses_progress_made_on_other_structures(tmp_path, rng):
    """A shard resumes by frame index; progress labelled from another sample
    (a chaotic build run on another CPU gives other amorphous frames for the
    same config) must not be merged under this sample's frames."""
    frames = _frames(4, rng)
    frames_path = tmp_path / "frames.extxyz"
    write(frames_path, frames)
    out, fail = tmp_path / "s0.extxyz", tmp_path / "s0.csv"
    with pytest.raises(Killed):
        label_shard(frames_path, CountingEMT(kill_after=1), 0, 2, out, fail, log=print)
    partial = tmp_path / "s0.partial.extxyz"
    progress = partial.read_bytes()
    # The same frames again resume; frame 0 moved by 0.1 Å does not.
    frames[0].positions[3] += [0.1, 0.0, 0.0]
    write(frames_path, frames)
    with pytest.raises(SetupError, match=r"s0\.partial\.extxyz: frame 0 \(cu_odd\)"):
        label_shard(frames_path, CountingEMT(), 0, 2, out, fail, log=print)
    assert partial.read_bytes() == progress  # nothing destroyed
    assert not out.exists()


class OneIterationFor(XTBLabeller):
    """GFN1-xTB that allows one SCF iteration (and no retry) for chosen frames."""

    def __init__(self, failing):
        super().__init__(electronic_temperature_K=300.0)
        self.failing = set(failing)

    def label(self, atoms):
        if int(atoms.info["sample_index"]) in self.failing:
            XTBLabeller(max_iterations=1, retry_temperatures_K=()).label(atoms)
        return super().label(atoms)


def test_scf_failure_goes_to_failures_and_shard_completes(tmp_path, rng):
    frames = []
    for k in range(3):
        atoms = bulk("LiF", "rocksalt", a=4.03)
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        atoms.info.update(sample_index=k, category="lif")
        frames.append(atoms)
    frames_path = tmp_path / "frames.extxyz"
    write(frames_path, frames)
    out, fail = tmp_path / "s.extxyz", tmp_path / "s.csv"
    n_ok, n_fail = label_shard(
        frames_path, OneIterationFor({1}), 0, 1, out, fail, log=lambda line: None
    )
    assert (n_ok, n_fail) == (2, 1)
    rows = list(csv.DictReader(open(fail)))
    assert [int(r["sample_index"]) for r in rows] == [1]
    assert "scf" in rows[0]["reason"].lower()
    labelled = read(out, index=":")
    assert [a.info["sample_index"] for a in labelled] == [0, 2]
    # Charges of the labelled frames sum to the neutral cell's 0 (1e-6 e).
    for a in labelled:
        assert abs(a.get_charges().sum()) < 1e-6


def test_merge_writes_dataset_summary_and_figure(tmp_path, rng):
    frames_path = tmp_path / "frames.extxyz"
    write(frames_path, _frames(6, rng))
    shards, fails = [], []
    for s in range(2):
        shards.append(tmp_path / f"{s}.extxyz")
        fails.append(tmp_path / f"{s}.csv")
        label_shard(
            frames_path,
            CountingEMT(),
            s,
            2,
            shards[-1],
            fails[-1],
            log=lambda line: None,
        )
    table = merge_shards(
        shards,
        fails,
        tmp_path / "d.extxyz",
        tmp_path / "f.csv",
        tmp_path / "sum.csv",
        tmp_path / "h.png",
    )
    data = read(tmp_path / "d.extxyz", index=":")
    assert [a.info["sample_index"] for a in data] == list(range(6))
    assert sum(row["frames"] for row in table.values()) == 6
    # Summary energy range brackets every frame's energy per atom.
    for a in data:
        row = table[a.info["category"]]
        e = a.get_potential_energy() / len(a)
        assert row["e_min_eV_atom"] <= e <= row["e_max_eV_atom"]
    assert (tmp_path / "h.png").stat().st_size > 5_000


def test_kpoint_settings_survive_extxyz(tmp_path, rng):
    """A labeller with a k-point rule records each frame's grid and vacuum
    axes; they round-trip through the shard's extxyz (an empty value would
    corrupt its comment line)."""
    frames = _frames(2, rng)
    frames[1].center(vacuum=4.0, axis=2)  # a slab: one k-point along z
    frames[1].pbc = True
    write(tmp_path / "frames.extxyz", frames)
    labeller = ASELabeller("ase.calculators.emt.EMT", kpt_spacing_inv_A=0.3)
    label_shard(
        tmp_path / "frames.extxyz",
        labeller,
        0,
        1,
        tmp_path / "out.extxyz",
        tmp_path / "fail.csv",
        log=lambda line: None,
    )
    bulk_frame, slab = read(tmp_path / "out.extxyz", index=":")
    assert list(bulk_frame.info["label_kpts"]) == [3, 6, 6]
    assert bulk_frame.info["label_vacuum_axes"] == "none"
    assert list(slab.info["label_kpts"]) == [3, 6, 1]
    assert slab.info["label_vacuum_axes"] == "z"
    assert not slab.info["label_molecular"]
    assert slab.info["label_kpt_spacing_inv_A"] == pytest.approx(0.3)


def test_committed_dft_labels_belong_to_the_committed_frames():
    """data/dft_small: 96 frames of <= 60 atoms, 8 per category, shard s one
    frame of each category; every labelled frame is its committed frame (same
    atoms, positions to the file's digits) with a DFT energy and forces."""
    root = Path(__file__).resolve().parents[2] / "data" / "dft_small"
    frames = read(root / "frames.extxyz", index=":")
    assert [a.info["sample_index"] for a in frames] == list(range(96))
    assert max(len(a) for a in frames) <= 60
    categories = [a.info["category"] for a in frames]
    assert len(set(categories)) == 12
    assert all(categories.count(c) == 8 for c in set(categories))
    for s in range(8):
        assert len({categories[i] for i in shard_indices(96, s, 8)}) == 12
    labelled = [
        a for path in sorted(root.glob("shards/*.extxyz")) for a in read(path, ":")
    ]
    assert len(labelled) >= 13
    for a in labelled:
        frame = frames[int(a.info["sample_index"])]
        np.testing.assert_array_equal(a.numbers, frame.numbers)
        np.testing.assert_allclose(a.positions, frame.positions, rtol=0, atol=1e-6)
        assert a.info["label_code"].startswith("gpaw")
        assert np.isfinite(a.get_potential_energy())
        assert a.get_forces().shape == (len(a), 3)
