"""Every column of every dataset a run writes is documented in its schema, with a meaning."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import ROOT


def schema(name: str) -> dict:
    return yaml.safe_load((ROOT / "schemas" / f"{name}.v1.yaml").read_text())["columns"]


@pytest.mark.parametrize("name", ["charges", "analytics", "cases", "quarantine", "review_queue", "summaries"])
def test_no_column_has_a_blank_meaning(name):
    blank = [c for c, spec in schema(name).items() if not str(spec.get("description") or "").strip()]
    assert blank == []


def test_a_meaning_with_a_comma_is_read_whole():
    assert "," in schema("analytics")["overdue"]["description"]


@pytest.mark.parametrize("name", ["cases", "quarantine"])
def test_the_single_file_datasets_have_the_documented_columns_and_types(sample_run, name):
    written = pq.read_schema(sample_run / f"{name}.parquet")
    documented = schema(name)
    assert written.names == list(documented)
    for field in written:
        assert str(field.type).replace("large_", "").replace("[day]", "") == documented[field.name]["type"], field.name


def test_the_review_queue_has_the_documented_columns(sample_run):
    queue = pd.read_csv(sample_run / "review_queue.csv", nrows=1)
    assert list(queue.columns) == list(schema("review_queue"))


def test_every_summary_column_is_documented(sample_run):
    columns = {c for f in (sample_run / "summary").glob("*.csv") for c in pd.read_csv(f, nrows=0).columns}
    assert columns == set(schema("summaries"))


def test_dates_are_dates_everywhere(sample_run):
    assert str(pq.read_schema(sample_run / "cases.parquet").field("earliest_deadline").type) == "date32[day]"
    assert str(pq.read_schema(next((sample_run / "charges").rglob("*.parquet"))).field("deadline").type) == \
        "date32[day]"
