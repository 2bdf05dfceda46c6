"""MetallicRule: the settings of the metallic-Li rule as one validated object."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from ase.build import bcc100

from constpot.keys import ANODE
from constpot.qeq import MetallicRule, metallic_li


def test_labels_are_metallic_li_with_the_rule_settings():
    slab = bcc100("Li", size=(3, 3, 4), a=3.33, vacuum=10.0)
    slab.pbc = True
    frozen = np.zeros(len(slab), bool)
    frozen[0] = True
    rule = MetallicRule(cutoff_A=3.3, min_neighbors=6, exclude=["F"])
    expected = metallic_li(
        slab, cutoff=3.3, min_neighbors=6, always=frozen, exclude_bonded_to=("F",)
    )
    np.testing.assert_array_equal(rule.labels(slab, frozen), expected)
    assert rule.labels(slab, frozen)[0] == ANODE
    assert rule.exclude == ("F",)  # stored as a tuple: hashable, comparable
    assert rule == MetallicRule(3.3, 6, ("F",)) and hash(rule)
    assert rule.todict() == {"cutoff_A": 3.3, "min_neighbors": 6, "exclude": ["F"]}
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.cutoff_A = 3.0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"cutoff_A": 0.0}, "cutoff_A"),
        ({"cutoff_A": float("nan")}, "cutoff_A"),
        ({"min_neighbors": 0}, "min_neighbors"),
        ({"min_neighbors": 8.5}, "min_neighbors"),
        ({"exclude": "FO"}, "exclude"),
    ],
)
def test_bad_settings_name_the_field(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MetallicRule(**kwargs)
