"""Frame classes and exploration runs read back: counts, boundaries, errors."""

import numpy as np
import pytest

from constpot.active import (
    ACCURATE,
    CANDIDATE,
    FAILED,
    ActiveSettings,
    class_counts,
    classify,
    read_exploration,
)
from constpot.active.keys import THERMO_DEVIATION
from constpot.errors import SetupError
from constpot.md.output import THERMO_COLUMNS

from .conftest import write_run


def test_deviation_column_is_md_thermo_column():
    assert THERMO_DEVIATION in THERMO_COLUMNS


def test_boundaries_follow_dp_gen():
    """σ = trust_lo is a candidate, σ = trust_hi failed (half-open window)."""
    lo, hi = 0.05, 0.3
    sigma = [0.0, np.nextafter(lo, 0), lo, 0.2, np.nextafter(hi, 0), hi, 5.0]
    assert classify(sigma, lo, hi).tolist() == [
        ACCURATE,
        ACCURATE,
        CANDIDATE,
        CANDIDATE,
        CANDIDATE,
        FAILED,
        FAILED,
    ]


def test_counts_include_empty_classes():
    assert class_counts(classify([0.01, 0.02], 0.05, 0.3)) == {
        ACCURATE: 2,
        CANDIDATE: 0,
        FAILED: 0,
    }


def test_read_run_matches_frames_to_thermo_rows(tmp_path):
    sigma = [0.01, 0.1, 0.4, 0.2]
    path = write_run(
        tmp_path, "toy", "constp_-6.0V_T400K", sigma, mode="constp",
        anode_potential_V=-6.0, temperature_K=400.0, status="stopped",
    )  # fmt: skip
    run = read_exploration(path)
    assert (run.system, run.condition, run.name) == (
        "toy",
        "constp_-6.0V_T400K",
        "toy/constp_-6.0V_T400K",
    )
    assert run.steps.tolist() == [0, 10, 20, 30]
    np.testing.assert_array_equal(run.deviation_eV_A, sigma)  # exact: repr in CSV
    assert run.potential == "-6.0V" and run.anode_potential_V == -6.0
    assert run.temperature_K == 400.0 and not run.completed


def test_missing_thermo_row_names_file_and_step(tmp_path):
    path = write_run(tmp_path, "toy", "constq_T300K", [0.1, 0.1, 0.1], drop_rows=(10,))
    with pytest.raises(SetupError, match=r"thermo\.csv: no row for step 10"):
        read_exploration(path)


def test_nan_deviation_is_an_error(tmp_path):
    path = write_run(tmp_path, "toy", "constq_T300K", [0.1, float("nan")])
    with pytest.raises(SetupError, match=r"force_deviation_eV_A is nan at step 10"):
        read_exploration(path)


@pytest.mark.parametrize(
    ("section", "match"),
    [
        ({"trust_lo": 0.1}, r"active\.trust_lo: unknown key"),
        ({"trust_lo_eV_A": 0.3, "trust_hi_eV_A": 0.3}, r"trust_lo_eV_A .* below"),
        ({"trust_lo_eV_A": 0.4}, r"trust_lo_eV_A \(0\.4\) must be below"),
        ({"max_candidates": 2.0}, r"active\.max_candidates: expected an integer"),
        ({"min_step_gap": -1}, r"active\.min_step_gap: must be >= 0"),
        ({"max_atoms": 0}, r"active\.max_atoms: must be >= 1"),
        ({"trust_hi_eV_A": True}, r"active\.trust_hi_eV_A: expected a number"),
    ],
)
def test_bad_settings_name_the_key(section, match):
    with pytest.raises(SetupError, match=match):
        ActiveSettings.from_config(section, "cfg")


def test_settings_defaults_and_round_trip():
    s = ActiveSettings.from_config({"max_atoms": 50})
    assert s.trust_lo_eV_A == 0.1 and s.trust_hi_eV_A == 0.2 and s.max_atoms == 50
    assert ActiveSettings.from_config(s.todict()) == s


def test_public_names_import():
    import constpot.active as active  # the package under test, imported whole

    assert len(set(active.__all__)) == len(active.__all__)
    for name in active.__all__:
        assert getattr(active, name) is not None, name
