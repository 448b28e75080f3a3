"""The engine against an independent transcription of ELIGIBILITY.md v2.

``tests/eligibility_transcription.py`` transcribes the rule table by hand;
``tests/truth_table.csv`` (written by ``tests/make_truth_table.py``) lists its answer for
every combination of the facts' equivalence classes that a rule can tell apart. Here:

(a) the engine reproduces every row of the CSV under the default policies;
(b) for every policy and each of its non-default values, switched alone, the engine agrees
    with the transcription on every row;
(c) the CSV is what make_truth_table.py generates.

The case context facts (case_has_violence, case_mj_path) are computed by the engine from
the other charges of a case, so each row under test gets its own case and, where the row
needs it, a companion charge: a violent NON_DRUG charge for case_has_violence, a marijuana
misdemeanor the engine decides ELIGIBLE_AUTO (not serving) or ELIGIBLE_PETITION
(incarcerated) for case_mj_path AUTO or PETITION. Only the row under test is compared; the
companions are checked to have had the intended effect.
"""

from __future__ import annotations

import csv
from datetime import date
from functools import cache

import pandas as pd
import pytest

from expunge.decide.engine import evaluate
from expunge.law.rules import load_rules
from tests.conftest import ROOT
from tests.eligibility_transcription import DEFAULT_POLICIES, POLICY_VALUES, determine
from tests.make_truth_table import BASELINE, FACTS, OUT, render

AS_OF = date(2026, 11, 27)
CONTEXT = ("case_has_violence", "case_mj_path")
BOOL_FACTS = ("marijuana", "offense_after_effective", "violent", "case_has_violence")
SHOWN = 40  # mismatches printed per failure

COMPANION_BASE = {k: v for k, v in {**BASELINE, "marijuana": True}.items() if k not in CONTEXT}
COMPANIONS = {
    "AUTO": ({**COMPANION_BASE}, "ELIGIBLE_AUTO"),
    "PETITION": ({**COMPANION_BASE, "serving": "INCARCERATED"}, "ELIGIBLE_PETITION"),
    "VIOLENT": (
        {**COMPANION_BASE, "offense_family": "NON_DRUG", "substance": "UNKNOWN", "marijuana": False, "violent": True},
        "NOT_ELIGIBLE",
    ),
}

SETTINGS = [("defaults", None, None)] + [
    (f"{name}={value}", name, value)
    for name, values in POLICY_VALUES.items()
    for value in values
    if value != DEFAULT_POLICIES[name]
]


def parse(name: str, text: str) -> object:
    if text == "":
        return None
    if name in BOOL_FACTS:
        return {"True": True, "False": False}[text]
    if name == "amount_g":
        return float(text)
    return text


@cache
def table() -> tuple[tuple[dict, str, str], ...]:
    with OUT.open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    rows = []
    for record in csv.DictReader(lines):
        facts = {name: parse(name, record[name]) for name in FACTS}
        rows.append((facts, record["rule_id"], record["determination"]))
    return tuple(rows)


@cache
def charges() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """The charge frame for the engine: the rows under test, then their companions.

    Returns the frame, a boolean mask of the rows under test (in CSV order), and a frame of
    companions with the case they belong to and the determination they must get.
    """
    records: list[dict] = []
    companions: list[dict] = []
    for i, (facts, _, _) in enumerate(table()):
        case = f"TT-{i:05d}"
        records.append({**{k: v for k, v in facts.items() if k not in CONTEXT}, "case_number": case})
        needed = []
        if facts["case_has_violence"]:
            needed.append("VIOLENT")
        if facts["case_mj_path"] in ("AUTO", "PETITION"):
            needed.append(facts["case_mj_path"])
        for kind in needed:
            companion, expected = COMPANIONS[kind]
            companions.append({"index": len(records), "case_number": case, "kind": kind, "expected": expected})
            records.append({**companion, "case_number": case})
    frame = pd.DataFrame.from_records(records)
    frame["already_expunged"] = False
    under_test = pd.Series(True, index=frame.index)
    companion_frame = pd.DataFrame(companions, columns=["index", "case_number", "kind", "expected"])
    under_test[companion_frame["index"]] = False
    return frame, under_test, companion_frame


def describe(facts: dict) -> str:
    return ", ".join(f"{k}={facts[k]}" for k in FACTS)


@pytest.mark.parametrize(("label", "policy", "value"), SETTINGS, ids=[s[0] for s in SETTINGS])
def test_engine_agrees_with_transcription(label: str, policy: str | None, value: str | None) -> None:
    rs = load_rules()
    overrides = {} if policy is None else {policy: value}
    frame, under_test, companions = charges()
    out = evaluate(frame.copy(), rs, rs.resolve_policies(overrides), AS_OF)

    got = out[under_test.to_numpy()]
    if policy is None:  # (a) the CSV itself, as written
        expected = [(rule_id, determination) for _, rule_id, determination in table()]
    else:  # (b) the transcription under the switched policy
        expected = [determine(facts, overrides) for facts, _, _ in table()]

    # The companions must have made the case context the row asks for.
    wrong_context = [
        f"{c.case_number}: companion {c.kind} got {out['determination'].iloc[c.index]} ({out['rule_id'].iloc[c.index]})"
        f", wanted {c.expected}"
        for c in companions.itertuples()
        if out["determination"].iloc[c.index] != c.expected
    ]

    mismatches = []
    for (facts, _, _), (want_rule, want_det), got_rule, got_det in zip(
        table(), expected, got["rule_id"], got["determination"], strict=True
    ):
        if (got_rule, got_det) != (want_rule, want_det):
            mismatches.append(f"{describe(facts)}: expected {want_rule} {want_det}, engine {got_rule} {got_det}")

    problems = wrong_context + mismatches
    assert not problems, (
        f"[{label}] {len(mismatches)} of {len(expected)} rows disagree, {len(wrong_context)} companions misfired:\n"
        + "\n".join(problems[:SHOWN])
    )


def test_csv_in_sync_with_generator() -> None:
    assert OUT == ROOT / "tests" / "truth_table.csv"
    assert OUT.read_text(encoding="utf-8") == render(), (
        "tests/truth_table.csv is stale: run `python tests/make_truth_table.py`"
    )


def test_csv_determinations_are_the_transcription_under_defaults() -> None:
    for facts, rule_id, determination in table():
        assert determine(facts, {}) == (rule_id, determination), describe(facts)
