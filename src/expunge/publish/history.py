"""The delivery history: every charge an output folder ever saw eligible, one row each, and
whether it has left the record since.

Kept in ``OUT/history/eligible.parquet`` (``ops.history``): each published run computes the
next history while it publishes (``update``), reports the delivery gap from it
(``publish.gap``), and puts it in place when it commits. A row says when the charge was first
seen eligible (and its path and deadline), when it was last seen, and its ``status``:

* ``OUTSTANDING``: still on the record tonight and still eligible;
* ``DELIVERED``: no longer on the record. ``delivered_how`` says how the pipeline knows:
  ``MARKED_EXPUNGED`` (tonight's record says so) or ``GONE_FROM_EXPORT`` (absent from tonight's
  charges: an expunged record usually disappears from later exports, so a charge gone after
  being eligible is counted as delivered; that is an assumption, said wherever it is counted).
  Charges of counties outside a delivery's scope, and the previous charges an increment does
  not replace, are carried over into the run's charges, so they are never mistaken for gone;
* ``NO_LONGER_ELIGIBLE``: still on the record, but tonight's rules or facts no longer make it
  eligible (a rule change, a clerk's answer). It is outstanding again if it becomes eligible
  again, with its first night kept.

A delivered charge that comes back eligible is outstanding again. Unlike the ledger, this is
a record, not a cache: it survives rule changes and ledger resets, and it cannot be rebuilt
from a later export. Back it up with the run folders (README, "The delivery history").
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from expunge.law.values import ELIGIBLE

KEY = ["case_number", "charge_seq"]
#: What tonight's charges tell the history (columns of ``charges/``).
TONIGHT_COLUMNS = [*KEY, "county", "circuit", "person_key", "determination", "rule_id", "deadline",
                   "already_expunged"]
_DATES = ["deadline", "first_eligible_on", "last_seen_on", "delivered_on"]
#: Facts of a charge that follow the latest night it was seen eligible.
_LATEST = ["county", "circuit", "person_key", "path", "rule_id", "deadline"]
SCHEMA = pa.schema([
    ("case_number", pa.string()), ("charge_seq", pa.int32()), ("county", pa.string()), ("circuit", pa.string()),
    ("person_key", pa.string()), ("path", pa.string()), ("rule_id", pa.string()), ("deadline", pa.date32()),
    ("first_eligible_on", pa.date32()), ("first_eligible_run", pa.string()),
    ("last_seen_on", pa.date32()), ("last_seen_run", pa.string()), ("status", pa.string()),
    ("delivered_on", pa.date32()), ("delivered_run", pa.string()), ("delivered_how", pa.string()),
])


def empty() -> pd.DataFrame:
    """A history with no charges (the first night of an output folder)."""
    return SCHEMA.empty_table().to_pandas()


def update(history: pd.DataFrame, tonight: pd.DataFrame, as_of: date, run_id: str) -> pd.DataFrame:
    """The history after tonight's run. ``tonight``: every charge of the run (``TONIGHT_COLUMNS``).
    Rows are sorted by key; a night changes only the rows it has news of."""
    now = tonight[TONIGHT_COLUMNS].drop_duplicates(KEY).assign(
        path=lambda t: t["determination"].map({"ELIGIBLE_AUTO": "auto", "ELIGIBLE_PETITION": "petition"}),
        eligible=lambda t: t["determination"].isin(ELIGIBLE) & ~t["already_expunged"].fillna(False).astype(bool),
        expunged=lambda t: t["already_expunged"].fillna(False).astype(bool))
    now = now.astype({"charge_seq": "int32"}).assign(deadline=lambda t: pd.to_datetime(t["deadline"]))
    day = pd.Timestamp(as_of)
    dates = {c: pd.to_datetime(history[c]) for c in _DATES}  # one type for dates: cast back to DATE at the end
    old = history.assign(**dates).astype({"charge_seq": "int32"}).merge(
        now[[*KEY, "eligible", "expunged", *_LATEST]], on=KEY, how="left", suffixes=("", "_now"), indicator=True)
    present = (old.pop("_merge") == "both").to_numpy()
    eligible = old.pop("eligible").fillna(False).to_numpy(dtype=bool)
    expunged = old.pop("expunged").fillna(False).to_numpy(dtype=bool)
    was_open = (old["status"] != "DELIVERED").to_numpy()
    outstanding = (old["status"] == "OUTSTANDING").to_numpy()
    again = present & eligible  # on the record and eligible tonight: outstanding, whatever it was
    gone = outstanding & ~present
    marked = present & expunged & was_open
    dropped = present & ~eligible & ~expunged & was_open
    for col in _LATEST:
        old.loc[again, col] = old.loc[again, f"{col}_now"]
    old = old.drop(columns=[f"{c}_now" for c in _LATEST])
    old.loc[present, ["last_seen_on", "last_seen_run"]] = [day, run_id]
    old.loc[again, "status"] = "OUTSTANDING"
    old.loc[again, ["delivered_on", "delivered_run", "delivered_how"]] = None
    old.loc[dropped, "status"] = "NO_LONGER_ELIGIBLE"
    for mask, how in ((gone, "GONE_FROM_EXPORT"), (marked, "MARKED_EXPUNGED")):
        old.loc[mask, ["status", "delivered_on", "delivered_run", "delivered_how"]] = ["DELIVERED", day, run_id, how]
    seen = pd.MultiIndex.from_frame(history[KEY].astype({"charge_seq": "int32"}))
    fresh = now[now["eligible"] & ~pd.MultiIndex.from_frame(now[KEY]).isin(seen)]
    new = fresh[[*KEY, *_LATEST]].assign(first_eligible_on=day, first_eligible_run=run_id, last_seen_on=day,
                                         last_seen_run=run_id, status="OUTSTANDING", delivered_on=None,
                                         delivered_run=None, delivered_how=None)
    merged = pd.concat([old, new], ignore_index=True) if len(old) else new
    merged = merged.assign(**{c: pd.to_datetime(merged[c]).astype("datetime64[s]") for c in _DATES})
    table = pa.Table.from_pandas(merged[SCHEMA.names], preserve_index=False).cast(SCHEMA)
    return table.sort_by([(k, "ascending") for k in KEY]).to_pandas()


def read(path: Path) -> pd.DataFrame:
    """The history kept at ``path`` (``empty()`` when there is none yet: an output folder's
    first published run)."""
    return pq.read_table(path).to_pandas() if Path(path).exists() else empty()


def tonight(charges: Path, before: pd.DataFrame) -> pd.DataFrame:
    """What a run's ``charges/`` tells the history: only the charges it has news of (eligible or
    marked expunged tonight, or of a case it holds); a statewide export's other charges would
    only take memory."""
    news = (ds.field("determination").isin(list(ELIGIBLE)) | (ds.field("already_expunged") == True)  # noqa: E712
            | ds.field("case_number").isin(pa.array(before["case_number"].unique(), pa.string())))
    if not any(Path(charges).rglob("*.parquet")):
        return pd.DataFrame(columns=TONIGHT_COLUMNS)
    return ds.dataset(charges, format="parquet", partitioning="hive").to_table(columns=TONIGHT_COLUMNS,
                                                                             filter=news).to_pandas()


def write(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path``, readable by its owner only."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).cast(SCHEMA), path, compression="zstd")
    Path(path).chmod(0o600)
