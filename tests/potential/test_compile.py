"""AOT-compiled models (nequip-compile): the same energies and forces as the
packaged model they came from, with the QEq settings beside them."""

import os
import shutil

import numpy as np
import pytest

from constpot.keys import QEQ_FILE
from constpot.potential import QEqSettings, stratified_split, write_split
from constpot.potential.targets import qeq_targets, write_targets
from constpot.potential.training import compile_model

from .synthetic import labelled_frames

_NO_CXX = shutil.which(os.environ.get("CXX", "g++")) is None


def test_compile_model_validates_before_running(tmp_path):
    """Bad names, a missing model or a missing qeq.json fail before
    nequip-compile starts, naming what is wrong."""
    model = tmp_path / "m.nequip.zip"
    with pytest.raises(FileNotFoundError, match="model file not found"):
        compile_model(model, tmp_path / "m.nequip.pt2")
    model.write_bytes(b"not a model")
    with pytest.raises(ValueError, match=r"out must end in \.nequip\.pt2"):
        compile_model(model, tmp_path / "m.pt2")
    with pytest.raises(ValueError, match="device must be one of"):
        compile_model(model, tmp_path / "m.nequip.pt2", device="tpu")
    with pytest.raises(FileNotFoundError, match=f"no {QEQ_FILE} beside model"):
        compile_model(model, tmp_path / "m.nequip.pt2")
    ckpt = tmp_path / "best.ckpt"
    ckpt.write_bytes(b"")
    with pytest.raises(ValueError, match=r"model must be a packaged \.nequip\.zip"):
        compile_model(ckpt, tmp_path / "m.nequip.pt2")
    assert not (tmp_path / "m.nequip.pt2").exists()


@pytest.mark.slow
@pytest.mark.skipif(_NO_CXX, reason="AOTInductor needs a C++ compiler (g++ or $CXX)")
def test_compiled_model_reproduces_the_packaged_one(tmp_path):
    """2 epochs of a toy model, packaged, compiled for the CPU into another
    folder: on frames of other sizes than the one it was compiled with
    (dynamic shapes), energy and forces equal the eager model's to float64
    round-off (measured 7e-12 eV on 2.3e4 eV and 3e-14 eV/Å on the 476-atom
    demo cell). ~2 min on one core, most of it the C++ compile."""
    from constpot.potential import model_qeq_settings, package_model, train_model
    from constpot.potential.nequip_io import load_calculator

    settings = QEqSettings()
    targets = qeq_targets(labelled_frames(n_per_category=3), settings)
    tpath, qpath = write_targets(targets, tmp_path / "targets.extxyz", settings)
    cats = [f.info["category"] for f in targets]
    split = stratified_split(cats, {"train": 0.34, "val": 0.33, "test": 0.33}, 0)
    write_split(tmp_path / "split.json", split, cats, seed=0)
    toy = {"max_epochs": 2, "num_features": 4, "radial_mlp_width": 8}
    result = train_model(
        tpath, tmp_path / "split.json", toy, 0, tmp_path / "run", lambda s: None
    )
    packaged = package_model(
        result["checkpoint"], tmp_path / "run" / "model.nequip.zip", qpath
    )
    lines = []
    compiled = compile_model(
        packaged, tmp_path / "cpu" / "model.nequip.pt2", "cpu", lines.append
    )
    assert compiled.is_file() and lines[0].startswith("$ ")
    assert "--target ase" in lines[0] and "--mode aotinductor" in lines[0]
    model_qeq_settings(compiled).check_compatible(settings)

    eager, aot = load_calculator(packaged), load_calculator(compiled)
    sizes = sorted({len(f) for f in targets})
    assert len(sizes) >= 2
    for n in sizes:
        frame = next(f for f in targets if len(f) == n)
        ref = frame.copy()
        ref.calc = eager
        got = frame.copy()
        got.calc = aot
        e_ref, f_ref = ref.get_potential_energy(), ref.get_forces()
        # float64 both ways; the compiled kernels sum in another order, so
        # agreement to round-off, not bit for bit (1e-9 leaves 1e4 x margin)
        assert got.get_potential_energy() == pytest.approx(e_ref, rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(got.get_forces(), f_ref, rtol=0, atol=1e-9)
        assert np.abs(f_ref).max() > 1e-3  # not vacuous: the forces are not zero
