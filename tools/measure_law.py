"""Measure how the law's reading lands on real codes and strings; the "Evidence, not
absence" figures in docs/normalization.md come from here.

    python tools/measure_law.py [--shared ../shared/data] [--rules mo-a3.v2.yaml]

1. The whole MSHP Charge Code table (../shared/data/mshp): every code as a single-charge
   case, without a modifier and with each drug modifier MSHP allows it, with its short or
   long description and with the description alone (``expunge.decide.probe``); decided with the
   shipped reference and with the table loaded as ``--charge-codes``. Reported: charges per
   determination, marijuana-modifier charges closed NOT_ELIGIBLE (and by which rule), and
   the share of non-drug codes (NCIC category other than 35) sent to review.
2. The 631 labelled offense strings of ../shared/data/real (five states), description
   only: charges per determination per state, and marijuana-labelled strings closed.
3. 2,000 generated placeholder and damaged descriptions (words no table knows, cut at any
   length; a word that starts a known offense word, e.g. "STEALX", is not unknown) without
   code or statute: how many end NOT_ELIGIBLE (target: none).
Writes docs/measurements/law.json.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import date
from pathlib import Path

import pandas as pd

from expunge.decide.charges import decide_charges
from expunge.decide.probe import MARIJUANA_MODIFIERS, decide_code_table
from expunge.ingest.profiles import input_schema
from expunge.law.rules import load_rules
from expunge.normalize.descriptions import names_non_drug_offense
from expunge.normalize.text import canonicalize

ROOT = Path(__file__).resolve().parents[1]
SELF_NAMING = ("R02", "R03", "R04", "R16")


def _charges(descriptions: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({"charge_description": descriptions})
    for name in input_schema().fields:
        if name not in frame:
            frame[name] = None
    frame["case_number"] = [f"0000-CR{i:07d}" for i in range(len(frame))]
    frame["disposition"] = "GUILTY PLEA"
    frame["supervision_status"] = "COMPLETED"
    frame["case_type"] = "CR"
    frame["offense_date"] = pd.Timestamp("2019-01-15")
    frame["source_file"] = "measure"
    frame["source_line"] = range(2, len(frame) + 2)
    return frame


def _decide_texts(descriptions: list[str], rules: str | None) -> pd.DataFrame:
    rs = load_rules(rules)
    return decide_charges(_charges(descriptions), rs, rs.resolve_policies(), date(2026, 11, 27)).charges


def code_table(shared: Path, load_codes: bool, rules: str | None) -> dict[str, object]:
    mshp = shared / "mshp"
    started = time.perf_counter()
    t = decide_code_table(mshp / "charge_codes_2021-08-05.csv", mshp / "charge_ncic_modifiers_2021-08-05.csv",
                          load_codes=load_codes, rules=rules)
    codes = pd.read_csv(mshp / "charge_codes_2021-08-05.csv", dtype=str, keep_default_na=False)
    non_drug = set(codes.loc[codes["ncic_category"] != "35", "charge_code"].str.strip().str.upper())
    mj = t["probe_modifier"].isin(MARIJUANA_MODIFIERS)
    closed = mj & (t["determination"] == "NOT_ELIGIBLE")
    nd = t["probe_code"].isin(non_drug) & t["probe_modifier"].isna()
    by_code = nd & t["probe_wording"].str.startswith("code")
    by_text = nd & ~t["probe_wording"].str.startswith("code")
    return {
        "reference": "MSHP table loaded (--charge-codes)" if load_codes else "shipped reference",
        "charges": len(t),
        "seconds": round(time.perf_counter() - started, 1),
        "by_wording": {w: g["determination"].value_counts().to_dict() for w, g in t.groupby("probe_wording")},
        "marijuana_modifier_charges": int(mj.sum()),
        "marijuana_modifier_by_determination": t.loc[mj, "determination"].value_counts().to_dict(),
        "marijuana_modifier_not_eligible_by_rule": t.loc[closed, "rule_id"].value_counts().to_dict(),
        "marijuana_modifier_not_eligible_outside_self_naming_exclusions": int(
            (closed & ~t["rule_id"].isin(SELF_NAMING)).sum()),
        "non_drug_code_rows": int(by_code.sum()),
        "non_drug_code_rows_in_review": int((by_code & (t["determination"] == "NEEDS_REVIEW")).sum()),
        "non_drug_description_only_rows": int(by_text.sum()),
        "non_drug_description_only_in_review": int((by_text & (t["determination"] == "NEEDS_REVIEW")).sum()),
    }


def labelled(shared: Path, rules: str | None) -> dict[str, object]:
    s = pd.read_csv(shared / "real" / "offense_strings_labeled.csv", dtype=str, keep_default_na=False)
    out = _decide_texts(s["raw_text"].tolist(), rules)
    s = s.assign(determination=out["determination"].to_numpy(), rule_id=out["rule_id"].to_numpy())
    mj = s["raw_text"].str.upper().str.contains(r"MARIJ|MARIH|CANNAB|\bTHC\b|\bMJ\b", regex=True)
    return {
        "strings": len(s),
        "by_state": {j: g["determination"].value_counts().to_dict() for j, g in s.groupby("jurisdiction")},
        "naming_marijuana": int(mj.sum()),
        "naming_marijuana_not_eligible_by_rule": s.loc[mj & (s["determination"] == "NOT_ELIGIBLE"),
                                                       "rule_id"].value_counts().to_dict(),
    }


def placeholders(n: int = 2000, seed: int = 2026, rules: str | None = None) -> dict[str, object]:
    rng = random.Random(seed)
    letters = "BCDFGHJKLMNPQRSTVWXZAEIOUY"
    words: list[str] = []
    while len(words) < 3 * n:
        w = "".join(rng.choice(letters) for _ in range(rng.randint(2, 11)))
        words.append(w)
    known = canonicalize(pd.Series(words))["text"].to_numpy()
    offense = names_non_drug_offense(pd.Series(words)).to_numpy()
    unknown = [w for w, k, o in zip(words, known, offense, strict=True) if w == k and not o]
    texts = []
    for _ in range(n):
        text = " ".join(rng.choice(unknown) for _ in range(rng.randint(1, 5)))
        text = text[: rng.randint(1, len(text))] + rng.choice(["", "", " **", " -", "#", " ?"])
        texts.append(text)
    out = _decide_texts(texts, rules)
    return {"descriptions": n, "by_determination": out["determination"].value_counts().to_dict(),
            "not_eligible": int((out["determination"] == "NOT_ELIGIBLE").sum())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--rules", default=None)
    args = ap.parse_args()
    result = {
        "measured": date.today().isoformat(),
        "rules": load_rules(args.rules).name + " v" + str(load_rules(args.rules).version),
        "code_table": [code_table(args.shared, False, args.rules), code_table(args.shared, True, args.rules)],
        "labelled_strings": labelled(args.shared, args.rules),
        "placeholders": placeholders(rules=args.rules),
    }
    path = ROOT / "docs" / "measurements" / "law.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
