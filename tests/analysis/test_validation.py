"""Validation on the MD's own frames: model energy change against the reference's."""

import json

import numpy as np
import pandas as pd
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write

from constpot.analysis import evaluate_claims
from constpot.analysis.claims import NOT_SUPPORTED, NOT_TESTABLE, SUPPORTED
from constpot.analysis.validation import (
    DRIFT_COLUMNS,
    MODEL_ENERGY,
    VALIDATION_CATEGORY,
    VALIDATION_FRAME,
    VALIDATION_RUN,
    drift_table,
    validation_frames,
)
from constpot.cli import main

N_ATOMS = 16


def _traj(path, model_energies_eV, mode="constq", dt_fs=100.0, walls_eV=None):
    """An MD trajectory as `constpot md` writes it: energy and time per frame."""
    frames = []
    walls_eV = walls_eV or [0.0] * len(model_energies_eV)
    for k, energy in enumerate(model_energies_eV):
        atoms = bulk("Li", "bcc", a=3.44, cubic=True).repeat((2, 2, 2))
        atoms.rattle(0.05, seed=k)
        atoms.info.update(
            {
                "potential_energy_eV": energy + walls_eV[k],
                "wall_energy_eV": walls_eV[k],
                "time_fs": k * dt_fs,
                "mode": mode,
                "total_charge_e": 0.0,
                "step": k * 10,
            }
        )
        frames.append(atoms)
    write(path, frames, format="extxyz")
    return path


def _label(frames, reference_energies_eV):
    """The reference's energies on the validation frames (a labeller's output)."""
    out = []
    for atoms, energy in zip(frames, reference_energies_eV, strict=True):
        atoms = atoms.copy()
        atoms.calc = SinglePointCalculator(atoms, energy=energy)
        out.append(atoms)
    return out


def test_frames_are_each_runs_ends_with_the_models_energy(tmp_path):
    a = _traj(tmp_path / "a.extxyz", [-10.0, -11.0, -12.0, -13.0])
    b = _traj(tmp_path / "b.extxyz", [-5.0, -4.0])
    frames = validation_frames({"s/constq_none_r0": a, "t/constq_none_r0": b})
    assert [(f.info[VALIDATION_RUN], f.info[VALIDATION_FRAME]) for f in frames] == [
        ("s/constq_none_r0", 0),
        ("s/constq_none_r0", 3),
        ("t/constq_none_r0", 0),
        ("t/constq_none_r0", 1),
    ]
    assert [f.info[MODEL_ENERGY] for f in frames] == [-10.0, -13.0, -5.0, -4.0]
    assert [f.info["sample_index"] for f in frames] == [0, 1, 2, 3]
    assert {f.info["category"] for f in frames} == {VALIDATION_CATEGORY}
    assert frames[1].info["time_fs"] == 300.0
    assert all(f.calc is None and f.info["total_charge"] == 0 for f in frames)
    # the positions are the trajectory's own
    last = read(a, index=-1)
    np.testing.assert_array_equal(frames[1].positions, last.positions)


def test_the_walls_energy_is_not_the_models(tmp_path):
    """The confining walls' energy is in the MD's potential energy, not in the
    reference's: the model's energy of a frame is the rest."""
    a = _traj(tmp_path / "a.extxyz", [-10.0, -11.0], walls_eV=[0.5, 2.0])
    frames = validation_frames({"s/constq_none_r0": a})
    assert [f.info[MODEL_ENERGY] for f in frames] == [-10.0, -11.0]


def test_frames_refuse_constant_potential_and_short_runs(tmp_path):
    constp = _traj(tmp_path / "p.extxyz", [-1.0, -2.0], mode="constp")
    with pytest.raises(ValueError, match="constp run"):
        validation_frames({"s/constp_-6.0V_r0": constp})
    short = _traj(tmp_path / "one.extxyz", [-1.0])
    with pytest.raises(ValueError, match="1 frame"):
        validation_frames({"s/constq_none_r0": short})


def test_drift_is_the_change_of_the_models_error_along_a_run(tmp_path):
    """Model falls by 1.6 eV over 16 atoms (−100 meV/atom) while the reference
    rises by 0.4 eV (+25): drift −125 meV/atom; a constant offset of the
    model (+2 eV on every frame) is no drift."""
    a = _traj(tmp_path / "a.extxyz", [-50.0, -50.8, -51.6])
    b = _traj(tmp_path / "b.extxyz", [-30.0, -29.0])
    frames = validation_frames({"fall": a, "offset": b})
    labelled = _label(frames, [-60.0, -59.6, -32.0, -31.0])
    table = drift_table(labelled).set_index("run")
    assert list(table.reset_index().columns) == list(DRIFT_COLUMNS)
    fall = table.loc["fall"]
    assert fall["n_atoms"] == N_ATOMS
    assert fall["duration_ps"] == pytest.approx(0.2)
    assert fall["model_change_meV_per_atom"] == pytest.approx(-100.0)
    assert fall["reference_change_meV_per_atom"] == pytest.approx(25.0)
    assert fall["drift_meV_per_atom"] == pytest.approx(-125.0)
    assert fall["error_first_meV_per_atom"] == pytest.approx(10000.0 / N_ATOMS)
    assert fall["error_last_meV_per_atom"] == pytest.approx(8000.0 / N_ATOMS)
    offset = table.loc["offset"]
    assert offset["drift_meV_per_atom"] == pytest.approx(0.0)
    assert offset["error_first_meV_per_atom"] == pytest.approx(2000.0 / N_ATOMS)


def test_a_run_whose_label_failed_at_one_end_is_left_out(tmp_path):
    a = _traj(tmp_path / "a.extxyz", [-50.0, -51.0])
    b = _traj(tmp_path / "b.extxyz", [-30.0, -29.0])
    frames = validation_frames({"whole": a, "half": b})
    labelled = _label(frames[:3], [-60.0, -61.0, -32.0])  # b's last frame failed
    assert list(drift_table(labelled)["run"]) == ["whole"]


def _drift(values):
    return pd.DataFrame(
        {
            "run": [f"s{k}/constq_none_r0" for k in range(len(values))],
            "n_atoms": 400,
            "duration_ps": 0.4,
            "model_change_meV_per_atom": values,
            "reference_change_meV_per_atom": 0.0,
            "drift_meV_per_atom": values,
            "error_first_meV_per_atom": 0.0,
            "error_last_meV_per_atom": values,
        }
    )


def _claim5(drift):
    claims = evaluate_claims(pd.DataFrame([]), {}, bootstrap=400, drift=drift)
    return claims[4]


@pytest.mark.parametrize(
    ("drifts", "verdict"),
    [
        ([2.0, -3.0, 1.0], SUPPORTED),  # every run within 10 meV/atom
        ([-107.0, -81.0, -74.0], NOT_SUPPORTED),  # the demo's runs (README)
        ([2.0, 60.0], NOT_TESTABLE),  # the interval holds the limit
        ([-107.0], NOT_TESTABLE),  # one run: no spread, need min_replicas
    ],
)
def test_claim5_md_drift_against_the_energy_limit(drifts, verdict):
    c = _claim5(_drift(drifts))
    assert c.parts["md_drift"] == verdict, c.reason
    assert c.verdict == verdict  # no predictions: the drift is the only part
    interval = c.intervals["MD drift |model − reference| over a run"]
    assert interval["value"] == pytest.approx(np.mean(np.abs(drifts)))
    assert interval["unit"] == "meV/atom"
    assert c.numbers["md_drift"]["s0/constq_none_r0"] == drifts[0]


def test_claim5_without_validation_has_no_drift_part():
    c = _claim5(None)
    assert "md_drift" not in c.parts and c.verdict == NOT_TESTABLE


def test_cli_frames_label_report_and_summary(tmp_path):
    """validation-frames → (labels) → validation-report → summarise --validation."""
    traj = _traj(tmp_path / "a.extxyz", [-50.0, -50.8, -51.6])
    other = _traj(tmp_path / "b.extxyz", [-30.0, -30.8])
    frames = tmp_path / "frames.extxyz"
    runs = ["--runs", f"s/constq_none_r0={traj}", f"t/constq_none_r0={other}"]
    assert main(["validation-frames", *runs, "--out", str(frames)]) == 0
    labels = tmp_path / "labels.extxyz"
    write(labels, _label(read(frames, ":"), [-50.0, -50.0, -30.0, -30.0]))
    drift = tmp_path / "drift.csv"
    report = ["validation-report", "--labels", str(labels), "--csv", str(drift)]
    assert main(report) == 0
    table = pd.read_csv(drift)
    assert table["drift_meV_per_atom"].tolist() == pytest.approx([-100.0, -50.0])
    out = tmp_path / "summary"
    files = ["--json", str(out / "s.json"), "--md", str(out / "s.md")]
    files += ["--claims", str(out / "c.md"), "--validation", str(drift)]
    assert main(["summarise", "--runs", *files]) == 0
    doc = json.loads((out / "s.json").read_text())
    assert [r["run"] for r in doc["md_validation"]] == table["run"].tolist()
    claim5 = doc["claims"][4]
    assert claim5["parts"]["md_drift"] == NOT_SUPPORTED
    assert "Model on the MD's frames" in (out / "s.md").read_text()


def test_cli_refuses_a_run_without_a_trajectory(tmp_path, capsys):
    out = tmp_path / "frames.extxyz"
    assert main(["validation-frames", "--runs", "no-equals", "--out", str(out)]) == 2
    assert "NAME=TRAJ" in capsys.readouterr().err
    assert not out.exists()
