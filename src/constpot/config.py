"""Reading workflow config files for the CLI."""

from __future__ import annotations

from pathlib import Path

__all__ = ["load_config"]


def load_config(path_str: str, section: str) -> dict:
    """Load a YAML config and check that it has ``section``.

    Raises
    ------
    ValueError
        When the file is missing or has no ``section:`` key; the message names
        the file and the key.
    """
    import yaml

    path = Path(path_str)
    if not path.is_file():
        raise ValueError(f"config file not found: {path}")
    config = yaml.safe_load(path.read_text()) or {}
    if section not in config:
        raise ValueError(f"{path}: no `{section}:` section")
    return config
