# ruff: noqa: RUF005  (argv lists are split with + to fit the line length)
"""Bad input at the command line: one line on stderr, exit 2, nothing written.

A table of broken configs, structure files and arguments, each given to the
``constpot`` command that reads it. Every case must end with exit status 2
and exactly one stderr line that names the culprit (file, key or argument),
must not create its output, and must leave an earlier result in the output
folder byte for byte as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from ase.build import bcc100
from ase.io import write

from constpot.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
EARLIER = "an earlier result\n"


def _config(**changes) -> dict:
    """The demo config with dotted keys set (value None deletes the key)."""
    config = yaml.safe_load(yaml.safe_dump(DEMO))
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = config
        for part in parents:
            node = node[part]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return config


def _with_system(name: str) -> dict:
    config = _config()
    config["systems"][name] = {}
    return config


def _slab(tmp: Path) -> Path:
    atoms = bcc100("Li", size=(2, 2, 4), a=3.33, vacuum=8.0)
    atoms.pbc = True
    atoms.info.clear()  # ase.build's adsorbate_info does not go to extxyz
    path = tmp / "slab.extxyz"
    write(path, atoms)
    return path


#: name -> (files to write {name: text or dict (YAML)}, argv, stderr pattern).
#: In argv, {t} is the test's folder, {slab} a readable Li slab, {out} the
#: output folder (which holds an earlier result).
CASES: dict[str, tuple[dict, list[str], str]] = {
    # --- configs --------------------------------------------------------
    "unknown md key": (
        {"c.yaml": _config(**{"md.n_step": 10})},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"c\.yaml: md\.n_step: unknown key \(did you mean n_steps\?\)",
    ),
    "float for integer steps": (
        {"c.yaml": _config(**{"md.n_steps": 10.0})},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"md\.n_steps: expected integer, got 10\.0",
    ),
    "negative steps": (
        {"c.yaml": _config(**{"md.n_steps": -5})},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"md\.n_steps: -5 is less than",
    ),
    "nan potential in config": (
        {"c.yaml": _config(**{"md.counter_potential_V": float("nan")})},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"md\.counter_potential_V: expected a finite number",
    ),
    "infinite temperature": (
        {"c.yaml": _config(**{"md.temperature_K": float("inf")})},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"md\.temperature_K: expected a finite number",
    ),
    "string for number": (
        {"c.yaml": _config(**{"md.timestep_fs": "fast"})},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"md\.timestep_fs: expected number, got 'fast'",
    ),
    "bad ensemble": (
        {"c.yaml": _config(**{"md.ensemble": "npt"})},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"md\.ensemble: 'npt' is not one of",
    ),
    "bad guard key": (
        {"c.yaml": _config(**{"md.guards": {"min_dist": 0.5}})},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"md\.guards\.min_dist: unknown key",
    ),
    "no md section": (
        {"c.yaml": _config(md=None)},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"c\.yaml: no `md:` section",
    ),
    "yaml syntax error": (
        {"c.yaml": "seed: 0\nmd: {n_steps: [1, 2\n"},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"c\.yaml: line \d+: not valid YAML",
    ),
    "config is a list": (
        {"c.yaml": "- 1\n- 2\n"},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"c\.yaml: expected a mapping of sections",
    ),
    "empty config": (
        {"c.yaml": ""},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"],
        r"c\.yaml: no `md:` section",
    ),
    "config file missing": (
        {},
        ["md", "{t}/absent.yaml", "--structure", "{slab}", "--mode=constq"],
        r"config file not found: .*absent\.yaml",
    ),
    "config not json": (
        {},
        ["md", "--config-json", "{{md:", "--structure", "{slab}", "--mode=constq"],
        r"--config-json: not JSON",
    ),
    "config file and json": (
        {"c.yaml": _config()},
        ["md", "{t}/c.yaml", "--config-json", "{{}}", "--structure", "{slab}"]
        + ["--mode=constq"],
        r"not both",
    ),
    "no config at all": (
        {},
        ["md", "--structure", "{slab}", "--mode=constq"],
        r"no config: give a YAML file or --config-json",
    ),
    "json section wrong type": (
        {},
        ["md", "--config-json", '{{"md": {{"n_steps": "ten"}}}}', "--structure"]
        + ["{slab}", "--mode=constq"],
        r"--config-json: md\.n_steps: expected integer",
    ),
    "system name with shell": (
        {"c.yaml": _with_system("x;touch pwned")},
        ["build", "{t}/c.yaml", "--system", "x;touch pwned", "--out"]
        + ["{out}/i.extxyz"],
        r"systems: 'x;touch pwned' does not match",
    ),
    "system name with path": (
        {"c.yaml": _with_system("../up")},
        ["build", "{t}/c.yaml", "--system", "../up", "--out", "{out}/i.extxyz"],
        r"systems: '\.\./up' does not match",
    ),
    "unknown system": (
        {"c.yaml": _config()},
        ["build", "{t}/c.yaml", "--system", "nope", "--out", "{out}/i.extxyz"],
        r"--system: no system 'nope'",
    ),
    "recipe wrong type": (
        {"c.yaml": _config(**{"systems.no_sei.li": {"layers": "six"}})},
        ["build", "{t}/c.yaml", "--system", "no_sei", "--out", "{out}/i.extxyz"],
        r"systems\.no_sei\.li\.layers: expected integer",
    ),
    "recipe unknown key": (
        {"c.yaml": _config(**{"systems.no_sei.sei": {"phse": "none"}})},
        ["build", "{t}/c.yaml", "--system", "no_sei", "--out", "{out}/i.extxyz"],
        r"systems\.no_sei\.sei\.phse: unknown key",
    ),
    "md system undefined": (
        {"c.yaml": _config(**{"md.systems": ["no_sei", "ghost"]})},
        ["build", "{t}/c.yaml", "--system", "no_sei", "--out", "{out}/i.extxyz"],
        r"md\.systems\[1\]: no system 'ghost'",
    ),
    "more models than seeds": (
        {"c.yaml": _config(**{"md.n_models": 5})},
        ["build", "{t}/c.yaml", "--system", "no_sei", "--out", "{out}/i.extxyz"],
        r"md\.n_models: 5 models asked, but train\.seeds trains 2",
    ),
    "label counts wrong type": (
        {"c.yaml": _config(**{"label.counts": {"li_bulk": 1.5}})},
        ["sample", "{t}/c.yaml", "--interfaces", "{slab}", "--out", "{out}/f.xyz"],
        r"label\.counts\.li_bulk: expected integer",
    ),
    "label strain too large": (
        {"c.yaml": _config(**{"label.strain": 0.5})},
        ["sample", "{t}/c.yaml", "--interfaces", "{slab}", "--out", "{out}/f.xyz"],
        r"label\.strain: 0\.5 is greater than the maximum",
    ),
    "labeller kind unknown": (
        {"c.yaml": _config(**{"label.labeller": {"kind": "dftb"}})},
        ["label", "{t}/c.yaml", "--frames", "{slab}", "--shard", "0", "--out"]
        + ["{out}/s.extxyz", "--failures", "{out}/f.csv"],
        r"label\.labeller\.kind: 'dftb' is not one of",
    ),
    "train split fraction": (
        {"c.yaml": _config(**{"train.split": {"train": 1.5}})},
        ["split", "{t}/c.yaml", "--dataset", "{slab}", "--out", "{out}/s.json"],
        r"train\.split\.train: 1\.5 is greater than the maximum",
    ),
    "train preset unknown": (
        {"c.yaml": _config(**{"train.preset": "huge"})},
        ["split", "{t}/c.yaml", "--dataset", "{slab}", "--out", "{out}/s.json"],
        r"train\.preset: 'huge' is not one of",
    ),
    "qeq accuracy out of range": (
        {"c.yaml": _config(**{"qeq.accuracy": 1.0})},
        ["qeq-table", "{t}/c.yaml", "--out", "{out}/q.json"],
        r"qeq\.accuracy: 1\.0 is greater than or equal to the maximum",
    ),
    "molecule charge not a number": (
        {"c.yaml": _config(**{"train.molecule_charges": {"EC": "zero"}})},
        ["qeq-table", "{t}/c.yaml", "--out", "{out}/q.json"],
        r"train\.molecule_charges\.EC: expected number",
    ),
    "analysis window": (
        {"c.yaml": _config(**{"analysis.window": 2.0})},
        ["summarise", "{t}/c.yaml", "--json", "{out}/s.json", "--md"]
        + ["{out}/s.md", "--claims", "{out}/c.md"],
        r"analysis\.window: 2\.0 is greater than the maximum",
    ),
    # --- structure files -----------------------------------------------
    "structure missing": (
        {"c.yaml": _config()},
        ["md", "{t}/c.yaml", "--structure", "{t}/none.extxyz", "--mode=constq"]
        + ["--outdir", "{out}"],
        r"structure file not found: .*none\.extxyz",
    ),
    "structure empty": (
        {"c.yaml": _config(), "s.extxyz": ""},
        ["md", "{t}/c.yaml", "--structure", "{t}/s.extxyz", "--mode=constq"]
        + ["--outdir", "{out}"],
        r"s\.extxyz: empty file",
    ),
    "structure truncated": (
        {
            "c.yaml": _config(),
            "s.extxyz": '5\nProperties=species:S:1:pos:R:3 pbc="F F F"\n'
            "Li 0 0 0\nLi 1 1 1\n",
        },
        ["md", "{t}/c.yaml", "--structure", "{t}/s.extxyz", "--mode=constq"]
        + ["--outdir", "{out}"],
        r"s\.extxyz: cannot read \(.*expected 5",
    ),
    "structure garbage": (
        {"c.yaml": _config(), "s.extxyz": "not a structure\n"},
        ["md", "{t}/c.yaml", "--structure", "{t}/s.extxyz", "--mode=constq"]
        + ["--outdir", "{out}"],
        r"s\.extxyz: cannot read",
    ),
    "structure nan position": (
        {
            "c.yaml": _config(),
            "s.extxyz": '2\nProperties=species:S:1:pos:R:3 pbc="F F F"\n'
            "Li 0 0 0\nLi nan 1 1\n",
        },
        ["md", "{t}/c.yaml", "--structure", "{t}/s.extxyz", "--mode=constq"]
        + ["--outdir", "{out}"],
        r"s\.extxyz: frame 0: atom index 1 has a non-finite position",
    ),
    "qeq structure empty": (
        {"s.extxyz": ""},
        ["qeq", "{t}/s.extxyz", "--out", "{out}/q.extxyz"],
        r"s\.extxyz: empty file",
    ),
    "qeq structure missing": (
        {},
        ["qeq", "{t}/none.vasp", "--out", "{out}/q.extxyz"],
        r"structure file not found",
    ),
    "sample interface truncated": (
        {"c.yaml": _config(), "s.extxyz": "3\n\nLi 0 0 0\n"},
        ["sample", "{t}/c.yaml", "--interfaces", "{t}/s.extxyz", "--out"]
        + ["{out}/f.xyz"],
        r"s\.extxyz: cannot read",
    ),
    "dataset empty": (
        {"c.yaml": _config(), "d.extxyz": ""},
        ["split", "{t}/c.yaml", "--dataset", "{t}/d.extxyz", "--out"]
        + ["{out}/s.json"],
        r"d\.extxyz: empty file",
    ),
    "targets qeq settings malformed": (
        {"q.json": "{{}}", "d.extxyz": "1\n\nLi 0 0 0\n"},
        ["targets", "--dataset", "{t}/d.extxyz", "--qeq-settings", "{t}/q.json"]
        + ["--out", "{out}/t.extxyz"],
        r"q\.json: expected a mapping with key 'params'",
    ),
    # --- arguments ------------------------------------------------------
    "potential not a number": (
        {"c.yaml": _config()},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constp"]
        + ["--potential=abc", "--outdir", "{out}"],
        r"--potential: expected volts like -6\.0V",
    ),
    "constp without potential": (
        {"c.yaml": _config()},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constp"]
        + ["--potential=none", "--outdir", "{out}"],
        r"--potential: constp needs an anode potential",
    ),
    "constq with potential": (
        {"c.yaml": _config()},
        ["md", "{t}/c.yaml", "--structure", "{slab}", "--mode=constq"]
        + ["--potential=-1V", "--outdir", "{out}"],
        r"--potential: constq applies no potential",
    ),
    "qeq potentials without electrodes": (
        {},
        ["qeq", "{slab}", "--electrodes", "none", "--anode-potential=-1"]
        + ["--out", "{out}/q.extxyz"],
        r"need electrodes",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_exit_2_nothing_written(name, tmp_path, capsys):
    files, argv, pattern = CASES[name]
    for fname, content in files.items():
        text = content if isinstance(content, str) else yaml.safe_dump(content)
        (tmp_path / fname).write_text(text.replace("{{}}", "{}"))
    out = tmp_path / "out"
    out.mkdir()
    earlier = out / "earlier.txt"
    earlier.write_text(EARLIER)
    slab = _slab(tmp_path)
    args = [a.format(t=tmp_path, slab=slab, out=out) for a in argv]
    if args[0] == "md" and "--outdir" not in args:
        args += ["--outdir", str(out)]
    before = sorted(p.name for p in tmp_path.iterdir())

    code = main(args)

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(err) == 1, err
    assert re.search(pattern, err[0]), (pattern, err[0])
    assert err[0].startswith(f"constpot {args[0]}: error: ")
    # nothing new beside the inputs, and the earlier result untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert sorted(p.name for p in out.iterdir()) == ["earlier.txt"]
    assert earlier.read_text() == EARLIER


def test_the_table_is_large():
    assert len(CASES) >= 40
    kinds = {argv[0] for _, argv, _ in CASES.values()}
    assert {"md", "build", "sample", "qeq", "split", "label"} <= kinds
    assert np.isfinite(len(CASES))
