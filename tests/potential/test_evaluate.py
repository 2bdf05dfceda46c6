"""Metrics bookkeeping: short-range errors = total errors = fresh QEq recombination."""

import numpy as np
import pytest

from constpot.potential import QEqSettings
from constpot.potential.evaluate import metrics_table, prediction_table
from constpot.potential.targets import qeq_targets

from .synthetic import labelled_frames


@pytest.fixture(scope="module")
def setup():
    frames = labelled_frames(n_per_category=3)
    targets = qeq_targets(frames, QEqSettings())
    split = {"train": [0, 1, 3, 4, 6, 7], "val": [], "test": [2, 5, 8]}
    rng = np.random.default_rng(1)
    # Two fake "models": the short-range target plus known noise.
    predictions = {
        name: [
            (
                t.get_potential_energy() + rng.normal(0.0, 0.05),
                t.get_forces() + rng.normal(0.0, 0.1, (len(t), 3)),
            )
            for t in targets
        ]
        for name in ("seed0", "seed1")
    }
    return frames, targets, split, predictions


def _row(metrics, **where):
    sel = np.ones(len(metrics), bool)
    for key, value in where.items():
        sel &= metrics[key].to_numpy() == value
    (index,) = np.flatnonzero(sel)
    return metrics.iloc[index]


def test_total_errors_equal_short_errors(setup):
    _, targets, split, predictions = setup
    metrics = metrics_table(targets, split, predictions)
    for model in ("seed0", "seed1", "ensemble"):
        for quantity in ("energy_per_atom", "force"):
            short = _row(metrics, model=model, split="test", category="all",
                         quantity=quantity, target="short")  # fmt: skip
            total = _row(metrics, model=model, split="test", category="all",
                         quantity=quantity, target="total")  # fmt: skip
            # Same numbers up to the round-off of E_ref - E_QEq + E_QEq.
            assert total["mae"] == pytest.approx(short["mae"], rel=1e-9)
            assert total["rmse"] == pytest.approx(short["rmse"], rel=1e-9)


def test_metrics_match_a_fresh_qeq_reconstruction(setup):
    """Prediction + a fresh constant-charge QEq solve − reference labels gives
    exactly the reported test errors (meV/atom, meV/Å)."""
    frames, targets, split, predictions = setup
    metrics = metrics_table(targets, split, predictions)
    solver = QEqSettings().solver(slab=False, method="dense")
    de, df = [], []
    for k in split["test"]:
        res = solver.solve(frames[k], total_charge=0.0)
        e_short, f_short = predictions["seed1"][k]
        n = len(frames[k])
        de.append((e_short + res.energy - frames[k].get_potential_energy()) / n)
        df.append((f_short + res.forces - frames[k].get_forces()).ravel())
    de, df = np.array(de), np.concatenate(df)
    energy = _row(metrics, model="seed1", split="test", category="all",
                  quantity="energy_per_atom", target="total")  # fmt: skip
    force = _row(metrics, model="seed1", split="test", category="all",
                 quantity="force", target="total")  # fmt: skip
    assert energy["mae"] == pytest.approx(1e3 * np.mean(np.abs(de)), rel=1e-9)
    assert energy["rmse"] == pytest.approx(1e3 * np.sqrt(np.mean(de**2)), rel=1e-9)
    assert force["mae"] == pytest.approx(1e3 * np.mean(np.abs(df)), rel=1e-9)
    assert energy["count"] == 3 and force["count"] == df.size


def test_prediction_table_agrees_with_metrics(setup):
    _, targets, split, predictions = setup
    metrics = metrics_table(targets, split, predictions)
    table = prediction_table(targets, split, predictions)
    assert list(table.columns[:5]) == ["model", "frame", "category", "split",
                                       "quantity"]  # fmt: skip
    assert set(table["model"]) == {"seed0", "seed1", "qeq"}
    for quantity in ("energy_per_atom", "force"):
        rows = table[(table["model"] == "seed0") & (table["split"] == "test")
                     & (table["quantity"] == quantity)]  # fmt: skip
        err = rows["predicted"] - rows["reference"]
        want = _row(metrics, model="seed0", split="test", category="all",
                    quantity=quantity, target="total")  # fmt: skip
        assert 1e3 * np.mean(np.abs(err)) == pytest.approx(want["mae"], rel=1e-9)
    charges = table[(table["model"] == "qeq") & (table["split"] == "test")]
    q = _row(metrics, model="qeq", split="test", category="all", quantity="charge")
    err = charges["predicted"] - charges["reference"]
    assert np.sqrt(np.mean(err**2)) == pytest.approx(q["rmse"], rel=1e-9)


def test_per_category_rows_cover_the_split(setup):
    _, targets, split, predictions = setup
    metrics = metrics_table(targets, split, predictions)
    rows = metrics[(metrics["model"] == "seed0") & (metrics["split"] == "test")
                   & (metrics["quantity"] == "energy_per_atom")
                   & (metrics["target"] == "total")]  # fmt: skip
    per_cat = rows[rows["category"] != "all"]
    assert set(per_cat["category"]) == {"lif", "li2o", "lioh"}
    assert per_cat["count"].sum() == rows[rows["category"] == "all"]["count"].sum()


def test_mismatched_predictions_are_named(setup):
    _, targets, split, predictions = setup
    with pytest.raises(ValueError, match="model bad: 1 predictions for 9 frames"):
        metrics_table(targets, split, {"bad": predictions["seed0"][:1]})
