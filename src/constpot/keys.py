"""Names of per-atom arrays and per-frame info keys in constpot files.

Structures are :class:`ase.Atoms`; files are extended XYZ. Every array or info
key that more than one module reads or writes is named here, with its shape and
unit, reusing ASE's names where they exist.
"""

__all__ = [
    "ANODE",
    "ANODE_REGION",
    "CHARGES",
    "COUNTER",
    "COUNTER_REGION",
    "ELECTRODE",
    "ELECTRODE_NAMES",
    "ELECTROLYTE_REGION",
    "FROZEN",
    "MINIATURE_ION",
    "MOLECULE",
    "MOL_ID",
    "NOT_ELECTRODE",
    "REGION",
    "SEI_REGION",
]

#: (n_atoms,) float, e. Equilibrated atomic charges (ASE's name).
CHARGES = "charges"
#: (n_atoms,) int. Electrode membership: NOT_ELECTRODE, ANODE or COUNTER.
ELECTRODE = "electrode"
#: (n_atoms,) str. Structural region: "anode", "sei", "electrolyte", "counter".
REGION = "region"
#: Values of the ``region`` array (the builder's blocks; fixed for a run).
ANODE_REGION = "anode"
SEI_REGION = "sei"
ELECTROLYTE_REGION = "electrolyte"
COUNTER_REGION = "counter"
#: (n_atoms,) int. Molecule / ion index, -1 for atoms of extended phases.
MOL_ID = "mol_id"
#: (n_atoms,) str. Molecule or ion name ("EC", "DMC", "PF6", "Li"), or
#: "-" for atoms of extended phases. (Not "species": extxyz uses that name.)
MOLECULE = "molecule"
#: (n_atoms,) bool. Atom held fixed in dynamics (outermost electrode layers).
FROZEN = "frozen"

#: Values of the ``electrode`` array.
NOT_ELECTRODE = 0
ANODE = 1
COUNTER = 2
ELECTRODE_NAMES = {NOT_ELECTRODE: "none", ANODE: "anode", COUNTER: "counter"}

#: atoms.info key, int: index of the Li⁺ of the miniature (constpot.build.miniature).
MINIATURE_ION = "miniature_ion"
