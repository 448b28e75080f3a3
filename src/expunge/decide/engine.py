"""Evaluate a rule set over charges: first matching rule wins, vectorized.

Input: the facts frame (``facts.derive_facts`` plus ``case_number``).
Output columns: ``rule_id``, ``determination``, ``reason_code``, ``citation``,
``explanation``, ``missing_fact``, ``question``, ``deadline``, ``overdue``.

The rules are those the run's policies make (``RuleSet.effective_rules``); each condition
becomes one boolean mask, and rows take the first rule whose mask is true. Cross-row facts:
``case_has_violence`` comes from the facts; ``case_mj_path`` (R13a) from a first pass: rows
that read it are paraphernalia charges of unknown substance, which are never themselves
eligible marijuana charges, so a second pass settles it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from expunge.ingest.distinct import row_codes
from expunge.law.rules import ELIGIBLE, Rule, RuleSet, condition_facts


def _matcher_mask(series: pd.Series, matcher: Any) -> np.ndarray:
    if isinstance(matcher, dict):
        mask = np.ones(len(series), dtype=bool)
        for op, v in matcher.items():
            if op == "in":
                mask &= series.isin(v if isinstance(v, list) else [v]).to_numpy(dtype=bool)
            elif op == "not_in":
                mask &= ~series.isin(v if isinstance(v, list) else [v]).to_numpy(dtype=bool)
            elif op == "known":
                mask &= (series.notna() == bool(v)).to_numpy(dtype=bool)
            else:
                num = pd.to_numeric(series, errors="coerce")
                cmp = {"lt": num < v, "le": num <= v, "gt": num > v, "ge": num >= v}[op]
                mask &= cmp.fillna(False).to_numpy(dtype=bool)
        return mask
    if isinstance(matcher, list):
        return series.isin(matcher).to_numpy(dtype=bool)
    if isinstance(matcher, bool):
        return (series.fillna(False).astype(bool) == matcher).to_numpy(dtype=bool)
    return (series == matcher).fillna(False).to_numpy(dtype=bool)


def condition_mask(facts: pd.DataFrame, cond: Mapping[str, Any]) -> np.ndarray:
    """Rows of ``facts`` for which a rule condition holds (all keys; ``any`` = one of)."""
    mask = np.ones(len(facts), dtype=bool)
    for fact, matcher in cond.items():
        if fact == "any":
            alt = np.zeros(len(facts), dtype=bool)
            for sub in matcher:
                alt |= condition_mask(facts, sub)
            mask &= alt
        else:
            mask &= _matcher_mask(facts[fact], matcher)
    return mask


def _first_match(facts: pd.DataFrame, rules: tuple[Rule, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The first matching rule of each row and its determination, found once per distinct
    combination of the facts the rules read (a few thousand in a partition of hundreds of
    thousands of charges)."""
    read = set().union(*(condition_facts(r.when) for r in rules))
    read |= {r.determination_by["fact"] for r in rules if r.determination_by}
    read = sorted(read & set(facts.columns))
    codes = row_codes(facts[read]) if read else np.zeros(len(facts), dtype=np.int64)
    first = np.unique(codes, return_index=True)[1]  # codes number the combinations 0, 1, ...
    rule_idx, determination = _first_match_rows(facts.iloc[first].reset_index(drop=True), rules)
    return rule_idx[codes], determination[codes]


def _first_match_rows(facts: pd.DataFrame, rules: tuple[Rule, ...]) -> tuple[np.ndarray, np.ndarray]:
    n = len(facts)
    rule_idx = np.full(n, -1, dtype=np.int16)
    determination = np.empty(n, dtype=object)
    open_rows = np.ones(n, dtype=bool)
    for i, rule in enumerate(rules):
        hit = open_rows & condition_mask(facts, rule.when)
        rule_idx[hit] = i
        if rule.determination_by:
            by = facts[rule.determination_by["fact"]].map(rule.determination_by["values"]).to_numpy(dtype=object)
            determination[hit] = np.where(pd.isna(by[hit]), rule.determination, by[hit])
        else:
            determination[hit] = rule.determination
        open_rows &= ~hit
        if not open_rows.any():
            break
    return rule_idx, determination


def _case_any(flag: np.ndarray, case_number: pd.Series) -> np.ndarray:
    """Whether *another* charge of the same case has ``flag``."""
    per_case = pd.Series(flag.astype(np.int32), index=case_number.index).groupby(
        case_number.to_numpy()).transform("sum").to_numpy()
    return (per_case - flag) > 0


def read_as(facts: pd.DataFrame, reads: Mapping[str, Mapping[str, str]]) -> pd.DataFrame:
    """Fact values renamed the way an older rule file reads them (``reads`` of the file)."""
    if not reads:
        return facts
    out = facts.copy()
    for fact, mapping in reads.items():
        if fact in out:
            out[fact] = out[fact].replace(dict(mapping))
    return out


def overdue(determination: pd.Series, deadline: pd.Series, already_expunged: pd.Series, as_of: date) -> np.ndarray:
    """Eligible, past its deadline on ``as_of`` and not marked expunged."""
    eligible = determination.isin(ELIGIBLE).to_numpy(dtype=bool)
    past = (deadline < pd.Timestamp(as_of)).fillna(False).to_numpy(dtype=bool)
    return eligible & past & ~already_expunged.fillna(False).to_numpy(dtype=bool)


def evaluate(
    facts: pd.DataFrame,
    ruleset: RuleSet,
    policies: Mapping[str, str],
    as_of: date,
) -> pd.DataFrame:
    """Decide every charge.

    Args:
        facts: one row per charge with the facts listed in ``rules.FACTS`` (except the
            case context, computed here) and ``case_number``; ``already_expunged`` is
            optional.
        ruleset: the loaded rule set.
        policies: the run's policies (``RuleSet.resolve_policies``).
        as_of: the run's as-of date; an eligible charge past its deadline and not marked
            expunged is ``overdue``.

    Returns:
        The decision columns, aligned to ``facts``.
    """
    rules = ruleset.effective_rules(dict(policies))
    work = read_as(facts, ruleset.reads).copy()
    if "violent" not in work:
        work["violent"] = False
    work["case_has_violence"] = _case_any(work["violent"].fillna(False).to_numpy(dtype=bool), work["case_number"])
    work["case_mj_path"] = "NONE"
    work["case_has_eligible_mj"] = False
    rule_idx, determination = _first_match(work, rules)
    uses_context = any(condition_facts(r.when) & {"case_mj_path", "case_has_eligible_mj"} for r in rules)
    if uses_context:
        mj = work["marijuana"].to_numpy(dtype=bool)
        auto = _case_any(mj & (determination == "ELIGIBLE_AUTO"), work["case_number"])
        petition = _case_any(mj & (determination == "ELIGIBLE_PETITION"), work["case_number"])
        work["case_mj_path"] = np.select([auto, petition], ["AUTO", "PETITION"], default="NONE")
        work["case_has_eligible_mj"] = auto | petition
        rule_idx, determination = _first_match(work, rules)

    at = pa.array(np.where(rule_idx < 0, len(rules), rule_idx))  # no rule: the None after the last

    def pick(attr: str) -> pd.Series:  # text per row taken by Arrow (no Python string per row)
        values = pa.array([getattr(r, attr) for r in rules] + [None], type=pa.string()).take(at)
        return pd.Series(values.to_pandas().array, index=facts.index)

    out = pd.DataFrame(index=facts.index)
    out["rule_id"] = pick("id")
    out["determination"] = determination
    out["reason_code"] = pick("reason_code")
    out["citation"] = pick("citation")
    out["explanation"] = pick("explanation")
    out["missing_fact"] = pick("missing_fact")
    out["question"] = pick("question")
    nat = np.datetime64("NaT", "s")
    deadlines = np.array([np.datetime64(pd.Timestamp(ruleset.deadlines[r.deadline]), "s")
                          if r.deadline in ruleset.deadlines else nat for r in rules] + [nat], dtype="datetime64[s]")
    out["deadline"] = deadlines[at.to_numpy()]
    # A deadline is the automatic path's: a row whose rule gave another path has none.
    by_fact = np.array([r.determination_by is not None for r in rules] + [False])[at.to_numpy()]
    out.loc[by_fact & (determination != "ELIGIBLE_AUTO"), "deadline"] = pd.NaT
    expunged = facts["already_expunged"] if "already_expunged" in facts else pd.Series(False, index=facts.index)
    out["overdue"] = overdue(out["determination"], out["deadline"], expunged, as_of)
    out["case_has_eligible_mj"] = work["case_has_eligible_mj"].to_numpy(dtype=bool)
    out["policy_caveats"] = policy_caveats(work, out["determination"], ruleset, policies)
    return out


def comparison_codes(values: pd.Series, cuts: tuple[float, ...]) -> np.ndarray:
    """An integer per value, equal for values that every comparison with ``cuts`` treats
    alike: below, equal to or above each cut (missing: -1)."""
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    edges = np.asarray(cuts, dtype=float)
    below = np.searchsorted(edges, num, side="left")  # cuts under the value
    equal = np.searchsorted(edges, num, side="right") > below
    return np.where(np.isnan(num), -1, 2 * below + equal)


#: Cases of more charges than this are each their own signature in ``case_signatures``.
SIGNATURE_WIDTH = 8


def case_signatures(row_code: np.ndarray, case: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cases alike in what a rule can see, for deciding each kind of case once.

    ``row_code``: an integer per charge, equal for charges whose facts are equal; ``case``:
    an integer per charge, equal within a case. Two cases have the same signature when they
    hold the same multiset of row codes: each charge of one then has a twin in the other,
    with the same facts and the same case context (what *another* charge of its case is).

    Returns ``(rows, expand)``: the charges of one case of each signature (``rows``, indices
    into the input, each case's charges in row-code order), and for every input charge the
    position in ``rows`` of its twin. Deciding ``facts.iloc[rows]`` and taking ``[expand]``
    gives what deciding every charge gives.
    """
    n = len(row_code)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.lexsort((row_code, case))
    cs, codes = case[order], row_code[order]
    new = np.r_[True, cs[1:] != cs[:-1]]
    case_id = np.cumsum(new) - 1
    start = np.flatnonzero(new)
    length = np.diff(np.r_[start, n])
    rank = np.arange(n) - start[case_id]
    wide = length > SIGNATURE_WIDTH  # its own signature: keyed by the case itself
    matrix = np.full((len(start), SIGNATURE_WIDTH + 2), -1, dtype=np.int64)
    fits = ~wide[case_id]
    matrix[case_id[fits], rank[fits]] = codes[fits]
    matrix[:, SIGNATURE_WIDTH] = length
    matrix[wide, SIGNATURE_WIDTH + 1] = np.flatnonzero(wide)
    signature = row_codes(pd.DataFrame(matrix))
    # Signatures are numbered in order of first appearance, so the first case of each comes
    # in signature order and its charges keep their sorted order.
    chosen = np.unique(signature, return_index=True)[1]
    offset = np.zeros(len(chosen), dtype=np.int64)
    offset[1:] = np.cumsum(length[chosen])[:-1]
    is_chosen = np.zeros(len(start), dtype=bool)
    is_chosen[chosen] = True
    rows = order[is_chosen[case_id]]
    expand = np.empty(n, dtype=np.int64)
    expand[order] = offset[signature[case_id]] + rank
    return rows, expand


def policy_caveats(facts: pd.DataFrame, determination: pd.Series, ruleset: RuleSet,
                   policies: Mapping[str, str]) -> pd.Series:
    """The caveats that the chosen policy values put on rows (``;``-joined names)."""
    out = pd.Series("", index=facts.index, dtype=object)
    for caveat in ruleset.policy_caveats(dict(policies)):
        hit = condition_mask(facts, caveat.get("when", {}))
        if caveat.get("determinations"):
            hit &= determination.isin(caveat["determinations"]).to_numpy(dtype=bool)
        out[hit] = np.where(out[hit] == "", caveat["name"], out[hit] + ";" + caveat["name"])
    return out
