"""Roll-ups: charges -> cases, and de-identified summaries with small cells suppressed.

Input: decided charges. Output: ``cases`` (one row per case) and summary
tables counting charges, cases and people (always labelled which), with lower and upper
bounds where charges still need review.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from expunge.ingest.distinct import joined_per_group
from expunge.law.rules import ELIGIBLE

DEFAULT_SUPPRESS_BELOW = 10


def cases(charges: pd.DataFrame) -> pd.DataFrame:
    """One row per case: counts per determination and the case status.

    ``case_status``: ALL_ELIGIBLE (every charge eligible), PARTIAL (some eligible: list only
    those), REVIEW (none eligible, some need review), NONE.
    """
    d = charges["determination"]
    work = pd.DataFrame({
        "case_number": charges["case_number"],
        "n_charges": 1,
        "n_eligible_auto": (d == "ELIGIBLE_AUTO").astype("int32"),
        "n_eligible_petition": (d == "ELIGIBLE_PETITION").astype("int32"),
        "n_not_eligible": (d == "NOT_ELIGIBLE").astype("int32"),
        "n_needs_review": (d == "NEEDS_REVIEW").astype("int32"),
        "n_overdue": charges["overdue"].astype("int32"),
    })
    g = work.groupby("case_number", sort=True)
    out = g.sum()
    first = charges.groupby("case_number", sort=True)[
        ["county", "court", "circuit", "case_kind", "person_key", "run_id"]].first()
    out = first.join(out)
    is_eligible = d.isin(ELIGIBLE)
    out["earliest_deadline"] = charges[is_eligible].groupby("case_number")["deadline"].min().dt.date  # DATE, as charges
    eligible = out["n_eligible_auto"] + out["n_eligible_petition"]
    out["case_status"] = np.select(
        [eligible == out["n_charges"], eligible > 0, out["n_needs_review"] > 0],
        ["ALL_ELIGIBLE", "PARTIAL", "REVIEW"], default="NONE")
    seqs = charges.loc[is_eligible, ["case_number", "charge_seq"]].astype({"case_number": "str", "charge_seq": "int64"})
    out["eligible_charge_seqs"] = joined_per_group(seqs, ["case_number"], "charge_seq", ",")
    for c in ("n_charges", "n_eligible_auto", "n_eligible_petition", "n_not_eligible",
              "n_needs_review", "n_overdue"):
        out[c] = out[c].astype("int32")
    return out.reset_index()


def suppress(table: pd.DataFrame, columns: tuple[str, ...] = ("charges", "cases", "people"),
             below: int = DEFAULT_SUPPRESS_BELOW) -> pd.DataFrame:
    """Blank counts between 1 and ``below - 1`` (small cells can identify people) and say so
    in a ``suppressed`` column naming the blanked counts."""
    out = table.copy()
    flags = pd.Series("", index=out.index, dtype="str")
    for c in columns:
        small = (out[c] > 0) & (out[c] < below)
        flags = flags.where(~small, flags + np.where(flags == "", "", ";") + c)
        out[c] = out[c].astype("Int64").mask(small)
    out["suppressed"] = flags
    return out


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_list(values: Sequence[str]) -> str:
    """``values`` as a SQL list for ``IN``."""
    return "(" + ", ".join(sql_literal(v) for v in values) + ")"


class Rollups:
    """The roll-ups of a run's charges, computed by DuckDB over a table that need not fit in
    memory: Parquet files (the decided partitions' narrow columns) or a DataFrame.

    DuckDB aggregates out of core (``memory_limit``, spilling to ``spill_dir``), so memory
    does not grow with the export; people and cases are counted distinct across all of it.
    Groups come back in pandas' order (sorted, missing last) so a run's summaries do not
    depend on how it was partitioned.
    """

    def __init__(self, source: pd.DataFrame | Sequence[str | Path], spill_dir: Path | None = None,
                 memory_limit: str = "1GB") -> None:
        import duckdb

        self.con = duckdb.connect()
        self.con.execute(f"SET memory_limit = '{memory_limit}'")
        self.con.execute("SET preserve_insertion_order = false")
        if spill_dir is not None:
            self.con.execute(f"SET temp_directory = {sql_literal(str(spill_dir))}")
        if isinstance(source, pd.DataFrame):
            self.con.register("charges_frame", pa.Table.from_pandas(source, preserve_index=False))
            self.con.execute("CREATE VIEW charges AS SELECT * FROM charges_frame")
        else:
            files = ", ".join(sql_literal(str(p)) for p in source)
            self.con.execute(f"CREATE VIEW charges AS SELECT * FROM read_parquet([{files}])")
        self.con.execute(
            f"CREATE VIEW flagged AS SELECT *, determination IN {sql_list(ELIGIBLE)} AS e, "
            f"determination IN {sql_list(ELIGIBLE)} OR determination = 'NEEDS_REVIEW' AS u FROM charges")

    def frame(self, sql: str, by: Sequence[str] = ()) -> pd.DataFrame:
        """The result of ``sql`` as pandas (small integers nullable), sorted by ``by``."""
        table = self.con.sql(sql).to_arrow_table()
        out = table.to_pandas(types_mapper={pa.int16(): pd.Int16Dtype()}.get)
        if by:
            out = out.sort_values(list(by), na_position="last", kind="stable").reset_index(drop=True)
        return out

    def row(self, sql: str) -> tuple[Any, ...]:
        """The one row ``sql`` returns. Fetched to the end: DuckDB refuses the next query on a
        connection whose result was only partly read."""
        rows = self.con.execute(sql).fetchall()
        return tuple(rows[0]) if rows else ()

    def scalar(self, sql: str) -> int:
        row = self.row(sql)
        return int(row[0] or 0) if row else 0

    def count(self, by: Sequence[str]) -> pd.DataFrame:
        """Charges, distinct cases and distinct people per group of ``by``."""
        cols = ", ".join(by)
        return self.frame(
            f"SELECT {cols}, count(*) AS charges, count(DISTINCT case_number) AS cases, "
            f"count(DISTINCT person_key) AS people FROM charges GROUP BY {cols}", by)

    def bounds(self, by: Sequence[str]) -> pd.DataFrame:
        """Charges, cases and people with an eligible charge per group: the lower bound counts
        review as not eligible, the upper bound counts it as eligible."""
        cols = ", ".join(by)
        same = " AND ".join(f"c.{b} IS NOT DISTINCT FROM {{t}}.{b}" for b in by)
        units = []
        for unit, key in (("cases", "case_number"), ("people", "person_key")):
            units.append(
                f"LEFT JOIN (SELECT {cols}, sum(e::INT) AS {unit}_lower, sum(u::INT) AS {unit}_upper FROM "
                f"(SELECT {cols}, bool_or(e) AS e, bool_or(u) AS u FROM flagged WHERE {key} IS NOT NULL "
                f"GROUP BY {cols}, {key}) GROUP BY {cols}) AS {unit} ON {same.format(t=unit)}")
        out = self.frame(
            f"SELECT {', '.join('c.' + b for b in by)}, c.charges_lower, c.charges_upper, "
            "coalesce(cases_lower, 0) AS cases_lower, coalesce(cases_upper, 0) AS cases_upper, "
            "coalesce(people_lower, 0) AS people_lower, coalesce(people_upper, 0) AS people_upper FROM "
            f"(SELECT {cols}, sum(e::INT) AS charges_lower, sum(u::INT) AS charges_upper FROM flagged "
            f"GROUP BY {cols}) AS c " + " ".join(units), by)
        for c in ("charges_lower", "charges_upper", "cases_lower", "cases_upper", "people_lower", "people_upper"):
            out[c] = out[c].astype("int64")
        return out

    def summaries(self, below: int = DEFAULT_SUPPRESS_BELOW) -> dict[str, pd.DataFrame]:
        """De-identified aggregates for advocacy groups (small cells suppressed).

        ``sizing``: charges, cases and people by county, offense year, family, level and
        determination. ``bounds_by_county`` / ``bounds_by_year``: lower and upper bounds of
        what is eligible. Every count says what it counts (charges, cases or people)."""
        b_cols = ("charges_lower", "charges_upper", "cases_lower", "cases_upper", "people_lower", "people_upper")
        return {
            "by_determination": suppress(self.count(["determination", "reason_code"]), below=below),
            "by_county": suppress(self.count(["county", "determination"]), below=below),
            "sizing": suppress(self.count(["county", "offense_year", "offense_family", "level", "determination"]),
                               below=below),
            "bounds_by_county": suppress(self.bounds(["county"]), b_cols, below=below),
            "bounds_by_year": suppress(self.bounds(["offense_year"]), b_cols, below=below),
        }

    def headline(self) -> dict[str, object]:
        """Totals with bounds: lower counts review as not eligible, upper counts it as eligible."""
        by_det = self.frame("SELECT determination, count(*) AS n FROM charges GROUP BY determination",
                            ["determination"])
        c = self.row(
            "SELECT count(*), sum(e::INT), sum(u::INT), sum(overdue::INT), "
            "count(*) FILTER (WHERE person_key IS NULL) FROM flagged")
        cases = self.row(
            "SELECT count(*), sum(e::INT), sum(u::INT) FROM (SELECT bool_or(e) AS e, bool_or(u) AS u FROM flagged "
            "WHERE case_number IS NOT NULL GROUP BY case_number)")
        people = self.row(
            "SELECT count(*), sum(e::INT), sum(u::INT) FROM (SELECT bool_or(e) AS e, bool_or(u) AS u FROM flagged "
            "WHERE person_key IS NOT NULL GROUP BY person_key)")
        n = [int(v or 0) for v in (*c, *cases, *people)]
        return {
            "charges": {
                "total": n[0],
                "by_determination": {str(k): int(v) for k, v in zip(by_det["determination"], by_det["n"], strict=True)
                                     if pd.notna(k)},
                "eligible_lower": n[1], "eligible_upper": n[2], "overdue": n[3],
            },
            "cases": {"total": n[5], "with_eligible_charge_lower": n[6], "with_eligible_charge_upper": n[7]},
            "people": {"total": n[8], "affected_lower": n[9], "affected_upper": n[10],
                       "charges_without_person_key": n[4]},
        }

    def value_counts(self, column: str, where: str = "TRUE", top: int | None = None) -> list[tuple[str, int]]:
        """(value, rows) of ``column``, most frequent first (ties by value); missing left out."""
        limit = f" LIMIT {int(top)}" if top else ""
        rows = self.con.execute(
            f"SELECT {column}, count(*) AS n FROM charges WHERE {column} IS NOT NULL AND ({where}) "
            f"GROUP BY {column} ORDER BY n DESC, {column}{limit}").fetchall()
        return [(str(k), int(v)) for k, v in rows]


def headline(charges: pd.DataFrame) -> dict[str, object]:
    """``Rollups.headline`` of a DataFrame of charges."""
    return Rollups(charges).headline()
