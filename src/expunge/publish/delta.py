"""What changed since the last run, for clerks running nightly batches.

Input: this run's decided charges and the previous run's ``charges/``
(the run ``OUT/latest`` pointed to). Output: ``delta/changes.csv`` — one row per charge
whose determination is new or different, keyed by case number and count, with the rule
and reason before and after — and counts for the manifest: newly eligible, newly in
review, no longer eligible, changed, new charges, charges gone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from expunge.ingest.csvfiles import write_csv
from expunge.law.rules import ELIGIBLE
from expunge.publish.rollups import sql_list, sql_literal

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


def changes_sql(previous: Path) -> str:
    """SQL listing the charges (view ``charges``) whose determination is new or different
    since the run folder ``previous``, in the order ``changes.csv`` is written; a charge gone
    since keeps the county the previous run had it in."""
    files = sql_literal(f"{previous / 'charges'}/**/*.parquet")
    source = (f"read_parquet({files}, hive_partitioning = true)" if any((previous / "charges").rglob("*.parquet"))
              else "(SELECT NULL::VARCHAR AS county, NULL::VARCHAR AS case_number, NULL::INTEGER AS charge_seq, "
                   "NULL::VARCHAR AS determination, NULL::VARCHAR AS rule_id, NULL::VARCHAR AS reason_code "
                   "WHERE false)")
    was_e, is_e = f"p.determination IN {sql_list(ELIGIBLE)}", f"n.determination IN {sql_list(ELIGIBLE)}"
    return f"""
        WITH n AS (SELECT county, case_number, charge_seq, determination, rule_id, reason_code FROM charges),
             p AS (SELECT county, case_number, charge_seq, determination, rule_id, reason_code
                   FROM {source}),
             j AS (
               SELECT coalesce(n.county, p.county) AS county, coalesce(n.case_number, p.case_number) AS case_number,
                      coalesce(n.charge_seq, p.charge_seq) AS charge_seq,
                      CASE WHEN p.case_number IS NULL THEN 'NEW_CHARGE'
                           WHEN n.case_number IS NULL THEN 'GONE'
                           WHEN NOT {was_e} AND {is_e} THEN 'NEWLY_ELIGIBLE'
                           WHEN {was_e} AND NOT {is_e} THEN 'NO_LONGER_ELIGIBLE'
                           WHEN n.determination = 'NEEDS_REVIEW' AND p.determination <> 'NEEDS_REVIEW'
                                THEN 'NEWLY_IN_REVIEW'
                           WHEN n.determination <> p.determination THEN 'CHANGED'
                           ELSE '' END AS change,
                      p.determination AS determination_before, n.determination AS determination_after,
                      p.rule_id AS rule_before, n.rule_id AS rule_after,
                      p.reason_code AS reason_before, n.reason_code AS reason_after
               FROM n FULL OUTER JOIN p ON n.case_number = p.case_number AND n.charge_seq = p.charge_seq)
        SELECT {", ".join(COLUMNS)} FROM j WHERE change <> ''
        ORDER BY county NULLS LAST, case_number NULLS LAST, charge_seq NULLS LAST"""


def write_delta(con: Any, out_dir: Path, run_dir: Path, batch_rows: int = 200_000) -> dict[str, object]:
    """Write ``delta/changes.csv`` against the previous latest run; counts for the manifest.

    ``con``: a DuckDB connection with this run's charges as the view ``charges``
    (``rollups.Rollups.con``); the comparison streams, whatever the size of either run."""
    previous = previous_run(out_dir, run_dir.name)
    if previous is None:
        return {"previous_run": None, "note": "first run in this folder: nothing to compare"}
    (run_dir / "delta").mkdir(exist_ok=True)
    path = run_dir / "delta" / "changes.csv"
    write_csv(pd.DataFrame(columns=COLUMNS), path, bom=True)
    counts: dict[str, int] = {}
    for batch in con.sql(changes_sql(previous)).to_arrow_reader(batch_rows):
        frame = batch.to_pandas()
        write_csv(frame, path, header=False, append=True)
        for k, v in frame["change"].value_counts().items():
            counts[str(k)] = counts.get(str(k), 0) + int(v)
    return {"previous_run": previous.name, "changes": dict(sorted(counts.items()))}


def move_latest(out_dir: Path, run_dir: Path) -> None:
    """Point ``OUT/latest`` at ``run_dir`` (atomically: a new link renamed over the old)."""
    tmp = out_dir / f".latest-{run_dir.name}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    tmp.replace(out_dir / "latest")
