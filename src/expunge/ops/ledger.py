"""The ledger: what earlier runs in an output folder already decided, so a nightly run
decides only what is new or changed, and a re-delivered export is recognised.

Read before deciding (``decide.reuse`` takes what it can), written after the run folder is
published. It lives in ``OUT/ledger/``:

* ``charges-<run_id>/`` — one Parquet file per partition, one row per charge of the last published run, keyed by case
  number + charge sequence, with a content hash of the charge's input fields (and any
  clerk answer that applies to it) and every per-charge result of the decide stage
  (normalized offense, facts, rule, reason). No names, dates of birth or addresses.
* ``context.json`` — what those results depend on besides the charge itself (rule file,
  policies, reference tables, crosswalk, code version). A different context means the
  ledger is not used: every charge is decided afresh.
* ``files.csv`` — the SHA-256 of every export that was published, with its run id.

The ledger is a cache of decisions, never a source of truth: a run that reuses it writes
the same bytes as a run that does not (a test checks this), and a missing or damaged
ledger only makes the next run decide everything again. It is replaced atomically after
the run folder is published.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from expunge.ingest.csvfiles import write_csv
from expunge.ingest.partition import fine_bucket

LEDGER_DIR = "ledger"
FILES_COLUMNS = ["sha256", "file", "run_id"]


def context_key(parts: Sequence[str]) -> str:
    """One hash of everything besides a charge's own fields that its decision depends on."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def usable(out_dir: Path, context: str) -> bool:
    """Whether ``out_dir`` has a ledger written under ``context`` (a run would reuse it)."""
    try:
        return json.loads((Path(out_dir) / LEDGER_DIR / "context.json").read_text()).get("context") == context
    except (OSError, ValueError, AttributeError):
        return False


def load(out_dir: Path, context: str, partitions: int = 1, k: int = 0) -> pd.DataFrame | None:
    """The ledger's charges for partition ``k`` of ``partitions`` if the ledger was written
    under ``context``; None otherwise (or when it cannot be read)."""
    folder = Path(out_dir) / LEDGER_DIR
    try:
        saved = json.loads((folder / "context.json").read_text())
        if saved.get("context") != context:
            return None
        data = folder / saved["charges"]
        own = data / _file(k, partitions)
        if own.exists():  # written with the same partitioning
            return pq.read_table(own).to_pandas()
        rows = pq.read_table(data).to_pandas()
        return rows[fine_bucket(rows["case_number"]) % partitions == k].reset_index(drop=True)
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None


def write_piece(rows: pd.DataFrame, folder: Path, k: int, partitions: int) -> None:
    """Partition ``k``'s rows for the next ledger, written into ``folder`` (in the run's work
    folder) by whichever process decided it; ``save`` puts the folder in place."""
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(_plain(rows), preserve_index=False), folder / _file(k, partitions),
                   compression="zstd")


def save(out_dir: Path, pieces: Path, context: str, run_id: str, files: Sequence[tuple[str, str]]) -> None:
    """Replace the ledger with this run's rows (the folder of ``write_piece`` files, on the
    same file system: it is moved, not copied); add its input files to ``files.csv``. The
    new rows go to a new folder and ``context.json`` is switched to it with one rename, so
    a reader sees the old ledger or the new one, never a mix."""
    folder = Path(out_dir) / LEDGER_DIR
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)  # no names, but case numbers with their determinations: the owner's, as the state
    data = folder / f"charges-{run_id}"
    if data.exists():
        shutil.rmtree(data)
    _owner_only(pieces)
    os.replace(pieces, data)
    _replace(folder / "context.json", lambda p: p.write_text(
        json.dumps({"context": context, "run_id": run_id, "charges": data.name}, indent=2) + "\n"))
    for old in folder.glob("charges-*"):
        if old != data:
            shutil.rmtree(old, ignore_errors=True)
    seen = processed_files(out_dir)
    new = pd.DataFrame([(sha, name, run_id) for sha, name in files if sha not in set(seen["sha256"])],
                       columns=FILES_COLUMNS)
    merged = pd.concat([seen, new], ignore_index=True) if len(new) else seen
    _replace(folder / "files.csv", lambda p: write_csv(merged, p))


def _owner_only(folder: Path) -> None:
    """A ledger folder and its files readable by their owner only."""
    folder.chmod(0o700)
    for f in folder.iterdir():
        f.chmod(0o600)


def _file(k: int, partitions: int) -> str:
    return f"partition-{k:03d}-of-{partitions:03d}.parquet"


def processed_files(out_dir: Path) -> pd.DataFrame:
    """Every export published from this output folder: sha256, file name, run id."""
    path = Path(out_dir) / LEDGER_DIR / "files.csv"
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)[FILES_COLUMNS]
    except (OSError, ValueError, KeyError):
        return pd.DataFrame(columns=FILES_COLUMNS, dtype=str)


def _plain(rows: pd.DataFrame) -> pd.DataFrame:
    plain = rows.reset_index(drop=True)
    plain.attrs = {}
    return plain


def _replace(path: Path, write) -> None:  # type: ignore[no-untyped-def]
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    tmp.chmod(0o600)
    os.replace(tmp, path)
