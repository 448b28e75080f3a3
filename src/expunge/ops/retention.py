"""Retention: remove the personal-data outputs of old runs, keep what is de-identified.

A run older than the limit keeps ``summary/``, ``analytics/`` and ``manifest.json``; its
petitions, documents, review queue, quarantine (raw records), people conflicts, cases,
``charges/`` (case numbers) and ``delta/`` are removed, and ``purged.json`` says what went
and when. The run ``OUT/latest`` points to is never purged.

The saved states of old runs (``OUT/state/<run_id>/``, full rows with personal fields; see
``ops.state``) are removed whole, by the age of their run (its manifest, else the folder's
time). Never removed: the latest run's state (the next delivery builds on it) and the state
the latest run carried its charges over from (a re-run of the latest run needs it).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

from expunge.ops.state import STATE_DIR

PERSONAL_OUTPUTS = ("petitions", "review_queue.csv", "review_queue.xlsx", "quarantine.parquet",
                    "people_conflicts.csv", "cases.parquet", "charges", "delta")


def run_date(run_dir: Path) -> date | None:
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text())
        return datetime.fromisoformat(manifest["created_at"]).date()
    except (OSError, KeyError, ValueError):
        return None


def purge(out_dir: str | Path, older_than_days: int, today: date) -> list[str]:
    """Purge runs in ``out_dir`` made more than ``older_than_days`` before ``today``, and old
    saved states; returns the run folders purged, then the states removed (``state/<run_id>``)."""
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
    return purged + [f"{STATE_DIR}/{name}" for name in purge_states(out, older_than_days, today)]


def needed_states(out_dir: Path) -> set[str]:
    """The states never purged: the latest run's, and the one it carried charges over from."""
    latest = Path(out_dir) / "latest"
    if not latest.exists():
        return set()
    run = latest.resolve()
    keep = {run.name}
    try:
        carried = (json.loads((run / "manifest.json").read_text()).get("delivery") or {}).get("carried_from")
    except (OSError, ValueError):
        carried = None
    return keep | ({carried} if carried else set())


def purge_states(out_dir: str | Path, older_than_days: int, today: date) -> list[str]:
    """Remove the saved states of runs made more than ``older_than_days`` before ``today``
    (except ``needed_states``); returns their run ids."""
    root = Path(out_dir) / STATE_DIR
    if not root.is_dir():
        return []
    keep = needed_states(Path(out_dir))
    removed = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        made = run_date(Path(out_dir) / folder.name) or datetime.fromtimestamp(folder.stat().st_mtime, UTC).date()
        if folder.name in keep or (today - made).days <= older_than_days:
            continue
        shutil.rmtree(folder)
        removed.append(folder.name)
    return removed
