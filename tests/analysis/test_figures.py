"""The figures' numbers: one definition per quantity, shared with the summary."""

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from constpot import keys
from constpot.analysis import analyse_run, figures
from constpot.analysis.catalogue import load_tables
from constpot.analysis.figures import FIGURES, draw_figures
from constpot.analysis.figures.deposition import deposition_rates
from constpot.analysis.figures.electrostatics import electrode_charges
from constpot.analysis.figures.style import first_replica, psi_colours
from constpot.analysis.summary import run_headline

from .synthetic import deposition_run, write_run

#: The public plotting functions of the figures package.
PLOTS = {name for name in figures.__all__ if name.startswith("plot_")}
COMPLETED = {"status": "completed", "steps": 50, "settings": {"n_steps": 50}}
SOURCES = Path(__file__).parents[2] / "src/constpot"
#: Every module of the package: each must draw through constpot.plotstyle.
MODULES = sorted(p.relative_to(SOURCES) for p in SOURCES.rglob("*.py"))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """One ConstP run: an electrolyte Li⁺ arrives in a hollow at 200 fs and
    stays (6 frames, 0.5 ps, 10 × 10 Å cell); anode charge ramps by frame."""
    root = tmp_path_factory.mktemp("figs")
    traj = deposition_run(6, arrive=2, anode_potential_V=-1.0)
    for k, atoms in enumerate(traj):
        anode = atoms.arrays[keys.ELECTRODE] == keys.ANODE
        q = atoms.arrays[keys.CHARGES]
        q[anode] = -0.01 * k / anode.sum()  # anode total −0.01·k e
    path = write_run(root / "md" / "sys" / "constp_-1.0V_r0", traj, COMPLETED)
    out = root / "analysis" / "sys" / "constp_-1.0V_r0"
    analyse_run(path, out)
    return out


def test_deposition_rate_is_the_summarys(analysed):
    """1 Li on 1 nm² in 0.5 ps = 2000 Li nm⁻² ns⁻¹, the same number in the
    figure and in the run headline (one rate, rate_per_nm2_ns)."""
    rates = deposition_rates(load_tables([analysed], "deposition"))
    headline = run_headline(analysed)
    assert headline["deposited_li"] == 1.0
    # rel 1e-12: both are one float division of the same table values
    assert rates["rate"].iloc[0] == pytest.approx(2000.0, rel=1e-12)
    assert headline["deposition_rate_per_nm2_ns"] == pytest.approx(
        rates["rate"].iloc[0], rel=1e-12
    )


@pytest.mark.parametrize(("window", "frames"), [(0.5, [3, 4, 5]), (0.0, [5])])
def test_final_window_charge_is_the_summarys(analysed, window, frames):
    """The anode charge −0.01·k e averaged over the final window's frames k
    (ceil(window · 6), at least one), in the figure and the headline."""
    charges = electrode_charges(load_tables([analysed], "deposition"), window)
    expected = -0.01 * np.mean(frames)
    # abs 1e-7 e: the trajectory keeps 8 decimals per atom, 18 anode atoms
    assert charges["anode"].iloc[0] == pytest.approx(expected, abs=1e-7)
    if window == 0.5:  # the run's analysis window (AnalysisSettings default)
        headline = run_headline(analysed)
        # rel 1e-12: the same rows of the same table, averaged once each
        assert headline["anode_charge_e"] == pytest.approx(
            charges["anode"].iloc[0], rel=1e-12
        )


def test_draw_figures_writes_every_figure(analysed, tmp_path):
    paths = draw_figures([analysed], tmp_path)
    assert set(paths) == set(FIGURES)
    for key, path in paths.items():
        assert path == tmp_path / FIGURES[key]
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_first_replica_keeps_the_lowest_of_each_run_type():
    table = pd.DataFrame(
        {
            "system": ["a", "a", "a", "b"],
            "mode": ["constp"] * 4,
            "potential": ["-1V"] * 4,
            "replica": [2, 1, 1, 3],
            "z_A": [0.0, 1.0, 2.0, 3.0],
        }
    )
    assert first_replica(table)["z_A"].tolist() == [1.0, 2.0, 3.0]


def test_most_negative_potential_is_darkest():
    """Viridis from dark to light as ψ rises; relative luminance (sRGB
    weights) strictly increasing; NaN (constant charge) has no colour."""
    colours = psi_colours([0.0, -6.0, float("nan"), -3.0])
    assert list(colours) == [-6.0, -3.0, 0.0]
    luminance = [np.dot(c[:3], (0.2126, 0.7152, 0.0722)) for c in colours.values()]
    assert np.all(np.diff(luminance) > 0)


def _pyplot_use(tree: ast.Module) -> set[str]:
    """What a module does that only plotstyle may: import pyplot or seaborn,
    select a backend (``matplotlib.use``), save a figure (``.savefig``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names = {str(node.module)} | {f"{node.module}.{a.name}" for a in node.names}
        else:
            names = set()
        found |= {n for n in names if n.startswith(("matplotlib.pyplot", "seaborn"))}
        if isinstance(node, ast.Attribute) and node.attr == "savefig":
            found.add(".savefig")
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "use"
            and isinstance(node.value, ast.Name)
            and node.value.id == "matplotlib"
        ):
            found.add("matplotlib.use")
    return found


def _style_names(tree: ast.Module) -> set[str]:
    """Names a module takes from the shared style: imported from a module
    ending in ``style`` (plotstyle or analysis.figures.style), or used as
    ``style.<name>`` / ``plotstyle.<name>``."""
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and str(node.module).endswith("style"):
            used |= {a.name for a in node.names}
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in {"style", "plotstyle"}
        ):
            used.add(node.attr)
    return used


def _makes_figures(tree: ast.Module) -> bool:
    """Calls ``subplots`` (or ``panel_grid``), or defines a public plot of
    the figures package."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name in {"subplots", "subplot_mosaic", "panel_grid"}:
                return True
    return any(
        isinstance(n, ast.FunctionDef) and n.name in {"_figure"} | PLOTS
        for n in tree.body
    )


def test_the_scan_sees_the_drawing_modules():
    """The scan below finds the modules that draw, in every stage."""
    drawing = {
        m.as_posix()
        for m in MODULES
        if _makes_figures(ast.parse((SOURCES / m).read_text()))
    }
    assert {
        "build/render.py",
        "label/dataset.py",
        "potential/plots.py",
        "analysis/qeq_profile.py",
        "analysis/miniature.py",
        "analysis/figures/electrostatics.py",
    } <= drawing


@pytest.mark.parametrize("module", MODULES, ids=str)
def test_figures_draw_only_through_the_shared_style(module):
    """Only constpot/plotstyle.py touches matplotlib's pyplot or seaborn,
    selects the backend or calls ``savefig``; every other module that makes a
    figure takes plot_style and save_figure from the shared style (by name,
    or as ``style.plot_style``), so every figure of every stage has one look
    and is written atomically."""
    tree = ast.parse((SOURCES / module).read_text())
    if module == Path("plotstyle.py"):
        assert {"matplotlib.pyplot", "seaborn", ".savefig"} <= _pyplot_use(tree)
        return
    assert not _pyplot_use(tree), module
    if _makes_figures(tree):
        assert {"plot_style", "save_figure"} <= _style_names(tree), module
