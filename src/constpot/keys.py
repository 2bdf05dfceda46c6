"""Names shared between stages: arrays, info keys, regions, files, formal charges.

Structures are :class:`ase.Atoms`; files are extended XYZ. Every per-atom
array or per-frame ``atoms.info`` key that more than one module reads or
writes is named here, with its shape and unit, reusing ASE's names where they
exist; so are the region names the builder writes, the file names one stage
writes and another reads, and the formal charges of the ionic species.
Run identity (run folder names, potential labels, the sweep) lives in
:mod:`constpot.runs`.
"""

__all__ = [
    "ANODE",
    "ANODE_REGION",
    "BUILD_INFO",
    "CATEGORY",
    "CHARGES",
    "CHECKPOINT_FILE",
    "COUNTER",
    "COUNTER_REGION",
    "ELECTRODE",
    "ELECTRODE_NAMES",
    "ELECTROLYTE_REGION",
    "FORCE_DEVIATION",
    "FORMAL_CHARGES",
    "FROZEN",
    "MINIATURE_ION",
    "MOLECULE",
    "MOL_ID",
    "NOT_ELECTRODE",
    "QEQ_FILE",
    "REGION",
    "REGIONS",
    "RUN_FILE",
    "SAMPLE_INDEX",
    "SEI_REGION",
    "STEP",
    "SUMMARY_FILE",
    "SYSTEM",
    "THERMO_FILE",
    "TIME_FS",
    "TOTAL_CHARGE",
    "TRAINING_END_FILE",
    "TRAJ_FILE",
    "WALL_LOWER_A",
    "WALL_UPPER_A",
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
#: All region values, from the anode up.
REGIONS = (ANODE_REGION, SEI_REGION, ELECTROLYTE_REGION, COUNTER_REGION)
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

# --- per-frame atoms.info keys ---------------------------------------------

#: float, fs. Simulation time of an MD frame (md writes, analysis reads).
TIME_FS = "time_fs"
#: int. MD step of a frame or checkpoint.
STEP = "step"
#: float, e. Total charge of a frame (formal charges summed; labels, QEq).
TOTAL_CHARGE = "total_charge"
#: str. Interface name (config ``systems:``) a structure or frame comes from.
SYSTEM = "system"
#: str. Sampling category of a reference frame (e.g. ``"li_bulk"``).
CATEGORY = "category"
#: int. Index of a frame in the sampled set (stable across label shards).
SAMPLE_INDEX = "sample_index"
#: float, Å. Lower / upper z of the soft walls that keep the electrolyte
#: between the electrodes (build writes, md and sampling read).
WALL_LOWER_A = "wall_lower_A"
WALL_UPPER_A = "wall_upper_A"
#: Build record keys of a built interface that md and analysis read (Å).
BUILD_INFO = (
    "sei_z_min_A",
    "sei_z_max_A",
    "electrolyte_z_min_A",
    "electrolyte_z_max_A",
    "counter_z_min_A",
)

# --- files one stage writes and another reads ------------------------------

#: MD run folder: trajectory (extxyz), thermo table, summary, checkpoint.
TRAJ_FILE = "traj.extxyz"
THERMO_FILE = "thermo.csv"
SUMMARY_FILE = "summary.json"
CHECKPOINT_FILE = "checkpoint.npz"
#: Run record of a stage folder (settings, versions).
RUN_FILE = "run.json"
#: Fitted QEq parameters (:class:`constpot.potential.QEqSettings` as JSON).
QEQ_FILE = "qeq.json"
#: Written by training when it ends (epochs, stop reason, metrics).
TRAINING_END_FILE = "training_end.json"

# --- formal charges ---------------------------------------------------------

#: e. Formal charges (oxidation states) of the SEI species: the initial
#: charges the builder writes on SEI atoms and the sampler on ionic reference
#: frames. Bookkeeping labels (their sum is a frame's total charge), not QEq
#: charges.
FORMAL_CHARGES = {"Li": 1, "F": -1, "O": -2}

#: float, eV/Å. The ensemble's model deviation: the largest over atoms of the
#: norm of the per-atom force standard deviation across the models. A column
#: of thermo.csv (NaN with one model) and the ``atoms.info`` key of a frame
#: that active learning selected.
FORCE_DEVIATION = "force_deviation_eV_A"
