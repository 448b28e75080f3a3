"""An incremental night: the next night of a four-partition export in which one county's
charges changed, a county appeared, and one partition did not change at all. Reusing the
ledger must write the same bytes as deciding everything afresh."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from expunge.ingest.csvfiles import write_csv
from expunge.ingest.partition import fine_bucket
from expunge.ops.run import run_pipeline
from tests.conftest import AS_OF, SAMPLE
from tests.test_ledger import data_files, manifest

PARTITIONS = 4
CHANGED_COUNTY, NEW_COUNTY, UNTOUCHED = "COLE", "CALLAWAY", 3


def partition_of(case_numbers: pd.Series) -> pd.Series:
    return pd.Series(fine_bucket(case_numbers) % PARTITIONS, index=case_numbers.index)


def next_night(tmp_path: Path) -> Path:
    """The sample's next night. Every charge of COLE in partitions 0 and 1 changes (another
    disposition, and MARIJUANA retyped as MARIJUANNA): those lines are rewritten in place. A
    new county, CALLAWAY, appears: BOONE's circuit-court cases that fall in partition 2 are
    filed again there under new case numbers (kept only where those numbers still fall in
    partition 2), as lines added at the end. Every other line is left as it was, so
    partition 3 does not change at all."""
    lines = SAMPLE.read_text().splitlines(keepends=True)
    rows = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    assert len(rows) == len(lines) - 1  # one line per row: a row's line can be replaced
    part = partition_of(rows["case_number"])
    cole = (rows["county"] == CHANGED_COUNTY) & part.isin([0, 1])
    changed = rows[cole].assign(
        disposition=rows.loc[cole, "disposition"].map(
            lambda d: "DISMISSED BY PROSECUTOR" if d in ("SIS", "GUILTY PLEA", "PENDING") else "GUILTY PLEA"),
        charge_description=rows.loc[cole, "charge_description"].str.replace("MARIJUANA", "MARIJUANNA"))
    boone = rows[(rows["county"] == "BOONE") & (part == 2) & (rows["court"] == "13TH JUDICIAL CIRCUIT")]
    refiled = boone.assign(county=NEW_COUNTY, case_number=boone["case_number"] + "-CAL")
    refiled = refiled[partition_of(refiled["case_number"]) == 2]
    for i, line in zip(rows.index[cole], csv_lines(changed, tmp_path / "changed.csv"), strict=True):
        lines[i + 1] = line  # line 1 is the header
    export = tmp_path / "night2.csv"
    export.write_text("".join(lines + csv_lines(refiled, tmp_path / "refiled.csv")))
    return export


def csv_lines(rows: pd.DataFrame, path: Path) -> list[str]:
    """``rows`` as the export's CSV lines, without the header."""
    write_csv(rows, path)
    return path.read_text().splitlines(keepends=True)[1:]


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> tuple[Path, Path]:
    """(the incremental second night, the same export decided afresh)."""
    tmp = tmp_path_factory.mktemp("incremental")
    export = next_night(tmp)
    # Drafts are left out: carrying them over is tests/test_drafts_carried.py's, and they
    # double the time of three runs.
    night = partial(run_pipeline, as_of=AS_OF, partitions=PARTITIONS, workers=1, documents=False)
    night([SAMPLE], tmp / "nightly", run_id="one")
    incremental = night([export], tmp / "nightly", run_id="two")
    full = night([export], tmp / "fresh", run_id="two")
    return incremental, full


def test_the_export_changes_one_county_adds_another_and_leaves_a_partition_alone(tmp_path):
    before = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    after = pd.read_csv(next_night(tmp_path), dtype=str, keep_default_na=False)
    assert NEW_COUNTY not in set(before["county"])
    new = after[after["county"] == NEW_COUNTY]
    assert len(new) > 0 and set(partition_of(new["case_number"])) == {2}
    old = after.iloc[:len(before)]
    changed = (old != before).any(axis=1)
    assert set(old.loc[changed, "county"]) == {CHANGED_COUNTY}
    assert UNTOUCHED not in set(partition_of(old.loc[changed, "case_number"])) | set(partition_of(new["case_number"]))


def test_the_untouched_partition_is_decided_entirely_from_the_ledger(nights):
    incremental, full = nights
    used = manifest(incremental)["ledger"]
    assert used["partitions_reused"] == 1
    assert manifest(full)["ledger"]["partitions_reused"] == 0


def test_only_the_changed_and_new_cases_are_decided_again(nights):
    incremental, _ = nights
    charges = pd.read_parquet(incremental / "charges", columns=["county", "case_number"])
    changed = (charges["county"] == CHANGED_COUNTY) & partition_of(charges["case_number"]).isin([0, 1])
    new = charges["county"] == NEW_COUNTY
    used = manifest(incremental)["ledger"]
    assert used["charges_decided"] == (changed | new).sum() > 0
    assert used["charges_reused"] == len(charges) - used["charges_decided"]


def test_the_incremental_night_writes_the_same_bytes_as_a_full_run(nights):
    incremental, full = nights
    assert (incremental / "charges" / f"county={NEW_COUNTY}").is_dir()
    assert data_files(incremental) == data_files(full)
