"""Deliveries are snapshots or increments, of a scope: what carries over from the previous run,
what the shrink guard holds, and the state store the next delivery builds on.

Small exports (three counties, twelve charges each, cut from the sample); one first night shared
by the module and copied for each test that adds a run."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from expunge.cli import HELD, main
from expunge.errors import DeliveryHeld, InputFileError
from expunge.ops.run import run_pipeline
from tests.conftest import AS_OF, SAMPLE

COUNTIES = ("BOONE", "COLE", "GREENE")
PER_COUNTY = 12
OPTIONS = {"documents": False, "workers": 1}


def sample_rows() -> tuple[list[str], list[list[str]]]:
    """The sample's header and its first twelve well-formed rows of each of three counties."""
    with SAMPLE.open(newline="") as fh:
        header, *rows = list(csv.reader(fh))
    county = header.index("county")
    picked = [r for c in COUNTIES for r in [r for r in rows if len(r) == len(header) and r[county] == c][:PER_COUNTY]]
    return header, picked


HEADER, ROWS = sample_rows()
COL = {name: i for i, name in enumerate(HEADER)}


def export(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh, quoting=csv.QUOTE_ALL)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def without(county: str) -> list[list[str]]:
    return [r for r in ROWS if r[COL["county"]] != county]


def of(county: str, rows: list[list[str]] = ROWS) -> list[list[str]]:
    return [r for r in rows if r[COL["county"]] == county]


def log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]


def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def charges(run: Path) -> pd.DataFrame:
    return pd.read_parquet(run / "charges").astype({"county": "str"})


def cli_run(out: Path, path: Path, run_id: str, *extra: str):
    return CliRunner().invoke(main, ["run", str(path), "--out", str(out), "--as-of", AS_OF.isoformat(), "--run-id",
                                     run_id, "--orchestrator", "none", "--no-documents", "--workers", "1", *extra])


@pytest.fixture(scope="module")
def first_night(tmp_path_factory) -> Path:
    """An output folder whose one run, "one", is a statewide snapshot of the three counties."""
    root = tmp_path_factory.mktemp("first-night")
    run_pipeline([export(root / "night1.csv", ROWS)], root / "out", AS_OF, run_id="one", **OPTIONS)
    return root / "out"


@pytest.fixture
def out(first_night, tmp_path) -> Path:
    """A copy of the first night's output folder, for a test to add runs to."""
    return Path(shutil.copytree(first_night, tmp_path / "out", symlinks=True))


@pytest.fixture(scope="module")
def accepted(first_night, tmp_path_factory) -> Path:
    """The first night, then a snapshot without COLE published with --accept-shrink (run "two")."""
    root = tmp_path_factory.mktemp("accepted")
    out = Path(shutil.copytree(first_night, root / "out", symlinks=True))
    result = cli_run(out, export(root / "night2.csv", without("COLE")), "two", "--accept-shrink")
    assert result.exit_code == 0, result.output
    return out


def test_a_header_only_snapshot_is_held_and_latest_stays(out, tmp_path):
    result = cli_run(out, export(tmp_path / "empty.csv", []), "two")
    assert result.exit_code == HELD and "empty.csv has no rows (a header only)" in result.output
    assert (out / "latest").resolve().name == "one" and not (out / "two").exists()
    held = log(out)[-1]
    assert held["status"] == "held" and held["run_id"] == "two" and "no rows" in held["message"]
    assert held["delivery"]["scope_charges_before"] == 36 and held["delivery"]["charges_delivered"] == 0
    assert not [p for p in out.iterdir() if p.name.startswith(".work-")]


def test_accept_shrink_never_publishes_a_header_only_snapshot(out, tmp_path):
    result = cli_run(out, export(tmp_path / "empty.csv", []), "two", "--accept-shrink")
    assert result.exit_code == HELD and "--accept-shrink does not publish an empty snapshot" in result.output
    assert (out / "latest").resolve().name == "one"


def test_a_snapshot_missing_one_county_is_held_with_the_figures(out, tmp_path):
    result = cli_run(out, export(tmp_path / "night2.csv", without("COLE")), "two", "--max-shrink", "0.5")
    assert result.exit_code == HELD and "no charge at all for 1 county run one had: COLE" in result.output
    assert (out / "latest").resolve().name == "one" and not (out / "two").exists()
    held = log(out)[-1]
    assert held["status"] == "held" and held["delivery"]["counties_missing"] == ["COLE"]
    assert (held["delivery"]["scope_charges_before"], held["delivery"]["charges_delivered"]) == (36, 24)


def test_a_snapshot_dropping_more_than_max_shrink_of_its_charges_is_held(out, tmp_path):
    fewer = [r for c in COUNTIES for r in of(c)[:9]]  # every county still there, a quarter of the charges gone
    with pytest.raises(DeliveryHeld, match=r"27 charges for its scope where run one had 36 \(25\.0% fewer") as held:
        run_pipeline([export(tmp_path / "night2.csv", fewer)], out, AS_OF, run_id="two", **OPTIONS)
    assert held.value.figures["over_limit"] and not held.value.figures["counties_missing"]
    assert (out / "latest").resolve().name == "one"


def test_accept_shrink_publishes_the_smaller_snapshot_and_says_so(accepted):
    m = manifest(accepted / "two")
    assert (accepted / "latest").resolve().name == "two" and m["rows"]["charges"] == 24
    assert m["delivery"]["shrink_accepted"] and m["delivery"]["counties_missing"] == ["COLE"]
    assert log(accepted)[-1]["delivery"]["shrink_accepted"] is True


def test_gone_rows_keep_their_county(accepted):
    delta = pd.read_csv(accepted / "two" / "delta" / "changes.csv")
    gone = delta[delta["change"] == "GONE"]
    assert len(gone) == PER_COUNTY and set(gone["county"]) == {"COLE"}


def test_an_increment_adds_and_updates_charges_and_makes_nothing_gone(out, tmp_path):
    updated = [list(of("BOONE")[5]), list(of("BOONE")[7])]  # dismissed -> guilty plea, guilty plea -> dismissed
    updated[0][COL["disposition"]], updated[1][COL["disposition"]] = "GUILTY PLEA", "DISMISSED"
    added = list(of("GREENE")[0])
    added[COL["charge_seq"]] = "9"
    run = run_pipeline([export(tmp_path / "inc.csv", [*updated, added])], out, AS_OF, run_id="two",
                       delivery="increment", **OPTIONS)
    m = manifest(run)
    assert m["rows"]["read"] == 3 and m["rows"]["carried_over"] == 36 - 2 and m["rows"]["charges"] == 37
    assert m["rows"]["accounting_holds"] and m["delivery"]["carried_from"] == "one"
    assert "GONE" not in m["delta"]["changes"] and m["delta"]["changes"]["NEW_CHARGE"] == 1
    before, now = (charges(r).set_index(["case_number", "charge_seq"])["disposition_class"] for r in (out / "one", run))
    for r in updated:
        key = (r[COL["case_number"]], int(r[COL["charge_seq"]]))
        assert now[key] != before[key]


def test_an_increment_with_no_rows_publishes_an_unchanged_run(out, tmp_path):
    run = run_pipeline([export(tmp_path / "empty.csv", [])], out, AS_OF, run_id="two", delivery="increment",
                       **OPTIONS)
    m = manifest(run)
    assert (m["rows"]["read"], m["rows"]["carried_over"], m["delta"]["changes"]) == (0, 36, {})
    assert (out / "latest").resolve().name == "two"


def test_a_county_scoped_snapshot_leaves_other_counties_unchanged(out, tmp_path):
    cole = [list(r) for r in of("COLE")[:-1]]  # COLE tonight: one charge fewer, one disposition changed
    cole[0][COL["disposition"]] = "DISMISSED"
    run = run_pipeline([export(tmp_path / "cole.csv", cole)], out, AS_OF, run_id="two", scope="COLE", **OPTIONS)
    before, after = charges(out / "one"), charges(run)
    same = ["case_number", "charge_seq", "county", "source_file", "source_line", "determination", "rule_id"]
    for county in ("BOONE", "GREENE"):
        assert after[after["county"] == county][same].reset_index(drop=True).equals(
            before[before["county"] == county][same].reset_index(drop=True))
    assert (after["county"] == "COLE").sum() == PER_COUNTY - 1
    assert manifest(run)["delta"]["changes"].get("GONE") == 1


def test_a_row_outside_the_scope_is_quarantined(out, tmp_path):
    run = run_pipeline([export(tmp_path / "cole.csv", [*of("COLE"), of("BOONE")[0]])], out, AS_OF, run_id="two",
                       scope="COLE", **OPTIONS)
    q = pq.read_table(run / "quarantine.parquet").to_pandas()
    assert q["field"].tolist() == ["county"] and "outside this delivery's scope (COLE)" in q["reason"].iloc[0]
    assert manifest(run)["rows"]["accounting_holds"]


def test_the_state_is_readable_by_its_owner_only(first_night):
    state = first_night / "state" / "one"
    assert (first_night / "state").stat().st_mode & 0o777 == 0o700 and state.stat().st_mode & 0o777 == 0o700
    files = list(state.iterdir())
    assert files and all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    rows = pq.read_table(sorted(state.glob("part-*.parquet"))).to_pandas()
    assert len(rows) == 36 and {"last_name", "dob", "address"} <= set(rows.columns)


def test_purge_removes_old_state_but_keeps_the_latest_runs(accepted, tmp_path):
    out = Path(shutil.copytree(accepted, tmp_path / "out", symlinks=True))
    for run in ("one", "two"):
        m = manifest(out / run)
        m["created_at"] = "2026-01-01T00:00:00+00:00"
        (out / run / "manifest.json").write_text(json.dumps(m))
    result = CliRunner().invoke(main, ["purge", str(out), "--older-than", "90", "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0 and "Removed the saved state of 1 run(s): one" in result.output
    assert not (out / "state" / "one").exists() and (out / "state" / "two" / "state.json").exists()


def test_an_increment_needs_the_previous_runs_saved_state(out, tmp_path):
    shutil.rmtree(out / "state" / "one")
    with pytest.raises(InputFileError, match=r"saved state .* is missing.*statewide snapshot first"):
        run_pipeline([export(tmp_path / "inc.csv", of("COLE")[:1])], out, AS_OF, run_id="two", delivery="increment",
                     **OPTIONS)
