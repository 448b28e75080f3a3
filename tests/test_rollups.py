"""Roll-ups counted by DuckDB out of core: the same figures from one table or from many
Parquet files, people and cases counted once however the charges are split."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from expunge.normalize.report import normalization_report
from expunge.publish.rollups import Rollups


def charges(rows: list[tuple]) -> pd.DataFrame:
    cols = ["county", "case_number", "charge_seq", "person_key", "offense_year", "offense_family", "level",
            "determination", "reason_code", "overdue", "description_raw", "norm_family", "match_method",
            "match_source", "desc_band", "person_link"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["offense_year"] = frame["offense_year"].astype("Int16")
    return frame


ROWS = [
    ("BOONE", "C1", 1, "P1", 2015, "POSSESSION", "MISDEMEANOR", "ELIGIBLE_AUTO", "R01", False, "POSS MJ",
     "POSSESSION", "charge_code", "reference_code", "", "id"),
    ("BOONE", "C1", 2, "P1", 2015, "POSSESSION", "MISDEMEANOR", "NEEDS_REVIEW", "R09", False, "POSS MJ",
     "POSSESSION", "charge_code", "reference_code", "", "id"),
    ("COLE", "C2", 1, "P1", 2016, "OTHER", "FELONY", "NOT_ELIGIBLE", "R02", False, "ROBBERY",
     "UNKNOWN", "fuzzy", "description_rules", "review", "id"),
    ("COLE", "C3", 1, "P2", None, "OTHER", "FELONY", "NEEDS_REVIEW", "R09", False, "XYZ", "UNKNOWN",
     "fuzzy", "description_rules", "review", "name_dob"),
    ("COLE", "C4", 1, None, 2016, "POSSESSION", "MISDEMEANOR", "ELIGIBLE_PETITION", "R03", True, "POSS MJ",
     "POSSESSION", "statute", "statute_table", "", "none"),
]


@pytest.fixture
def split(tmp_path) -> list[str]:
    """The same charges as three Parquet files, one person's charges in two of them."""
    frame = charges(ROWS)
    paths = []
    for k, rows in enumerate((frame.iloc[:2], frame.iloc[2:3], frame.iloc[3:])):
        path = tmp_path / f"part-{k}.parquet"
        pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), path)
        paths.append(str(path))
    return paths


def test_people_in_several_files_are_counted_once(split):
    head = Rollups(split).headline()
    assert head["people"] == {"total": 2, "affected_lower": 1, "affected_upper": 2, "charges_without_person_key": 1}
    assert head["cases"] == {"total": 4, "with_eligible_charge_lower": 2, "with_eligible_charge_upper": 3}


def test_files_and_a_single_table_give_the_same_summaries(split):
    from_files = Rollups(split).summaries(below=1)
    from_frame = Rollups(charges(ROWS)).summaries(below=1)
    for name, table in from_frame.items():
        pd.testing.assert_frame_equal(from_files[name], table, check_dtype=True)


def test_groups_come_sorted_with_missing_values_last(split):
    by_year = Rollups(split).summaries(below=1)["bounds_by_year"]
    assert by_year["offense_year"].tolist()[:2] == [2015, 2016] and pd.isna(by_year["offense_year"].iloc[-1])
    y2016 = by_year[by_year["offense_year"] == 2016].iloc[0]
    assert (y2016["charges_upper"], y2016["people_upper"]) == (1, 0)  # the eligible charge has no person


def test_small_counts_are_blanked_and_named(split):
    by_county = Rollups(split).summaries(below=10)["by_county"]
    assert by_county["charges"].isna().all()
    nobody = by_county[(by_county["county"] == "COLE") & (by_county["determination"] == "ELIGIBLE_PETITION")]
    assert nobody["suppressed"].item() == "charges;cases" and nobody["people"].item() == 0


def test_the_normalization_report_lists_only_descriptions_with_unmatched_rows(split):
    report = normalization_report(Rollups(split).con)
    assert report["unmatched_rows"] == 2 and report["distinct_descriptions"] == 3
    assert report["top_unmatched_descriptions"] == [{"description": "ROBBERY", "rows": 1},
                                                    {"description": "XYZ", "rows": 1}]
    assert report["share_by_method"] == {"charge_code": 0.4, "fuzzy": 0.4, "statute": 0.2}


def test_aggregation_spills_to_disk_under_a_small_memory_limit(tmp_path):
    n = 400_000
    frame = charges([ROWS[0]] * n).assign(case_number=[f"C{i}" for i in range(n)],
                                          person_key=[f"P{i % 300_000}" for i in range(n)])
    path = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    head = Rollups([str(path)], spill_dir=tmp_path, memory_limit="30MB").headline()
    assert head["people"]["total"] == 300_000 and head["cases"]["total"] == n


def test_queries_can_follow_each_other_in_any_order_on_one_connection(split):
    rollups = Rollups(split)
    first = rollups.headline()
    rollups.summaries(below=1)  # DuckDB refuses a query while an earlier result is partly read
    normalization_report(rollups.con)
    assert rollups.headline() == first
