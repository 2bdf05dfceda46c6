"""The ``constpot`` command line: outputs, physics of the written files, errors.

The CLI is a thin layer over :mod:`constpot.qeq`; these tests check what it
writes (charges that sum to the total, electrode labels, the summary) and that
bad input fails with one clear line, exit status 2 and no output file.
"""

import argparse
import json

import numpy as np
import pytest
from ase.build import bcc100
from ase.io import read, write

from constpot import keys
from constpot.cli import build_parser, main


@pytest.fixture
def two_electrode_cell(tmp_path):
    """Two 4-layer bcc(100) Li slabs with an Li-F pair between, normal along y.

    Written as extxyz with the surface normal along y so that ``--normal y``
    is exercised; the slabs have bulk (8-neighbour) atoms in their middle.
    """
    lower = bcc100("Li", size=(3, 3, 4), a=3.51, vacuum=0.0)
    upper = lower.copy()
    gap = 14.0
    upper.positions[:, 2] += lower.positions[:, 2].max() + gap
    atoms = lower + upper
    mid = 0.5 * (lower.positions[:, 2].max() + upper.positions[:, 2].min())
    atoms += bcc100("Li", size=(1, 1, 1), a=3.51)[:1]
    atoms.positions[-1] = [2.0, 2.0, mid - 1.0]
    atoms.append("F")
    atoms.positions[-1] = [2.0, 2.0, mid + 1.0]
    z_top = atoms.positions[:, 2].max()
    cell = atoms.cell.array.copy()
    cell[2] = [0.0, 0.0, 3.0 * (z_top + 1.0)]
    atoms.set_cell(cell)
    # The gap's middle at L_z/2: the rule puts the lower half in the anode.
    atoms.positions[:, 2] += 0.5 * cell[2, 2] - mid
    atoms.pbc = True
    # Normal z -> y: new (x, y, z) = old (y, z, x), the inverse cyclic shift.
    order = [1, 2, 0]
    rotated = atoms.copy()
    rotated.set_cell(atoms.cell.array[order][:, order], scale_atoms=False)
    rotated.positions = atoms.positions[:, order]
    rotated.info.clear()  # ase.build's adsorbate_info does not go to extxyz
    path = tmp_path / "cell.extxyz"
    write(path, rotated)
    return path, atoms


def test_qeq_constant_potential_writes_charges_and_summary(
    two_electrode_cell, tmp_path
):
    """Σq = 0 in the file, and the anode (ψ = −1 V) is the lower-charged side."""
    path, atoms = two_electrode_cell
    out = {}
    for mode, flags in {
        "constq": [],
        "constp": ["--anode-potential=-1.0", "--counter-potential=1.0"],
    }.items():
        out[mode] = tmp_path / f"{mode}.extxyz"
        summary = tmp_path / f"{mode}.json"
        argv = [
            "qeq",
            str(path),
            "--normal",
            "y",
            "--slab",
            "--method",
            "dense",
            "--out",
            str(out[mode]),
            "--summary",
            str(summary),
            *flags,
        ]
        assert main(argv) == 0
        frame = read(out[mode])
        q = frame.get_charges()
        labels = frame.arrays[keys.ELECTRODE]
        # Σq = 0 up to the file's precision: extxyz keeps 8 decimals per atom.
        assert abs(q.sum()) < 5e-9 * len(q)
        # Normal rotated back to z: the cell's third vector is along z.
        np.testing.assert_allclose(frame.cell.array[2, :2], 0.0, atol=1e-12)
        assert set(np.unique(labels)) == {keys.NOT_ELECTRODE, keys.ANODE, keys.COUNTER}
        data = json.loads(summary.read_text())
        assert data["n_atoms"] == len(atoms)
        np.testing.assert_allclose(
            data["parts"]["anode"]["total_e"],
            q[labels == keys.ANODE].sum(),
            atol=5e-9 * len(q),  # the extxyz keeps 8 decimals per atom
        )
    q_q = read(out["constq"]).get_charges()
    q_p = read(out["constp"]).get_charges()
    labels = read(out["constp"]).arrays[keys.ELECTRODE]
    anode, counter = labels == keys.ANODE, labels == keys.COUNTER
    # Lowering the anode potential puts electrons on it; the counter gains +.
    assert q_p[anode].sum() < q_q[anode].sum()
    assert q_p[counter].sum() > q_q[counter].sum()


def test_plot_qeq_writes_totals(two_electrode_cell, tmp_path):
    """The totals table reproduces the electrode sums of the frames."""
    path, _ = two_electrode_cell
    frames = {}
    for mode, flags in {"constq": [], "constp": ["--anode-potential=-1.0"]}.items():
        frames[mode] = tmp_path / f"{mode}.extxyz"
        assert (
            main(
                [
                    "qeq",
                    str(path),
                    "--normal",
                    "y",
                    "--slab",
                    "--out",
                    str(frames[mode]),
                    *flags,
                ]
            )
            == 0
        )
    png, csv = tmp_path / "p.png", tmp_path / "t.csv"
    assert (
        main(
            [
                "plot-qeq",
                "--constq",
                str(frames["constq"]),
                "--constp",
                str(frames["constp"]),
                "--out",
                str(png),
                "--csv",
                str(csv),
            ]
        )
        == 0
    )
    assert png.stat().st_size > 10_000
    rows = [line.split(",") for line in csv.read_text().splitlines()[1:]]
    for mode in ("constq", "constp"):
        frame = read(frames[mode])
        q, labels = frame.get_charges(), frame.arrays[keys.ELECTRODE]
        anode = next(r for r in rows if r[0] == mode and r[1] == "anode")
        np.testing.assert_allclose(
            float(anode[3]), q[labels == keys.ANODE].sum(), atol=1e-7
        )  # CSV keeps 8 decimals


def _fails_cleanly(argv, out, capsys, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err
    assert not out.exists()
    assert list(out.parent.glob(f".{out.name}*")) == []  # no temp file left


def test_potentials_without_electrodes_fail_cleanly(
    two_electrode_cell, tmp_path, capsys
):
    path, _ = two_electrode_cell
    out = tmp_path / "out.extxyz"
    argv = [
        "qeq",
        str(path),
        "--slab",
        "--normal",
        "y",
        "--electrodes",
        "none",
        "--anode-potential=-1",
        "--out",
        str(out),
    ]
    _fails_cleanly(argv, out, capsys, "need electrodes")


def test_atom_outside_slab_fails_cleanly(two_electrode_cell, tmp_path, capsys):
    path, _ = two_electrode_cell
    frame = read(path)
    frame.positions[5, 1] = -1.0  # below the cell along the normal (y)
    bad = tmp_path / "bad.extxyz"
    write(bad, frame)
    out = tmp_path / "out.extxyz"
    argv = ["qeq", str(bad), "--slab", "--normal", "y", "--out", str(out)]
    _fails_cleanly(argv, out, capsys, "atom index 5")


def test_missing_structure_is_reported(tmp_path, capsys):
    out = tmp_path / "o.extxyz"
    assert main(["qeq", str(tmp_path / "nope.xyz"), "--out", str(out)]) == 2
    assert "not found" in capsys.readouterr().err
    assert not out.exists()


def test_parser_lists_subcommands():
    text = build_parser().format_help()
    assert "qeq" in text and "plot-qeq" in text


def test_every_stage_registers_its_subcommands_in_pipeline_order():
    """The workflow rules call these names; each constpot.cli.<stage> adds its own."""
    (sub,) = (
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    assert list(sub.choices) == [
        "build", "miniature-build",  # cli/build.py
        "sample", "label", "dataset",  # cli/label.py
        "qeq", "plot-qeq",  # cli/qeq.py
        "split", "qeq-table", "fit-qeq", "targets", "train", "package",
        "compile-model", "evaluate", "plot-train",  # cli/potential.py
        "md", "md-batch",  # cli/md.py
        "select-candidates", "active-report",  # cli/active.py
        "analyse-run", "figures", "validation-frames", "validation-report",
        "summarise", "compare-variants", "miniature-report",  # cli/analysis.py
    ]  # fmt: skip


def test_build_bad_recipe_fails_before_writing(tmp_path, capsys):
    """A recipe that cannot be built names the key; nothing is written."""
    config = tmp_path / "c.yaml"
    config.write_text(
        "systems:\n  thick:\n    preset: demo\n    cell_height_A: 30.0\n"
        "  odd:\n    sei: {components: {LiCl: 1.0}}\n"
    )
    for system, match in (
        ("thick", "cell_height_A"),
        ("odd", "LiCl"),
        ("nope", "nope"),
    ):
        out = tmp_path / f"{system}.extxyz"
        argv = ["build", str(config), "--system", system, "--out", str(out)]
        _fails_cleanly(argv, out, capsys, match)


def test_build_writes_interface(tmp_path):
    """The bare demo interface: written, neutral in formal charge, with its
    picture and summary."""
    config = tmp_path / "c.yaml"
    config.write_text("systems:\n  bare:\n    sei: {phase: none}\n")
    out, png, js = tmp_path / "i.extxyz", tmp_path / "i.png", tmp_path / "i.json"
    argv = [
        "build",
        str(config),
        "--system",
        "bare",
        "--out",
        str(out),
        "--picture",
        str(png),
        "--summary",
        str(js),
    ]
    assert main(argv) == 0
    atoms = read(out)
    assert atoms.get_initial_charges().sum() == pytest.approx(0.0, abs=1e-12)
    assert set(atoms.arrays["region"]) == {"anode", "electrolyte", "counter"}
    assert png.stat().st_size > 10_000
    assert json.loads(js.read_text())["n_atoms"] == len(atoms)
