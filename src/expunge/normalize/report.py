"""The normalization report: how the offense ladder read a batch of charges (share of rows per
rung and source, the review band, the descriptions nothing matched). One report, computed by
DuckDB, for a run's manifest and for ``expunge normalize-report`` alike."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from expunge.errors import InputFileError
from expunge.ingest.profiles import load_profile
from expunge.ingest.read import ingest
from expunge.normalize.offenses import Normalizer, normalize_offenses

#: Columns of the ``charges`` table the report reads (as ``charges/`` names them).
REPORT_COLUMNS = ("description_raw", "norm_family", "match_method", "match_source", "desc_band")


def normalization_report(con: Any, top: int = 50) -> dict[str, object]:
    """The report over the table ``charges`` (``REPORT_COLUMNS``) of a DuckDB connection, out
    of core: rows, distinct descriptions, share of rows per match method and source, rows in
    the review band, unmatched rows and the ``top`` most frequent unmatched descriptions."""
    n, distinct, review, unmatched = con.execute(
        "SELECT count(*), count(DISTINCT description_raw), count(*) FILTER (desc_band = 'review'), "
        "count(*) FILTER (norm_family = 'UNKNOWN') FROM charges").fetchone()

    def counted(column: str, where: str = "TRUE", limit: str = "") -> list[tuple[str, int]]:
        rows = con.execute(f"SELECT {column}, count(*) AS n FROM charges WHERE {column} IS NOT NULL AND {where} "
                           f"GROUP BY {column} ORDER BY n DESC, {column} {limit}").fetchall()
        return [(str(k), int(v)) for k, v in rows]

    share = lambda column: {k: round(v / max(n, 1), 4) for k, v in counted(column)}  # noqa: E731
    return {
        "rows": int(n),
        "distinct_descriptions": int(distinct),
        "share_by_method": share("match_method"),
        "share_by_source": share("match_source"),
        "review_band_rows": int(review),
        "unmatched_rows": int(unmatched),
        "top_unmatched_descriptions": [{"description": k, "rows": v} for k, v in
                                       counted("description_raw", "norm_family = 'UNKNOWN'", f"LIMIT {int(top)}")],
    }


def report_files(inputs: Sequence[str | Path], profile: str | Path | None = None,
                 charge_codes: str | Path | None = None, crosswalk: str | Path | None = None,
                 top: int = 50) -> dict[str, object]:
    """Read export files and report how the matcher reads their charges, without deciding
    anything: ``normalization_report`` plus the quarantined rows and the normalizer's versions.

    Raises:
        InputFileError: no row of the files could be read.
    """
    import duckdb

    norm = Normalizer.build(charge_codes, crosswalk)
    with tempfile.TemporaryDirectory() as work:
        result = ingest(list(inputs), load_profile(profile), Path(work) / "s", Path(work) / "q.parquet")
        if not result.parts:
            raise InputFileError("No readable rows in the input; see the quarantine reasons with expunge run.")
        charges = ds.dataset(result.parts).to_table().to_pandas()
    offenses = normalize_offenses(charges, norm)
    table = pd.DataFrame({"description_raw": charges["charge_description"], "norm_family": offenses["offense_family"],
                          **{c: offenses[c] for c in ("match_method", "match_source", "desc_band")}})
    con = duckdb.connect()
    con.register("charges", pa.Table.from_pandas(table, preserve_index=False))
    report = normalization_report(con, top)
    report["quarantined_rows"] = result.rows_quarantined
    report["normalizer"] = norm.manifest()
    return report
