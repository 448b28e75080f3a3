"""Style is checked with the tests, so CI enforces it."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_ruff_finds_nothing():
    if shutil.which("ruff", path=str(ROOT / ".venv" / "bin")) is None and not shutil.which("ruff"):
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "flows", "tests", "tools"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_stage_layers_hold():
    """pyproject.toml's import-linter contracts: each stage imports only from the stages below
    it (errors, law, ingest, normalize, decide, publish, ops, then the entry points), and the
    modules of a stage import one another without cycles."""
    lint = ROOT / ".venv" / "bin" / "lint-imports"
    command = [str(lint)] if lint.exists() else [shutil.which("lint-imports") or ""]
    if not command[0]:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
