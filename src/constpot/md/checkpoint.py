"""Checkpoints: the complete state of a run at one step, written atomically.

A checkpoint holds everything the next step depends on, so that a run resumed
from it is bit-identical to one that never stopped (CPU, float64):

- positions (Å) and momenta (amu·Å/ASE-time) after the step;
- the forces (eV/Å, constraints applied) at those positions, which the next
  velocity half-kick uses, so resuming costs no extra force evaluation and does
  not depend on how a fresh charge solve would converge;
- the charges of the last solve (e), which the next evaluation reuses when the
  charges are solved only every n steps, and the charges of the solves before
  it from which the next solve's start is predicted (the calculator's
  :class:`~constpot.potential.predictor.ChargePredictor` history), and the
  geometry of the charge solver's reference preconditioner, which sets where
  within its tolerance the next solve stops;
- the electrode labels in use and those of step 0 (for the run summary);
- the state of the thermostat's random-number generator;
- the step, the elapsed wall time, and the settings;
- the run's identity (:class:`~constpot.md.identity.RunIdentity`: hashes of
  the model files, the starting structure and the physics), checked on resume;
- how much of ``traj.extxyz`` and ``thermo.csv`` belongs to the run up to the
  step (frames, rows and bytes), so that a resume can tell a complete record
  from a missing or truncated one and cut off what was written after the step;
- whether it can be resumed at all (a run stopped by a guard at step 0 leaves a
  checkpoint of its starting state for inspection, with no frame or row).

The file is a NumPy ``.npz`` archive, written to a temporary file beside the
target and renamed into place (:func:`constpot.io.atomic_path`): a run killed
while writing leaves the previous checkpoint intact.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io import atomic_path

__all__ = ["Checkpoint", "read_checkpoint", "write_checkpoint"]

#: Version of the file layout (2: identity, outputs and resumable added).
_FORMAT = 2


@dataclass
class Checkpoint:
    """State of a run after ``step`` steps.

    Attributes
    ----------
    step : int
    positions, momenta, forces : (n_atoms, 3) ndarray
        Å, amu·Å/(ASE time), eV/Å.
    guess : (n_atoms,) ndarray or None, e
        Charges of the last solve.
    electrode, initial_electrode : (n_atoms,) int ndarray
        Current electrode labels and those at step 0.
    rng_state : dict
        ``numpy.random.Generator.bit_generator.state``.
    results : dict
        Scalar results of the last force evaluation (energies in eV, charges
        on the electrodes in e, CG iterations), so the step's thermo row can be
        rebuilt.
    wall_time_s : float
        Wall time spent on the run so far, s.
    settings : dict
        :meth:`MDSettings.todict` of the run that wrote it.
    numbers : (n_atoms,) int ndarray
        Atomic numbers (checked against the structure on resume).
    identity : dict
        :meth:`RunIdentity.todict <constpot.md.identity.RunIdentity.todict>`
        of the run.
    outputs : dict
        ``frames`` and ``traj_bytes`` of the trajectory, ``rows`` and
        ``thermo_bytes`` of the thermo table up to ``step``, and the step of
        the last frame, ``last_frame_step`` (ints).
    resumable : bool
        False for the starting state of a run a guard stopped at step 0.
    predictor : dict or None
        :meth:`ChargePredictor.state
        <constpot.potential.predictor.ChargePredictor.state>`: ``charges``
        ((m, n_atoms) ndarray, e, oldest first) and ``key`` (str). None in
        checkpoints written before it was stored (a resume then predicts from
        ``guess`` alone).
    qeq_reference : (n_atoms, 3) ndarray or None, Å
        :attr:`ReferenceKeeper.positions
        <constpot.qeq.precondition.ReferenceKeeper.positions>`; None when the
        solver keeps none (another preconditioner) or in older checkpoints.
    """

    step: int
    positions: np.ndarray
    momenta: np.ndarray
    forces: np.ndarray | None
    guess: np.ndarray | None
    electrode: np.ndarray
    initial_electrode: np.ndarray
    rng_state: dict
    numbers: np.ndarray
    results: dict = field(default_factory=dict)
    wall_time_s: float = 0.0
    settings: dict = field(default_factory=dict)
    identity: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    resumable: bool = True
    predictor: dict | None = None
    qeq_reference: np.ndarray | None = None


def write_checkpoint(path: str | os.PathLike, ckpt: Checkpoint) -> Path:
    """Write ``ckpt`` to ``path`` atomically; returns the path."""
    n = len(ckpt.positions)
    empty = np.zeros(0)
    arrays = {
        "format": np.array(_FORMAT),
        "step": np.array(int(ckpt.step)),
        "positions": np.asarray(ckpt.positions, dtype=float),
        "momenta": np.asarray(ckpt.momenta, dtype=float),
        "forces": empty if ckpt.forces is None else np.asarray(ckpt.forces, float),
        "guess": empty if ckpt.guess is None else np.asarray(ckpt.guess, float),
        "electrode": np.asarray(ckpt.electrode, dtype=np.int64),
        "initial_electrode": np.asarray(ckpt.initial_electrode, dtype=np.int64),
        "numbers": np.asarray(ckpt.numbers, dtype=np.int64),
        "wall_time_s": np.array(float(ckpt.wall_time_s)),
        "rng_state": np.array(json.dumps(ckpt.rng_state)),
        "results": np.array(json.dumps(ckpt.results)),
        "settings": np.array(json.dumps(ckpt.settings)),
        "identity": np.array(json.dumps(ckpt.identity)),
        "outputs": np.array(json.dumps(ckpt.outputs)),
        "resumable": np.array(bool(ckpt.resumable)),
    }
    if ckpt.predictor is not None:
        arrays["predictor_charges"] = np.asarray(
            ckpt.predictor["charges"], dtype=float
        ).reshape(-1, n)
        arrays["predictor_key"] = np.array(str(ckpt.predictor["key"]))
    if ckpt.qeq_reference is not None:
        arrays["qeq_reference"] = np.asarray(ckpt.qeq_reference, float)
    if arrays["momenta"].shape != (n, 3):
        raise ValueError(f"checkpoint momenta must have shape ({n}, 3)")
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
    return path


#: Held while a checkpoint is parsed (see :func:`_parsing_alone`).
_PARSE_LOCK = threading.Lock()


@contextlib.contextmanager
def _parsing_alone():
    """Garbage collection held off, one reader at a time.

    ``np.load`` parses each member's header with ``ast.literal_eval``.
    CPython before 3.11.8 keeps the AST constructor's recursion depth in
    state the whole interpreter shares (CPython gh-106905): a collection
    that starts inside the constructor runs finalizers and gc callbacks,
    Python code in which this or another thread may parse too, and the
    parse in progress then fails with ``SystemError: AST constructor
    recursion depth mismatch`` on a valid file. The runs of a batch
    (:mod:`constpot.md.batch`) read their checkpoints in threads at the same
    moment: without this, a resume found a good checkpoint "not readable"
    about once in 200 batches (and ``resume="auto"`` started that run
    afresh). With collection off no Python code runs inside the
    constructor; the lock keeps one thread from switching it back on while
    another parses.
    """
    with _PARSE_LOCK:
        enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if enabled:
                gc.enable()


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint written by :func:`write_checkpoint`.

    Raises
    ------
    FileNotFoundError
        No checkpoint at ``path``.
    ValueError
        The file is not a constpot checkpoint (or of another format version).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint to resume from: {path}")
    try:
        with _parsing_alone(), np.load(path, allow_pickle=False) as data:
            d = {k: data[k] for k in data.files}
    except Exception as err:  # truncated zip, bad member: all mean unreadable
        raise ValueError(f"{path}: not a readable checkpoint ({err})") from None
    found = int(d["format"]) if "format" in d else None
    if found != _FORMAT:
        raise ValueError(
            f"{path}: not a constpot checkpoint of format {_FORMAT} (found "
            f"{'none' if found is None else found}; written by another version)"
        )
    forces = d["forces"] if d["forces"].size else None
    guess = d["guess"] if d["guess"].size else None
    predictor = None
    if "predictor_charges" in d:
        predictor = {
            "charges": d["predictor_charges"],
            "key": str(d["predictor_key"]),
        }
    return Checkpoint(
        step=int(d["step"]),
        positions=d["positions"],
        momenta=d["momenta"],
        forces=forces,
        guess=guess,
        electrode=d["electrode"],
        initial_electrode=d["initial_electrode"],
        rng_state=json.loads(str(d["rng_state"])),
        numbers=d["numbers"],
        results=json.loads(str(d["results"])),
        wall_time_s=float(d["wall_time_s"]),
        settings=json.loads(str(d["settings"])),
        identity=json.loads(str(d["identity"])),
        outputs=json.loads(str(d["outputs"])),
        resumable=bool(d["resumable"]),
        predictor=predictor,
        qeq_reference=d.get("qeq_reference"),
    )
