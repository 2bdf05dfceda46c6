"""Shared fixtures and markers for the constpot test suite."""

import numpy as np
import pytest
import torch

from constpot.build import build_interface

#: The demo's fast interfaces (config/config.yaml ``systems:``, preset demo).
#: The amorphous one runs a melt-quench and is built only where a test needs it.
#: The crystalline one sits on a 5 × 5 anode, as in the config: at
#: a = LI_BCC_A_A = 3.33 Å the preset's 4 × 4 (13.32 Å) strains the LiF patch
#: by −6.4 %, beyond the builder's max_strain = 6 % (tests/build/test_interface.py).
DEMO_RECIPES = {
    "no_sei": {"seed": 1, "sei": {"phase": "none"}},
    "crystalline": {
        "seed": 1,
        "li": {"lateral_reps": [5, 5]},
        "sei": {"phase": "crystalline", "layout": "mosaic"},
    },
}


#: Modules that run first. `make test` hands whole modules to two workers
#: (pytest-xdist ``--dist loadfile --no-loadscope-reorder``) in collection
#: order, and the run ends when its longest module does, so that one must start
#: first: tests/test_workflow.py is half of the suite (`pytest --durations=0
#: --junitxml`, 2026-12-07: 564 s of 1140 s; run last, it took the suite from
#: ~10 to 13.5 min on 2 cores).
FIRST_MODULES = ("tests/test_workflow.py",)


def _module_rank(item) -> int:
    try:
        path = item.path.relative_to(item.config.rootpath).as_posix()
    except ValueError:  # collected from outside the repository
        return len(FIRST_MODULES)
    return FIRST_MODULES.index(path) if path in FIRST_MODULES else len(FIRST_MODULES)


def pytest_collection_modifyitems(config, items):
    """Run FIRST_MODULES first; skip tests marked ``cuda`` when no CUDA
    device is visible."""
    items.sort(key=_module_rank)  # stable: the rest keep collection order
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


@pytest.fixture(scope="session")
def demo_interface():
    """Build a demo interface once per session; each call returns a fresh copy.

    ``demo_interface("no_sei", system="t")`` is the no-SEI demo interface with
    ``atoms.info["system"] = "t"`` (the name only labels the structure).
    """
    cache = {}

    def get(name: str, system: str | None = None):
        if name not in cache:
            cache[name] = build_interface(DEMO_RECIPES[name], name)
        atoms = cache[name].copy()
        if system is not None:
            atoms.info["system"] = system
        return atoms

    get.recipes = DEMO_RECIPES
    return get
