"""One test per rule of ELIGIBILITY.md (rule set mo-a3 v1), named for it, and one per trap.

Rows are built with safe defaults (a completed, guilty-plea state case from 2019); each
test overrides only the facts its rule reads and asserts rule id and reason code."""

from __future__ import annotations

import pytest

from tests.conftest import decide, decide_one

MJ_MISD = {
    "charge_code": "579.015-004Y201735",
    "ncic_modifier": "62",
    "charge_description": "POSSESSION OF MARIJUANA/SYNTHETIC CANNABINOID OF 10 GRAMS OR LESS",
}


def assert_rule(row, rule_id: str, reason: str, determination: str) -> None:
    assert (row["rule_id"], row["reason_code"], row["determination"]) == (rule_id, reason, determination)


def test_r01_juvenile_case_is_out_of_scope():
    assert_rule(decide_one(**MJ_MISD, case_type="JU"), "R01", "OUT_OF_SCOPE", "NOT_ELIGIBLE")


def test_r02_weapon_while_possessing_is_not_eligible():
    row = decide_one(
        charge_code="571.030-019Y201752", charge_description="UUW - POSSESS WEAPON/FELONY CONTROL SUBSTANCE"
    )
    assert_rule(row, "R02", "WEAPON_NOT_MJ_OFFENSE", "NOT_ELIGIBLE")


def test_r02_weapon_count_denied_while_possession_count_expunged_in_same_case():
    # C.S. v. MSHP: charge by charge within one case.
    rows = decide(
        {**MJ_MISD, "charge_seq": 1},
        {
            "charge_seq": 2,
            "charge_code": "571.030-019Y201752",
            "charge_description": "UNLAWFUL USE OF WEAPON - SUBSECTION 11",
        },
    )
    assert list(rows["rule_id"]) == ["R17", "R02"]


def test_r03_drug_impaired_driving_is_excluded():
    assert_rule(decide_one(charge_description="DWI/DRUG INTOX", statute="577.010"), "R03", "EXCL_DUI", "NOT_ELIGIBLE")


def test_r04_delivery_to_a_minor_is_excluded():
    row = decide_one(
        charge_code="579.020-003Y201735",
        ncic_modifier="60",
        charge_description="DELIVER 35 GRAMS OR LESS MARIJUANA - PERSON <17",
    )
    assert_rule(row, "R04", "EXCL_MINOR", "NOT_ELIGIBLE")


def test_r04_distribution_in_a_protected_location_is_excluded():
    row = decide_one(
        charge_code="579.030-001Y201735",
        ncic_modifier="60",
        charge_description="DISTRIBUTION OF A CONTROLLED SUBSTANCE IN A PROTECTED LOCATION",
    )
    assert_rule(row, "R04", "EXCL_MINOR", "NOT_ELIGIBLE")


def test_r05_non_drug_charge_is_not_marijuana():
    assert_rule(decide_one(charge_description="STEALING", statute="570.030"), "R05", "NOT_MARIJUANA", "NOT_ELIGIBLE")


def test_r05_except_35_grams_felony_with_cocaine_modifier_is_not_marijuana():
    row = decide_one(
        charge_code="579.015-001Y202035",
        ncic_modifier="32",
        charge_description="POSSESSION OF CONTROLLED SUBSTANCE EXCEPT 35 GRAMS OR LESS OF MARIJUANA",
    )
    assert_rule(row, "R05", "NOT_MARIJUANA", "NOT_ELIGIBLE")


def test_r05_methamphetamine_paraphernalia_is_another_drug():
    row = decide_one(
        charge_code="579.074-001Y201735",
        charge_description="UNLAWFUL POSSESSION OF DRUG PARAPHERNALIA - AMPHETAMINE OR METHAMPHETAMINE",
    )
    assert row["offense_family"] == "OTHER_DRUG"
    assert_rule(row, "R05", "NOT_MARIJUANA", "NOT_ELIGIBLE")


def test_r06_conflated_code_with_synthetic_modifier_42_is_not_marijuana():
    row = decide_one(**{**MJ_MISD, "ncic_modifier": "42"})
    assert_rule(row, "R06", "SYNTHETIC_NOT_MJ", "NOT_ELIGIBLE")


def test_r06_description_naming_only_synthetic_on_conflated_code_is_synthetic():
    row = decide_one(charge_code="579.015-004Y202035", charge_description="POSS SYNTHETIC CANNABINOID K2")
    assert row["substance"] == "SYNTHETIC_CANNABINOID"
    assert row["rule_id"] == "R06"


def test_r07_unrecognised_offense_needs_review():
    row = decide_one(charge_description="SEE FILE")
    assert_rule(row, "R07", "OFFENSE_UNRECOGNIZED", "NEEDS_REVIEW")
    assert row["missing_fact"] == "offense"


def test_r08_pending_case_needs_review():
    assert_rule(decide_one(**MJ_MISD, disposition="PENDING"), "R08", "PENDING_CASE", "NEEDS_REVIEW")


def test_r09_unrecognised_disposition_needs_review():
    row = decide_one(**MJ_MISD, disposition="DISP-SEE FILE")
    assert_rule(row, "R09", "DISPOSITION_UNRECOGNIZED", "NEEDS_REVIEW")
    assert row["disposition_status"] == "UNRECOGNIZED"


def test_r09_missing_disposition_is_kept_apart_from_unrecognised():
    row = decide_one(**MJ_MISD, disposition=None)
    assert row["rule_id"] == "R09"
    assert row["disposition_status"] == "MISSING"


def test_r09n_nonconviction_records_excluded_by_policy():
    row = decide_one(policies={"nonconviction_records": "exclude"}, **MJ_MISD, disposition="NOLLE PROSEQUI")
    assert_rule(row, "R09n", "NONCONVICTION_EXCLUDED_BY_POLICY", "NOT_ELIGIBLE")


def test_r09n_is_skipped_under_the_default_policy():
    row = decide_one(**MJ_MISD, disposition="NOLLE PROSEQUI")
    assert_rule(row, "R17", "MISDEMEANOR_MJ", "ELIGIBLE_AUTO")


def test_r10_conduct_after_effective_date_needs_review():
    row = decide_one(**MJ_MISD, offense_date="2023-05-01", filing_date="2023-05-02")
    assert_rule(row, "R10", "POST_EFFECTIVE_CONDUCT", "NEEDS_REVIEW")


def test_r10_policy_not_eligible_changes_the_determination():
    row = decide_one(policies={"post_effective_conduct": "not_eligible"}, **MJ_MISD, offense_date="2023-05-01")
    assert_rule(row, "R10", "POST_EFFECTIVE_CONDUCT", "NOT_ELIGIBLE")


def test_r10_filing_date_stands_in_for_a_missing_offense_date():
    row = decide_one(**MJ_MISD, offense_date=None, filing_date="2023-02-01")
    assert row["rule_id"] == "R10"


def test_r11_municipal_ordinance_goes_to_review_for_610140():
    row = decide_one(
        case_number="0822-MU00012",
        case_type="MU",
        charge_code="ORD579.0-001Y202135",
        charge_description="POSSESS MARIJUANA",
    )
    assert_rule(row, "R11", "MUNICIPAL_ORDINANCE", "NEEDS_REVIEW")


def test_r12_except_35_grams_code_without_modifier_needs_the_substance():
    row = decide_one(
        charge_code="579.015-001Y202035",
        charge_description="POSSESSION OF CONTROLLED SUBSTANCE EXCEPT 35 GRAMS OR LESS OF MARIJUANA",
    )
    assert_rule(row, "R12", "SUBSTANCE_UNVERIFIED", "NEEDS_REVIEW")
    assert row["missing_fact"] == "substance"


def test_r12_unspecified_drug_violation_needs_the_substance():
    assert_rule(
        decide_one(charge_code="195.020-998Y195035", charge_description="DRUG VIOLATION"),
        "R12",
        "SUBSTANCE_UNVERIFIED",
        "NEEDS_REVIEW",
    )


def test_r13a_paraphernalia_with_an_eligible_marijuana_charge_is_eligible():
    rows = decide(
        {**MJ_MISD, "charge_seq": 1},
        {
            "charge_seq": 2,
            "charge_code": "579.074-003Y201735",
            "charge_description": "UNLAWFUL POSSESSION OF DRUG PARAPHERNALIA",
        },
    )
    assert_rule(rows.iloc[1], "R13a", "PARAPHERNALIA_WITH_MJ_CHARGE", "ELIGIBLE_AUTO")


def test_r13b_paraphernalia_alone_needs_the_substance():
    row = decide_one(charge_code="579.074-003Y201735", charge_description="UNLAWFUL POSSESSION OF DRUG PARAPHERNALIA")
    assert_rule(row, "R13b", "PARAPHERNALIA_SUBSTANCE_UNKNOWN", "NEEDS_REVIEW")


def test_r13b_paraphernalia_next_to_an_ineligible_charge_is_not_eligible_by_context():
    rows = decide(
        {"charge_seq": 1, "charge_description": "STEALING"}, {"charge_seq": 2, "charge_description": "POSS DRUG PARAPH"}
    )
    assert rows.iloc[1]["rule_id"] == "R13b"


def test_paraphernalia_with_its_own_marijuana_modifier_is_a_marijuana_misdemeanor():
    row = decide_one(
        charge_code="195.233-001Y200935", ncic_modifier="64", charge_description="UNLAWFUL USE OF DRUG PARAPHERNALIA"
    )
    assert_rule(row, "R17", "MISDEMEANOR_MJ", "ELIGIBLE_AUTO")


def test_r14_misdemeanor_while_serving_may_petition():
    row = decide_one(**MJ_MISD, supervision_status="ACTIVE")
    assert_rule(row, "R14", "PETITION_SERVING_MISDEMEANOR", "ELIGIBLE_PETITION")


FELONY_MJ = {"charge_code": "579.015-001Y202035", "ncic_modifier": "62"}


def test_r15_class_d_felony_under_three_pounds_while_serving_may_petition():
    row = decide_one(**FELONY_MJ, charge_description="POSS MARIJUANA 200 GRAMS", supervision_status="PROBATION")
    assert_rule(row, "R15", "PETITION_SERVING_FELONY_LE_3LB", "ELIGIBLE_PETITION")


def test_r15b_serving_felony_with_unknown_amount_needs_the_amount():
    row = decide_one(**FELONY_MJ, charge_description="POSS CONTROLLED SUBSTANCE-FELONY", supervision_status="ACTIVE")
    assert_rule(row, "R15b", "AMOUNT_UNKNOWN", "NEEDS_REVIEW")
    assert row["missing_fact"] == "amount_g"


def test_r16_serving_a_class_b_marijuana_felony_is_not_covered():
    row = decide_one(
        charge_code="579.068-002Y201735",
        ncic_modifier="60",
        charge_description="TRAFFICKING DRUGS - 2ND DEGREE",
        supervision_status="INCARCERATED",
    )
    assert_rule(row, "R16", "SERVING_FELONY_NOT_COVERED", "NOT_ELIGIBLE")


def test_r17_misdemeanor_possession_sis_is_eligible_auto():
    row = decide_one(**MJ_MISD, disposition="SIS")
    assert_rule(row, "R17", "MISDEMEANOR_MJ", "ELIGIBLE_AUTO")
    assert str(row["deadline"].date()) == "2023-06-08"


def test_r17_eligible_charge_past_its_deadline_is_overdue():
    assert bool(decide_one(**MJ_MISD)["overdue"]) is True


def test_r17_already_expunged_charge_is_not_overdue():
    assert bool(decide_one(**MJ_MISD, expunged="Y")["overdue"]) is False


def test_r18_felony_possession_under_three_pounds_is_eligible_auto():
    row = decide_one(**FELONY_MJ, charge_description="POSS MARIJUANA 2 LBS")
    assert row["amount_g"] == pytest.approx(907.18, abs=0.01)
    assert_rule(row, "R18", "FELONY_MJ_POSSESSION_LE_3LB", "ELIGIBLE_AUTO")


def test_r18_exactly_three_pounds_counts_as_within():
    row = decide_one(**FELONY_MJ, charge_description="POSS MARIJUANA 1360.78 GRAMS")
    assert row["rule_id"] == "R18"


def test_r19_felony_possession_with_unknown_amount_needs_the_amount():
    row = decide_one(
        charge_code="195.202-001Y198935", ncic_modifier="3562", charge_description="POSS CONTROLLED SUBSTANCE-FELONY"
    )
    assert row["substance"] == "MARIJUANA"
    assert_rule(row, "R19", "AMOUNT_UNKNOWN", "NEEDS_REVIEW")


def test_r19_a_lower_bound_alone_leaves_the_amount_unknown():
    row = decide_one(**FELONY_MJ, charge_description="POSS MARIJUANA OVER 35 GRAMS")
    assert row["rule_id"] == "R19"


def test_r20_class_e_delivery_needs_a_legal_reading():
    row = decide_one(
        charge_code="579.020-005Y201735",
        ncic_modifier="60",
        charge_description="DELIVERY OF 35 GRAMS OR LESS OF MARIJUANA OR SYNTHETIC CANNABINOID",
    )
    assert_rule(row, "R20", "FELONY_E_DELIVERY_OR_CULTIVATION", "NEEDS_REVIEW")


def test_r21_completed_trafficking_felony_may_petition():
    row = decide_one(
        charge_code="579.068-002Y201735", ncic_modifier="60", charge_description="TRAFFICKING DRUGS - 2ND DEGREE"
    )
    assert_rule(row, "R21", "FELONY_AFTER_COMPLETION_PETITION", "ELIGIBLE_PETITION")


def test_r22_marijuana_charge_without_level_or_amount_is_unclassified():
    row = decide_one(charge_description="POSS MARIJ", disposition="DISMISSED")
    assert_rule(row, "R22", "UNCLASSIFIED", "NEEDS_REVIEW")


# ---------------------------------------------------------------- traps (ELIGIBILITY.md)


def test_trap_except_35_grams_wording_alone_is_never_marijuana():
    row = decide_one(
        charge_description="POSSESSION OF CONTROLLED SUBSTANCE EXCEPT 35 GRAMS OR LESS OF MARIJUANA",
        charge_level="F",
        charge_class="D",
    )
    assert row["substance"] == "UNKNOWN"
    assert row["determination"] == "NEEDS_REVIEW"


def test_trap_mistyped_except_wording_is_never_read_as_marijuana():
    row = decide_one(
        charge_code="579.015-001Y202035",
        charge_description="POSSESSION OF CONTROLLED SUBSTANCE XECEPT 35 GRAMS OR LESS OF MARIJUANA",
    )
    assert row["determination"] == "NEEDS_REVIEW"


def test_trap_conflated_code_with_modifier_62_is_marijuana():
    row = decide_one(**MJ_MISD)
    assert row["substance"] == "MARIJUANA"


def test_trap_conflated_code_without_modifier_assumes_marijuana_with_caveat():
    rows = decide({**MJ_MISD, "ncic_modifier": None})
    from expunge.facts import caveat_text

    assert rows.iloc[0]["substance"] == "MARIJUANA"
    assert "SUBSTANCE_ASSUMED_MARIJUANA" in caveat_text(rows["caveat_bits"]).iloc[0]


def test_trap_conflated_code_without_modifier_goes_to_review_under_review_policy():
    row = decide_one(policies={"conflated_code_without_modifier": "review"}, **{**MJ_MISD, "ncic_modifier": None})
    assert row["rule_id"] == "R12"


@pytest.mark.parametrize("modifier", ["62", "3562", "35-62", "35 62"])
def test_trap_generic_code_with_modifier_62_in_any_form_is_marijuana(modifier):
    row = decide_one(
        charge_code="195.202-001Y198935", ncic_modifier=modifier, charge_description="POSS CONTROLLED SUBSTANCE-FELONY"
    )
    assert row["substance"] == "MARIJUANA"


def test_trap_modifier_appended_to_the_charge_code_is_read():
    row = decide_one(charge_code="195.202-001Y19893562", charge_description="POSS CONTROLLED SUBSTANCE-FELONY")
    assert row["substance"] == "MARIJUANA"


def test_trap_thc_counts_as_marijuana():
    row = decide_one(charge_description="POSSESSION OF THC OIL <35G", charge_level="M", charge_class="A")
    assert row["substance"] == "THC"
    assert row["determination"] == "ELIGIBLE_AUTO"
