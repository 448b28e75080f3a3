"""The rule file: every rule is tested by name, and validation collects every problem."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expunge.decide import engine
from expunge.errors import RuleFileError
from expunge.law.rules import FACTS, load_rules
from tests.conftest import ROOT


def test_every_rule_id_has_a_test_named_for_it():
    names = set(re.findall(r"^def (test_\w+)", (ROOT / "tests" / "test_rules_mo_a3.py").read_text(), re.M))
    untested = [r.id for r in load_rules().rules if not any(n.startswith(f"test_{r.id.lower()}_") for n in names)]
    assert untested == []


def test_review_rules_name_a_missing_fact_and_a_question():
    for rule in load_rules().rules:
        if rule.determination == "NEEDS_REVIEW":
            assert rule.missing_fact and rule.question, rule.id


def test_every_rule_carries_a_citation_and_an_explanation():
    assert all(r.citation and r.explanation for r in load_rules().rules)


def test_unknown_policy_override_is_rejected_with_the_known_names():
    with pytest.raises(RuleFileError, match="unknown policy 'colour'"):
        load_rules().resolve_policies({"colour": "red"})


def test_a_rule_file_missing_a_deadline_definition_is_rejected(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text(
        "ruleset: x\nversion: 1\neffective_date: 2022-12-08\nrules:\n"
        "  - {id: A, when: {}, determination: ELIGIBLE_AUTO, reason_code: X, citation: c, deadline: soon}\n"
    )
    with pytest.raises(RuleFileError, match="deadline 'soon' is not defined"):
        load_rules(bad)


def test_rule_file_hash_changes_when_the_file_changes(tmp_path):
    text = (ROOT / "src" / "expunge" / "law" / "mo-a3.v2.yaml").read_text()
    copy = tmp_path / "copy.yaml"
    copy.write_text(text.replace("title: Missouri", "title: Changed Missouri"))
    assert load_rules(copy).sha256 != load_rules().sha256



def _fact_values(name: str, allowed: tuple[str, ...] | None) -> st.SearchStrategy:
    if name == "amount_g":
        return st.one_of(st.none(), st.sampled_from([0.5, 10.0, 35.0, 35.1, 2000.0]))
    if allowed is None:
        return st.booleans()
    return st.one_of(st.none(), st.sampled_from(list(allowed)))


FACT_ROW = st.fixed_dictionaries({n: _fact_values(n, a) for n, a in FACTS.items()})


@st.composite
def fact_rows(draw: st.DrawFn) -> list[dict]:
    """Rows that mostly repeat a few base rows, one or two facts changed: rows that differ in
    a single fact must not share a decision unless the rules say so."""
    bases = draw(st.lists(FACT_ROW, min_size=1, max_size=4))
    rows = []
    for _ in range(draw(st.integers(0, 60))):
        row = dict(draw(st.sampled_from(bases)))
        for name in draw(st.lists(st.sampled_from(list(FACTS)), max_size=2)):
            row[name] = draw(_fact_values(name, FACTS[name]))
        rows.append(row)
    return rows


@settings(max_examples=100, deadline=None)
@given(fact_rows())
def test_rules_decided_once_per_distinct_set_of_facts_match_rules_decided_row_by_row(rows):
    ruleset = load_rules()
    policies = ruleset.resolve_policies({})
    facts = pd.DataFrame(rows, columns=list(FACTS))
    facts["amount_g"] = facts["amount_g"].astype("Float64")
    rules = ruleset.effective_rules(policies)
    by_distinct = engine._first_match(facts, rules)
    by_row = engine._first_match_rows(facts, rules)
    assert by_distinct[0].tolist() == by_row[0].tolist()
    assert by_distinct[1].tolist() == by_row[1].tolist()


def test_every_policy_value_has_a_test_named_for_it():
    names = set(re.findall(r"^def (test_\w+)", (ROOT / "tests" / "test_rules_mo_a3.py").read_text(), re.M))
    missing = [f"{p}_{v}" for p, spec in load_rules().policies.items() for v in spec["values"]
               if not any(f"{p}_{v}" in n for n in names)]
    assert missing == []


def test_a_rule_file_with_an_impossible_date_is_rejected_with_how_to_write_dates(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text("ruleset: x\nversion: 1\neffective_date: 2022-13-40\nrules:\n"
                   "  - {id: A, when: {}, determination: ELIGIBLE_AUTO, reason_code: X, citation: c}\n")
    with pytest.raises(RuleFileError, match="YYYY-MM-DD"):
        load_rules(bad)


def test_v1_rule_file_decides_a_fixed_set_of_facts_as_before_rule_set_v2():
    from datetime import date

    expected = pd.read_csv(ROOT / "tests" / "v1_regression.csv", comment="#", keep_default_na=False)
    facts = expected.drop(columns=["rule_id", "determination", "deadline"]).replace("", None)
    facts["amount_g"] = pd.to_numeric(facts["amount_g"]).astype("Float64")
    facts["offense_after_effective"] = facts["offense_after_effective"].astype(str) == "True"
    facts["marijuana"] = facts["substance"].isin(["MARIJUANA", "THC"])
    facts["case_number"] = [f"C{i}" for i in range(len(facts))]
    rs = load_rules("mo-a3.v1.yaml")
    out = engine.evaluate(facts, rs, rs.resolve_policies({}), date(2026, 11, 27))
    got = pd.DataFrame({"rule_id": out["rule_id"], "determination": out["determination"],
                        "deadline": pd.to_datetime(out["deadline"]).dt.strftime("%Y-%m-%d").fillna("")})
    diff = got.ne(expected[["rule_id", "determination", "deadline"]]).any(axis=1)
    assert int(diff.sum()) == 0, pd.concat([facts[diff], got[diff]], axis=1).head(10).to_string()
