"""CSV files for clerks, written with Arrow kernels: the bytes of pandas' ``to_csv``.

Stage: publish. ``DataFrame.to_csv`` formats every cell in Python; for the petition lists
and review queues of a statewide export that was a third of publishing. ``write_csv``
builds each column's text with vectorized string kernels (quoting as Python's ``csv``
module does with ``QUOTE_MINIMAL``: fields holding a comma, a double quote or a line feed)
and writes the joined rows straight from Arrow's buffer. Columns of a type it does not
format the same way as pandas (timestamps, categories) send the frame to ``to_csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types

from expunge.publish.workbooks import concatenated

CHUNK_ROWS = 100_000
_NEEDS_QUOTES = '[,"\n]'


def _quoted(text: pa.Array) -> pa.Array:
    if not pc.any(pc.match_substring_regex(text, _NEEDS_QUOTES)).as_py():
        return text
    wrapped = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(pc.match_substring_regex(text, _NEEDS_QUOTES), wrapped, text)


def column_text(values: pd.Series) -> pa.Array | None:
    """A column's CSV fields as pandas writes them ('' for missing), or None for a type
    this module does not format."""
    if isinstance(values.dtype, pd.CategoricalDtype) or types.is_datetime64_any_dtype(values) \
            or types.is_timedelta64_dtype(values) or types.is_complex_dtype(values):
        return None
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
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if pa.types.is_null(arr.type):
        return pa.array([""] * len(arr), type=pa.string())
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return pc.fill_null(_quoted(pc.cast(arr, pa.string())), "")
    if pa.types.is_date32(arr.type):
        return pc.fill_null(pc.cast(arr, pa.string()), "")
    return None


def write_csv(frame: pd.DataFrame, path: Path, header: bool = True, append: bool = False) -> None:
    """``frame.to_csv(path, index=False, lineterminator="\\n", header=header, mode="a" if
    append else "w")``, the same bytes, ``CHUNK_ROWS`` rows at a time."""
    pieces = [column_text(frame.iloc[:0][c]) for c in frame.columns] if len(frame.columns) > 1 else [None]
    if any(p is None for p in pieces) or frame.columns.duplicated().any():
        frame.to_csv(path, index=False, lineterminator="\n", header=header, mode="a" if append else "w")
        return
    with Path(path).open("ab" if append else "wb") as out:
        if header:
            names = _quoted(pa.array([str(c) for c in frame.columns], type=pa.string())).to_pylist()
            out.write((",".join(names) + "\n").encode())
        for start in range(0, len(frame), CHUNK_ROWS):
            chunk = frame.iloc[start:start + CHUNK_ROWS]
            cols = [column_text(chunk[c]) for c in chunk.columns]
            if any(c is None for c in cols):  # an object column holding other types
                chunk.to_csv(out, index=False, lineterminator="\n", header=False)
                continue
            rows = pc.binary_join_element_wise(*cols, ",")
            out.write(concatenated(pc.binary_join_element_wise(rows, "\n", "")))
