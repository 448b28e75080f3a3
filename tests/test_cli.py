"""The command line: thin over the library, clerk-readable errors, run folder printed last."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from expunge.cli import main
from tests.conftest import SAMPLE


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_run_prints_a_summary_and_the_run_folder_last(tmp_path):
    result = invoke(
        "run", str(SAMPLE), "--out", str(tmp_path), "--as-of", "2026-11-27", "--run-id", "r1", "--orchestrator", "none"
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == str(tmp_path / "r1")
    assert lines[0].startswith("Rows read: 4,012")


def test_missing_input_file_is_one_clear_paragraph(tmp_path):
    result = invoke("run", str(tmp_path / "nope.csv"), "--out", str(tmp_path), "--orchestrator", "none")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: Input file {tmp_path / 'nope.csv'} does not exist. "
        "Check the path, and that the export finished copying."
    )


def test_unrecognisable_columns_exit_non_zero_without_traceback(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    result = invoke("run", str(bad), "--out", str(tmp_path / "o"), "--orchestrator", "none")
    assert result.exit_code == 1
    assert "no column maps to case_number" in result.output and "Traceback" not in result.output


def test_unknown_profile_field_exits_non_zero(tmp_path):
    prof = tmp_path / "p.yaml"
    prof.write_text("profile: p\ncolumns: {case_no: X}\n")
    result = invoke("run", str(SAMPLE), "--out", str(tmp_path), "--profile", str(prof), "--orchestrator", "none")
    assert result.exit_code == 1 and "unknown profile field 'case_no'" in result.output


def test_bad_as_of_date_is_explained():
    result = invoke("run", str(SAMPLE), "--out", "x", "--as-of", "27/11/2026")
    assert result.exit_code == 2 and "write it as YYYY-MM-DD" in result.output


def test_unknown_policy_value_lists_the_choices(tmp_path):
    result = invoke(
        "run", str(SAMPLE), "--out", str(tmp_path), "--policy", "nonconviction_records=maybe", "--orchestrator", "none"
    )
    assert result.exit_code == 1 and "choose one of: eligible, exclude" in result.output


def test_sample_writes_the_requested_rows(tmp_path):
    out = tmp_path / "s.csv"
    result = invoke("sample", "--rows", "250", "--seed", "3", "--out", str(out))
    assert result.exit_code == 0 and result.output.strip() == str(out)
    assert out.read_text().count("\n") == 251


def test_rules_check_lists_the_shipped_rules():
    result = invoke("rules", "check")
    assert result.exit_code == 0 and "mo-a3 v1: 25 rules" in result.output and "R13a" in result.output


def test_rules_check_reports_every_problem_of_a_bad_file(tmp_path):
    bad = Path(tmp_path / "r.yaml")
    bad.write_text(
        "ruleset: x\nversion: 1\neffective_date: 2022-12-08\nrules:\n"
        "  - {id: A, when: {colour: red}, determination: MAYBE, reason_code: X, citation: c}\n"
        "  - {id: A, when: {substance: WEED}, determination: NOT_ELIGIBLE, reason_code: Y, citation: c}\n"
    )
    result = invoke("rules", "check", str(bad))
    assert result.exit_code == 1
    for problem in (
        "unknown fact 'colour'",
        "determination 'MAYBE'",
        "duplicate id",
        "no value 'WEED'",
        "must be a catch-all",
    ):
        assert problem in result.output


def test_run_output_and_logs_carry_no_personal_data(tmp_path, caplog):
    import logging

    import pandas as pd

    caplog.set_level(logging.DEBUG)
    result = invoke("run", str(SAMPLE), "--out", str(tmp_path), "--as-of", "2026-11-27", "--orchestrator", "none")
    sample = pd.read_csv(SAMPLE, dtype=str, on_bad_lines="skip")
    personal = set((sample["first_name"] + " " + sample["last_name"]).dropna()) | set(sample["address"].dropna()) \
        | set(sample["dob"].dropna())
    text = result.output + caplog.text
    assert result.exit_code == 0 and not any(v in text for v in personal)


def test_a_run_that_fails_before_it_starts_still_writes_its_failed_line(tmp_path):
    import json

    result = invoke("run", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "out"), "--orchestrator", "none")
    assert result.exit_code == 1
    [entry] = [json.loads(line) for line in (tmp_path / "out" / "runs.jsonl").read_text().splitlines()]
    assert entry["status"] == "failed" and "does not exist" in entry["message"]


def test_run_off_a_terminal_logs_each_stage_with_its_counts_and_rate(tmp_path, caplog):
    import logging
    import re

    from expunge.ops.progress import LOGGER
    from expunge.sample import write_sample

    caplog.set_level(logging.INFO, logger=LOGGER)
    export = write_sample(tmp_path / "night.csv", 40, seed=3)
    result = invoke("run", str(export), "--out", str(tmp_path / "out"), "--as-of", "2026-11-27", "--no-documents",
                    "--cache-dir", str(tmp_path / "cache"), "--orchestrator", "none")
    assert result.exit_code == 0, result.output
    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert "ingest: 1 file to go" in lines and "ingest: 1/1 files, 40 rows" in " ".join(lines)
    for stage, counted in (("ingest", "rows"), ("decide", "charges"), ("publish", "charges")):
        assert any(re.fullmatch(rf"{stage}: 1/1 \w+, [\d,]+ {counted}, [\d,]+ {counted}/s, \d+ s", line)
                   for line in lines), lines
    assert any(re.fullmatch(r"publish: rollups done, [\d.]+ s", line) for line in lines)


def test_a_charge_code_file_that_does_not_exist_stops_the_run_and_is_logged(tmp_path):
    import json

    result = CliRunner().invoke(main, ["run", str(SAMPLE), "--out", str(tmp_path / "out"), "--orchestrator", "none",
                                       "--charge-codes", str(tmp_path / "missing.csv"), "--no-progress"])
    assert result.exit_code == 1 and "--charge-codes file" in result.output and "does not exist" in result.output
    [line] = [json.loads(x) for x in (tmp_path / "out" / "runs.jsonl").read_text().splitlines()]
    assert line["status"] == "failed" and "--charge-codes" in line["message"]
