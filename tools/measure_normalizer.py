"""Measure the offense normalizer; the figures in docs/normalization.md come from here.

    python tools/measure_normalizer.py [--shared ../shared/data] [--skip-timing]

1. Real labelled strings (../shared/data/real/offense_strings_labeled.csv), description
   text only, no code or statute:
   * MO (MSHP short and long descriptions): "is this a marijuana offense" (truth: the
     substance scope our reference gives the row's charge code: marijuana-only or
     "marijuana/synthetic"), the marijuana / synthetic / other / unspecified category, and
     the statute section, leaving the row's own charge code out of the reference (so a
     description cannot simply find itself);
   * NC, OR, CA, TX: marijuana-relatedness (truth from the statute or the source's note).
   Side by side with the keyword baseline the courts used: "MARIJ" in the text.
2. Scorers for the description -> reference step, compared on the MO leave-one-code-out task.
3. A generated messy export (messiness 0.8) against its own ground truth, with a sweep of
   the token threshold, and the count of charges decided eligible whose true substance
   was not marijuana (the error that matters most).
4. Time and peak memory of the matching stage at 10 M rows with realistic cardinality.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from expunge.decide.charges import decide_charges
from expunge.law.rules import load_rules
from expunge.normalize.catalog import MatchConfig, shipped_reference
from expunge.normalize.descriptions import describe
from expunge.normalize.offenses import Normalizer, _reference_descriptions, normalize_offenses
from expunge.normalize.text import canonicalize
from expunge.sample import read_sample_charges, write_sample

MJ_PRED = {"MARIJUANA", "THC", "CONFLATED"}
CATEGORY_TRUTH = {"MJ": "marijuana", "MJ_SYN": "marijuana_or_synthetic", "SYN": "synthetic", "EXCEPT35": "other",
                  "OTHER": "other", "ANY": "unspecified", "NONE": "unspecified"}
CATEGORY_PRED = {"MARIJUANA": "marijuana", "THC": "marijuana", "CONFLATED": "marijuana_or_synthetic",
                 "SYNTHETIC_CANNABINOID": "synthetic", "OTHER_DRUG": "other", "EXCEPT35": "other"}


def prf(truth: pd.Series, pred: pd.Series) -> dict[str, float]:
    tp = int((truth & pred).sum())
    fp = int((~truth & pred).sum())
    fn = int((truth & ~pred).sum())
    return {"n": len(truth), "positives": int(truth.sum()), "tp": tp, "fp": fp, "fn": fn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else float("nan"),
            "recall": round(tp / (tp + fn), 3) if tp + fn else float("nan")}


def keyword(text: pd.Series) -> pd.Series:
    return text.str.upper().str.contains("MARIJ", regex=False)


def real_strings(shared: Path) -> dict:
    lab = pd.read_csv(shared / "real" / "offense_strings_labeled.csv", dtype=str, keep_default_na=False)
    out: dict = {}
    mo = lab[lab["jurisdiction"] == "MO"].reset_index(drop=True)
    ref = shipped_reference().codes.drop_duplicates("code").set_index("code")
    code = mo["label_charge_code"].str.extract(r"^([^-]+-\d{3})")[0]
    scope = ref["substance_scope"].reindex(code).to_numpy()
    desc = describe(mo["raw_text"])
    truth_mj = pd.Series(np.isin(scope, ["MJ", "MJ_SYN"]))
    out["MO"] = {
        "normalizer": prf(truth_mj, desc["desc_substance"].isin(MJ_PRED)),
        "keyword_MARIJ": prf(truth_mj, keyword(mo["raw_text"])),
        "category_accuracy": round(float((pd.Series(scope).map(CATEGORY_TRUTH).to_numpy()
                                          == desc["desc_substance"].map(CATEGORY_PRED).fillna("unspecified")
                                          .to_numpy()).mean()), 3),
        "except_wording_rows": int(mo["raw_text"].str.contains(r"EXC\w*\s.*35", regex=True).sum()),
        "except_wording_read_as_marijuana": int((mo["raw_text"].str.contains(r"EXC\w*\s.*35", regex=True)
                                                 & desc["desc_substance"].isin(MJ_PRED)).sum()),
    }
    mistakes = mo[truth_mj.to_numpy() != desc["desc_substance"].isin(MJ_PRED).to_numpy()]
    out["MO"]["marijuana_errors"] = mistakes["raw_text"].tolist()
    out["MO"]["statute_leave_code_out"] = statute_leave_one_out(mo, code)
    cat_truth = pd.Series(scope).map(CATEGORY_TRUTH).fillna("unspecified")
    cat_pred = desc["desc_substance"].map(CATEGORY_PRED).fillna("unspecified")
    confusion = pd.crosstab(cat_truth.to_numpy(), cat_pred.to_numpy())
    out["MO"]["category_confusion_truth_to_predicted"] = confusion.to_dict(orient="index")
    out["MSHP_non_drug_read_as_drug"] = non_drug_false_alarms(shared)
    truths = {
        "NC": lambda r: "90-95(D)(4)" in r["label_statute_section"],
        "OR": lambda r: r["label_statute_section"].startswith("4759924F"),
        "CA": lambda r: any(s in r["label_statute_section"] for s in ("11357", "11358", "11359", "11360")),
        "TX": lambda r: "negative example" not in r["notes"],
    }
    for state, is_mj in truths.items():
        rows = lab[(lab["jurisdiction"] == state) & ~((state == "CA") & (lab["label_statute_section"] == ""))]
        truth = rows.apply(is_mj, axis=1).reset_index(drop=True)
        d = describe(rows["raw_text"].reset_index(drop=True))
        out[state] = {"normalizer": prf(truth, d["desc_substance"].isin(MJ_PRED).reset_index(drop=True)),
                      "keyword_MARIJ": prf(truth, keyword(rows["raw_text"]).reset_index(drop=True)),
                      "misses": rows["raw_text"][truth.to_numpy() & ~d["desc_substance"].isin(MJ_PRED).to_numpy()]
                      .tolist()}
    return out


def non_drug_false_alarms(shared: Path) -> dict:
    """Real MSHP descriptions of non-drug offenses (statute outside chapters 195/579, not a
    DWI or weapon code) that the description reader takes for a drug offense, per token
    threshold: the cost of a looser typo match."""
    mshp = pd.read_csv(shared / "mshp" / "charge_codes_2021-08-05.csv", dtype=str, keep_default_na=False)
    chapter = mshp["statute_section"].str.extract(r"^(\d+)\.")[0]
    non_drug = mshp[~chapter.isin(["195", "579"]) & (mshp["ncic_category"] != "35") & chapter.notna()
                    & ~mshp["statute_section"].isin(["571.030", "577.010", "577.012"])]
    texts = pd.concat([non_drug["short_description"], non_drug["long_description"]]).drop_duplicates()
    texts = texts[texts != ""].reset_index(drop=True)
    drugs = {"MJ_POSSESSION", "PARAPHERNALIA", "MJ_DELIVERY", "MJ_MANUFACTURE", "MJ_TRAFFICKING",
             "DRUG_UNSPECIFIED", "OTHER_DRUG", "DELIVERY_TO_MINOR", "PROTECTED_LOCATION"}
    out = {"descriptions": len(texts)}
    for accept in (75, 80, 85, 90, 95):
        d = describe(texts, MatchConfig(token_fuzzy_accept=accept))
        hit = d["desc_family"].isin(drugs) | (d["desc_band"] == "review")
        out[str(accept)] = {"read_as_drug_or_review": int(hit.sum()),
                            "marijuana_named": int(d["desc_substance"].isin(MJ_PRED).sum()),
                            "examples": texts[hit].head(8).tolist()}
    return out


def statute_leave_one_out(mo: pd.DataFrame, code: pd.Series) -> dict:
    """Top-1 statute section from the closest *other* code's description, per scorer."""
    refs = _reference_descriptions(shipped_reference())
    queries = canonicalize(mo["raw_text"])["text"].tolist()
    choices = refs["canonical"].tolist()
    ref_code = refs["code"].to_numpy()
    ref_section = refs["code"].str.split("-").str[0].to_numpy()
    truth = mo["label_statute_section"].to_numpy()
    own = code.to_numpy()[:, None] == ref_code[None, :]
    results = {}
    for name in ("ratio", "token_sort_ratio", "token_set_ratio", "WRatio", "QRatio", "partial_ratio"):
        t0 = time.perf_counter()
        scores = process.cdist(queries, choices, scorer=getattr(fuzz, name), workers=-1, dtype=np.float32)
        secs = time.perf_counter() - t0
        scores[own] = -1
        best = scores.argmax(axis=1)
        top = scores[np.arange(len(best)), best]
        ties = (scores == top[:, None]).sum(axis=1) > 1
        hit = ref_section[best] == truth
        # Achievable: another code of the same section is left in the reference.
        achievable = ((ref_section[None, :] == truth[:, None]) & ~own).any(axis=1)
        results[name] = {"top1_section_accuracy": round(float(hit.mean()), 3),
                         "achievable_rows": int(achievable.sum()),
                         "top1_accuracy_where_achievable": round(float(hit[achievable].mean()), 3),
                         "accuracy_at_score_ge_90": round(float(hit[top >= 90].mean()), 3) if (top >= 90).any()
                         else None,
                         "share_scoring_ge_90": round(float((top >= 90).mean()), 3),
                         "ties_at_top": round(float(ties.mean()), 3), "seconds": round(secs, 3)}
    return results


def messy_export(workdir: Path, rows: int = 200_000) -> dict:
    export = workdir / "messy.csv"
    truth_path = workdir / "messy_truth.csv"
    write_sample(export, rows, seed=7, messiness=0.8, truth_path=truth_path)
    charges = read_sample_charges(export)
    truth = pd.read_csv(truth_path, dtype=str, keep_default_na=False)
    rs = load_rules()
    out: dict = {"rows": rows, "distinct_descriptions": int(charges["charge_description"].nunique())}
    sweep = {}
    for accept in (75, 80, 85, 90, 95):
        cfg = workdir / f"n{accept}.yaml"
        cfg.write_text(f"token_fuzzy_accept: {accept}\n")
        norm = Normalizer.build(config=cfg)
        t0 = time.perf_counter()
        decided = decide_charges(charges, rs, rs.default_policies(), date(2026, 11, 27), norm=norm).charges
        secs = time.perf_counter() - t0
        fam_ok = decided["offense_family"].to_numpy() == truth["expected_family"].to_numpy()
        truth_mj = truth["expected_substance"].isin(["MARIJUANA", "THC"])
        pred_mj = decided["substance"].isin(["MARIJUANA", "THC"])
        eligible = decided["determination"].str.startswith("ELIGIBLE")
        unsafe = eligible & ~truth_mj & (truth["expected_family"] != "PARAPHERNALIA")
        assumed = decided["caveat_bits"].to_numpy() & 2 != 0  # SUBSTANCE_ASSUMED_MARIJUANA (policy)
        sweep[accept] = {"family_accuracy": round(float(fam_ok.mean()), 4),
                         "marijuana": prf(truth_mj, pred_mj), "needs_review_share": round(
                             float((decided["determination"] == "NEEDS_REVIEW").mean()), 4),
                         "eligible_but_not_marijuana": int(unsafe.sum()),
                         "of_which_policy_assumed": int((unsafe & assumed).sum()), "decide_seconds": round(secs, 2)}
    out["token_threshold_sweep"] = sweep
    out["keyword_MARIJ"] = prf(truth["expected_substance"].isin(["MARIJUANA", "THC"]),
                               keyword(charges["charge_description"].fillna("")))
    return out


def matching_at_scale(workdir: Path, rows: int = 10_000_000) -> dict:
    base = workdir / "base.csv"
    write_sample(base, 1_000_000, seed=9, messiness=0.5)
    cols = ["charge_code", "ncic_modifier", "statute", "charge_description", "offense_date"]
    one = pd.read_csv(base, dtype=str, keep_default_na=False, usecols=cols).replace("", None)
    one["offense_date"] = pd.to_datetime(one["offense_date"])
    frame = pd.concat([one] * (rows // len(one)), ignore_index=True)
    norm_cold = Normalizer.build()
    result: dict = {"rows": len(frame), "distinct_descriptions": int(frame["charge_description"].nunique()),
                    "distinct_codes": int(frame["charge_code"].nunique())}
    t0 = time.perf_counter()
    normalize_offenses(frame, norm_cold)
    result["seconds_no_cache"] = round(time.perf_counter() - t0, 1)
    cache = workdir / "cache"
    normalize_offenses(frame.head(1000), Normalizer.build(cache_dir=cache))
    warm = Normalizer.build(cache_dir=cache)
    normalize_offenses(frame, warm)  # fills the cache with every distinct description
    t0 = time.perf_counter()
    normalize_offenses(frame, warm)
    result["seconds_warm_cache"] = round(time.perf_counter() - t0, 1)
    result["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "measurements"
                    / "normalizer.json")
    args = ap.parse_args()
    report = {"thresholds": MatchConfig.load().as_dict()}
    report["real_strings"] = real_strings(args.shared)
    with tempfile.TemporaryDirectory() as tmp:
        report["messy_export"] = messy_export(Path(tmp))
        if not args.skip_timing:
            report["matching_at_10M"] = matching_at_scale(Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
