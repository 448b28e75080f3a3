"""Synthetic Missouri charge exports for demos, tests and benchmarks.

Every person is invented. The offenses are built from real charge-code shapes (the
offense reference) and carry each trap of ELIGIBILITY.md: the EXCEPT-35-grams wording,
MARIJUANA/SYNTHETIC codes with modifiers 62 and 42, generic codes with modifier 62,
weapon while possessing, municipal ordinances, paraphernalia alone and with a marijuana
charge, pending and unreadable dispositions, conduct after 2022-12-08, people still
serving. Descriptions come hand-keyed: abbreviations, typos, truncation at 30 characters,
count prefixes, level suffixes, mixed case. ``messiness`` (0–1) turns that up.

By default each reference text has 13 variants, so 1 M charges show about 730 distinct
descriptions. ``hand_keyed=True`` draws each charge's spelling of its
reference text from an open-ended, Zipf-like set instead (``hand_keyed_descriptions``): about
100,000 distinct descriptions per 1 M charges, growing sub-linearly, like real hand-keyed
records; every other column stays what the same seed gives without it.

Generation is vectorized (numpy choices over template tables, pyarrow CSV writing): about
30 s per million rows on two cores, a few seconds more with ``hand_keyed``. With
``truth=True`` the expected offense family and substance of each row are written to a
sidecar file for accuracy measurement.
"""

from __future__ import annotations

import bisect
import functools
import re
import string
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from expunge.errors import InputFileError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pandas as pd

COLUMNS = (
    "case_number",
    "court",
    "county",
    "case_type",
    "filing_date",
    "defendant_id",
    "last_name",
    "first_name",
    "middle_name",
    "dob",
    "sex",
    "race",
    "address",
    "charge_seq",
    "charge_code",
    "ncic_modifier",
    "statute",
    "charge_description",
    "charge_level",
    "charge_class",
    "offense_date",
    "disposition",
    "disposition_date",
    "sentence",
    "supervision_status",
    "arresting_agency",
)

# county, circuit number, case-number location code, arresting agency
COUNTIES = (
    ("ST. LOUIS CITY", 22, "22", "ST LOUIS METROPOLITAN PD"),
    ("ST. LOUIS", 21, "SL", "ST LOUIS COUNTY PD"),
    ("JACKSON", 16, "16", "KANSAS CITY PD"),
    ("GREENE", 31, "31", "SPRINGFIELD PD"),
    ("BOONE", 13, "13", "COLUMBIA PD"),
    ("CLAY", 7, "CY", "CLAY COUNTY SHERIFF"),
    ("ST. CHARLES", 11, "11", "ST CHARLES COUNTY PD"),
    ("JEFFERSON", 23, "JE", "JEFFERSON COUNTY SHERIFF"),
    ("COLE", 19, "19", "JEFFERSON CITY PD"),
    ("BUCHANAN", 5, "05", "ST JOSEPH PD"),
    ("JASPER", 29, "29", "JOPLIN PD"),
    ("FRANKLIN", 20, "FR", "FRANKLIN COUNTY SHERIFF"),
)
COUNTY_WEIGHTS = (0.14, 0.16, 0.17, 0.09, 0.06, 0.05, 0.07, 0.06, 0.04, 0.05, 0.05, 0.06)


@dataclass(frozen=True)
class Template:
    """One kind of charge: its codes, the ways clerks typed it, and the expected facts."""

    weight: float
    codes: tuple[str, ...]  # charge codes ("" = none on the record)
    modifiers: tuple[str, ...]  # NCIC modifiers ("" = none)
    statutes: tuple[str, ...]
    descriptions: tuple[str, ...]
    level: str
    klass: str
    family: str  # expected offense_family
    substance: str  # expected substance ("" = not a drug offense)
    years: tuple[int, int] = (1995, 2024)  # offense years
    case_type: str = "CR"


TEMPLATES: tuple[Template, ...] = (
    Template(
        0.10,
        ("579.015-004Y201735", "579.015-004Y202035", "579.015-004"),
        ("62", "3562", "62"),
        ("579.015", "RSMo 579.015.4", "579.015.4"),
        (
            "POSSESSION OF MARIJUANA/SYNTHETIC CANNABINOID OF 10 GRAMS OR LESS",
            "POSS MARIJ <10G",
            "POSS MJ 10 GRAMS OR LESS",
            "poss of marihuana under 10 grams",
            "POSSN MRJ 10G OR LESS (MD)",
            "POSS MARIJUANA/SYNTH CANNABINOID <=10G",
        ),
        "M",
        "D",
        "MJ_POSSESSION",
        "MARIJUANA",
        (2017, 2022),
    ),
    Template(
        0.05,
        ("579.015-002Y201735", "579.015-002Y202035"),
        ("62", "3562"),
        ("579.015.3", "579.015"),
        (
            "POSSESSION OF MARIJUANA/SYNTHETIC CANNABINOID OF 11-35 GRAMS",
            "POSS MARIJ 11-35G",
            "POSS MARIJUANA MORE THAN 10 GRAMS BUT 35 GRAMS OR LESS",
            "POSS MJ 11 TO 35 GRMS (MA)",
        ),
        "M",
        "A",
        "MJ_POSSESSION",
        "MARIJUANA",
        (2017, 2022),
    ),
    Template(
        0.09,
        ("195.202-003Y200935", "32457", "195.202-997Y198935", ""),
        ("62", "", "", ""),
        ("195.202", "RSMo 195.202", "", ""),
        (
            "MISD-POSS UP TO 35 GRAMS MARIJUANA",
            "POSS MARIJ <35G",
            "POSSN MRJ UNDER 35 GRMS",
            "POSSESSION OF MARIHUANA LESS THAN 35 GRAMS",
            "CT 1 - POSS OF MARIJUANA UP TO 35 G",
            "Poss. Marijuana - 35 grams or less",
            "POSS MARIJUANA",
        ),
        "M",
        "A",
        "MJ_POSSESSION",
        "MARIJUANA",
        (1995, 2016),
    ),
    # Felony possession: EXCEPT wording, marijuana by the modifier, amount stated or not.
    Template(
        0.025,
        ("579.015-001Y201735", "579.015-001Y202035", "195.202-001Y198935"),
        ("62", "3562", "62"),
        ("579.015.2", "579.015", "195.202"),
        (
            "POSS MARIJUANA MORE THAN 35 GRAMS - 52 GRAMS",
            "POSS MARIJ 200 GRAMS",
            "POSS MARIJUANA 2 LBS",
            "POSSESSION OF MARIJUANA 100G FELONY",
        ),
        "F",
        "D",
        "MJ_POSSESSION",
        "MARIJUANA",
    ),
    Template(
        0.02,
        ("579.015-001Y201735", "579.015-001Y202035", "195.202-001Y198935"),
        ("62", "3562", "62"),
        ("579.015.2", "579.015", "195.202"),
        (
            "POSSESSION OF CONTROLLED SUBSTANCE EXCEPT 35 GRAMS OR LESS OF MARIJUANA",
            "POSS CONTROLLED SUBSTANCE-FELONY",
            "POSS C/S FELONY",
            "PCS EXCEPT <35G MARIJ",
        ),
        "F",
        "D",
        "MJ_POSSESSION",
        "MARIJUANA",
    ),
    # The EXCEPT felony for other drugs: a modifier names the drug, or nothing does.
    Template(
        0.06,
        ("579.015-001Y201735", "579.015-001Y202035", "195.202-001Y198935"),
        ("32", "3512", "72"),
        ("579.015.2", "579.015", "195.202"),
        (
            "POSSESSION OF CONTROLLED SUBSTANCE EXCEPT 35 GRAMS OR LESS OF MARIJUANA",
            "POSS CNTRL SUBST EXCEPT 35G MARIJ",
            "PCS EXCEPT <35G MARIJUANA",
            "POSS CONTROLLED SUBSTANCE-FELONY",
        ),
        "F",
        "D",
        "OTHER_DRUG",
        "OTHER_DRUG",
    ),
    Template(
        0.03,
        ("579.015-001Y202035", "195.202-001Y198935", ""),
        ("", "", ""),
        ("579.015", "195.202", ""),
        (
            "POSSESSION OF CONTROLLED SUBSTANCE EXCEPT 35 GRAMS OR LESS OF MARIJUANA",
            "POSS CONTROLLED SUBSTANCE-FELONY",
            "POSS C/S",
        ),
        "F",
        "D",
        "MJ_POSSESSION",
        "UNKNOWN",
    ),
    Template(
        0.02,
        ("", "", ""),
        ("", "", ""),
        ("", "", ""),
        ("POSSESSION OF COCAINE", "POSS HEROIN", "POSS METH", "POSSESSION OF METHAMPHETAMINE"),
        "F",
        "D",
        "OTHER_DRUG",
        "OTHER_DRUG",
    ),
    # Synthetic cannabinoid: conflated code with modifier 42, or named outright.
    Template(
        0.01,
        ("579.015-004Y202035", "195.202-004Y201035"),
        ("42", ""),
        ("579.015", "195.202"),
        (
            "POSSESSION OF MARIJUANA/SYNTHETIC CANNABINOID OF 10 GRAMS OR LESS",
            "POSS UP TO 35 GRMS SYN CNNBNOID",
            "POSS SYNTHETIC CANNABINOID K2",
        ),
        "M",
        "A",
        "MJ_POSSESSION",
        "SYNTHETIC_CANNABINOID",
        (2010, 2022),
    ),
    Template(
        0.01,
        ("", ""),
        ("", ""),
        ("", ""),
        ("POSS THC CARTRIDGE", "POSSESSION OF THC OIL <35G"),
        "M",
        "A",
        "MJ_POSSESSION",
        "THC",
        (2017, 2022),
    ),
    # Paraphernalia (alone, or charged next to possession: see the case builder).
    Template(
        0.06,
        ("579.074-003Y201735", "579.074-003Y202035", "195.233-001Y200935", ""),
        ("", "", "", ""),
        ("579.074", "579.074", "195.233", ""),
        (
            "UNLAWFUL POSSESSION OF DRUG PARAPHERNALIA",
            "POSS DRUG PARAPH",
            "UNLAWFUL USE OF DRUG PARAPHERNALIA",
            "POSS OF DRUG PARAPHERNALIA (MD)",
            "POSSESSION OF PARAPHANALIA",
        ),
        "M",
        "D",
        "PARAPHERNALIA",
        "UNKNOWN",
    ),
    Template(
        0.01,
        ("579.074-001Y201735", "195.233-002Y199835"),
        ("", ""),
        ("579.074", "195.233"),
        ("UNLAWFUL POSSESSION OF DRUG PARAPHERNALIA - AMPHETAMINE OR METHAMPHETAMINE", "DRUG PARAPH AMPHET/METH"),
        "F",
        "E",
        "OTHER_DRUG",
        "OTHER_DRUG",
    ),
    # Delivery and manufacture.
    Template(
        0.012,
        ("579.020-005Y201735", "579.020-005Y202035"),
        ("60", "3560"),
        ("579.020.3", "579.020"),
        (
            "DELIVERY OF 35 GRAMS OR LESS OF MARIJUANA OR SYNTHETIC CANNABINOID",
            "DEL MARIJ <35G",
            "DIST/DEL MARIJUANA 35G OR LESS",
        ),
        "F",
        "E",
        "MJ_DELIVERY",
        "MARIJUANA",
        (2017, 2022),
    ),
    Template(
        0.008,
        ("195.211-002Y198935", "579.020-004Y202035"),
        ("60", "60"),
        ("195.211", "579.020"),
        ("DIST DEL MANUF CONTR SUB", "PWID MARIJUANA", "POSS W/INTENT TO DIST MARIJ"),
        "F",
        "B",
        "MJ_DELIVERY",
        "MARIJUANA",
    ),
    Template(
        0.004,
        ("579.020-003Y201735", "195.212-001Y198935"),
        ("60", "60"),
        ("579.020.4", "195.212"),
        ("DELIVER 35 GRAMS OR LESS MARIJUANA/SYNTHETIC CANNABINOID - PERSON <17/2 YRS YNGR", "DIST CONT SUB TO MINOR"),
        "F",
        "C",
        "DELIVERY_TO_MINOR",
        "MARIJUANA",
    ),
    Template(
        0.004,
        ("579.068-002Y201735", "195.223-003Y198935"),
        ("60", "62"),
        ("579.068", "195.223"),
        ("TRAFFICKING DRUGS - 2ND DEGREE", "TRAFFIC IN DRUG/ATTEMPT-2ND DEGREE"),
        "F",
        "B",
        "MJ_TRAFFICKING",
        "MARIJUANA",
    ),
    Template(
        0.006,
        ("579.055-004Y201735", ""),
        ("63", ""),
        ("579.055", ""),
        ("MANUFACTURE OF 35 GRAMS OR LESS MARIJUANA/SYNTHETIC CANNABINOID", "CULTIVATION OF MARIJUANA 5 PLANTS"),
        "F",
        "E",
        "MJ_MANUFACTURE",
        "MARIJUANA",
        (2017, 2022),
    ),
    Template(0.004, ("579.030-001Y201735", "195.214-001Y198935"), ("60", "60"), ("579.030", "195.214"),
             ("DISTRIBUTION OF A CONTROLLED SUBSTANCE IN A PROTECTED LOCATION", "DIST CNT SUB NEAR SCHOOL"),
             "F", "A", "PROTECTED_LOCATION", "MARIJUANA"),
    Template(0.004, ("195.020-998Y195035", ""), ("", ""), ("195.020", ""), ("DRUG VIOLATION", "DRUG VIO"),
             "M", "", "DRUG_UNSPECIFIED", "UNKNOWN", (1975, 1989)),
    # Exclusions and neighbours.
    Template(
        0.01,
        ("571.030-019Y201752", "571.030-019Y201452"),
        ("", ""),
        ("571.030.1(11)", "571.030"),
        (
            "UNLAWFUL USE OF WEAPON - SUBSECTION 11 - POSSESS WEAPON/FELONY CONTROL SUBSTANCE",
            "UUW - POSS FIREARM WHILE POSS CONTROLLED SUBSTANCE",
        ),
        "F",
        "E",
        "WEAPON_WHILE_POSSESSING",
        "",
        (2015, 2022),
    ),
    Template(
        0.01,
        ("577.010-010Y197954", ""),
        ("", ""),
        ("577.010", "577.010"),
        ("DWI/DRUG INTOX", "DRIVING WHILE INTOXICATED - DRUGS"),
        "M",
        "B",
        "DUI",
        "",
        (1995, 2016),
    ),
    # Municipal ordinance possession (route to § 610.140).
    Template(
        0.03,
        ("ORD579.0-001Y202135", "ORDIN.0-076Y200035", ""),
        ("", "", ""),
        ("", "", "17-240"),
        ("POSSESS MARIJUANA", "POSS MARIJUANA (ORD)", "POSSESSION OF MARIJUANA - CITY ORD"),
        "L",
        "",
        "MJ_POSSESSION",
        "MARIJUANA",
        (2000, 2022),
        case_type="MU",
    ),
    # Non-drug charges.
    Template(
        0.11,
        ("570.030-001Y201770", "570.030-002Y201770", ""),
        ("", "", ""),
        ("570.030", "570.030", ""),
        ("STEALING", "STEALING - $750 OR MORE", "STEALING - PROPERTY VALUED AT LESS THAN $150"),
        "M",
        "A",
        "NON_DRUG",
        "",
    ),
    Template(
        0.07,
        ("565.056-001Y201713", ""),
        ("", ""),
        ("565.056", ""),
        ("ASSAULT 4TH DEGREE", "ASSAULT - 4TH DEGREE - ATTEMPT TO CAUSE INJURY"),
        "M",
        "A",
        "NON_DRUG",
        "",
    ),
    Template(
        0.06,
        ("577.010-032Y201754", "577.010-005Y197554"),
        ("", ""),
        ("577.010", "577.010"),
        ("DRIVING WHILE INTOXICATED", "DWI/ALCOHOL"),
        "M",
        "B",
        "DUI",
        "",
    ),
    Template(
        0.06,
        ("304.010-005Y201754", ""),
        ("", ""),
        ("304.010", ""),
        ("EXCEEDED POSTED SPEED LIMIT (EXCEEDED BY 20-25 MPH)", "SPEEDING"),
        "I",
        "",
        "NON_DRUG",
        "",
        case_type="TR",
    ),
    Template(
        0.05,
        ("575.150-001Y201738", ""),
        ("", ""),
        ("575.150", ""),
        ("RESISTING ARREST/DETENTION/STOP", "RESISTING ARREST"),
        "M",
        "A",
        "NON_DRUG",
        "",
    ),
    Template(
        0.05,
        ("569.140-001Y201756", ""),
        ("", ""),
        ("569.140", ""),
        ("TRESPASS 1ST DEGREE", "TRESPASSING - 1ST DEG"),
        "M",
        "B",
        "NON_DRUG",
        "",
    ),
    Template(
        0.04,
        ("302.321-001Y201747", ""),
        ("", ""),
        ("302.321", ""),
        ("DRIVING WHILE REVOKED/SUSPENDED", "DWR/DWS"),
        "M",
        "D",
        "NON_DRUG",
        "",
        case_type="TR",
    ),
)

DISPOSITIONS = (
    ("GUILTY PLEA", 0.24),
    ("Guilty Plea", 0.05),
    ("PLEA OF GUILTY", 0.03),
    ("FOUND GUILTY", 0.05),
    ("SIS", 0.10),
    ("Suspended Imposition of Sentence", 0.03),
    ("SES", 0.04),
    ("SIS REVOKED", 0.01),
    ("NOLLE PROSEQUI", 0.10),
    ("Nolle Pros", 0.02),
    ("DISMISSED BY PROSECUTOR", 0.09),
    ("DISMISSED BY COURT", 0.05),
    ("DISMISSED WITHOUT PREJUDICE", 0.02),
    ("NOT GUILTY", 0.02),
    ("ACQUITTED", 0.01),
    ("PENDING", 0.03),
    ("DISP-SEE FILE", 0.01),
    ("", 0.01),
    ("CONVERTED", 0.01),
)

FIRST = (
    "JAMES",
    "MARY",
    "ROBERT",
    "PATRICIA",
    "JOHN",
    "JENNIFER",
    "MICHAEL",
    "LINDA",
    "DAVID",
    "ELIZABETH",
    "WILLIAM",
    "BARBARA",
    "RICHARD",
    "SUSAN",
    "JOSEPH",
    "JESSICA",
    "THOMAS",
    "SARAH",
    "CHARLES",
    "KAREN",
    "DARNELL",
    "LATOYA",
    "JOSE",
    "MARIA",
    "TYRONE",
    "KEISHA",
    "CODY",
    "BRITTANY",
)
LAST = (
    "SMITH",
    "JOHNSON",
    "WILLIAMS",
    "BROWN",
    "JONES",
    "GARCIA",
    "MILLER",
    "DAVIS",
    "RODRIGUEZ",
    "WILSON",
    "MARTINEZ",
    "ANDERSON",
    "TAYLOR",
    "THOMAS",
    "HERNANDEZ",
    "MOORE",
    "MARTIN",
    "JACKSON",
    "THOMPSON",
    "WHITE",
    "HARRIS",
    "CLARK",
    "LEWIS",
    "ROBINSON",
    "WALKER",
    "YOUNG",
    "ALLEN",
    "KING",
)
STREETS = (
    "MAIN ST",
    "OAK AVE",
    "GRAND BLVD",
    "PROSPECT AVE",
    "KINGSHIGHWAY",
    "TROOST AVE",
    "GLENSTONE AVE",
    "BROADWAY",
    "ELM ST",
    "WASHINGTON AVE",
)


def _typo(s: str, rng: np.random.Generator) -> str:
    if len(s) < 6:
        return s
    i = int(rng.integers(1, len(s) - 1))
    op = int(rng.integers(0, 3))
    if op == 0:
        return s[:i] + s[i + 1 :]
    if op == 1:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + s[i] + s[i:]


def _variants(desc: str, rng: np.random.Generator, messiness: float, k: int = 12) -> list[str]:
    """Hand-keyed versions of one description (finite, so cardinality stays realistic)."""
    out = [desc]
    for _ in range(k):
        v = desc
        r = rng.random(5)
        if r[0] < messiness:
            v = v.lower() if rng.random() < 0.5 else v.title()
        if r[1] < messiness:
            v = _typo(v, rng)
        if r[2] < messiness * 0.6:
            v = v[:30]
        if r[3] < messiness * 0.4:
            v = f"CT {int(rng.integers(1, 4))} - {v}"
        if r[4] < messiness * 0.5:
            v = "  " + v.replace(" ", "  ", 1)
        out.append(v)
    return out


# Hand-keyed mode: an open-ended set of spellings per reference text. ---------------------------
#
# Rank 0 is the reference text as the template has it (HK_AS_TYPED of the rows); rank r > 0 is
# its r-th most common hand-keyed spelling, drawn from a discretised Lomax (Pareto II) law,
# P(rank > r) = (1 + r / HK_SCALE) ** -HK_ALPHA. Most rows repeat common spellings and a long
# tail are one-offs, so distinct descriptions grow sub-linearly: the distinct ranks of n charges
# of one text grow as n ** (1 / (1 + HK_ALPHA)) = n ** 0.69, and since two ranks can give the
# same spelling (more often as n grows) distinct descriptions grow about 4 times for 10 times the
# charges. HK_SCALE is set so that 1 M charges at messiness 0.35 show about 100,000 distinct
# descriptions, as real hand-keyed Missouri exports do (about 400,000 at 10 M). The spelling of
# (text, rank) is a fixed function of the two, not of the seed, so the chunks of a large export
# share their common spellings and the count stays sub-linear across chunks.
HK_AS_TYPED = 0.3
HK_ALPHA = 0.45
HK_SCALE = 42.0
_RANK_BITS = 40

# (words, spellings clerks use for them): Missouri short descriptions (MSHP), TX and NC clerks.
ABBREVIATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("CONTROLLED SUBSTANCE|CONTR SUBST|CONTROL SUBSTANCE",
     ("C/S", "CS", "CNTRL SUBST", "CONT SUB", "CONTR SUBS", "CNTL SUB", "CONTROLLED SUB")),
    ("POSSESSION|POSSESS", ("POSS", "POSSN", "POSS.", "POS", "POSSESS", "POSESSION")),
    ("POSS|POSSN", ("POSSESSION", "POSSESS", "POS", "POSS.")),
    ("CONTROLLED|CONTROL|CONTR", ("CNTRL", "CONT", "CONTR", "CTRL", "CNTL")),
    ("SUBSTANCE|SUBST", ("SUBST", "SUB", "SUBS", "SUBSTNC", "SUBSTANC")),
    ("MARIJUANA|MARIHUANA", ("MARIJ", "MJ", "MARI", "MRJ", "MARIJUA", "MARIHUANA", "MARIJAUNA", "MARIJ.")),
    ("MARIJ|MJ|MRJ", ("MARIJUANA", "MARIHUANA", "MARIJ", "MJ")),
    ("PARAPHERNALIA|PARAPHANALIA|PARAPH",
     ("PARA", "PARAPH", "PARAPHERN", "PARAPHENALIA", "PARAPHERNA", "PARAPHERNALIA", "PARAPH.")),
    ("WITH INTENT TO|W/INTENT TO|WITH INTENT|W/INTENT", ("W/INT", "W/I", "W/INT TO", "WITH INT", "W/ INTENT")),
    ("DISTRIBUTE|DISTRIBUTION|DIST", ("DIST", "DISTR", "DISTRIB", "DISTRIBUTION")),
    ("DELIVERY|DELIVER|DEL", ("DEL", "DELIV", "DLVRY", "DELIVERY")),
    ("MANUFACTURE|MANUF|MFG", ("MFG", "MANUF", "MANU", "MFR", "MANUFACTURE")),
    ("GRAMS|GRMS|GRAM", ("GRMS", "GMS", "G", "GR", "GRAM", "GRAMS", "GMS.")),
    ("LESS THAN|UNDER", ("LT", "<", "LESS THN", "UNDER", "LESS THAN")),
    ("OR LESS", ("OR LESS", "OR LES", "OR UNDER", "OR LESS THAN")),
    ("MORE THAN|OVER", ("MT", ">", "OVER", "MORE THN", "MORE THAN")),
    ("FIRST DEGREE|1ST DEGREE|1ST DEG", ("1ST DEG", "1ST", "1 DEG", "FIRST DEG", "1ST DEGREE", "1ST DEG.")),
    ("SECOND DEGREE|2ND DEGREE", ("2ND DEG", "2ND", "2 DEG", "SECOND DEG")),
    ("FOURTH DEGREE|4TH DEGREE", ("4TH DEG", "4TH", "4 DEG", "FOURTH DEG")),
    ("DEGREE|DEG", ("DEG", "DEG.", "DGR", "DEGREE")),
    ("SYNTHETIC|SYNTH|SYN", ("SYN", "SYNTH", "SYNTHET", "SYNTHETIC")),
    ("CANNABINOID", ("CANNAB", "CNNBNOID", "CANNABNOID", "CANNABINIOD", "CANNAB.")),
    ("UNLAWFUL", ("UNLAW", "UNLWFL", "UNL", "UNLAWFL")),
    ("DRIVING", ("DRIV", "DRV", "DRIVE")),
    ("WHILE", ("WHL", "W/")),
    ("INTOXICATED|INTOX", ("INTOX", "INTOXICATD", "INTOXICATED", "INTOX.")),
    ("ASSAULT", ("ASSLT", "ASLT", "ASSAULT", "ASSAUL")),
    ("RESISTING", ("RESIST", "RESISTNG", "RES")),
    ("ARREST", ("ARR", "ARRST", "ARREST")),
    ("STEALING", ("STEAL", "STLG", "STEALNG")),
    ("TRESPASSING|TRESPASS", ("TRESP", "TRESPASS", "TRSP", "TRESPASSING")),
    ("WEAPON", ("WPN", "WEAP", "WEAPN")),
    ("FIREARM", ("F/A", "FA", "FIREARM", "FIRE ARM")),
    ("PROPERTY", ("PROP", "PROPTY")),
    ("VIOLATION", ("VIOL", "VIO", "VIOLTN")),
    ("EXCEPT", ("EXC", "EXCPT", "EXCEPT", "EXCL")),
    ("METHAMPHETAMINE|METH", ("METH", "METHAMPH", "METHAMPHETAMINE", "METHAMPH.")),
    ("AMPHETAMINE", ("AMPHET", "AMPH")),
    ("SUSPENDED", ("SUSP", "SUSPND")),
    ("REVOKED", ("REV", "REVOK")),
    ("CULTIVATION", ("CULT", "CULTIV")),
    ("TRAFFICKING|TRAFFIC", ("TRAFF", "TRAF", "TRFK", "TRAFFICKING")),
    ("POUNDS|LBS", ("LBS", "LB", "POUNDS")),
    ("DETENTION", ("DET", "DETENT")),
    ("PERSON", ("PERS", "PRSN")),
    ("SCHOOL", ("SCH", "SCHL")),
    ("PROTECTED", ("PROT", "PROTECT")),
    ("LOCATION", ("LOC", "LOCATN")),
    ("DRUG", ("DRG", "DRUG")),
    ("AND", ("&",)),
    ("YEARS|YRS", ("YRS", "YR", "YEARS")),
)
_ABBREVIATIONS = tuple(
    (re.compile(rf"(?<![A-Za-z0-9])(?:{words})(?![A-Za-z0-9])", re.IGNORECASE), spellings)
    for words, spellings in ABBREVIATIONS
)
_STOPWORDS = frozenset({"OF", "THE", "A", "OR", "TO", "AND", "IN", "ON", "BY", "FOR", "WHILE", "UP"})


def _keyboard_neighbours() -> dict[str, str]:
    rows = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
    out: dict[str, str] = {}
    for r, row in enumerate(rows):
        for i, ch in enumerate(row):
            near = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            for other in (r - 1, r + 1):  # staggered rows: keys i - 1 .. i + 1 above and below
                if 0 <= other < len(rows):
                    near += [rows[other][j] for j in (i - 1, i, i + 1) if 0 <= j < len(rows[other])]
            out[ch] = "".join(near)
    return out


KEY_NEIGHBOURS = _keyboard_neighbours()
T = TypeVar("T")
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_DRAWS = 32  # uniforms per spelling (reused in turn if a spelling needs more)


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, elementwise on uint64 (wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _text_hash(text: str, level: str, klass: str) -> int:
    return zlib.crc32(f"{text}\x1f{level}\x1f{klass}".encode())


def _uniforms(text_hash: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """``_DRAWS`` uniforms in [0, 1) per (text, rank): a counter-based stream, the same for the
    pair wherever and whenever it is drawn."""
    seed = _mix64(_mix64(text_hash.astype(np.uint64) + _GOLDEN) ^ rank.astype(np.uint64))
    steps = (np.arange(1, _DRAWS + 1, dtype=np.uint64) * _GOLDEN)[None, :]
    return (_mix64(seed[:, None] + steps) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


class _Draws:
    """The few random choices one spelling needs, read from its precomputed uniforms."""

    __slots__ = ("_i", "_u")

    def __init__(self, u: list[float]) -> None:
        self._u, self._i = u, 0

    def random(self) -> float:
        i = self._i
        self._i = i + 1
        return self._u[i % _DRAWS]

    def below(self, n: int) -> int:
        return min(int(self.random() * n), n - 1)

    def choice(self, seq: Sequence[T]) -> T:
        return seq[self.below(len(seq))]


def _nth(s: str, sub: str, n: int) -> int:
    i = s.find(sub)
    for _ in range(n):
        i = s.find(sub, i + 1)
    return i


@functools.lru_cache(maxsize=4096)
def _abbreviations_in(s: str) -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    return [(pat, spellings) for pat, spellings in _ABBREVIATIONS if pat.search(s)]


def _noise_abbreviation(s: str, rnd: _Draws, level: str, klass: str) -> str:
    """Abbreviate (or spell out) one to three words the way clerks do, else drop a word's vowels
    (MSHP style: PHRM, TRNS, CNNBNOID)."""
    found = _abbreviations_in(s)
    if not found or rnd.random() < 0.15:
        words = [w for w in s.split(" ") if len(w) >= 6 and w.isalpha()]
        if words:
            w = rnd.choice(words)
            s = s.replace(w, w[0] + "".join(c for c in w[1:] if c not in "AEIOUaeiou"), 1)
        return s
    found = list(found)
    for _ in range(min(len(found), rnd.choice((1, 1, 1, 2, 2, 3)))):
        pat, spellings = found.pop(rnd.below(len(found)))
        alt = rnd.choice(spellings)
        s = pat.sub(lambda m, alt=alt: alt.lower() if m.group(0).islower() else alt, s, count=1)
    return " ".join(s.split())


def _noise_dropped_word(s: str, rnd: _Draws, level: str, klass: str) -> str:
    words = s.split()
    if len(words) < 3:
        return s
    for _ in range(1 if rnd.random() < 0.8 else 2):
        small = [i for i, w in enumerate(words) if w.upper() in _STOPWORDS]
        i = rnd.choice(small) if small and rnd.random() < 0.6 else 1 + rnd.below(len(words) - 1)
        del words[i]
        if len(words) < 2:
            break
    return " ".join(words)


def _noise_typo(s: str, rnd: _Draws, level: str, klass: str) -> str:
    """An adjacent swap, a dropped character, a doubled character or a neighbouring key."""
    for _ in range(1 if rnd.random() < 0.85 else 2):
        if len(s) < 4:
            return s
        i = 1 + rnd.below(len(s) - 2)
        for _ in range(4):  # land on a letter or digit
            if s[i].isalnum():
                break
            i = 1 + rnd.below(len(s) - 2)
        op = rnd.below(4)
        if op == 0 and s[i] != s[i + 1]:
            s = s[:i] + s[i + 1] + s[i] + s[i + 2 :]
        elif op == 1:
            s = s[:i] + s[i + 1 :]
        elif op == 2:
            s = s[:i] + s[i] + s[i:]
        else:
            near = rnd.choice(KEY_NEIGHBOURS.get(s[i].lower(), s[i].lower()))
            s = s[:i] + (near.upper() if s[i].isupper() else near) + s[i + 1 :]
    return s


_PUNCTUATION_EDITS = (
    (" - ", ("-", " -", "- ", " ", " / ")),
    ("-", (" - ", " ", "/")),
    ("/", (" / ", " ", "-", "/ ")),
    (".", ("", " ")),
    (" (", ("(", " - (")),
    (",", (";", "", " ,")),
    ("<", (" < ", "< ", "LT ")),
)


def _noise_punctuation(s: str, rnd: _Draws, level: str, klass: str) -> str:
    """Dashes, slashes and stops spaced differently, dropped or added."""
    present = [(old, new) for old, new in _PUNCTUATION_EDITS if old in s]
    if present and rnd.random() < 0.7:
        old, new = rnd.choice(present)
        i = _nth(s, old, rnd.below(s.count(old)))
        return s[:i] + rnd.choice(new) + s[i + len(old) :]
    spaces = s.count(" ")
    kind = rnd.below(3)
    if kind == 0 and spaces:  # a space typed as a dash or a slash
        i = _nth(s, " ", rnd.below(spaces))
        return s[:i] + rnd.choice("-/") + s[i + 1 :]
    if kind == 1 and spaces:  # a full stop after a word
        i = _nth(s, " ", rnd.below(spaces))
        return s[:i] + "." + s[i:]
    return s + rnd.choice((".", ",", " -", "-", ";"))


def _noise_truncation(s: str, rnd: _Draws, level: str, klass: str) -> str:
    """A fixed-width column (20-40 characters) cuts the text, or it is cut at any length past
    its first two thirds (a short text stays recognisable)."""
    width = rnd.choice((20, 24, 25, 25, 30, 30, 30, 32, 35, 40)) if rnd.random() < 0.7 else 0
    if not width or len(s) <= width:
        low = max(8, 2 * len(s) // 3)
        if len(s) <= low:
            return s
        width = low + rnd.below(len(s) - low)
    cut = s[:width]
    return cut if rnd.random() < 0.2 else cut.rstrip()


def _level_suffixes(level: str, k: str) -> tuple[str, ...]:
    if level == "F":
        classed = (f"CLASS {k} FELONY", f"(FEL {k})", f"F-{k}", f"(F{k})", f"- CL {k} FEL", f"FEL {k}", f"{k} FEL")
        return ("- FEL", "FELONY", "- FELONY", "(F)", "(FEL)", *(classed if k else ()))
    if level == "M":
        classed = (f"CLASS {k} MISDEMEANOR", f"(MISD {k})", f"M-{k}", f"(M{k})", f"- CL {k} MISD", f"MISD {k}",
                   f"{k} MISD")
        return ("- MISD", "MISDEMEANOR", "- MISDEMEANOR", "(M)", "(MISD)", *(classed if k else ()))
    if level == "L":
        return ("(ORD)", "- ORD VIOL", "MUNI ORD", "- CITY ORD", "(MUNI)")
    if level == "I":
        return ("- INFR", "(INF)", "INFRACTION", "- INFRACTION")
    return ("(UNK)",)


_SUFFIXES = {(lv, k): _level_suffixes(lv, k) for lv in ("F", "M", "L", "I", "") for k in ("A", "B", "C", "D", "E", "")}


def _noise_level_suffix(s: str, rnd: _Draws, level: str, klass: str) -> str:
    """The charge's level and class after the text, as a clerk or a report adds it."""
    form = rnd.choice(_SUFFIXES.get((level, klass)) or _level_suffixes(level, klass))
    return s + ("" if form[0] == "(" and rnd.random() < 0.3 else " ") + form


_COUNT_PREFIXES = ("CT {n}:", "CT {n} -", "COUNT {n} -", "COUNT {n}:", "{n:02d}", "CT{n}-", "CNT {n}", "#{n}",
                   "C{n}", "CT {n:02d}", "COUNT {r} -", "{n:03d} -")


def _noise_count_prefix(s: str, rnd: _Draws, level: str, klass: str) -> str:
    n = rnd.choice((1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6))
    form = rnd.choice(_COUNT_PREFIXES).format(n=n, r="I" * n if n < 4 else n)
    return f"{form}{'' if form[-1] == '-' and rnd.random() < 0.3 else ' '}{s}"


def _noise_mixed_case(s: str, rnd: _Draws, level: str, klass: str) -> str:
    kind = rnd.random()
    if kind < 0.35:
        return s.lower()
    if kind < 0.65:
        return s.title()
    if kind < 0.8:
        return s.capitalize()
    words = s.split(" ")
    if kind < 0.9:  # caps lock pressed part-way through
        cut = 1 + rnd.below(max(1, len(words) - 1))
        return " ".join(words[:cut] + [w.lower() for w in words[cut:]])
    return " ".join(w.title() if rnd.random() < 0.5 else w for w in words)


def _noise_doubled_space(s: str, rnd: _Draws, level: str, klass: str) -> str:
    spaces = s.count(" ")
    if spaces and rnd.random() < 0.75:
        for _ in range(1 if rnd.random() < 0.7 else 2):
            i = _nth(s, " ", rnd.below(spaces))
            s = s[:i] + rnd.choice(("  ", "  ", "   ")) + s[i + 1 :]
        return s
    return rnd.choice(("  " + s, s + "   ", " " + s + "  "))


# Kind, how often a spelling carries it (about as often as in the labelled strings of five states:
# abbreviations and truncation first), in the order they are applied.
NOISE_KINDS: tuple[tuple[str, Callable[[str, _Draws, str, str], str], float], ...] = (
    ("abbreviation", _noise_abbreviation, 0.24),
    ("dropped_word", _noise_dropped_word, 0.08),
    ("typo", _noise_typo, 0.14),
    ("punctuation", _noise_punctuation, 0.10),
    ("truncation", _noise_truncation, 0.14),
    ("level_suffix", _noise_level_suffix, 0.10),
    ("count_prefix", _noise_count_prefix, 0.07),
    ("mixed_case", _noise_mixed_case, 0.07),
    ("doubled_space", _noise_doubled_space, 0.06),
)
_KIND_CUM = np.cumsum([w for _, _, w in NOISE_KINDS]).tolist()


def _spell(text: str, level: str, klass: str, rnd: _Draws, messiness: float) -> str:
    """One hand-keyed spelling of ``text``: one or more kinds of noise (more with ``messiness``),
    chosen by weight and applied in the order of ``NOISE_KINDS``."""
    n, more = 1, min(0.75, 0.15 + messiness)
    while n < len(NOISE_KINDS) and rnd.random() < more:
        n += 1
    chosen = [False] * len(NOISE_KINDS)
    for _ in range(n):
        k = bisect.bisect(_KIND_CUM, rnd.random() * _KIND_CUM[-1])
        chosen[min(k, len(NOISE_KINDS) - 1)] = True
    s = text
    for (_, noise, _), on in zip(NOISE_KINDS, chosen, strict=True):
        if on:
            s = noise(s, rnd, level, klass)
    return s if s.strip() else text


def hand_keyed_descriptions(
    refs: list[tuple[str, str, str]], ref_of_row: np.ndarray, rng: np.random.Generator, messiness: float
) -> np.ndarray:
    """Each row's description: its reference text (``refs[ref_of_row]``: text, level, class) in a
    spelling whose rank ``rng`` draws per row. Spellings are made once per distinct (reference,
    rank) pair present, with their random draws vectorized, then indexed back to the rows. A
    pair's spelling depends on the text, its level and class, the rank and ``messiness`` only
    (not on ``rng``), so it is the same in every chunk, run and process."""
    u = rng.random(ref_of_row.size)
    tail = np.maximum(u - HK_AS_TYPED, 0.0) / (1.0 - HK_AS_TYPED)  # uniform again on the tail
    rank = 1.0 + np.floor(HK_SCALE * ((1.0 - tail) ** (-1.0 / HK_ALPHA) - 1.0))
    rank = np.where(u < HK_AS_TYPED, 0, np.minimum(rank, 2.0**_RANK_BITS - 1)).astype(np.int64)
    keys, inverse = np.unique((ref_of_row.astype(np.int64) << _RANK_BITS) | rank, return_inverse=True)
    ref_i, rank_i = keys >> _RANK_BITS, keys & ((1 << _RANK_BITS) - 1)
    hashes = np.array([_text_hash(*r) for r in refs], dtype=np.int64)[ref_i]
    spellings = np.empty(keys.size, dtype=object)
    for start in range(0, keys.size, 50_000):  # bounded memory for the uniforms
        part = slice(start, start + 50_000)
        draws = _uniforms(hashes[part], rank_i[part]).tolist()
        spellings[part] = [
            refs[r][0] if k == 0 else _spell(*refs[r], _Draws(d), messiness)
            for r, k, d in zip(ref_i[part].tolist(), rank_i[part].tolist(), draws, strict=True)
        ]
    return spellings[inverse.reshape(-1)]


def generate(
    rows: int, seed: int = 0, messiness: float = 0.3, malformed: int = 0, hand_keyed: bool = False
) -> tuple[pa.Table, pa.Table, list[str]]:
    """Build a synthetic export.

    Args:
        rows: number of charges (well-formed rows).
        seed: random seed (same seed, same file).
        messiness: 0–1, how hand-keyed descriptions, codes and dispositions look.
        malformed: extra malformed lines to append (bad field counts, impossible dates,
            missing case numbers, non-numeric counts).
        hand_keyed: give each charge its reference text in a spelling drawn from an open-ended
            set (``hand_keyed_descriptions``), about 100,000 distinct descriptions per 1 M
            charges, instead of one of 13 variants per text. Only the descriptions differ: every
            other column, the truth table and the malformed lines are those of the same seed
            without it.

    Returns:
        (export table, truth table, malformed lines as raw CSV text).
    """
    rng = np.random.default_rng(seed)
    t_weights = np.array([t.weight for t in TEMPLATES])
    t_weights /= t_weights.sum()

    # People -> cases -> charges.
    n_people = max(1, rows // 3)
    p_first = rng.integers(0, len(FIRST), n_people)
    p_last = rng.integers(0, len(LAST), n_people)
    p_mid = rng.integers(0, 26, n_people)
    p_dob = (np.datetime64("1950-01-01") + rng.integers(0, 365 * 55, n_people)).astype("datetime64[D]")
    p_sex = rng.choice(np.array(["M", "F"]), n_people, p=[0.72, 0.28])
    p_race = rng.choice(np.array(["W", "B", "H", "A", "U"]), n_people, p=[0.55, 0.35, 0.06, 0.02, 0.02])
    p_addr = np.char.add(
        np.char.add(rng.integers(100, 9999, n_people).astype(str), " "),
        np.array(STREETS)[rng.integers(0, len(STREETS), n_people)],
    )
    p_county = rng.choice(len(COUNTIES), n_people, p=np.array(COUNTY_WEIGHTS) / sum(COUNTY_WEIGHTS))
    p_dob_missing = rng.random(n_people) < 0.08

    charges_per_case = rng.choice([1, 2, 3], size=rows, p=[0.55, 0.32, 0.13])
    case_sizes = []
    total = 0
    for c in charges_per_case:  # bounded by rows/1 iterations of cheap ints
        if total >= rows:
            break
        case_sizes.append(int(min(c, rows - total)))
        total += case_sizes[-1]
    case_sizes_a = np.array(case_sizes)
    n_cases = case_sizes_a.size
    case_person = rng.integers(0, n_people, n_cases)
    case_of_row = np.repeat(np.arange(n_cases), case_sizes_a)
    seq = np.arange(rows) - np.repeat(np.cumsum(case_sizes_a) - case_sizes_a, case_sizes_a) + 1

    tmpl = rng.choice(len(TEMPLATES), size=rows, p=t_weights)
    # A possession charge is often joined by paraphernalia in the same case.
    para_idx = next(i for i, t in enumerate(TEMPLATES) if t.family == "PARAPHERNALIA" and t.substance == "UNKNOWN")
    first_tmpl = tmpl[np.repeat(np.cumsum(case_sizes_a) - case_sizes_a, case_sizes_a)]
    mj_first = np.isin(
        first_tmpl,
        [
            i
            for i, t in enumerate(TEMPLATES)
            if t.family == "MJ_POSSESSION" and t.substance == "MARIJUANA" and t.case_type == "CR"
        ],
    )
    tmpl = np.where((seq == 2) & mj_first & (rng.random(rows) < 0.6), para_idx, tmpl)
    # All charges of a case share its type (municipal vs state).
    case_tmpl = tmpl[np.repeat(np.cumsum(case_sizes_a) - case_sizes_a, case_sizes_a)]
    ct = np.array([t.case_type for t in TEMPLATES])
    muni_case = ct[case_tmpl] == "MU"
    muni_idx = [i for i, t in enumerate(TEMPLATES) if t.case_type == "MU"]
    tmpl = np.where(muni_case & ~np.isin(tmpl, muni_idx), muni_idx[0], tmpl)

    # Case-level facts.
    y0 = np.array([t.years[0] for t in TEMPLATES])[case_tmpl]
    y1 = np.array([t.years[1] for t in TEMPLATES])[case_tmpl]
    year = (y0 + (rng.random(rows) * (y1 - y0 + 1)).astype(int))[
        np.repeat(np.cumsum(case_sizes_a) - case_sizes_a, case_sizes_a)
    ]
    day = rng.integers(0, 365, n_cases)[case_of_row]
    offense = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") + day
    post_effective = rng.random(n_cases)[case_of_row] < 0.02
    offense = np.where(post_effective, np.datetime64("2023-03-01") + rng.integers(0, 600, rows), offense)
    filing = offense + rng.integers(1, 90, n_cases)[case_of_row]
    disp_date = filing + rng.integers(30, 400, n_cases)[case_of_row]
    person = case_person[case_of_row]
    county_i = p_county[person]
    counties = np.array([c[0] for c in COUNTIES])[county_i]
    circuits = np.array([c[1] for c in COUNTIES])[county_i]
    loc = np.array([c[2] for c in COUNTIES])[county_i]
    agency = np.array([c[3] for c in COUNTIES])[county_i]
    case_type_arr = np.where(muni_case, "MU", np.where(ct[case_tmpl] == "TR", "TR", "CR"))
    other_kind = rng.random(n_cases)[case_of_row] < 0.01
    case_type_arr = np.where(other_kind, "JU", case_type_arr)
    yy = np.char.zfill(((filing.astype("datetime64[Y]").astype(int) + 1970) % 100).astype(str), 2)
    case_no = np.char.add(
        np.char.add(np.char.add(yy, loc), "-"),
        np.char.add(case_type_arr, np.char.zfill(np.arange(n_cases)[case_of_row].astype(str), 5)),
    )
    court = np.where(
        muni_case,
        np.char.add("MUNICIPAL COURT OF ", np.char.upper(agency)),
        np.char.add(
            np.char.add(
                circuits.astype(str),
                np.where(
                    circuits % 10 == 1,
                    "ST",
                    np.where(circuits % 10 == 2, "ND", np.where(circuits % 10 == 3, "RD", "TH")),
                ),
            ),
            " JUDICIAL CIRCUIT",
        ),
    )
    court = np.where(
        (circuits >= 11) & (circuits <= 13),
        np.char.replace(np.char.replace(np.char.replace(court, "11ST", "11TH"), "12ND", "12TH"), "13RD", "13TH"),
        court,
    )

    # Offense columns, per template, with a variant drawn from a finite pool (and the reference
    # text it is a variant of, for the hand-keyed mode).
    code = np.empty(rows, dtype=object)
    modifier = np.empty(rows, dtype=object)
    statute = np.empty(rows, dtype=object)
    desc = np.empty(rows, dtype=object)
    level = np.empty(rows, dtype=object)
    klass = np.empty(rows, dtype=object)
    truth_family = np.empty(rows, dtype=object)
    truth_substance = np.empty(rows, dtype=object)
    refs: list[tuple[str, str, str]] = []
    ref_of_row = np.zeros(rows, dtype=np.int64)
    for i, t in enumerate(TEMPLATES):
        first_ref = len(refs)
        refs.extend((d, t.level, t.klass) for d in t.descriptions)
        rows_i = np.flatnonzero(tmpl == i)
        if rows_i.size == 0:
            continue
        k = rng.integers(0, len(t.codes), rows_i.size)
        code[rows_i] = np.array(t.codes, dtype=object)[k]
        modifier[rows_i] = np.array(t.modifiers, dtype=object)[k]
        statute[rows_i] = np.array(t.statutes, dtype=object)[k]
        pool = [v for d in t.descriptions for v in _variants(d, rng, messiness)]
        pick = rng.integers(0, len(pool), rows_i.size)
        desc[rows_i] = np.array(pool, dtype=object)[pick]
        ref_of_row[rows_i] = first_ref + pick // (len(pool) // len(t.descriptions))
        level[rows_i] = t.level
        klass[rows_i] = t.klass
        truth_family[rows_i] = t.family
        truth_substance[rows_i] = t.substance
    if hand_keyed:  # a generator of its own, so every other column keeps the draws of the default
        desc = hand_keyed_descriptions(refs, ref_of_row, np.random.default_rng([seed, 16]), messiness)
    # Older and messier records lose their code or statute.
    drop_code = rng.random(rows) < messiness * 0.3
    code = np.where(drop_code, "", code)
    modifier = np.where(drop_code, "", modifier)
    statute = np.where(rng.random(rows) < messiness * 0.3, "", statute)
    spaced = rng.random(rows) < messiness * 0.1
    code = np.where(spaced & (code != ""), np.char.replace(code.astype(str), "-", " - "), code)
    level = np.where(rng.random(rows) < messiness * 0.2, "", level)
    klass = np.where(level == "", "", klass)
    full_level = rng.random(rows) < 0.3
    level = np.where(full_level & (level == "F"), "FELONY", np.where(full_level & (level == "M"), "MISDEMEANOR", level))

    disp_names = np.array([d for d, _ in DISPOSITIONS], dtype=object)
    disp_w = np.array([w for _, w in DISPOSITIONS])
    disposition = disp_names[rng.choice(len(disp_names), rows, p=disp_w / disp_w.sum())]
    convicted = np.isin(
        disposition,
        [
            "GUILTY PLEA",
            "Guilty Plea",
            "PLEA OF GUILTY",
            "FOUND GUILTY",
            "SES",
            "SIS",
            "Suspended Imposition of Sentence",
            "SIS REVOKED",
        ],
    )
    serving_draw = rng.random(rows)
    supervision = np.where(
        convicted, np.where(serving_draw < 0.06, "ACTIVE", np.where(serving_draw < 0.75, "COMPLETED", "")), ""
    )
    sentence = np.where(convicted, np.where(rng.random(rows) < 0.5, "SES 2 YRS PROB", "FINE $300"), "")

    first = np.array(FIRST)[p_first][person]
    last = np.array(LAST)[p_last][person]
    middle = np.array(list(string.ascii_uppercase))[p_mid][person]
    dob = np.where(p_dob_missing[person], "", p_dob[person].astype(str))
    has_id = rng.random(n_people) < 0.7
    def_id = np.where(has_id[person], np.char.add("P", np.char.zfill(person.astype(str), 7)), "")

    fmt = lambda a: np.datetime_as_string(a.astype("datetime64[D]"), unit="D")  # noqa: E731
    cols = {
        "case_number": case_no,
        "court": court,
        "county": counties,
        "case_type": case_type_arr,
        "filing_date": fmt(filing),
        "defendant_id": def_id,
        "last_name": last,
        "first_name": first,
        "middle_name": middle,
        "dob": dob,
        "sex": p_sex[person],
        "race": p_race[person],
        "address": p_addr[person],
        "charge_seq": seq.astype(str),
        "charge_code": code,
        "ncic_modifier": modifier,
        "statute": statute,
        "charge_description": desc,
        "charge_level": level,
        "charge_class": klass,
        "offense_date": fmt(offense),
        "disposition": disposition,
        "disposition_date": fmt(disp_date),
        "sentence": sentence,
        "supervision_status": supervision,
        "arresting_agency": agency,
    }
    table = pa.table({c: pa.array(np.asarray(cols[c]).astype(str), pa.string()) for c in COLUMNS})
    truth = pa.table(
        {
            "case_number": table["case_number"],
            "charge_seq": table["charge_seq"],
            "expected_family": pa.array(truth_family.astype(str)),
            "expected_substance": pa.array(truth_substance.astype(str)),
        }
    )
    bad = _malformed_lines(malformed, rng)
    return table, truth, bad


def _malformed_lines(n: int, rng: np.random.Generator) -> list[str]:
    """Lines a county system really produces: too few fields, an impossible date, no case
    number, a count that is not a number."""
    person = "P9,DOE,JO,,1980-01-01,M,W,1 MAIN ST"
    charge = ",,,POSS MARIJ,M,A,2015-01-01,GUILTY PLEA,2015-06-01,,,PD"
    court = "22ND JUDICIAL CIRCUIT,ST. LOUIS CITY,CR"
    shapes = [
        f"1622-CR99{{i:03d}},{court},2015-03-02",
        f"1622-CR99{{i:03d}},{court},2015-02-30,{person},1,{charge}",
        f",{court},2015-03-02,{person},1,{charge}",
        f"1622-CR99{{i:03d}},{court},2015-03-02,{person},A,{charge}",
    ]
    return [shapes[i % len(shapes)].format(i=i) for i in range(n)]


def write_sample(
    path: str | Path,
    rows: int,
    seed: int = 0,
    messiness: float = 0.3,
    malformed: int = 0,
    truth_path: str | Path | None = None,
    chunk_rows: int = 1_000_000,
    hand_keyed: bool = False,
) -> Path:
    """Write a synthetic export (CSV, or gzipped CSV when the name ends in ``.gz``).

    Large files are generated in chunks of ``chunk_rows`` with derived seeds, so memory
    stays bounded. ``hand_keyed=True`` gives the descriptions real hand-keyed cardinality (see
    ``generate``); the chunks share their spellings, so distinct descriptions grow sub-linearly.
    """
    import gzip

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as fh:  # type: ignore[operator]
        truth_fh = open(truth_path, "wb") if truth_path else None  # noqa: SIM115
        try:
            done = 0
            part = 0
            while done < rows or part == 0:
                n = min(chunk_rows, rows - done)
                table, truth, bad = generate(
                    n, seed=seed * 1000 + part, messiness=messiness, malformed=malformed if part == 0 else 0,
                    hand_keyed=hand_keyed,
                )
                if part > 0:  # each chunk invents its own cases and people
                    suffix = pa.scalar(f"-{part:03d}")
                    table = table.set_column(
                        0, "case_number", pa.compute.binary_join_element_wise(table["case_number"], suffix, ""))
                    i = table.schema.get_field_index("defendant_id")
                    ids = table["defendant_id"]
                    table = table.set_column(i, "defendant_id", pa.compute.if_else(
                        pa.compute.equal(ids, ""), ids, pa.compute.binary_join_element_wise(ids, suffix, "")))
                    truth = truth.set_column(0, "case_number", table["case_number"])
                buf = pa.BufferOutputStream()
                pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=part == 0, quoting_style="needed"))
                fh.write(buf.getvalue().to_pybytes())
                if bad:
                    fh.write(("\n".join(bad) + "\n").encode())
                if truth_fh:
                    tb = pa.BufferOutputStream()
                    pacsv.write_csv(truth, tb, pacsv.WriteOptions(include_header=part == 0))
                    truth_fh.write(tb.getvalue().to_pybytes())
                done += n
                part += 1
                if n == 0:
                    break
        finally:
            if truth_fh:
                truth_fh.close()
    return path


def read_sample_charges(path: str | Path) -> pd.DataFrame:
    """A written sample export as the charges frame ``decide.charges.decide_charges`` takes (typed
    dates, counts, source file and line), for measurements and tests that skip ingest."""
    import pandas as pd

    charges = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
    for c in ("filing_date", "dob", "offense_date", "disposition_date"):
        charges[c] = pd.to_datetime(charges[c], errors="coerce")
    charges["source_file"], charges["source_line"] = Path(path).name, np.arange(len(charges)) + 2
    charges["charge_seq"] = charges["charge_seq"].astype(int)
    return charges


def next_night(
    export: str | Path,
    out: str | Path,
    changed: float = 0.005,
    new: float = 0.01,
    recent_share: float = 0.9,
    seed: int = 1,
) -> dict[str, int]:
    """The next night's snapshot of ``export``, as a court's nightly export changes: a share
    ``changed`` of its charges get a new disposition, dated the export's latest date (filing or
    disposition) (``recent_share`` of them filed in the
    last year of the export, the rest anywhere in its history) and a share ``new`` of new
    charges arrive (new cases of recent filings, by people already in it). Every other row is
    as it was, in its place; the new rows come last (lines that do not parse are left out).
    Returns what changed, in charges."""
    table = _read_as_text(export)
    missing = [c for c in ("case_number", "filing_date", "disposition", "disposition_date", "sentence",
                           "supervision_status") if c not in table.column_names]
    if missing:
        raise InputFileError(f"{export} is not an export 'expunge sample' wrote: it has no {', '.join(missing)} "
                             "column. Give a file 'expunge sample' (or an earlier 'expunge next-night') wrote.")
    rng = np.random.default_rng(seed)
    n = table.num_rows
    filed = table["filing_date"].to_numpy(zero_copy_only=False).astype(str)
    # The night's date: the latest date the export shows (a filing or a disposition).
    last = max((pc.max(table[c]).as_py() or "" for c in ("filing_date", "disposition_date")), default="") if n else ""
    last_filed = pc.max(table["filing_date"]).as_py() or "" if n else ""
    year_before = f"{int(last_filed[:4]) - 1}{last_filed[4:]}" if last_filed else ""  # recent: filed in the year
    recent = np.flatnonzero(filed >= year_before)
    older = np.flatnonzero(filed < year_before)
    k = round(changed * n)
    k_recent = min(len(recent), round(k * recent_share))
    pick = np.concatenate([rng.choice(recent, k_recent, replace=False),
                           rng.choice(older, min(len(older), k - k_recent), replace=False)]).astype(np.int64)
    # Arrow throughout: a 10 M-charge export as Python strings would take tens of GB.
    donor = np.arange(n)
    donor[pick] = rng.integers(0, n, len(pick))  # another charge's disposition, decided on the last day
    moved = pa.array(donor)
    for name in ("disposition", "sentence", "supervision_status"):
        table = table.set_column(table.schema.get_field_index(name), name, table[name].take(moved))
    on_last_day = np.zeros(n, dtype=bool)
    on_last_day[pick] = True
    i = table.schema.get_field_index("disposition_date")
    table = table.set_column(i, "disposition_date", pc.if_else(pa.array(on_last_day), last, table["disposition_date"]))
    m = round(new * n)
    template = rng.choice(recent if len(recent) else np.arange(n), m) if n else np.zeros(0, dtype=np.int64)
    fresh = table.take(pa.array(template, type=pa.int64()))
    suffix = pa.array([f"-N{seed}-{k:07d}" for k in range(m)], type=pa.string())
    blank = pa.array([""] * m, type=pa.string())
    for name, values in (("case_number", pc.binary_join_element_wise(fresh["case_number"], suffix, "")),
                         ("filing_date", pa.array([last] * m, type=pa.string())),
                         ("disposition", blank), ("disposition_date", blank)):
        fresh = fresh.set_column(fresh.schema.get_field_index(name), name, values)
    merged = pa.concat_tables([table, fresh])
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(merged, path, pacsv.WriteOptions(quoting_style="needed"))
    return {"charges": n + m, "changed": len(pick), "new": m, "changed_recent": k_recent}


def _read_as_text(export: str | Path) -> pa.Table:
    """A CSV export with every column read as text, empty fields as empty text; lines of the
    wrong shape (``malformed=`` lines) are left out."""
    if not Path(export).is_file() or Path(export).stat().st_size == 0:
        raise InputFileError(f"{export} is empty or not a file. Give the CSV export 'expunge sample' wrote.")
    names = pacsv.open_csv(export).schema.names
    return pacsv.read_csv(export, parse_options=pacsv.ParseOptions(invalid_row_handler=lambda _: "skip"),
                          convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in names},
                                                               strings_can_be_null=False))
