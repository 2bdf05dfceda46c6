"""Harmonic walls: zero inside, forces = −∇U (finite differences), selection."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.lj import LennardJones

from constpot.md import HarmonicWalls, wall_indices


def test_wall_energy_and_forces(cell):
    lo, hi = cell.info["wall_lower_A"], cell.info["wall_upper_A"]
    ions = [16, 17, 18, 19]
    walls = HarmonicWalls(ions, lo, hi, spring_eV_A2=4.0)
    assert walls.adjust_potential_energy(cell) == 0.0  # all ions inside
    cell.positions[16, 2] = lo - 0.3
    cell.positions[19, 2] = hi + 0.2
    # ½k(0.3² + 0.2²) with k = 4 eV/Å²
    assert walls.adjust_potential_energy(cell) == pytest.approx(0.26, abs=1e-12)
    forces = np.zeros((len(cell), 3))
    walls.adjust_forces(cell, forces)
    h = 1e-5
    for i in (16, 19):
        for d in range(3):
            plus, minus = cell.copy(), cell.copy()
            plus.positions[i, d] += h
            minus.positions[i, d] -= h
            fd = -(
                walls.adjust_potential_energy(plus)
                - walls.adjust_potential_energy(minus)
            ) / (2 * h)
            # central differences of a quadratic: exact up to round-off
            assert forces[i, d] == pytest.approx(fd, abs=1e-8)
    assert forces[16, 2] == pytest.approx(1.2) and forces[19, 2] == pytest.approx(-0.8)


def test_walls_enter_ase_energy_and_forces(cell):
    """As an ASE constraint: get_potential_energy/get_forces include the walls."""
    cell.calc = LennardJones(sigma=2.6, epsilon=0.05, rc=7.0, smooth=True)
    e0, f0 = cell.get_potential_energy(), cell.get_forces().copy()
    walls = HarmonicWalls([17], 0.0, cell.positions[17, 2] - 0.5, 2.0)
    cell.set_constraint(walls)
    assert cell.get_potential_energy() == pytest.approx(e0 + 0.25, abs=1e-12)
    assert cell.get_forces()[17, 2] == pytest.approx(f0[17, 2] - 1.0, abs=1e-12)


def test_wall_selection(cell):
    # Li⁺ (molecule "Li") is free to leave; the F⁻ ions are confined.
    assert wall_indices(cell, "molecules").tolist() == [17, 19]
    assert wall_indices(cell, "electrolyte").tolist() == [16, 17, 18, 19]
    assert wall_indices(cell, "none").size == 0
    with pytest.raises(ValueError, match="walls must be one of"):
        wall_indices(cell, "solvent")
    with pytest.raises(ValueError, match="lower_A < upper_A"):
        HarmonicWalls([0], 5.0, 4.0, 1.0)
    with pytest.raises(ValueError, match="spring_eV_A2"):
        HarmonicWalls([0], 4.0, 5.0, 0.0)
