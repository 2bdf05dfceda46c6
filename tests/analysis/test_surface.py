"""Anode height maps: flat faces, adatoms, periodic binning, growth events."""

import numpy as np
import pytest

from constpot import keys
from constpot.analysis import AnodeSurface, height_map, surface_statistics

from .synthetic import CELL, HOLLOWS, frames, index_of


def _face(n=4, z=10.0, side=12.0, offset=0.2):
    g = (np.arange(n) + 0.5) * side / n + offset
    x, y = np.meshgrid(g, g, indexing="ij")
    top = np.column_stack([x.ravel(), y.ravel(), np.full(n * n, z)])
    below = top - [0.5 * side / n, 0.5 * side / n, 1.5]
    return np.vstack([top, below]), np.diag([side, side, 40.0])


def test_flat_face_has_zero_roughness():
    pos, cell = _face()
    h, x, _ = height_map(pos, cell, bin_A=3.0)
    assert h.shape == (4, 4)
    assert np.all(h == 10.0)
    stats = surface_statistics(h)
    assert stats["roughness_A"] == 0.0
    assert stats["protrusion_A"] == 0.0
    assert stats["empty_bins"] == 0
    np.testing.assert_allclose(x[:, 0], [1.5, 4.5, 7.5, 10.5])


@pytest.mark.parametrize("x_adatom", [4.0, -0.5])  # -0.5 wraps into the last bin
def test_single_adatom_protrusion(x_adatom):
    """One adatom Δ above a flat face of n bins: protrusion Δ(1 − 1/n),
    roughness Δ√(n−1)/n (exact up to round-off)."""
    pos, cell = _face()
    delta = 2.3
    pos = np.vstack([pos, [x_adatom, 7.0, 10.0 + delta]])
    h, _, _ = height_map(pos, cell, bin_A=3.0)
    n = h.size
    stats = surface_statistics(h)
    np.testing.assert_allclose(stats["protrusion_A"], delta * (1 - 1 / n), rtol=1e-12)
    np.testing.assert_allclose(
        stats["roughness_A"], delta * np.sqrt(n - 1) / n, rtol=1e-12
    )
    ix = 1 if x_adatom > 0 else 3
    assert h[ix, 2] == pytest.approx(10.0 + delta)


def test_anode_surface_follows_the_metal_network():
    """A Li arriving in a hollow of the anode is part of the surface (a rise
    of 1.8 Å in its bin, a protrusion event); a Li labelled anode by the MD
    but floating 10 Å above it is not."""
    traj = frames(4)
    i = index_of(traj[0], "electrolyte", "Li")
    j = index_of(traj[0], "electrolyte", "Li", 1)
    for atoms in traj[2:]:
        atoms.positions[i] = HOLLOWS[0]
        atoms.positions[j, 2] = 29.0
        atoms.arrays[keys.ELECTRODE][j] = keys.ANODE
    surf = AnodeSurface(traj, bin_A=5.0, protrusion_A=1.5).run()
    table = surf.results["table"]
    assert table["roughness_A"].iloc[0] == 0.0
    assert table["n_anode"].tolist() == [27, 27, 28, 28]
    # 2 x 2 bins, top layer at z = 19, the adatom 1.8 Å above
    np.testing.assert_allclose(table["protrusion_A"].iloc[-1], 1.8 * (1 - 1 / 4))
    np.testing.assert_allclose(table["max_rise_A"], [0.0, 0.0, 1.8, 1.8])
    events = surf.results["events"]
    assert len(events) == 1 and events["frame"].iloc[0] == 2
    # centre of the bin holding (3.33, 3.33)
    np.testing.assert_allclose(events[["x_A", "y_A"]].iloc[0], [2.5, 2.5])
    maps = surf.results["maps"]
    assert set(maps["snapshot"]) == {"start", "end"}
    end = maps[maps["snapshot"] == "end"]
    assert end["height_A"].max() == pytest.approx(20.8)
    assert end["change_A"].max() == pytest.approx(1.8)
    assert (maps[maps["snapshot"] == "start"]["change_A"] == 0).all()
    assert CELL[0, 0] == 10.0
    # a smaller rise than protrusion_A is no event
    assert AnodeSurface(traj, protrusion_A=2.0).run().results["events"].empty


def test_bad_arguments():
    with pytest.raises(ValueError, match="bin_A"):
        height_map(np.zeros((1, 3)), np.eye(3), bin_A=0.0)
    with pytest.raises(ValueError, match="protrusion_A"):
        AnodeSurface(frames(1), protrusion_A=0.0)
