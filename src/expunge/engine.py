"""Evaluate a rule set over charges: first matching rule wins, vectorized.

Stage: decide. Input: the facts frame (``facts.derive_facts`` plus ``case_number``).
Output columns: ``rule_id``, ``determination``, ``reason_code``, ``citation``,
``explanation``, ``missing_fact``, ``question``, ``deadline``, ``overdue``.

Each rule's condition becomes one boolean mask over the whole frame; rows take the first
rule whose mask is true. The only cross-row fact, ``case_has_eligible_mj`` (R13a), comes
from a first pass: rows that read it are paraphernalia charges of unknown substance, which
are never themselves eligible marijuana charges, so a second pass settles it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from expunge.distinct import row_codes
from expunge.rules import ELIGIBLE, Rule, RuleSet

CONTEXT_FACT = "case_has_eligible_mj"


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


def _outcome(rule: Rule, policies: Mapping[str, str]) -> str | None:
    """The determination a rule gives under the run's policies; None when it is skipped."""
    if not rule.policy:
        return rule.determination
    outcome = rule.policy_outcomes.get(policies.get(rule.policy, ""), rule.determination)
    return None if outcome == "SKIP" else outcome


def _fact_names(cond: Mapping[str, Any]) -> set[str]:
    """The facts a rule condition reads (``any`` alternatives included)."""
    names: set[str] = set()
    for fact, matcher in cond.items():
        if fact == "any":
            for sub in matcher:
                names |= _fact_names(sub)
        else:
            names.add(fact)
    return names


def _first_match(facts: pd.DataFrame, ruleset: RuleSet, policies: Mapping[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """The first matching rule of each row, found once per distinct combination of the facts
    the rules read (a few thousand in a partition of hundreds of thousands of charges)."""
    read = sorted(set().union(*(_fact_names(r.when) for r in ruleset.rules)) & set(facts.columns))
    codes = row_codes(facts[read]) if read else np.zeros(len(facts), dtype=np.int64)
    first = np.unique(codes, return_index=True)[1]  # codes number the combinations 0, 1, ...
    rule_idx, determination = _first_match_rows(facts.iloc[first].reset_index(drop=True), ruleset, policies)
    return rule_idx[codes], determination[codes]


def _first_match_rows(facts: pd.DataFrame, ruleset: RuleSet,
                      policies: Mapping[str, str]) -> tuple[np.ndarray, np.ndarray]:
    n = len(facts)
    rule_idx = np.full(n, -1, dtype=np.int16)
    determination = np.empty(n, dtype=object)
    open_rows = np.ones(n, dtype=bool)
    for i, rule in enumerate(ruleset.rules):
        outcome = _outcome(rule, policies)
        if outcome is None:
            continue
        hit = open_rows & condition_mask(facts, rule.when)
        rule_idx[hit] = i
        determination[hit] = outcome
        open_rows &= ~hit
        if not open_rows.any():
            break
    return rule_idx, determination


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
    work = facts.copy()
    uses_context = any(CONTEXT_FACT in str(r.when) for r in ruleset.rules)
    work[CONTEXT_FACT] = False
    rule_idx, determination = _first_match(work, ruleset, policies)
    if uses_context:
        eligible_mj = np.isin(determination, ELIGIBLE) & work["marijuana"].to_numpy(dtype=bool)
        per_case = pd.Series(eligible_mj.astype(np.int32), index=work.index).groupby(
            work["case_number"].to_numpy()).transform("sum")
        work[CONTEXT_FACT] = (per_case.to_numpy() - eligible_mj) > 0
        rule_idx, determination = _first_match(work, ruleset, policies)

    rules = ruleset.rules
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
    expunged = facts["already_expunged"] if "already_expunged" in facts else pd.Series(False, index=facts.index)
    out["overdue"] = overdue(out["determination"], out["deadline"], expunged, as_of)
    out["case_has_eligible_mj"] = work[CONTEXT_FACT].to_numpy(dtype=bool)
    return out
