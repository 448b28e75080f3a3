"""The one CSV writer: every CSV the project writes (petition lists, review queue, summaries,
delta, conflicts, the ledger's file list, the answers store) goes through ``write_csv``.

It writes what pandas' ``to_csv(index=False, lineterminator="\n")`` writes, with one
difference: a field holding a carriage return is quoted too (pandas and Python's ``csv``
module quote only the delimiter, the quote and the line terminator, so a bare CR split the
row for spreadsheet programs reading it back). Each column's text is built with vectorized
Arrow kernels and the joined rows are written straight from Arrow's buffer:
``DataFrame.to_csv`` formats every cell in Python, which was a third of publishing a
statewide export's petition lists and review queue.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types

CHUNK_ROWS = 100_000
_NEEDS_QUOTES = '[,"\r\n]'


def concatenated(text: pa.Array | pa.ChunkedArray) -> memoryview:
    """The strings of ``text`` (no nulls) back to back: its data buffer, not copied."""
    arr = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + len(arr) + 1]
    return memoryview(arr.buffers()[2])[int(offsets[0]):int(offsets[-1])]


def _quoted(text: pa.Array) -> pa.Array:
    if not pc.any(pc.match_substring_regex(text, _NEEDS_QUOTES)).as_py():
        return text
    wrapped = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(pc.match_substring_regex(text, _NEEDS_QUOTES), wrapped, text)


def column_text(values: pd.Series) -> pa.Array:
    """A column's CSV fields as pandas writes them ('' for missing), quoted where needed."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return column_text(values.astype(values.cat.categories.dtype if len(values.cat.categories) else "object"))
    if types.is_datetime64_any_dtype(values):
        stamps = pd.Series(values).dt.tz_localize(None) if getattr(values.dt, "tz", None) else pd.Series(values)
        timed = (stamps.dropna() != stamps.dropna().dt.normalize()).any()
        text = stamps.dt.strftime("%Y-%m-%d %H:%M:%S" if timed else "%Y-%m-%d")
        return pc.fill_null(pa.array(text, type=pa.string(), from_pandas=True), "")
    if types.is_bool_dtype(values):
        flags = pa.array(values, type=pa.bool_(), from_pandas=True)
        return pc.fill_null(pc.if_else(flags, "True", "False"), "")
    if types.is_integer_dtype(values):
        return pc.fill_null(pc.cast(pa.array(values, from_pandas=True), pa.string()), "")
    if types.is_float_dtype(values):
        numbers = values.to_numpy(dtype="float64", na_value=np.nan)
        text = pa.array(numbers.astype(str), type=pa.string())  # NumPy's shortest repr, as pandas
        return pc.if_else(pa.array(np.isnan(numbers)), "", text)
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):  # an object column mixing types: str() of each
        arr = pa.array([None if v is None or v is pd.NA or v != v else str(v) for v in values], type=pa.string())
    if pa.types.is_null(arr.type):
        return pa.array([""] * len(arr), type=pa.string())
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_date32(arr.type) or pa.types.is_date64(arr.type):
        return pc.fill_null(pc.cast(arr, pa.string()), "")
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pa.array([None if v is None else str(v) for v in arr.to_pylist()], type=pa.string())
    return pc.fill_null(_quoted(pc.cast(arr, pa.string())), "")


#: Opens a file a clerk reads in a spreadsheet: without it Excel takes UTF-8 text ("§") for
#: its local code page. Analysts' files (summaries) and the answers store go without.
BOM = b"\xef\xbb\xbf"


def write_csv(frame: pd.DataFrame, path: Path | BinaryIO, header: bool = True, append: bool = False,
              bom: bool = False) -> None:
    """Write ``frame`` (no index, LF line ends) to ``path``, ``CHUNK_ROWS`` rows at a time;
    ``append`` adds rows to an existing file (without a header unless ``header``); ``bom``
    starts a new file with the UTF-8 byte-order mark. ``path`` may be an open binary file."""
    with (nullcontext(path) if hasattr(path, "write") else Path(path).open("ab" if append else "wb")) as out:
        if bom and not append:
            out.write(BOM)
        if header:
            names = _quoted(pa.array([str(c) for c in frame.columns], type=pa.string())).to_pylist()
            out.write((",".join(names) + "\n").encode())
        if not len(frame.columns):
            return
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start:start + CHUNK_ROWS]
            cols = [column_text(chunk.iloc[:, i]) for i in range(chunk.shape[1])]
            # One empty field alone would be an empty line: it is written "" (as Python's csv module does).
            rows = pc.binary_join_element_wise(*cols, ",") if len(cols) > 1 else \
                pc.if_else(pc.equal(cols[0], ""), '""', cols[0])
            out.write(concatenated(pc.binary_join_element_wise(rows, "\n", "")))
