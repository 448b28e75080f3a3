"""`expunge serve` against a real local Prefect server: the deployment is registered with
its cron schedule, a triggered run decides what arrived in the inbox, and a re-delivered
export changes nothing but the run log."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import SAMPLE

pytestmark = pytest.mark.flow
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check, timeout: float = 180.0, every: float = 1.0):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            got = check()
        except (httpx.HTTPError, OSError, ValueError, KeyError):
            got = None
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`prefect server start` on a free port with its own home; stopped after the module."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port),
                             "--no-ui"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    api = env["PREFECT_API_URL"]
    try:
        wait_for("the Prefect server", lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200)
        yield env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


@pytest.fixture(scope="module")
def served(server, tmp_path_factory):
    """`expunge serve` on an inbox holding the sample export, until the module ends."""
    root = tmp_path_factory.mktemp("serve")
    (root / "inbox").mkdir()
    shutil.copy(SAMPLE, root / "inbox" / "night1.csv")
    proc = subprocess.Popen([str(BIN / "expunge"), "serve", "--inbox", str(root / "inbox"), "--out",
                             str(root / "out"), "--cron", "0 2 * * *", "--timezone", "America/Chicago",
                             "--cache-dir", str(root / "cache")],
                            env=server, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        yield root, server["PREFECT_API_URL"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def deployment(api: str) -> dict:
    return httpx.get(f"{api}/deployments/name/expunge-inbox/nightly", timeout=5).raise_for_status().json()


def trigger(root: Path, env: dict) -> str:
    """`prefect deployment run`, as an operator would; returns the flow run id."""
    out = subprocess.run([str(BIN / "prefect"), "deployment", "run", "expunge-inbox/nightly"], env=env, cwd=root,
                         capture_output=True, text=True, check=True).stdout
    return out.split("/runs/flow-run/")[1].split()[0].strip()


def final_state(api: str, run_id: str) -> str | None:
    state = httpx.get(f"{api}/flow_runs/{run_id}", timeout=5).json()["state"]["type"]
    return state if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None


def run_log(root: Path) -> list[dict]:
    path = root / "out" / "runs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_serve_registers_a_deployment_with_the_nightly_cron_schedule(served):
    _, api = served
    dep = wait_for("the deployment", lambda: deployment(api))
    [schedule] = dep["schedules"]
    assert schedule["schedule"]["cron"] == "0 2 * * *"
    assert schedule["schedule"]["timezone"] == "America/Chicago" and schedule["active"]
    assert dep["parameters"]["inbox_dir"].endswith("inbox")


def test_a_triggered_run_decides_what_arrived_in_the_inbox(served, server):
    root, api = served
    wait_for("the deployment", lambda: deployment(api))
    run = trigger(root, server)
    assert wait_for("the flow run", lambda: final_state(api, run)) == "COMPLETED"
    [published] = [e for e in run_log(root) if e["status"] == "published"]
    manifest = json.loads((root / "out" / published["run_id"] / "manifest.json").read_text())
    assert manifest["rows"]["accounting_holds"] and published["rows_read"] == manifest["rows"]["read"]
    assert (root / "out" / "latest").resolve().name == published["run_id"]


def test_a_redelivered_export_changes_nothing_but_the_run_log(served, server):
    root, api = served
    wait_for("the first run", lambda: any(e["status"] == "published" for e in run_log(root)), timeout=240)
    shutil.copy(root / "inbox" / "night1.csv", root / "inbox" / "night2-resent.csv")
    before = sorted(p.name for p in (root / "out").iterdir())
    run = trigger(root, server)
    assert wait_for("the flow run", lambda: final_state(api, run)) == "COMPLETED"
    assert sorted(p.name for p in (root / "out").iterdir()) == before
    skipped = [e for e in run_log(root) if e["status"] == "skipped"]
    assert [Path(e["inputs"][0]).name for e in skipped] == ["night2-resent.csv"]  # night1.csv: published as is


def test_serve_without_a_server_says_how_to_start_one(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    done = subprocess.run([str(BIN / "expunge"), "serve", "--inbox", str(tmp_path), "--out", str(tmp_path / "o")],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 1 and "prefect server start" in done.stderr and "Traceback" not in done.stderr


def test_serve_rejects_a_bad_schedule_before_contacting_the_server(tmp_path):
    done = subprocess.run([str(BIN / "expunge"), "serve", "--inbox", str(tmp_path), "--out", str(tmp_path / "o"),
                           "--timezone", "Mars/Base", "--api-url", "http://127.0.0.1:9/api"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "America/Chicago" in done.stderr and "Traceback" not in done.stderr
