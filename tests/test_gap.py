"""The delivery gap: which eligible charges are still on the record, where, and for how long."""

from __future__ import annotations

from datetime import date

import pandas as pd

from expunge.publish import gap, history
from expunge.publish.disclosure import Table

NIGHT1, NIGHT2 = date(2026, 1, 5), date(2026, 1, 6)


def charge(case: str, determination: str = "ELIGIBLE_AUTO", county: str = "BOONE", person: str | None = None,
           deadline: str | None = "2023-06-08", expunged: bool = False) -> dict:
    return {"case_number": case, "charge_seq": 1, "county": county, "circuit": {"BOONE": "13", "COLE": "19"}[county],
            "person_key": person or f"p-{case}", "determination": determination, "rule_id": "R",
            "deadline": pd.Timestamp(deadline) if deadline else pd.NaT, "already_expunged": expunged}


def night(*charges: dict) -> pd.DataFrame:
    return pd.DataFrame(list(charges), columns=history.TONIGHT_COLUMNS)


def states_after(*nights: tuple[date, pd.DataFrame]) -> pd.DataFrame:
    h = history.empty()
    for i, (day, charges) in enumerate(nights):
        h = history.update(h, charges, day, f"n{i + 1}")
    day = nights[-1][0]
    return gap.states(h, day, f"n{len(nights)}")


def state_of(states: pd.DataFrame, case: str) -> tuple[str, object]:
    [r] = states[states["case_number"] == case].to_dict("records")
    return r["state"], r["days"]


def test_an_automatic_charge_waits_from_its_deadline():
    s = states_after((NIGHT1, night(charge("A"))))
    assert state_of(s, "A") == ("WAITING_3", (pd.Timestamp(NIGHT1) - pd.Timestamp("2023-06-08")).days)


def test_a_petition_charge_waits_from_the_night_it_was_first_seen_eligible():
    s = states_after((NIGHT1, night(charge("A", "ELIGIBLE_PETITION", deadline=None))),
                     (NIGHT2, night(charge("A", "ELIGIBLE_PETITION", deadline=None))))
    assert state_of(s, "A") == ("WAITING_0", 1)


def test_an_automatic_charge_before_its_deadline_is_outstanding_but_not_yet_waiting():
    s = states_after((date(2023, 5, 1), night(charge("A"))))
    assert state_of(s, "A")[0] == "NOT_YET_DUE"


def test_a_charge_gone_tonight_is_delivered_tonight_and_later_recently_then_earlier():
    h = history.update(history.empty(), night(charge("A")), NIGHT1, "n1")
    h = history.update(h, night(), NIGHT2, "n2")
    assert state_of(gap.states(h, NIGHT2, "n2"), "A")[0] == "DELIVERED_TONIGHT"
    assert state_of(gap.states(h, date(2026, 1, 20), "n3"), "A")[0] == "DELIVERED_RECENT"
    assert state_of(gap.states(h, date(2026, 3, 1), "n4"), "A")[0] == "DELIVERED_EARLIER"


def test_a_charge_no_longer_eligible_is_in_no_figure_of_the_gap():
    s = states_after((NIGHT1, night(charge("A"))), (NIGHT2, night(charge("A", "NEEDS_REVIEW"))))
    assert s.empty


def test_the_report_counts_charges_and_distinct_people_per_county_circuit_and_state():
    s = states_after((NIGHT1, night(charge("A", person="p1"), charge("B", person="p1"), charge("C", county="COLE"),
                                    charge("D", "ELIGIBLE_PETITION", deadline=None))))
    r = gap.report(s, below=1).set_index(["level", "county", "path"])
    assert r.loc[("state", pd.NA, "auto"), ["waiting_charges", "waiting_people"]].tolist() == [3, 2]
    assert r.loc[("county", "BOONE", "auto"), ["waiting_charges", "waiting_people"]].tolist() == [2, 1]
    assert r.loc[("county", "BOONE", "petition"), "waiting_since"] == "first seen eligible"
    assert r.loc[("circuit", pd.NA, "auto"), "waiting_charges"].tolist() == [2, 1]


def test_the_median_and_the_bands_describe_how_long_charges_have_waited():
    s = states_after((date(2024, 1, 1), night(charge("A"), charge("B", deadline="2023-12-08"))),
                     (date(2024, 6, 1), night(charge("A"), charge("B", deadline="2023-12-08"))))
    state = gap.report(s, below=1).query("level == 'state' and path == 'auto'").iloc[0]
    waited = [(date(2024, 6, 1) - date(2023, 6, 8)).days, (date(2024, 6, 1) - date(2023, 12, 8)).days]
    assert state["median_days_waiting"] == round(sum(waited) / 2)
    assert (state["waiting_90_to_364_days"], state["waiting_under_90_days"]) == (2, 0)


def test_people_under_the_threshold_are_blank_except_statewide():
    s = states_after((NIGHT1, night(*(charge(c, person="p1") for c in "ABCDEFGHIJKL"))))
    r = gap.report(s, below=10)
    county = r[r["level"] == "county"].iloc[0]
    assert county["waiting_charges"] == 12 and pd.isna(county["waiting_people"])
    assert "waiting_people" in county["suppressed"]
    assert r[r["level"] == "state"].iloc[0]["waiting_people"] == 1


def test_a_charge_count_disclosure_control_hides_blanks_its_people_and_median_too():
    s = states_after((NIGHT1, night(*(charge(c) for c in "ABCDEFGHIJKL"))))
    spec = next(t for t in gap.TABLES if t.level == "county")
    cells = pd.DataFrame({"table": spec.name, "column": "waiting_charges", "county": ["BOONE"], "circuit": ["13"],
                          "path": ["auto"], "suppressed": [True]})
    county = gap.report(s, cells, below=10).query("level == 'county'").iloc[0]
    assert pd.isna(county["waiting_charges"]) and pd.isna(county["waiting_people"])
    assert pd.isna(county["median_days_waiting"]) and county["outstanding_charges"] == 12


def test_the_trend_adds_tonight_s_statewide_rows_and_replaces_a_rerun():
    s = states_after((NIGHT1, night(charge("A"))))
    first = gap.trend(None, gap.report(s, below=1), NIGHT1, "n1")
    again = gap.trend(first, gap.report(s, below=1), NIGHT1, "n1")
    later = gap.trend(again, gap.report(s, below=1), NIGHT2, "n2")
    assert len(again) == len(first) == 1 and later["run_id"].tolist() == ["n1", "n2"]


def test_every_delivery_table_selects_on_the_delivery_state():
    assert all(isinstance(t, Table) and t.by == "state" and t.file == "delivery" for t in gap.TABLES)
    assert {t.level for t in gap.TABLES} == set(gap.LEVELS)
