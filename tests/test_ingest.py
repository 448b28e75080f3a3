"""Ingest: nothing lost, nothing silent. Every data line becomes a charge or a quarantine
row with file, line, field and reason; unusable files stop with a message."""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expunge.errors import InputFileError, ProfileError
from expunge.ingest.profiles import load_profile
from expunge.ingest.read import ingest

HEADER = "case_number,county,charge_seq,charge_description,disposition,offense_date\n"


def run(tmp_path: Path, text: str | bytes, name: str = "export.csv", profile=None, block: int = 1 << 20):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    result = ingest([path], profile or load_profile(), tmp_path / "staging", tmp_path / "q.parquet", block_bytes=block)
    charges = ds.dataset(result.parts).to_table().to_pandas() if result.parts else None
    quarantine = pq.read_table(tmp_path / "q.parquet").to_pandas()
    return result, charges, quarantine


def test_good_rows_keep_their_line_numbers(tmp_path):
    result, charges, _ = run(
        tmp_path, HEADER + "C1,JACKSON,1,POSS MARIJ,GUILTY,2019-01-05\nC2,JACKSON,1,STEALING,SIS,2019-02-05\n"
    )
    assert list(charges["source_line"]) == [2, 3]
    assert result.rows_read == 2 and result.rows_quarantined == 0


def test_row_with_wrong_field_count_is_quarantined_with_its_line(tmp_path):
    _, _, q = run(tmp_path, HEADER + "C1,JACKSON,1,POSS MARIJ,GUILTY,2019-01-05\nC2,JACKSON,1,POSS\n")
    assert q[["source_file", "source_line", "field", "reason"]].values.tolist() == [
        ["export.csv", 3, "(row)", "expected 6 fields, found 4"]
    ]


def test_impossible_date_is_quarantined_naming_the_field(tmp_path):
    _, _, q = run(tmp_path, HEADER + "C1,JACKSON,1,POSS,GUILTY,2019-02-30\n")
    assert q.iloc[0]["field"] == "offense_date" and "'2019-02-30' is not a real date" in q.iloc[0]["reason"]


def test_missing_case_number_is_quarantined(tmp_path):
    _, _, q = run(tmp_path, HEADER + ",JACKSON,1,POSS,GUILTY,2019-01-02\n")
    assert q.iloc[0]["field"] == "case_number"


def test_non_numeric_count_is_quarantined(tmp_path):
    _, _, q = run(tmp_path, HEADER + "C1,JACKSON,A,POSS,GUILTY,2019-01-02\n")
    assert q.iloc[0]["reason"] == "charge_seq 'A' is not a whole number"


def test_undecodable_bytes_are_quarantined_with_advice(tmp_path):
    _, charges, q = run(
        tmp_path, HEADER.encode() + b"C1,JACKSON,1,caf\xe9,GUILTY,2019-01-02\nC2,JACKSON,1,OK,GUILTY,2019-01-02\n"
    )
    assert list(charges["case_number"]) == ["C2"]
    assert "not valid utf-8" in q.iloc[0]["reason"] and q.iloc[0]["source_line"] == 2


def test_latin1_profile_reads_accented_text(tmp_path):
    prof = tmp_path / "latin.yaml"
    prof.write_text("profile: latin\nencoding: latin-1\n")
    _, charges, q = run(
        tmp_path, HEADER.encode() + b"C1,JACKSON,1,caf\xe9,GUILTY,2019-01-02\n", profile=load_profile(prof)
    )
    assert charges["charge_description"].tolist() == ["café"] and q.empty


def test_nul_bytes_are_quarantined(tmp_path):
    _, _, q = run(tmp_path, HEADER.encode() + b"C1,JACKSON,1,PO\x00SS,GUILTY,2019-01-02\n")
    assert q.iloc[0]["reason"] == "contains NUL bytes (binary data)"


def test_utf8_bom_and_crlf_are_read(tmp_path):
    text = "\ufeff" + HEADER.replace("\n", "\r\n") + "C1,JACKSON,1,POSS,GUILTY,2019-01-02\r\n"
    _, charges, _ = run(tmp_path, text.encode("utf-8"))
    assert charges["case_number"].tolist() == ["C1"]


def test_gzip_is_detected_by_content_not_name(tmp_path):
    data = gzip.compress((HEADER + "C1,JACKSON,1,POSS,GUILTY,2019-01-02\n").encode())
    result, charges, _ = run(tmp_path, data, name="export.dat")
    assert result.files[0].compressed and len(charges) == 1


def test_truncated_gzip_stops_with_a_message(tmp_path):
    data = gzip.compress((HEADER + "C1,JACKSON,1,POSS,GUILTY,2019-01-02\n" * 2000).encode())
    with pytest.raises(InputFileError, match="damaged or truncated gzip"):
        run(tmp_path, data[: len(data) // 2])


def test_records_spanning_blocks_are_read_whole(tmp_path):
    rows = "".join(f'C{i},JACKSON,1,"multi\nline {i}",GUILTY,2019-01-02\n' for i in range(50))
    _, charges, q = run(tmp_path, HEADER + rows, block=64)
    assert len(charges) == 50 and q.empty
    assert charges["source_line"].tolist() == list(range(2, 102, 2))


def test_aliases_map_other_header_names(tmp_path):
    text = "Case No,County Name,Count,Charge Desc,Disposition,Date Of Offense\nC1,JACKSON,1,POSS,SIS,2019-01-02\n"
    result, charges, _ = run(tmp_path, text)
    assert result.files[0].columns["case_number"] == "Case No"
    assert charges["disposition"].tolist() == ["SIS"]


def test_unknown_extra_columns_are_kept_out_of_the_way(tmp_path):
    result, charges, _ = run(tmp_path, HEADER.strip() + ",Foo\nC1,JACKSON,1,POSS,SIS,2019-01-02,bar\n")
    assert result.files[0].unmapped_columns == ["Foo"] and "Foo" not in charges


def test_file_without_recognisable_columns_stops_with_advice(tmp_path):
    with pytest.raises(InputFileError) as err:
        run(tmp_path, "a,b,c\n1,2,3\n")
    assert "no column maps to case_number" in str(err.value) and "--profile" in str(err.value)


def test_semicolon_file_suggests_the_delimiter(tmp_path):
    with pytest.raises(InputFileError, match="semicolon-separated"):
        run(tmp_path, HEADER.replace(",", ";"))


def test_empty_file_stops_with_a_message(tmp_path):
    with pytest.raises(InputFileError, match="is empty"):
        run(tmp_path, b"")


def test_profile_naming_an_unknown_field_is_rejected(tmp_path):
    prof = tmp_path / "bad.yaml"
    prof.write_text("profile: bad\ncolumns:\n  case_nmuber: CASE\n")
    with pytest.raises(ProfileError, match="unknown profile field 'case_nmuber'"):
        load_profile(prof)


def test_profile_maps_source_columns(tmp_path):
    prof = tmp_path / "p.yaml"
    prof.write_text(
        "profile: x\ncolumns: {case_number: CAUSE, charge_description: OFFENSE_TXT, disposition: RESULT}\n"
        "defaults: {county: COLE}\ndate_format: '%m/%d/%Y'\n"
    )
    text = "CAUSE,OFFENSE_TXT,RESULT,OFFENSE_DATE\nC1,POSS MARIJ,SIS,01/31/2019\n"
    _, charges, _ = run(tmp_path, text, profile=load_profile(prof))
    row = charges.iloc[0]
    assert (row["case_number"], row["county"], str(row["offense_date"])) == ("C1", "COLE", "2019-01-31")


field = st.text(alphabet=st.sampled_from(list('ab1-,"\n /é')), max_size=6)
good_row = st.tuples(
    st.sampled_from(["C1", "C2", ""]),
    field,
    st.sampled_from(["1", "2", "x", ""]),
    field,
    field,
    st.sampled_from(["2019-01-02", "2019-02-30", "", "junk"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.one_of(good_row.map(list), st.lists(field, min_size=1, max_size=8)), max_size=25),
    block=st.sampled_from([32, 257, 1 << 20]),
)
def test_every_row_is_accounted_for(tmp_path, rows, block):
    buf = io.StringIO(newline="")
    buf.write(HEADER)
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    sub = Path(tempfile.mkdtemp(dir=tmp_path))
    text = buf.getvalue()
    result, charges, q = run(sub, text.encode("utf-8"), block=block)
    n_charges = 0 if charges is None else len(charges)
    records = [r for r in csv.reader(io.StringIO(text, newline="")) if r][1:]  # Python's csv, minus the header
    assert result.rows_read == n_charges + len(q) == len(records)


def ingest_in(folder: Path, path: Path, **options) -> tuple:
    result = ingest([path], load_profile(), folder / "staging", folder / "q.parquet", **options)
    charges = [ds.dataset(files).to_table() if files else None for files in result.partitions]
    quarantine = pq.read_table(folder / "q.parquet")
    counts = [(f.rows_read, f.rows_ok, f.rows_quarantined, f.blank_lines) for f in result.files]
    return result, charges, quarantine, counts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.one_of(good_row.map(list), st.lists(field, min_size=1, max_size=8)), max_size=40),
    ending=st.sampled_from(["\r\n", "\n", "\r"]),
    block=st.sampled_from([16, 61, 1 << 20]),
    partitions=st.sampled_from([1, 3]),
    bom=st.booleans(),
)
def test_a_file_cut_for_several_workers_gives_what_one_piece_gives(tmp_path, rows, ending, block, partitions, bom):
    buf = io.StringIO(newline="")
    buf.write(HEADER.replace("\n", ending))
    csv.writer(buf, lineterminator=ending).writerows(rows)
    sub = Path(tempfile.mkdtemp(dir=tmp_path))
    path = sub / "export.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode())
    _, *whole = ingest_in(sub / "one", path, block_bytes=block, partitions=partitions)
    _, *cut = ingest_in(sub / "cut", path, block_bytes=block, partitions=partitions, workers=4, unit_bytes=8)
    assert cut == whole


def test_a_cut_inside_a_quoted_field_makes_ingest_read_the_file_in_one_piece(tmp_path):
    note = '"' + "\n".join(["LINE"] * 400) + '"'  # line feeds inside one quoted field, mid-file
    rows = [f"C{i},JACKSON,1,POSS,GUILTY,2019-01-02\n" for i in range(50)]
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "".join(rows) + f"C99,JACKSON,1,{note},GUILTY,2019-01-02\n" + "".join(rows))
    result, *cut = ingest_in(tmp_path / "cut", path, workers=2, unit_bytes=64)
    _, *whole = ingest_in(tmp_path / "one", path)
    assert cut == whole and len(result.identities) == 1


def test_a_large_file_is_cut_into_one_range_per_worker(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(HEADER + "".join(f"C{i},JACKSON,1,POSS,GUILTY,2019-01-02\n" for i in range(100)))
    result, charges, _, _ = ingest_in(tmp_path, path, workers=3, unit_bytes=64)
    assert len(result.identities) == 3
    assert charges[0].column("source_line").to_pylist() == list(range(2, 102))
