"""The software environment: one lock, installed the same way everywhere.

``requirements.lock`` pins every distribution constpot needs; ``make venv``,
the conda environment of the rules (``envs/constpot.yaml`` and its
post-deploy script) and the container definitions (``envs/Dockerfile``,
``envs/constpot.def``) install exactly that lock, then the package without
resolving anew. These tests read the files; the last one checks the running
virtualenv against the lock.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from constpot.provenance import LOCK_FILE, LOCK_RECORD

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11, as the lock

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / LOCK_FILE
ENVS = ROOT / "envs"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _lock_lines() -> list[str]:
    """The requirement lines of the lock: no comments, blanks or options."""
    lines = []
    for raw in LOCK.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def _lock_pins() -> dict[str, str]:
    """Canonical distribution name -> pinned version."""
    pins = {}
    for line in _lock_lines():
        name, version = line.split("==")
        pins[canonicalize_name(name)] = version
    return pins


def _pyproject_requirements() -> list[tuple[str, Requirement]]:
    """(where, requirement) for the dependencies, both extras and the build."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    out = [("dependencies", Requirement(r)) for r in project["dependencies"]]
    for extra in ("workflow", "test"):
        out += [
            (extra, Requirement(r)) for r in project["optional-dependencies"][extra]
        ]
    out += [
        ("build-system", Requirement(r)) for r in pyproject["build-system"]["requires"]
    ]
    return out


def test_lock_lines_are_exact_unique_sorted_pins():
    lines = _lock_lines()
    assert lines, f"{LOCK} pins nothing"
    for line in lines:
        assert re.fullmatch(r"[a-z0-9][a-z0-9.-]*==[0-9][0-9A-Za-z.+!-]*", line), line
    names = [line.split("==")[0] for line in lines]
    assert names == [canonicalize_name(n) for n in names], "names not canonical"
    assert names == sorted(set(names)), "names duplicated or not sorted"
    assert "constpot" not in names, "the lock pins the package itself"


@pytest.mark.parametrize(
    ("where", "requirement"),
    _pyproject_requirements(),
    ids=lambda x: str(x),
)
def test_pyproject_requirement_is_pinned_in_lock(where, requirement):
    pins = _lock_pins()
    name = canonicalize_name(requirement.name)
    assert name in pins, f"{requirement} ({where}) is not in {LOCK_FILE}: make lock"
    assert requirement.specifier.contains(pins[name], prereleases=True), (
        f"{LOCK_FILE} pins {name}=={pins[name]}, pyproject.toml ({where}) "
        f"requires {requirement}: make lock"
    )


def test_lock_holds_cpu_torch_2_13_0_and_no_cuda_packages():
    pins = _lock_pins()
    torch = Version(pins["torch"])
    assert torch.public == "2.13.0", pins["torch"]
    assert torch.local == "cpu", f"torch {pins['torch']} is not the CPU build"
    cuda = sorted(n for n in pins if n.startswith("nvidia-") or n == "triton")
    assert not cuda, f"CUDA packages in {LOCK_FILE}: {cuda}"


def test_conda_env_installs_the_lock_then_the_package():
    env = yaml.safe_load((ENVS / "constpot.yaml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    assert "python=3.11" in deps, deps
    (pip,) = [d["pip"] for d in deps if isinstance(d, dict)]
    assert f"--extra-index-url {TORCH_CPU_INDEX}" in pip
    pins = [line for line in pip if not line.startswith("-")]
    assert pins == _lock_lines(), "envs/constpot.yaml differs from the lock: make lock"
    # Snakemake runs <env>.post-deploy.sh in the new environment: it installs
    # constpot from the repository and records the lock's hash.
    script = (ENVS / "constpot.post-deploy.sh").read_text(encoding="utf-8")
    assert re.search(
        r"pip install --no-deps --no-build-isolation -e \"\$root\"", script
    )
    assert f"sha256sum {LOCK_FILE}" in script
    assert LOCK_RECORD in script


@pytest.mark.parametrize("name", ["Dockerfile", "constpot.def"])
def test_container_installs_the_lock_then_the_package(name):
    text = (ENVS / name).read_text(encoding="utf-8")
    assert re.search(r"python:3\.11-slim", text), "base image is not CPython 3.11"
    torch = text.index(f"--index-url {TORCH_CPU_INDEX}")
    lock = text.index(f"pip install -r {LOCK_FILE}")
    package = text.index("pip install --no-deps --no-build-isolation .")
    assert torch < lock < package, "install order: torch (CPU), the lock, constpot"
    assert f"sha256sum {LOCK_FILE}" in text and LOCK_RECORD in text


def test_make_venv_installs_the_lock_without_resolving():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"LOCK := {LOCK_FILE}" in makefile
    recipe = makefile.split("$(STAMP): pyproject.toml $(LOCK)\n", 1)[1].split("\n\n")[0]
    assert "pip install -r $(LOCK)" in recipe
    assert "pip install --no-deps --no-build-isolation -e ." in recipe
    assert f"sha256sum $(LOCK) > $(VENV)/{LOCK_RECORD}" in recipe
    assert "pip install -e '.[" not in recipe, "make venv resolves anew"


def test_repo_venv_matches_the_lock():
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip(f"not running from the repository's .venv ({sys.prefix})")
    wrong = {}
    for name, pinned in _lock_pins().items():
        try:
            installed = dist_version(name)
        except PackageNotFoundError:
            wrong[name] = f"missing (lock: {pinned})"
            continue
        if Version(installed) != Version(pinned):
            wrong[name] = f"{installed} (lock: {pinned})"
    assert not wrong, f".venv differs from {LOCK_FILE}; run make venv: {wrong}"
