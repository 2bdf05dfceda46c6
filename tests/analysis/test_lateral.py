"""Co-location of events in x–y and the SEI patch under them."""

import numpy as np
import pytest

from constpot.analysis import colocation, sei_patches
from constpot.analysis.lateral import lateral_grid

CELL = np.diag([10.0, 10.0])


def test_hits_need_an_earlier_site_within_the_radius():
    sites_xy, sites_t = [(2.0, 2.0)], [1.0]
    events_xy = [(2.5, 2.0), (2.5, 2.0), (7.0, 7.0), (9.9, 2.0)]
    events_t = [2.0, 0.5, 2.0, 2.0]
    hit, p, near = colocation(
        events_xy, events_t, sites_xy, sites_t, CELL, radius_A=1.0, grid_A=0.05
    )
    # after the site: on it; before it: near but no hit; far: neither;
    # (9.9, 2) is 2.1 Å from (2, 2) through x = 10: beyond 1 Å
    assert hit.tolist() == [True, False, False, False]
    assert near.tolist() == [True, True, False, False]
    # chance of a hit: a disc of 1 Å in 100 Å² (grid 0.05 Å: 1 % accurate)
    np.testing.assert_allclose(
        p, [np.pi / 100, 0.0, np.pi / 100, np.pi / 100], rtol=0.01
    )
    hit, _, _ = colocation([(9.9, 2.0)], [2.0], sites_xy, sites_t, CELL, 2.5)
    assert hit.tolist() == [True]  # periodic image in x


def test_uniform_random_events_score_zero_excess_on_average(rng):
    """E[hit − p_random] = 0 for events placed uniformly at random."""
    sites = rng.uniform(0, 10, (3, 2))
    events = rng.uniform(0, 10, (4000, 2))
    hit, p, _ = colocation(events, np.ones(4000), sites, np.zeros(3), CELL, 1.5)
    # binomial standard error sqrt(p(1-p)/n) ≈ 0.007 at p ≈ 0.2
    assert abs(np.mean(hit - p)) < 0.03
    assert 0.1 < p[0] < 0.25  # three discs of 7.1 Å², some overlap


def test_no_sites_or_no_events():
    hit, p, near = colocation([(1.0, 1.0)], [1.0], np.zeros((0, 2)), [], CELL, 1.0)
    assert hit.tolist() == [False] and p.tolist() == [0.0] and not near.any()
    hit, p, near = colocation(np.zeros((0, 2)), [], [(1.0, 1.0)], [0.0], CELL, 1.0)
    assert hit.size == p.size == near.size == 0
    with pytest.raises(ValueError, match="radius_A"):
        colocation([(1.0, 1.0)], [1.0], [(1.0, 1.0)], [0.0], CELL, 0.0)


def test_sei_patch_is_that_of_the_nearest_anion():
    anions = [(2.5, 5.0), (7.5, 5.0)]
    names = sei_patches([(1.0, 5.0), (6.0, 1.0), (9.9, 5.0)], anions, ["F", "O"], CELL)
    assert names.tolist() == ["LiF", "Li2O", "Li2O"]
    assert sei_patches([(1.0, 1.0)], np.zeros((0, 2)), [], CELL).tolist() == [""]
    grid = lateral_grid(CELL, 0.5)
    assert grid.shape == (400, 2)
    share = (sei_patches(grid, anions, ["F", "O"], CELL) == "LiF").mean()
    assert share == pytest.approx(0.5)
