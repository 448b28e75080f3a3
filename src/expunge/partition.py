"""Partitions: split a large export into independent groups of whole cases.

Stage: between ingest and decide. Every charge goes to the partition of its case number's
hash, so a case (and everything a rule may look at) is always in one partition, and each
partition can be decided alone, in bounded memory, on this machine or a Dask cluster.
People span partitions; what linking needs from the whole export is the small
``people.PersonIndex``, built here from the distinct identities each worker reads from its
share of the staged parts (identity columns only).

The number of partitions is a power of two chosen from the input size (about
``TARGET_BYTES`` of CSV each, at most ``FINE_BUCKETS``); small exports have one partition
and take exactly the single-frame path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from expunge.people import IDENTITY_FIELDS, identities, person_index

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


def repartition(parts: Sequence[str], out_dir: Path, partitions: int,
                batch_rows: int = BATCH_ROWS) -> list[list[str]]:
    """Rewrite staged parts as one Parquet file per partition (input order kept within each).

    Reads at most about ``batch_rows`` rows at a time. With one partition the parts are
    returned as they are."""
    if partitions <= 1:
        return [list(parts)]
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"partition-{k:03d}.parquet" for k in range(partitions)]
    writers: list[pq.ParquetWriter | None] = [None] * partitions
    pending: list[pa.Table] = []
    rows = 0

    def flush() -> None:
        table = pa.concat_tables(pending)
        bucket = fine_bucket(table.column("case_number")) % partitions
        order = np.argsort(bucket, kind="stable")
        table = table.take(pa.array(order))
        counts = np.bincount(bucket, minlength=partitions)
        start = 0
        for k, n in enumerate(counts):
            if n:
                if writers[k] is None:
                    writers[k] = pq.ParquetWriter(paths[k], table.schema, compression="zstd")
                writers[k].write_table(table.slice(start, int(n)))  # type: ignore[union-attr]
            start += int(n)
        pending.clear()

    try:
        for part in parts:
            table = pq.read_table(part)
            pending.append(table)
            rows += table.num_rows
            if rows >= batch_rows:
                flush()
                rows = 0
        if pending:
            flush()
    finally:
        for w in writers:
            if w is not None:
                w.close()
    return [[str(p)] if writers[k] is not None else [] for k, p in enumerate(paths)]


def distinct_identities(parts: Sequence[str]) -> pd.DataFrame:
    """The distinct (id, birth date, name + birth date) of the staged parts, reading only the
    identity columns: what ``people.person_index`` is built from."""
    frames = []
    for part in parts:
        cols = [c for c in IDENTITY_FIELDS if c in pq.read_schema(part).names]
        frame = pq.read_table(part, columns=cols).to_pandas()
        frames.append(identities(frame)[["id", "dob", "nd"]].drop_duplicates())
    if not frames:
        frames = [identities(pd.DataFrame({"case_number": pd.Series([], dtype="str")}))[["id", "dob", "nd"]]]
    return pd.concat(frames, ignore_index=True).drop_duplicates()


def partition_group(parts: Sequence[str], out_dir: Path, partitions: int) -> tuple[list[list[str]], str]:
    """One worker's share of the partition step: ``repartition`` a contiguous group of staged
    parts into ``out_dir``, write its ``distinct_identities`` there, and return its files per
    partition and the identities' file. Concatenating the groups' files per partition, in
    group order, keeps the input order."""
    files = repartition(parts, out_dir, partitions)
    out_dir.mkdir(parents=True, exist_ok=True)
    who = out_dir / "identities.parquet"
    pq.write_table(pa.Table.from_pandas(distinct_identities(parts), preserve_index=False), who)
    return files, str(who)


def write_person_index(identity_files: Sequence[str], path: Path) -> str:
    """Build the ``PersonIndex`` from the groups' identity files and pickle it to ``path``."""
    import pickle

    frames = [pq.read_table(f).to_pandas() for f in identity_files]
    with Path(path).open("wb") as fh:
        pickle.dump(person_index(frames), fh)
    return str(path)


def contiguous_groups(items: Sequence[str], groups: int) -> list[list[str]]:
    """``items`` cut into at most ``groups`` runs of consecutive items, sizes within one."""
    n = max(1, min(groups, len(items)))
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for g in range(n):
        end = start + size + (g < extra)
        out.append(list(items[start:end]))
        start = end
    return out
