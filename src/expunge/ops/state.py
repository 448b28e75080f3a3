"""The state store, ``OUT/state/<run_id>/``: the full rows of a published run's charges, so the
next delivery can carry over what it does not replace (``ingest.carry``).

Each decided partition writes the staged rows that became its charges (every input field,
names, birth dates and addresses included, with ``source_file`` and ``source_line``) to the
run's work folder; ``save`` moves that folder into place when the run is committed, before
``OUT/latest`` moves. ``state.json`` beside the rows says what they are (counts, no personal
data). Folders are readable by their owner only (700), files too (600). ``expunge purge``
removes the states of old runs (``ops.retention``), never the one the latest run needs.

The state is not the ledger: the ledger (``ops.ledger``) is a cache of decisions with no
personal data; the state is the charges themselves, what the court's exports add up to.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

STATE_DIR = "state"
INFO = "state.json"
#: CSV bytes per charge, to plan partitions for rows that carry over (the sample export's ~276).
CSV_BYTES_PER_ROW = 280


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def folder(out_dir: str | Path, run_id: str) -> Path:
    return Path(out_dir) / STATE_DIR / run_id


def files(out_dir: str | Path, run_id: str) -> list[str]:
    """The saved rows of ``run_id`` (Parquet files, in partition order); [] when it has none."""
    return sorted(str(p) for p in folder(out_dir, run_id).glob("part-*.parquet"))


def saved(out_dir: str | Path, run_id: str) -> bool:
    return (folder(out_dir, run_id) / INFO).is_file()


def rows(out_dir: str | Path, run_id: str) -> int:
    try:
        return int(json.loads((folder(out_dir, run_id) / INFO).read_text())["rows"])
    except (OSError, KeyError, TypeError, ValueError):
        return 0


def write_piece(table: pa.Table, work_dir: Path, k: int) -> None:
    """Partition ``k``'s rows for the run's state, into ``work_dir/state`` (owner-only)."""
    piece = _private_dir(Path(work_dir) / STATE_DIR) / f"part-{k:03d}.parquet"
    pq.write_table(table, piece, compression="zstd")
    piece.chmod(0o600)


def save(out_dir: str | Path, work_dir: Path, run_id: str, delivery: dict[str, Any] | None = None) -> Path:
    """Move the run's state pieces into ``OUT/state/<run_id>/`` (replacing an earlier state of
    the same id) with its ``state.json``; returns the folder."""
    pieces = Path(work_dir) / STATE_DIR
    _private_dir(pieces)
    parts = sorted(pieces.glob("part-*.parquet"))
    info = {"run_id": run_id, "rows": sum(pq.read_metadata(p).num_rows for p in parts),
            "files": [p.name for p in parts], "delivery": delivery,
            "what": "the rows of this run's charges with their personal fields, for the next delivery to carry "
                    "over; removed by expunge purge once old (never the latest run's)"}
    (pieces / INFO).write_text(json.dumps(info, indent=2) + "\n")
    for p in pieces.iterdir():
        p.chmod(0o600)
    target = folder(out_dir, run_id)
    _private_dir(target.parent)
    if target.exists():
        old = target.with_name(f".{run_id}.replaced")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(pieces, target)
    return target


def counties(run_dir: Path) -> dict[str, int]:
    """A published run's charges per county (``charges/``, county as the run spells it)."""
    import duckdb

    charges = Path(run_dir) / "charges"
    if not any(charges.rglob("*.parquet")):
        return {}
    glob = str(charges / "**" / "*.parquet").replace("'", "''")
    got = duckdb.connect().sql(f"SELECT county, count(*) FROM read_parquet('{glob}', hive_partitioning = true) "
                               "GROUP BY county").fetchall()
    return {str(c) if c is not None else "UNKNOWN": int(n) for c, n in got}
