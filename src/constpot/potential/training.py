"""Train one NequIP short-range model and package it for the hybrid calculator.

The inputs come from :mod:`.split` (which frames train) and
:mod:`.nequip_config` (the settings and the ``nequip-train`` config); this
module runs the two nequip command-line tools and reports how training
ended:

1. :func:`run_nequip_train` — ``nequip-train -cn config.yaml`` in the run
   folder, streaming its output to the log: a progress line every few epochs
   (:class:`~.progress.TrainingProgress`) and how training ended
   (:data:`~.nequip_config.TRAINING_END`);
2. :func:`package_model` — ``nequip-package build best.ckpt model.nequip.zip``
   and a copy of the QEq settings (``qeq.json``) beside the model, which
   :class:`~constpot.potential.HybridCalculator` checks;
3. :func:`train_model` — the one-shot wrapper: write the run inputs, train,
   and return the checkpoint, the resolved settings, the epochs run and what
   stopped training (the CLI writes it to ``train_summary.json``);
4. :func:`compile_model` — ``nequip-compile --mode aotinductor --target ase``
   of a packaged model into ``model.nequip.pt2`` (with ``qeq.json`` beside
   it): the same energies and forces (float64: to ~1e-14 eV/Å on the demo
   cell), ~2.6× faster per evaluation on one CPU thread, ~1–1.5 min to
   compile; it needs a C++ compiler and runs only on the device it was
   compiled for.

The errors of a trained model are :mod:`.evaluate`'s.

Reproducibility: training stops on ``max_epochs``; nothing in a run depends
on the wall clock. Two trainings of one config with the same ``threads`` on
the same software and CPU type give bit-identical weights (see
:mod:`.nequip_config` for the seeds and determinism settings).
``max_minutes`` is an opt-in safety: when it stops a run, ``train_model``
returns ``"stopped_by": "max_minutes"`` and the log warns.

Example
-------
>>> from constpot.potential import package_model, train_model  # doctest: +SKIP
>>> result = train_model("targets.extxyz", "split.json", {"preset": "tiny"},
...                      seed=0, run_dir="results/train/models/0")  # doctest: +SKIP
>>> package_model(result["checkpoint"], "results/train/models/0/model.nequip.zip",
...               "qeq_settings.json")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ..keys import QEQ_FILE
from .nequip_config import TRAINING_END, resolve_train_settings, write_run_inputs
from .settings import QEqSettings
from .split import read_split
from .targets import read_targets

__all__ = [
    "compile_model",
    "package_model",
    "run_nequip_train",
    "train_model",
]


# -------------------------------------------------------------- subprocess
def _executable(name: str) -> str:
    """A console script of this interpreter's environment, else from PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"{name} not found; install nequip 0.19 (`pip install nequip==0.19.1`)"
        )
    return found


def _stream(cmd: list[str], cwd: Path, log: Callable[[str], None], what: str):
    env = dict(os.environ)
    env.setdefault("HYDRA_FULL_ERROR", "1")
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        log(line)
        tail = [*tail[-19:], line]
    rc = proc.wait()
    if rc != 0:
        raise RuntimeError(
            f"{what} failed with exit status {rc} in {cwd}; last output: "
            + " | ".join(t for t in tail[-5:] if t.strip())
        )


def run_nequip_train(
    config_path: str | os.PathLike,
    log: Callable[[str], None] = print,
) -> Path:
    """Run ``nequip-train -cn CONFIG`` in the config's folder.

    Returns
    -------
    Path
        ``best.ckpt`` in that folder (its ``training_end.json`` says how
        training ended).

    Raises
    ------
    FileNotFoundError
        No config, or no checkpoint after training.
    RuntimeError
        ``nequip-train`` failed (the message quotes its last lines).
    """
    config_path = Path(config_path).resolve()
    if not config_path.is_file():
        raise FileNotFoundError(f"nequip config not found: {config_path}")
    run_dir = config_path.parent
    ckpt = run_dir / "best.ckpt"
    for stale in (ckpt, run_dir / TRAINING_END):
        if stale.exists():
            stale.unlink()  # never package or report an earlier run
    cmd = [_executable("nequip-train"), "-cn", config_path.name]
    log("$ " + " ".join(cmd))
    _stream(cmd, run_dir, log, "nequip-train")
    if not ckpt.is_file():
        raise FileNotFoundError(f"nequip-train wrote no {ckpt}")
    return ckpt


def _tool_to_file(out: Path, suffix: str, command, log) -> None:
    """Run a nequip tool that writes one file, to a temporary name beside
    ``out``, then move it into place: ``out`` appears whole or not at all.

    ``command`` gets the temporary path and returns the argument list; the
    tool runs in ``out``'s folder, its output streamed to ``log``.
    """
    tmp = out.with_name(f".{out.name[: -len(suffix)]}.tmp{suffix}")
    cmd = command(tmp)
    log("$ " + " ".join(cmd))
    try:
        _stream(cmd, out.parent, log, Path(cmd[0]).name)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()


def package_model(
    ckpt: str | os.PathLike,
    out: str | os.PathLike,
    qeq_settings: str | os.PathLike,
    log: Callable[[str], None] = print,
) -> Path:
    """``nequip-package build CKPT OUT`` and ``qeq.json`` beside ``OUT``.

    Parameters
    ----------
    ckpt : path
        A ``nequip-train`` checkpoint.
    out : path
        Packaged model; must end in ``.nequip.zip``.
    qeq_settings : path
        QEq settings JSON the targets were made with; copied to ``qeq.json``
        in the folder of ``out``.

    Returns
    -------
    Path
        The packaged model.
    """
    ckpt, out = Path(ckpt).resolve(), Path(out).resolve()
    if not ckpt.is_file():
        raise FileNotFoundError(f"checkpoint not found: {ckpt}")
    if not out.name.endswith(".nequip.zip"):
        raise ValueError(f"packaged model name must end in .nequip.zip, got {out}")
    settings = QEqSettings.read(qeq_settings)  # validates before packaging
    out.parent.mkdir(parents=True, exist_ok=True)
    _tool_to_file(
        out,
        ".nequip.zip",
        lambda tmp: [_executable("nequip-package"), "build", str(ckpt), str(tmp)],
        log,
    )
    settings.write(out.parent / QEQ_FILE)
    return out


def train_model(
    targets_path: str | os.PathLike,
    split_path: str | os.PathLike,
    train: Mapping | None,
    seed: int,
    run_dir: str | os.PathLike,
    log: Callable[[str], None] = print,
    init_checkpoint: str | os.PathLike | None = None,
) -> dict:
    """Write the inputs of one model and train it; one-shot wrapper.

    Parameters
    ----------
    targets_path : path
        Short-range targets (:func:`~.targets.write_targets`).
    split_path : path
        The study's split (:func:`~.split.write_split`).
    train : mapping or None
        The ``train:`` config section
        (:func:`~.nequip_config.resolve_train_settings`).
    seed : int
        Model initialisation and batch-order seed.
    run_dir : path
        Folder of the run: inputs, ``config.yaml``, ``best.ckpt``, logs.
    log : callable
        Receives every line of progress and of ``nequip-train``'s output.
    init_checkpoint : path or None
        Fine-tune from this checkpoint's model (active learning's
        retraining) instead of a newly initialised one.

    Returns
    -------
    dict
        ``{"checkpoint", "config", "seconds", "settings", "epochs",
        "max_epochs", "stopped_by"}``; ``stopped_by`` is ``"max_epochs"``
        for a reproducible run, ``"max_minutes"`` when the opt-in time limit
        ended it (a warning is logged).
    """
    # progress imports lightning (heavy, needed only once training has run)
    from .progress import read_training_end

    settings = resolve_train_settings(train)
    targets = read_targets(targets_path)
    split = read_split(split_path)
    config = write_run_inputs(
        targets, split, settings, seed, run_dir, init_checkpoint=init_checkpoint
    )
    start_from = "" if init_checkpoint is None else f", from {init_checkpoint}"
    log(
        f"model seed {seed}{start_from}: preset {settings['preset']}, "
        f"{len(split['train'])} train / {len(split['val'])} val / "
        f"{len(split['test'])} test frames -> {config}"
    )
    start = time.perf_counter()
    ckpt = run_nequip_train(config, log)
    seconds = time.perf_counter() - start
    end = read_training_end(Path(run_dir) / TRAINING_END)
    log(
        f"trained {end['epochs']}/{end['max_epochs']} epochs in {seconds:.1f} s "
        f"(stopped by {end['stopped_by']}) -> {ckpt}"
    )
    if end["stopped_by"] != "max_epochs":
        log(
            f"WARNING: model seed {seed} stopped by {end['stopped_by']} after "
            f"{end['epochs']} of {end['max_epochs']} epochs; another machine "
            "would train another model"
        )
    return {
        "checkpoint": str(ckpt),
        "config": str(config),
        "seconds": seconds,
        "settings": settings,
        "epochs": int(end["epochs"]),
        "max_epochs": int(end["max_epochs"]),
        "stopped_by": end["stopped_by"],
        "init_checkpoint": None if init_checkpoint is None else str(init_checkpoint),
    }


# --------------------------------------------------------------- compiling
_DEVICES = ("cpu", "cuda")


def _cxx_compiler() -> str:
    """The C++ compiler AOTInductor will call (``$CXX``, else ``g++``)."""
    name = os.environ.get("CXX", "g++")
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"nequip-compile needs a C++ compiler; {name} not found "
            "(install g++ or set CXX)"
        )
    return found


def compile_model(
    model: str | os.PathLike,
    out: str | os.PathLike,
    device: str = "cpu",
    log: Callable[[str], None] = print,
) -> Path:
    """AOT-compile a packaged model for one device; ``qeq.json`` beside ``OUT``.

    Runs ``nequip-compile MODEL OUT --mode aotinductor --device DEVICE
    --target ase``: the ahead-of-time compiled form that
    :func:`~.nequip_io.load_calculator` loads from a ``.nequip.pt2`` file.
    nequip checks the compiled model against the eager one on the package's
    example frame before it writes the file. Compiled with torch's inductor
    cache cold, the demo's tiny model takes ~1–1.5 min on one CPU core.

    Parameters
    ----------
    model : path
        A packaged model (``*.nequip.zip``, :func:`package_model`) with its
        ``qeq.json`` beside it.
    out : path
        The compiled model; must end in ``.nequip.pt2``. The QEq settings are
        copied to ``qeq.json`` in its folder (where
        :func:`~.nequip_io.model_qeq_settings` looks for them), unless that
        is the folder of ``model``.
    device : {"cpu", "cuda"}
        The only device the compiled model will run on.
    log : callable
        Receives the command line and every line of ``nequip-compile``'s
        output.

    Returns
    -------
    Path
        The compiled model.

    Raises
    ------
    FileNotFoundError
        No model, no ``qeq.json`` beside it, or no C++ compiler.
    ValueError
        A model or output name with the wrong suffix, or an unknown device.
    RuntimeError
        ``nequip-compile`` failed (the message quotes its last lines).
    """
    model, out = Path(model).resolve(), Path(out).resolve()
    if not model.is_file():
        raise FileNotFoundError(f"model file not found: {model}")
    if not model.name.endswith(".nequip.zip"):
        raise ValueError(f"model must be a packaged .nequip.zip, got {model.name}")
    if not out.name.endswith(".nequip.pt2"):
        raise ValueError(f"out must end in .nequip.pt2, got {out.name}")
    if device not in _DEVICES:
        raise ValueError(f"device must be one of {_DEVICES}, got {device!r}")
    settings_path = model.parent / QEQ_FILE
    if not settings_path.is_file():
        raise FileNotFoundError(
            f"no {QEQ_FILE} beside model {model}: the compiled model needs the "
            "QEq settings of its training targets"
        )
    settings = QEqSettings.read(settings_path)
    _cxx_compiler()
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    _tool_to_file(
        out,
        ".nequip.pt2",
        lambda tmp: [
            _executable("nequip-compile"),
            str(model),
            str(tmp),
            *("--mode", "aotinductor", "--device", device, "--target", "ase"),
        ],
        log,
    )
    if out.parent != model.parent:
        settings.write(out.parent / QEQ_FILE)
    log(f"compiled {model.name} for {device} in {time.perf_counter() - start:.1f} s")
    return out
