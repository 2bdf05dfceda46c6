"""One definition of model accuracy: claim 5, the analysis summary and the
training summary report the same numbers, and the numbers are the known errors.

Two fake models predict the short-range targets of nine labelled frames with
errors built to be known exactly: on every frame their energy errors are
0.010 ± 0.020 eV/atom and their force errors 0.050 ± 0.100 eV/Å per
component (the sign alternating between frames, atoms and models), so their
mean prediction, the ensemble, is off by exactly 0.010 eV/atom and 0.050 eV/Å.
The members' own RMSEs are larger (√(0.01² + 0.02²) = 22.4 meV/atom): an
average of member RMSEs would not give the training summary's number.
"""

import json

import numpy as np
import pandas as pd
import pytest
from ase.build import bulk
from ase.calculators.lj import LennardJones
from ase.calculators.singlepoint import SinglePointCalculator

from constpot.analysis import (
    accuracy_metrics,
    evaluate_claims,
    headline_accuracy,
    read_predictions,
)
from constpot.potential import QEqSettings, evaluate
from constpot.potential.split import write_split
from constpot.potential.targets import qeq_targets, read_targets, write_targets

ENERGY_ERROR_EV_ATOM = 0.010
FORCE_ERROR_EV_A = 0.050
#: No test frames: the headline falls back to the validation split.
SPLIT = {"train": [0, 3, 6], "val": [1, 2, 4, 5, 7, 8], "test": []}


def _labelled_frames():
    """Nine rattled LiF cells (8 atoms) labelled by Lennard-Jones, with random
    neutral reference charges, in three categories."""
    rng = np.random.default_rng(0)
    frames = []
    for k in range(9):
        atoms = bulk("LiF", "rocksalt", a=4.03, cubic=True)
        atoms.positions += rng.normal(0.0, 0.05, atoms.positions.shape)
        atoms.calc = LennardJones(sigma=0.9, epsilon=0.05, rc=4.0)
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        charges = rng.normal(0.0, 0.3, len(atoms))
        atoms.calc = SinglePointCalculator(
            atoms, energy=energy, forces=forces, charges=charges - charges.mean()
        )
        atoms.info.update(category=f"c{k // 3}", total_charge=0)
        frames.append(atoms)
    return frames


def _predictions(targets):
    """Short-range predictions of two models with the known errors."""
    out = {}
    for model, sign in (("seed0", 1.0), ("seed1", -1.0)):
        preds = []
        for k, t in enumerate(targets):
            n = len(t)
            spread = sign * (-1.0) ** k
            energy = t.get_potential_energy() + n * (
                ENERGY_ERROR_EV_ATOM + 0.020 * spread
            )
            per_atom = spread * (-1.0) ** np.arange(n)[:, None]
            forces = t.get_forces() + FORCE_ERROR_EV_A + 0.100 * per_atom
            preds.append((energy, forces))
        out[model] = preds
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The training stage's files: predictions.csv and summary.json (results/train/)."""
    tmp = tmp_path_factory.mktemp("train")
    settings = QEqSettings()
    targets = qeq_targets(_labelled_frames(), settings)
    tpath, qpath = write_targets(targets, tmp / "targets.extxyz", settings)
    targets = read_targets(tpath)  # what evaluate_models reads
    categories = [t.info["category"] for t in targets]
    write_split(tmp / "split.json", SPLIT, categories, seed=0)
    predictions = _predictions(targets)
    models = {name: tmp / name / "model.nequip.zip" for name in predictions}
    with pytest.MonkeyPatch.context() as mp:
        # No nequip model: each "calculator" is its model's path, and its
        # predictions are the built ones.
        mp.setattr(evaluate, "model_qeq_settings", lambda path: settings)
        mp.setattr(evaluate, "load_calculator", lambda path, device="cpu": path)
        mp.setattr(
            evaluate, "predict_short", lambda calc, _: predictions[calc.parent.name]
        )
        files = [tmp / name for name in ("metrics.csv", "predictions.csv")]
        summary = tmp / "summary.json"
        evaluate.evaluate_models(
            models,
            tpath,
            tmp / "split.json",
            qpath,
            *files,
            summary,
            log=lambda _: None,
        )
    val = [targets[k] for k in SPLIT["val"]]
    charge_err = np.concatenate(
        [t.arrays["qeq_charges"] - t.arrays["ref_charges"] for t in val]
    )
    return {
        "summary": json.loads(summary.read_text()),
        "table": read_predictions(tmp / "predictions.csv"),
        "memory": evaluate.prediction_table(targets, SPLIT, predictions),
        "charge_rmse_e": float(np.sqrt(np.mean(charge_err**2))),
    }


def _claim5(table):
    claims = evaluate_claims(pd.DataFrame(), predictions=table, bootstrap=200)
    (claim,) = [c for c in claims if c.number == 5]
    return claim


def test_claim5_reports_the_known_errors(trained):
    """Energy 10 meV/atom, force 50 meV/Å (MAE = RMSE: a constant error);
    predictions.csv holds 8 significant digits: rel 1e-6."""
    claim = _claim5(trained["table"])
    energy, force = claim.numbers["energy_per_atom"], claim.numbers["force"]
    assert energy["split"] == "val" and energy["model"] == "ensemble"
    assert energy["unit"] == "meV/atom" and force["unit"] == "meV/A"
    assert energy["rmse"] == pytest.approx(1e3 * ENERGY_ERROR_EV_ATOM, rel=1e-6)
    assert energy["mae"] == pytest.approx(1e3 * ENERGY_ERROR_EV_ATOM, rel=1e-6)
    assert force["rmse"] == pytest.approx(1e3 * FORCE_ERROR_EV_A, rel=1e-6)
    assert force["mae"] == pytest.approx(1e3 * FORCE_ERROR_EV_A, rel=1e-6)
    assert energy["count"] == 6 and energy["n_models"] == 2
    charge = claim.numbers["charge"]
    assert charge["model"] == "qeq"
    assert charge["rmse"] == pytest.approx(trained["charge_rmse_e"], rel=1e-6)
    # A constant error: every bootstrap replicate gives the same RMSE.
    interval = claim.intervals["force RMSE (val)"]
    assert interval["lo"] == pytest.approx(interval["value"], rel=1e-6)
    assert interval["hi"] == pytest.approx(interval["value"], rel=1e-6)
    assert claim.parts["force"] == "supported"  # 50 meV/Å below 150
    # Each member alone is off by 0.010 ± 0.020 eV/atom: RMSE √5 × 10 meV/atom.
    metrics = accuracy_metrics(trained["table"])
    member = metrics[(metrics["model"] == "seed0") & (metrics["split"] == "val")
                     & (metrics["category"] == "all")
                     & (metrics["quantity"] == "energy_per_atom")]  # fmt: skip
    assert member["rmse"].item() == pytest.approx(np.sqrt(5) * 10.0, rel=1e-6)


def test_claim5_equals_the_training_summary(trained):
    """Claim 5 read back from predictions.csv, the analysis summary's accuracy
    and the training stage's summary.json: one set of numbers (rel 1e-6: the
    CSV's digits)."""
    summary = trained["summary"]
    claim = _claim5(trained["table"])
    analysis = headline_accuracy(trained["table"])
    for quantity in ("energy_per_atom", "force", "charge"):
        numbers = claim.numbers[quantity]
        model = numbers["model"]
        overall = summary["overall"]["val"][model][quantity]
        for key in ("mae", "rmse"):
            assert numbers[key] == pytest.approx(overall[key], rel=1e-6)
            assert analysis[quantity][key] == numbers[key]
        assert summary["accuracy"][quantity]["model"] == model
        assert summary["accuracy"][quantity]["rmse"] == pytest.approx(
            numbers["rmse"], rel=1e-6
        )
        iv = claim.intervals[f"{quantity} RMSE (val)"]
        assert iv["value"] == numbers["rmse"] and iv["unit"] == overall["unit"]


def test_in_memory_tables_give_the_summary_to_round_off(trained):
    """Without the CSV round trip claim 5 and the training summary agree to
    round-off (rel 1e-12); the known errors hold to the digits of the targets
    file (E_short + E_QEq = E_ref to ~1e-8 relative after extxyz: rel 1e-6)."""
    claim = _claim5(trained["memory"])
    for quantity, values in trained["summary"]["accuracy"].items():
        for key in ("mae", "rmse"):
            assert claim.numbers[quantity][key] == pytest.approx(values[key], rel=1e-12)
    known = {"energy_per_atom": 1e3 * ENERGY_ERROR_EV_ATOM,
             "force": 1e3 * FORCE_ERROR_EV_A}  # fmt: skip
    for quantity, value in known.items():
        assert claim.numbers[quantity]["rmse"] == pytest.approx(value, rel=1e-6)


def test_parity_rows_are_the_headline_predictions(trained):
    """The ensemble rows of the val frames: predicted − reference is the
    known error on every row."""
    rows = evaluate.headline_rows(trained["table"])
    energy = rows[rows["quantity"] == "energy_per_atom"]
    assert set(energy["model"]) == {"ensemble"} and set(energy["split"]) == {"val"}
    assert sorted(energy["frame"]) == SPLIT["val"]
    err = (energy["predicted"] - energy["reference"]).to_numpy()
    np.testing.assert_allclose(err, ENERGY_ERROR_EV_ATOM, rtol=1e-6)
    force = rows[rows["quantity"] == "force"]
    err = (force["predicted"] - force["reference"]).to_numpy()
    np.testing.assert_allclose(err, FORCE_ERROR_EV_A, rtol=1e-6)
    assert set(rows[rows["quantity"] == "charge"]["model"]) == {"qeq"}


def test_read_predictions_names_the_missing_column(tmp_path):
    path = tmp_path / "p.csv"
    pd.DataFrame({"model": ["a"], "frame": [0]}).to_csv(path, index=False)
    with pytest.raises(ValueError, match="no column category"):
        read_predictions(path)
    with pytest.raises(FileNotFoundError, match="predictions file not found"):
        read_predictions(tmp_path / "none.csv")


def test_training_parity_figure_prints_the_summary_numbers(trained, tmp_path):
    """The training stage's parity figure (constpot.potential.plots) shows the
    headline split's points in colour and prints that split's errors, the
    training summary's ensemble numbers (10 meV/atom, 50 meV/Å)."""
    from constpot.potential import plots

    figures = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots, "save_figure", lambda fig, path: figures.append(fig) or path)
        plots.plot_parity(trained["table"], tmp_path / "parity.png")
    (fig,) = figures
    energy, force, charge = (
        " ".join(t.get_text() for t in ax.texts) for ax in fig.axes
    )
    assert energy == "val MAE 10 meV/atom\nval RMSE 10 meV/atom"
    assert force == "val MAE 50 meV/A\nval RMSE 50 meV/A"
    assert [ax.get_title() for ax in fig.axes[:2]] == ["ensemble", "ensemble"]
    rmse = f"{trained['charge_rmse_e']:.3g} e"
    assert charge.endswith(f"val RMSE {rmse}")
