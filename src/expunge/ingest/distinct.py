"""Column helpers: run a column function once per distinct value and gather the result back
to every row; a column an export may lack.

Court exports repeat a few thousand distinct codes, descriptions, dispositions, counties
and level strings across millions of rows; parsing each distinct value once and joining
back by integer codes keeps the cost proportional to the distinct values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def per_distinct(values: pd.Series | pd.DataFrame, fn: Callable, *, fill: str = "") -> pd.DataFrame | pd.Series:
    """Apply ``fn`` to the distinct values (or distinct rows of a frame) of ``values``.

    Args:
        values: a Series, or a DataFrame whose rows form the key.
        fn: takes a Series (or DataFrame) of distinct keys with a fresh RangeIndex and returns
            a Series or DataFrame aligned to it.
        fill: stands in for missing values while grouping (``fn`` sees it as-is).

    Returns:
        ``fn``'s result, one row per row of ``values``, indexed like ``values``.
    """
    if isinstance(values, pd.DataFrame):
        keys = values.fillna(fill).astype("str")
        codes = row_codes(keys)
        first = np.unique(codes, return_index=True)[1]  # each distinct row's first occurrence
        uniques = keys.iloc[first].reset_index(drop=True)  # text stays Arrow-backed: vectorized str methods
    else:
        codes, uniq = pd.factorize(values.fillna(fill).astype("str"))
        uniques = pd.Series(np.asarray(uniq, dtype=object), dtype="str")
    result = fn(uniques)
    out = result.iloc[codes]
    out.index = values.index
    return out


def row_codes(frame: pd.DataFrame) -> np.ndarray:
    """An integer per row, equal for equal rows, numbered in order of first appearance (the
    codes of ``MultiIndex.factorize`` without building the tuples)."""
    codes = np.zeros(len(frame), dtype=np.int64)
    for c in frame.columns:
        col, uniq = pd.factorize(frame[c], use_na_sentinel=False)
        codes, _ = pd.factorize(codes * len(uniq) + col)  # stays below rows x distinct values
    return codes


def hash_distinct(values: pd.Series, salt: str = "", length: int = 16) -> pd.Series:
    """SHA-256 (hex, first ``length`` characters) of ``salt|value`` for each value, computed
    once per distinct value; missing values stay missing. An empty salt hashes the value alone."""
    import hashlib

    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    prefix = f"{salt}|".encode() if salt else b""
    text = np.asarray(uniq, dtype=object).tolist()  # plain str: iterating an Arrow-backed array is slow
    sha = hashlib.sha256  # bytes joined, no f-string per value: half the time of formatting each
    hashed = np.array([sha(prefix + str(u).encode()).hexdigest()[:length] for u in text] + [None], dtype=object)
    return pd.Series(hashed[np.where(codes < 0, len(uniq), codes)], index=values.index)


def joined_per_group(frame: pd.DataFrame, keys: list[str], col: str, sep: str,
                     aggregate: str = "list") -> pd.Series:
    """Per group of ``keys``: the values of ``col`` in ascending order, joined by ``sep``
    (``aggregate="distinct"``: each value once). Arrow sort and group_by, no Python per
    group; indexed by the key (a MultiIndex for several keys)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = pa.Table.from_pandas(frame[[*keys, col]], preserve_index=False)
    t = t.sort_by([(c, "ascending") for c in (*keys, col)])
    grouped = t.group_by(keys, use_threads=False).aggregate([(col, aggregate)])
    joined = pc.binary_join(pc.cast(grouped.column(f"{col}_{aggregate}"), pa.list_(pa.string())), sep)
    index = pd.MultiIndex.from_arrays([grouped.column(k).to_pandas() for k in keys], names=keys) if len(keys) > 1 \
        else pd.Index(grouped.column(keys[0]).to_pandas(), name=keys[0])
    return pd.Series(joined.to_pandas().to_numpy(), index=index)


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """``frame[name]``, or all missing (``None``, aligned to the frame) when the export lacks it."""
    return frame[name] if name in frame else pd.Series([None] * len(frame), index=frame.index, dtype="object")
