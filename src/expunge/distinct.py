"""Run a column function once per distinct value and gather the result back to every row.

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
        codes, uniq_index = pd.MultiIndex.from_frame(keys).factorize() if len(keys.columns) > 1 else \
            pd.factorize(keys.iloc[:, 0])
        if len(keys.columns) > 1:
            uniques = pd.DataFrame(list(uniq_index), columns=keys.columns)
        else:
            uniques = pd.DataFrame({keys.columns[0]: np.asarray(uniq_index, dtype=object)})
    else:
        codes, uniq = pd.factorize(values.fillna(fill).astype("str"))
        uniques = pd.Series(np.asarray(uniq, dtype=object), dtype="str")
    result = fn(uniques)
    out = result.iloc[codes]
    out.index = values.index
    return out


def hash_distinct(values: pd.Series, salt: str = "", length: int = 16) -> pd.Series:
    """SHA-256 (hex, first ``length`` characters) of ``salt|value`` for each value, computed
    once per distinct value; missing values stay missing. An empty salt hashes the value alone."""
    import hashlib

    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    prefix = f"{salt}|" if salt else ""
    hashed = np.array([hashlib.sha256(f"{prefix}{u}".encode()).hexdigest()[:length] for u in uniq] + [None],
                      dtype=object)
    return pd.Series(hashed[np.where(codes < 0, len(uniq), codes)], index=values.index)
