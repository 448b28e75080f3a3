"""Decide: normalize every charge and apply the rule set.

Input: ingested charges (canonical fields + ``source_file``/``source_line``).
Output: one row per charge with the contract columns of ``charges/`` (DATA_CONTRACT.md)
plus the personal fields the petition lists need (dropped before ``charges/`` is written).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from expunge.decide.answers import ANSWER_FACTS, CLERK_RULE, fingerprint, match_answers
from expunge.decide.engine import evaluate, overdue
from expunge.decide.facts import BIT, CAVEATS, derive_facts
from expunge.decide.people import link_people
from expunge.decide.reuse import match_prior
from expunge.ingest.distinct import per_distinct
from expunge.ingest.hashing import column_hashes, combine_hashes
from expunge.ingest.identities import PersonIndex
from expunge.ingest.places import circuit, county_name
from expunge.ingest.profiles import input_schema
from expunge.law.rules import RuleSet
from expunge.normalize.offenses import Normalizer, normalize_offenses

#: Per-charge results of the decide stage that depend only on the charge's own fields, a
#: clerk's answer to it and the other charges of its case: what the ledger keeps.
OFFENSE_COLUMNS = ("charge_code_normalized", "ncic_modifier_normalized", "statute_normalized", "reference_code",
                   "match_method", "match_source", "match_candidates", "match_score", "desc_band", "norm_family")
FACT_COLUMNS = ("case_kind", "offense_family", "substance", "level", "class", "amount_g", "disposition_class",
                "disposition_status", "serving", "offense_after_effective", "violent", "already_expunged",
                "caveat_bits")
DECISION_COLUMNS = ("determination", "reason_code", "rule_id", "citation", "explanation", "missing_fact",
                    "question", "deadline")
DERIVED_COLUMNS = OFFENSE_COLUMNS + FACT_COLUMNS + DECISION_COLUMNS


@dataclass(frozen=True)
class DecideCounts:
    """What deciding did, for the manifest: answers applied and gone stale, charges whose
    decision was reused from the ledger or made afresh, and the seconds spent matching."""

    answers_applied: int = 0
    answers_stale: int = 0
    charges_reused: int = 0
    charges_decided: int = 0
    matching_seconds: float = 0.0


@dataclass(frozen=True)
class Decided:
    """Decided charges, and the people conflicts among them. The conflicts hold names and
    dates of birth: they go to the clerk's conflict list only, never into a dataset."""

    charges: pd.DataFrame
    conflicts: pd.DataFrame
    counts: DecideCounts


def decide_charges(
    charges: pd.DataFrame,
    ruleset: RuleSet,
    policies: Mapping[str, str],
    as_of: date,
    run_id: str = "",
    norm: Normalizer | None = None,
    answers: pd.DataFrame | None = None,
    prior: pd.DataFrame | None = None,
    people_index: PersonIndex | None = None,
    hashed: Mapping[str, np.ndarray] | None = None,
) -> Decided:
    """Normalize and decide every charge.

    Args:
        charges: ingested charges (canonical field names).
        ruleset: the loaded rule set; ``policies`` its resolved policies.
        as_of: the run's as-of date (for ``overdue``).
        run_id: recorded in every row.
        norm: reference, thresholds, crosswalk and cache (shipped defaults when None).
        answers: a clerk's answers store (``answers.load_answers``), applied before the rules.
        prior: the ledger's rows (``ledger.load``) from an earlier run under the same rules
            and settings; cases whose every charge is unchanged take their results from it
            instead of being decided again.
        people_index: ``identities.person_index`` of the whole export when ``charges`` is one
            partition of it (None: link within ``charges``).
        hashed: ``hashing.column_hashes`` of some input fields, aligned to ``charges``
            (duplicate detection computed them already); the rest are computed here.

    Returns:
        ``Decided``: the charges (the columns of ``charges/`` plus the personal fields,
        ``caveat_bits``, ``match_candidates``, the ledger's ``row_hash`` and the normalization
        report's ``desc_band``/``norm_family``), the people conflicts among them, and counts.
    """
    norm = norm or Normalizer.build()
    charges = charges.reset_index(drop=True)
    for name in input_schema().fields:
        if name not in charges:
            charges[name] = None
    seq = pd.to_numeric(charges["charge_seq"], errors="coerce")
    charge_seq = seq.fillna(charges.groupby("case_number", sort=False).cumcount() + 1).astype("int32")
    answered = pd.DataFrame(index=charges.index)
    stale = 0
    prints = None
    if answers is not None and len(answers):
        prints = _fingerprints(charges)
        answered, stale = match_answers(charges.assign(charge_seq=charge_seq), answers, prints)
    own = [f for f in input_schema().fields if f not in ("source_file", "source_line", "charge_seq")]
    hashed = dict(hashed or {})
    hashed.update(column_hashes(charges[[f for f in own if f not in hashed]]))
    extra = column_hashes(pd.concat([charge_seq.to_frame(), answered], axis=1))
    hashes = combine_hashes([*(hashed[f] for f in own), *extra.values()], len(charges))
    matched = match_prior(charges["case_number"], charge_seq, hashes, prior)
    reuse = matched.rows
    fresh = ~reuse
    parts = []
    matching = 0.0
    if fresh.any():
        part, matching = _derive(charges[fresh], answered[fresh], ruleset, policies, as_of, norm)
        parts.append(part)
    if reuse.any():
        assert prior is not None
        parts.append(matched.take(prior, DERIVED_COLUMNS, charges.index))
    if parts:
        derived = (pd.concat(parts) if len(parts) > 1 else parts[0]).reindex(charges.index)
    else:  # no charges: the columns and their types all the same
        derived, matching = _derive(charges, answered, ruleset, policies, as_of, norm)
    if prints is None:  # a reused row's fingerprint is the ledger's: the same fields, the same hash
        if reuse.any() and "fingerprint" in prior:
            prints = pd.Series(None, index=charges.index, dtype="str")
            prints[reuse] = matched.take(prior, ["fingerprint"], charges.index)["fingerprint"]
            if fresh.any():
                prints[fresh] = _fingerprints(charges[fresh])
        else:
            prints = _fingerprints(charges)
    # Reused rows come back from Parquet: one set of types whatever their source.
    derived = derived.astype({"deadline": "datetime64[s]", "match_score": "float64", "amount_g": "Float64",
                              "caveat_bits": "uint32", "offense_after_effective": "bool", "violent": "bool",
                              "already_expunged": "bool"})

    out = pd.DataFrame(index=charges.index)
    out["run_id"] = run_id
    out["source_file"] = charges.get("source_file", "")
    out["source_line"] = charges["source_line"] if "source_line" in charges else np.arange(len(charges)) + 2
    out["case_number"] = charges["case_number"]
    out["charge_seq"] = charge_seq
    out["county"] = per_distinct(charges["county"], county_name)
    out["court"] = charges["court"]
    out["circuit"] = per_distinct(pd.DataFrame({"county": out["county"], "court": charges["court"]}),
                                  lambda d: circuit(d["county"], d["court"]))
    out["case_kind"] = derived["case_kind"]
    people, conflicts = link_people(charges, people_index)
    out["person_key"] = people["person_key"]
    out["person_link"] = people["person_link"]
    out["charge_code_raw"] = charges["charge_code"]
    out["ncic_modifier_raw"] = charges["ncic_modifier"]
    out["statute_raw"] = charges["statute"]
    out["description_raw"] = charges["charge_description"]
    out["disposition_raw"] = charges["disposition"]
    for c in ("charge_code_normalized", "ncic_modifier_normalized", "statute_normalized", "reference_code"):
        out[c] = derived[c]
    for c in ("offense_family", "substance", "level", "class", "amount_g", "disposition_class",
              "disposition_status", "serving", "offense_after_effective", "violent", "already_expunged"):
        out[c] = derived[c]
    for c in ("offense_date", "filing_date", "disposition_date"):
        out[c] = pd.to_datetime(charges[c]).astype("datetime64[s]")
    out["offense_year"] = out["offense_date"].dt.year.fillna(out["filing_date"].dt.year).astype("Int16")
    for c in ("match_method", "match_source", "match_candidates", "match_score", "desc_band", "norm_family"):
        out[c] = derived[c]
    for c in ("determination", "reason_code", "rule_id", "citation", "explanation", "missing_fact",
              "deadline"):
        out[c] = derived[c]
    out["overdue"] = overdue(derived["determination"], derived["deadline"], derived["already_expunged"], as_of)
    out["caveat_bits"] = derived["caveat_bits"]
    out["caveats"] = None  # filled from caveat_bits when written
    out["question"] = derived["question"]
    for c in input_schema().personal:
        out[f"personal_{c}"] = charges[c]
    out["arresting_agency"] = charges["arresting_agency"]
    out["fingerprint"] = prints
    out["row_hash"] = hashes
    applied = 0 if answered.empty else int((answered != "").any(axis=1).sum())
    counts = DecideCounts(answers_applied=applied, answers_stale=stale, charges_reused=int(reuse.sum()),
                          charges_decided=int(fresh.sum()), matching_seconds=round(matching, 3))
    return Decided(out, conflicts, counts)


#: What the ledger keeps of a decided charge: key, content hash, fingerprint and the derived results.
LEDGER_COLUMNS = ("case_number", "charge_seq", "row_hash", "fingerprint", *DERIVED_COLUMNS)


def _fingerprints(charges: pd.DataFrame) -> pd.Series:
    return fingerprint(charges["charge_code"], charges["statute"], charges["charge_description"],
                       charges["disposition"])


def _derive(charges: pd.DataFrame, answered: pd.DataFrame, ruleset: RuleSet, policies: Mapping[str, str],
            as_of: date, norm: Normalizer) -> tuple[pd.DataFrame, float]:
    """Normalize, derive facts (with a clerk's answers in place) and apply the rules; returns
    the derived columns and the seconds spent matching offenses."""
    started = time.perf_counter()
    offenses = normalize_offenses(charges, norm)
    matching = time.perf_counter() - started
    facts = derive_facts(charges, offenses, policies, ruleset.effective_date, ruleset.substance_order)
    facts["case_number"] = charges["case_number"]
    if len(answered.columns):
        _apply_fact_answers(facts, answered)
    decisions = evaluate(facts, ruleset, policies, as_of)
    for name in CAVEATS:  # caveats the run's policy values put on the rows they decided
        hit = decisions["policy_caveats"].str.contains(name, regex=False).to_numpy(dtype=bool)
        if hit.any():
            facts["caveat_bits"] = facts["caveat_bits"].to_numpy() | np.where(hit, BIT[name], np.uint32(0))
    if "answer_decision" in answered:
        clerk = (answered["answer_decision"] != "").to_numpy()
        decisions.loc[clerk, "determination"] = answered.loc[clerk, "answer_decision"]
        decisions.loc[clerk, ["rule_id", "reason_code", "citation"]] = CLERK_RULE
        decisions.loc[clerk, "explanation"] = "Decided by a clerk on review."
        decisions.loc[clerk, ["missing_fact", "question"]] = None
        decisions.loc[clerk, "deadline"] = pd.NaT
    d = pd.DataFrame(index=charges.index)
    for c in OFFENSE_COLUMNS[:-1]:
        d[c] = offenses[c]
    d["match_score"] = offenses["match_score"].astype("float64").round(1)
    d["norm_family"] = offenses["offense_family"]
    for c in FACT_COLUMNS:
        d[c] = facts[c]
    for c in DECISION_COLUMNS:
        d[c] = decisions[c]
    return d, matching


def _apply_fact_answers(facts: pd.DataFrame, answered: pd.DataFrame) -> None:
    """Put a clerk's answers in place of the facts the pipeline derived."""
    for col, (fact, _) in ANSWER_FACTS.items():
        if fact == "determination" or col not in answered:
            continue
        given = (answered[col] != "").to_numpy()
        if not given.any():
            continue
        values = answered.loc[given, col]
        if fact == "amount_g":
            facts.loc[given, fact] = pd.to_numeric(values).to_numpy()
        elif fact == "violent":
            facts.loc[given, fact] = (values == "TRUE").to_numpy()
        else:
            facts.loc[given, fact] = values.to_numpy()
    facts["marijuana"] = facts["substance"].isin(["MARIJUANA", "THC"])
