"""What changed since the last run, for clerks running nightly batches.

Stage: publish. Input: this run's decided charges and the previous run's ``charges/``
(the run ``OUT/latest`` pointed to). Output: ``delta/changes.csv`` — one row per charge
whose determination is new or different, keyed by case number and count, with the rule
and reason before and after — and counts for the manifest: newly eligible, newly in
review, no longer eligible, changed, new charges, charges gone.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from expunge.rules import ELIGIBLE

KEY = ["case_number", "charge_seq"]
COLUMNS = ["county", "case_number", "charge_seq", "change", "determination_before", "determination_after",
           "rule_before", "rule_after", "reason_before", "reason_after"]


def previous_run(out_dir: Path, run_id: str) -> Path | None:
    """The run to compare with: the one ``OUT/latest`` points to; when that is this very run
    (a re-run of the same id), the run it was compared with before."""
    latest = out_dir / "latest"
    if not latest.exists():
        return None
    target = latest.resolve()
    if target.name == run_id:
        try:
            name = json.loads((target / "manifest.json").read_text())["delta"]["previous_run"]
        except (OSError, KeyError, TypeError, ValueError):
            return None
        target = out_dir / name if name else None
    return target if target is not None and (target / "charges").is_dir() else None


def previous_charges(out_dir: Path, run_id: str) -> tuple[pd.DataFrame | None, str | None]:
    """The charges of the run to compare with (``previous_run``), if any."""
    target = previous_run(out_dir, run_id)
    if target is None:
        return None, None
    cols = [*KEY, "determination", "rule_id", "reason_code"]
    return pd.read_parquet(target / "charges", columns=cols), target.name


def changes(current: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Charges whose determination is new or different since ``previous``."""
    now = current[["county", *KEY, "determination", "rule_id", "reason_code"]]
    both = now.merge(previous[[*KEY, "determination", "rule_id", "reason_code"]], on=KEY, how="outer",
                     suffixes=("_after", "_before"), indicator=True)
    before, after = both["determination_before"], both["determination_after"]
    was_e, is_e = before.isin(ELIGIBLE), after.isin(ELIGIBLE)
    change = np.select(
        [both["_merge"] == "left_only", both["_merge"] == "right_only", ~was_e & is_e, was_e & ~is_e,
         (after == "NEEDS_REVIEW") & (before != "NEEDS_REVIEW"), before != after],
        ["NEW_CHARGE", "GONE", "NEWLY_ELIGIBLE", "NO_LONGER_ELIGIBLE", "NEWLY_IN_REVIEW", "CHANGED"],
        default="")
    out = both.assign(change=change, rule_before=both["rule_id_before"], rule_after=both["rule_id_after"],
                      reason_before=both["reason_code_before"], reason_after=both["reason_code_after"])
    out = out[out["change"] != ""]
    return out[COLUMNS].sort_values(["county", *KEY], kind="stable", na_position="last").reset_index(drop=True)


def write_delta(current: pd.DataFrame, out_dir: Path, run_dir: Path) -> dict[str, object]:
    """Write ``delta/changes.csv`` against the previous latest run; counts for the manifest."""
    previous, name = previous_charges(out_dir, run_dir.name)
    if previous is None:
        return {"previous_run": None, "note": "first run in this folder: nothing to compare"}
    diff = changes(current, previous)
    (run_dir / "delta").mkdir(exist_ok=True)
    diff.to_csv(run_dir / "delta" / "changes.csv", index=False, lineterminator="\n")
    counts = {k: int(v) for k, v in diff["change"].value_counts().sort_index().items()}
    return {"previous_run": name, "changes": counts}


def move_latest(out_dir: Path, run_dir: Path) -> None:
    """Point ``OUT/latest`` at ``run_dir`` (atomically: a new link renamed over the old)."""
    tmp = out_dir / f".latest-{run_dir.name}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    tmp.replace(out_dir / "latest")
