"""Every public name of every subpackage imports (STYLE: explicit __all__)."""

import importlib

import pytest

PACKAGES = [
    "constpot.qeq",
    "constpot.build",
    "constpot.label",
    "constpot.potential",
    "constpot.md",
    "constpot.active",
    "constpot.analysis",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_public_names_import(name):
    module = importlib.import_module(name)
    assert module.__all__, name
    assert len(set(module.__all__)) == len(module.__all__), "duplicates in __all__"
    for symbol in module.__all__:
        assert getattr(module, symbol) is not None, f"{name}.{symbol}"
