"""End to end without Prefect: the sample export in, every output of DATA_CONTRACT.md out."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import yaml

from expunge.errors import OutputExistsError
from expunge.ops.run import run_pipeline
from expunge.publish.outputs import charges_schema
from tests.conftest import AS_OF, ROOT, SAMPLE

CONTRACT_COLUMNS = [
    "run_id",
    "source_file",
    "source_line",
    "case_number",
    "charge_seq",
    "county",
    "case_kind",
    "charge_code_raw",
    "statute_raw",
    "description_raw",
    "statute_normalized",
    "charge_code_normalized",
    "offense_family",
    "substance",
    "level",
    "class",
    "amount_g",
    "disposition_class",
    "match_method",
    "match_score",
    "determination",
    "reason_code",
    "rule_id",
    "citation",
    "caveats",
    "deadline",
    "overdue",
    "person_key",
]


@pytest.fixture(scope="module")
def run_dir(sample_run):
    return sample_run


@pytest.fixture(scope="module")
def charges(run_dir) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "charges")


@pytest.fixture(scope="module")
def manifest(run_dir) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


def test_run_folder_holds_every_contract_output(run_dir):
    for name in (
        "charges",
        "cases.parquet",
        "review_queue.csv",
        "petitions",
        "quarantine.parquet",
        "summary",
        "manifest.json",
    ):
        assert (run_dir / name).exists(), name


def test_rows_read_equal_charges_plus_quarantined(manifest, charges, run_dir):
    lines = SAMPLE.read_text().count("\n") - 1
    quarantined = pq.read_table(run_dir / "quarantine.parquet").num_rows
    assert manifest["rows"]["read"] == lines == len(charges) + quarantined
    assert manifest["rows"]["accounting_holds"] is True


def test_charges_carry_every_contract_column(charges):
    assert set(CONTRACT_COLUMNS) <= set(charges.columns)


def test_charges_types_follow_the_schema_file(run_dir):
    written = ds.dataset(run_dir / "charges", partitioning="hive").schema
    for f in charges_schema():
        if f.name != "county":
            assert written.field(f.name).type == f.type, f.name


def test_schema_file_documents_every_written_column(run_dir):
    doc = yaml.safe_load((ROOT / "schemas" / "charges.v1.yaml").read_text())
    written = set(ds.dataset(run_dir / "charges", partitioning="hive").schema.names)
    assert written == set(doc["columns"])


def test_duckdb_queries_the_charges_dataset_directly(run_dir, charges):
    con = duckdb.connect()
    n = con.execute(
        f"select count(*) from read_parquet('{run_dir}/charges/**/*.parquet', hive_partitioning=true)"
    ).fetchone()[0]
    by_county = con.execute(
        f"select county, count(*) from read_parquet('{run_dir}/charges/**/*.parquet', "
        "hive_partitioning=true) where county = 'ST. LOUIS CITY' group by county"
    ).fetchall()
    assert n == len(charges)
    assert by_county[0][1] == (charges["county"] == "ST. LOUIS CITY").sum()


def test_every_decision_carries_rule_reason_and_citation(charges):
    assert charges[["rule_id", "reason_code", "citation", "determination"]].notna().all().all()


def test_every_review_row_names_its_missing_fact(run_dir):
    queue = pd.read_csv(run_dir / "review_queue.csv")
    assert len(queue) > 0 and queue["missing_fact"].notna().all()
    assert {"answer_substance", "answer_amount_g", "answer_decision"} <= set(queue.columns)


def test_petitions_list_only_eligible_charges(run_dir):
    files = list((run_dir / "petitions").rglob("*.csv"))
    rows = pd.concat([pd.read_csv(f) for f in files])
    assert len(files) > 1 and set(rows["determination"]) <= {"ELIGIBLE_AUTO", "ELIGIBLE_PETITION"}


def test_partially_eligible_case_lists_only_its_eligible_charges(run_dir, charges):
    cases = pd.read_parquet(run_dir / "cases.parquet")
    partial = cases[cases["case_status"] == "PARTIAL"]
    assert len(partial) > 0
    case = partial.iloc[0]["case_number"]
    rows = pd.concat([pd.read_csv(f) for f in (run_dir / "petitions").rglob("*.csv")])
    listed = sorted(rows[rows["case_number"] == case]["charge_seq"])
    eligible = charges[(charges["case_number"] == case) & charges["determination"].str.startswith("ELIGIBLE")]
    assert listed == sorted(eligible["charge_seq"]) and len(listed) < (charges["case_number"] == case).sum()


def test_no_personal_field_reaches_charges_or_summary(run_dir, charges):
    sample = pd.read_csv(SAMPLE, dtype=str, on_bad_lines="skip")
    personal = ("last_name", "first_name", "middle_name", "dob", "address", "sex", "race")
    assert not set(personal) & set(charges.columns)
    full_names = sample["first_name"] + " " + sample["last_name"]
    names = set(full_names.dropna()) | set(sample["address"].dropna()) | set(sample["dob"].dropna())
    text = " ".join(f.read_text() for f in sorted((run_dir / "summary").iterdir()))
    assert not any(n in text for n in names)
    text_columns = [c for c in charges.columns if not c.endswith("_date") and charges[c].dtype in (object, "str")]
    people = set(full_names.dropna()) | set(sample["address"].dropna())
    assert not charges[text_columns].astype(str).isin(people).any().any()


def test_summary_suppresses_small_cells(run_dir):
    table = pd.read_csv(run_dir / "summary" / "by_county.csv")
    for col in ("charges", "cases", "people"):
        assert not table[col].between(1, 9).any()
    assert table["suppressed"].notna().any()


def test_headline_gives_bounds_for_people(run_dir):
    head = json.loads((run_dir / "summary" / "headline.json").read_text())
    assert head["people"]["affected_lower"] <= head["people"]["affected_upper"] <= head["people"]["total"]


def test_manifest_records_rules_policies_and_inputs(manifest):
    assert manifest["ruleset"]["name"] == "mo-a3" and len(manifest["ruleset"]["sha256"]) == 64
    assert manifest["policies"]["conflated_code_without_modifier"] == "assume_marijuana"
    assert manifest["inputs"][0]["sha256"] and manifest["as_of"] == AS_OF.isoformat()


def test_quarantine_names_file_line_field_and_reason(run_dir):
    q = pq.read_table(run_dir / "quarantine.parquet").to_pandas()
    assert len(q) == 12 and q[["source_file", "source_line", "field", "reason"]].notna().all().all()


def test_same_inputs_give_byte_identical_data_files(tmp_path, run_dir):
    again = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="sample")
    for path in sorted(run_dir.rglob("*")):
        if path.is_file() and path.name != "manifest.json":
            assert path.read_bytes() == (again / path.relative_to(run_dir)).read_bytes(), path


def test_existing_run_folder_is_not_overwritten_unless_asked(tmp_path):
    run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="x")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="x")
    assert run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="x", overwrite=True).exists()


def test_failed_run_leaves_no_run_folder(tmp_path, monkeypatch):
    from expunge.ops import run as outputs  # the run calls write_outputs from here

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outputs, "write_outputs", boom)
    with pytest.raises(RuntimeError):
        run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="y")
    assert [p.name for p in tmp_path.iterdir()] == ["runs.jsonl"]


def test_a_failed_run_is_logged_with_what_to_do(tmp_path, monkeypatch):
    from expunge.ops import run as outputs  # the run calls write_outputs from here

    monkeypatch.setattr(outputs, "write_outputs", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="y")
    [entry] = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    assert entry["status"] == "failed" and entry["run_id"] == "y"
    assert "disk full" in entry["message"] and "Nothing was published" in entry["message"]


def test_a_published_run_is_logged_with_its_counts_and_no_personal_data(tmp_path):
    run = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="y")
    [entry] = [json.loads(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    manifest = json.loads((run / "manifest.json").read_text())
    assert entry["status"] == "published" and entry["rows_read"] == manifest["rows"]["read"] > 0
    assert set(entry) == {"at", "status", "run_id", "inputs", "message", "rows_read", "quarantined",
                          "carried_over", "delivery", "determinations", "changes"}


def test_default_run_id_is_the_as_of_date_and_an_input_hash(tmp_path):
    path = run_pipeline([SAMPLE], tmp_path, AS_OF)
    assert path.name.startswith("2026-11-27-") and len(path.name) == len("2026-11-27-") + 10


def test_petition_files_are_readable_by_their_owner_only(run_dir):
    for f in (run_dir / "petitions").rglob("*.csv"):
        assert f.stat().st_mode & 0o077 == 0


def test_a_hundred_thousand_row_export_runs_and_duckdb_reads_it(tmp_path):
    from click.testing import CliRunner

    from expunge.cli import main
    from expunge.sample import write_sample

    export = write_sample(tmp_path / "big.csv.gz", 100_000, seed=11, malformed=10)
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(export),
            "--out",
            str(tmp_path / "out"),
            "--as-of",
            "2026-11-27",
            "--run-id",
            "big",
            "--orchestrator",
            "none",
            "--no-documents",  # drafts at scale are the bench's; their content is tested on the sample
        ],
    )
    assert result.exit_code == 0, result.output
    n = (
        duckdb.connect()
        .execute(
            f"select count(*) from read_parquet('{tmp_path}/out/big/charges/**/*.parquet', hive_partitioning=true)"
        )
        .fetchone()[0]
    )
    assert n == 100_000


def test_parquet_metadata_carries_no_personal_data(run_dir):
    sample = pd.read_csv(SAMPLE, dtype=str, on_bad_lines="skip")
    names = set(sample["last_name"].dropna()) - {"JACKSON"}  # also a county
    for path in [*run_dir.rglob("*.parquet")]:
        meta = pq.read_metadata(path).metadata or {}
        blob = b" ".join(meta.values()).decode("utf-8", "replace")
        assert not any(f'"{n}"' in blob for n in names), path


def test_bounds_by_county_never_put_the_lower_above_the_upper(run_dir):
    table = pd.read_csv(run_dir / "summary" / "bounds_by_county.csv")
    for unit in ("charges", "cases", "people"):
        both = table[[f"{unit}_lower", f"{unit}_upper"]].dropna()
        assert (both[f"{unit}_lower"] <= both[f"{unit}_upper"]).all()
    assert len(table) == 12


def test_sizing_table_counts_charges_cases_and_people_by_county_offense_period_and_determination(run_dir):
    table = pd.read_csv(run_dir / "summary" / "sizing.csv")
    assert list(table.columns)[:3] == ["county", "offense_period", "determination"]
    assert {"charges", "cases", "people", "suppressed"} <= set(table.columns)
