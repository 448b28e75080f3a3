"""Duplicate charges across a batch: quarantined, never silently kept or picked.

Run on each partition of whole cases as it is decided. An exact copy of an earlier row (same content,
wherever it came from) is quarantined naming the row it copies; rows that share a case
number and count but differ are all quarantined, naming each other, because the pipeline
cannot know which one is right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from expunge.ingest.hashing import column_hashes, combine_hashes
from expunge.ingest.profiles import input_schema
from expunge.ingest.read import QUARANTINE_SCHEMA


def find_duplicates(charges: pd.DataFrame, hashed: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, pa.Table]:
    """Rows to keep, and the quarantine rows for the others. ``hashed``: the input fields'
    ``hashing.column_hashes`` when the caller has them already."""
    fields = [f for f in input_schema().fields if f in charges]
    hashed = hashed if hashed is not None else column_hashes(charges[fields])
    content = combine_hashes([hashed[f] for f in fields], len(charges))
    files = charges["source_file"].astype(str).to_numpy()
    lines = charges["source_line"].to_numpy()

    def where(rows: np.ndarray) -> np.ndarray:  # "file:line", only for the rows named
        return np.char.add(np.char.add(files[rows].astype(str), ":"), lines[rows].astype(str)).astype(object)

    exact = pd.Series(content).duplicated(keep="first").to_numpy()
    first_row = pd.Series(np.arange(len(charges))).groupby(content).transform("first").to_numpy()
    keyed = charges["charge_seq"].notna().to_numpy() & ~exact
    key = charges["case_number"].astype(str) + "#" + charges["charge_seq"].astype("string").fillna("")
    k = pd.DataFrame({"key": key.to_numpy(), "content": content})[keyed]
    variants = k.groupby("key")["content"].transform("nunique")
    clash_rows = k.index[variants.to_numpy() > 1].to_numpy()
    others = pd.Series(where(clash_rows), index=clash_rows).groupby(k.loc[clash_rows, "key"].to_numpy()).transform(
        lambda w: ", ".join(w))
    reasons = np.full(len(charges), "", dtype=object)
    reasons[exact] = "exact duplicate of " + where(first_row[exact])
    reasons[clash_rows] = ("case " + charges["case_number"].to_numpy()[clash_rows].astype(str) + " count "
                           + charges["charge_seq"].astype(str).to_numpy()[clash_rows]
                           + " appears with different content at " + others.to_numpy())
    drop = exact.copy()
    drop[clash_rows] = True
    rows = np.flatnonzero(drop)
    picked = charges.iloc[rows]
    raw = (picked["case_number"].astype(str) + "," + picked["charge_seq"].astype(str) + ","
           + picked["charge_description"].astype(str)).to_numpy()
    table = pa.table({
        "source_file": pa.array(files[rows].astype(str)),
        "source_line": pa.array(lines[rows].astype(np.int64)),
        "field": pa.array(["(row)"] * rows.size, pa.string()),
        "reason": pa.array(reasons[rows].astype(str)),
        "raw_record": pa.array(raw.astype(str)),
    }, schema=QUARANTINE_SCHEMA)
    return ~drop, table
