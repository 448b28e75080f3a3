"""Query a run's datasets with DuckDB: ``charges``, ``cases``, ``analytics`` and
``quarantine`` are views over the run folder's Parquet files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from expunge.errors import InputFileError


def latest_run(out_dir: str | Path) -> Path:
    """The run ``OUT/latest`` points to, else the run folder whose manifest is newest."""
    latest = Path(out_dir) / "latest"
    if (latest / "manifest.json").is_file():
        return latest.resolve()
    runs = [p.parent for p in Path(out_dir).glob("*/manifest.json") if not p.parent.name.startswith(".")]
    if not runs:
        raise InputFileError(f"No finished run in {out_dir}. Run 'expunge run ... --out {out_dir}' first.")
    return max(runs, key=lambda r: (json.loads((r / "manifest.json").read_text()).get("created_at", ""), r.name))


def query(sql: str, run_dir: str | Path, limit: int | None = None) -> pd.DataFrame:
    """Run ``sql`` against the datasets of ``run_dir`` and return the result."""
    import duckdb

    run = Path(run_dir)
    con = duckdb.connect()
    views = {"charges": run / "charges", "analytics": run / "analytics"}
    for name, path in views.items():
        if path.is_dir():
            con.execute(f"create view {name} as select * from read_parquet('{path}/**/*.parquet', "
                        "hive_partitioning = true)")
    for name in ("cases", "quarantine"):
        if (run / f"{name}.parquet").exists():
            con.execute(f"create view {name} as select * from read_parquet('{run / f'{name}.parquet'}')")
    try:
        rel = con.sql(sql)
    except duckdb.Error as exc:
        raise InputFileError(f"The query failed: {exc}. Tables: charges, cases, analytics, quarantine.") from exc
    frame = rel.limit(limit).to_df() if limit else rel.to_df()
    return frame
