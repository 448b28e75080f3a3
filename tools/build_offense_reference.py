"""Build ``src/expunge/law/offense_codes.csv`` from the MSHP charge-code facts.

The shipped reference is the project's own table: for every Missouri charge code that can
matter to Amendment 3 (chapters 195 and 579, the weapon-while-possessing subsection of
571.030, drug-related DWI, and the local-ordinance drug codes) it records the facts MSHP
publishes (code, versions, level, class, legacy code, short description) *and our legal
reading* of the code: offense family, which substances the offense definition can cover,
the statute subsection and the amount bound fixed by the definition.

The reading lives in ``src/expunge/law/code_readings.csv``, one line per code or code
family with its reason and citation, so that counsel can review it in one place.
Everything else is copied mechanically from the MSHP row.

Run (needs ../shared/data/mshp, which CI and developers have):

    python tools/build_offense_reference.py ../shared/data/mshp/charge_codes_2021-08-05.csv

Codes the annotations do not list are left out on purpose: the normalizer resolves them
through the statute table (``statutes.csv``) and the description rules instead.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

LAW = Path(__file__).resolve().parents[1] / "src" / "expunge" / "law"


def load_readings(path: Path = LAW / "code_readings.csv") -> dict[tuple[str, str], dict[str, str]]:
    """(section, seq or "*") -> the project's reading of the code (``code_readings.csv``).

    substance_scope: MJ (marijuana only), MJ_SYN ("marijuana/synthetic cannabinoid",
    conflated since 2017: the modifier decides), SYN (synthetic cannabinoid only), EXCEPT35
    ("any controlled substance except 35 grams or less of marijuana": UNKNOWN unless the
    modifier says), ANY (any controlled substance), OTHER (cannot be marijuana), NONE (no
    substance named).
    """
    with path.open(newline="", encoding="utf-8") as fh:
        return {(r["section"], r["seq"]): r for r in csv.DictReader(fh)}


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
    "reading_reason",
    "reading_citation",
]


def build(mshp_csv: Path, out_csv: Path) -> int:
    readings = load_readings()
    rows = []
    with mshp_csv.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            code = r["charge_code"].strip()
            section, _, rest = code.partition("-")
            seq, fingerprint, year, ncic = rest[:3], rest[3:4], rest[4:8], rest[8:10]
            note = readings.get((section, seq)) or readings.get((section, "*"))
            if note is None:
                continue
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
                    "offense_family": note["offense_family"],
                    "substance_scope": note["substance_scope"],
                    "statute": note["statute"],
                    "amount_max_g": note["amount_max_g"],
                    "short_description": r["short_description"].strip(),
                    "long_description": r["long_description"].strip(),
                    "reading_reason": note["reason"],
                    "reading_citation": note["citation"],
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
    out = LAW / "offense_codes.csv"
    print(f"wrote {build(src, out)} codes to {out}")
