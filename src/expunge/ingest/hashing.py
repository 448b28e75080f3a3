"""Content hashes of charge rows, column by column: what tells a changed charge from an
unchanged one (the ledger) and a repeated row from a new one (duplicates)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash per row over all of ``frame``'s columns (vectorized, stable for the
    same pandas version, which is part of the context); ``pandas.util.hash_pandas_object``
    of the frame as text."""
    return combine_hashes(list(column_hashes(frame).values()), len(frame))


def column_hashes(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """A 64-bit hash of each value of each column, over ``as_text``: rows hashed by
    ``combine_hashes`` over a choice of columns can share the columns' work."""
    if frame.empty:
        return {str(c): np.zeros(len(frame), dtype=np.uint64) for c in frame.columns}
    text = as_text(frame)
    return {str(c): pd.util.hash_array(text[c].array) for c in text.columns}


def combine_hashes(columns: Sequence[np.ndarray], rows: int) -> np.ndarray:
    """One hash per row from column hashes, combined as pandas combines a frame's (the tuple
    hash of CPython), so ``row_hashes`` equals ``hash_pandas_object`` of the text frame."""
    out = np.full(rows, 0x345678, dtype=np.uint64)
    mult = np.uint64(1000003)
    for i, h in enumerate(columns):
        out ^= h
        out *= mult
        mult += np.uint64(82520 + 2 * (len(columns) - i))
    return out + np.uint64(97531) if len(columns) else np.full(rows, 0x345678 + 97531, dtype=np.uint64)


def as_text(frame: pd.DataFrame, missing: str = "\x00") -> pd.DataFrame:
    """Every column as text (dates ISO, numbers as written), ``missing`` for missing values,
    cast by Arrow: one dtype, so equal values hash equally."""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):  # an object column mixing types
        return frame.astype("str").fillna(missing)
    cols = [pc.fill_null(pc.cast(col, pa.string()), missing) for col in table.columns]
    return pa.table(cols, names=[str(c) for c in frame.columns]).to_pandas()
