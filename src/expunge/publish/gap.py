"""The delivery gap: of the charges that must be expunged, which are still on the record,
where, and for how long.

Input: the delivery history after tonight's run (``publish.history``). Output:

* ``summary/delivery.csv``: per path (automatic, § 2.10(8); petition, § 2.10(7)), statewide,
  per circuit and per county: eligible charges and people still on the record, those waiting
  (automatic: past the deadline; petition: since first seen eligible, as petitions have no
  deadline), how long they have waited (median and four bands), and the charges delivered
  since the previous night, in the last 30 days and in all;
* ``summary/delivery_trend.csv``: the statewide rows of every night, for the chart.

Every charge count is a cell of the run's disclosure control (``TABLES``, audited with the
other summaries and the previous night's: ``Rollups.disclosure_cells``); people follow their
charges and are blank under the threshold; the statewide rows are published whole, as the
headline is. "Delivered" counts a charge gone from the export after being eligible as
expunged: an assumption (``history``), said on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from expunge.errors import InputFileError
from expunge.publish.disclosure import Table, hidden_cells
from expunge.publish.history import KEY

PATHS = ("auto", "petition")
#: What a path's waiting is counted from.
WAITING_SINCE = {"auto": "deadline", "petition": "first seen eligible"}
#: Bands of days waited: first day of each band, and its column.
BANDS = ((0, "waiting_under_90_days"), (90, "waiting_90_to_364_days"), (365, "waiting_1_to_2_years"),
         (730, "waiting_2_years_or_more"))
RECENT_DAYS = 30
_WAITING = tuple(f"WAITING_{i}" for i in range(len(BANDS)))
_DELIVERED = ("DELIVERED_TONIGHT", "DELIVERED_RECENT", "DELIVERED_EARLIER")
#: Each charge-count column: the states of the charges it adds up.
CHARGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "outstanding_charges": ("NOT_YET_DUE", *_WAITING),
    "waiting_charges": _WAITING,
    **{name: (f"WAITING_{i}",) for i, (_, name) in enumerate(BANDS)},
    "delivered_since_last_night": _DELIVERED[:1],
    f"delivered_last_{RECENT_DAYS}_days": _DELIVERED[:2],
    "delivered_total": _DELIVERED,
}
#: People columns: distinct people with a charge of the charge column named.
PEOPLE_COLUMNS = {"outstanding_people": "outstanding_charges", "waiting_people": "waiting_charges"}
LEVELS = ("state", "circuit", "county")
#: The published tables of charge counts, for disclosure control (one file, a ``level`` each).
TABLES = (
    Table("delivery_statewide", ("path",), dict(CHARGE_COLUMNS), fixed=True, by="state", file="delivery",
          level="state"),
    Table("delivery_by_circuit", ("circuit", "path"), dict(CHARGE_COLUMNS), by="state", file="delivery",
          level="circuit"),
    Table("delivery_by_county", ("county", "circuit", "path"), dict(CHARGE_COLUMNS), by="state", file="delivery",
          level="county"),
)
#: The delivery keys of a charge, as atoms of disclosure control.
ATOM_KEYS = ("county", "circuit", "path", "state")
COLUMNS = ["level", "circuit", "county", "path", "waiting_since", "outstanding_charges", "outstanding_people",
           "waiting_charges", "waiting_people", "median_days_waiting", *(name for _, name in BANDS),
           "delivered_since_last_night", f"delivered_last_{RECENT_DAYS}_days", "delivered_total", "suppressed"]
TREND_COLUMNS = ["as_of", "run_id", "path", "outstanding_charges", "waiting_charges", "outstanding_people",
                 "delivered_since_last_night", "delivered_total"]


@dataclass(frozen=True)
class Nights:
    """The delivery states of the charges tonight and, when the previous night published a
    delivery table, on that night (``states``), for disclosure control over both."""

    tonight: pd.DataFrame
    before: pd.DataFrame | None = None


def states(history: pd.DataFrame, as_of: date | str, run_id: str) -> pd.DataFrame:
    """The delivery state of each charge of ``history`` on the night ``as_of`` of run ``run_id``
    (charges no longer eligible, or delivered before they were eligible again, have none and
    are left out): ``NOT_YET_DUE`` (automatic, before its deadline), ``WAITING_<band>``
    (``BANDS``; ``days`` waited), ``DELIVERED_TONIGHT``, ``DELIVERED_RECENT`` (in the
    ``RECENT_DAYS`` days before) or ``DELIVERED_EARLIER``."""
    day = pd.Timestamp(as_of)
    status = history["status"]
    auto = (history["path"] == "auto").to_numpy()
    days = days_waiting(auto, history["deadline"], history["first_eligible_on"], day)
    outstanding = (status == "OUTSTANDING").to_numpy()
    not_due = outstanding & days.isna().to_numpy()
    waiting = outstanding & ~not_due
    band = np.searchsorted([start for start, _ in BANDS], days.fillna(0).clip(lower=0).to_numpy(), side="right") - 1
    delivered = (status == "DELIVERED").to_numpy()
    tonight = delivered & (history["delivered_run"] == run_id).to_numpy()
    recent = delivered & ~tonight & (pd.to_datetime(history["delivered_on"]) > day - pd.Timedelta(days=RECENT_DAYS)
                                     ).fillna(False).to_numpy(bool)
    state = np.select([not_due, waiting, tonight, recent, delivered],
                      ["NOT_YET_DUE", np.char.add("WAITING_", band.astype(str)), *_DELIVERED], "")
    out = history[[*KEY, "county", "circuit", "path", "person_key"]].assign(
        state=state, days=days.where(waiting).astype("Int64"))
    return out[state != ""].reset_index(drop=True)


def days_waiting(auto: np.ndarray, deadline: pd.Series, first_seen: pd.Series, as_of: date | str) -> pd.Series:
    """Days an eligible charge has waited on ``as_of``: an automatic one (``auto``) since its
    deadline (missing before the deadline, or without one), a petition one since it was first
    seen eligible."""
    day = pd.Timestamp(as_of)
    deadline = pd.to_datetime(deadline)
    since = deadline.where(auto, pd.to_datetime(first_seen))
    days = pd.Series((day - since).dt.days, index=deadline.index).astype("Int64")
    return days.mask(auto & ~(deadline < day).fillna(False).to_numpy(bool))


def report(charges: pd.DataFrame, cells: pd.DataFrame | None = None, below: int = 10) -> pd.DataFrame:
    """``summary/delivery.csv`` from tonight's ``states``: the statewide, circuit and county rows
    of each path. ``cells``: tonight's disclosure cells with their ``suppressed`` flag (the
    charge counts they hide are blank, with the people of the same charges); people counts
    from 1 to ``below - 1`` are blank too, except statewide. ``suppressed`` names the blank
    counts of each row."""
    frames = []
    for spec in TABLES:
        table = _counts(charges, list(spec.keys)).assign(level=spec.level)
        hidden = hidden_cells(table, spec, cells) if cells is not None else {}
        frames.append(_suppress(table, hidden, below, fixed=spec.fixed))
    out = pd.concat(frames, ignore_index=True)
    out["waiting_since"] = out["path"].map(WAITING_SINCE)
    out["_level"] = out["level"].map({lv: i for i, lv in enumerate(LEVELS)})
    out["_circuit"] = pd.to_numeric(out["circuit"], errors="coerce")
    out = out.sort_values(["_level", "_circuit", "circuit", "county", "path"], na_position="first", kind="stable")
    return out[COLUMNS].reset_index(drop=True)


def _counts(charges: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Charges per column of ``CHARGE_COLUMNS``, people per ``PEOPLE_COLUMNS`` and the median
    days waiting, per group of ``keys``: one pass over the charges per kind of figure."""
    by = charges[keys].astype("string").fillna(_NONE)
    flags = pd.DataFrame({c: charges["state"].isin(wanted).to_numpy() for c, wanted in CHARGE_COLUMNS.items()},
                         index=charges.index)
    out = flags.groupby([by[k] for k in keys], sort=True).sum()
    for column, of in PEOPLE_COLUMNS.items():
        inside = flags[of].to_numpy()
        people = charges.loc[inside, "person_key"].groupby([by.loc[inside, k] for k in keys]).nunique()
        out[column] = people.reindex(out.index).fillna(0)
    out["median_days_waiting"] = charges["days"].astype("Float64").groupby([by[k] for k in keys]).median()
    counts = [*CHARGE_COLUMNS, *PEOPLE_COLUMNS]
    out[counts] = out[counts].astype("int64")
    out = out.reset_index()
    for k in keys:
        out[k] = out[k].mask(out[k] == _NONE)
    return out


_NONE = "\x00none"


def _suppress(table: pd.DataFrame, hidden: Mapping[str, pd.Series], below: int, fixed: bool) -> pd.DataFrame:
    out = table.copy()
    blank = {c: hidden.get(c, pd.Series(False, index=out.index)).to_numpy(bool) for c in CHARGE_COLUMNS}
    for people, of in PEOPLE_COLUMNS.items():
        small = ((out[people] > 0) & (out[people] < below)).to_numpy() & (not fixed)
        blank[people] = blank[of] | small
    blank["median_days_waiting"] = blank["waiting_charges"] | (out["waiting_charges"] == 0).to_numpy()
    names = pd.Series("", index=out.index)
    for column, mask in blank.items():
        out[column] = out[column].astype("Float64" if column == "median_days_waiting" else "Int64").mask(mask)
        if column != "median_days_waiting":
            names = names.where(~mask, names + np.where(names == "", "", ";") + column)
    out["median_days_waiting"] = out["median_days_waiting"].round().astype("Int64")
    out["suppressed"] = names
    return out


def statewide(table: pd.DataFrame) -> dict[str, dict[str, int | None]]:
    """The statewide rows of a gap report (``report``), per path: for the manifest."""
    rows = table[table["level"] == "state"].set_index("path")
    counts = [*CHARGE_COLUMNS, *PEOPLE_COLUMNS, "median_days_waiting"]
    return {str(path): {c: None if pd.isna(r[c]) else int(r[c]) for c in counts} for path, r in rows.iterrows()}


def trend(previous: pd.DataFrame | None, tonight: pd.DataFrame, as_of: date | str, run_id: str) -> pd.DataFrame:
    """``summary/delivery_trend.csv``: the previous night's trend with tonight's statewide rows
    (``report``'s) added (a run again under the same id replaces its rows)."""
    state = tonight[tonight["level"] == "state"]
    rows = state.assign(as_of=str(pd.Timestamp(as_of).date()), run_id=run_id)[TREND_COLUMNS]
    old = previous[previous["run_id"] != run_id] if previous is not None else None
    out = pd.concat([old, rows], ignore_index=True) if old is not None and len(old) else rows
    return out.sort_values(["as_of", "run_id", "path"], kind="stable").reset_index(drop=True)


def read_trend(summary: Path) -> pd.DataFrame | None:
    """A run's ``delivery_trend.csv`` (None when it has none)."""
    path = Path(summary) / "delivery_trend.csv"
    return pd.read_csv(path, dtype={"run_id": "string", "as_of": "string"}) if path.is_file() else None


def read(run_dir: Path | str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run's gap report and trend (``summary/delivery.csv`` and ``delivery_trend.csv``).

    Raises:
        InputFileError: the run has no gap report (made before runs wrote one).
    """
    summary = Path(run_dir) / "summary"
    path = summary / "delivery.csv"
    if not path.is_file():
        raise InputFileError(f"The run {Path(run_dir).name} has no gap report ({path} is missing): it was made before "
                             "runs wrote one. The next published run writes it.")
    table = pd.read_csv(path, dtype={"circuit": "string", "county": "string", "suppressed": "string"},
                        keep_default_na=False, na_values=[""])
    trend = read_trend(summary)
    return table, trend if trend is not None else pd.DataFrame(columns=TREND_COLUMNS)
