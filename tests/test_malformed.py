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
    # Each file is far smaller than the published run: --accept-shrink lets the shrink guard
    # publish it (tests/test_delivery.py tests the guard), so what is tested here is the reading.
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(published), "--run-id", f"m-{name}",
                                       "--as-of", "2026-11-27", "--orchestrator", "none", "--accept-shrink"])
    assert "Traceback" not in result.output
    assert snapshot(published / "good") == before
    if name == "header_only.csv":  # no rows: never a snapshot of the state, held whatever is accepted
        assert result.exit_code == 4 and "no rows" in result.output
        assert not (published / f"m-{name}").exists() and (published / "latest").resolve() == latest
    elif name in STOPS:
        assert result.exit_code == 1 and STOPS[name] in result.output
        assert not (published / f"m-{name}").exists() and (published / "latest").resolve() == latest
    else:
        assert result.exit_code == 0, result.output + "".join(traceback.format_exception(*result.exc_info))
        run = published / f"m-{name}"
        rows = json.loads((run / "manifest.json").read_text())["rows"]
        assert rows["accounting_holds"] and rows["read"] == rows["charges"] + rows["quarantined"]
        assert pq.read_table(run / "quarantine.parquet").num_rows == QUARANTINED[name]


# Hypothesis: generated exports — random columns, cells with delimiters, quotes, line breaks,
# stray bytes, ragged rows — meet the same invariant as the corpus.
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from expunge.errors import ExpungeError  # noqa: E402
from expunge.ops.run import run_pipeline  # noqa: E402
from tests.conftest import AS_OF  # noqa: E402

FIELDS = ["case_number", "charge_seq", "county", "court", "charge_code", "statute", "charge_description",
          "disposition", "disposition_date", "offense_date", "dob", "last_name", "first_name", "charge_level"]
CELL = st.one_of(
    st.sampled_from(["", "1622-CR00001", "0011-TR00007", "1", "2", "x", "POSS MARIJ 35G OR LESS", "GUILTY PLEA",
                     "DISMISSED", "2019-02-30", "13/45/2020", "2019-06-01", "06/01/2019", "MISDEMEANOR", "35-42",
                     "579.015", "ST. LOUIS", "22ND JUDICIAL CIRCUIT"]),
    st.text(alphabet=st.sampled_from(list('ab ,"\n\r;\t\x00é\u201c')), max_size=12),
)


@st.composite
def exports(draw) -> bytes:  # type: ignore[no-untyped-def]
    header = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=len(FIELDS), unique=True))
    if draw(st.integers(0, 3)) and "case_number" not in header:  # mostly a usable layout
        header = ["case_number", "charge_description", *(h for h in header if h != "charge_description")]
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=len(header) + 2), max_size=12))

    def line(cells: list[str]) -> str:
        return ",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' if draw(st.booleans()) else c for c in cells)

    text = "\n".join([line(header), *(line(r) for r in rows)]) + draw(st.sampled_from(["", "\n", "\r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return text.encode(encoding, errors="replace")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=exports())
def test_generated_exports_meet_the_same_invariant(data, published, tmp_path_factory):
    before = snapshot(published / "good")
    folder = tmp_path_factory.mktemp("generated")
    export = folder / "export.csv"
    export.write_bytes(data)
    try:
        run = run_pipeline([export], folder / "out", AS_OF, run_id="gen", cache_dir=folder / "cache")
    except ExpungeError as exc:  # stopped: with a message that says what to do, nothing published
        event("stopped with a message")
        assert str(exc) and not (folder / "out" / "gen").exists()
    else:
        rows = json.loads((run / "manifest.json").read_text())["rows"]
        event("published")
        assert rows["accounting_holds"] and rows["read"] == rows["charges"] + rows["quarantined"]
        assert pq.read_table(run / "quarantine.parquet").num_rows == rows["quarantined"]
    assert snapshot(published / "good") == before
