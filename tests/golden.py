"""The golden run: a fixed export decided over two nights (three partitions, two workers,
drafts and analytics on), and a digest of every file it writes.

What is compared is what a reader of the file sees, not how a library happened to lay it
out: Parquet by its decoded rows and column types (a newer pyarrow may write other bytes for
the same table), workbooks and drafts by the XML parts the project writes itself (not the
document properties), JSON and CSV by their bytes. Values that depend on the machine or the
moment (timings, creation times, versions, folder paths) are left out of the manifest.

    .venv/bin/python tests/golden.py --record   # rewrite tests/golden_record.json after an intended change
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
RECORD = Path(__file__).with_name("golden_record.json")
EXPORT = ROOT / "sample_data" / "mo_charges_sample.csv"
NIGHTS = (("night-1", "2026-06-30"), ("night-2", "2027-06-30"))
# Machine-, moment- and version-dependent parts of what a run writes.
VOLATILE_MANIFEST_KEYS = ("created_at", "code_version", "timings_seconds", "machine")
SKIPPED_FILES = {"runs.jsonl", "ledger/context.json"}  # times of day; a hash of library versions
SKIPPED_ZIP_PARTS = ("docProps/",)
SKIPPED_COLUMNS = {"context", "decided_at"}


def run_nights(out: Path, cache: Path) -> None:
    """Decide the fixed export on each golden night, with the project's own command line."""
    env = {**os.environ, "EXPUNGE_SALT": "golden-salt"}
    command = Path(sys.executable).with_name("expunge")
    for run_id, as_of in NIGHTS:
        subprocess.run([str(command), "run", str(EXPORT), "--out", str(out), "--run-id", run_id, "--as-of", as_of,
                        "--partitions", "3", "--workers", "2", "--orchestrator", "none", "--cache-dir", str(cache)],
                       check=True, env=env, capture_output=True, text=True)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parquet(path: Path) -> str:
    table = pq.read_table(path, partitioning=None)
    table = table.drop_columns([c for c in table.column_names if c in SKIPPED_COLUMNS])
    types = [(f.name, str(f.type)) for f in table.schema]
    return _sha(json.dumps([types, table.to_pylist()], default=str).encode())


def _zip(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        parts = sorted(n for n in z.namelist() if not n.startswith(SKIPPED_ZIP_PARTS))
        return _sha(b"".join(n.encode() + b"\0" + _sha(z.read(n)).encode() for n in parts))


def _manifest(path: Path, out: Path) -> str:
    m: dict[str, Any] = json.loads(path.read_text())
    for key in VOLATILE_MANIFEST_KEYS:
        m.pop(key, None)
    text = json.dumps(m, sort_keys=True).replace(str(out), "<OUT>").replace(str(ROOT), "<ROOT>")
    return _sha(text.encode())


def digest_tree(out: Path) -> dict[str, str]:
    """Relative path -> digest of every file under ``out`` (see the module's docstring)."""
    digests = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        if rel in SKIPPED_FILES:
            continue
        if path.suffix == ".parquet":
            digests[rel] = _parquet(path)
        elif path.suffix in (".xlsx", ".docx"):
            digests[rel] = _zip(path)
        elif path.name == "manifest.json":
            digests[rel] = _manifest(path, out)
        else:
            digests[rel] = _sha(path.read_bytes())
    return digests


def golden_digests() -> dict[str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        run_nights(out, Path(tmp) / "cache")
        return digest_tree(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", action="store_true", help=f"write {RECORD.name}")
    args = parser.parse_args()
    digests = golden_digests()
    if args.record:
        RECORD.write_text(json.dumps(digests, indent=0, sort_keys=True) + "\n")
        print(f"{len(digests)} files recorded in {RECORD}")
    else:
        print(json.dumps(digests, indent=1, sort_keys=True))
