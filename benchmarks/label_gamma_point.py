"""Γ-point finite-size error of GFN1-xTB labels of metallic Li.

tblite samples the Brillouin zone at Γ only, so the energy per atom of a
metal depends on the supercell: n×n×n cubic bcc Li cells sample n×n×n k-points
of the conventional cell. This prints E/atom (eV) for n = 3..6 (54–432 atoms)
at several electronic temperatures and the spread over n (meV/atom). The
spread is what a local model cannot learn when metal frames of different cells
share one dataset; constpot.label.sampling therefore gives every metal frame the
anode's lateral cell, and the remaining li_bulk/slab difference sets the floor
of the demo's energy error (see the README, Models).

The supercells are built at the builder's lattice constant,
:data:`constpot.build.lithium.LI_BCC_A_A` (3.33 Å, PBE+D3(BJ); ``--a-A`` to
change it). The measured spreads quoted in ``docs/pipeline.md`` (189 meV/atom
between 54 and 432 atoms, 43 between 128 and 432, 112 with 6000 K smearing)
were taken at a = 3.51 Å, the builder's value then, and have not been rerun
at 3.33 Å.

Run:  python benchmarks/label_gamma_point.py [--sizes 3 4 5 6]
      [--temperatures 300 1000 3000 6000] [--a-A 3.51]  (≈ 1 min per temperature)
"""

from __future__ import annotations

import argparse
import time

from ase.build import bulk

from constpot.build.lithium import LI_BCC_A_A


def energy_per_atom(n: int, temperature_K: float, a: float = LI_BCC_A_A) -> float:
    """GFN1-xTB energy per atom (eV) of an n×n×n cubic bcc Li supercell at Γ,
    lattice constant ``a`` (Å; default the builder's)."""
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
    parser.add_argument(
        "--a-A", type=float, default=LI_BCC_A_A, help="bcc lattice constant, Å"
    )
    args = parser.parse_args(argv)
    print(f"bcc Li, a = {args.a_A} Å")
    head = "".join(f"{f'n={n} ({2 * n**3})':>14}" for n in args.sizes)
    print(f"{'T_el (K)':>9}{head}{'spread meV/at':>15}{'s':>6}")
    for t_el in args.temperatures:
        start = time.perf_counter()
        row = [energy_per_atom(n, t_el, args.a_A) for n in args.sizes]
        spread = 1000 * (max(row) - min(row))
        cells = "".join(f"{e:14.4f}" for e in row)
        print(f"{t_el:9.0f}{cells}{spread:15.1f}{time.perf_counter() - start:6.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
