"""Carry-over: the previous run's charges a delivery does not replace, merged with its own rows.

Input: the previous run's saved rows (``ops.state``: the staged rows that became its charges,
personal fields included), the rows ingest staged from tonight's exports, and the delivery.
Output: staging files, one per partition of whole cases, written by the same
``partition.PartitionWriter`` as ingest (with their identities for the people index), so
decide, publish and the ledger see one set of staged rows and need not know which came from
where. A carried row keeps its ``source_file`` and ``source_line``: the export that delivered it.

A previous row carries over unless tonight's rows have a charge with its case number and
charge sequence (a snapshot or an increment replaces it) or, for a snapshot, its county is in
the snapshot's scope (the snapshot is the whole truth of its scope). DuckDB does the anti-join
out of core, one saved file at a time; rows come out in the saved order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa

from expunge.ingest.delivery import Delivery, outside_scope
from expunge.ingest.partition import PartitionWriter
from expunge.ingest.places import county_name
from expunge.ingest.read import IngestResult, staging_schema

BATCH_ROWS = 250_000


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _files(paths: Sequence[str]) -> str:
    return "[" + ", ".join(_literal(str(p)) for p in paths) + "]"


def _connect(temp: Path | None, memory_limit: str = "1GB"):  # type: ignore[no-untyped-def]
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    if temp is not None:
        temp.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = {_literal(str(temp))}")
    return con


def county_counts(parts: Sequence[str], temp: Path | None = None) -> dict[str, int]:
    """Staged rows per county, in ``places.county_name`` spelling (no county: "UNKNOWN")."""
    if not parts:
        return {}
    con = _connect(temp)
    raw = con.sql(f"SELECT county, count(*) AS n FROM read_parquet({_files(parts)}) GROUP BY county").df()
    if not len(raw):
        return {}
    raw["county"] = county_name(raw["county"])
    return {str(k): int(v) for k, v in raw.groupby("county")["n"].sum().items()}


@dataclass(frozen=True)
class Carried:
    """The previous run's rows that carried over: how many, the staging files of each partition
    (one or none) and the identities file the people index takes them from."""

    rows: int
    partitions: tuple[list[str], ...]
    identities: str


def carry_over(saved: Sequence[str], staged: Sequence[str], delivery: Delivery, partitions: int, folder: Path,
               temp: Path | None = None, batch_rows: int = BATCH_ROWS) -> Carried:
    """Write the previous run's rows (``saved``) that tonight's ``staged`` rows do not replace
    into ``folder``, split into ``partitions`` partitions of whole cases. The keys of tonight's
    rows are gathered once; each saved file is then read on its own, in its own order."""
    schema = staging_schema()
    con = _connect(temp)
    cols = ", ".join(f's."{n}"' for n in schema.names)
    where = "true"
    if delivery.kind == "snapshot" and delivery.scope is not None:
        counties = con.sql(f"SELECT DISTINCT county FROM read_parquet({_files(saved)}) WHERE county IS NOT NULL")
        spelled = [str(c) for (c,) in counties.fetchall()]
        outside = outside_scope(pa.array(spelled, pa.string()), delivery.scope)
        inside = [c for c, out in zip(spelled, outside, strict=True) if not out]
        if inside:
            where = "s.county IS NULL OR s.county NOT IN (" + ", ".join(_literal(c) for c in inside) + ")"
    replaced = ""
    if staged:
        con.execute(f"CREATE TEMP TABLE replaced AS SELECT DISTINCT case_number, charge_seq "
                    f"FROM read_parquet({_files(staged)})")
        replaced = ("ANTI JOIN replaced n "
                    "ON s.case_number = n.case_number AND s.charge_seq IS NOT DISTINCT FROM n.charge_seq")
    sink = PartitionWriter(folder, partitions, batch_rows)
    rows = 0
    for path in saved:
        source = f"read_parquet({_literal(str(path))}, file_row_number = true)"
        sql = f"SELECT {cols} FROM {source} s {replaced} WHERE {where} ORDER BY s.file_row_number"
        for batch in con.sql(sql).to_arrow_reader(batch_rows):
            table = pa.Table.from_batches([batch]).cast(schema)
            rows += table.num_rows
            if table.num_rows:
                sink.write(table)
    files, identities = sink.close()
    return Carried(rows, tuple(files), identities)


def with_carried(ingested: IngestResult, carried: Carried) -> IngestResult:
    """``ingested`` with the carried rows' files added to their partitions and their identities
    to the people index's; the rows read from the exports (and their accounting) are unchanged."""
    parts = tuple([*mine, *theirs] for mine, theirs in zip(ingested.partitions, carried.partitions, strict=True))
    return replace(ingested, partitions=parts, identities=(*ingested.identities, carried.identities),
                   carried=carried.rows)

