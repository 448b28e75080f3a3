"""Roll-ups: charges -> cases, and de-identified summaries with small cells suppressed.

Stage: publish. Input: decided charges. Output: ``cases`` (one row per case) and summary
tables counting charges, cases and people (always labelled which), with lower and upper
bounds where charges still need review.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from expunge.rules import ELIGIBLE

DEFAULT_SUPPRESS_BELOW = 10


def cases(charges: pd.DataFrame) -> pd.DataFrame:
    """One row per case: counts per determination and the case status.

    ``case_status``: ALL_ELIGIBLE (every charge eligible), PARTIAL (some eligible: list only
    those), REVIEW (none eligible, some need review), NONE.
    """
    d = charges["determination"]
    work = pd.DataFrame({
        "case_number": charges["case_number"],
        "n_charges": 1,
        "n_eligible_auto": (d == "ELIGIBLE_AUTO").astype("int32"),
        "n_eligible_petition": (d == "ELIGIBLE_PETITION").astype("int32"),
        "n_not_eligible": (d == "NOT_ELIGIBLE").astype("int32"),
        "n_needs_review": (d == "NEEDS_REVIEW").astype("int32"),
        "n_overdue": charges["overdue"].astype("int32"),
    })
    g = work.groupby("case_number", sort=True)
    out = g.sum()
    first = charges.groupby("case_number", sort=True)[
        ["county", "court", "circuit", "case_kind", "person_key", "run_id"]].first()
    out = first.join(out)
    out["earliest_deadline"] = charges[d.isin(ELIGIBLE)].groupby("case_number")["deadline"].min()
    eligible = out["n_eligible_auto"] + out["n_eligible_petition"]
    out["case_status"] = np.select(
        [eligible == out["n_charges"], eligible > 0, out["n_needs_review"] > 0],
        ["ALL_ELIGIBLE", "PARTIAL", "REVIEW"], default="NONE")
    out["eligible_charge_seqs"] = (
        charges[d.isin(ELIGIBLE)].sort_values("charge_seq").groupby("case_number")["charge_seq"]
        .agg(lambda s: ",".join(map(str, s))))
    for c in ("n_charges", "n_eligible_auto", "n_eligible_petition", "n_not_eligible",
              "n_needs_review", "n_overdue"):
        out[c] = out[c].astype("int32")
    return out.reset_index()


def _count(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    g = frame.groupby(by, dropna=False, sort=True)
    return pd.DataFrame({
        "charges": g.size(),
        "cases": g["case_number"].nunique(),
        "people": g["person_key"].nunique(),
    }).reset_index()


def suppress(table: pd.DataFrame, columns: tuple[str, ...] = ("charges", "cases", "people"),
             below: int = DEFAULT_SUPPRESS_BELOW) -> pd.DataFrame:
    """Blank counts between 1 and ``below - 1`` (small cells can identify people) and say so
    in a ``suppressed`` column naming the blanked counts."""
    out = table.copy()
    flags = pd.Series("", index=out.index, dtype="str")
    for c in columns:
        small = (out[c] > 0) & (out[c] < below)
        flags = flags.where(~small, flags + np.where(flags == "", "", ";") + c)
        out[c] = out[c].astype("Int64").mask(small)
    out["suppressed"] = flags
    return out


def bounds(charges: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Charges, cases and people with an eligible charge per group: the lower bound counts
    review as not eligible, the upper bound counts it as eligible."""
    d = charges["determination"]
    work = charges[[*by, "case_number", "person_key"]].copy()
    work["e"] = d.isin(ELIGIBLE).to_numpy()
    work["u"] = (d.isin(ELIGIBLE) | (d == "NEEDS_REVIEW")).to_numpy()
    g = work.groupby(by, dropna=False, sort=True)
    out = pd.DataFrame({"charges_lower": g["e"].sum(), "charges_upper": g["u"].sum()})
    for unit, key in (("cases", "case_number"), ("people", "person_key")):
        per = work.dropna(subset=[key]).groupby([*by, key], dropna=False)[["e", "u"]].any().reset_index()
        gu = per.groupby(by, dropna=False, sort=True)
        out[f"{unit}_lower"] = gu["e"].sum()
        out[f"{unit}_upper"] = gu["u"].sum()
    return out.fillna(0).astype("int64").reset_index()


def summaries(charges: pd.DataFrame, below: int = DEFAULT_SUPPRESS_BELOW) -> dict[str, pd.DataFrame]:
    """De-identified aggregates for advocacy groups (small cells suppressed).

    ``sizing``: charges, cases and people by county, offense year, family, level and
    determination. ``bounds_by_county`` / ``bounds_by_year``: lower and upper bounds of
    what is eligible. Every count says what it counts (charges, cases or people)."""
    b_cols = ("charges_lower", "charges_upper", "cases_lower", "cases_upper", "people_lower", "people_upper")
    return {
        "by_determination": suppress(_count(charges, ["determination", "reason_code"]), below=below),
        "by_county": suppress(_count(charges, ["county", "determination"]), below=below),
        "sizing": suppress(_count(charges, ["county", "offense_year", "offense_family", "level", "determination"]),
                           below=below),
        "bounds_by_county": suppress(bounds(charges, ["county"]), b_cols, below=below),
        "bounds_by_year": suppress(bounds(charges, ["offense_year"]), b_cols, below=below),
    }


def headline(charges: pd.DataFrame) -> dict[str, object]:
    """Totals with bounds: lower counts review as not eligible, upper counts it as eligible."""
    d = charges["determination"]
    eligible = d.isin(ELIGIBLE)
    review = d == "NEEDS_REVIEW"
    by_case = pd.DataFrame({"e": eligible, "r": review, "k": charges["case_number"]}).groupby("k")
    case_e = by_case["e"].any()
    case_r = by_case["r"].any()
    people = pd.DataFrame({"k": charges["person_key"], "e": eligible, "er": eligible | review})
    people = people.dropna(subset=["k"]).groupby("k")[["e", "er"]].any()
    pe, pr = people["e"], people["er"]
    return {
        "charges": {
            "total": len(charges),
            "by_determination": {k: int(v) for k, v in d.value_counts().sort_index().items()},
            "eligible_lower": int(eligible.sum()),
            "eligible_upper": int((eligible | review).sum()),
            "overdue": int(charges["overdue"].sum()),
        },
        "cases": {
            "total": len(case_e),
            "with_eligible_charge_lower": int(case_e.sum()),
            "with_eligible_charge_upper": int((case_e | case_r).sum()),
        },
        "people": {
            "total": len(people),
            "affected_lower": int(pe.sum()),
            "affected_upper": int(pr.sum()),
            "charges_without_person_key": int(charges["person_key"].isna().sum()),
        },
    }
