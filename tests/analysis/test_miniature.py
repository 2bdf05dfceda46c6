"""The miniature report on synthetic trajectories with known answers (issue 14).

Frames are the built miniature (:func:`constpot.build.li_ion_at_anode`, a =
the demo preset's) with the ion moved and charges and labels set by hand,
written to extxyz as ``constpot md`` writes them. ConstP: the ion's charge
falls linearly from +0.7 to +0.1 e over 1 ps, its height from 3.0 to 1.8 Å
above the top layer, and it is labelled an electrode member from 0.6 ps;
ConstQ: charge +0.33 e, height 3.0 Å, never a member. The headline numbers
follow in closed form (below). The ion is in the anode's metal network
(3.3 Å Li–Li contact) once its four surface neighbours at
√(a²/2 + h²) are closer than 3.3 Å (:func:`_in_network`; at a = 3.33 Å:
h < 2.31 Å, frames at 0.6–1.0 ps, h = 2.28 … 1.8 Å). Numbers pass through
extxyz text (8+ significant digits): atol 1e-6.
"""

import json
import math

import numpy as np
import pytest
from ase.io import write

from constpot.analysis import MiniatureIon, miniature_report
from constpot.build import li_ion_at_anode
from constpot.build.lithium import LI_BCC_A_A
from constpot.build.miniature import ION_INFO
from constpot.cli import main
from constpot.keys import ANODE, CHARGES, ELECTRODE, REGION

ATOL = 1e-6  # extxyz round trip
TAU = np.linspace(0.0, 1.0, 11)  # t / 1 ps, frames every 100 fs
#: Li–Li contact of the anode's metal network, Å (the analysis default).
NETWORK_CUTOFF_A = 3.3


def _in_network(height_A):
    """The ion above a (100) hollow touches its four surface neighbours."""
    return math.sqrt(LI_BCC_A_A**2 / 2 + height_A**2) < NETWORK_CUTOFF_A


def _frames(charge, height, member, dx=None, psi=-6.0):
    """Frames of the miniature: ion charge, height, membership, lateral shift."""
    base = li_ion_at_anode()
    base.set_constraint()
    ion = base.info[ION_INFO]
    slab = base.arrays[REGION] == "anode"
    top = base.positions[slab, 2].max()
    frames = []
    for k, tau in enumerate(TAU):
        atoms = base.copy()
        atoms.positions[ion, 2] = top + height[k]
        if dx is not None:
            atoms.positions[ion, 0] += dx[k]
        q = np.zeros(len(atoms))
        q[ion] = charge[k]
        q[ion + 1 :] = -1.0 / 7.0  # PF6 at -1 e
        q[slab] = (1.0 - charge[k]) / slab.sum()  # the rest on the anode
        labels = np.where(slab, ANODE, 0)
        labels[ion] = ANODE if member[k] else 0
        atoms.arrays[CHARGES] = q
        atoms.arrays[ELECTRODE] = labels
        atoms.info["time_fs"] = 1000.0 * tau
        atoms.info["step"] = 100 * k
        atoms.info["anode_potential_V"] = psi
        frames.append(atoms)
    return frames


def _write(path, frames):
    write(path, frames, format="extxyz")
    return path


@pytest.fixture
def runs(tmp_path):
    constp = _frames(0.7 - 0.6 * TAU, 3.0 - 1.2 * TAU, TAU >= 0.6 - 1e-9)
    constq = _frames(
        np.full(TAU.size, 0.33), np.full(TAU.size, 3.0), np.zeros(TAU.size, bool),
        psi=math.nan,
    )  # fmt: skip
    return (
        _write(tmp_path / "constp.extxyz", constp),
        _write(tmp_path / "constq.extxyz", constq),
    )


def test_known_answer(runs, tmp_path):
    out = tmp_path / "out"
    report = miniature_report(*runs, out / "m.json", out / "m.md", figure=out / "m.png")
    p = report["runs"]["constp"]["headline"]
    q = report["runs"]["constq"]["headline"]
    # Last half: t >= 0.5 ps, τ = 0.5 … 1.0, mean τ = 0.75.
    assert p["charge_mean_last_half_e"] == pytest.approx(0.7 - 0.6 * 0.75, abs=ATOL)
    assert p["charge_initial_e"] == pytest.approx(0.7, abs=ATOL)
    assert p["charge_final_e"] == pytest.approx(0.1, abs=ATOL)
    assert p["member_fraction"] == pytest.approx(5 / 11, abs=1e-12)
    in_network = [_in_network(3.0 - 1.2 * t) for t in TAU]
    assert sum(in_network) == 5  # at a = 3.33 Å, from 0.6 ps (3.44 Å: from 0.7)
    assert p["network_fraction"] == pytest.approx(sum(in_network) / 11, abs=1e-12)
    assert p["height_initial_A"] == pytest.approx(3.0, abs=ATOL)
    assert p["height_final_A"] == pytest.approx(1.8, abs=ATOL)
    assert p["height_change_A"] == pytest.approx(-1.2, abs=ATOL)
    assert p["lateral_final_A"] == pytest.approx(0.0, abs=ATOL)
    assert p["duration_ps"] == pytest.approx(1.0, abs=1e-12)
    assert p["anode_potential_V"] == -6.0
    # anode = 1 − q_ion on the slab, + q_ion once the ion is labelled a member
    member = TAU >= 0.6 - 1e-9
    anode = 1.0 - (0.7 - 0.6 * TAU) + np.where(member, 0.7 - 0.6 * TAU, 0.0)
    late = TAU >= 0.5 - 1e-9
    assert p["anode_charge_mean_last_half_e"] == pytest.approx(
        anode[late].mean(), abs=ATOL
    )
    assert q["charge_mean_last_half_e"] == pytest.approx(0.33, abs=ATOL)
    assert q["member_fraction"] == 0.0 and q["network_fraction"] == 0.0
    assert q["height_change_A"] == pytest.approx(0.0, abs=ATOL)
    assert q["anode_potential_V"] is None  # NaN written as null (strict JSON)
    d = report["difference"]
    assert d["charge_mean_last_half_e"] == pytest.approx(0.25 - 0.33, abs=ATOL)
    assert d["member_fraction"] == pytest.approx(5 / 11, abs=1e-12)
    assert d["height_final_A"] == pytest.approx(1.8 - 3.0, abs=ATOL)
    # Files: strict JSON equal to the return value, the numbers in the text.
    text = (out / "m.json").read_text()
    assert json.loads(text, parse_constant=pytest.fail) == report
    series = report["runs"]["constp"]["series"]
    assert np.allclose(series["charge_e"], 0.7 - 0.6 * TAU, atol=ATOL)
    assert series["member"] == [int(m) for m in member]
    md = (out / "m.md").read_text()
    for number in ("+0.250 e", "+0.330 e", "3.00 → 1.80 Å", "-0.080 e", "45 %"):
        assert number in md
    assert (out / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_ion_that_does_nothing(tmp_path):
    """The same trajectory as both runs: every difference is zero."""
    rng = np.random.default_rng(0)
    charge = 0.33 + 0.01 * rng.standard_normal(TAU.size)
    height = 3.0 + 0.05 * rng.standard_normal(TAU.size)
    frames = _frames(charge, height, np.zeros(TAU.size, bool))
    path = _write(tmp_path / "same.extxyz", frames)
    report = miniature_report(path, path, tmp_path / "m.json", tmp_path / "m.md")
    for key, value in report["difference"].items():
        assert value == pytest.approx(0.0, abs=1e-12), key
    assert report["runs"]["constp"]["headline"]["member_fraction"] == 0.0
    assert not (tmp_path / "m.png").exists()


def test_lateral_distance_is_minimum_image():
    """Shifted by 0.4 Å, or by a whole lattice vector less 0.4 Å: same hollow."""
    a = li_ion_at_anode().info["a_A"]
    for shift, expected in ((0.4, 0.4), (a - 0.4, 0.4), (0.5 * a, 0.5 * a)):
        frames = _frames(
            np.full(TAU.size, 0.5),
            np.full(TAU.size, 3.0),
            np.zeros(TAU.size, bool),
            dx=shift * TAU,
        )
        track = MiniatureIon(frames).run()
        assert track.results["series"]["lateral_A"][-1] == pytest.approx(
            expected, abs=1e-9
        )
        assert track.results["series"]["lateral_A"][0] == pytest.approx(0.0, abs=1e-9)


def test_ion_found_without_the_info_key():
    frames = _frames(np.full(11, 0.5), np.full(11, 3.0), np.zeros(11, bool))
    ion = frames[0].info.pop(ION_INFO)
    assert MiniatureIon(frames).ion == ion
    frames[0].arrays["molecule"][:] = "-"
    with pytest.raises(ValueError, match="cannot find the ion"):
        MiniatureIon(frames)
    assert MiniatureIon(frames, ion=ion).ion == ion
    with pytest.raises(ValueError, match="ion"):
        MiniatureIon(frames, ion=ion + 1)  # P, not Li


def test_mismatched_runs(runs, tmp_path):
    frames = _frames(np.full(11, 0.5), np.full(11, 3.0), np.zeros(11, bool))
    other = [f[:-1] for f in frames]  # one F fewer
    path = _write(tmp_path / "other.extxyz", other)
    with pytest.raises(ValueError, match="not runs of one cell"):
        miniature_report(runs[0], path, tmp_path / "m.json", tmp_path / "m.md")
    assert not (tmp_path / "m.json").exists()


def test_cli(runs, tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["miniature-report", "--constp", str(runs[0]), "--constq", str(runs[1])]
    argv += ["--json", str(out / "m.json"), "--md", str(out / "m.md")]
    assert main(argv) == 0
    assert "ConstP: q(0) +0.700 e" in capsys.readouterr().out
    assert json.loads((out / "m.json").read_text())["ion"] == 45
    assert main([*argv[:2], str(tmp_path / "missing.extxyz"), *argv[3:]]) == 2
    assert "trajectory file not found" in capsys.readouterr().err
