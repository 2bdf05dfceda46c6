"""NequIP training inputs: split, settings, config; a short end-to-end run."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from constpot.potential import (
    QEqSettings,
    cover_elements,
    read_split,
    stratified_split,
    write_split,
)
from constpot.potential.nequip_config import (
    PRESETS,
    composition_energy_shifts,
    nequip_config,
    resolve_train_settings,
    write_run_inputs,
)
from constpot.potential.targets import qeq_targets, write_targets

from .synthetic import labelled_frames

CATS = ["a"] * 12 + ["b"] * 10 + ["c"] * 3 + ["d"] * 1 + ["e"] * 20


def test_split_is_stratified_disjoint_and_complete():
    split = stratified_split(CATS, {"train": 0.7, "val": 0.1, "test": 0.2}, seed=3)
    every = split["train"] + split["val"] + split["test"]
    assert sorted(every) == list(range(len(CATS)))
    for name in ("val", "test"):
        got = Counter(CATS[i] for i in split[name])
        # Every category with >= 3 frames is in every split.
        assert {"a", "b", "c", "e"} <= set(got)
    # The single-frame category goes to train.
    assert CATS.index("d") in split["train"]
    # Per-category fractions: a = 12 frames -> 2 test (0.2 * 12 = 2.4), 1 val.
    test_a = sum(CATS[i] == "a" for i in split["test"])
    val_a = sum(CATS[i] == "a" for i in split["val"])
    assert (test_a, val_a) == (2, 1)


def test_split_is_deterministic_by_seed():
    a = stratified_split(CATS, seed=0)
    assert a == stratified_split(CATS, seed=0)
    assert a != stratified_split(CATS, seed=1)


def test_split_round_trip_and_errors(tmp_path):
    split = stratified_split(CATS, seed=0)
    write_split(tmp_path / "s.json", split, CATS, seed=0)
    assert read_split(tmp_path / "s.json") == split
    counts = json.loads((tmp_path / "s.json").read_text())["counts"]
    assert counts["a"] == {"train": 9, "val": 1, "test": 2}
    with pytest.raises(ValueError, match="sum to 1"):
        stratified_split(CATS, {"train": 0.5, "val": 0.1, "test": 0.1})
    with pytest.raises(ValueError, match="unknown split"):
        stratified_split(CATS, {"train": 0.9, "holdout": 0.1})
    with pytest.raises(FileNotFoundError, match="split file not found"):
        read_split(tmp_path / "nope.json")


def test_settings_presets_and_overrides():
    tiny = resolve_train_settings(None)
    assert tiny["preset"] == "tiny" and tiny["model_dtype"] == "float64"
    assert tiny["zbl"] is True
    paper = resolve_train_settings({"preset": "paper", "max_epochs": 7, "seeds": [0]})
    assert paper["max_epochs"] == 7 and paper["num_layers"] == 4
    with pytest.raises(ValueError, match=r"train\.preset must be one of"):
        resolve_train_settings({"preset": "huge"})
    with pytest.raises(ValueError, match=r"train\.nonsense: unknown setting"):
        resolve_train_settings({"nonsense": 1})
    with pytest.raises(ValueError, match=r"train\.lr must be > 0"):
        resolve_train_settings({"lr": 0})
    assert set(PRESETS["tiny"]) == set(PRESETS["paper"])
    # Reproducible presets: stop on epochs, no wall-time limit.
    assert PRESETS["tiny"]["max_minutes"] is None
    assert PRESETS["paper"]["max_minutes"] is None
    with pytest.raises(ValueError, match=r"train\.max_minutes must be > 0"):
        resolve_train_settings({"max_minutes": 0})


def test_composition_shifts_recover_per_element_energies(rng):
    from ase import Atoms
    from ase.calculators.singlepoint import SinglePointCalculator

    mu = {"H": -1.0, "Li": -2.0, "O": -3.0, "F": -4.0}
    frames = []
    for _ in range(8):
        symbols = rng.choice(list(mu), size=rng.integers(3, 9))
        atoms = Atoms(symbols=list(symbols))
        e = sum(mu[s] for s in symbols)
        atoms.calc = SinglePointCalculator(atoms, energy=e)
        frames.append(atoms)
    got = composition_energy_shifts(frames, list(mu))
    for el, value in mu.items():
        assert got[el] == pytest.approx(value, abs=1e-6)


def test_nequip_config_has_the_physics_we_ask_for():
    s = resolve_train_settings({"r_max": 4.0})
    cfg = nequip_config(
        s,
        type_names=["H", "Li"],
        energy_shifts={"H": -1.0, "Li": -2.0},
        seed=5,
        train_file="train.extxyz",
        val_file="val.extxyz",
    )
    model = cfg["training_module"]["model"]
    assert model["pair_potential"]["_target_"] == "nequip.nn.pair_potential.ZBL"
    assert model["pair_potential"]["chemical_species"] == ["H", "Li"]
    assert model["r_max"] == 4.0 and model["model_dtype"] == "float64"
    assert model["per_type_energy_shifts"] == {"H": -1.0, "Li": -2.0}
    assert model["seed"] == 5 and cfg["data"]["seed"] == 5
    nl = cfg["data"]["transforms"][1]
    assert nl["_target_"].endswith("NeighborListTransform") and nl["r_max"] == 4.0
    # Epochs end a run; Lightning's own (mid-epoch) time limit is off, the
    # opt-in limit is the progress callback's, off by default.
    assert cfg["trainer"]["max_time"] is None
    assert cfg["trainer"]["deterministic"] is True
    assert cfg["data"]["train_dataloader"]["num_workers"] == 0
    (progress,) = [
        c for c in cfg["trainer"]["callbacks"] if c["_target_"].endswith("Progress")
    ]
    assert progress["max_minutes"] is None
    assert progress["record"] == "training_end.json"
    limited = nequip_config(
        resolve_train_settings({"max_minutes": 2}),
        type_names=["H"],
        energy_shifts={"H": 0.0},
        seed=0,
        train_file="a",
        val_file="b",
    )
    assert limited["trainer"]["callbacks"][-1]["max_minutes"] == 2.0
    with pytest.raises(ValueError, match="energy_shifts: no value for Li"):
        nequip_config(
            s,
            type_names=["H", "Li"],
            energy_shifts={"H": 0.0},
            seed=0,
            train_file="a",
            val_file="b",
        )


def test_run_inputs_are_written(tmp_path):
    frames = labelled_frames(n_per_category=3)
    targets = qeq_targets(frames, QEqSettings())
    split = stratified_split([f.info["category"] for f in targets], seed=0)
    path = write_run_inputs(targets, split, resolve_train_settings({}), 0, tmp_path)
    cfg = yaml.safe_load(path.read_text())
    assert cfg["training_module"]["model"]["type_names"] == ["H", "Li", "O", "F"]
    assert "&id" not in path.read_text()  # no YAML anchors
    for name in ("train", "val", "test"):
        assert (tmp_path / f"{name}.extxyz").is_file()
    with pytest.raises(ValueError, match="frame index 99 out of range"):
        write_run_inputs(targets, {**split, "test": [99]}, {}, 0, tmp_path)


@pytest.mark.slow
def test_train_package_load_evaluate(tmp_path):
    """nequip accepts the generated config: 2 epochs on 9 synthetic frames,
    package, load as an ASE calculator, evaluate (< 90 s on one core)."""
    from constpot.potential import package_model, train_model
    from constpot.potential.evaluate import evaluate_models
    from constpot.potential.nequip_io import load_calculator, model_qeq_settings

    frames = labelled_frames(n_per_category=3)
    targets = qeq_targets(frames, QEqSettings())
    tpath, qpath = write_targets(targets, tmp_path / "targets.extxyz", QEqSettings())
    cats = [f.info["category"] for f in targets]
    split = stratified_split(cats, {"train": 0.34, "val": 0.33, "test": 0.33}, 0)
    write_split(tmp_path / "split.json", split, cats, seed=0)
    train = {"max_epochs": 2, "num_features": 4, "radial_mlp_width": 8}
    lines = []
    result = train_model(
        tpath, tmp_path / "split.json", train, 0, tmp_path / "run", lines.append
    )
    assert (tmp_path / "run" / "logs" / "metrics.csv").is_file()
    model = package_model(
        result["checkpoint"], tmp_path / "run" / "model.nequip.zip", qpath
    )
    model_qeq_settings(model).check_compatible(QEqSettings())
    calc = load_calculator(model)
    atoms = targets[0].copy()
    atoms.calc = calc
    forces = atoms.get_forces()
    assert forces.shape == (len(atoms), 3) and np.all(np.isfinite(forces))
    metrics = evaluate_models(
        {"seed0": model},
        tpath,
        tmp_path / "split.json",
        qpath,
        tmp_path / "metrics.csv",
        tmp_path / "predictions.csv",
        tmp_path / "summary.json",
        log=lines.append,
    )
    assert set(metrics["split"]) == {"train", "val", "test"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["training"]["seed0"] == {
        "epochs": 2,
        "max_epochs": 2,
        "stopped_by": "max_epochs",
    }
    assert summary["warnings"] == []
    # A model that the opt-in time limit stopped is flagged in the summary
    # (the metrics table keeps its columns).
    record = tmp_path / "run" / "training_end.json"
    end = json.loads(record.read_text())
    record.write_text(json.dumps({**end, "epochs": 1, "stopped_by": "max_minutes"}))
    evaluate_models(
        {"seed0": model},
        tpath,
        tmp_path / "split.json",
        qpath,
        tmp_path / "metrics2.csv",
        tmp_path / "predictions2.csv",
        tmp_path / "summary.json",
        log=lines.append,
    )
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["training"]["seed0"]["stopped_by"] == "max_minutes"
    assert "stopped by max_minutes after 1 of 2" in summary["warnings"][0]
    assert any(ln.startswith("WARNING: model seed0") for ln in lines)
    assert (tmp_path / "metrics2.csv").read_bytes() == (
        tmp_path / "metrics.csv"
    ).read_bytes()


def test_public_names_import():
    import constpot.potential as potential

    for name in potential.__all__:
        assert getattr(potential, name) is not None


def test_cover_elements_moves_frames_until_train_has_every_element():
    """P only in a test frame: that frame moves to train; nothing else moves."""
    symbols = [{"Li", "F"}, {"Li"}, {"Li", "O"}, {"P", "F"}, {"Li", "O"}]
    split = {"train": [0, 1], "val": [2], "test": [3, 4]}
    out = cover_elements(split, symbols)
    assert out == {"train": [0, 1, 2, 3], "val": [], "test": [4]}
    assert split["test"] == [3, 4]  # input unchanged
    covered = set().union(*(symbols[i] for i in out["train"]))
    assert covered == {"Li", "F", "O", "P"}


# ------------------------------------------------ reproducible training runs
def _state(ckpt):
    """Every tensor of a checkpoint's state dict (weights, EMA, buffers)."""
    import torch

    out = {}

    def walk(d, prefix=""):
        for k, v in d.items():
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}.")
            else:
                out[prefix + k] = v

    walk(torch.load(ckpt, map_location="cpu", weights_only=False)["state_dict"])
    return out


@pytest.fixture(scope="module")
def toy_inputs(tmp_path_factory):
    """Targets and split of 9 synthetic frames (3 train, 3 val, 3 test)."""
    root = tmp_path_factory.mktemp("toy")
    targets = qeq_targets(labelled_frames(n_per_category=3), QEqSettings())
    tpath, _ = write_targets(targets, root / "targets.extxyz", QEqSettings())
    cats = [f.info["category"] for f in targets]
    split = stratified_split(cats, {"train": 0.34, "val": 0.33, "test": 0.33}, 0)
    write_split(root / "split.json", split, cats, seed=0)
    return tpath, root / "split.json"


_TOY = {"num_features": 4, "radial_mlp_width": 8}


@pytest.fixture(scope="module")
def toy_model(toy_inputs, tmp_path_factory):
    """One toy training (seed 3, 2 epochs) and its log lines, shared by the
    reproducibility and fine-tuning tests (about 7 s on one core)."""
    from constpot.potential.training import train_model

    tpath, spath = toy_inputs
    lines = []
    run_dir = tmp_path_factory.mktemp("toy_model") / "a"
    result = train_model(
        tpath, spath, {**_TOY, "max_epochs": 2}, 3, run_dir, lines.append
    )
    return result, lines


@pytest.mark.slow
def test_two_trainings_of_one_seed_are_bit_identical(toy_inputs, toy_model, tmp_path):
    """Same config and seed -> the same weights, bit for bit, and the same
    learning curve; each run prints progress lines and records that it
    stopped on max_epochs (2 x ~7 s on one core)."""
    from constpot.potential.training import train_model

    tpath, spath = toy_inputs
    first, first_lines = toy_model
    lines = []
    second = train_model(
        tpath, spath, {**_TOY, "max_epochs": 2}, 3, tmp_path / "b", lines.append
    )
    runs, logs = [first, second], [first_lines, lines]
    a, b = (_state(r["checkpoint"]) for r in runs)
    assert a.keys() == b.keys() and len(a) > 50
    differ = [k for k in a if not torch_equal(a[k], b[k])]
    assert differ == []  # exact: no tolerance, the point of the test
    curve_a, curve_b = (
        Path(r["checkpoint"]).parent / "logs" / "metrics.csv" for r in runs
    )
    assert curve_a.read_bytes() == curve_b.read_bytes()
    for result, lines in zip(runs, logs, strict=True):
        assert (result["epochs"], result["stopped_by"]) == (2, "max_epochs")
        progress = [ln for ln in lines if ln.startswith("epoch ")]
        assert [ln.split(":")[0] for ln in progress] == ["epoch 1/2", "epoch 2/2"]
        assert all("train loss" in ln and "ETA" in ln for ln in progress)
        assert "n/a" not in progress[-1]  # every number was logged
        assert not any("WARNING" in ln for ln in lines)
    # Another seed is another model (the test above is not vacuous).
    other = train_model(
        tpath, spath, {**_TOY, "max_epochs": 1}, 4, tmp_path / "c", lambda s: None
    )
    c = _state(other["checkpoint"])
    assert any(not torch_equal(a[k], c[k]) for k in a if k in c)


@pytest.mark.slow
def test_fine_tuning_starts_from_the_checkpoints_model(toy_inputs, toy_model, tmp_path):
    """Active learning's retraining: with a vanishing learning rate, one epoch
    fine-tuned from a checkpoint keeps the checkpoint's (EMA) weights, the
    ones a packaged model uses (1 epoch after the shared 2, ~5 s on one core)."""
    from constpot.potential.training import train_model

    tpath, spath = toy_inputs
    first, _ = toy_model
    tuned = train_model(
        tpath,
        spath,
        {**_TOY, "max_epochs": 1, "lr": 1e-30},
        3,
        tmp_path / "b",
        lambda s: None,
        init_checkpoint=first["checkpoint"],
    )
    assert tuned["init_checkpoint"] == first["checkpoint"]
    import torch

    a, b = _state(first["checkpoint"]), _state(tuned["checkpoint"])
    ema = [k for k in a if k.startswith("ema.ema_weight")]
    assert len(ema) > 5
    for k in ema:
        assert torch.allclose(a[k], b[k], rtol=0, atol=1e-12), k
    # (not vacuous: models of other seeds or trainings differ, as the test
    # above shows, so only a start from the checkpoint gives these weights)


@pytest.mark.slow
def test_time_limit_is_opt_in_and_recorded(toy_inputs, tmp_path):
    """max_minutes set so small that it fires after the first epoch: training
    stops there with a checkpoint, warns, and records stopped_by max_minutes."""
    from constpot.potential.progress import read_training_end
    from constpot.potential.training import train_model

    tpath, spath = toy_inputs
    lines = []
    result = train_model(
        tpath,
        spath,
        {**_TOY, "max_epochs": 5, "max_minutes": 1e-6},
        0,
        tmp_path,
        lines.append,
    )
    assert (result["epochs"], result["stopped_by"]) == (1, "max_minutes")
    assert (tmp_path / "best.ckpt").is_file()
    end = read_training_end(tmp_path / "training_end.json")
    assert end["max_epochs"] == 5 and end["max_minutes"] == 1e-6
    assert any("WARNING" in ln and "max_minutes" in ln for ln in lines)


def test_progress_callback_validates_its_arguments(tmp_path):
    from constpot.potential.progress import TrainingProgress, read_training_end

    with pytest.raises(ValueError, match="every must be >= 1"):
        TrainingProgress(every=0)
    with pytest.raises(ValueError, match="max_minutes must be > 0"):
        TrainingProgress(max_minutes=-1)
    with pytest.raises(FileNotFoundError, match="stop record not found"):
        read_training_end(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text(json.dumps({"stopped_by": "clock"}))
    with pytest.raises(ValueError, match="stopped_by must be one of"):
        read_training_end(tmp_path / "bad.json")


def torch_equal(x, y) -> bool:
    import torch

    if torch.is_tensor(x):
        return torch.is_tensor(y) and x.dtype == y.dtype and torch.equal(x, y)
    return x == y


def test_split_of_a_category_ignores_the_others():
    """Frames of a new category, appended, move no other frame between splits."""
    before = stratified_split(CATS, seed=0)
    after = stratified_split([*CATS, *["active"] * 7], seed=0)
    for name in ("train", "val", "test"):
        assert [i for i in after[name] if i < len(CATS)] == before[name]
    assert all(i >= len(CATS) for i in after["test"] if i not in before["test"])
