"""Static checks of the Snakemake workflow: lint, config schema, formatting.

These do not run any job (dry runs only) and take a few seconds in total.
"""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CONFIGS = [ROOT / "config" / "config.yaml", ROOT / "config" / "paper.yaml"]

# What `snakemake --lint` (9.x) prints: one "Lints for rule <name> ..." or
# "Lints for snakefile <path>:" header per offending item, and this line
# when nothing is found.
LINT_HEADER = "Lints for "
LINT_CLEAN = "Congratulations, your workflow is in a good condition!"


def _snakemake_lint(cwd):
    proc = subprocess.run(
        [str(BIN / "snakemake"), "-n", "--lint"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout + proc.stderr


def _load(path):
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_lint_detects_problems(tmp_path):
    # Control for test_workflow_lint_clean: a rule without log/conda and with
    # an absolute path must produce lint headers and a non-zero exit code, so
    # the absence of those markers below really means a clean lint.
    (tmp_path / "Snakefile").write_text(
        "rule a:\n"
        "    output:\n"
        '        "/tmp/a.txt",\n'
        "    shell:\n"
        '        "touch {output}"\n'
    )
    code, out = _snakemake_lint(tmp_path)
    assert code != 0, out
    assert f"{LINT_HEADER}rule a " in out, out
    assert LINT_CLEAN not in out, out


def test_workflow_lint_clean():
    code, out = _snakemake_lint(ROOT)
    assert code == 0, out
    assert LINT_HEADER not in out, out
    assert LINT_CLEAN in out, out


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    validate(_load(path), str(SCHEMA))


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("qeq", "method", "foo"),
        ("qeq", "tol", -1),
        ("qeq", "accuracy", 1.0),
        ("qeq", "normal", "w"),
        ("qeq", "device", "tpu"),
        ("qeq", "slab", "yes"),
        (None, "seed", -1),
    ],
)
def test_config_bad_value_names_key(section, key, value):
    config = copy.deepcopy(_load(CONFIGS[0]))
    target = config[section] if section else config
    target[key] = value
    # jsonschema reports the failing schema path, e.g.
    # schema['properties']['qeq']['properties']['method'].
    with pytest.raises(WorkflowError, match=rf"\['properties'\]\['{key}'\]"):
        validate(config, str(SCHEMA))


def test_config_unknown_key_rejected():
    config = copy.deepcopy(_load(CONFIGS[0]))
    config["qeq"]["tolerance"] = 1e-6
    with pytest.raises(WorkflowError, match="'tolerance' was unexpected"):
        validate(config, str(SCHEMA))


def test_snakefmt_clean():
    files = [ROOT / "Snakefile", *sorted((ROOT / "workflow" / "rules").glob("*.smk"))]
    assert len(files) > 1
    proc = subprocess.run(
        [str(BIN / "snakefmt"), "--check", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_default_workflow_end_to_end(tmp_path):
    """`snakemake --cores 2` on a copy of the repo runs every stage, then the report.

    Scaled down: three labelled frames per category, two training epochs, 20 MD
    steps for two systems at 0 and −6 V plus the constant-charge control.
    Physics checked on the written summaries: Σq = 0, the anode total falls
    and the counter-electrode total rises when the paper's potentials
    (anode −6 V, counter +2 V) replace constant charge, in the single-point
    qeq stage and in every MD run's first frame.
    """
    import json
    import os
    import shutil

    from ase.io import read

    for name in ("Snakefile", "workflow", "config", "data", "envs"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name)
        else:
            shutil.copy(src, tmp_path / name)
    # The demo labels ~160 frames (minutes); here three per category, so that
    # the stratified split has validation and test frames.
    cfg_path = tmp_path / "config" / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["label"]["counts"] = dict.fromkeys(cfg["label"]["counts"], 3)
    cfg["label"]["n_shards"] = 2
    cfg["train"].update(max_epochs=2, max_minutes=2)
    cfg["md"].update(
        systems=["mosaic_amorphous", "crystalline"],
        anode_potentials_V=[0.0, -6.0],
        n_steps=20,
        traj_every=5,
        checkpoint_every=10,
        log_every=10,
        electrode_every=5,
        relax_steps=10,
    )
    cfg_path.write_text(yaml.safe_dump(cfg))
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run(
        [str(BIN / "snakemake"), "--cores", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = subprocess.run(
        [str(BIN / "snakemake"), "--cores", "1", "--report", "results/report.html"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.returncode == 0, report.stdout[-3000:] + report.stderr[-3000:]
    assert (tmp_path / "results" / "report.html").stat().st_size > 0
    # Every configured system is built, with its picture and summary.
    config = yaml.safe_load((tmp_path / "config" / "config.yaml").read_text())
    for system in config["systems"]:
        folder = tmp_path / "results" / "build" / system
        for name in ("interface.extxyz", "interface.png", "interface.json"):
            assert (folder / name).stat().st_size > 0, (system, name)
        info = json.loads((folder / "interface.json").read_text())
        assert info["n_atoms"] == sum(info["regions"].values())
    # The labelled dataset holds every frame that did not fail.
    label = tmp_path / "results" / "label"
    n_data = len(read(label / "dataset.extxyz", index=":"))
    n_fail = len((label / "failures.csv").read_text().splitlines()) - 1
    assert n_data + n_fail == sum(cfg["label"]["counts"].values())
    qeq = tmp_path / "results" / "qeq"
    for path in ("charge_profile.png", "electrode_totals.csv"):
        assert (qeq / path).stat().st_size > 0
    summary = {
        mode: json.loads((qeq / mode / "summary.json").read_text())
        for mode in ("constq", "constp")
    }
    for data in summary.values():
        assert abs(data["total_charge_e"]) < 1e-8  # CG to tol 1e-8
        assert data["residual"] <= 1e-8
    anode = {m: d["parts"]["anode"]["total_e"] for m, d in summary.items()}
    counter = {m: d["parts"]["counter"]["total_e"] for m, d in summary.items()}
    assert anode["constp"] < anode["constq"]
    assert counter["constp"] > counter["constq"]
    # Training: two packaged models with their QEq settings, metrics per category.
    train = tmp_path / "results" / "train"
    for seed in cfg["train"]["seeds"]:
        assert (train / "models" / str(seed) / "model.nequip.zip").stat().st_size > 0
        assert (train / "models" / str(seed) / "qeq.json").stat().st_size > 0
    assert "category" in (train / "metrics.csv").read_text().splitlines()[0]
    # MD: every run of the sweep, with charges that respond to the potential.
    md = {}
    for system in cfg["md"]["systems"]:
        for run in ("constp_0.0V_r0", "constp_-6.0V_r0", "constq_none_r0"):
            folder = tmp_path / "results" / "md" / system / run
            frames = read(folder / "traj.extxyz", index=":")
            assert len(frames) >= 2
            for frame in frames:
                assert abs(frame.get_charges().sum()) < 1e-5  # 8 decimals in file
            md[system, run] = frames[0].info["anode_charge_e"]
            assert json.loads((folder / "summary.json").read_text())
        assert md[system, "constp_-6.0V_r0"] < md[system, "constp_0.0V_r0"]
        assert md[system, "constp_-6.0V_r0"] < md[system, "constq_none_r0"]
    # Analysis: every figure, the summary and the claims.
    for name in ("summary.json", "summary.md", "paper_claims.md"):
        assert (tmp_path / "results" / name).stat().st_size > 0
    figures = sorted((tmp_path / "results" / "figures").glob("*.png"))
    assert len(figures) >= 9, figures
