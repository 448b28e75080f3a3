"""Nightly operations: a run killed at any moment and re-run gives the same outputs;
retention purges personal data from old runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from expunge.cli import main
from tests.conftest import SAMPLE


def run_args(out: Path) -> list[str]:
    return ["run", str(SAMPLE), "--out", str(out), "--run-id", "nightly", "--as-of", "2026-11-27",
            "--orchestrator", "none", "--cache-dir", str(out.parent / f"{out.name}-cache")]


def data_files(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("ref")
    assert CliRunner().invoke(main, run_args(out)).exit_code == 0
    return data_files(out / "nightly")


@pytest.mark.parametrize("delay", [0.4, 1.2, 2.0, 2.8, 3.6])
def test_killing_a_run_and_running_again_gives_the_same_outputs(delay, reference, tmp_path):
    out = tmp_path / "out"
    code = "import sys; from expunge.cli import entrypoint; sys.argv[0] = 'expunge'; entrypoint()"
    proc = subprocess.Popen([sys.executable, "-c", code, *run_args(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.kill()  # SIGKILL: no cleanup runs
    proc.wait()
    if (out / "nightly").exists():  # finished before the kill: the folder is complete
        assert json.loads((out / "nightly" / "manifest.json").read_text())["rows"]["accounting_holds"]
    result = CliRunner().invoke(main, [*run_args(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert data_files(out / "nightly") == reference
    assert not [p for p in out.iterdir() if p.name.startswith(".work-")]
    assert (out / "latest").resolve().name == "nightly"


def test_purge_removes_personal_outputs_of_old_runs_and_keeps_summaries(tmp_path):
    for run_id in ("old", "new"):
        assert CliRunner().invoke(main, [*run_args(tmp_path)[:5], run_id, *run_args(tmp_path)[6:]]).exit_code == 0
    manifest = tmp_path / "old" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["created_at"] = "2026-01-01T00:00:00+00:00"
    manifest.write_text(json.dumps(data))
    result = CliRunner().invoke(main, ["purge", str(tmp_path), "--older-than", "90", "--as-of", "2026-11-27"])
    assert result.exit_code == 0 and "old" in result.output
    old = tmp_path / "old"
    assert not any((old / name).exists() for name in ("petitions", "charges", "quarantine.parquet"))
    assert (old / "summary" / "report.html").exists() and manifest.exists() and (old / "purged.json").exists()
    assert (tmp_path / "new" / "petitions").exists()  # the latest run is never purged
