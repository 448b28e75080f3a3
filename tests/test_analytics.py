"""The analysts' dataset: de-identified by construction, documented, queryable."""

from __future__ import annotations

import shutil
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from expunge.cli import main
from expunge.ops.run import run_pipeline
from tests.conftest import AS_OF, ROOT, SAMPLE


@pytest.fixture(scope="module")
def salted_run(tmp_path_factory):
    import os

    old = os.environ.get("EXPUNGE_SALT")
    os.environ["EXPUNGE_SALT"] = "test-salt"
    try:
        yield run_pipeline([SAMPLE], tmp_path_factory.mktemp("out"), AS_OF, run_id="salted")
    finally:
        if old is None:
            os.environ.pop("EXPUNGE_SALT")
        else:
            os.environ["EXPUNGE_SALT"] = old


def test_analytics_has_no_names_birth_dates_addresses_or_case_numbers(salted_run):
    data = pd.read_parquet(salted_run / "analytics")
    sample = pd.read_csv(SAMPLE, dtype=str, on_bad_lines="skip")
    assert not {"last_name", "first_name", "dob", "address", "case_number", "source_line"} & set(data.columns)
    for column in data.select_dtypes(include=["object", "str"]).columns:
        values = set(data[column].dropna().astype(str))
        for personal in ("case_number", "last_name", "address", "dob"):
            assert not values & set(sample[personal].dropna()), (column, personal)


def test_analytics_keeps_year_of_birth_and_links_a_persons_charges(salted_run):
    data = pd.read_parquet(salted_run / "analytics")
    charges = pd.read_parquet(salted_run / "charges")
    assert data["year_of_birth"].between(1900, 2020).any()
    assert data["person_key"].nunique() == charges["person_key"].nunique()
    assert not set(data["person_key"].dropna()) & set(charges["person_key"].dropna())


def test_salt_is_not_stored_anywhere_in_the_run(salted_run):
    for path in salted_run.rglob("*"):
        if path.is_file():
            assert b"test-salt" not in path.read_bytes(), path


def test_query_of_analytics_in_a_run_without_them_says_they_were_not_written(tmp_path):
    export = tmp_path / "night.csv"
    export.write_text("case_number,disposition,charge_description\nC1,SIS,POSS MARIJ <10G\n")
    run = run_pipeline([export], tmp_path / "out", AS_OF, run_id="older")
    shutil.rmtree(run / "analytics")  # as a run made before analytics were written by default
    result = CliRunner().invoke(main, ["query", "select count(*) from analytics", "--run", str(run)])
    assert result.exit_code == 1, result.output
    assert "analytics/ was not written" in result.output and "--overwrite" in result.output
    assert "Tables in this run: cases, charges, quarantine." in result.output


def test_query_runs_sql_over_the_newest_run(salted_run):
    sql = "select determination, count(*) as n from analytics group by 1 order by 1"
    result = CliRunner().invoke(main, ["query", sql, "--out", str(salted_run.parent)])
    assert result.exit_code == 0, result.output
    assert "ELIGIBLE_AUTO" in result.output and "NEEDS_REVIEW" in result.output


def test_query_error_names_the_tables(salted_run):
    result = CliRunner().invoke(main, ["query", "select * from nope", "--run", str(salted_run)])
    assert result.exit_code == 1 and "Tables: analytics, cases, charges, quarantine." in result.output


def test_documented_analyst_questions_run(salted_run):
    from expunge.query import query

    doc = (ROOT / "docs" / "analysts.md").read_text()
    blocks = [b.split("```", 1)[0] for b in doc.split("```sql")[1:]]
    assert len(blocks) >= 3
    for sql in blocks:
        assert len(query(sql, salted_run)) > 0


def test_data_dictionary_is_current():
    sys.path.insert(0, str(ROOT / "tools"))
    import render_dictionary

    assert (ROOT / "docs" / "data_dictionary.md").read_text() == render_dictionary.render()


def test_analytics_is_written_for_records_without_any_person(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPUNGE_SALT", "s")
    export = tmp_path / "nameless.csv"
    export.write_text("case_number,disposition,charge_description\nC1,SIS,POSS MARIJ <10G\nC2,SIS,STEALING\n")
    run = run_pipeline([export], tmp_path / "out", AS_OF, run_id="nameless")
    data = pd.read_parquet(run / "analytics")
    assert len(data) == 2 and data["person_key"].isna().all() and data["case_key"].notna().all()


def test_a_truncated_query_says_how_many_rows_it_shows_of_how_many(salted_run):
    result = CliRunner().invoke(main, ["query", "select case_number from charges", "--run", str(salted_run),
                                       "--limit", "3"])
    total = len(pd.read_parquet(salted_run / "charges", columns=["case_number"]))
    assert result.exit_code == 0 and f"showing 3 of {total:,} rows" in result.output


def test_missing_values_print_blank_not_nan(salted_run):
    result = CliRunner().invoke(main, ["query", "select amount_g, deadline, level from charges where amount_g is null "
                                       "and deadline is null limit 2", "--run", str(salted_run)])
    assert result.exit_code == 0 and "NaN" not in result.output and "NaT" not in result.output
    assert "None" not in result.output


def test_query_results_come_as_csv_or_json(salted_run):
    import json

    sql = "select case_number, deadline from charges order by case_number limit 2"
    csv_out = CliRunner().invoke(main, ["query", sql, "--run", str(salted_run), "--format", "csv"]).output
    json_out = CliRunner().invoke(main, ["query", sql, "--run", str(salted_run), "--format", "json"]).output
    assert csv_out.splitlines()[0] == "case_number,deadline" and len(csv_out.splitlines()) == 3
    rows = json.loads(json_out)
    assert [r["case_number"] for r in rows] == [line.split(",")[0] for line in csv_out.splitlines()[1:]]
