"""The one CSV writer: the bytes pandas' to_csv writes, except that a carriage return is quoted
so every row reads back whole."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from expunge.ingest import csvfiles as csvout

TEXT = st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
                                    max_size=12),
                 st.sampled_from(['a,b', 'say "hi"', "two\nlines", " padded ", ""]))


def pandas_bytes(frame: pd.DataFrame, tmp_path, header: bool = True) -> bytes:
    path = tmp_path / "pandas.csv"
    frame.to_csv(path, index=False, lineterminator="\n", header=header)
    return path.read_bytes()


def arrow_bytes(frame: pd.DataFrame, tmp_path, header: bool = True) -> bytes:
    path = tmp_path / "arrow.csv"
    csvout.write_csv(frame, path, header=header)
    return path.read_bytes()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(TEXT, st.one_of(st.none(), st.integers(-10**6, 10**6)), st.booleans(),
                          st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64)),
                          st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)))),
                max_size=30))
def test_text_numbers_flags_and_dates_are_written_as_pandas_writes_them(tmp_path_factory, rows):
    tmp_path = tmp_path_factory.mktemp("csv")
    frame = pd.DataFrame(rows, columns=["text", "count", "flag", "amount", "day"])
    frame = frame.astype({"text": "str", "count": "Int32"})
    frame["amount"] = frame["amount"].astype("float64")
    assert arrow_bytes(frame, tmp_path) == pandas_bytes(frame, tmp_path)


def test_rows_are_appended_without_a_second_header(tmp_path):
    frame = pd.DataFrame({"a": ["x", "y"], "b": [1, 2]})
    path = tmp_path / "out.csv"
    csvout.write_csv(frame, path)
    csvout.write_csv(frame, path, header=False, append=True)
    assert path.read_text() == "a,b\nx,1\ny,2\nx,1\ny,2\n"


def test_timestamps_are_written_as_pandas_writes_them(tmp_path):
    timed = pd.DataFrame({"when": pd.to_datetime(["2020-01-02", "2021-03-04 05:06:07", None], format="ISO8601"),
                          "n": [1, 2, 3]})
    dated = timed.assign(when=pd.to_datetime(["2020-01-02", None, "2021-03-04"]))
    assert arrow_bytes(timed, tmp_path) == pandas_bytes(timed, tmp_path)
    assert arrow_bytes(dated, tmp_path) == pandas_bytes(dated, tmp_path)


def test_categories_and_mixed_objects_are_written_as_pandas_writes_them(tmp_path):
    frame = pd.DataFrame({"kind": pd.Categorical(["b", None, "a,c"]), "mixed": [1, "two", None], "n": [1, 2, 3]})
    assert arrow_bytes(frame, tmp_path) == pandas_bytes(frame, tmp_path)


def test_a_one_column_row_with_an_empty_field_is_not_an_empty_line(tmp_path):
    frame = pd.DataFrame({"only": ["x", "", None]})
    assert arrow_bytes(frame, tmp_path) == pandas_bytes(frame, tmp_path) == b'only\nx\n""\n""\n'


def test_a_carriage_return_inside_a_field_is_quoted_so_the_row_reads_back_whole(tmp_path):
    frame = pd.DataFrame({"description": ["POSS\rMARIJUANA", "plain"], "seq": [1, 2]})
    assert arrow_bytes(frame, tmp_path) == b'description,seq\n"POSS\rMARIJUANA",1\nplain,2\n'
    back = pd.read_csv(tmp_path / "arrow.csv", dtype=str, keep_default_na=False)
    assert back["description"].tolist() == ["POSS\rMARIJUANA", "plain"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=10), st.text(max_size=10)), max_size=20))
def test_any_text_reads_back_as_written(tmp_path_factory, rows):
    import csv

    path = tmp_path_factory.mktemp("csv") / "rows.csv"
    csvout.write_csv(pd.DataFrame(rows, columns=["a", "b"]), path)
    with path.open(newline="", encoding="utf-8") as fh:
        back = list(csv.reader(fh))
    assert back == [["a", "b"], *[list(r) for r in rows]]


def test_large_frames_are_written_in_chunks_with_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(csvout, "CHUNK_ROWS", 7)
    frame = pd.DataFrame({"case": [f"C,{i}" for i in range(50)], "seq": np.arange(50, dtype="int32")})
    assert arrow_bytes(frame, tmp_path) == pandas_bytes(frame, tmp_path)
