"""Five nights of the delivery gap through the inbox flow, every figure checked.

Three counties of the sample: BOONE delivers a few eligible cases on most nights (one of them
marked expunged in the export rather than gone from it), COLE never delivers, and ST. LOUIS
catches up on night 3 by expunging every eligible case at once. That shrinks the snapshot
past the guard's limit, so the night is held, then published when the operator accepts it.
Night 4 runs under another reading of the law (``felony_possession_limit=three_ounces``),
which takes some charges out of eligibility; night 5 returns to the defaults, 33 days after
night 2.

The expected figures come from this file's own bookkeeping of each charge, night by night,
from what each published run decided: the definitions of the gap report, written out once
more. The threshold is 1, so no figure is suppressed and every one is compared.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SAMPLE

pytestmark = pytest.mark.flow

COUNTIES = ("BOONE", "COLE", "ST. LOUIS")
NIGHTS = (date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 10), date(2026, 3, 11), date(2026, 4, 5))
RULE_CHANGE = {"felony_possession_limit": "three_ounces"}
KEY = ["case_number", "charge_seq"]
BANDS = ((0, "waiting_under_90_days"), (90, "waiting_90_to_364_days"), (365, "waiting_1_to_2_years"),
         (730, "waiting_2_years_or_more"))


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@dataclass
class Charge:
    """What the bookkeeping knows of a charge once seen eligible."""

    first: date
    county: str = ""
    circuit: str = ""
    path: str = ""
    person: str | None = None
    deadline: pd.Timestamp | None = None
    status: str = "OUTSTANDING"
    delivered_on: date | None = None
    delivered_night: int | None = None


@dataclass
class Book:
    charges: dict[tuple[str, int], Charge] = field(default_factory=dict)

    def night(self, i: int, day: date, run: Path) -> None:
        tonight = pd.read_parquet(run / "charges", columns=[*KEY, "county", "circuit", "person_key",
                                                            "determination", "deadline", "already_expunged"])
        seen = set()
        for r in tonight.itertuples(index=False):
            key = (str(r.case_number), int(r.charge_seq))
            seen.add(key)
            c = self.charges.get(key)
            if str(r.determination).startswith("ELIGIBLE") and not r.already_expunged:
                c = self.charges.setdefault(key, Charge(first=day))
                c.county, c.circuit, c.person = str(r.county), str(r.circuit), r.person_key
                c.path = "auto" if r.determination == "ELIGIBLE_AUTO" else "petition"
                c.deadline = None if pd.isna(r.deadline) else pd.Timestamp(r.deadline)
                c.status, c.delivered_on, c.delivered_night = "OUTSTANDING", None, None
            elif c is not None and c.status != "DELIVERED":
                c.status = "DELIVERED" if r.already_expunged else "NO_LONGER_ELIGIBLE"
                if r.already_expunged:
                    c.delivered_on, c.delivered_night = day, i
        for key, c in self.charges.items():
            if key not in seen and c.status == "OUTSTANDING":
                c.status, c.delivered_on, c.delivered_night = "DELIVERED", day, i

    def figures(self, i: int, day: date) -> pd.DataFrame:
        """Every figure of ``delivery.csv`` on night ``i``, by this file's reckoning."""
        rows = []
        for c in self.charges.values():
            if c.status == "NO_LONGER_ELIGIBLE":
                continue
            r = {"county": c.county, "circuit": c.circuit, "path": c.path, "person": c.person, "days": None,
                 "outstanding": c.status == "OUTSTANDING", "tonight": c.delivered_night == i,
                 "recent": c.delivered_on is not None and (day - c.delivered_on).days < 30,
                 "delivered": c.status == "DELIVERED"}
            if r["outstanding"]:
                start = c.deadline.date() if c.path == "auto" and c.deadline is not None else c.first
                if c.path == "petition" or (c.deadline is not None and c.deadline.date() < day):
                    r["days"] = (day - start).days
            rows.append(r)
        every = pd.DataFrame(rows)
        out = []
        for level, keys in (("state", ["path"]), ("circuit", ["circuit", "path"]),
                            ("county", ["county", "circuit", "path"])):
            for values, g in every.groupby(keys):
                waiting = g[g["days"].notna()]
                row = {"level": level, **dict(zip(keys, values, strict=True)),
                       "outstanding_charges": int(g["outstanding"].sum()),
                       "outstanding_people": g.loc[g["outstanding"], "person"].nunique(),
                       "waiting_charges": len(waiting), "waiting_people": waiting["person"].nunique(),
                       "median_days_waiting": round(statistics.median(waiting["days"])) if len(waiting) else None,
                       "delivered_since_last_night": int(g["tonight"].sum()),
                       "delivered_last_30_days": int((g["delivered"] & g["recent"]).sum()),
                       "delivered_total": int(g["delivered"].sum())}
                for k, (start, name) in enumerate(BANDS):
                    end = BANDS[k + 1][0] if k + 1 < len(BANDS) else 10**9
                    row[name] = int(waiting["days"].between(start, end - 1).sum())
                out.append(row)
        return pd.DataFrame(out)


@pytest.fixture(scope="module")
def nights(harness, tmp_path_factory):
    """Runs the five nights (and the held one); returns what each produced and the bookkeeping."""
    from flows.nightly import nightly_inbox

    root = tmp_path_factory.mktemp("five-nights")
    inbox, out = root / "inbox", root / "out"
    inbox.mkdir()
    base = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    export = base[base["county"].isin(COUNTIES)].assign(expunged="")
    book, runs, results, histories = Book(), [], {}, {}

    def night(i: int, frame: pd.DataFrame, **options) -> object:
        frame.to_csv(inbox / f"night-{i}.csv", index=False)
        state = nightly_inbox(str(inbox), str(out), NIGHTS[i - 1].isoformat(), suppress_below=1, return_state=True,
                              **options)
        return state if state.is_failed() else state.result()

    def publish(i: int, result: object) -> Path:
        run = Path(str(result))
        book.night(i, NIGHTS[i - 1], run)
        runs.append(run)
        results[i] = book.figures(i, NIGHTS[i - 1])
        histories[i] = pd.read_parquet(out / "history" / "eligible.parquet")
        return run

    first = publish(1, night(1, export))
    decided = pd.read_parquet(first / "charges", columns=["case_number", "county", "determination"])
    eligible = decided[decided["determination"].str.startswith("ELIGIBLE")]
    cases = {c: sorted(eligible.loc[eligible["county"] == c, "case_number"].unique()) for c in COUNTIES}
    # night 2: three of BOONE's eligible cases expunged (gone from the export)
    export = export[~export["case_number"].isin(cases["BOONE"][:3])]
    publish(2, night(2, export))
    # night 3: ST. LOUIS expunges every eligible case: the snapshot shrinks past the guard
    export = export[~export["case_number"].isin(cases["ST. LOUIS"])]
    held = night(3, export)
    latest_after_hold = (out / "latest").resolve()
    history_after_hold = pd.read_parquet(out / "history" / "eligible.parquet")
    publish(3, nightly_inbox(str(inbox), str(out), NIGHTS[2].isoformat(), suppress_below=1,
                             accept_shrink=True))  # the operator accepts it: the same export, published
    # night 4: another reading of the law; one BOONE case marked expunged, two more gone
    export = export.copy()
    export.loc[export["case_number"] == cases["BOONE"][3], "expunged"] = "Y"
    export = export[~export["case_number"].isin(cases["BOONE"][4:6])]
    publish(4, night(4, export, policies=RULE_CHANGE))
    # night 5: the defaults again, more than 30 days after night 2; one more BOONE case gone
    export = export[export["case_number"] != cases["BOONE"][6]]
    publish(5, night(5, export))
    return {"out": out, "runs": runs, "book": book, "expected": results, "held": held, "cases": cases,
            "latest_after_hold": latest_after_hold, "history_after_hold": history_after_hold, "histories": histories}


def published(run: Path) -> pd.DataFrame:
    table = pd.read_csv(run / "summary" / "delivery.csv", dtype={"circuit": "string", "county": "string"},
                        keep_default_na=False, na_values=[""])
    return table


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["level", "circuit", "county", "path"]
    frame = frame.assign(**{k: frame[k].astype("string").fillna("") if k in frame else "" for k in keys})
    return frame.set_index(keys).sort_index()


@pytest.mark.parametrize("i", range(1, 6))
def test_every_figure_of_the_gap_report_is_what_the_nights_add_up_to(nights, i):
    got, want = _keyed(published(nights["runs"][i - 1])), _keyed(nights["expected"][i])
    assert list(got.index) == list(want.index)
    for column in want.columns:
        if column == "person":
            continue
        assert got[column].astype("Float64").tolist() == want[column].astype("Float64").tolist(), column


def test_the_nights_deliver_charges_leave_others_waiting_and_one_county_catches_up(nights):
    state = {i: _keyed(nights["expected"][i]) for i in range(1, 6)}
    assert state[2].loc[("state", "", "", "auto"), "delivered_since_last_night"] > 0
    st_louis = [state[i].loc[("county", "21", "ST. LOUIS", "auto"), "waiting_charges"] for i in range(1, 6)]
    assert st_louis[0] > 0 and st_louis[2:] == [0, 0, 0]
    cole = [state[i].loc[("county", "19", "COLE", "auto"), "delivered_total"] for i in range(1, 6)]
    assert cole == [0, 0, 0, 0, 0]
    # night 5 is 33 days after night 2: its deliveries are in the total, not in the last 30 days
    boone = state[5].loc[("county", "13", "BOONE", "auto")]
    assert boone["delivered_total"] > boone["delivered_last_30_days"] > 0


def test_the_catching_up_night_was_held_then_published_when_accepted(nights):
    held = nights["held"]
    assert held.is_failed() and held.name == "Held"
    assert nights["latest_after_hold"] == nights["runs"][1]  # nothing published: night 2 stayed the latest
    log = [json.loads(line) for line in (nights["out"] / "runs.jsonl").read_text().splitlines()]
    assert [e["status"] for e in log].count("held") == 1
    manifest = json.loads((nights["runs"][2] / "manifest.json").read_text())
    assert manifest["delivery"]["shrink_accepted"] is True


def test_a_held_night_leaves_the_delivery_history_as_the_night_before_left_it(nights):
    pd.testing.assert_frame_equal(nights["history_after_hold"], nights["histories"][2])


def test_the_rule_change_takes_charges_out_of_the_gap_and_the_defaults_put_them_back(nights):
    def auto(i: int, column: str) -> int:
        return int(nights["expected"][i].query("level == 'state' and path == 'auto'")[column].sum())

    assert auto(4, "outstanding_charges") < auto(3, "outstanding_charges") - auto(4, "delivered_since_last_night")
    assert auto(5, "outstanding_charges") == auto(3, "outstanding_charges") - auto(4, "delivered_since_last_night") \
        - auto(5, "delivered_since_last_night")
    manifest = json.loads((nights["runs"][3] / "manifest.json").read_text())
    assert manifest["policies"]["felony_possession_limit"] == "three_ounces"


def test_a_charge_marked_expunged_is_delivered_as_marked(nights):
    h = pd.read_parquet(nights["out"] / "history" / "eligible.parquet")
    marked = h[h["case_number"] == nights["cases"]["BOONE"][3]]
    assert len(marked) and set(marked["delivered_how"]) == {"MARKED_EXPUNGED"}


def test_the_trend_has_one_row_per_published_night_and_path(nights):
    trend = pd.read_csv(nights["runs"][-1] / "summary" / "delivery_trend.csv", dtype={"as_of": str})
    assert sorted(trend["as_of"].unique()) == [d.isoformat() for d in NIGHTS]
    for i, day in enumerate(NIGHTS, start=1):
        want = nights["expected"][i].query("level == 'state'").set_index("path")
        got = trend[trend["as_of"] == day.isoformat()].set_index("path")
        assert got["waiting_charges"].to_dict() == want["waiting_charges"].to_dict()
        assert got["delivered_total"].to_dict() == want["delivered_total"].to_dict()


def test_the_worklist_puts_the_longest_waiting_first_and_leaves_out_charges_marked_expunged(nights):
    run, marked = nights["runs"][3], nights["cases"]["BOONE"][3]  # night 4: the case marked expunged
    work = pd.read_csv(run / "worklists" / "circuit-13" / "BOONE.csv", dtype={"cases": str})
    assert len(work) and work["days_waiting"].is_monotonic_decreasing
    assert work["rank"].tolist() == list(range(1, len(work) + 1))
    assert not work["cases"].str.contains(marked, regex=False).any()
    petitions = pd.read_csv(run / "petitions" / "circuit-13" / "BOONE.csv", dtype={"case_number": str})
    listed = petitions[petitions["case_number"] == marked]
    assert len(listed) and listed["days_waiting"].isna().all()
    assert (listed["waiting_rank"] > petitions.loc[petitions["days_waiting"].notna(), "waiting_rank"].max()).all()
