"""Γ-point finite-size error of GFN1-xTB labels of metallic Li.

tblite samples the Brillouin zone at Γ only, so the energy per atom of a
metal depends on the supercell: n×n×n cubic bcc Li cells sample n×n×n k-points
of the conventional cell. This prints E/atom (eV) for n = 3..6 (54–432 atoms)
at several electronic temperatures and the spread over n (meV/atom). The
spread is what a local model cannot learn when metal frames of different cells
share one dataset; constpot.label.sampling therefore gives every metal frame the
anode's lateral cell, and the remaining li_bulk/slab difference sets the floor
of the demo's energy error (see the README, Models).

Run:  python benchmarks/label_gamma_point.py [--sizes 3 4 5 6]
      [--temperatures 300 1000 3000 6000]      (≈ 1 min per temperature)
"""

from __future__ import annotations

import argparse
import time

from ase.build import bulk

#: bcc Li lattice constant, Å (experiment, 78 K, as the builder uses).
A_LI = 3.51


def energy_per_atom(n: int, temperature_K: float, a: float = A_LI) -> float:
    """GFN1-xTB energy per atom (eV) of an n×n×n cubic bcc Li supercell at Γ."""
    from tblite.ase import TBLite

    atoms = bulk("Li", "bcc", a=a, cubic=True).repeat((n, n, n))
    atoms.calc = TBLite(
        method="GFN1-xTB", electronic_temperature=temperature_K, verbosity=0
    )
    return atoms.get_potential_energy() / len(atoms)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3, 4, 5, 6])
    parser.add_argument(
        "--temperatures", type=float, nargs="+", default=[300, 1000, 3000, 6000]
    )
    args = parser.parse_args(argv)
    head = "".join(f"{f'n={n} ({2 * n**3})':>14}" for n in args.sizes)
    print(f"{'T_el (K)':>9}{head}{'spread meV/at':>15}{'s':>6}")
    for t_el in args.temperatures:
        start = time.perf_counter()
        row = [energy_per_atom(n, t_el) for n in args.sizes]
        spread = 1000 * (max(row) - min(row))
        cells = "".join(f"{e:14.4f}" for e in row)
        print(f"{t_el:9.0f}{cells}{spread:15.1f}{time.perf_counter() - start:6.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
