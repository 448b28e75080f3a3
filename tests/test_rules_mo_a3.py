"""One test per rule of ELIGIBILITY.md (rule set mo-a3 v2), named for it, one per policy
value, and one per trap.

Rows are built with safe defaults (a completed, guilty-plea state case from 2019); each
test overrides only the facts its rule reads and asserts rule id and reason code."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import decide, decide_one

MJ_MISD = {
    "charge_code": "579.015-004Y201735",
    "ncic_modifier": "62",
    "charge_description": "POSSESSION OF MARIJUANA/SYNTHETIC CANNABINOID OF 10 GRAMS OR LESS",
}


def assert_rule(row, rule_id: str, reason: str, determination: str) -> None:
    assert (row["rule_id"], row["reason_code"], row["determination"]) == (rule_id, reason, determination)


def test_r01_civil_case_is_out_of_scope():
    assert_rule(decide_one(**MJ_MISD, case_type="CV"), "R01", "OUT_OF_SCOPE", "NOT_ELIGIBLE")


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


@pytest.mark.parametrize("modifier", ["40", "41", "42", "43"])
def test_r05_ncic_35_40_to_43_synthetic_narcotic_is_another_drug(modifier):
    row = decide_one(**{**MJ_MISD, "ncic_modifier": modifier})
    assert row["substance"] == "OTHER_DRUG"
    assert_rule(row, "R05", "NOT_MARIJUANA", "NOT_ELIGIBLE")


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


def test_r09n_is_skipped_under_nonconviction_records_eligible_the_default():
    row = decide_one(**MJ_MISD, disposition="NOLLE PROSEQUI")
    assert_rule(row, "R17", "MISDEMEANOR_MJ", "ELIGIBLE_AUTO")


def test_r10_conduct_after_effective_date_needs_review_under_post_effective_conduct_review():
    row = decide_one(**MJ_MISD, offense_date="2023-05-01", filing_date="2023-05-02")
    assert_rule(row, "R10", "POST_EFFECTIVE_CONDUCT", "NEEDS_REVIEW")


def test_r10_post_effective_conduct_not_eligible_changes_the_determination():
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


def test_r21_completed_trafficking_felony_may_petition_under_felony_after_completion_petition():
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


def test_trap_conflated_code_without_modifier_assume_marijuana_default_with_caveat():
    rows = decide({**MJ_MISD, "ncic_modifier": None})
    from expunge.decide.facts import caveat_text

    assert rows.iloc[0]["substance"] == "MARIJUANA"
    assert "SUBSTANCE_ASSUMED_MARIJUANA" in caveat_text(rows["caveat_bits"]).iloc[0]


def test_trap_conflated_code_without_modifier_review_sends_it_to_review():
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


# --------------------------------------------------------------------------- v2 rules


def test_r11j_juvenile_records_review_sends_a_juvenile_marijuana_record_to_the_juvenile_division():
    row = decide_one(**MJ_MISD, case_type="JU")
    assert row["case_kind"] == "JUVENILE"
    assert_rule(row, "R11j", "JUVENILE_RECORD", "NEEDS_REVIEW")
    assert row["missing_fact"] == "route"


def test_r11j_juvenile_records_out_of_scope_policy_closes_them():
    row = decide_one(policies={"juvenile_records": "out_of_scope"}, **MJ_MISD, case_type="JU")
    assert_rule(row, "R11j", "OUT_OF_SCOPE", "NOT_ELIGIBLE")


def test_r11j_non_drug_juvenile_charge_is_closed_by_r05():
    row = decide_one(case_type="JU", charge_description="STEALING", statute="570.030")
    assert_rule(row, "R05", "NOT_MARIJUANA", "NOT_ELIGIBLE")


def test_r11v_marijuana_charge_naming_an_injury_goes_to_review_under_violence_charge():
    row = decide_one(charge_code="579.020-005Y201735", ncic_modifier="60",
                     charge_description="DELIVERY OF MARIJUANA RESULTING IN SERIOUS PHYSICAL INJURY")
    assert_rule(row, "R11v", "VIOLENCE_EXCLUSION_POSSIBLE", "NEEDS_REVIEW")
    assert row["missing_fact"] == "violence"


def test_r11v_violence_case_policy_reviews_marijuana_charge_beside_an_assault():
    charges = ({**MJ_MISD, "charge_seq": 1},
               {"charge_seq": 2, "charge_description": "ASSAULT 2ND DEGREE", "statute": "565.052"})
    assert list(decide(*charges)["rule_id"]) == ["R17", "R05"]
    assert list(decide(*charges, policies={"violence": "case"})["rule_id"]) == ["R11v", "R05"]


def test_r15c_serving_felony_of_unknown_class_needs_the_class():
    row = decide_one(charge_code=None, statute="579.015", charge_description="FELONY POSSESSION OF MARIJUANA 200 GRAMS",
                     charge_level="F", supervision_status="INCARCERATED")
    assert_rule(row, "R15c", "CLASS_UNKNOWN", "NEEDS_REVIEW")
    assert row["missing_fact"] == "class"


def test_r18c_felony_possession_limit_three_ounces_reviews_possession_above_three_ounces():
    row = decide_one(policies={"felony_possession_limit": "three_ounces"}, **FELONY_MJ,
                     charge_description="POSS MARIJUANA 200 GRAMS")
    assert_rule(row, "R18c", "AMOUNT_ABOVE_PERSONAL_LIMIT", "NEEDS_REVIEW")
    assert row["missing_fact"] == "legal_reading"


def test_r18c_is_skipped_under_felony_possession_limit_three_pounds_the_default():
    row = decide_one(**FELONY_MJ, charge_description="POSS MARIJUANA 200 GRAMS")
    assert_rule(row, "R18", "FELONY_MJ_POSSESSION_LE_3LB", "ELIGIBLE_AUTO")


def test_r18_three_ounces_policy_keeps_automatic_expungement_at_or_under_three_ounces():
    row = decide_one(policies={"felony_possession_limit": "three_ounces"}, **FELONY_MJ,
                     charge_description="POSS MARIJUANA 80 GRAMS")
    assert_rule(row, "R18", "FELONY_MJ_POSSESSION_LE_3OZ", "ELIGIBLE_AUTO")


def test_r15_keeps_three_pounds_under_the_three_ounces_policy():
    row = decide_one(policies={"felony_possession_limit": "three_ounces"}, **FELONY_MJ,
                     charge_description="POSS MARIJUANA 200 GRAMS", supervision_status="INCARCERATED")
    assert_rule(row, "R15", "PETITION_SERVING_FELONY_LE_3LB", "ELIGIBLE_PETITION")


TRAFFICKING_MJ = {"charge_code": "579.068-002Y201735", "ncic_modifier": "60",
                  "charge_description": "TRAFFICKING DRUGS - 2ND DEGREE"}


def test_r21_felony_after_completion_automatic_policy_expunges_with_the_felony_deadline():
    row = decide_one(policies={"felony_after_completion": "automatic"}, **TRAFFICKING_MJ)
    assert_rule(row, "R21", "FELONY_AFTER_COMPLETION_PETITION", "ELIGIBLE_AUTO")
    assert str(row["deadline"].date()) == "2023-12-08"


def test_r21_felony_after_completion_review_policy_asks_counsel():
    row = decide_one(policies={"felony_after_completion": "review"}, **TRAFFICKING_MJ)
    assert_rule(row, "R21", "FELONY_PATH_DISPUTED", "NEEDS_REVIEW")
    assert row["missing_fact"] == "legal_reading"


def test_r13a_paraphernalia_rides_on_the_petition_path_of_its_marijuana_charge():
    rows = decide({**MJ_MISD, "charge_seq": 1, "supervision_status": "INCARCERATED"},
                  {"charge_seq": 2, "charge_code": "579.074-002Y201735",
                   "charge_description": "UNLAWFUL POSSESSION OF DRUG PARAPHERNALIA",
                   "supervision_status": "INCARCERATED"})
    assert list(rows["rule_id"]) == ["R14", "R13a"]
    assert list(rows["determination"]) == ["ELIGIBLE_PETITION", "ELIGIBLE_PETITION"]
    assert rows["deadline"].isna().all()


def test_petition_rows_carry_no_deadline_and_are_never_overdue():
    row = decide_one(**MJ_MISD, supervision_status="INCARCERATED")
    assert row["determination"] == "ELIGIBLE_PETITION"
    assert pd.isna(row["deadline"]) and not row["overdue"]


def test_supervised_path_petition_default_sends_probation_to_petition():
    row = decide_one(**MJ_MISD, supervision_status="PROBATION")
    assert row["serving"] == "SUPERVISED"
    assert_rule(row, "R14", "PETITION_SERVING_MISDEMEANOR", "ELIGIBLE_PETITION")


def test_supervised_path_automatic_decides_probation_as_not_serving_with_a_caveat():
    from expunge.decide.facts import caveat_text

    row = decide_one(policies={"supervised_path": "automatic"}, **MJ_MISD, supervision_status="PROBATION")
    assert_rule(row, "R17", "MISDEMEANOR_MJ", "ELIGIBLE_AUTO")
    assert "SUPERVISED_VACATED_AUTOMATICALLY" in caveat_text(pd.Series([row["caveat_bits"]])).iloc[0]


def test_supervised_path_automatic_keeps_incarcerated_people_on_petition():
    row = decide_one(policies={"supervised_path": "automatic"}, **MJ_MISD, supervision_status="INCARCERATED")
    assert_rule(row, "R14", "PETITION_SERVING_MISDEMEANOR", "ELIGIBLE_PETITION")


def test_supervised_path_automatic_keeps_a_supervised_class_b_felony_at_r16():
    row = decide_one(policies={"supervised_path": "automatic"}, **TRAFFICKING_MJ, supervision_status="PAROLE")
    assert_rule(row, "R16", "SERVING_FELONY_NOT_COVERED", "NOT_ELIGIBLE")


@pytest.mark.parametrize(("status", "sentence", "serving"), [
    ("ACTIVE", "5 YEARS DOC", "INCARCERATED"),
    ("ACTIVE", "2 YEARS PROBATION", "SUPERVISED"),
    ("ACTIVE", None, "SUPERVISED"),
    ("PAROLE", None, "SUPERVISED"),
    ("IN CUSTODY", None, "INCARCERATED"),
    ("COMPLETED", "5 YEARS DOC", "NO"),
    (None, None, "UNKNOWN"),
])
def test_serving_reads_supervision_and_sentence(status, sentence, serving):
    assert decide_one(**MJ_MISD, supervision_status=status, sentence=sentence)["serving"] == serving


@pytest.mark.parametrize("description", [
    "OPERATING A VESSEL WHILE INTOXICATED",
    "OPERATE AIRCRAFT UNDER THE INFLUENCE OF ALCOHOL OR DRUGS",
    "OPERATE ATV WHILE UNDER THE INFLUENCE",
    "OPERATE COMMERCIAL MOTOR VEHICLE UNDER INFLUENCE OF CONTROLLED SUBSTANCE",
    "VEHICULAR ASSAULT WHILE INTOXICATED",
    "BWI - BOATING WHILE INTOXICATED",
])
def test_r03_dui_in_any_conveyance_is_excluded(description):
    assert_rule(decide_one(charge_description=description), "R03", "EXCL_DUI", "NOT_ELIGIBLE")


def test_r03_under_the_influence_without_a_conveyance_is_not_dui():
    row = decide_one(charge_description="TATTOO A PERSON UNDER THE INFLUENCE OF ALCOHOL")
    assert row["offense_family"] != "DUI"


@pytest.mark.parametrize(("code", "description"), [
    ("195.060-999Y190035", "DRUG VIO-DEL W/O PRESCPT"),
    ("221.111-002Y202035", "DELIVER/POSSESS CONTROL SUBSTANCE AT CO/PRIVATE JAIL/CORR CTR EXCEPT W/ PRESCRIP"),
])
def test_prescription_names_no_drug_so_the_marijuana_modifier_decides(code, description):
    row = decide_one(charge_code=code, ncic_modifier="3560", charge_description=description)
    assert row["substance"] == "MARIJUANA"
    assert row["determination"] != "NOT_ELIGIBLE"


@pytest.mark.parametrize(("code", "modifier", "family"), [
    ("579.086-001Y202035", "3560", "MJ_DELIVERY"),
    ("195.254-001Y198935", "3560", "MJ_DELIVERY"),
    ("195.020-998Y195035", "3562", "MJ_POSSESSION"),
    ("195.020-999Y190035", "3563", "MJ_MANUFACTURE"),
])
def test_marijuana_modifier_outranks_the_shipped_code_reading(code, modifier, family):
    row = decide_one(charge_code=code, ncic_modifier=modifier, charge_description="DRUG VIOLATION")
    assert (row["offense_family"], row["substance"]) == (family, "MARIJUANA")


def test_marijuana_modifier_outranks_a_description_naming_another_drug():
    row = decide_one(charge_code="195.211-002Y198935", ncic_modifier="3560",
                     charge_description="DIST DEL MANUF CONTR SUB COCAINE")
    assert row["substance"] == "MARIJUANA"


def test_v1_rule_file_still_decides_by_v1():
    row = decide_one(rules="mo-a3.v1.yaml", **MJ_MISD, case_type="JU")
    assert_rule(row, "R01", "OUT_OF_SCOPE", "NOT_ELIGIBLE")
    row = decide_one(rules="mo-a3.v1.yaml", **MJ_MISD, supervision_status="INCARCERATED")
    assert_rule(row, "R14", "PETITION_SERVING_MISDEMEANOR", "ELIGIBLE_PETITION")
    assert str(row["deadline"].date()) == "2023-03-08"
