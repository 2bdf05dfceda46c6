"""Loading trained short-range models as ASE calculators.

A constpot model folder holds the packaged NequIP model and the QEq settings
it was trained with::

    results/train/models/<seed>/model.nequip.zip   # nequip-package build
    results/train/models/<seed>/qeq.json           # QEqSettings

:func:`load_calculator` returns nequip's own ASE calculator
(:class:`nequip.integrations.ase.NequIPCalculator`) for the short-range part
only: its ``energy`` is E_short and its ``forces`` F_short (eV, eV/Å). The QEq
half is added by :class:`~constpot.potential.HybridCalculator`, which reads
:func:`model_qeq_settings` and refuses a mismatch.

Both model forms of nequip 0.19 load:

- ``*.nequip.zip`` (``nequip-package build``): portable, eager PyTorch.
- ``*.nequip.pt2`` (``nequip-compile --mode aotinductor --target ase``, as
  ``constpot compile-model`` / :func:`~.training.compile_model` runs it):
  ahead-of-time compiled for one device (and CPU instruction set), the fast
  path for MD: on one CPU thread 2.6× faster per evaluation than the
  packaged model (demo cell), the same energies and forces to float64
  round-off. Its ``qeq.json`` must sit in the same folder.

The model's own cutoff and type names set up the neighbour list and the
element → type map (identity: constpot models use element symbols as types).

Trusted models only
-------------------
Loading a model runs code: a ``.nequip.zip`` is a ``torch.package`` archive
whose pickled modules are imported and executed, and a ``.nequip.pt2`` holds
compiled native code. Load only model files you made or trust, as you would
run a script; ``constpot md`` logs each model file with its SHA-256 and
records the hashes in its checkpoints and summary.

Only public nequip 0.19 API is used: :meth:`NequIPCalculator.from_compiled_model
<nequip.integrations.ase.NequIPCalculator.from_compiled_model>` for compiled
models; for packaged ones (nequip has no public one-call ASE loader for them)
``nequip.model.saved_models.load_utils.load_saved_model``, the loader nequip
documents for inference, with the calculator's constructor and the
neighbour-list and type-mapping transforms of
``nequip.integrations.utils.basic_transforms`` that nequip's own loaders use.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..keys import QEQ_FILE
from .settings import QEqSettings

__all__ = ["QEQ_SETTINGS_NAME", "load_calculator", "model_qeq_settings"]

#: File name of the QEq settings beside every model (:data:`constpot.keys.QEQ_FILE`).
QEQ_SETTINGS_NAME = QEQ_FILE

_SUFFIXES = (".nequip.zip", ".nequip.pt2")


def load_calculator(model_path: str | os.PathLike, device: str = "cpu"):
    """The short-range NequIP model as an ASE calculator.

    Parameters
    ----------
    model_path : path
        A packaged (``.nequip.zip``) or AOT-compiled (``.nequip.pt2``) model.
    device : {"cpu", "cuda"} or torch.device
        Where the model runs. A compiled model only runs on the device it was
        compiled for.

    Notes
    -----
    Loading runs code from the file (see the module docstring): trusted
    models only.

    Returns
    -------
    nequip.integrations.ase.NequIPCalculator
        ``energy`` (eV), ``free_energy`` (= energy), ``energies`` (eV per
        atom), ``forces`` (eV/Å) and ``stress`` (eV/Å³) of the short-range
        model.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A file name with neither suffix.
    ImportError
        nequip is not installed.
    """
    path = Path(model_path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    if not path.name.endswith(_SUFFIXES):
        raise ValueError(
            f"model file must end in {' or '.join(_SUFFIXES)}, got {path.name}"
        )
    try:
        from nequip.integrations.ase import NequIPCalculator
        from nequip.integrations.utils import basic_transforms
        from nequip.model.saved_models.load_utils import load_saved_model
        from nequip.nn.graph_model import R_MAX_KEY, TYPE_NAMES_KEY
        from nequip.utils.global_state import set_global_state
    except ImportError as err:  # pragma: no cover - nequip is a dependency
        raise ImportError(
            "loading models needs nequip 0.19: `pip install nequip==0.19.1`"
        ) from err

    # nequip's process-wide state (default dtype, TF32 off, JIT fusion); it is
    # idempotent and what nequip-train used.
    set_global_state()
    if path.name.endswith(".nequip.pt2"):
        return NequIPCalculator.from_compiled_model(
            str(path), device=device, chemical_species_to_atom_type_map=True
        )
    # Packaged models run eagerly; the element -> type map is the identity.
    model = load_saved_model(str(path), compile_mode="eager")
    model.eval()
    type_names = model.metadata[TYPE_NAMES_KEY].split(" ")
    transforms = basic_transforms(
        model.metadata,
        float(model.metadata[R_MAX_KEY]),
        type_names,
        {name: name for name in type_names},
    )
    return NequIPCalculator(model=model, device=device, transforms=transforms)


def model_qeq_settings(model_path: str | os.PathLike) -> QEqSettings:
    """The QEq settings a model was trained with (``qeq.json`` beside it).

    Raises
    ------
    FileNotFoundError
        The model folder has no ``qeq.json``.
    """
    path = Path(model_path).parent / QEQ_SETTINGS_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"no {QEQ_SETTINGS_NAME} beside model {model_path}: the QEq settings "
            "of its training targets are needed to use it"
        )
    return QEqSettings.read(path)
