"""Provenance: versions and the SHA-256 of the lock the environment came from."""

from __future__ import annotations

import hashlib
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

import constpot
from constpot import config, provenance
from constpot.provenance import LOCK_FILE, LOCK_RECORD, lock_sha256, versions

ROOT = Path(__file__).resolve().parents[1]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def source_tree(tmp_path):
    """A source checkout: pyproject.toml and a lock beside src/constpot."""
    root = tmp_path / "checkout"
    package = root / "src" / "constpot"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "constpot"\n')
    (root / LOCK_FILE).write_text("numpy==2.0.0\n")
    return package


def test_versions_of_this_checkout_name_its_lock():
    if Path(constpot.__file__).resolve().parents[2] != ROOT:
        pytest.skip(f"constpot imported from {constpot.__file__}, not this checkout")
    assert versions()["lock_sha256"] == _sha256(ROOT / LOCK_FILE), (
        f"the environment records another lock than {ROOT / LOCK_FILE}: make venv"
    )


def test_versions_name_constpot_python_each_package_and_the_lock():
    out = versions("pyyaml", "no-such-distribution")
    assert out["constpot"] == constpot.__version__
    assert out["python"] == platform.python_version()
    assert out["pyyaml"] not in ("", "missing")
    assert out["no-such-distribution"] == "missing"
    assert out["lock_sha256"] == lock_sha256()
    assert list(out) == [
        "constpot",
        "python",
        "pyyaml",
        "no-such-distribution",
        "lock_sha256",
    ]


def test_config_versions_is_provenance_versions():
    # Every summary.json calls config.versions: it must carry the lock hash.
    assert config.versions is provenance.versions


def test_record_in_prefix_wins_over_source_lock(tmp_path, source_tree):
    recorded = "a" * 64
    (tmp_path / LOCK_RECORD).write_text(f"{recorded}  {LOCK_FILE}\n")
    assert lock_sha256(prefix=tmp_path, package_dir=source_tree) == recorded


def test_source_lock_without_record(tmp_path, source_tree):
    expected = _sha256(source_tree.parents[1] / LOCK_FILE)
    assert lock_sha256(prefix=tmp_path, package_dir=source_tree) == expected


@pytest.mark.parametrize("content", ["", "not-a-hash  requirements.lock\n", "A" * 64])
def test_malformed_record_is_ignored(tmp_path, source_tree, content):
    (tmp_path / LOCK_RECORD).write_text(content)
    expected = _sha256(source_tree.parents[1] / LOCK_FILE)
    assert lock_sha256(prefix=tmp_path, package_dir=source_tree) == expected


def test_unknown_without_record_or_source_lock(tmp_path):
    package = tmp_path / "site-packages" / "constpot"
    package.mkdir(parents=True)
    assert lock_sha256(prefix=tmp_path, package_dir=package) == "unknown"


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum")
def test_reads_the_record_that_sha256sum_writes(tmp_path, source_tree):
    # make venv, the Dockerfile and the post-deploy script write the record
    # with `sha256sum requirements.lock > <prefix>/constpot-lock.sha256`.
    lock = tmp_path / LOCK_FILE
    lock.write_text("torch==2.13.0+cpu\n")
    record = subprocess.run(
        ["sha256sum", LOCK_FILE], cwd=tmp_path, capture_output=True, text=True
    ).stdout
    (tmp_path / LOCK_RECORD).write_text(record)
    assert lock_sha256(prefix=tmp_path, package_dir=source_tree) == _sha256(lock)
