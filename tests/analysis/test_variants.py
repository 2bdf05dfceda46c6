"""The comparison of the paper's model with its variants copies, never recomputes."""

import csv
import json

import pytest

from constpot.analysis import compare_variants


def _summary(path, deposited, verdict, value, lo, hi):
    doc = {
        "claims": [
            {
                "number": 1,
                "claim": "Li+ is reduced and deposits under constant potential",
                "verdict": verdict,
                "intervals": {
                    "no_sei: rate difference": {
                        "value": value,
                        "lo": lo,
                        "hi": hi,
                        "unit": "Li/nm²/ns",
                    }
                },
            }
        ],
        "table": [
            {
                "system": "no_sei",
                "mode": "constp",
                "potential": "-6.0V",
                "deposited_li": deposited,
                "anode_charge_e": -1.5,
            }
        ],
    }
    path.write_text(json.dumps(doc))
    return path


def test_each_models_numbers_land_in_its_column(tmp_path):
    paper = _summary(tmp_path / "p.json", 3.0, "supported", 2.0, 1.0, 3.0)
    variant = _summary(tmp_path / "v.json", 0.0, "not testable", 0.1, -0.5, 0.7)
    rows = compare_variants(
        {"paper": paper, "anion_exclusion": variant},
        tmp_path / "cmp.md",
        tmp_path / "cmp.csv",
        descriptions={"anion_exclusion": "F/O-bonded Li never metallic"},
    )
    verdict = rows["claims"][0]
    assert verdict["paper"] == "supported"
    assert verdict["anion_exclusion"] == "not testable"
    interval = rows["claims"][1]
    assert interval["paper"] == "2 [1, 3] Li/nm²/ns"
    assert interval["anion_exclusion"] == "0.1 [-0.5, 0.7] Li/nm²/ns"
    with open(tmp_path / "cmp.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    deposited = next(r for r in table if r["quantity"] == "deposited Li")
    assert (deposited["paper"], deposited["anion_exclusion"]) == ("3", "0")
    text = (tmp_path / "cmp.md").read_text()
    assert "F/O-bonded Li never metallic" in text
    assert "the paper's model (default)" in text


def test_missing_or_foreign_summary_is_refused(tmp_path):
    paper = _summary(tmp_path / "p.json", 1.0, "supported", 1.0, 0.5, 1.5)
    with pytest.raises(FileNotFoundError, match="summary of 'v' not found"):
        compare_variants({"paper": paper, "v": tmp_path / "none.json"}, "a", "b")
    other = tmp_path / "o.json"
    other.write_text("{}")
    with pytest.raises(ValueError, match="not a constpot summary"):
        compare_variants({"paper": paper, "v": other}, "a", "b")
    assert not (tmp_path / "a").exists()
