"""Every file of the malformed corpus: no traceback; either every row is accounted for or
the run stops with a message saying what to do; nothing already published is touched."""

from __future__ import annotations

import hashlib
import json
import sys
import traceback
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from expunge.cli import main
from tests.conftest import ROOT, SAMPLE

CORPUS = ROOT / "tests" / "fixtures" / "malformed"
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import make_malformed  # noqa: E402

STOPS = {
    "empty.csv": "is empty", "zero_bytes.csv.gz": "is empty", "no_header.csv": "no column maps to case_number",
    "semicolon_delimited.csv": "semicolon-separated", "truncated.csv.gz": "damaged or truncated gzip",
    "a_directory.csv": "is a folder",
}
QUARANTINED = {
    "header_only.csv": 0, "extra_columns.csv": 0, "missing_optional_columns.csv": 0, "ragged_rows.csv": 2,
    "embedded_newlines_and_quotes.csv": 0, "latin1_bytes.csv": 1, "windows1252_quotes.csv": 1, "utf8_bom.csv": 0,
    "nul_bytes.csv": 1, "huge_field.csv": 1, "mixed_and_impossible_dates.csv": 3, "duplicate_rows.csv": 2,
    "duplicate_keys_different_content.csv": 2, "crlf_and_bare_cr.csv": 0,
}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(main, ["run", str(SAMPLE), "--out", str(out), "--run-id", "good", "--as-of",
                                       "2026-11-27", "--orchestrator", "none", "--cache-dir", str(out / ".cache")])
    assert result.exit_code == 0
    return out


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def corpus() -> list[Path]:
    return sorted(CORPUS.iterdir())


def test_the_corpus_covers_every_case():
    names = {p.name for p in corpus()} | set(make_malformed.generated())
    assert names == set(STOPS) | set(QUARANTINED)


@pytest.mark.parametrize("name", sorted(set(STOPS) | set(QUARANTINED)))
def test_malformed_input_never_crashes_or_touches_published_runs(name, published, tmp_path):
    path = CORPUS / name
    if name in make_malformed.generated():
        path = tmp_path / name
        path.write_bytes(make_malformed.generated()[name])
    before = snapshot(published / "good")
    latest = (published / "latest").resolve()
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(published), "--run-id", f"m-{name}",
                                       "--as-of", "2026-11-27", "--orchestrator", "none"])
    assert "Traceback" not in result.output
    assert snapshot(published / "good") == before
    if name in STOPS:
        assert result.exit_code == 1 and STOPS[name] in result.output
        assert not (published / f"m-{name}").exists() and (published / "latest").resolve() == latest
    else:
        assert result.exit_code == 0, result.output + "".join(traceback.format_exception(*result.exc_info))
        run = published / f"m-{name}"
        rows = json.loads((run / "manifest.json").read_text())["rows"]
        assert rows["accounting_holds"] and rows["read"] == rows["charges"] + rows["quarantined"]
        assert pq.read_table(run / "quarantine.parquet").num_rows == QUARANTINED[name]
