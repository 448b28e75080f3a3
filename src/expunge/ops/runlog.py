"""The run log, ``OUT/runs.jsonl``: one line per run (``published``, ``failed``, ``held`` or
``skipped``) with its counts and, for a failure or a hold, the message a clerk reads; a
``skipped`` line names one export and why (a re-delivery, or an export of the inbox that
could not be read and what to do about it). No personal data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from expunge.errors import ExpungeError

RUN_LOG = "runs.jsonl"


def record_run(out_dir: str | Path, status: str, run_id: str | None, inputs: Sequence[str | Path],
               message: str = "", **counts: Any) -> dict[str, Any]:
    """Append one line to ``OUT/runs.jsonl``: when, which run, which inputs, what happened
    (``published``, ``failed``, ``held``, ``skipped``) and, for a failure or a hold, the message a clerk reads.
    Input files are named, never their contents."""
    entry = {"at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"), "status": status, "run_id": run_id,
             "inputs": [str(p) for p in inputs], "message": message, **counts}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with (out / RUN_LOG).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
    return entry


def log_size(out_dir: str | Path) -> int:
    """How long ``OUT/runs.jsonl`` is now, in bytes (0 when there is none): where the lines of
    a run about to start will begin."""
    path = Path(out_dir) / RUN_LOG
    return path.stat().st_size if path.is_file() else 0


def lines_since(out_dir: str | Path, offset: int) -> list[dict[str, Any]]:
    """The run-log lines written after ``offset`` (a ``log_size`` taken earlier)."""
    path = Path(out_dir) / RUN_LOG
    if not path.is_file():
        return []
    with path.open("rb") as fh:
        fh.seek(offset)
        return [json.loads(line) for line in fh.read().decode("utf-8").splitlines() if line.strip()]


def failure_message(exc: BaseException) -> str:
    """What a clerk reads about a failed run: the library's own message for a problem they can
    fix, else what failed and that nothing was published."""
    if isinstance(exc, ExpungeError):
        return str(exc)
    return (f"The run stopped ({type(exc).__name__}: {exc}). Nothing was published and the previous results "
            "are untouched; fix the cause and run again (the run can be repeated safely).")


def record_published(run_dir: Path) -> dict[str, Any]:
    """The run-log line of a published run, with its counts (no personal data)."""
    m = json.loads((run_dir / "manifest.json").read_text())
    d = m.get("delivery") or {}
    return record_run(run_dir.parent, "published", m["run_id"], [i["path"] for i in m["inputs"]],
                      rows_read=m["rows"]["read"], quarantined=m["rows"]["quarantined"],
                      carried_over=m["rows"].get("carried_over", 0),
                      delivery={k: d.get(k) for k in ("kind", "scope", "shrink_accepted")},
                      determinations=m["determinations"], changes=m.get("delta", {}).get("changes"))


def record_held(out_dir: str | Path, run_id: str, inputs: Sequence[str | Path], message: str,
                figures: dict[str, Any]) -> dict[str, Any]:
    """The ``held`` line of a snapshot the shrink guard stopped: the message, and the figures
    (charges before and after in the scope, counties missing, the limit)."""
    return record_run(out_dir, "held", run_id, inputs, message, delivery=figures)
