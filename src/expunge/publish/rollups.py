"""Roll-ups: charges -> cases, and de-identified summaries with small cells suppressed.

Input: decided charges. Output: ``cases`` (one row per case) and summary
tables counting charges, cases and people (always labelled which), with lower and upper
bounds where charges still need review.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from expunge.ingest.distinct import joined_per_group
from expunge.law.rules import ELIGIBLE
from expunge.publish import gap
from expunge.publish.disclosure import (
    Cells,
    Table,
    cells_of,
    hidden_cells,
    joined,
    previous_suppressed,
    protect,
    protect_in_turn,
)
from expunge.publish.history import KEY

DEFAULT_SUPPRESS_BELOW = 10
REVIEW = "NEEDS_REVIEW"

#: Offense families in the broader groups of ``sizing`` (other families: OTHER), so that most
#: of its cells are large enough to publish.
OFFENSE_GROUPS = {"MJ_POSSESSION": "MARIJUANA_POSSESSION", "MJ_DELIVERY": "MARIJUANA_SALE_OR_GROWING",
                  "MJ_MANUFACTURE": "MARIJUANA_SALE_OR_GROWING", "MJ_TRAFFICKING": "MARIJUANA_SALE_OR_GROWING",
                  "PARAPHERNALIA": "PARAPHERNALIA"}
#: First years of the offense periods of ``sizing`` (a period runs to the next one's start).
PERIOD_STARTS = (2000, 2010, 2015, 2019, 2023)

_BOUNDS = {"charges_lower": ELIGIBLE, "charges_upper": (*ELIGIBLE, REVIEW)}
_DETERMINATIONS = ("ELIGIBLE_AUTO", "ELIGIBLE_PETITION", "NOT_ELIGIBLE", REVIEW)
#: Every published table of charge counts, for disclosure control (``disclosure.protect``).
CHARGE_TABLES = (
    Table("by_county", ("county", "determination"), {"charges": None}),
    Table("by_determination", ("determination", "reason_code"), {"charges": None}),
    Table("sizing", ("county", "offense_period", "determination"), {"charges": None}),
    Table("by_offense", ("offense_group", "offense_period", "determination"), {"charges": None}),
    Table("bounds_by_county", ("county",), dict(_BOUNDS)),
    Table("bounds_by_year", ("offense_year",), dict(_BOUNDS)),
    Table("headline", (), {"total": None, "eligible_lower": ELIGIBLE, "eligible_upper": _BOUNDS["charges_upper"],
                           **{d: (d,) for d in _DETERMINATIONS}}, fixed=True),
)
#: The manifest's and the flow summary's counts of what changed since the previous night.
CHANGES = Table("changes", ("change",), {"charges": None}, fixed=True)
_ATOM_KEYS = ("county", "offense_year", "offense_period", "offense_group", "determination", "reason_code")


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


def change_class(before: pd.Series, after: pd.Series) -> np.ndarray:
    """What ``delta`` calls the change of a charge from determination ``before`` to ``after``
    (missing: the charge is not in that night's export)."""
    was, now = before.isin(ELIGIBLE).to_numpy(), after.isin(ELIGIBLE).to_numpy()
    b, a = before.astype("string").fillna(""), after.astype("string").fillna("")
    return np.select(
        [(b == "").to_numpy(), (a == "").to_numpy(), ~was & now, was & ~now,
         ((a == REVIEW) & (b != REVIEW)).to_numpy(), (a != b).to_numpy()],
        ["NEW_CHARGE", "GONE", "NEWLY_ELIGIBLE", "NO_LONGER_ELIGIBLE", "NEWLY_IN_REVIEW", "CHANGED"], default="")


def period_sql(year: str) -> str:
    """SQL naming the offense period of ``year`` (``PERIOD_STARTS``)."""
    starts = PERIOD_STARTS
    whens = [f"WHEN {year} < {starts[0]} THEN 'before {starts[0]}'"]
    whens += [f"WHEN {year} < {b} THEN '{a}-{b - 1}'" for a, b in pairwise(starts)]
    whens.append(f"WHEN {year} >= {starts[-1]} THEN '{starts[-1]} or later'")
    return f"CASE {' '.join(whens)} END"


def group_sql(family: str) -> str:
    """SQL naming the offense group of ``family`` (``OFFENSE_GROUPS``)."""
    whens = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in OFFENSE_GROUPS.items())
    return f"CASE {family} {whens} ELSE 'OTHER' END"


#: Which count of cases and people follows which count of charges when it is suppressed.
_FOLLOWS = {"charges": ("cases", "people"), "charges_lower": ("cases_lower", "people_lower"),
            "charges_upper": ("cases_upper", "people_upper")}


def suppress(table: pd.DataFrame, hidden: dict[str, pd.Series] | None = None,
             columns: tuple[str, ...] = ("charges", "cases", "people"),
             below: int = DEFAULT_SUPPRESS_BELOW) -> pd.DataFrame:
    """Blank the charge counts ``hidden`` names (column -> boolean per row, from disclosure
    control), the counts of cases and people of the same cells, and any count between 1 and
    ``below - 1``; a ``suppressed`` column names the blanked counts of each row."""
    out = table.copy()
    hide = {c: pd.Series(False, index=out.index) for c in columns}
    for c, mask in (hidden or {}).items():
        hide[c] = hide[c] | mask.to_numpy()
        for follower in _FOLLOWS.get(c, ()):
            if follower in hide:
                hide[follower] = hide[follower] | mask.to_numpy()
    flags = pd.Series("", index=out.index, dtype="str")
    for c in columns:
        small = hide[c] | ((out[c] > 0) & (out[c] < below))
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


#: Keys of the summaries computed from the charges' columns.
_DERIVED = {"offense_period": period_sql("offense_year"), "offense_group": group_sql("offense_family")}

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
        self.disclosure: dict[str, Any] = {}  # per table: cells, suppressed, share (set by ``summaries``)
        self.cells: pd.DataFrame | None = None  # tonight's audited cells (set by ``summaries``)
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
        """Charges, distinct cases and distinct people per group of ``by`` (columns of the
        charges, or ``offense_period`` / ``offense_group``)."""
        cols = ", ".join(f"{_DERIVED[b]} AS {b}" if b in _DERIVED else b for b in by)
        return self.frame(
            f"SELECT {cols}, count(*) AS charges, count(DISTINCT case_number) AS cases, "
            f"count(DISTINCT person_key) AS people FROM charges GROUP BY ALL", by)

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

    @staticmethod
    def _atom_select(prefix: str, alias: str = "") -> str:
        """The atom keys of a charge row (of table ``alias``, e.g. ``p.``), named ``prefix``+key."""
        cols = {"county": f"{alias}county", "offense_year": f"{alias}offense_year",
                "offense_period": period_sql(f"{alias}offense_year"),
                "offense_group": group_sql(f"{alias}offense_family"),
                "determination": f"{alias}determination", "reason_code": f"{alias}reason_code"}
        return ", ".join(f"{expr} AS {prefix}{k}" for k, expr in cols.items())

    def disclosure_cells(self, below: int, previous: Path | None = None,
                         delivery: gap.Nights | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Tonight's charge-count cells with their ``suppressed`` flag (``disclosure.protect``
        over this run's summaries and, with ``delivery``, its delivery tables; given the
        ``previous`` run folder, over both nights at once), and the share suppressed per table."""
        prior = sorted((previous / "charges").rglob("*.parquet")) if previous is not None else []
        tonight = self._audited(below, previous if prior else None, prior, delivery)
        shares = {}
        for name, group in tonight[~tonight["fixed"]].groupby("table", sort=True):
            counted = group[group["value"] > 0]
            shares[name] = {"cells": len(counted), "suppressed": int(counted["suppressed"].sum()),
                            "share_suppressed": round(float(counted["suppressed"].mean()) if len(counted) else 0.0, 4)}
        return tonight, shares

    def _joint(self, prior: Sequence[Path], delivery: gap.Nights | None) -> pd.DataFrame:
        """Charges per atom of every night and table audited: tonight's charge keys (``n_``),
        the previous night's (``p_``, with ``prior``), tonight's and the previous night's
        delivery keys (``dn_``, ``dp_``), joined on the charge."""
        select = [self._atom_select("n_", "n.")]
        source = "charges AS n"
        case, seq = ["n.case_number"], ["n.charge_seq"]
        if prior:
            files = ", ".join(sql_literal(str(p)) for p in prior)
            select.insert(0, self._atom_select("p_", "p."))
            source = (f"(SELECT * FROM read_parquet([{files}], union_by_name = true)) AS p "
                      "FULL OUTER JOIN charges AS n ON p.case_number = n.case_number AND p.charge_seq = n.charge_seq")
            case, seq = ["p.case_number", *case], ["p.charge_seq", *seq]
        sides = {"dn": delivery.tonight if delivery else None, "dp": delivery.before if delivery else None}
        for alias, states in sides.items():
            if states is None:
                continue
            self.con.register(f"{alias}_states", states[[*KEY, *gap.ATOM_KEYS]])
            source += (f" FULL OUTER JOIN {alias}_states AS {alias} ON {alias}.case_number = "
                       f"coalesce({', '.join(case)}) AND {alias}.charge_seq = coalesce({', '.join(seq)})")
            case, seq = [*case, f"{alias}.case_number"], [*seq, f"{alias}.charge_seq"]
            select.append(", ".join(f"{alias}.{k} AS {alias}_{k}" for k in gap.ATOM_KEYS))
        return self.frame(f"SELECT {', '.join(select)}, count(*) AS charges FROM {source} GROUP BY ALL")

    def _audited(self, below: int, previous: Path | None, prior: Sequence[Path],
                 delivery: gap.Nights | None) -> pd.DataFrame:
        joint = self._joint(prior, delivery)
        ids = np.arange(len(joint))

        def side(prefix: str, keys: Sequence[str], presence: str, tables: Sequence[Table], night: int) -> Cells:
            present = joint[f"{prefix}{presence}"].notna().to_numpy()
            frame = joint.loc[present, [f"{prefix}{k}" for k in keys]].set_axis(list(keys), axis=1)
            return cells_of(frame.assign(charges=joint.loc[present, "charges"].to_numpy()), tables, night=night,
                            atom_ids=ids[present], n_atoms=len(joint))

        now = side("n_", _ATOM_KEYS, "determination", CHARGE_TABLES, 1)
        if delivery is not None:
            now = joined(now, side("dn_", gap.ATOM_KEYS, "state", gap.TABLES, 1))
        if previous is None:
            return now.frame.assign(suppressed=self._protect(now, below))
        on_record = joint[joint["p_determination"].notna() | joint["n_determination"].notna()]
        changes = on_record.assign(change=change_class(on_record["p_determination"], on_record["n_determination"]))
        changes = changes[changes["change"] != ""]
        moved = cells_of(changes.assign(determination=changes["n_determination"]), [CHANGES], night=1,
                         atom_ids=ids[changes.index.to_numpy()], n_atoms=len(joint))
        now = joined(now, moved)
        before = side("p_", _ATOM_KEYS, "determination", CHARGE_TABLES, 0)
        tables = list(CHARGE_TABLES)
        if delivery is not None and delivery.before is not None:
            before = joined(before, side("dp_", gap.ATOM_KEYS, "state", gap.TABLES, 0))
            tables += gap.TABLES
        before.frame["fixed"] = True
        before.frame["suppressed_before"] = previous_suppressed(previous, before.frame, tables)
        both = joined(before, now)
        both.frame["suppressed_before"] = both.frame["suppressed_before"].astype("boolean").fillna(False)
        prefer = np.zeros(len(both.frame), bool)
        # Tonight's cell that was suppressed last night is the first choice of complement.
        key = ["table", "column", *dict.fromkeys(k for t in (*CHARGE_TABLES, *gap.TABLES) for k in t.keys)]
        key = [k for k in key if k in both.frame.columns]
        last = both.frame.loc[both.frame["night"] == 0].copy()
        last_hidden = set(map(tuple, last.loc[last["suppressed_before"].to_numpy(bool), key].astype("string")
                              .fillna("").itertuples(index=False)))
        tonight_rows = both.frame["night"].to_numpy() == 1
        keys_now = both.frame.loc[tonight_rows, key].astype("string").fillna("").itertuples(index=False)
        prefer[np.flatnonzero(tonight_rows)] = [tuple(k) in last_hidden for k in keys_now]
        suppressed = self._protect(both, below, prefer)
        return both.frame.loc[tonight_rows].assign(suppressed=suppressed[tonight_rows]).reset_index(drop=True)

    @staticmethod
    def _protect(cells: Cells, below: int, prefer: np.ndarray | None = None) -> np.ndarray:
        """The summaries' cells protected first, on their own; then the delivery tables', which
        take their complements among themselves (``disclosure.protect_in_turn``): adding the
        gap report never changes what the other summaries publish."""
        charge = ~cells.frame["table"].isin([t.name for t in gap.TABLES]).to_numpy()
        if charge.all():
            return protect(cells, below, prefer=prefer)
        return protect_in_turn(cells, below, charge, prefer)

    def summaries(self, below: int = DEFAULT_SUPPRESS_BELOW,
                  previous: Path | None = None, delivery: gap.Nights | None = None) -> dict[str, pd.DataFrame]:
        """De-identified aggregates for advocacy groups, with disclosure control.

        ``by_county``, ``by_determination`` and ``sizing`` (county, offense period, offense
        group, determination) count charges, cases and people; ``bounds_by_county`` /
        ``bounds_by_year``: lower and upper bounds of what is eligible. Small cells and the
        complements that keep them from being worked out are blank (``disclosure``); the
        share suppressed per table is in ``self.disclosure``. ``previous``: the previous
        night's run folder, audited together with tonight's; ``delivery``: the delivery states
        of the charges, whose tables (``gap.TABLES``) are audited with the others (their
        cells, with the rest, are kept in ``self.cells`` for ``gap.report``)."""
        cells, self.disclosure = self.disclosure_cells(below, previous, delivery)
        self.cells = cells
        raw = {t.name: self.bounds(list(t.keys)) if t.name.startswith("bounds") else self.count(list(t.keys))
               for t in CHARGE_TABLES if not t.fixed}
        specs = {t.name: t for t in CHARGE_TABLES}
        b_cols = ("charges_lower", "charges_upper", "cases_lower", "cases_upper", "people_lower", "people_upper")
        return {name: suppress(table, hidden_cells(table, specs[name], cells),
                               b_cols if name.startswith("bounds") else ("charges", "cases", "people"), below)
                for name, table in raw.items()}

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
