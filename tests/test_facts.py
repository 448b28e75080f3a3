"""One function per fact, each tested alone: a legal reading is one line of a table.

Each function is named after the column it returns and its parameters after the columns it
reads (``expunge.decide.facts``, ``expunge.normalize.offenses``), so a counsel's question ("what does
579.086-001 with 3560 become?") is one row here.
"""

from __future__ import annotations

import pandas as pd
import pytest

from expunge.decide.facts import (
    amount_g,
    case_kind,
    level_class,
    offense_after_effective,
    offense_family,
    serving,
    substance,
)
from expunge.law.rules import DEFAULT_SUBSTANCE_ORDER, load_rules
from expunge.normalize.codes import modifier_substance
from expunge.normalize.descriptions import describe, names_non_drug_offense, violent

N = None


def _one(**columns: object) -> dict[str, pd.Series]:
    return {k: pd.Series([v], dtype="object") for k, v in columns.items()}


# (crosswalk, modifier, code, description, except wording, conflated wording, policy) -> (substance, step)
SUBSTANCE_CASES = [
    ("OTHER_DRUG", "MARIJUANA", N, N, False, False, "assume_marijuana", "OTHER_DRUG", "crosswalk"),
    (N, "MARIJUANA", "OTHER_DRUG", N, False, False, "assume_marijuana", "MARIJUANA", "modifier"),
    (N, "MARIJUANA", N, "OTHER_DRUG", False, False, "assume_marijuana", "MARIJUANA", "modifier"),
    (N, "OTHER_DRUG", "MARIJUANA", "MARIJUANA", False, False, "assume_marijuana", "OTHER_DRUG", "modifier"),
    (N, N, "MARIJUANA", "OTHER_DRUG", False, False, "assume_marijuana", "UNKNOWN", "code_description_conflict"),
    (N, N, "MARIJUANA", "THC", False, False, "assume_marijuana", "MARIJUANA", "code"),
    (N, N, N, "THC", True, False, "assume_marijuana", "THC", "description"),
    (N, N, N, N, True, True, "assume_marijuana", "UNKNOWN", "except_wording"),
    (N, N, N, N, False, True, "assume_marijuana", "MARIJUANA", "conflated_wording"),
    (N, N, N, N, False, True, "review", "UNKNOWN", "conflated_wording"),
    (N, N, N, N, False, False, "assume_marijuana", "UNKNOWN", "none"),
]


@pytest.mark.parametrize(("crosswalk", "modifier", "code", "desc", "except35", "conflated", "policy", "want",
                          "step"), SUBSTANCE_CASES)
def test_substance_follows_the_v2_order_of_trust(crosswalk, modifier, code, desc, except35, conflated, policy,
                                                 want, step):
    c = _one(crosswalk=crosswalk, modifier=modifier, code=code, desc=desc)
    got = substance(DEFAULT_SUBSTANCE_ORDER, c["crosswalk"], c["modifier"], c["code"], c["desc"],
                    pd.Series([except35]), pd.Series([conflated]), policy).iloc[0]
    assert (got["substance"], got["step"]) == (want, step)


def test_substance_under_v1_order_sends_a_modifier_description_conflict_to_review():
    c = _one(crosswalk=N, modifier="MARIJUANA", code=N, desc="OTHER_DRUG")
    got = substance(load_rules("mo-a3.v1.yaml").substance_order, c["crosswalk"], c["modifier"], c["code"], c["desc"],
                    pd.Series([False]), pd.Series([False]), "assume_marijuana").iloc[0]
    assert (got["substance"], got["step"]) == ("UNKNOWN", "record_description_conflict")


# (code reading's family, substance, step, modifier conduct) -> family
FAMILY_CASES = [
    ("OTHER_DRUG", "MARIJUANA", "modifier", "MJ_DELIVERY", "MJ_DELIVERY"),
    ("DRUG_UNSPECIFIED", "MARIJUANA", "modifier", "MJ_POSSESSION", "MJ_POSSESSION"),
    ("OTHER_DRUG", "MARIJUANA", "modifier", N, "DRUG_UNSPECIFIED"),
    ("MJ_DELIVERY", "MARIJUANA", "modifier", "MJ_POSSESSION", "MJ_DELIVERY"),
    ("MJ_POSSESSION", "OTHER_DRUG", "modifier", N, "OTHER_DRUG"),
    ("DELIVERY_TO_MINOR", "MARIJUANA", "modifier", "MJ_DELIVERY", "DELIVERY_TO_MINOR"),
    ("NON_DRUG", "MARIJUANA", "modifier", "MJ_DELIVERY", "NON_DRUG"),
    ("OTHER_DRUG", "MARIJUANA", "description", N, "DRUG_UNSPECIFIED"),
    ("OTHER_DRUG", "UNKNOWN", "code_description_conflict", N, "DRUG_UNSPECIFIED"),
    ("OTHER_DRUG", "OTHER_DRUG", "code", N, "OTHER_DRUG"),
]


@pytest.mark.parametrize(("family", "sub", "step", "conduct", "want"), FAMILY_CASES)
def test_offense_family_takes_the_marijuana_modifier_over_a_generic_code_reading(family, sub, step, conduct, want):
    c = _one(family=family, sub=sub, step=step, conduct=conduct)
    assert offense_family(c["family"], c["sub"], c["step"], c["conduct"]).iloc[0] == want


@pytest.mark.parametrize(("raw", "substance_", "conduct"), [
    ("3560", "MARIJUANA", "MJ_DELIVERY"), ("61", "MARIJUANA", "MJ_DELIVERY"), ("35-62", "MARIJUANA", "MJ_POSSESSION"),
    ("3563", "MARIJUANA", "MJ_MANUFACTURE"), ("3564", "MARIJUANA", N), ("3542", "OTHER_DRUG", N),
    ("3540", "OTHER_DRUG", N), ("3550", N, N), ("3599", N, N), ("3532", "OTHER_DRUG", N), ("", N, N),
])
def test_modifier_substance_and_conduct_follow_the_mshp_ncic_table(raw, substance_, conduct):
    got = modifier_substance(pd.Series([raw]), pd.Series([None])).iloc[0]
    assert tuple(None if pd.isna(v) else v for v in (got["modifier_substance"], got["modifier_conduct"])) == (
        substance_, conduct)


@pytest.mark.parametrize(("stated", "confirmed", "definition", "want", "from_def", "conflict"), [
    (20.0, N, 35.0, 20.0, False, False),
    (N, N, 10.0, 10.0, True, False),
    (50.0, N, 35.0, 50.0, False, True),
    (50.0, 5.0, 35.0, 5.0, False, False),
    (N, N, N, N, False, False),
])
def test_amount_g_prefers_the_record_over_the_definition_bound(stated, confirmed, definition, want, from_def,
                                                               conflict):
    got = amount_g(pd.Series([stated], dtype="Float64"), pd.Series([confirmed], dtype="Float64"),
                   pd.Series([definition], dtype="Float64")).iloc[0]
    assert (None if pd.isna(got["amount_g"]) else got["amount_g"]) == want
    assert (got["from_definition"], got["conflict"]) == (from_def, conflict)


@pytest.mark.parametrize(("status", "sentence", "disposition", "want", "assumed"), [
    ("ACTIVE", "120 DAYS COUNTY JAIL", "CONVICTED", "INCARCERATED", False),
    ("ACTIVE", "SES 3 YEARS PROBATION", "CONVICTED", "SUPERVISED", False),
    ("ACTIVE", N, "CONVICTED", "SUPERVISED", True),
    ("ON PAROLE", N, "CONVICTED", "SUPERVISED", False),
    ("INCARCERATED", N, "CONVICTED", "INCARCERATED", False),
    ("DISCHARGED", "5 YEARS DOC", "CONVICTED", "NO", False),
    (N, N, "NONCONVICTION", "NO", False),
    (N, N, "CONVICTED", "UNKNOWN", False),
])
def test_serving_tells_incarcerated_from_supervised(status, sentence, disposition, want, assumed):
    got = serving(pd.Series([status]), pd.Series([sentence]), pd.Series([disposition])).iloc[0]
    assert (got["serving"], bool(got["kind_assumed"])) == (want, assumed)


@pytest.mark.parametrize(("case_type", "number", "court", "want"), [
    ("JU", "", "", "JUVENILE"), ("", "1616-JU00123", "", "JUVENILE"), ("", "", "JUVENILE DIVISION", "JUVENILE"),
    ("CV", "", "", "OTHER"), ("MU", "", "", "MUNICIPAL"), ("TR", "", "", "STATE"), ("", "1622-CR01234", "", "STATE"),
])
def test_case_kind_reads_juvenile_division_cases_as_in_scope(case_type, number, court, want):
    got = case_kind(pd.Series([case_type]), pd.Series([number]), pd.Series([court]), pd.Series([""]))
    assert got["case_kind"].iloc[0] == want


@pytest.mark.parametrize(("text", "want"), [
    ("DELIVERY OF MARIJUANA RESULTING IN DEATH", True), ("ASSAULT 1ST DEGREE", True),
    ("POSSESSION OF MARIJUANA", False), ("ROBBERY 2ND DEGREE", True),
])
def test_violent_names_injury_death_or_an_offense_of_violence(text, want):
    assert bool(violent(pd.Series([text])).iloc[0]) is want


@pytest.mark.parametrize(("text", "want"), [
    ("STEALING", True), ("EXCEEDED POSTED SPEED LIMIT", True), ("TAX EVASION", True), ("TAXQ", False),
    ("REFER TO COMPLAINT", False), ("PER PA FILING", False), ("CT 3", False), ("POSSESSION", False),
])
def test_names_non_drug_offense_needs_a_word_naming_one(text, want):
    assert bool(names_non_drug_offense(pd.Series([text])).iloc[0]) is want


@pytest.mark.parametrize(("text", "family"), [
    ("REFER TO COMPLAINT", "UNKNOWN"), ("CONVERTED - NO TEXT", "UNKNOWN"), ("STEALING", "NON_DRUG"),
    ("DELIVERY WITHOUT PRESCRIPTION", "UNKNOWN"),
    ("DRUG VIOLATION - DELIVERY WITHOUT PRESCRIPTION", "MJ_DELIVERY"), ("OPERATE BOAT WHILE INTOXICATED", "DUI"),
    ("VEHICULAR MANSLAUGHTER WHILE INTOXICATED", "DUI"),
])
def test_description_family_is_non_drug_only_on_positive_evidence(text, family):
    assert describe(pd.Series([text]))["desc_family"].iloc[0] == family


def test_prescription_is_not_read_as_another_drug():
    assert pd.isna(describe(pd.Series(["DRUG VIOLATION - DELIVERY WITHOUT PRESCRIPTION"]))["desc_substance"].iloc[0])


@pytest.mark.parametrize(("ref", "from_code", "export", "suffix", "family", "amount", "mj", "want", "flag"), [
    ("F", True, N, N, "MJ_POSSESSION", N, True, "F", N),
    ("F", True, "M", N, "MJ_POSSESSION", N, True, N, "conflict"),
    ("F", True, "M", N, "NON_DRUG", N, False, "F", "conflict"),
    (N, False, "M", N, "MJ_POSSESSION", N, True, "M", N),
    (N, False, N, "F", "MJ_POSSESSION", N, True, "F", "from_description"),
    (N, False, N, N, "MJ_POSSESSION", 20.0, True, "M", "from_amount"),
    (N, False, N, N, "MJ_DELIVERY", 20.0, True, N, N),
])
def test_level_class_reads_code_export_then_suffix_then_amount(ref, from_code, export, suffix, family, amount, mj,
                                                               want, flag):
    one = lambda v: pd.Series([v], dtype="object")  # noqa: E731
    got = level_class(one(ref), one(N), pd.Series([from_code]), one(export), one(N), one(suffix), one(N),
                      one(family), pd.Series([amount], dtype="Float64"), pd.Series([mj])).iloc[0]
    assert (None if pd.isna(got["level"]) else got["level"]) == want
    assert [k for k in ("conflict", "from_description", "from_amount") if got[k]] == ([flag] if flag else [])


def test_offense_after_effective_uses_the_filing_date_only_when_the_offense_date_is_missing():
    from datetime import date

    got = offense_after_effective(pd.to_datetime(pd.Series([None, "2023-01-01", "2020-01-01"])),
                                  pd.to_datetime(pd.Series(["2023-02-01", "2019-01-01", "2023-02-01"])),
                                  date(2022, 12, 8))
    assert got["offense_after_effective"].tolist() == [True, True, False]
    assert got["from_filing"].tolist() == [True, False, False]


def test_a_code_read_as_another_drug_whose_description_names_marijuana_goes_to_a_person():
    from tests.conftest import decide_one

    row = decide_one(charge_code="195.223-002Y198935", charge_description="TRAFFICKING 2ND DEGREE MARIJUANA")
    assert (row["offense_family"], row["substance"], row["determination"]) == (
        "DRUG_UNSPECIFIED", "UNKNOWN", "NEEDS_REVIEW")


@pytest.mark.parametrize(("code", "description"), [
    ("579.086-001Y202035", "UNLAWFUL DELIVERY OF CONTROLLED SUBSTANCE BY MANUFACTURE OR DISTRIBUTOR"),
    ("195.254-001Y198935", "DELIVER CONTROLLED SUB"),
])
def test_codes_that_do_not_fix_the_drug_go_to_review_without_a_modifier(code, description):
    from tests.conftest import decide_one

    row = decide_one(charge_code=code, charge_description=description)
    assert (row["rule_id"], row["determination"]) == ("R12", "NEEDS_REVIEW")


@pytest.mark.parametrize(("value", "expunged"), [("Y", True), ("2024-03-01", True), ("SEALED", True), ("N", False),
                                                 (None, False), ("NO", False)])
def test_already_expunged_reads_the_exports_spellings(value, expunged):
    from tests.conftest import decide_one

    assert bool(decide_one(charge_description="STEALING", expunged=value)["already_expunged"]) is expunged
