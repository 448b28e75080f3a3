"""Partitions: split a large export into independent groups of whole cases.

Ingest writes its rows through a ``PartitionWriter``; decide reads one partition at a
time. Every charge goes to the partition of its case number's hash, so a case (and
everything a rule may look at) is always in one partition, and each partition can be
decided alone, in bounded memory, on this machine or a Dask cluster. People span
partitions; what linking needs from the whole export is the small ``identities.PersonIndex``,
built from the distinct identities each ingest worker kept beside its rows.

The number of partitions is a power of two chosen from the input size (about
``TARGET_BYTES`` of CSV each, at most ``FINE_BUCKETS``); small exports have one partition
and take exactly the single-frame path.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from expunge.ingest.identities import IDENTITY_FIELDS, identities

FINE_BUCKETS = 256
TARGET_BYTES = 96 << 20
BATCH_ROWS = 250_000


def choose_partitions(input_bytes: int, target_bytes: int = TARGET_BYTES) -> int:
    """A power of two near ``input_bytes / target_bytes`` (1 for small inputs, at most 256)."""
    want = max(1, math.ceil(input_bytes / max(target_bytes, 1)))
    return min(FINE_BUCKETS, 1 << (want - 1).bit_length())


_PRIME = np.uint64(1099511628211)
_MAX_POWERS = 4096


def fine_bucket(case_number: pd.Series | pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A stable bucket in ``[0, 256)`` per case number; partition = fine bucket % partitions.

    A polynomial hash of the UTF-8 bytes, computed with NumPy over Arrow's buffers (no
    Python per row), then mixed (the SplitMix64 finalizer); missing counts as ""."""
    arr = case_number if isinstance(case_number, pa.Array | pa.ChunkedArray) else \
        pa.array(case_number, type=pa.string(), from_pandas=True)
    arr = pc.fill_null(pc.cast(arr, pa.string()), "")
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if len(arr) == 0:
        return np.zeros(0, dtype=np.uint16)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset:arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]] if offsets[-1] > offsets[0] \
        else np.zeros(0, dtype=np.uint8)
    offsets -= offsets[0]
    lengths = np.diff(offsets)
    owner = np.repeat(np.arange(len(arr)), lengths)
    from_end = (offsets[1:][owner] - np.arange(len(data)) - 1) % _MAX_POWERS  # byte's distance from its end
    with np.errstate(over="ignore"):
        powers = np.concatenate([[np.uint64(1)], np.cumprod(np.full(_MAX_POWERS - 1, _PRIME, dtype=np.uint64))])
        running = np.concatenate([[np.uint64(0)], np.cumsum((data.astype(np.uint64) + 1) * powers[from_end],
                                                            dtype=np.uint64)])
        h = running[offsets[1:]] - running[offsets[:-1]] + lengths.astype(np.uint64)
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return (h % np.uint64(FINE_BUCKETS)).astype(np.uint16)


class PartitionWriter:
    """Rows to one Parquet file per partition (the partition of each row's case number), in
    the order they arrive; the distinct identities of every row are kept on the side.

    Rows are held until about ``batch_rows`` have arrived, then split by partition and
    written (one row group per partition and batch), so memory is bounded by the batch and
    row groups do not shrink as partitions multiply. ``close`` returns the files of each
    partition (one or none) and the identities' file: what ``identities.person_index`` is built
    from."""

    def __init__(self, folder: Path, partitions: int, batch_rows: int = BATCH_ROWS) -> None:
        self.folder = folder
        self.partitions = max(1, partitions)
        self.batch_rows = batch_rows
        self.paths = [folder / f"partition-{k:03d}.parquet" for k in range(self.partitions)]
        self.writers: list[pq.ParquetWriter | None] = [None] * self.partitions
        self.pending: list[pa.Table] = []
        self.rows = 0
        self.who: list[pd.DataFrame] = []  # distinct identities of each batch

    def write(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        table = pa.concat_tables(self.pending)
        self.pending, self.rows = [], 0
        cols = [c for c in IDENTITY_FIELDS if c in table.column_names]
        who = identities(table.select(cols).to_pandas())[["id", "dob", "nd"]].drop_duplicates()
        self.who.append(who)
        bucket = np.zeros(table.num_rows, dtype=np.uint16)
        if self.partitions > 1:
            bucket = fine_bucket(table.column("case_number")) % self.partitions
            table = table.take(pa.array(np.argsort(bucket, kind="stable")))
        start = 0
        for k, n in enumerate(np.bincount(bucket, minlength=self.partitions)):
            if n:
                if self.writers[k] is None:
                    self.folder.mkdir(parents=True, exist_ok=True)
                    self.writers[k] = pq.ParquetWriter(self.paths[k], table.schema, compression="zstd")
                self.writers[k].write_table(table.slice(start, int(n)))  # type: ignore[union-attr]
            start += int(n)

    def close(self) -> tuple[list[list[str]], str]:
        try:
            self._flush()
        finally:
            for w in self.writers:
                if w is not None:
                    w.close()
        frames = self.who or [identities(pd.DataFrame({"case_number": pd.Series([], dtype="str")}))]
        who = pd.concat([f[["id", "dob", "nd"]] for f in frames], ignore_index=True).drop_duplicates()
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "identities.parquet"
        pq.write_table(pa.Table.from_pandas(who, preserve_index=False), path)
        return [[str(p)] if self.writers[k] is not None else [] for k, p in enumerate(self.paths)], str(path)
