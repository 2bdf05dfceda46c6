"""The paper's model vs its variants at t = 0: Li⁺ charges and electrode members.

For each built demo interface (``results/build/{system}/interface.extxyz``;
built on the fly from the demo config when missing), at constant charge with
the paper's QEq table:

- the charges of the electrolyte Li⁺ (min / mean / max, e) under the paper's
  single total-charge constraint and under the ``molecule_charges`` variant
  (EC, DMC at 0 e, PF₆⁻ at −1 e);
- how many SEI Li the metallic-Li rule puts on an electrode: the paper's rule
  (≥ 8 Li within 3.5 Å) and the ``anion_exclusion`` variant (no Li bonded to
  F/O).

The charges do not depend on the short-range model (QEq alone), so this
needs no training. Run from the repository root::

    python benchmarks/variant_charges.py [--systems mosaic_amorphous crystalline]

Prints a Markdown table (a few seconds per system on one core).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from constpot.build import build_interface
from constpot.config import load_config
from constpot.io import frozen_mask, read_structure
from constpot.keys import REGION
from constpot.potential import QEqSettings
from constpot.qeq import MetallicRule

ROOT = Path(__file__).resolve().parents[1]
MOLECULES = {"EC": 0.0, "DMC": 0.0, "PF6": -1.0}


def _interface(name: str, config: dict):
    path = ROOT / "results" / "build" / name / "interface.extxyz"
    if path.is_file():
        return read_structure(path)
    return build_interface(config["systems"][name], name)


def _charges(atoms, molecule_charges) -> np.ndarray:
    settings = QEqSettings(molecule_charges=molecule_charges)
    solver = settings.solver(slab=True, method="cg", tol=1e-8)
    res = solver.solve(atoms, total_charge=0.0, groups=settings.groups(atoms))
    return res.charges


def main() -> None:
    config = load_config(ROOT / "config" / "config.yaml")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", nargs="+", default=list(config["systems"]))
    args = parser.parse_args()

    print(
        "| system | model | electrolyte Li⁺ q (min / mean / max, e) "
        "| SEI Li on an electrode |"
    )
    print("|---|---|---|---|")
    for name in args.systems:
        atoms = _interface(name, config)
        region = np.asarray(atoms.arrays[REGION]).astype(str)
        li = atoms.symbols == "Li"
        ion = li & (region == "electrolyte")
        sei = li & (region == "sei")
        frozen = frozen_mask(atoms)
        paper_rule = MetallicRule().labels(atoms, frozen)
        excl_rule = MetallicRule(exclude=("F", "O")).labels(atoms, frozen)
        for model, groups, labels in (
            ("paper", {}, paper_rule),
            ("molecule_charges", MOLECULES, paper_rule),
            ("anion_exclusion", {}, excl_rule),
        ):
            q = _charges(atoms, groups)[ion]
            members = int(((labels > 0) & sei).sum())
            stats = (
                f"{q.min():.2f} / {q.mean():.2f} / {q.max():.2f} ({q.size} ions)"
                if q.size
                else "no Li⁺"
            )
            print(f"| {name} | {model} | {stats} | {members} of {int(sei.sum())} |")


if __name__ == "__main__":
    main()
