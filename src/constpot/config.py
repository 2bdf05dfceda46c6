"""Reading workflow config files for the CLI."""

from __future__ import annotations

from pathlib import Path

__all__ = ["load_config", "versions"]


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


def versions(*packages: str) -> dict[str, str]:
    """constpot, Python and the given distributions' versions, for provenance.

    Parameters
    ----------
    packages : str
        Distribution names as pip knows them ("torch", "torch-pme", ...);
        one that is not installed reads "missing".
    """
    import platform
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    from . import __version__

    out = {"constpot": __version__, "python": platform.python_version()}
    for name in packages:
        try:
            out[name] = dist_version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    return out
