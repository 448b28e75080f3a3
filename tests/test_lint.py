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
