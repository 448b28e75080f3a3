"""The flow starts from a bare environment: `expunge run` (the installed console script) in
a subprocess with only PATH, HOME (an empty folder), the salt and the path to this tree's
code set, so no PREFECT_* or Makefile variable helps. flows/settings.py must then give
Prefect its home under HOME's cache, analytics off and a 120 s start-up timeout, read by
Prefect itself (the flow run logs the settings it runs under; the line and the run are
checked in the database Prefect wrote under that home)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.flow
BIN = Path(sys.executable).parent


def bare_env(home: Path, **extra: str) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home), "EXPUNGE_SALT": "flow-start-test-salt",
            "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}", **extra}


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory) -> Path:
    from expunge.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("export") / "night.csv", 12, seed=3)


def expunge_run(export: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "expunge"), "run", str(export), "--out", str(out), "--as-of", "2026-11-27"],
                          env=env, cwd=out.parent, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("statement", ["import flows.nightly", "from flows import nightly"])
def test_importing_the_flows_applies_the_prefect_settings_first(statement, tmp_path):
    code = (f"{statement}\nfrom prefect.settings import get_current_settings as g\ns = g()\n"
            "print(s.home, s.server.analytics_enabled, s.server.ephemeral.startup_timeout_seconds)")
    done = subprocess.run([sys.executable, "-c", code], env=bare_env(tmp_path / "home"), capture_output=True,
                          text=True, timeout=300)
    assert done.stdout.split() == [str(tmp_path / "home" / ".cache" / "expunge" / "prefect"), "False", "120"], \
        done.stderr


def test_expunge_run_starts_prefect_in_an_empty_environment(tiny_export, tmp_path):
    home = tmp_path / "home"
    done = expunge_run(tiny_export, tmp_path / "out", bare_env(home))
    assert done.returncode == 0, done.stderr
    run_dir = Path(done.stdout.strip().splitlines()[-1])
    [entry] = [json.loads(line) for line in (tmp_path / "out" / "runs.jsonl").read_text().splitlines()]
    assert (run_dir / "manifest.json").is_file() and (entry["status"], entry["run_id"]) == ("published", run_dir.name)
    prefect_home = home / ".cache" / "expunge" / "prefect"
    expected = f"Prefect home {prefect_home}; API the embedded server (start-up timeout 120 s); analytics off."
    assert expected in done.stdout + done.stderr
    with sqlite3.connect(prefect_home / "prefect.db") as db:  # the run history is in that home, nowhere else
        runs = db.execute("select f.name, r.state_type from flow_run r join flow f on r.flow_id = f.id").fetchall()
        logged = [m for (m,) in db.execute("select message from log")]
    assert runs == [("expunge-nightly", "COMPLETED")] and expected in logged
    assert sorted(p.name for p in home.iterdir()) == [".cache"]  # no ~/.prefect


def test_an_embedded_server_that_does_not_start_says_what_to_do(tiny_export, tmp_path):
    env = bare_env(tmp_path / "home", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="0")  # gives up at once
    done = expunge_run(tiny_export, tmp_path / "out", env)
    assert done.returncode == 3 and "Traceback" not in done.stderr
    message = ("The embedded Prefect server did not start within 0 s; the machine may be busy. Nothing was published. "
               "Retry, raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")
    assert f"Error: {message}" in done.stderr and "PREFECT_API_URL" in done.stderr
    [entry] = [json.loads(line) for line in (tmp_path / "out" / "runs.jsonl").read_text().splitlines()]
    assert entry["status"] == "failed" and entry["message"].startswith(message)
