"""Helpers of the workflow tests: a copy of the workflow, and snakemake run
from this environment on it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def copy_workflow(dest):
    """The workflow's files (not results/ or .snakemake/) in a fresh folder."""
    for name in ("Snakefile", "workflow", "config", "data", "envs", ".test"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, symlinks=True)
        else:
            shutil.copy(src, dest / name)
    # workflow/schemas/config.schema.yaml links into the package's source.
    link = dest / "workflow" / "schemas" / "config.schema.yaml"
    link.unlink()
    link.symlink_to(ROOT / "src" / "constpot" / "schemas" / "config.schema.yaml")
    return dest


def snakemake(cwd, *args, timeout=300):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(
        [str(BIN / "snakemake"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
