"""Person linkage: explainable, and conflicts are reported, never merged."""

from __future__ import annotations

import pandas as pd

from expunge.decide.people import conflict_table, link_people
from expunge.ingest.identities import identities, person_index
from tests.conftest import make_charges


def keys(*rows):
    people, conflicts = link_people(make_charges(*rows))
    return list(people["person_key"]), list(people["person_link"]), conflict_table(conflicts)


def test_the_exports_person_id_links_cases():
    k, link, _ = keys({"case_number": "A", "defendant_id": "P1"},
                      {"case_number": "B", "defendant_id": "P1", "dob": None})
    assert k[0] == k[1] and link == ["ID", "ID"]


def test_name_and_birth_date_link_records_without_an_id():
    k, link, _ = keys({"case_number": "A"}, {"case_number": "B"})
    assert k[0] == k[1] and link == ["NAME_DOB", "NAME_DOB"]


def test_a_record_without_id_joins_the_one_id_with_its_name_and_birth_date():
    k, link, _ = keys({"case_number": "A", "defendant_id": "P1"}, {"case_number": "B"})
    assert k[0] == k[1] and link == ["ID", "NAME_DOB_TO_ID"]


def test_same_name_without_birth_dates_is_not_merged_across_cases():
    k, link, _ = keys({"case_number": "A", "dob": None}, {"case_number": "B", "dob": None},
                      {"case_number": "A", "dob": None, "charge_seq": 2})
    assert k[0] != k[1] and k[0] == k[2] and link == ["CASE_ONLY"] * 3


def test_one_id_with_two_birth_dates_is_reported():
    _, _, conflicts = keys({"case_number": "A", "defendant_id": "P1", "dob": "1990-01-01"},
                           {"case_number": "B", "defendant_id": "P1", "dob": "1991-01-01"})
    row = conflicts.iloc[0]
    assert (row["conflict"], row["dob"], row["case_numbers"]) == ("ID_DOB_CONFLICT", "1990-01-01;1991-01-01", "A;B")


def test_one_name_and_birth_date_under_two_ids_is_reported_and_not_merged():
    k, _, conflicts = keys({"case_number": "A", "defendant_id": "P1"}, {"case_number": "B", "defendant_id": "P2"},
                           {"case_number": "C"})
    assert k[0] != k[1] and k[2] not in (k[0], k[1])
    assert conflicts.iloc[0]["conflict"] == "NAME_DOB_SEVERAL_IDS"


def test_linking_a_partition_against_the_whole_exports_index_gives_the_same_keys():
    charges = make_charges({"case_number": "A", "defendant_id": "P1"}, {"case_number": "B"},
                           {"case_number": "C", "defendant_id": "P1", "dob": "1991-01-01"})
    whole, whole_conflicts = link_people(charges)
    index = person_index([identities(charges.iloc[:1]), identities(charges.iloc[1:])])
    parts = [link_people(charges.iloc[:1], index), link_people(charges.iloc[1:], index)]
    assert [*parts[0][0]["person_key"], *parts[1][0]["person_key"]] == list(whole["person_key"])
    merged = conflict_table(pd.concat([parts[0][1], parts[1][1]]))
    assert merged.equals(conflict_table(whole_conflicts)) and merged.iloc[0]["case_numbers"] == "A;C"
