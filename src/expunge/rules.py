"""Rule sets: load and validate the versioned YAML rule table.

A rule set is data (``src/expunge/rulesets/mo-a3.v1.yaml``): ordered rules, first match
wins, each with id, condition, determination, reason code and citation, plus the policies
with their defaults and the deadlines. ``load_rules`` collects *every* problem in a file
and raises once, so counsel can fix a file in one pass.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from expunge.errors import RuleFileError
from expunge.offenses import FAMILIES

DETERMINATIONS = ("ELIGIBLE_AUTO", "ELIGIBLE_PETITION", "NOT_ELIGIBLE", "NEEDS_REVIEW")
ELIGIBLE = ("ELIGIBLE_AUTO", "ELIGIBLE_PETITION")

#: Facts a rule may read, with the values a condition may name (None: any value).
FACTS: dict[str, tuple[str, ...] | None] = {
    "case_kind": ("STATE", "MUNICIPAL", "OTHER"),
    "offense_family": FAMILIES,
    "substance": ("MARIJUANA", "THC", "SYNTHETIC_CANNABINOID", "OTHER_DRUG", "UNKNOWN"),
    "marijuana": None,
    "level": ("F", "M", "I", "L"),
    "class": ("A", "B", "C", "D", "E"),
    "amount_g": None,
    "disposition_class": ("CONVICTED", "SIS", "NONCONVICTION", "PENDING", "UNKNOWN"),
    "serving": ("YES", "NO", "UNKNOWN"),
    "offense_after_effective": None,
    "case_has_eligible_mj": None,
}
OPERATORS = ("in", "not_in", "lt", "le", "gt", "ge", "known")
RULE_KEYS = {
    "id",
    "when",
    "determination",
    "reason_code",
    "citation",
    "explanation",
    "missing_fact",
    "question",
    "deadline",
    "policy",
    "policy_outcomes",
}
DEFAULT_RULESET = "mo-a3.v1.yaml"


@dataclass(frozen=True)
class Rule:
    id: str
    when: dict[str, Any]
    determination: str
    reason_code: str
    citation: str
    explanation: str = ""
    missing_fact: str | None = None
    question: str | None = None
    deadline: str | None = None
    policy: str | None = None
    policy_outcomes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleSet:
    name: str
    version: int
    title: str
    effective_date: date
    policies: dict[str, dict[str, Any]]
    deadlines: dict[str, date]
    rules: tuple[Rule, ...]
    sha256: str
    path: str

    def default_policies(self) -> dict[str, str]:
        return {k: str(v["default"]) for k, v in self.policies.items()}

    def resolve_policies(self, overrides: dict[str, str] | None = None) -> dict[str, str]:
        """Defaults with overrides applied; unknown names or values raise ``RuleFileError``."""
        chosen = self.default_policies()
        problems = []
        for key, value in (overrides or {}).items():
            if key not in self.policies:
                problems.append(f"unknown policy {key!r}; known: {', '.join(sorted(self.policies))}")
            elif value not in self.policies[key]["values"]:
                allowed = ", ".join(self.policies[key]["values"])
                problems.append(f"policy {key} cannot be {value!r}; choose one of: {allowed}")
            else:
                chosen[key] = value
        if problems:
            raise RuleFileError("; ".join(problems))
        return chosen


def default_ruleset_path() -> Path:
    return Path(str(resources.files("expunge") / "rulesets" / DEFAULT_RULESET))


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load and validate a rule file (the shipped ``mo-a3`` v1 by default).

    Raises:
        RuleFileError: listing every problem found (unknown fact, duplicate id, missing
            catch-all, bad determination, undefined deadline or policy, ...).
    """
    p = Path(path) if path else default_ruleset_path()
    try:
        raw_bytes = p.read_bytes()
    except OSError as exc:
        raise RuleFileError(f"Cannot read rule file {p}: {exc.strerror}.") from exc
    try:
        doc = yaml.safe_load(raw_bytes)
    except yaml.YAMLError as exc:
        raise RuleFileError(f"Rule file {p} is not valid YAML: {exc}") from exc
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise RuleFileError(f"Rule file {p} must be a mapping with 'ruleset' and 'rules'.")
    for key in ("ruleset", "version", "effective_date", "rules"):
        if key not in doc:
            problems.append(f"missing top-level key {key!r}")
    policies = doc.get("policies") or {}
    for name, spec in policies.items():
        if not isinstance(spec, dict) or "default" not in spec or "values" not in spec:
            problems.append(f"policy {name!r} needs 'default' and 'values'")
        elif spec["default"] not in spec["values"]:
            problems.append(f"policy {name!r}: default {spec['default']!r} is not one of its values")
    deadlines = {k: _as_date(v, f"deadline {k}", problems) for k, v in (doc.get("deadlines") or {}).items()}
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, r in enumerate(doc.get("rules") or []):
        where = f"rule #{i + 1}"
        if not isinstance(r, dict):
            problems.append(f"{where} is not a mapping")
            continue
        rid = str(r.get("id", ""))
        where = f"rule {rid or '#' + str(i + 1)}"
        for key in set(r) - RULE_KEYS:
            problems.append(f"{where}: unknown key {key!r}")
        for key in ("id", "when", "determination", "reason_code", "citation"):
            if key not in r:
                problems.append(f"{where}: missing {key!r}")
        if rid in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(rid)
        if r.get("determination") not in DETERMINATIONS:
            problems.append(
                f"{where}: determination {r.get('determination')!r} is not one of {', '.join(DETERMINATIONS)}"
            )
        _check_condition(r.get("when", {}), where, problems)
        if r.get("deadline") and r["deadline"] not in deadlines:
            problems.append(f"{where}: deadline {r['deadline']!r} is not defined under 'deadlines'")
        if r.get("policy"):
            spec = policies.get(r["policy"])
            if spec is None:
                problems.append(f"{where}: policy {r['policy']!r} is not defined under 'policies'")
            else:
                outcomes = r.get("policy_outcomes") or {}
                for value in spec.get("values", []):
                    if value not in outcomes:
                        problems.append(f"{where}: policy_outcomes lacks a value for {value!r}")
                for value, det in outcomes.items():
                    if det not in (*DETERMINATIONS, "SKIP"):
                        problems.append(f"{where}: policy outcome {value}={det!r} is not a determination or SKIP")
        if r.get("determination") == "NEEDS_REVIEW" and not r.get("missing_fact"):
            problems.append(f"{where}: a NEEDS_REVIEW rule must name its missing_fact")
        if isinstance(r, dict) and not problems_for(where, problems):
            rules.append(
                Rule(
                    id=rid,
                    when=r.get("when") or {},
                    determination=r["determination"],
                    reason_code=r["reason_code"],
                    citation=r["citation"],
                    explanation=r.get("explanation", ""),
                    missing_fact=r.get("missing_fact"),
                    question=r.get("question"),
                    deadline=r.get("deadline"),
                    policy=r.get("policy"),
                    policy_outcomes=r.get("policy_outcomes") or {},
                )
            )
    raw_rules = doc.get("rules") or []
    if raw_rules and isinstance(raw_rules[-1], dict) and raw_rules[-1].get("when"):
        problems.append("the last rule must be a catch-all (when: {}) so every charge gets a decision")
    if not doc.get("rules"):
        problems.append("the rule file has no rules")
    eff = _as_date(doc.get("effective_date"), "effective_date", problems)
    if problems:
        listing = "\n".join(f"  - {x}" for x in problems)
        raise RuleFileError(f"Rule file {p} has {len(problems)} problem(s):\n{listing}")
    return RuleSet(
        name=str(doc["ruleset"]),
        version=int(doc["version"]),
        title=str(doc.get("title", "")),
        effective_date=eff,
        policies=policies,
        deadlines=deadlines,
        rules=tuple(rules),  # type: ignore[arg-type]
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        path=str(p),
    )


def problems_for(where: str, problems: list[str]) -> bool:
    return any(x.startswith(where + ":") for x in problems)


def _as_date(value: Any, what: str, problems: list[str]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{what}: {value!r} is not a date (YYYY-MM-DD)")
        return None


def _check_condition(cond: Any, where: str, problems: list[str]) -> None:
    if not isinstance(cond, dict):
        problems.append(f"{where}: 'when' must be a mapping")
        return
    for fact, matcher in cond.items():
        if fact == "any":
            if not isinstance(matcher, list) or not matcher:
                problems.append(f"{where}: 'any' must be a non-empty list of conditions")
            else:
                for sub in matcher:
                    _check_condition(sub, where, problems)
            continue
        if fact not in FACTS:
            problems.append(f"{where}: unknown fact {fact!r}; known facts: {', '.join(FACTS)}")
            continue
        allowed = FACTS[fact]
        values: list[Any] = []
        if isinstance(matcher, dict):
            for op, v in matcher.items():
                if op not in OPERATORS:
                    problems.append(f"{where}: unknown operator {op!r} on {fact}")
                elif op in ("in", "not_in"):
                    values.extend(v if isinstance(v, list) else [v])
        elif isinstance(matcher, list):
            values = matcher
        else:
            values = [matcher]
        if allowed:
            for v in values:
                if v not in allowed:
                    problems.append(f"{where}: {fact} has no value {v!r}; allowed: {', '.join(allowed)}")
