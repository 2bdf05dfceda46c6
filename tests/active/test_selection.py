"""Candidate selection: cap, round robin, step gap, determinism, diversity."""

import numpy as np
from ase.io import read, write
from ase.neighborlist import neighbor_list

from constpot.active import (
    ActiveSettings,
    farthest_point_order,
    pair_histograms,
    read_exploration,
    run_order,
    select_frames,
    select_iteration,
)
from constpot.active.keys import (
    ACTIVE_CATEGORY,
    DEVIATION,
    ITERATION,
    RUN,
    active_sample_index,
)
from constpot.keys import CATEGORY, SAMPLE_INDEX, STEP, SYSTEM, TOTAL_CHARGE

from .conftest import TOY_CHARGES, write_run

#: The trust window these tests were written for (eV/Å).
WINDOW = {"trust_lo_eV_A": 0.05, "trust_hi_eV_A": 0.3}


#: Candidates everywhere (0.05 <= σ < 0.3), with a maximum at a known frame.
RAMP = [0.06, 0.08, 0.1, 0.12, 0.29, 0.14, 0.16, 0.18, 0.2, 0.22, 0.24, 0.26]


def _runs(tmp_path, n_runs=3, sigma=RAMP):
    paths = [
        write_run(tmp_path, f"sys{r % 2}", f"constq_T{300 + 100 * r}K", sigma, seed=r)
        for r in range(n_runs)
    ]
    return [read_exploration(p) for p in paths]


def test_cap_and_round_robin(tmp_path):
    runs = _runs(tmp_path)
    settings = ActiveSettings(**WINDOW, max_candidates=7, min_step_gap=0)
    picks = select_frames(runs, settings, seed=0, iteration=0)
    assert len(picks) == 7
    per_run = np.bincount([r for r, _ in picks], minlength=3)
    assert per_run.max() - per_run.min() <= 1  # spread evenly over runs
    # each round visits every run once, in one fixed order
    first_round = [r for r, _ in picks[:3]]
    assert sorted(first_round) == [0, 1, 2]
    assert [r for r, _ in picks[3:6]] == first_round


def test_round_robin_order_is_system_then_condition(tmp_path):
    runs = _runs(tmp_path)
    picks = select_frames(
        runs, ActiveSettings(**WINDOW, max_candidates=3), seed=0, iteration=0
    )
    keys = sorted((r.system, r.condition) for r in runs)
    order = [(runs[r].system, runs[r].condition) for r, _ in picks]
    start = keys.index(order[0])
    assert order == keys[start:] + keys[:start]


def test_highest_deviation_first_and_step_gap(tmp_path):
    runs = _runs(tmp_path, n_runs=1)
    settings = ActiveSettings(**WINDOW, max_candidates=12, min_step_gap=25)
    order = run_order(runs[0], settings)
    assert order[0] == int(np.argmax(RAMP))  # σ = 0.29 at step 40
    steps = runs[0].steps[order]
    gaps = np.abs(steps[:, None] - steps[None, :])[~np.eye(len(steps), dtype=bool)]
    assert gaps.min() >= 25
    # frames every 10 steps, gap 25: at most one frame in three is pickable
    assert len(order) <= -(-len(RAMP) // 3)


def test_only_candidates_are_picked(tmp_path):
    sigma = [0.01, 0.02, 0.1, 0.5, 0.2, 0.04, 0.3, 0.299]
    run = read_exploration(write_run(tmp_path, "s", "constq_T300K", sigma))
    order = run_order(run, ActiveSettings(**WINDOW, max_candidates=10, min_step_gap=0))
    assert sorted(order) == [2, 4, 7]  # 0.05 <= σ < 0.3
    assert order[0] == 7


def test_same_seed_same_picks_and_seed_moves_the_start(tmp_path):
    runs = _runs(tmp_path)
    settings = ActiveSettings(**WINDOW, max_candidates=2, min_step_gap=0)
    a = select_frames(runs, settings, seed=3, iteration=1)
    assert a == select_frames(runs, settings, seed=3, iteration=1)
    starts = {
        select_frames(runs, settings, seed=s, iteration=1)[0][0] for s in range(20)
    }
    assert starts == {0, 1, 2}  # with the cap below the runs, every run gets a turn


def test_farthest_point_prefers_the_distinct_frame():
    """Known answer: after A, the far frame C beats A's near-duplicate B."""
    x = np.array([[0.0, 0.0], [0.01, 0.0], [1.0, 1.0], [0.5, 0.5]])
    assert farthest_point_order(x, 0, 2) == [0, 2]
    assert farthest_point_order(x, 0, 4) == [0, 2, 3, 1]


def test_fingerprint_tells_a_compressed_frame_from_a_rattled_one(tmp_path):
    """On real frames: a near-duplicate of the first pick loses to a distinct one."""

    def shape(k, atoms):
        if k == 2:  # structurally distinct: every distance shrinks by 20 %
            atoms.positions = 5.0 + 0.8 * (atoms.positions - 5.0)

    sigma = [0.2, 0.1, 0.1]  # frame 0 first; frame 1 is a rattled copy of it
    path = write_run(tmp_path, "s", "c", sigma, positions=shape, rattle_A=0.01)
    run = read_exploration(path)
    assert run_order(
        run, ActiveSettings(**WINDOW, max_candidates=2, min_step_gap=0)
    ) == [0, 2]
    h = pair_histograms(run.frames[0], [3, 6, 8, 9])
    n_pairs, n_bins = 10, 50
    assert h.shape == (n_pairs * n_bins,)
    # a full neighbour list: each pair counted from both ends, per atom
    assert h.sum() * len(run.frames[0]) == len(neighbor_list("i", run.frames[0], 5.0))


def test_selected_frames_carry_formal_charges_and_provenance(tmp_path, toy):
    runs = [
        write_run(tmp_path, "toy", "constq_T300K", RAMP, seed=1),
        write_run(
            tmp_path, "toy", "constp_-6.0V_T300K", RAMP, mode="constp",
            anode_potential_V=-6.0, seed=2,
        ),
    ]  # fmt: skip
    settings = ActiveSettings(**WINDOW, max_candidates=4, min_step_gap=0)
    sel = select_iteration(runs, settings, seed=0, iteration=2, structures={"toy": toy})
    assert len(sel.frames) == 4
    for k, ((r, i), frame) in enumerate(zip(sel.picks, sel.frames, strict=True)):
        md = sel.runs[r].frames[i]
        np.testing.assert_array_equal(frame.positions, md.positions)
        np.testing.assert_array_equal(frame.get_initial_charges(), TOY_CHARGES)
        assert frame.info[TOTAL_CHARGE] == round(sum(TOY_CHARGES)) == 1
        assert frame.info[CATEGORY] == ACTIVE_CATEGORY and frame.info[SYSTEM] == "toy"
        assert frame.info[SAMPLE_INDEX] == active_sample_index(2, k)
        assert frame.info[ITERATION] == 2
        assert frame.info[RUN] == sel.runs[r].name
        assert frame.info[STEP] == sel.runs[r].steps[i]
        assert frame.info[DEVIATION] == sel.runs[r].deviation_eV_A[i]
        assert frame.calc is None and "charges" not in frame.arrays
    out = tmp_path / "c.extxyz"
    write(out, sel.frames, format="extxyz")
    back = read(out, ":")
    for frame in back:
        assert round(frame.get_initial_charges().sum()) == frame.info[TOTAL_CHARGE]
        assert frame.calc is None  # no QEq charges smuggled in as results
        for key in ("region", "mol_id", "molecule", "frozen"):
            assert key in frame.arrays


def test_active_sample_indices_follow_the_sampled_frames():
    """Unique across iterations and after any sampled frame's index."""
    assert active_sample_index(0, 0) > 999_999
    assert active_sample_index(1, 0) > active_sample_index(0, 999_999 - 1)
