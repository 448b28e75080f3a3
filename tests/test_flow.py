"""The nightly flow under Prefect's test harness (one harness for the module)."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import pytest

from tests.conftest import SAMPLE, truncated_gzip

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_nightly_flow_runs_every_stage_and_publishes(harness, tmp_path):
    from prefect.artifacts import Artifact

    from expunge.ops.settings import RunSettings
    from flows.nightly import nightly_batch

    settings = RunSettings.of([SAMPLE], tmp_path, "2026-11-27", run_id="flow")
    state = nightly_batch(settings, return_state=True)
    assert state.is_completed()
    run_dir = state.result()
    manifest = json.loads((tmp_path / "flow" / "manifest.json").read_text())
    assert run_dir == str(tmp_path / "flow")
    assert manifest["rows"]["accounting_holds"]
    assert set(manifest["timings_seconds"]) == {"ingest", "decide", "publish", "matching_within_decide", "steps"}
    assert {"people_index", "decide_partitions", "publish_partitions", "petitions", "rollups"} <= set(
        manifest["timings_seconds"]["steps"])
    artifact = Artifact.get("expunge-run-summary")
    assert artifact is not None and "ELIGIBLE_AUTO" in artifact.data
    import pandas as pd

    sample = pd.read_csv(SAMPLE, dtype=str, on_bad_lines="skip")
    personal = set((sample["first_name"] + " " + sample["last_name"]).dropna()) | set(sample["address"].dropna()) \
        | set(sample["dob"].dropna()) | set(sample["case_number"].dropna())
    assert not any(v in artifact.data for v in personal)


def test_flow_with_bad_input_fails_with_the_message(harness, tmp_path):
    from expunge.ops.settings import RunSettings
    from flows.nightly import nightly_batch

    state = nightly_batch(RunSettings.of([tmp_path / "missing.csv"], tmp_path, "2026-11-27"), return_state=True)
    assert state.is_failed() and "does not exist" in state.message
    assert [p.name for p in tmp_path.iterdir()] == ["runs.jsonl"]  # no run folder, no work folder
    [entry] = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert entry["status"] == "failed" and "does not exist" in entry["message"]


def test_inbox_flow_decides_new_exports_and_skips_redelivered_ones(harness, tmp_path):
    import shutil

    from flows.nightly import nightly_inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE, inbox / "night1.csv")
    (inbox / "night2.csv.part").write_text("still being copied")
    first = nightly_inbox(str(inbox), str(tmp_path / "out"), "2026-11-27")
    manifest = json.loads((tmp_path / "out" / "latest" / "manifest.json").read_text())
    assert first and [i["file"] for i in manifest["inputs"]] == ["night1.csv"]
    assert nightly_inbox(str(inbox), str(tmp_path / "out"), "2026-11-28") is None


def run_log(out) -> list[dict]:
    return [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]


def summary_artifact() -> str:
    from prefect.artifacts import Artifact

    return Artifact.get("expunge-run-summary").data


def flow_run_logs(flow_run_id) -> list[str]:
    """The log lines of a flow run (its tasks' too) as the Prefect API keeps them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    return [entry.message for entry in logs]


@pytest.fixture(scope="module")
def mixed_night(harness, tmp_path_factory):
    """One inbox night: a good (small) export and an empty one."""
    from expunge.sample import write_sample
    from flows.nightly import nightly_inbox

    root = tmp_path_factory.mktemp("mixed-night")
    (root / "inbox").mkdir()
    write_sample(root / "inbox" / "night1.csv", 40, seed=5)
    (root / "inbox" / "night2.csv").write_bytes(b"")
    state = nightly_inbox(str(root / "inbox"), str(root / "out"), "2026-11-27", cache_dir=str(root / "cache"),
                          return_state=True)
    return SimpleNamespace(root=root, out=root / "out", state=state, artifact=summary_artifact(),
                           logs=flow_run_logs(state.state_details.flow_run_id))


def test_an_empty_export_does_not_stop_the_good_one_of_the_night_publishing(mixed_night):
    assert mixed_night.state.is_completed()
    run_dir = mixed_night.state.result()
    manifest = json.loads((mixed_night.out / "latest" / "manifest.json").read_text())
    assert run_dir == str(mixed_night.out / manifest["run_id"])
    assert [i["file"] for i in manifest["inputs"]] == ["night1.csv"]


def test_the_empty_export_gets_a_run_log_line_saying_to_remove_or_replace_it_in_the_inbox(mixed_night):
    skipped, published = run_log(mixed_night.out)
    assert skipped["status"] == "skipped" and skipped["inputs"] == [str(mixed_night.root / "inbox" / "night2.csv")]
    assert "night2.csv" in skipped["message"] and "is empty (0 bytes)" in skipped["message"]
    assert f"Remove it from the inbox {mixed_night.root / 'inbox'}, or replace it there" in skipped["message"]
    assert published["status"] == "published" and published["inputs"][0].endswith("night1.csv")


def test_the_empty_export_is_named_in_the_flow_runs_log_final_message_and_summary(mixed_night):
    [skipped, _] = run_log(mixed_night.out)
    assert skipped["message"] in mixed_night.logs
    assert "night2.csv" in mixed_night.state.message and "Remove or replace" in mixed_night.state.message
    assert "| night2.csv | Input file" in mixed_night.artifact and "is empty (0 bytes)" in mixed_night.artifact


def test_the_stages_progress_lines_reach_the_flow_runs_log(mixed_night):
    for stage, counted in (("ingest", "rows"), ("decide", "charges"), ("publish", "charges")):
        assert any(line.startswith(f"{stage}: 1/1 ") and f" {counted}/s, " in line for line in mixed_night.logs), \
            mixed_night.logs


def test_a_night_none_of_whose_exports_can_be_read_fails_and_publishes_nothing(harness, tmp_path):
    from flows.nightly import nightly_inbox

    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "empty.csv").write_bytes(b"")
    (tmp_path / "inbox" / "no-columns.csv").write_text("colour,size\nred,2\n")
    truncated_gzip(tmp_path / "inbox" / "cut.csv.gz")
    state = nightly_inbox(str(tmp_path / "inbox"), str(tmp_path / "out"), "2026-11-27", return_state=True)
    assert state.is_failed() and state.message.startswith("None of the 3 new export(s) in the inbox")
    for reason in ("[cut.csv.gz] cut.csv.gz is a damaged or truncated gzip", "[empty.csv] Input file",
                   "[no-columns.csv] Could not read no-columns.csv: no column maps to case_number"):
        assert reason in state.message
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["runs.jsonl"]  # no run folder, no latest
    *skipped, failed = run_log(tmp_path / "out")
    assert [e["status"] for e in skipped] == ["skipped"] * 3 and failed["status"] == "failed"
    assert failed["message"] == state.message and "Remove or replace each of them in the inbox" in failed["message"]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def failed_inside(harness, tmp_path_factory):
    """`expunge run` on Prefect of an export that passes planning and fails in ingest (a gzip cut
    off past its first megabyte), with the log lines as the console gets them and as the
    Prefect API keeps them."""
    from click.testing import CliRunner
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    from expunge.cli import main

    root = tmp_path_factory.mktemp("failed-inside")
    export = truncated_gzip(root / "night.csv.gz")
    console = _Lines()
    logging.getLogger().addHandler(console)  # Prefect's loggers propagate to the root's console handler
    try:
        result = CliRunner().invoke(main, ["run", str(export), "--out", str(root / "out"), "--as-of", "2026-11-27",
                                           "--cache-dir", str(root / "cache")])
    finally:
        logging.getLogger().removeHandler(console)
    with get_client(sync_client=True) as client:
        [run] = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["expunge-nightly"])),
                                      sort=FlowRunSort.START_TIME_DESC, limit=1)
    return SimpleNamespace(result=result, out=root / "out", run=run, console=console.lines,
                           logs=flow_run_logs(run.id))


def test_a_known_problem_inside_the_flow_ends_it_failed_with_the_clerks_message(failed_inside):
    [entry] = run_log(failed_inside.out)
    assert failed_inside.run.state.is_failed()
    assert failed_inside.run.state.message == entry["message"]
    assert entry["message"].startswith("night.csv.gz is a damaged or truncated gzip file")


def test_the_flow_log_shows_the_clerks_message_and_no_traceback(failed_inside):
    [entry] = run_log(failed_inside.out)
    for lines in (failed_inside.console, failed_inside.logs):
        assert any(entry["message"] in line for line in lines)
        assert not any("Traceback" in line for line in lines), "\n".join(lines)
        assert not any("Retry" in line for line in lines)  # an unreadable export is not read again


def test_expunge_run_failing_inside_the_flow_exits_1_with_the_message_and_one_failed_line(failed_inside):
    [entry] = run_log(failed_inside.out)
    assert entry["status"] == "failed"
    assert failed_inside.result.exit_code == 1
    # (Prefect's console lines may land in the captured output too, depending on which test started it)
    assert f"Error: {entry['message']}" in failed_inside.result.output.splitlines()
