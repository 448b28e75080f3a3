"""The README's Operations commands, run as written against a real local Prefect server: `make
server`, `make serve` on an inbox, a delivery copied in, `make run-now`; the deployment is
registered with its cron schedule, a triggered run decides what arrived in the inbox, and a
re-delivered export changes nothing but the run log, and the shrink guard holds a header-only
snapshot and a snapshot missing a county (the flow run ends "Held"), publishes one with
accept_shrink, and lets an increment through. The command for a machine without a server
runs too, on the embedded one. Only the placeholder paths are replaced."""

from __future__ import annotations

import gzip
import json
import os
import re
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


ROOT = Path(__file__).resolve().parents[1]
#: The placeholders of the README's Operations commands, and the export it delivers.
INBOX, OUT, EXPORT = "/data/inbox", "/data/expunge", "export-2026-11-28.csv.gz"


def operations_commands() -> list[str]:
    """The shell commands of the README's Operations section: its bash blocks (continued lines
    joined, comments dropped) and the ``make`` commands quoted in its prose."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Operations\n", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line:
                commands.append(re.sub(r"\s+", " ", line))
    commands += re.findall(r"`(make [a-z-]+)`", section)
    return list(dict.fromkeys(commands))


def command(name: str) -> str:
    """The first Operations command that is ``name`` or starts with it and an argument."""
    return next(c for c in operations_commands() if c == name or c.startswith(f"{name} "))


def shell(line: str, root: Path, env: dict, background: bool = False, **kw):  # type: ignore[no-untyped-def]
    """Run a README command line as written, its placeholder paths pointing into ``root``."""
    line = line.replace(INBOX, str(root / "inbox")).replace(OUT, str(root / "out"))
    if background:
        return subprocess.Popen(line, shell=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
    return subprocess.run(line, shell=True, cwd=kw.pop("cwd", ROOT), env=env, capture_output=True, text=True,
                          **kw)


def stop(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The README's `make server`, on a free port (the Makefile's PREFECT_PORT) with its own home."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_PORT": str(port),
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    proc = shell(command("make server"), home, env, background=True)
    try:
        wait_for("the Prefect server", lambda: httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=2)
                 .status_code == 200)
        yield env
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def served(server, tmp_path_factory):
    """The README's `make serve INBOX=… OUT=…` and its `cp` of a delivery into the inbox, until
    the module ends. The delivery is the sample export, gzipped under the README's name."""
    root = tmp_path_factory.mktemp("serve")
    with SAMPLE.open("rb") as src, gzip.open(root / EXPORT, "wb") as out:
        shutil.copyfileobj(src, out)
    proc = shell(command("make serve"), root, server, background=True)
    try:
        wait_for("the inbox", lambda: (root / "inbox").is_dir())
        done = shell(command("cp"), root, server, cwd=root)
        assert done.returncode == 0, done.stderr
        yield root, server["PREFECT_API_URL"]
    finally:
        stop(proc)


def deployment(api: str) -> dict:
    return httpx.get(f"{api}/deployments/name/expunge-inbox/nightly", timeout=5).raise_for_status().json()


def trigger(root: Path, env: dict, *params: str) -> str:
    """The README's `make run-now` (``PARAMS="--param name=value ..."`` for each of ``params``),
    as an operator would type it; returns the flow run id."""
    line = command("make run-now")
    if params:
        line += " PARAMS='" + " ".join(f"--param {p}" for p in params) + "'"
    done = shell(line, root, {k: v for k, v in env.items() if k != "PREFECT_API_URL"})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.split("/runs/flow-run/")[1].split()[0].strip()


def final(api: str, run_id: str) -> dict | None:
    """The flow run's state once it is final (type, name, message), else None."""
    state = httpx.get(f"{api}/flow_runs/{run_id}", timeout=5).json()["state"]
    return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None


def final_state(api: str, run_id: str) -> str | None:
    state = final(api, run_id)
    return state["type"] if state else None


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
    shutil.copy(root / "inbox" / EXPORT, root / "inbox" / "night2-resent.csv.gz")
    before = sorted(p.name for p in (root / "out").iterdir())
    run = trigger(root, server)
    assert wait_for("the flow run", lambda: final_state(api, run)) == "COMPLETED"
    assert sorted(p.name for p in (root / "out").iterdir()) == before
    skipped = [e for e in run_log(root) if e["status"] == "skipped"]
    assert [Path(e["inputs"][0]).name for e in skipped] == ["night2-resent.csv.gz"]  # the first: published as is


def latest(root: Path) -> str:
    return (root / "out" / "latest").resolve().name


def artifact(api: str, run_id: str) -> str:
    [found] = httpx.post(f"{api}/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}},
                         timeout=5).raise_for_status().json()
    return found["data"]


def sample_lines() -> tuple[str, list[str]]:
    lines = SAMPLE.read_text().splitlines(keepends=True)
    return lines[0], lines[1:]


def test_the_inbox_flow_holds_a_header_only_snapshot(served, server):
    root, api = served
    wait_for("the first run", lambda: any(e["status"] == "published" for e in run_log(root)), timeout=240)
    before = latest(root)
    header, _ = sample_lines()
    (root / "inbox" / "night3-empty.csv").write_text(header)
    run = trigger(root, server)
    state = wait_for("the flow run", lambda: final(api, run))
    assert (state["type"], state["name"]) == ("FAILED", "Held") and "has no rows (a header only)" in state["message"]
    assert latest(root) == before
    held = run_log(root)[-1]
    assert held["status"] == "held" and Path(held["inputs"][0]).name == "night3-empty.csv"
    assert "| charges delivered | 0 |" in artifact(api, run)
    (root / "inbox" / "night3-empty.csv").unlink()  # the clerk takes the empty export out of the inbox


def test_the_inbox_flow_holds_a_snapshot_missing_a_county(served, server):
    root, api = served
    before = latest(root)
    header, body = sample_lines()
    (root / "inbox" / "night4.csv").write_text(header + "".join(line for line in body if ',"COLE",' not in line))
    run = trigger(root, server)
    state = wait_for("the flow run", lambda: final(api, run))
    assert (state["type"], state["name"]) == ("FAILED", "Held") and "1 county run " in state["message"]
    assert latest(root) == before and run_log(root)[-1]["delivery"]["counties_missing"] == ["COLE"]
    assert "| counties missing | COLE |" in artifact(api, run)


def test_the_inbox_flow_publishes_the_held_snapshot_with_accept_shrink(served, server):
    root, api = served
    before = latest(root)
    run = trigger(root, server, "accept_shrink=true")
    assert wait_for("the flow run", lambda: final_state(api, run)) == "COMPLETED"
    published = run_log(root)[-1]
    assert published["status"] == "published" and published["delivery"]["shrink_accepted"] is True
    assert latest(root) == published["run_id"] != before
    manifest = json.loads((root / "out" / published["run_id"] / "manifest.json").read_text())
    assert manifest["delivery"]["counties_missing"] == ["COLE"] and manifest["delivery"]["shrink_accepted"]


def test_the_inbox_flow_publishes_an_increment_and_nothing_goes(served, server):
    root, api = served
    before = latest(root)
    header, body = sample_lines()
    pending = [line.replace('"PENDING"', '"GUILTY PLEA"') for line in body if '"PENDING"' in line][:5]
    (root / "inbox" / "night5-increment.csv").write_text(header + "".join(pending))
    run = trigger(root, server, "delivery=increment")
    assert wait_for("the flow run", lambda: final_state(api, run)) == "COMPLETED"
    published = run_log(root)[-1]
    manifest = json.loads((root / "out" / published["run_id"] / "manifest.json").read_text())
    previous = json.loads((root / "out" / before / "manifest.json").read_text())
    assert manifest["delivery"]["kind"] == "increment" and manifest["delivery"]["carried_from"] == before
    assert manifest["rows"]["read"] == 5 and manifest["rows"]["charges"] >= previous["rows"]["charges"]
    assert manifest["rows"]["carried_over"] == manifest["rows"]["charges"] - 5
    assert "GONE" not in manifest["delta"]["changes"] and latest(root) == published["run_id"]


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


def test_the_readme_cron_command_runs_as_written_and_creates_the_answers_store(tmp_path, shared_data):
    """The Operations section's command for a machine without a server, on the embedded one."""
    from expunge.sample import write_sample

    (tmp_path / "inbox").mkdir()
    tonight = subprocess.run(["date", "+%F"], capture_output=True, text=True, check=True).stdout.strip()
    write_sample(tmp_path / "inbox" / f"export-{tonight}.csv.gz", rows=200, seed=6)
    line = command(".venv/bin/expunge run").replace("/data/mshp/ChargeCodeCSV.csv",
                                                     str(shared_data / "mshp" / "charge_codes_2021-08-05.csv"))
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    done = shell(line, tmp_path, env)
    assert done.returncode == 0, done.stderr[-2000:]
    store = tmp_path / "out" / "answers.csv"
    assert store.is_file() and (store.stat().st_mode & 0o777) == 0o600
    assert [e["status"] for e in run_log(tmp_path)] == ["published"]


def test_the_operations_section_lists_the_commands_these_tests_run():
    found = operations_commands()
    assert {"make server", "make run-now"} <= set(found)
    assert command("make serve").startswith("make serve INBOX=") and command("cp").endswith(f"{INBOX}/{EXPORT}")
    assert command(".venv/bin/expunge run").startswith(f".venv/bin/expunge run {INBOX}/export-$(date +%F)")
