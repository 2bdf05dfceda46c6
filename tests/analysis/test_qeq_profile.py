"""Charge profile and electrode totals: conservation identities."""

import numpy as np
import pytest
from ase import Atoms

import constpot.analysis as analysis
from constpot import keys
from constpot.analysis import charge_profile, electrode_totals


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
