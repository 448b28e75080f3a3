"""The delivery history: each charge ever seen eligible, one row, and when it left the record."""

from __future__ import annotations

from datetime import date

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from expunge.ops.history import load
from expunge.ops.run import run_pipeline
from expunge.publish import history
from tests.conftest import AS_OF, SAMPLE
from tests.test_ledger import next_nights_export

NIGHT1, NIGHT2, NIGHT3 = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)


def charge(case: str, determination: str = "ELIGIBLE_AUTO", expunged: bool = False, seq: int = 1) -> dict:
    return {"case_number": case, "charge_seq": seq, "county": "BOONE", "circuit": "13", "person_key": f"p-{case}",
            "determination": determination, "rule_id": "R", "deadline": pd.Timestamp("2023-06-08"),
            "already_expunged": expunged}


def night(*charges: dict) -> pd.DataFrame:
    return pd.DataFrame(list(charges), columns=history.TONIGHT_COLUMNS)


def row(h: pd.DataFrame, case: str) -> pd.Series:
    [r] = h[h["case_number"] == case].to_dict("records")
    return pd.Series(r)


def test_a_charge_first_seen_eligible_is_outstanding_from_that_night():
    h = history.update(history.empty(), night(charge("A"), charge("B", "NOT_ELIGIBLE")), NIGHT1, "one")
    assert h["case_number"].tolist() == ["A"]
    a = row(h, "A")
    assert (a["status"], a["first_eligible_on"], a["path"]) == ("OUTSTANDING", NIGHT1, "auto")


def test_a_charge_gone_from_the_export_after_being_eligible_counts_as_delivered_that_night():
    h = history.update(history.empty(), night(charge("A"), charge("B")), NIGHT1, "one")
    h = history.update(h, night(charge("B")), NIGHT2, "two")
    a = row(h, "A")
    assert (a["status"], a["delivered_how"], a["delivered_on"], a["last_seen_on"]) == \
        ("DELIVERED", "GONE_FROM_EXPORT", NIGHT2, NIGHT1)
    assert row(h, "B")["status"] == "OUTSTANDING"


def test_a_charge_the_record_marks_expunged_is_delivered_as_marked():
    h = history.update(history.empty(), night(charge("A")), NIGHT1, "one")
    h = history.update(h, night(charge("A", "NOT_ELIGIBLE", expunged=True)), NIGHT2, "two")
    assert (row(h, "A")["status"], row(h, "A")["delivered_how"]) == ("DELIVERED", "MARKED_EXPUNGED")


def test_a_charge_a_rule_change_made_ineligible_keeps_its_first_night_when_eligible_again():
    h = history.update(history.empty(), night(charge("A")), NIGHT1, "one")
    h = history.update(h, night(charge("A", "NEEDS_REVIEW")), NIGHT2, "two")
    assert row(h, "A")["status"] == "NO_LONGER_ELIGIBLE"
    h = history.update(h, night(charge("A", "ELIGIBLE_PETITION")), NIGHT3, "three")
    a = row(h, "A")
    assert (a["status"], a["first_eligible_on"], a["path"]) == ("OUTSTANDING", NIGHT1, "petition")


def test_a_charge_no_longer_eligible_that_leaves_the_export_was_not_delivered():
    h = history.update(history.empty(), night(charge("A")), NIGHT1, "one")
    h = history.update(h, night(charge("A", "NOT_ELIGIBLE")), NIGHT2, "two")
    h = history.update(h, night(), NIGHT3, "three")
    assert row(h, "A")["status"] == "NO_LONGER_ELIGIBLE"


def test_a_delivered_charge_that_comes_back_eligible_is_outstanding_again():
    h = history.update(history.empty(), night(charge("A")), NIGHT1, "one")
    h = history.update(h, night(), NIGHT2, "two")
    h = history.update(h, night(charge("A")), NIGHT3, "three")
    a = row(h, "A")
    assert (a["status"], a["delivered_on"], a["first_eligible_on"]) == ("OUTSTANDING", None, NIGHT1)


_nights = st.lists(st.lists(st.tuples(st.sampled_from("ABCDE"), st.sampled_from(
    ["ELIGIBLE_AUTO", "ELIGIBLE_PETITION", "NOT_ELIGIBLE", "NEEDS_REVIEW"]), st.booleans()),
    max_size=5, unique_by=lambda c: c[0]), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(nights=_nights)
def test_each_charge_ever_eligible_has_one_row_outstanding_exactly_while_on_the_record_and_eligible(nights):
    h, ever = history.empty(), set()
    for i, charges in enumerate(nights):
        h = history.update(h, night(*(charge(c, d, x) for c, d, x in charges)), date(2026, 1, 1 + i), f"n{i}")
        ever |= {c for c, d, x in charges if d.startswith("ELIGIBLE") and not x}
        assert sorted(h["case_number"]) == sorted(ever)
        tonight = {c for c, _, _ in charges}
        for c, d, x in charges:
            if c in ever:
                assert (row(h, c)["status"] == "OUTSTANDING") == (d.startswith("ELIGIBLE") and not x)
        for c in ever - tonight:
            assert row(h, c)["status"] != "OUTSTANDING"


def test_a_published_run_records_its_eligible_charges_owner_only_and_apart_from_the_ledger(tmp_path):
    run = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one", documents=False)
    h = load(tmp_path)
    charges = pd.read_parquet(run / "charges", columns=["determination", "already_expunged"])
    assert len(h) == (charges["determination"].str.startswith("ELIGIBLE") & ~charges["already_expunged"]).sum() > 0
    assert set(h["status"]) == {"OUTSTANDING"} and set(h["first_eligible_run"]) == {"one"}
    path = tmp_path / "history" / "eligible.parquet"
    assert path.stat().st_mode & 0o077 == 0 and path.parent.stat().st_mode & 0o077 == 0
    assert not (tmp_path / "ledger" / "eligible.parquet").exists()


def test_eligible_charges_missing_from_the_next_snapshot_are_delivered_and_the_rest_outstanding(tmp_path):
    one = run_pipeline([SAMPLE], tmp_path / "out", AS_OF, run_id="one", documents=False)
    export = next_nights_export(tmp_path)  # the sample less its last 50 lines, a few charges changed
    two = run_pipeline([export], tmp_path / "out", AS_OF, run_id="two", documents=False)
    key = ["case_number", "charge_seq"]
    before, after = (pd.read_parquet(r / "charges", columns=key) for r in (one, two))
    gone = before.merge(after, on=key, how="left", indicator=True).query("_merge == 'left_only'")[key]
    h = load(tmp_path / "out").merge(gone.assign(gone=True), on=key, how="left")
    delivered = h[h["gone"].fillna(False).astype(bool)]
    assert len(delivered) > 0 and set(delivered["delivered_how"]) == {"GONE_FROM_EXPORT"}
    assert set(delivered["delivered_run"]) == {"two"}
    assert set(h.loc[~h["gone"].fillna(False).astype(bool), "status"]) <= {"OUTSTANDING", "NO_LONGER_ELIGIBLE"}
