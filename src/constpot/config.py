"""The workflow config: one schema, one validator, one resolved mapping.

Every config constpot reads, from a YAML file given to a command-line tool,
from the JSON the workflow passes to a job (``--config-json``) or from
Python, goes through :func:`resolve_config`: the mapping is checked against
the package's JSON schema (``constpot/schemas/config.schema.yaml``, the same
file the Snakefile validates with) and the schema's defaults are filled in.
Defaults live in the schema only: code reads a resolved mapping with
``section[key]``, never ``.get(key, default)``.

Beyond JSON Schema the resolver is strict where YAML is loose: an integer key
refuses ``10.0``, a number refuses NaN and infinity, and every system named
in ``label.systems`` or ``md.systems`` must be defined under ``systems:``.
Errors are :class:`ConfigError` (a ``ValueError``) with one line naming the
source and the key, e.g. ``my.yaml: md.n_step: unknown key``.

Example
-------
>>> from constpot.config import resolve_config
>>> cfg = resolve_config({"seed": 0, "md": {"n_steps": 10}}, "example",
...                      partial=True)
>>> cfg["md"]["timestep_fs"]           # the schema's default
1.0
"""

from __future__ import annotations

import copy
import difflib
import json
import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from .errors import SetupError
from .provenance import versions

__all__ = [
    "SCHEMA_PATH",
    "ConfigError",
    "add_config_arguments",
    "config_from_args",
    "labels_have_charges",
    "load_config",
    "resolve_config",
    "schema",
    "versions",
]

#: The config schema (JSON Schema draft 2020-12, YAML); the Snakefile
#: validates with this file too.
SCHEMA_PATH = Path(__file__).with_name("schemas") / "config.schema.yaml"


class ConfigError(SetupError):
    """A config that does not satisfy the schema; the message names the key."""


@cache
def _schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))


def schema() -> dict:
    """A copy of the config schema (a mapping, JSON Schema draft 2020-12)."""
    return copy.deepcopy(_schema())


def _strict_integer(checker, instance) -> bool:
    # YAML's 10.0 is a float: an integer key (steps, counts) refuses it.
    return isinstance(instance, int) and not isinstance(instance, bool)


def _finite_number(checker, instance) -> bool:
    if isinstance(instance, bool) or not isinstance(instance, (int, float)):
        return False
    return math.isfinite(instance)


_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
    {"integer": _strict_integer, "number": _finite_number}
)
_Checker = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, type_checker=_TYPES
)


def _with_defaults(cls):
    """Validator class that also writes each missing property's default."""
    properties = cls.VALIDATORS["properties"]

    def fill(validator, props, instance, subschema):
        if isinstance(instance, dict):
            for key, sub in props.items():
                if isinstance(sub, dict) and "default" in sub and key not in instance:
                    instance[key] = copy.deepcopy(sub["default"])
        yield from properties(validator, props, instance, subschema)

    return jsonschema.validators.extend(cls, {"properties": fill})


_Filler = _with_defaults(_Checker)


def _without_required(node):
    """The schema with every ``required`` list dropped (partial configs)."""
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


def _key_path(path: Iterable) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _message(error: jsonschema.ValidationError) -> str:
    where = _key_path(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema.get("properties") or {}).keys())
        extra = sorted(str(k) for k in error.instance if k not in allowed)
        if extra:
            key = ".".join(filter(None, (where, extra[0])))
            close = difflib.get_close_matches(extra[0], sorted(allowed), n=1)
            if close:
                hint = f" (did you mean {close[0]}?)"
            else:
                hint = f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
            return f"{key}: unknown key{hint}"
    if error.validator == "not" and error.validator_value == {"const": "paper"}:
        return f"{where}: 'paper' is the paper's model itself, not a variant name"
    if error.validator == "required":
        return f"{where or 'top level'}: {error.message}"
    if error.validator == "type" and isinstance(error.instance, float):
        if not math.isfinite(error.instance):
            return f"{where}: expected a finite number, got {error.instance}"
        return f"{where}: expected {error.validator_value}, got {error.instance!r}"
    if error.validator == "type":
        return f"{where}: expected {error.validator_value}, got {error.instance!r}"
    return f"{where or 'top level'}: {error.message}"


def labels_have_charges(labeller: dict) -> bool:
    """Whether a ``label.labeller`` config gives reference charges.

    Every electronic-structure labeller does; the teacher potential only
    with a ``charge_labeller``.
    """
    if labeller.get("kind") == "teacher":
        return bool(labeller.get("charge_labeller"))
    return True


def _check_charges_for_fit(config: dict, source: str) -> None:
    """A χ/J fit (``qeq_table: fit``) needs labels with reference charges."""
    labeller = (config.get("label") or {}).get("labeller")
    if not labeller or labels_have_charges(labeller):
        return
    tables = {"train.qeq_table": (config.get("train") or {}).get("qeq_table")}
    for variant, change in (config.get("variants") or {}).items():
        key = f"variants.{variant}.train.qeq_table"
        tables[key] = ((change or {}).get("train") or {}).get("qeq_table")
    for key, table in tables.items():
        if table == "fit":
            raise ConfigError(
                f"{source}: {key}: 'fit' needs reference charges, but "
                "label.labeller kind 'teacher' gives none (add "
                "label.labeller.charge_labeller, e.g. {kind: xtb})"
            )


def _check_references(config: dict, source: str) -> None:
    """Keys that name other keys: systems by name, models by seed.

    A partial config is checked as given (before defaults), so only against
    what it holds; a whole config after its defaults are filled in.
    """
    seeds = (config.get("train") or {}).get("seeds")
    n_models = (config.get("md") or {}).get("n_models")
    if seeds is not None and n_models is not None and n_models > len(seeds):
        raise ConfigError(
            f"{source}: md.n_models: {n_models} models asked, but train.seeds "
            f"trains {len(seeds)}"
        )
    _check_charges_for_fit(config, source)
    if "systems" not in config:
        return
    names = set(config["systems"] or {})
    sections = {"label": config.get("label"), "md": config.get("md")}
    for variant, change in (config.get("variants") or {}).items():
        sections[f"variants.{variant}.md"] = (change or {}).get("md")
    for section, values in sections.items():
        listed = (values or {}).get("systems") or []
        for index, name in enumerate(listed):
            if name not in names:
                raise ConfigError(
                    f"{source}: {section}.systems[{index}]: no system {name!r} "
                    f"under systems: (have: {', '.join(sorted(names)) or 'none'})"
                )


def _string_fix(error: jsonschema.ValidationError):
    """The YAML value of a string that a type or enum check refused, if it fits."""
    if not isinstance(error.instance, str) or error.validator not in ("type", "enum"):
        return None
    try:
        value = yaml.safe_load(error.instance)
    except yaml.YAMLError:
        return None
    for number in (int, float):
        if isinstance(value, str):  # YAML 1.1 reads 1e-7 as text
            try:
                value = number(value)
            except ValueError:
                pass
    if isinstance(value, str):
        return None
    if error.validator == "enum":
        return (value,) if value in error.validator_value else None
    kinds = error.validator_value
    kinds = [kinds] if isinstance(kinds, str) else kinds
    return (value,) if any(_TYPES.is_type(value, k) for k in kinds) else None


def _coerce_strings(config: dict, root: dict) -> None:
    """Read back, in place, the scalars that Snakemake's ``--config`` left as text.

    ``snakemake --config md='{n_steps: 100}'`` parses nested values with
    YAML's base loader, so every nested scalar arrives as a string; a string
    where the schema wants a number, a boolean or null is parsed as YAML.
    """
    for _ in range(10_000):
        fixes = []
        pending = list(_Checker(root).iter_errors(config))
        while pending:
            error = pending.pop()
            pending.extend(error.context or ())
            fix = _string_fix(error)
            if fix is not None and error.absolute_path:
                fixes.append((list(error.absolute_path), fix[0]))
        if not fixes:
            return
        for path, value in fixes:
            node = config
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value


def resolve_config(
    config: dict, source: str, *, partial: bool = False, cli_strings: bool = False
) -> dict:
    """Validate a config mapping and fill in the schema's defaults.

    Parameters
    ----------
    config : dict
        The mapping as read from YAML or JSON; it is not modified.
    source : str
        Where it came from (a file name, ``--config-json``), for messages.
    partial : bool
        Accept a config that holds only some sections (the workflow passes
        each job the sections it reads, already resolved): no key is
        required, everything present is checked.
    cli_strings : bool
        Read strings where the schema wants a number, boolean or null as
        YAML first (values from ``snakemake --config``, see
        :func:`_coerce_strings`).

    Returns
    -------
    dict
        A deep copy with every default filled in.

    Raises
    ------
    ConfigError
        One line naming ``source`` and the first offending key.
    """
    if not isinstance(config, dict):
        raise ConfigError(f"{source}: expected a mapping of sections, got {config!r}")
    root = _without_required(_schema()) if partial else _schema()
    if cli_strings:
        config = copy.deepcopy(config)
        _coerce_strings(config, root)
    errors = sorted(
        _Checker(root).iter_errors(config),
        key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))),
    )
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise ConfigError(f"{source}: {_message(best)}")
    resolved = copy.deepcopy(config)
    _Filler(root).validate(resolved)
    _check_references(config if partial else resolved, source)
    return resolved


def load_config(path_str: str | Path, *sections: str) -> dict:
    """Read, validate and resolve a YAML config file.

    Parameters
    ----------
    path_str : str or Path
        The YAML file.
    sections : str
        Top-level sections the caller reads; each must be present. With
        sections the file may hold only those (a command-line tool's own
        config); without, it must be a whole workflow config.

    Raises
    ------
    ConfigError
        Missing file, YAML syntax error (with its line), a schema violation
        or a missing section; one line naming the file and the key.
    """
    path = Path(path_str)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"{path}:{where}: not valid YAML ({problem})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file") from None
    resolved = resolve_config(data or {}, str(path), partial=bool(sections))
    return _require(resolved, str(path), sections)


def _require(config: dict, source: str, sections: Iterable[str]) -> dict:
    for section in sections:
        if section not in config:
            raise ConfigError(f"{source}: no `{section}:` section")
    return config


def add_config_arguments(parser, what: str) -> None:
    """Add the config inputs of a subcommand: a YAML file or ``--config-json``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    what : str
        The sections read, for the help text (e.g. "`md:` and `seed`").
    """
    parser.add_argument(
        "config", nargs="?", help=f"YAML config ({what}); or give --config-json"
    )
    parser.add_argument(
        "--config-json",
        metavar="JSON",
        help="the config sections as JSON instead of a file (the workflow "
        "passes each job the resolved sections it reads this way)",
    )


def config_from_args(args, *sections: str) -> dict:
    """The resolved config of a subcommand (see :func:`add_config_arguments`).

    Raises
    ------
    ConfigError
        Neither or both inputs given, JSON that does not parse, a schema
        violation or a missing section.
    """
    text = getattr(args, "config_json", None)
    if text is not None and args.config is not None:
        raise ConfigError("give a config file or --config-json, not both")
    if text is None:
        if args.config is None:
            raise ConfigError("no config: give a YAML file or --config-json")
        return load_config(args.config, *sections)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(f"--config-json: not JSON ({err})") from None
    resolved = resolve_config(data, "--config-json", partial=True)
    return _require(resolved, "--config-json", sections)
