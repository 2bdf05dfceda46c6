"""Anode height maps: flat faces, adatoms, periodic binning."""

import numpy as np
import pytest

from constpot import keys
from constpot.analysis import AnodeSurface, height_map, surface_statistics

from .synthetic import CELL, frames


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


def test_anode_surface_follows_membership():
    """A Li joining the anode on top of the face becomes a protrusion."""
    traj = frames(3)
    i = int(np.flatnonzero(traj[0].arrays[keys.REGION] == "electrolyte")[0])
    traj[2].positions[i] = [1.5, 1.5, 21.0]
    traj[2].arrays[keys.ELECTRODE][i] = keys.ANODE
    surf = AnodeSurface(traj, bin_A=10.0 / 3.0).run()
    table = surf.results["table"]
    assert table["roughness_A"].iloc[0] == 0.0
    # 3 x 3 bins, top layer at z = 19, adatom 2 Å above
    np.testing.assert_allclose(table["protrusion_A"].iloc[-1], 2.0 * (1 - 1 / 9))
    maps = surf.results["maps"]
    assert set(maps["snapshot"]) == {"start", "end"}
    end = maps[maps["snapshot"] == "end"]
    assert end["height_A"].max() == pytest.approx(21.0)
    assert CELL[0, 0] == 10.0


def test_bad_bin_width():
    with pytest.raises(ValueError, match="bin_A"):
        height_map(np.zeros((1, 3)), np.eye(3), bin_A=0.0)
