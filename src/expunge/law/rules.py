"""Rule sets: load and validate the versioned YAML rule table.

A rule set is data (``src/expunge/law/mo-a3.v2.yaml``, the default; ``mo-a3.v1.yaml`` for
comparison): ordered rules, first match wins, each with id, condition, determination,
reason code and citation, plus the policies with their defaults, the deadlines, the
substance order of trust and (for older files) how to read newer fact values.
``load_rules`` collects *every* problem in a file and raises once, so counsel can fix a
file in one pass. ``RuleSet.effective_rules`` gives the rules as a run's policies make
them: that is what the engine evaluates.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from expunge.errors import RuleFileError
from expunge.law.values import (
    CASE_KINDS,
    CASE_MJ_PATHS,
    CLASSES,
    DETERMINATIONS,
    DISPOSITION_CLASSES,
    ELIGIBLE,
    FAMILIES,
    LEVELS,
    SERVING,
    SUBSTANCES,
)

__all__ = ["DETERMINATIONS", "ELIGIBLE", "FACTS", "Rule", "RuleSet", "default_ruleset_path", "load_rules"]

#: Facts a rule may read, with the values a condition may name (None: any value).
FACTS: dict[str, tuple[str, ...] | None] = {
    "case_kind": CASE_KINDS,
    "offense_family": FAMILIES,
    "substance": SUBSTANCES,
    "marijuana": None,
    "level": LEVELS,
    "class": CLASSES,
    "amount_g": None,
    "disposition_class": DISPOSITION_CLASSES,
    # "YES" is v1's single serving value; v1's file maps the v2 values onto it (``reads``).
    "serving": (*SERVING, "YES"),
    "offense_after_effective": None,
    "violent": None,
    "case_has_violence": None,
    "case_mj_path": CASE_MJ_PATHS,
    "case_has_eligible_mj": None,
}
#: Facts computed from the other charges of the case (by the engine, not the normalizer).
CONTEXT_FACTS = ("case_mj_path", "case_has_eligible_mj", "case_has_violence")
OPERATORS = ("in", "not_in", "lt", "le", "gt", "ge", "known")
RULE_KEYS = {"id", "when", "determination", "reason_code", "citation", "explanation", "missing_fact", "question",
             "deadline", "policy", "policy_outcomes", "determination_by"}
#: Fields a policy outcome may replace.
OUTCOME_KEYS = {"determination", "reason_code", "citation", "explanation", "missing_fact", "question", "deadline",
                "when"}
POLICY_KEYS = {"default", "values", "explanation", "disputed", "caveat"}
#: Steps of the substance order of trust (``facts.substance`` evaluates them).
SUBSTANCE_STEPS = ("crosswalk", "modifier", "record_description_conflict", "code_description_conflict", "code",
                   "description", "except_wording", "conflated_wording")
DEFAULT_SUBSTANCE_ORDER = ("crosswalk", "modifier", "code_description_conflict", "code", "description",
                           "except_wording", "conflated_wording")
DEFAULT_RULESET = "mo-a3.v2.yaml"
TOP_KEYS = {"ruleset", "version", "title", "source", "effective_date", "policies", "deadlines", "rules", "reads",
            "substance_order"}


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
    policy_outcomes: dict[str, Any] = field(default_factory=dict)
    determination_by: dict[str, Any] | None = None

    def under(self, policies: dict[str, str] | Any) -> Rule | None:
        """This rule as the run's policies make it; None where the policy skips it."""
        if not self.policy:
            return self
        outcome = self.policy_outcomes.get(policies.get(self.policy, ""), self.determination)
        if outcome == "SKIP":
            return None
        if isinstance(outcome, str):
            return replace(self, determination=outcome)
        return replace(self, **outcome)


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
    reads: dict[str, dict[str, str]] = field(default_factory=dict)
    substance_order: tuple[str, ...] = DEFAULT_SUBSTANCE_ORDER

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

    def effective_rules(self, policies: dict[str, str]) -> tuple[Rule, ...]:
        """The rules in order as ``policies`` make them (skipped rules left out)."""
        return tuple(r for r in (rule.under(policies) for rule in self.rules) if r is not None)

    def policy_caveats(self, policies: dict[str, str]) -> list[dict[str, Any]]:
        """Caveats that the chosen policy values put on the rows they touch."""
        out = []
        for name, spec in self.policies.items():
            caveat = spec.get("caveat")
            if caveat and policies.get(name) == caveat["value"]:
                out.append(caveat)
        return out


class _DatesAsText(yaml.SafeLoader):
    """YAML's safe loader with dates left as text, so that an impossible date ("2023-06-31")
    is one listed problem among the others instead of an error that hides them."""


_DatesAsText.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def default_ruleset_path(name: str = DEFAULT_RULESET) -> Path:
    return Path(str(resources.files("expunge.law") / name))


def _resolve_path(path: str | Path | None) -> Path:
    """A rule file by path, or by the name of a shipped one (``mo-a3.v1.yaml``)."""
    if not path:
        return default_ruleset_path()
    p = Path(path)
    if not p.exists() and p.name == str(path) and default_ruleset_path(p.name).exists():
        return default_ruleset_path(p.name)
    return p


def load_rules(path: str | Path | None = None) -> RuleSet:
    """Load and validate a rule file (the shipped ``mo-a3`` v2 by default; a bare name such
    as ``mo-a3.v1.yaml`` picks a shipped file).

    Raises:
        RuleFileError: listing every problem found (unknown fact, duplicate id, missing
            catch-all, bad determination, undefined deadline or policy, ...).
    """
    p = _resolve_path(path)
    try:
        raw_bytes = p.read_bytes()
    except OSError as exc:
        raise RuleFileError(f"Cannot read rule file {p}: {exc.strerror}. Give the path of a rule file, or the "
                            "name of a shipped one (mo-a3.v2.yaml, mo-a3.v1.yaml).") from exc
    try:
        doc = yaml.load(raw_bytes, Loader=_DatesAsText)
    except yaml.YAMLError as exc:
        raise RuleFileError(f"Rule file {p} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise RuleFileError(f"Rule file {p} must be a mapping with 'ruleset' and 'rules'.")
    problems = rule_file_problems(doc)
    if problems:
        listing = "\n".join(f"  - {x}" for x in problems)
        raise RuleFileError(f"Rule file {p} has {len(problems)} problem(s):\n{listing}")
    rules = tuple(Rule(id=str(r["id"]), when=r.get("when") or {}, determination=r["determination"],
                       reason_code=r["reason_code"], citation=r["citation"], explanation=r.get("explanation", ""),
                       missing_fact=r.get("missing_fact"), question=r.get("question"), deadline=r.get("deadline"),
                       policy=r.get("policy"), policy_outcomes=r.get("policy_outcomes") or {},
                       determination_by=r.get("determination_by"))
                  for r in doc["rules"])
    return RuleSet(
        name=str(doc["ruleset"]), version=int(doc["version"]), title=str(doc.get("title", "")),
        effective_date=_as_date(doc["effective_date"], "", []) or date.min, policies=doc.get("policies") or {},
        deadlines={k: _as_date(v, "", []) or date.min for k, v in (doc.get("deadlines") or {}).items()},
        rules=rules, sha256=hashlib.sha256(raw_bytes).hexdigest(), path=str(p),
        reads=doc.get("reads") or {}, substance_order=tuple(doc.get("substance_order") or DEFAULT_SUBSTANCE_ORDER),
    )


def rule_file_problems(doc: dict[str, Any]) -> list[str]:
    """Every problem of a parsed rule file, in file order (empty: the file is usable)."""
    problems: list[str] = []
    for key in ("ruleset", "version", "effective_date", "rules"):
        if key not in doc:
            problems.append(f"missing top-level key {key!r}")
    for key in sorted(set(doc) - TOP_KEYS):
        problems.append(f"unknown top-level key {key!r}; known: {', '.join(sorted(TOP_KEYS))}")
    policies = doc.get("policies") or {}
    for name, spec in policies.items():
        if not isinstance(spec, dict) or "default" not in spec or "values" not in spec:
            problems.append(f"policy {name!r} needs 'default' and 'values'")
            continue
        if spec["default"] not in spec["values"]:
            problems.append(f"policy {name!r}: default {spec['default']!r} is not one of its values")
        for key in sorted(set(spec) - POLICY_KEYS):
            problems.append(f"policy {name!r}: unknown key {key!r}")
        caveat = spec.get("caveat")
        if caveat is not None:
            if not isinstance(caveat, dict) or caveat.get("value") not in spec["values"] or not caveat.get("name"):
                problems.append(f"policy {name!r}: caveat needs a name and a value of the policy")
            else:
                _check_condition(caveat.get("when", {}), f"policy {name!r} caveat", problems)
    deadlines = {}
    for k, v in (doc.get("deadlines") or {}).items():
        deadlines[k] = _as_date(v, f"deadline {k}", problems)
    _check_reads(doc.get("reads") or {}, problems)
    order = doc.get("substance_order")
    if order is not None:
        if not isinstance(order, list) or not order:
            problems.append("substance_order must be a list of steps")
        else:
            for step in order:
                if step not in SUBSTANCE_STEPS:
                    problems.append(f"substance_order: unknown step {step!r}; known: {', '.join(SUBSTANCE_STEPS)}")
    seen: set[str] = set()
    raw_rules = doc.get("rules") or []
    if not isinstance(raw_rules, list):
        return [*problems, "'rules' must be a list of rules"]
    for i, r in enumerate(raw_rules):
        if not isinstance(r, dict):
            problems.append(f"rule #{i + 1} is not a mapping")
            continue
        rid = str(r.get("id", ""))
        where = f"rule {rid or '#' + str(i + 1)}"
        for key in sorted(set(r) - RULE_KEYS):
            problems.append(f"{where}: unknown key {key!r}")
        for key in ("id", "when", "determination", "reason_code", "citation"):
            if key not in r:
                problems.append(f"{where}: missing {key!r}")
        if rid in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(rid)
        _check_fields(r, where, deadlines, problems)
        _check_condition(r.get("when", {}), where, problems)
        by = r.get("determination_by")
        if by is not None:
            if not isinstance(by, dict) or by.get("fact") not in FACTS or not isinstance(by.get("values"), dict):
                problems.append(f"{where}: determination_by needs a fact and a mapping of its values")
            else:
                for value, det in by["values"].items():
                    if det not in DETERMINATIONS:
                        problems.append(f"{where}: determination_by {value}={det!r} is not a determination")
        if r.get("policy"):
            _check_outcomes(r, where, policies.get(r["policy"]), deadlines, problems)
    if raw_rules and isinstance(raw_rules[-1], dict) and raw_rules[-1].get("when"):
        problems.append("the last rule must be a catch-all (when: {}) so every charge gets a decision")
    if not raw_rules:
        problems.append("the rule file has no rules")
    if "effective_date" in doc:
        _as_date(doc.get("effective_date"), "effective_date", problems)
    return problems


def _check_fields(r: dict[str, Any], where: str, deadlines: dict[str, Any], problems: list[str]) -> None:
    """Determination, deadline and missing fact of a rule or of one of its policy outcomes."""
    if "determination" in r and r["determination"] not in DETERMINATIONS:
        problems.append(f"{where}: determination {r['determination']!r} is not one of {', '.join(DETERMINATIONS)}")
    if r.get("deadline") and r["deadline"] not in deadlines:
        problems.append(f"{where}: deadline {r['deadline']!r} is not defined under 'deadlines'")
    if r.get("determination") == "NEEDS_REVIEW" and not r.get("missing_fact"):
        problems.append(f"{where}: a NEEDS_REVIEW rule must name its missing_fact")
    if r.get("determination") == "NEEDS_REVIEW" and not r.get("question"):
        problems.append(f"{where}: a NEEDS_REVIEW rule must ask the question that settles it ('question')")


def _check_outcomes(r: dict[str, Any], where: str, spec: dict[str, Any] | None, deadlines: dict[str, Any],
                    problems: list[str]) -> None:
    if spec is None or not isinstance(spec, dict):
        problems.append(f"{where}: policy {r['policy']!r} is not defined under 'policies'")
        return
    outcomes = r.get("policy_outcomes") or {}
    for value in spec.get("values", []):
        if value not in outcomes:
            problems.append(f"{where}: policy_outcomes lacks a value for {value!r}")
    for value, outcome in outcomes.items():
        if value not in spec.get("values", []):
            problems.append(f"{where}: policy_outcomes names {value!r}, which policy {r['policy']} cannot be")
        if isinstance(outcome, str):
            if outcome not in (*DETERMINATIONS, "SKIP"):
                problems.append(f"{where}: policy outcome {value}={outcome!r} is not a determination or SKIP")
            elif outcome == "NEEDS_REVIEW" and not r.get("missing_fact"):
                problems.append(f"{where}: policy outcome {value} reviews, so the rule must name its missing_fact")
            continue
        if not isinstance(outcome, dict):
            problems.append(f"{where}: policy outcome {value} must be a determination, SKIP or a mapping")
            continue
        for key in sorted(set(outcome) - OUTCOME_KEYS):
            problems.append(f"{where}: policy outcome {value}: unknown key {key!r}")
        merged = {**r, **outcome}
        _check_fields({k: merged.get(k) for k in ("determination", "deadline", "missing_fact", "question")},
                      f"{where}, policy outcome {value}", deadlines, problems)
        if "when" in outcome:
            _check_condition(outcome["when"], f"{where}, policy outcome {value}", problems)


def _check_reads(reads: Any, problems: list[str]) -> None:
    if not isinstance(reads, dict):
        problems.append("reads must map a fact to {new value: value this file knows}")
        return
    for fact, mapping in reads.items():
        if fact not in FACTS or not isinstance(mapping, dict):
            problems.append(f"reads: {fact!r} is not a fact with a value map")
            continue
        allowed = FACTS[fact] or ()
        for new, old in mapping.items():
            if allowed and (new not in allowed or old not in allowed):
                problems.append(f"reads: {fact} {new!r} -> {old!r} names a value {fact} cannot take")


def _as_date(value: Any, what: str, problems: list[str]) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{what}: {value!r} is not a date (YYYY-MM-DD)")
        return None


def thresholds(ruleset: RuleSet) -> dict[str, tuple[float, ...]]:
    """Per fact, every number a condition of ``ruleset`` compares it with (``lt``, ``le``,
    ``gt``, ``ge``), under any policy value: two values on the same side of each of them (or
    equal to the same one) meet every condition alike."""
    found: dict[str, set[float]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict) and value.keys() & {"lt", "le", "gt", "ge"}:
                    found.setdefault(str(key), set()).update(
                        float(v) for op, v in value.items() if op in {"lt", "le", "gt", "ge"})
                walk(value)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)

    walk([[r.when, r.policy_outcomes] for r in ruleset.rules])
    walk(list(ruleset.policies.values()))
    return {k: tuple(sorted(v)) for k, v in sorted(found.items())}


def condition_facts(cond: Any) -> set[str]:
    """The facts a rule condition reads (``any`` alternatives included)."""
    names: set[str] = set()
    for fact, matcher in (cond or {}).items():
        if fact == "any":
            for sub in matcher:
                names |= condition_facts(sub)
        else:
            names.add(fact)
    return names


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
