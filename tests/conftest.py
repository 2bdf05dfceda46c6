"""Shared fixtures and markers for the constpot test suite."""

import numpy as np
import pytest
import torch


def pytest_collection_modifyitems(config, items):
    """Skip tests marked ``cuda`` when no CUDA device is visible."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA (torch.cuda.is_available() is False)")
    for item in items:
        if item.get_closest_marker("cuda") is not None:
            item.add_marker(skip)


@pytest.fixture
def rng():
    """Seeded generator: every test draws the same numbers on every run."""
    return np.random.default_rng(0)
