"""The byte scanner agrees with Python's csv module on record boundaries, line numbers
and field counts, for any CSV text (hypothesis) and for the quoting traps of real exports."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from expunge.ingest.scan import scan


def reference(text: str) -> list[tuple[int, int]]:
    """(first physical line, field count) of each non-blank record, per Python's csv."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out = []
    line = 1
    for row in reader:
        start = line
        line = reader.line_num + 1
        if row:
            out.append((start, len(row)))
    return out


def scanned(data: bytes) -> list[tuple[int, int]]:
    r = scan(data, ",", final=True)
    return [
        (int(nb) + 1, int(f))
        for s, e, f, nb in zip(r.starts, r.ends, r.fields, r.newlines_before, strict=True)
        if e > s
    ]


def test_quoted_comma_is_one_field():
    assert scanned(b'a,"b,c",d\n') == [(1, 3)]


def test_embedded_newline_keeps_the_record_together_and_counts_lines():
    assert scanned(b'a,"x\ny",b\nc,d,e\n') == [(1, 3), (3, 3)]


def test_quote_in_the_middle_of_an_unquoted_field_is_literal():
    assert scanned(b'1,POSS 12" BLADE,3\n4,5,6\n') == [(1, 3), (2, 3)]


def test_doubled_quotes_inside_a_quoted_field_are_literal():
    assert scanned(b'1,"a ""q"" b",3\n') == [(1, 3)]


def test_bare_carriage_returns_end_records_like_line_feeds():
    assert scanned(b"a,b\rc,d\r") == [(1, 2), (2, 2)]


def test_crlf_line_endings():
    r = scan(b"a,b\r\nc,d\r\n", ",", final=True)
    assert [bytes(b"a,b\r\nc,d\r\n"[s:e]) for s, e in zip(r.starts, r.ends, strict=True)] == [b"a,b", b"c,d"]


def test_incomplete_last_record_is_left_for_the_next_block():
    r = scan(b"a,b\nc,d", ",", final=False)
    assert r.consumed == 4 and r.starts.size == 1


def test_last_record_without_newline_counts_at_end_of_file():
    assert scanned(b"a,b\nc,d") == [(1, 2), (2, 2)]


field_text = st.text(alphabet=st.sampled_from(list("ab ,\"\n\r'é1")), max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(field_text, min_size=1, max_size=5), min_size=1, max_size=8))
def test_scanner_matches_python_csv_on_any_well_formed_file(rows):
    # Expected: each row's first line feed-counted line, and its field count.
    text, expected = "", []
    for row in rows:
        buf = io.StringIO(newline="")
        csv.writer(buf, lineterminator="\r\n").writerow(row)
        assume(buf.getvalue().strip("\r\n") != "")  # the writer emits a blank line for ['\r']
        expected.append((len(re.findall(r"\r\n|\r|\n", text)) + 1, len(row)))
        text += buf.getvalue()
    assert scanned(text.encode("utf-8")) == expected
    assert [n for _, n in reference(text)] == [n for _, n in expected]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab,"\n x')), max_size=60))
def test_scanner_never_crashes_and_covers_every_byte(text):
    data = text.encode()
    r = scan(data, ",", final=True)
    assert r.consumed == len(data)
    if r.starts.size:
        assert r.starts[0] == 0
        assert (r.starts[1:] == r.next_starts[:-1]).all()


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab,"\n\r x')), max_size=80), st.booleans())
def test_the_quote_parity_shortcut_finds_what_the_quote_by_quote_rules_find(text, final):
    from unittest import mock

    from expunge.ingest import scan as csvscan

    data = text.encode()
    fast = scan(data, ",", final=final)
    with mock.patch.object(csvscan, "_inside_by_parity", lambda *a: None):
        exact = scan(data, ",", final=final)
    for name in ("starts", "ends", "next_starts", "fields", "newlines_before"):
        assert getattr(fast, name).tolist() == getattr(exact, name).tolist(), name
    assert (fast.consumed, fast.newlines_consumed) == (exact.consumed, exact.newlines_consumed)


def test_a_common_export_takes_the_parity_shortcut():
    from expunge.ingest import scan as csvscan

    data = np.frombuffer(b'"a","b ""x""",c\n"d","e,f","g"\n', dtype=np.uint8)
    special = np.flatnonzero((data == 34) | (data == 44) | (data == 10) | (data == 13))
    assert csvscan._inside_by_parity(data, special, data[special], 44) is not None
    data = np.frombuffer(b'a,12" BLADE,c\n', dtype=np.uint8)
    special = np.flatnonzero((data == 34) | (data == 44) | (data == 10) | (data == 13))
    assert csvscan._inside_by_parity(data, special, data[special], 44) is None
