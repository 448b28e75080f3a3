"""The nightly flow under Prefect's test harness (one harness for the module)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLE

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
