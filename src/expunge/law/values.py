"""The values every fact can take: one leaf module that the rest of the package imports.

It imports nothing of the package, so the catalog, the normalizer, the facts, the rule
loader and the review round trip all read the same lists without importing each other.
The meaning of each value is in ``docs/eligibility.md`` (rendered from the rule file).
"""

from __future__ import annotations

DETERMINATIONS = ("ELIGIBLE_AUTO", "ELIGIBLE_PETITION", "NOT_ELIGIBLE", "NEEDS_REVIEW")
ELIGIBLE = ("ELIGIBLE_AUTO", "ELIGIBLE_PETITION")

FAMILIES = (
    "MJ_POSSESSION",
    "PARAPHERNALIA",
    "MJ_DELIVERY",
    "MJ_MANUFACTURE",
    "MJ_TRAFFICKING",
    "DELIVERY_TO_MINOR",
    "PROTECTED_LOCATION",
    "DUI",
    "WEAPON_WHILE_POSSESSING",
    "OTHER_DRUG",
    "DRUG_UNSPECIFIED",
    "NON_DRUG",
    "UNKNOWN",
)
#: Drug families whose substance can still be marijuana.
SUBSTANCE_FAMILIES = ("MJ_POSSESSION", "PARAPHERNALIA", "MJ_DELIVERY", "MJ_MANUFACTURE", "MJ_TRAFFICKING",
                      "DRUG_UNSPECIFIED")
#: Families that name the conduct of a drug offense (what a marijuana modifier can complete).
CONDUCT_FAMILIES = ("MJ_POSSESSION", "MJ_DELIVERY", "MJ_MANUFACTURE", "MJ_TRAFFICKING", "PARAPHERNALIA")
#: Families that close a charge by an exclusion naming itself (R02-R04).
EXCLUSION_FAMILIES = ("WEAPON_WHILE_POSSESSING", "DUI", "DELIVERY_TO_MINOR", "PROTECTED_LOCATION")

SUBSTANCES = ("MARIJUANA", "THC", "SYNTHETIC_CANNABINOID", "OTHER_DRUG", "UNKNOWN")
MARIJUANA_SUBSTANCES = ("MARIJUANA", "THC")
#: What a code's definition says about the drug (``offense_codes.csv``, ``statutes.csv``).
SUBSTANCE_SCOPES = ("MJ", "MJ_SYN", "SYN", "EXCEPT35", "ANY", "OTHER", "NONE")

LEVELS = ("F", "M", "I", "L")
CLASSES = ("A", "B", "C", "D", "E")
DISPOSITION_CLASSES = ("CONVICTED", "SIS", "NONCONVICTION", "PENDING", "UNKNOWN")
CASE_KINDS = ("STATE", "MUNICIPAL", "JUVENILE", "OTHER")
SERVING = ("INCARCERATED", "SUPERVISED", "NO", "UNKNOWN")
#: The path of the eligible marijuana charges of a case, for a paraphernalia count (R13a).
CASE_MJ_PATHS = ("AUTO", "PETITION", "NONE")

#: The review queue's answer columns (``decide.answers.ANSWER_FACTS`` gives the fact each sets
#: and its allowed values); ``answer_violent`` is set through ``answer_yes_no`` only.
ANSWER_COLUMNS = ("answer_substance", "answer_amount_g", "answer_offense_family", "answer_level", "answer_class",
                  "answer_disposition", "answer_decision", "answer_violent")
