"""An independent transcription of the rule table of ELIGIBILITY.md (rule set mo-a3 v2).

Written from the document alone (sections "Rule table", "Readings settled", "Policies"),
without reading the engine or the rule file's logic, in the method of
code-for-charlottesville/LAJC-expungement: counsel can read this file line by line against
the table, and ``tests/test_truth_table.py`` checks that the engine agrees with it.

One ``if`` per rule, in table order; first match wins. The comment above each line quotes
the table's "when" and "determination" cells.

Facts (one charge; names as the engine uses them):
    case_kind                STATE, MUNICIPAL, JUVENILE, OTHER
    offense_family           MJ_POSSESSION, PARAPHERNALIA, MJ_DELIVERY, MJ_MANUFACTURE, MJ_TRAFFICKING,
                             DELIVERY_TO_MINOR, PROTECTED_LOCATION, DUI, WEAPON_WHILE_POSSESSING,
                             OTHER_DRUG, DRUG_UNSPECIFIED, NON_DRUG, UNKNOWN
    substance                MARIJUANA, THC, SYNTHETIC_CANNABINOID, OTHER_DRUG, UNKNOWN
    marijuana                True when substance is MARIJUANA or THC
    level                    F, M, I, L or None
    class                    A-E or None
    amount_g                 grams or None
    disposition_class        CONVICTED, SIS, NONCONVICTION, PENDING, UNKNOWN
    serving                  INCARCERATED, SUPERVISED, NO, UNKNOWN
    offense_after_effective  offense date on or after 2022-12-08
    violent                  injury or death in the charge's definition or description
    case_has_violence        another charge of the same case is violent (read only under violence = case)
    case_mj_path             AUTO, PETITION, NONE: path of the other eligible marijuana charges of the case (R13a)

Policies not given take their defaults (``DEFAULT_POLICIES``).
``conflated_code_without_modifier`` acts in the normalizer (substance reading), not in the
rule table, so it is accepted and not read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ELIGIBLE_AUTO = "ELIGIBLE_AUTO"
ELIGIBLE_PETITION = "ELIGIBLE_PETITION"
NOT_ELIGIBLE = "NOT_ELIGIBLE"
NEEDS_REVIEW = "NEEDS_REVIEW"

# "3 lb = 1,360.78 g and counts as within 3 lb." (Readings settled, Amounts)
THREE_POUNDS_G = 1360.78
# "three ounces ... 85.05 g" (Policies, felony_possession_limit)
THREE_OUNCES_G = 85.05

DEFAULT_POLICIES: dict[str, str] = {
    "conflated_code_without_modifier": "assume_marijuana",  # or review (normalizer only)
    "nonconviction_records": "eligible",  # or exclude
    "post_effective_conduct": "review",  # or not_eligible
    "supervised_path": "petition",  # or automatic
    "felony_possession_limit": "three_pounds",  # or three_ounces
    "felony_after_completion": "petition",  # or automatic, review
    "juvenile_records": "review",  # or out_of_scope
    "violence": "charge",  # or case
}

POLICY_VALUES: dict[str, tuple[str, ...]] = {
    "conflated_code_without_modifier": ("assume_marijuana", "review"),
    "nonconviction_records": ("eligible", "exclude"),
    "post_effective_conduct": ("review", "not_eligible"),
    "supervised_path": ("petition", "automatic"),
    "felony_possession_limit": ("three_pounds", "three_ounces"),
    "felony_after_completion": ("petition", "automatic", "review"),
    "juvenile_records": ("review", "out_of_scope"),
    "violence": ("charge", "case"),
}


def is_serving(facts: Mapping[str, Any], policies: Mapping[str, str]) -> bool:
    """ "Serving" as R14-R16 use it.

    "`serving = UNKNOWN` is treated as `NO`." "'Serving' in R14-R16 means `INCARCERATED`,
    and `SUPERVISED` too unless policy `supervised_path = automatic`, under which a
    supervised person's misdemeanors and class D/E felonies of 3 lb or less are decided as
    if not serving (R17, R18) ...; their other felonies stay at R16 until completion."

    Reading: under ``automatic`` a supervised felony that is not known to be class D/E of
    3 lb or less (class A-C, over 3 lb, amount unknown, class unknown) is still serving and
    goes through R15b / R15c / R16 in table order.
    """
    serving = facts["serving"]
    if serving == "INCARCERATED":
        return True
    if serving != "SUPERVISED":  # NO, or UNKNOWN treated as NO
        return False
    if policies["supervised_path"] == "petition":
        return True
    # supervised_path = automatic
    if facts["level"] != "F":  # misdemeanors: decided as if not serving
        return False
    amount = facts["amount_g"]
    d_or_e_within_3lb = facts["class"] in ("D", "E") and amount is not None and amount <= THREE_POUNDS_G
    return not d_or_e_within_3lb  # "their other felonies stay at R16"


def determine(facts: Mapping[str, Any], policies: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(rule_id, determination) for one charge under the rule table of ELIGIBILITY.md v2."""
    p = {**DEFAULT_POLICIES, **(policies or {})}
    kind = facts["case_kind"]
    family = facts["offense_family"]
    substance = facts["substance"]
    marijuana = bool(facts["marijuana"])  # "'Marijuana' means substance MARIJUANA or THC"
    level = facts["level"]
    klass = facts["class"]
    amount = facts["amount_g"]
    disposition = facts["disposition_class"]
    serving = is_serving(facts, p)
    misdemeanor = level in ("M", "I")  # "level M (or I)"
    felony = level == "F"
    possession = family == "MJ_POSSESSION"  # "marijuana possession"
    felony_limit = THREE_OUNCES_G if p["felony_possession_limit"] == "three_ounces" else THREE_POUNDS_G

    # R01 | case_kind = OTHER (civil, probate, federal, out of state) | NOT_ELIGIBLE
    if kind == "OTHER":
        return "R01", NOT_ELIGIBLE
    # R02 | family WEAPON_WHILE_POSSESSING | NOT_ELIGIBLE
    if family == "WEAPON_WHILE_POSSESSING":
        return "R02", NOT_ELIGIBLE
    # R03 | family DUI | NOT_ELIGIBLE
    if family == "DUI":
        return "R03", NOT_ELIGIBLE
    # R04 | family DELIVERY_TO_MINOR or PROTECTED_LOCATION | NOT_ELIGIBLE
    if family in ("DELIVERY_TO_MINOR", "PROTECTED_LOCATION"):
        return "R04", NOT_ELIGIBLE
    # R05 | family NON_DRUG or OTHER_DRUG, or substance OTHER_DRUG | NOT_ELIGIBLE
    if family in ("NON_DRUG", "OTHER_DRUG") or substance == "OTHER_DRUG":
        return "R05", NOT_ELIGIBLE
    # R06 | substance SYNTHETIC_CANNABINOID | NOT_ELIGIBLE
    if substance == "SYNTHETIC_CANNABINOID":
        return "R06", NOT_ELIGIBLE
    # R07 | family UNKNOWN (no confident match) | NEEDS_REVIEW
    if family == "UNKNOWN":
        return "R07", NEEDS_REVIEW
    # R08 | disposition_class = PENDING | NEEDS_REVIEW
    if disposition == "PENDING":
        return "R08", NEEDS_REVIEW
    # R09 | disposition_class = UNKNOWN | NEEDS_REVIEW
    if disposition == "UNKNOWN":
        return "R09", NEEDS_REVIEW
    # R09n | disposition_class = NONCONVICTION, only under policy nonconviction_records = exclude | NOT_ELIGIBLE
    if disposition == "NONCONVICTION" and p["nonconviction_records"] == "exclude":
        return "R09n", NOT_ELIGIBLE
    # R10 | offense date on or after 2022-12-08 | NEEDS_REVIEW
    #       (policy post_effective_conduct: review (default) or not_eligible)
    if facts["offense_after_effective"]:
        return "R10", NOT_ELIGIBLE if p["post_effective_conduct"] == "not_eligible" else NEEDS_REVIEW
    # R11 | case_kind = MUNICIPAL | NEEDS_REVIEW
    if kind == "MUNICIPAL":
        return "R11", NEEDS_REVIEW
    # R11j | case_kind = JUVENILE; policy juvenile_records | NEEDS_REVIEW (out_of_scope: NOT_ELIGIBLE, OUT_OF_SCOPE)
    if kind == "JUVENILE":
        return "R11j", NOT_ELIGIBLE if p["juvenile_records"] == "out_of_scope" else NEEDS_REVIEW
    # R11v | substance MARIJUANA or THC and the offense involves violence (policy violence = case also:
    #        the case holds a violent offense) | NEEDS_REVIEW
    if marijuana and (facts["violent"] or (p["violence"] == "case" and facts["case_has_violence"])):
        return "R11v", NEEDS_REVIEW
    # R12 | family DRUG_UNSPECIFIED, or substance UNKNOWN on a drug family other than PARAPHERNALIA | NEEDS_REVIEW
    #       (every family still open here is a drug family: R02-R07 closed the others)
    if family == "DRUG_UNSPECIFIED" or (substance == "UNKNOWN" and family != "PARAPHERNALIA"):
        return "R12", NEEDS_REVIEW
    # R13a | family PARAPHERNALIA, substance UNKNOWN, and another charge of the same case is an eligible
    #        marijuana charge | ELIGIBLE_AUTO if one of those is ELIGIBLE_AUTO, else ELIGIBLE_PETITION
    if family == "PARAPHERNALIA" and substance == "UNKNOWN" and facts["case_mj_path"] in ("AUTO", "PETITION"):
        return "R13a", ELIGIBLE_AUTO if facts["case_mj_path"] == "AUTO" else ELIGIBLE_PETITION
    # R13b | family PARAPHERNALIA, substance UNKNOWN, otherwise | NEEDS_REVIEW
    if family == "PARAPHERNALIA" and substance == "UNKNOWN":
        return "R13b", NEEDS_REVIEW
    # R14 | marijuana, level M (or I), serving | ELIGIBLE_PETITION
    if marijuana and misdemeanor and serving:
        return "R14", ELIGIBLE_PETITION
    # R15 | marijuana, level F, class D or E, amount_g <= 1360.78 (3 lb, whatever felony_possession_limit says),
    #       serving as in R14 | ELIGIBLE_PETITION
    if marijuana and felony and klass in ("D", "E") and amount is not None and amount <= THREE_POUNDS_G and serving:
        return "R15", ELIGIBLE_PETITION
    # R15b | marijuana, level F, class D or E, amount_g unknown, serving as in R14 | NEEDS_REVIEW
    if marijuana and felony and klass in ("D", "E") and amount is None and serving:
        return "R15b", NEEDS_REVIEW
    # R15c | marijuana, level F, class unknown, serving as in R14 | NEEDS_REVIEW
    if marijuana and felony and klass is None and serving:
        return "R15c", NEEDS_REVIEW
    # R16 | marijuana, level F, serving as in R14, otherwise (class A-C, or D/E over 3 lb) | NOT_ELIGIBLE
    if marijuana and felony and serving:
        return "R16", NOT_ELIGIBLE
    # R17 | marijuana, level M (or I), disposition_class in CONVICTED, SIS, NONCONVICTION | ELIGIBLE_AUTO
    if marijuana and misdemeanor and disposition in ("CONVICTED", "SIS", "NONCONVICTION"):
        return "R17", ELIGIBLE_AUTO
    # R18 | marijuana possession, level F, amount_g known and <= the felony limit (policy felony_possession_limit;
    #       default 3 lb = 1360.78 g) | ELIGIBLE_AUTO
    if marijuana and possession and felony and amount is not None and amount <= felony_limit:
        return "R18", ELIGIBLE_AUTO
    # R18c | marijuana possession, level F, amount_g known, above 85.05 g but <= 3 lb
    #        (only under felony_possession_limit = three_ounces) | NEEDS_REVIEW
    if (
        p["felony_possession_limit"] == "three_ounces"
        and marijuana
        and possession
        and felony
        and amount is not None
        and THREE_OUNCES_G < amount <= THREE_POUNDS_G
    ):
        return "R18c", NEEDS_REVIEW
    # R19 | marijuana possession, level F, amount_g unknown | NEEDS_REVIEW
    if marijuana and possession and felony and amount is None:
        return "R19", NEEDS_REVIEW
    # R20 | marijuana delivery or manufacture, level F, class E (35 g or less) | NEEDS_REVIEW
    if marijuana and family in ("MJ_DELIVERY", "MJ_MANUFACTURE") and felony and klass == "E":
        return "R20", NEEDS_REVIEW
    # R21 | any other marijuana felony (class A-C, trafficking, amount over 3 lb) | ELIGIBLE_PETITION
    #       policy felony_after_completion (automatic: ELIGIBLE_AUTO; review: NEEDS_REVIEW, FELONY_PATH_DISPUTED)
    if marijuana and felony:
        return "R21", {"petition": ELIGIBLE_PETITION, "automatic": ELIGIBLE_AUTO, "review": NEEDS_REVIEW}[
            p["felony_after_completion"]
        ]
    # R22 | anything else | NEEDS_REVIEW
    return "R22", NEEDS_REVIEW
