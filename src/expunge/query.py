"""Query a run's datasets with DuckDB: ``charges``, ``cases``, ``quarantine`` and, when the run
wrote it, ``analytics`` are views over the run folder's Parquet files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _connect(run_dir: str | Path) -> Any:
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
    return con


def _tables(con: Any) -> str:
    names = [r[0] for r in con.execute("select view_name from duckdb_views() where not internal order by 1").fetchall()]
    return ", ".join(names) or "none (the run folder has no datasets)"


def query(sql: str, run_dir: str | Path, limit: int | None = None) -> pd.DataFrame:
    """Run ``sql`` against the datasets of ``run_dir`` and return the result (at most ``limit`` rows)."""
    return query_rows(sql, run_dir, limit).frame


@dataclass(frozen=True)
class QueryResult:
    """A query's rows (at most the limit) and how many it has in all."""

    frame: pd.DataFrame
    total: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.frame)


def query_rows(sql: str, run_dir: str | Path, limit: int | None = None) -> QueryResult:
    """``query``, saying how many rows the result has when ``limit`` cut it.

    Raises:
        InputFileError: the SQL failed; the message names the tables this run has (and, for
            ``analytics`` in a run that has none, that it was not written and how to get it).
    """
    import duckdb

    con = _connect(run_dir)
    try:
        rel = con.sql(sql)
        if rel is None:
            raise InputFileError("The query returned no table; write a SELECT statement.")
        frame = rel.limit(limit + 1).to_df() if limit else rel.to_df()
        total = len(frame)
        if limit and total > limit:
            total = int(con.execute(f"select count(*) from ({sql})").fetchall()[0][0])
            frame = frame.iloc[:limit]
    except duckdb.Error as exc:
        if (isinstance(exc, duckdb.CatalogException) and "analytics" in str(exc).lower()
                and not (Path(run_dir) / "analytics").is_dir()):
            raise InputFileError(
                f"The run {run_dir} has no analytics table: analytics/ was not written for it (runs made without "
                "EXPUNGE_SALT before analytics became the default wrote none). Tables in this run: "
                f"{_tables(con)}. To get analytics, run the same exports again with 'expunge run ... --overwrite': "
                "it writes analytics/ with EXPUNGE_SALT, or else with this installation's own salt file.") from exc
        raise InputFileError(f"The query failed: {exc}. Tables: {_tables(con)}.") from exc
    return QueryResult(frame, total)


def as_text(frame: pd.DataFrame, blank: str | None = "") -> pd.DataFrame:
    """The frame for printing: missing values ``blank`` (not NaN, NaT or None), dates as dates
    (YYYY-MM-DD), lists joined by ";"."""
    shown = frame.copy()
    for name in shown.columns:
        col = shown[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            kept = col.dropna()
            if (kept == kept.dt.normalize()).all():  # a DATE column (DuckDB hands dates back as timestamps)
                shown[name] = col.dt.strftime("%Y-%m-%d")
        elif col.dtype == object and col.map(lambda v: hasattr(v, "__len__") and not isinstance(v, str)).any():
            shown[name] = col.map(lambda v: ";".join(map(str, v)) if hasattr(v, "__len__") and not isinstance(v, str)
                                  else v)
    return shown.astype(object).where(shown.notna(), blank)
