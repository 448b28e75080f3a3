"""What changed since the last run, and the latest pointer."""

from __future__ import annotations

import json

import pandas as pd

from expunge.ops.run import run_pipeline
from tests.conftest import AS_OF, SAMPLE


def test_first_run_has_no_delta_and_becomes_latest(tmp_path):
    run = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one")
    assert (tmp_path / "latest").resolve() == run.resolve()
    assert json.loads((run / "manifest.json").read_text())["delta"]["previous_run"] is None


def test_next_run_lists_what_changed_and_why(tmp_path):
    run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one")
    lines = SAMPLE.read_text().splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    changed = [line.replace('"PENDING"', '"GUILTY PLEA"') for line in body]
    export = tmp_path / "night2.csv"
    export.write_text(header + "".join(changed[:-100]))  # dispositions arrive; 100 lines fewer
    second = run_pipeline([export], tmp_path, AS_OF, run_id="two")
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["delta"]["previous_run"] == "one"
    delta = pd.read_csv(second / "delta" / "changes.csv")
    assert {"NEWLY_ELIGIBLE", "GONE"} <= set(delta["change"])
    newly = delta[delta["change"] == "NEWLY_ELIGIBLE"].iloc[0]
    assert newly["rule_before"] == "R08" and newly["reason_before"] == "PENDING_CASE"
    assert (tmp_path / "latest").resolve().name == "two"


def test_same_export_again_changes_nothing(tmp_path):
    run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one")
    again = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="again")
    assert json.loads((again / "manifest.json").read_text())["delta"]["changes"] == {}


def test_a_failed_run_does_not_move_latest(tmp_path, monkeypatch):
    import pytest

    from expunge.ops import run as outputs  # the run calls write_outputs from here

    first = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one")
    monkeypatch.setattr(outputs, "write_outputs", lambda *a, **k: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError):
        run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="two")
    assert (tmp_path / "latest").resolve() == first.resolve() and not (tmp_path / "two").exists()


def test_rerunning_the_same_run_compares_with_what_it_was_compared_with(tmp_path):
    run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one")
    lines = SAMPLE.read_text().splitlines(keepends=True)
    export = tmp_path / "night2.csv"
    export.write_text(lines[0] + "".join(lines[1:-100]))
    first = json.loads((run_pipeline([export], tmp_path, AS_OF, run_id="two") / "manifest.json").read_text())
    again = json.loads((run_pipeline([export], tmp_path, AS_OF, run_id="two", overwrite=True)
                        / "manifest.json").read_text())
    assert again["delta"] == first["delta"] and again["delta"]["previous_run"] == "one"


def test_the_change_list_streams_in_batches_with_the_same_rows(tmp_path):
    from expunge.publish.delta import write_delta
    from expunge.publish.rollups import Rollups

    run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one")
    lines = SAMPLE.read_text().splitlines(keepends=True)
    export = tmp_path / "night2.csv"
    export.write_text(lines[0] + "".join(lines[1:-300]))
    second = run_pipeline([export], tmp_path / "other", AS_OF, run_id="two")
    now = Rollups(sorted(str(p) for p in (second / "charges").rglob("*.parquet")))
    small, large = tmp_path / "small" / "two", tmp_path / "large" / "two"
    small.mkdir(parents=True)
    large.mkdir(parents=True)
    in_sevens = write_delta(now.con, tmp_path, small, batch_rows=7)
    at_once = write_delta(now.con, tmp_path, large, batch_rows=10**6)
    assert in_sevens == at_once and at_once["changes"]["GONE"] > 250  # 300 lines, a few of them quarantined
    assert (small / "delta" / "changes.csv").read_bytes() == (large / "delta" / "changes.csv").read_bytes()
