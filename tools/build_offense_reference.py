"""Build ``src/expunge/reference/offense_codes.csv`` from the MSHP charge-code facts.

The shipped reference is the project's own table: for every Missouri charge code that can
matter to Amendment 3 (chapters 195 and 579, the weapon-while-possessing subsection of
571.030, drug-related DWI, and the local-ordinance drug codes) it records the facts MSHP
publishes (code, versions, level, class, legacy code, short description) *and our legal
reading* of the code: offense family, which substances the offense definition can cover,
the statute subsection and the amount bound fixed by the definition.

The reading lives in ``ANNOTATIONS`` below, one line per code family, so that counsel can
review it in one place. Everything else is copied mechanically from the MSHP row.

Run (needs ../shared/data/mshp, which CI and developers have):

    python tools/build_offense_reference.py ../shared/data/mshp/charge_codes_2021-08-05.csv

Codes the annotations do not list are left out on purpose: the normalizer resolves them
through the statute table (``statutes.csv``) and the description rules instead.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

# (section, seq or "*") -> (family, substance_scope, statute with subsection, amount_max_g)
# substance_scope:
#   MJ        the offense definition names marijuana only
#   MJ_SYN    "marijuana/synthetic cannabinoid" (conflated since 2017; the modifier decides)
#   SYN       synthetic cannabinoid only
#   EXCEPT35  "any controlled substance except 35 grams or less of marijuana" (other drugs, or
#             more than 35 g of marijuana): the substance stays UNKNOWN unless the modifier says
#   ANY       any controlled substance, marijuana included
#   OTHER     a definition that cannot be marijuana (named other drugs, precursors, imitation)
#   NONE      the definition names no substance (paraphernalia and the like)
ANNOTATIONS: dict[tuple[str, str], tuple[str, str, str, str]] = {
    # --- chapter 579 (1 Jan 2017 on) ----------------------------------------------------
    ("579.015", "001"): ("MJ_POSSESSION", "EXCEPT35", "579.015.2", ""),
    ("579.015", "002"): ("MJ_POSSESSION", "MJ_SYN", "579.015.3", "35"),
    ("579.015", "003"): ("MJ_POSSESSION", "MJ_SYN", "579.015.4", "10"),
    ("579.015", "004"): ("MJ_POSSESSION", "MJ_SYN", "579.015.4", "10"),
    ("579.020", "001"): ("DELIVERY_TO_MINOR", "ANY", "579.020.5", ""),
    ("579.020", "002"): ("DELIVERY_TO_MINOR", "EXCEPT35", "579.020.5", ""),
    ("579.020", "003"): ("DELIVERY_TO_MINOR", "MJ_SYN", "579.020.4", "35"),
    ("579.020", "004"): ("MJ_DELIVERY", "EXCEPT35", "579.020.2", ""),
    ("579.020", "005"): ("MJ_DELIVERY", "MJ_SYN", "579.020.3", "35"),
    ("579.030", "*"): ("PROTECTED_LOCATION", "EXCEPT35", "579.030", ""),
    ("579.040", "*"): ("PARAPHERNALIA", "NONE", "579.040", ""),
    ("579.045", "*"): ("OTHER_DRUG", "OTHER", "579.045", ""),
    ("579.055", "001"): ("MJ_MANUFACTURE", "ANY", "579.055", ""),
    ("579.055", "002"): ("PROTECTED_LOCATION", "ANY", "579.055", ""),
    ("579.055", "003"): ("MJ_MANUFACTURE", "EXCEPT35", "579.055.2", ""),
    ("579.055", "004"): ("MJ_MANUFACTURE", "MJ_SYN", "579.055.3", "35"),
    ("579.060", "*"): ("OTHER_DRUG", "OTHER", "579.060", ""),
    ("579.065", "001"): ("MJ_TRAFFICKING", "ANY", "579.065", ""),
    ("579.065", "002"): ("MJ_TRAFFICKING", "ANY", "579.065", ""),
    ("579.065", "003"): ("OTHER_DRUG", "OTHER", "579.065", ""),
    ("579.065", "004"): ("OTHER_DRUG", "OTHER", "579.065", ""),
    ("579.068", "001"): ("MJ_TRAFFICKING", "ANY", "579.068", ""),
    ("579.068", "002"): ("MJ_TRAFFICKING", "ANY", "579.068", ""),
    ("579.068", "003"): ("MJ_TRAFFICKING", "ANY", "579.068", ""),
    ("579.068", "004"): ("OTHER_DRUG", "OTHER", "579.068", ""),
    ("579.068", "005"): ("OTHER_DRUG", "OTHER", "579.068", ""),
    ("579.070", "*"): ("NON_DRUG", "NONE", "579.070", ""),
    ("579.072", "*"): ("OTHER_DRUG", "OTHER", "579.072", ""),
    ("579.074", "001"): ("PARAPHERNALIA", "OTHER", "579.074.2", ""),
    ("579.074", "002"): ("PARAPHERNALIA", "NONE", "579.074.2", ""),
    ("579.074", "003"): ("PARAPHERNALIA", "NONE", "579.074.2", ""),
    ("579.076", "*"): ("PARAPHERNALIA", "NONE", "579.076", ""),
    ("579.078", "*"): ("OTHER_DRUG", "OTHER", "579.078", ""),
    ("579.080", "*"): ("OTHER_DRUG", "OTHER", "579.080", ""),
    ("579.082", "*"): ("OTHER_DRUG", "OTHER", "579.082", ""),
    ("579.084", "*"): ("OTHER_DRUG", "OTHER", "579.084", ""),
    ("579.086", "*"): ("OTHER_DRUG", "OTHER", "579.086", ""),
    ("579.090", "*"): ("OTHER_DRUG", "OTHER", "579.090", ""),
    ("579.095", "*"): ("OTHER_DRUG", "OTHER", "579.095", ""),
    ("579.097", "*"): ("OTHER_DRUG", "OTHER", "579.097", ""),
    ("579.099", "*"): ("OTHER_DRUG", "OTHER", "579.099", ""),
    ("579.101", "*"): ("OTHER_DRUG", "OTHER", "579.101", ""),
    ("579.103", "*"): ("OTHER_DRUG", "OTHER", "579.103", ""),
    ("579.105", "*"): ("DRUG_UNSPECIFIED", "ANY", "579.105", ""),
    ("579.110", "*"): ("OTHER_DRUG", "OTHER", "579.110", ""),
    ("579.115", "*"): ("OTHER_DRUG", "OTHER", "579.115", ""),
    ("579.150", "*"): ("OTHER_DRUG", "OTHER", "579.150", ""),
    ("579.155", "*"): ("OTHER_DRUG", "OTHER", "579.155", ""),
    # --- chapter 195 (before 2017) ------------------------------------------------------
    ("195.017", "*"): ("OTHER_DRUG", "OTHER", "195.017", ""),
    ("195.020", "979"): ("OTHER_DRUG", "OTHER", "195.020", ""),
    ("195.020", "980"): ("OTHER_DRUG", "OTHER", "195.020", ""),
    ("195.020", "981"): ("PARAPHERNALIA", "NONE", "195.020", ""),
    ("195.020", "982"): ("PARAPHERNALIA", "NONE", "195.020", ""),
    ("195.020", "983"): ("OTHER_DRUG", "OTHER", "195.020", ""),
    ("195.020", "984"): ("PARAPHERNALIA", "NONE", "195.020", ""),
    ("195.020", "985"): ("PARAPHERNALIA", "NONE", "195.020", ""),
    ("195.020", "986"): ("MJ_MANUFACTURE", "ANY", "195.020", ""),
    ("195.020", "987"): ("MJ_DELIVERY", "ANY", "195.020", ""),
    ("195.020", "988"): ("MJ_DELIVERY", "ANY", "195.020", ""),
    ("195.020", "989"): ("MJ_DELIVERY", "ANY", "195.020", ""),
    ("195.020", "990"): ("DRUG_UNSPECIFIED", "ANY", "195.020", ""),
    ("195.020", "991"): ("DRUG_UNSPECIFIED", "ANY", "195.020", ""),
    ("195.020", "992"): ("MJ_DELIVERY", "ANY", "195.020", ""),
    ("195.020", "993"): ("MJ_DELIVERY", "ANY", "195.020", ""),
    ("195.020", "994"): ("MJ_POSSESSION", "ANY", "195.020", ""),
    ("195.020", "995"): ("MJ_POSSESSION", "ANY", "195.020", ""),
    ("195.020", "996"): ("MJ_POSSESSION", "ANY", "195.020", ""),
    ("195.020", "997"): ("MJ_MANUFACTURE", "ANY", "195.020", ""),
    ("195.020", "998"): ("DRUG_UNSPECIFIED", "ANY", "195.020", ""),
    ("195.020", "999"): ("DRUG_UNSPECIFIED", "ANY", "195.020", ""),
    ("195.025", "*"): ("DRUG_UNSPECIFIED", "ANY", "195.025", ""),
    ("195.030", "998"): ("MJ_MANUFACTURE", "ANY", "195.030", ""),
    ("195.030", "999"): ("DRUG_UNSPECIFIED", "ANY", "195.030", ""),
    ("195.050", "*"): ("OTHER_DRUG", "OTHER", "195.050", ""),
    ("195.060", "997"): ("MJ_DELIVERY", "ANY", "195.060", ""),
    ("195.060", "998"): ("DRUG_UNSPECIFIED", "ANY", "195.060", ""),
    ("195.060", "999"): ("MJ_DELIVERY", "ANY", "195.060", ""),
    ("195.070", "*"): ("OTHER_DRUG", "OTHER", "195.070", ""),
    ("195.100", "*"): ("OTHER_DRUG", "OTHER", "195.100", ""),
    ("195.110", "*"): ("OTHER_DRUG", "OTHER", "195.110", ""),
    ("195.130", "*"): ("DRUG_UNSPECIFIED", "ANY", "195.130", ""),
    ("195.170", "*"): ("OTHER_DRUG", "OTHER", "195.170", ""),
    ("195.202", "001"): ("MJ_POSSESSION", "EXCEPT35", "195.202.2", ""),
    ("195.202", "002"): ("MJ_POSSESSION", "EXCEPT35", "195.202.2", ""),
    ("195.202", "003"): ("MJ_POSSESSION", "MJ", "195.202.3", "35"),
    ("195.202", "004"): ("MJ_POSSESSION", "SYN", "195.202.3", "35"),
    ("195.202", "997"): ("MJ_POSSESSION", "MJ", "195.202.3", "35"),
    ("195.202", "998"): ("MJ_POSSESSION", "EXCEPT35", "195.202.2", ""),
    ("195.202", "999"): ("MJ_POSSESSION", "EXCEPT35", "195.202.2", ""),
    ("195.204", "*"): ("OTHER_DRUG", "OTHER", "195.204", ""),
    ("195.211", "001"): ("PROTECTED_LOCATION", "ANY", "195.211", ""),
    ("195.211", "002"): ("MJ_DELIVERY", "ANY", "195.211", ""),
    ("195.211", "003"): ("MJ_DELIVERY", "MJ", "195.211", "5"),
    ("195.211", "999"): ("MJ_DELIVERY", "ANY", "195.211", ""),
    ("195.212", "*"): ("DELIVERY_TO_MINOR", "ANY", "195.212", ""),
    ("195.213", "*"): ("DELIVERY_TO_MINOR", "ANY", "195.213", ""),
    ("195.214", "*"): ("PROTECTED_LOCATION", "ANY", "195.214", ""),
    ("195.217", "*"): ("PROTECTED_LOCATION", "OTHER", "195.217", ""),
    ("195.218", "*"): ("PROTECTED_LOCATION", "ANY", "195.218", ""),
    ("195.219", "*"): ("NON_DRUG", "NONE", "195.219", ""),
    ("195.222", "001"): ("MJ_TRAFFICKING", "ANY", "195.222", ""),
    ("195.222", "002"): ("MJ_TRAFFICKING", "ANY", "195.222", ""),
    ("195.222", "003"): ("PROTECTED_LOCATION", "ANY", "195.222", ""),
    ("195.222", "004"): ("MJ_TRAFFICKING", "ANY", "195.222", ""),
    ("195.223", "001"): ("MJ_TRAFFICKING", "ANY", "195.223", ""),
    ("195.223", "002"): ("OTHER_DRUG", "OTHER", "195.223", ""),
    ("195.223", "003"): ("MJ_TRAFFICKING", "ANY", "195.223", ""),
    ("195.226", "*"): ("OTHER_DRUG", "OTHER", "195.226", ""),
    ("195.233", "001"): ("PARAPHERNALIA", "NONE", "195.233", ""),
    ("195.233", "002"): ("PARAPHERNALIA", "OTHER", "195.233", ""),
    ("195.233", "999"): ("PARAPHERNALIA", "NONE", "195.233", ""),
    ("195.235", "*"): ("PARAPHERNALIA", "NONE", "195.235", ""),
    # Schedules III-V: marijuana was never in them, so the definition is OTHER unless the
    # NCIC modifier on the record says otherwise (the modifier outranks the definition).
    ("195.240", "992"): ("MJ_DELIVERY", "OTHER", "195.240", ""),
    ("195.240", "993"): ("MJ_DELIVERY", "OTHER", "195.240", ""),
    ("195.240", "994"): ("MJ_DELIVERY", "OTHER", "195.240", ""),
    ("195.240", "995"): ("MJ_DELIVERY", "OTHER", "195.240", ""),
    ("195.240", "996"): ("MJ_DELIVERY", "OTHER", "195.240", ""),
    ("195.240", "997"): ("MJ_DELIVERY", "OTHER", "195.240", ""),
    ("195.240", "998"): ("MJ_POSSESSION", "OTHER", "195.240", ""),
    ("195.240", "999"): ("MJ_POSSESSION", "OTHER", "195.240", ""),
    ("195.241", "*"): ("OTHER_DRUG", "OTHER", "195.241", ""),
    ("195.242", "*"): ("OTHER_DRUG", "OTHER", "195.242", ""),
    ("195.244", "*"): ("PARAPHERNALIA", "NONE", "195.244", ""),
    ("195.246", "*"): ("OTHER_DRUG", "OTHER", "195.246", ""),
    ("195.248", "*"): ("OTHER_DRUG", "OTHER", "195.248", ""),
    ("195.250", "*"): ("OTHER_DRUG", "OTHER", "195.250", ""),
    ("195.252", "*"): ("OTHER_DRUG", "OTHER", "195.252", ""),
    ("195.254", "*"): ("OTHER_DRUG", "OTHER", "195.254", ""),
    ("195.256", "*"): ("OTHER_DRUG", "OTHER", "195.256", ""),
    ("195.400", "*"): ("OTHER_DRUG", "OTHER", "195.400", ""),
    ("195.405", "*"): ("OTHER_DRUG", "OTHER", "195.405", ""),
    ("195.417", "*"): ("OTHER_DRUG", "OTHER", "195.417", ""),
    ("195.418", "*"): ("OTHER_DRUG", "OTHER", "195.418", ""),
    ("195.420", "*"): ("OTHER_DRUG", "OTHER", "195.420", ""),
    ("195.450", "*"): ("OTHER_DRUG", "OTHER", "195.450", ""),
    ("195.515", "*"): ("OTHER_DRUG", "OTHER", "195.515", ""),
    # --- controlled substances at jails / by drone: conduct unclear, drug unnamed ---------
    ("217.360", "*"): ("DRUG_UNSPECIFIED", "ANY", "217.360", ""),
    ("221.111", "*"): ("DRUG_UNSPECIFIED", "ANY", "221.111", ""),
    ("217.850", "003"): ("DRUG_UNSPECIFIED", "ANY", "217.850", ""),
    ("632.460", "003"): ("DRUG_UNSPECIFIED", "ANY", "632.460", ""),
    ("338.315", "*"): ("OTHER_DRUG", "OTHER", "338.315", ""),
    ("338.333", "*"): ("OTHER_DRUG", "OTHER", "338.333", ""),
    ("338.337", "*"): ("OTHER_DRUG", "OTHER", "338.337", ""),
    ("338.340", "*"): ("OTHER_DRUG", "OTHER", "338.340", ""),
    ("338.350", "*"): ("OTHER_DRUG", "OTHER", "338.350", ""),
    ("338.360", "*"): ("OTHER_DRUG", "OTHER", "338.360", ""),
    # stealing material to make methamphetamine; anhydrous ammonia
    ("570.030", "985"): ("OTHER_DRUG", "OTHER", "570.030", ""),
    ("570.030", "986"): ("OTHER_DRUG", "OTHER", "570.030", ""),
    ("570.030", "987"): ("OTHER_DRUG", "OTHER", "570.030", ""),
    ("570.030", "988"): ("OTHER_DRUG", "OTHER", "570.030", ""),
    ("570.030", "989"): ("OTHER_DRUG", "OTHER", "570.030", ""),
    ("577.075", "*"): ("OTHER_DRUG", "OTHER", "577.075", ""),
    ("578.154", "*"): ("OTHER_DRUG", "OTHER", "578.154", ""),
    ("577.800", "002"): ("DRUG_UNSPECIFIED", "ANY", "577.800", ""),
    # --- weapon while possessing: 571.030.1(11) (C.S. v. MSHP, SC100944) ------------------
    ("571.030", "019"): ("WEAPON_WHILE_POSSESSING", "ANY", "571.030.1(11)", ""),
    # --- drug-impaired driving (exclusion) ----------------------------------------------
    ("577.010", "006"): ("DUI", "ANY", "577.010", ""),
    ("577.010", "007"): ("DUI", "ANY", "577.010", ""),
    ("577.010", "008"): ("DUI", "ANY", "577.010", ""),
    ("577.010", "009"): ("DUI", "ANY", "577.010", ""),
    ("577.010", "010"): ("DUI", "ANY", "577.010", ""),
    ("577.010", "011"): ("DUI", "ANY", "577.010", ""),
    ("577.010", "012"): ("DUI", "ANY", "577.010", ""),
    ("577.010", "013"): ("DUI", "ANY", "577.010", ""),
    ("577.010", "014"): ("DUI", "ANY", "577.010", ""),
    ("577.010", "015"): ("DUI", "ANY", "577.010", ""),
    ("577.010", "996"): ("DUI", "ANY", "577.010", ""),
    # --- local ordinance codes (municipal divisions) ------------------------------------
    ("ORD579.0", "001"): ("MJ_POSSESSION", "MJ", "ORDINANCE", ""),
    ("ORD579.0", "002"): ("PARAPHERNALIA", "NONE", "ORDINANCE", ""),
    ("ORD579.0", "009"): ("DRUG_UNSPECIFIED", "ANY", "ORDINANCE", ""),
    ("ORDIN.0", "076"): ("MJ_POSSESSION", "MJ", "ORDINANCE", ""),
    ("ORDIN.0", "077"): ("PARAPHERNALIA", "NONE", "ORDINANCE", ""),
    ("ORDIN.0", "079"): ("DRUG_UNSPECIFIED", "ANY", "ORDINANCE", ""),
    ("ORD577.0", "043"): ("DUI", "ANY", "ORDINANCE", ""),
    ("ORD577.0", "044"): ("DUI", "ANY", "ORDINANCE", ""),
    ("ORD577.0", "045"): ("DUI", "ANY", "ORDINANCE", ""),
    ("ORD577.0", "046"): ("DUI", "ANY", "ORDINANCE", ""),
    ("ORDIN.0", "087"): ("DUI", "ANY", "ORDINANCE", ""),
    ("ORDIN.0", "088"): ("DUI", "ANY", "ORDINANCE", ""),
    ("ORDIN.0", "978"): ("DUI", "ANY", "ORDINANCE", ""),
    ("ORDIN.0", "089"): ("DUI", "ANY", "ORDINANCE", ""),
    ("ORDIN.0", "090"): ("DUI", "ANY", "ORDINANCE", ""),
    ("ORDIN.0", "977"): ("DUI", "ANY", "ORDINANCE", ""),
}

COLUMNS = [
    "code",
    "section",
    "seq",
    "fingerprint",
    "version_year",
    "ncic_category",
    "legacy_code",
    "effective_date",
    "inactive_date",
    "level",
    "class",
    "offense_family",
    "substance_scope",
    "statute",
    "amount_max_g",
    "short_description",
    "long_description",
]


def annotation(section: str, seq: str) -> tuple[str, str, str, str] | None:
    return ANNOTATIONS.get((section, seq)) or ANNOTATIONS.get((section, "*"))


def build(mshp_csv: Path, out_csv: Path) -> int:
    rows = []
    with mshp_csv.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            code = r["charge_code"].strip()
            section, _, rest = code.partition("-")
            seq, fingerprint, year, ncic = rest[:3], rest[3:4], rest[4:8], rest[8:10]
            note = annotation(section, seq)
            if note is None:
                continue
            family, scope, statute, amount = note
            rows.append(
                {
                    "code": f"{section}-{seq}",
                    "section": section,
                    "seq": seq,
                    "fingerprint": fingerprint,
                    "version_year": year,
                    "ncic_category": ncic,
                    "legacy_code": r["legacy_charge_code"].strip(),
                    "effective_date": r["effective_date"],
                    "inactive_date": r["inactive_date"],
                    "level": r["charge_type"].strip(),
                    "class": r["classification"].strip(),
                    "offense_family": family,
                    "substance_scope": scope,
                    "statute": statute,
                    "amount_max_g": amount,
                    "short_description": r["short_description"].strip(),
                    "long_description": r["long_description"].strip(),
                }
            )
    rows.sort(key=lambda x: (x["section"], x["seq"], x["effective_date"]))
    with out_csv.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/mshp/charge_codes_2021-08-05.csv")
    out = Path(__file__).resolve().parents[1] / "src/expunge/reference/offense_codes.csv"
    print(f"wrote {build(src, out)} codes to {out}")
