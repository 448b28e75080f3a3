"""The rule file: every rule is tested by name, and validation collects every problem."""

from __future__ import annotations

import re

import pytest

from expunge.errors import RuleFileError
from expunge.rules import load_rules
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
    text = (ROOT / "src" / "expunge" / "rulesets" / "mo-a3.v1.yaml").read_text()
    copy = tmp_path / "copy.yaml"
    copy.write_text(text.replace("title: Missouri", "title: Changed Missouri"))
    assert load_rules(copy).sha256 != load_rules().sha256
