"""Charge profile and electrode totals: conservation identities."""

import numpy as np
import pytest
from ase import Atoms

import constpot.analysis as analysis
from constpot import keys
from constpot.analysis import (
    charge_profile,
    electrode_totals,
    plot_charge_profiles,
    qeq_profile,
)
from constpot.plotstyle import save_figure


def test_all_names_import():
    for name in analysis.__all__:
        assert hasattr(analysis, name)


@pytest.fixture
def frame(rng):
    n = 60
    atoms = Atoms(
        "Li" * n, positions=rng.uniform(0, 20, (n, 3)), cell=[20, 20, 20], pbc=True
    )
    q = rng.normal(size=n)
    atoms.arrays["_q"] = q - q.mean()
    atoms.arrays[keys.ELECTRODE] = rng.integers(0, 3, n)
    return atoms


@pytest.mark.parametrize("bin_width", [0.5, 1.3, 7.0])
def test_profile_integrates_to_total_charge(frame, bin_width):
    """Σ (line charge × slice width) = total charge (1e-12: round-off)."""
    z, line = charge_profile(frame, bin_width)
    width = frame.cell[2, 2] / len(z)
    np.testing.assert_allclose(
        np.sum(line) * width, frame.arrays["_q"].sum(), atol=1e-12
    )
    assert np.all(np.diff(z) > 0)


def test_electrode_totals_partition_the_cell(frame):
    """The three parts hold every atom and their totals add to Σq."""
    totals = electrode_totals(frame)
    assert sum(p["n_atoms"] for p in totals.values()) == len(frame)
    np.testing.assert_allclose(
        sum(p["total_e"] for p in totals.values()), frame.arrays["_q"].sum(), atol=1e-12
    )


def test_figure_shows_the_totals_and_the_profile(frame, tmp_path, monkeypatch):
    """The bars are the anode and counter totals of each frame (to the
    printed float), the lines the slice charge, whose integral is Σq; the
    PNG is written through the shared save_figure."""
    drawn = {}

    def keep(fig, out):
        drawn["fig"] = fig
        return save_figure(fig, out)

    monkeypatch.setattr(qeq_profile, "save_figure", keep)
    shifted = frame.copy()
    shifted.arrays["_q"] = -frame.arrays["_q"]
    frames = {"a": frame, "b": shifted}
    out = plot_charge_profiles(frames, tmp_path / "q.png", bin_width=1.3)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _, ax_line, ax_bar = drawn["fig"].axes
    heights = [p.get_height() for p in ax_bar.patches]
    expected = [
        electrode_totals(frames[label])[part]["total_e"]
        for label in frames
        for part in ("anode", "counter")
    ]
    # rel 1e-12: the same sums, passed through matplotlib unchanged
    np.testing.assert_allclose(heights, expected, rtol=1e-12)
    lines = ax_line.get_lines()[: len(frames)]  # then the zero line
    for line, atoms in zip(lines, frames.values(), strict=True):
        z, q_line = line.get_data()
        width = atoms.cell[2, 2] / len(z)
        # atol 1e-12: round-off of a sum of 60 O(1) charges
        np.testing.assert_allclose(
            np.sum(q_line) * width, atoms.arrays["_q"].sum(), atol=1e-12
        )
