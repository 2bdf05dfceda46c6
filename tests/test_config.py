"""The config contract: one schema, defaults from it alone, errors naming the key.

Every shipped config resolves; every bad value is refused by the package's
validator with one line that names the source and the key; the command-line
tools refuse a bad config with exit status 2 before writing anything; the
library's settings objects carry the schema's defaults (the schema is their
one home).
"""

import copy
import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from constpot.cli import main
from constpot.config import (
    SCHEMA_PATH,
    ConfigError,
    load_config,
    resolve_config,
    schema,
)

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [
    ROOT / "config" / "config.yaml",
    ROOT / "config" / "paper.yaml",
    ROOT / ".test" / "config" / "config.yaml",
]


def _demo():
    return yaml.safe_load(CONFIGS[0].read_text())


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.parent.name + "/" + p.name)
def test_shipped_configs_resolve(path):
    config = load_config(path)
    assert config["seed"] == 0
    assert config["md"]["systems"]  # every shipped config runs MD


def test_workflow_schema_is_the_package_schema():
    """workflow/schemas/ holds a link to the package's schema, not a copy."""
    link = ROOT / "workflow" / "schemas" / "config.schema.yaml"
    assert link.is_symlink()
    assert link.resolve() == SCHEMA_PATH.resolve()


def test_defaults_filled_from_the_schema():
    config = resolve_config({"seed": 0, "md": {"n_steps": 5}}, "test", partial=True)
    md_schema = schema()["properties"]["md"]["properties"]
    assert config["md"]["n_steps"] == 5
    for key in ("timestep_fs", "tol", "method", "on_guard"):
        if "default" in md_schema[key]:
            assert config["md"][key] == md_schema[key]["default"], key
    assert config["md"]["guards"]["max_force_eV_A"] == 50.0  # nested default
    assert config["train"]["fit"] == {"weight": 1e-4, "max_iter": 200}


def test_resolve_does_not_modify_its_input():
    config = _demo()
    before = copy.deepcopy(config)
    resolve_config(config, "demo")
    assert config == before


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("md", "n_step"), 10, r"md\.n_step: unknown key \(did you mean n_steps\?\)"),
        (("md", "n_steps"), 10.0, r"md\.n_steps: expected integer, got 10\.0"),
        (("md", "n_steps"), True, r"md\.n_steps: expected integer"),
        (("md", "counter_potential_V"), float("nan"), "md.counter_potential_V: .*nan"),
        (
            ("md", "anode_potentials_V"),
            [0.0, float("inf")],
            r"md\.anode_potentials_V\[1\]: expected a finite",
        ),
        (("qeq", "method"), "foo", r"qeq\.method: 'foo' is not one of"),
        (("qeq", "tol"), -1, r"qeq\.tol: -1 is less than"),
        (("qeq", "slab"), "yes", r"qeq\.slab: expected boolean"),
        (("seed",), -1, r"seed: -1 is less than"),
        (("qeq", "tolerance"), 1e-6, r"qeq\.tolerance: unknown key"),
        (("md", "systems"), ["no_sei", "nope"], r"md\.systems\[1\]: no system 'nope'"),
        (("label", "systems"), ["x"], r"label\.systems\[0\]: no system 'x'"),
        (("md", "n_models"), 3, r"md\.n_models: 3 models asked, but train\.seeds"),
        (("systems", "a;touch x"), {}, r"systems: 'a;touch x' does not match"),
        (("systems", "../up"), {}, r"systems: '\.\./up' does not match"),
    ],
)
def test_bad_value_names_the_key(path, value, message):
    config = _demo()
    node = config
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=rf"^my\.yaml: {message}"):
        resolve_config(config, "my.yaml")


def test_partial_config_checks_what_is_present():
    assert resolve_config({"md": {"n_steps": 3}}, "job", partial=True)
    with pytest.raises(ConfigError, match=r"md\.n_steps: expected integer"):
        resolve_config({"md": {"n_steps": "3"}}, "job", partial=True)
    required = r"label: '(n_shards|labeller)' is a required"
    with pytest.raises(ConfigError, match=required):
        resolve_config({"seed": 0, "qeq": {}, "label": {"counts": {}}}, "full")


def test_cli_strings_are_read_as_yaml():
    """``snakemake --config md='{n_steps: 100}'`` passes nested scalars as text."""
    config = _demo()
    config["md"].update(n_steps="100", tol="1e-7", constq="false")
    config["analysis"] = {"deposit_max_anions": "2", "smearing_A": "0.5"}
    resolved = resolve_config(config, "cli", cli_strings=True)
    assert resolved["md"]["n_steps"] == 100
    assert resolved["md"]["tol"] == 1e-7
    assert resolved["md"]["constq"] is False
    assert resolved["analysis"]["deposit_max_anions"] == 2
    assert resolved["analysis"]["smearing_A"] == 0.5  # "qeq" or a number
    with pytest.raises(ConfigError, match=r"md\.(n_steps|tol): expected"):
        resolve_config(config, "cli")  # the files' own values stay strict
    config["md"]["n_steps"] = "many"
    with pytest.raises(ConfigError, match=r"md\.n_steps: expected integer"):
        resolve_config(config, "cli", cli_strings=True)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("seed: 0\nmd:\n  n_steps: [1, 2\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: line \d+: not valid YAML"):
        load_config(path)


def test_missing_section_and_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in _demo().items() if k != "md"}))
    with pytest.raises(ConfigError, match=r"c\.yaml: no `md:` section"):
        load_config(path, "md")
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.yaml")


def test_md_settings_defaults_are_the_schema_defaults():
    """MDSettings (the library API) carries the schema's defaults, not its own."""
    from constpot.md import MDSettings

    md_schema = schema()["properties"]["md"]["properties"]
    checked = 0
    for field in dataclasses.fields(MDSettings):
        entry = md_schema.get(field.name) or md_schema["guards"]["properties"].get(
            field.name
        )
        if entry is None or "default" not in entry:
            continue
        default = field.default
        if default is dataclasses.MISSING:
            default = field.default_factory()
        assert default == entry["default"], field.name
        checked += 1
    assert checked >= 15


def _write(tmp_path, config, name="my.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            [
                "md",
                "{cfg}",
                "--structure",
                "{s}",
                "--mode",
                "constq",
                "--outdir",
                "{o}",
            ],
            r"my\.yaml: md\.n_step: unknown key",
        ),
        (
            ["sample", "{cfg}", "--interfaces", "{s}", "--out", "{o}/f.extxyz"],
            r"my\.yaml: md\.n_step: unknown key",
        ),
        (
            ["build", "{cfg}", "--system", "no_sei", "--out", "{o}/i.extxyz"],
            r"my\.yaml: md\.n_step: unknown key",
        ),
        (
            ["split", "{cfg}", "--dataset", "{s}", "--out", "{o}/s.json"],
            r"my\.yaml: md\.n_step: unknown key",
        ),
        (
            ["summarise", "{cfg}", "--json", "{o}/a", "--md", "{o}/b", "--claims", "x"],
            r"my\.yaml: md\.n_step: unknown key",
        ),
    ],
    ids=lambda a: a[0] if isinstance(a, list) else "",
)
def test_cli_refuses_a_typo_before_any_work(tmp_path, capsys, argv, message):
    config = _demo()
    config["md"]["n_step"] = 10
    cfg = _write(tmp_path, config)
    out = tmp_path / "out"
    structure = tmp_path / "s.extxyz"
    structure.write_text("")
    argv = [a.format(cfg=cfg, s=structure, o=out) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert pytest.importorskip("re").search(message, err[0]), err
    assert not out.exists()


def test_cli_config_json_and_file_give_the_same_config(tmp_path, capsys):
    """`--config-json` (what the workflow passes) and a file resolve alike."""
    from constpot.config import config_from_args

    config = _demo()
    path = _write(tmp_path, config)

    class Args:
        pass

    a, b = Args(), Args()
    a.config, a.config_json = str(path), None
    b.config, b.config_json = None, json.dumps({"md": config["md"], "seed": 0})
    assert config_from_args(a, "md")["md"] == config_from_args(b, "md")["md"]
    b.config = str(path)
    with pytest.raises(ConfigError, match="not both"):
        config_from_args(b, "md")
    b.config, b.config_json = None, "{not json"
    with pytest.raises(ConfigError, match="--config-json: not JSON"):
        config_from_args(b, "md")


@pytest.mark.parametrize("path", CONFIGS[:2], ids=["demo", "paper"])
def test_shipped_configs_run_the_papers_model(path):
    """The defaults are the paper's physics; every change is a named variant."""
    config = load_config(path)
    assert config["md"]["metallic_exclude"] == []  # ≥ 8 Li within 3.5 Å, nothing else
    assert config["md"]["metallic_cutoff_A"] == 3.5
    assert config["train"]["molecule_charges"] == {}  # one total-charge constraint
    assert config["train"]["qeq_table"] == "paper"
    assert config["variants"], "the demo and paper configs run a variant beside"
    assert "paper" not in config["variants"]
    md_schema = schema()["properties"]["md"]["properties"]
    train_schema = schema()["properties"]["train"]["properties"]
    assert md_schema["metallic_exclude"]["default"] == []
    assert md_schema["metallic_cutoff_A"]["default"] == 3.5
    assert train_schema["molecule_charges"]["default"] == {}


def test_variant_names_and_keys():
    config = _demo()
    config["variants"] = {"paper": {}}
    with pytest.raises(ConfigError, match="'paper' is the paper's model itself"):
        resolve_config(config, "v.yaml")
    config["variants"] = {"x": {"md": {"tol": 1e-3}}}
    with pytest.raises(ConfigError, match=r"variants\.x\.md\.tol: unknown key"):
        resolve_config(config, "v.yaml")
    config["variants"] = {"x": {"md": {"systems": ["ghost"]}}}
    with pytest.raises(ConfigError, match=r"variants\.x\.md\.systems\[0\]: no system"):
        resolve_config(config, "v.yaml")
