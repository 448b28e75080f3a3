"""Retention: remove the personal-data outputs of old runs, keep what is de-identified.

A run older than the limit keeps ``summary/``, ``analytics/`` and ``manifest.json``; its
petitions, documents, review queue, quarantine (raw records), people conflicts, cases,
``charges/`` (case numbers) and ``delta/`` are removed, and ``purged.json`` says what went
and when. The run ``OUT/latest`` points to is never purged.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime
from pathlib import Path

PERSONAL_OUTPUTS = ("petitions", "review_queue.csv", "review_queue.xlsx", "quarantine.parquet",
                    "people_conflicts.csv", "cases.parquet", "charges", "delta")


def run_date(run_dir: Path) -> date | None:
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text())
        return datetime.fromisoformat(manifest["created_at"]).date()
    except (OSError, KeyError, ValueError):
        return None


def purge(out_dir: str | Path, older_than_days: int, today: date) -> list[str]:
    """Purge runs in ``out_dir`` made more than ``older_than_days`` before ``today``;
    returns the run folders purged."""
    out = Path(out_dir)
    latest = (out / "latest").resolve() if (out / "latest").exists() else None
    purged = []
    for run in sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")):
        made = run_date(run)
        if made is None or run.resolve() == latest or (today - made).days <= older_than_days:
            continue
        removed = []
        for name in PERSONAL_OUTPUTS:
            target = run / name
            if target.is_dir():
                shutil.rmtree(target)
                removed.append(name)
            elif target.exists():
                target.unlink()
                removed.append(name)
        if removed:
            (run / "purged.json").write_text(json.dumps(
                {"purged_on": today.isoformat(), "older_than_days": older_than_days, "removed": removed}, indent=2)
                + "\n")
            purged.append(run.name)
    return purged
