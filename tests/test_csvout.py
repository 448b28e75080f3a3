"""The Arrow CSV writer writes the bytes pandas' to_csv writes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from expunge.publish import csvfiles as csvout

TEXT = st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
                 st.sampled_from(['a,b', 'say "hi"', "two\nlines", "cr\rhere", " padded ", ""]))


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


def test_frames_with_types_it_does_not_format_are_left_to_pandas(tmp_path):
    frame = pd.DataFrame({"when": pd.to_datetime(["2020-01-02", "2021-03-04 05:06:07"], format="ISO8601"), "n": [1, 2]})
    assert arrow_bytes(frame, tmp_path) == pandas_bytes(frame, tmp_path)


def test_large_frames_are_written_in_chunks_with_the_same_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(csvout, "CHUNK_ROWS", 7)
    frame = pd.DataFrame({"case": [f"C,{i}" for i in range(50)], "seq": np.arange(50, dtype="int32")})
    assert arrow_bytes(frame, tmp_path) == pandas_bytes(frame, tmp_path)
