"""Write tests/truth_table.csv: the rule table of ELIGIBILITY.md v2 as a truth table.

Run ``python tests/make_truth_table.py`` (or ``python -m tests.make_truth_table``) from the
project root; the output is deterministic. ``tests/test_truth_table.py`` checks that the file
is in sync with this script and that the engine reproduces every row.

The determination of each row is the one ``tests/eligibility_transcription.py`` gives under
the default policies.

How the table is reduced
------------------------
The full product of the facts' equivalence classes (with the eight amounts below) is
29,952,000 rows. Two kinds of combination are dropped:

* Values no rule tells apart. ``marijuana`` is not a fact of its own: it is true exactly when
  ``substance`` is MARIJUANA or THC. After R09n no rule reads ``disposition_class`` except
  R17, which treats CONVICTED, SIS and NONCONVICTION alike; after R06 no rule tells THC
  from MARIJUANA. ``class`` and ``amount_g`` are read only for level F. ``case_has_violence``
  is read only by R11v (and only under ``violence = case``), ``case_mj_path`` only by R13a.
* Facts after a rule that closes the row. Once a rule closes a charge (under every value
  of the policies), the facts only later rules read are collapsed to the BASELINE value
  below: a plain state misdemeanor marijuana possession conviction, not serving, which
  R17 makes ELIGIBLE_AUTO, so an engine that skipped the closing rule would show it.

Amounts: one representative of each class, unknown / <= 10 g / <= 35 g / <= 85.05 g /
<= 3 lb (1360.78 g) / more: None, 5, 20, 50, 500, 2000; plus the two boundaries the rules
read, 85.05 (in "<= 85.05 g") and 1360.78 (in "<= 3 lb", which "counts as within 3 lb").

The rows are the union, in this order, of five blocks, duplicates dropped (first kept):

1. identity (R01-R07 and their precedence): every case_kind x offense_family x substance
   (4 x 13 x 5); the rest BASELINE.
2. status (R08-R11j): case_kind STATE, MUNICIPAL, JUVENILE x the six families still open
   after R07 (MJ_POSSESSION, PARAPHERNALIA, MJ_DELIVERY, MJ_MANUFACTURE, MJ_TRAFFICKING,
   DRUG_UNSPECIFIED) x substance MARIJUANA, THC, UNKNOWN x every disposition_class x
   offense_after_effective; the rest BASELINE. (MUNICIPAL and JUVENILE rows close at
   R08-R11j whatever follows, so the later blocks are STATE only.)
3. violence (R11v): STATE x the six open families x MARIJUANA, THC, UNKNOWN x violent x
   case_has_violence; the rest BASELINE.
4. case context (R12, R13a, R13b): STATE x the six open families x MARIJUANA, THC, UNKNOWN
   x case_mj_path; the rest BASELINE.
5. path (R14-R22): STATE x the five marijuana families (not DRUG_UNSPECIFIED, closed by
   R12) x serving (INCARCERATED, SUPERVISED, NO, UNKNOWN) x level (F, M, I, L, None),
   with, for level F only, class (A-E, None) x amount (the eight values above); for the
   other levels class and amount None. Done in full for MARIJUANA + CONVICTED. For the
   other five pairs of substance MARIJUANA/THC and disposition CONVICTED/SIS/NONCONVICTION
   (which no rule after R09n tells apart) the level-F rows are cut to the classes and
   amounts the rules tell apart: class E (D/E; E is the one R20 reads), C (A-C) and None x
   amount None, 50 (<= 3 oz), 500 (<= 3 lb), 2000 (> 3 lb).
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from pathlib import Path

from expunge.law.values import CASE_KINDS, FAMILIES, SUBSTANCES  # the vocabulary, not the rules

try:
    from tests.eligibility_transcription import determine
except ModuleNotFoundError:  # run as a script: python tests/make_truth_table.py
    from eligibility_transcription import determine

OUT = Path(__file__).resolve().parent / "truth_table.csv"

FACTS = (
    "case_kind",
    "offense_family",
    "substance",
    "marijuana",
    "level",
    "class",
    "amount_g",
    "disposition_class",
    "serving",
    "offense_after_effective",
    "violent",
    "case_has_violence",
    "case_mj_path",
)
COLUMNS = (*FACTS, "rule_id", "determination")

OPEN_FAMILIES = (
    "MJ_POSSESSION",
    "PARAPHERNALIA",
    "MJ_DELIVERY",
    "MJ_MANUFACTURE",
    "MJ_TRAFFICKING",
    "DRUG_UNSPECIFIED",
)
MJ_FAMILIES = OPEN_FAMILIES[:-1]
OPEN_SUBSTANCES = ("MARIJUANA", "THC", "UNKNOWN")
LEVELS = ("F", "M", "I", "L", None)
CLASSES = ("A", "B", "C", "D", "E", None)
AMOUNTS = (None, 5.0, 20.0, 50.0, 85.05, 500.0, 1360.78, 2000.0)
CUT_CLASSES = ("E", "C", None)
CUT_AMOUNTS = (None, 50.0, 500.0, 2000.0)
DISPOSITIONS = ("CONVICTED", "SIS", "NONCONVICTION", "PENDING", "UNKNOWN")
SERVING = ("INCARCERATED", "SUPERVISED", "NO", "UNKNOWN")
PATHS = ("AUTO", "PETITION", "NONE")
BOOLS = (False, True)

BASELINE = {
    "case_kind": "STATE",
    "offense_family": "MJ_POSSESSION",
    "substance": "MARIJUANA",
    "level": "M",
    "class": None,
    "amount_g": None,
    "disposition_class": "CONVICTED",
    "serving": "NO",
    "offense_after_effective": False,
    "violent": False,
    "case_has_violence": False,
    "case_mj_path": "NONE",
}


def row(**changes: object) -> dict:
    facts = {**BASELINE, **changes}
    facts["marijuana"] = facts["substance"] in ("MARIJUANA", "THC")
    return {name: facts[name] for name in FACTS}


def path_rows(family: str, substance: str, disposition: str, classes, amounts) -> Iterator[dict]:
    for serving, level in itertools.product(SERVING, LEVELS):
        common = {"offense_family": family, "substance": substance, "disposition_class": disposition}
        if level == "F":
            for klass, amount in itertools.product(classes, amounts):
                yield row(**common, serving=serving, level=level, **{"class": klass}, amount_g=amount)
        else:
            yield row(**common, serving=serving, level=level)


def fact_rows() -> list[dict]:
    """Every row of the table (facts only), in order, without duplicates."""
    blocks: list[dict] = []
    # 1. identity
    for kind, family, substance in itertools.product(CASE_KINDS, FAMILIES, SUBSTANCES):
        blocks.append(row(case_kind=kind, offense_family=family, substance=substance))
    # 2. status
    for kind, family, substance, disposition, after in itertools.product(
        CASE_KINDS[:3], OPEN_FAMILIES, OPEN_SUBSTANCES, DISPOSITIONS, BOOLS
    ):
        blocks.append(
            row(
                case_kind=kind,
                offense_family=family,
                substance=substance,
                disposition_class=disposition,
                offense_after_effective=after,
            )
        )
    # 3. violence
    for family, substance, violent, case_violence in itertools.product(OPEN_FAMILIES, OPEN_SUBSTANCES, BOOLS, BOOLS):
        blocks.append(row(offense_family=family, substance=substance, violent=violent, case_has_violence=case_violence))
    # 4. case context
    for family, substance, path in itertools.product(OPEN_FAMILIES, OPEN_SUBSTANCES, PATHS):
        blocks.append(row(offense_family=family, substance=substance, case_mj_path=path))
    # 5. path
    for family in MJ_FAMILIES:
        blocks.extend(path_rows(family, "MARIJUANA", "CONVICTED", CLASSES, AMOUNTS))
    for substance, disposition in itertools.product(("MARIJUANA", "THC"), ("CONVICTED", "SIS", "NONCONVICTION")):
        if (substance, disposition) == ("MARIJUANA", "CONVICTED"):
            continue
        for family in MJ_FAMILIES:
            blocks.extend(path_rows(family, substance, disposition, CUT_CLASSES, CUT_AMOUNTS))

    seen: set[tuple] = set()
    rows: list[dict] = []
    for facts in blocks:
        key = tuple(facts[name] for name in FACTS)
        if key not in seen:
            seen.add(key)
            rows.append(facts)
    return rows


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def render() -> str:
    buf = io.StringIO()
    buf.write("# Truth table of ELIGIBILITY.md v2 (rule set mo-a3 v2) under the default policies.\n")
    buf.write(
        "# Generated by tests/make_truth_table.py from tests/eligibility_transcription.py; do not edit by hand.\n"
    )
    buf.write("# How the combinations were reduced: the docstring of tests/make_truth_table.py.\n")
    buf.write("# Empty cell = None (unknown). amount_g in grams.\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for facts in fact_rows():
        rule_id, determination = determine(facts, {})
        writer.writerow([cell(facts[name]) for name in FACTS] + [rule_id, determination])
    return buf.getvalue()


def main() -> None:
    OUT.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
