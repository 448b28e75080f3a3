"""docs/eligibility.md is the shipped rule file in words, rendered by
tools/render_eligibility.py: it must match the file, and name every rule and policy."""

from __future__ import annotations

import sys

from expunge.law.rules import load_rules
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import render_eligibility

DOC = ROOT / "docs" / "eligibility.md"


def test_eligibility_page_is_current():
    # After changing a rule file: python tools/render_eligibility.py
    assert DOC.read_text(encoding="utf-8") == render_eligibility.render()


def test_eligibility_page_names_every_rule_and_policy_of_the_rule_file():
    text = DOC.read_text(encoding="utf-8")
    rs = load_rules(render_eligibility.RULE_FILE)
    assert f"`{rs.name}` v{rs.version}" in text and rs.effective_date.isoformat() in text
    assert "not legal advice" in text
    for rule in rs.rules:
        assert f"| {rule.id} |" in text, rule.id
    for name, spec in rs.policies.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"`{spec['default']}`" in row and ("disputed" in row) == bool(spec.get("disputed")), name
    for deadline in rs.deadlines:
        assert f"| `{deadline}` |" in text
    assert "src/expunge/law/readings.yaml" in text and "src/expunge/law/code_readings.csv" in text


def test_conditions_read_as_plain_words():
    when = render_eligibility.when_text
    assert when({"case_kind": "OTHER"}) == "case_kind = OTHER"
    assert when({"amount_g": {"le": 1360.78}}) == "amount_g ≤ 1360.78"
    assert when({"amount_g": {"known": False}}) == "amount_g unknown"
    assert when({"marijuana": True, "level": ["M", "I"]}) == "marijuana and level is one of M, I"
    assert (when({"any": [{"class": ["A", "B"]}, {"amount_g": {"gt": 1360.78}}]})
            == "any of: (class is one of A, B) or (amount_g > 1360.78)")
    assert when({}) == "anything (catch-all)"


def test_what_changed_is_compared_from_the_two_rule_files():
    old, new = load_rules(render_eligibility.PREVIOUS), load_rules(render_eligibility.RULE_FILE)
    lines = "\n".join(render_eligibility.changes(old, new))
    added = [r.id for r in new.rules if r.id not in {o.id for o in old.rules}]
    assert f"Rules added: {', '.join(added) or 'none'}." in lines
    for name in set(new.policies) - set(old.policies):
        assert f"`{name}`" in lines.split("Policies added:")[1].splitlines()[0]
    for name in set(old.deadlines) - set(new.deadlines):
        assert f"`{name}`" in lines.split("Deadlines removed:")[1].splitlines()[0]
