"""Render docs/eligibility.md from the shipped rule file (a test keeps it current).

    python tools/render_eligibility.py

The page is the rule file ``src/expunge/law/mo-a3.v2.yaml`` in words: the substance order
of trust, the rule table, what each policy value does to its rules, the policies, the
deadlines, where the other readings live, and what changed from ``mo-a3.v1.yaml`` (rules
added, removed and changed by id, policies and deadlines added or removed), compared
from the two files. Re-run it after changing a rule file; ``tests/test_eligibility_doc.py``
fails until the page matches.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from expunge.law.rules import Rule, RuleSet, load_rules

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "eligibility.md"
RULE_FILE = "mo-a3.v2.yaml"
PREVIOUS = "mo-a3.v1.yaml"
LAW = "src/expunge/law"

#: What each step of the substance order of trust reads (``facts.substance`` evaluates them).
STEPS = {
    "crosswalk": "a clerk's confirmed answer (the crosswalk or the answers store)",
    "modifier": "the NCIC modifier (35-60..64 marijuana; any other drug modifier: OTHER_DRUG; 35-50 and 35-99 "
                "name no drug); it outranks every reading of the code and any description word",
    "record_description_conflict": "a record (code or modifier) and a description that disagree on marijuana "
                                   "go to review before the modifier is read",
    "code_description_conflict": "a code whose definition fixes the drug, unless the description names a drug "
                                 "that disagrees on marijuana (then a person decides)",
    "code": "the charge code's own definition",
    "description": "drug words of the description outside any EXCEPT phrase",
    "except_wording": "the EXCEPT-35-grams wording: substance UNKNOWN (review, R12)",
    "conflated_wording": "the conflated MARIJUANA/SYNTHETIC CANNABINOID wording: policy "
                         "`conflated_code_without_modifier`",
}
OPS = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥"}
WHY_V2 = [
    "In short (the binding text is ELIGIBILITY.md, section \"What changed from v1 to v2\"):",
    "",
    "- NCIC 35-40..43 are read as synthetic narcotic (OTHER_DRUG), not synthetic cannabinoid: those rows move "
    "from R06 to R05, still NOT_ELIGIBLE.",
    "- Juvenile cases are JUVENILE, in scope (§ 2.10(7)(a), \"adult or juvenile offense\"); marijuana ones go to "
    "review (R11j), non-drug ones are closed by R05.",
    "- Evidence, not absence: unreadable descriptions are family UNKNOWN (R07), the NCIC modifier outranks the "
    "code readings, \"prescription\" names no drug, and DUI covers any conveyance; such rows move from "
    "NOT_ELIGIBLE to NEEDS_REVIEW or ELIGIBLE_*.",
    "- Petition rows have no deadline and are never overdue (2023-03-08 was a ruling target, not a deadline).",
    "- The readings the sources dispute are policies with a default (supervised_path, felony_possession_limit, "
    "felony_after_completion, juvenile_records, violence), with rules R11j, R11v, R15c and R18c; under the "
    "defaults only R11j, R11v and R15c change v1's outputs. `expunge whatif RUN_DIR --each-policy` shows what "
    "each other value moves.",
    "- R13a rides on the path of the marijuana charge it goes with (ELIGIBLE_PETITION where no charge of the case "
    "is automatic).",
    "",
    "v1 stays shipped and selectable with `--rules mo-a3.v1.yaml`.",
]


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _matcher(fact: str, m: Any) -> str:
    if isinstance(m, dict):
        parts = []
        for op, v in m.items():
            if op in OPS:
                parts.append(f"{fact} {OPS[op]} {_value(v)}")
            elif op == "known":
                parts.append(f"{fact} {'known' if v else 'unknown'}")
            elif op in ("in", "not_in"):
                vs = ", ".join(_value(x) for x in (v if isinstance(v, list) else [v]))
                parts.append(f"{fact} {'is one of' if op == 'in' else 'is none of'} {vs}")
        return " and ".join(parts)
    if isinstance(m, list):
        return f"{fact} is one of {', '.join(_value(x) for x in m)}"
    if isinstance(m, bool):
        return fact if m else f"not {fact}"
    return f"{fact} = {_value(m)}"


def when_text(cond: dict[str, Any]) -> str:
    """A rule condition in plain words: ``case_kind = OTHER``, ``amount_g ≤ 1360.78``,
    ``any of: (...) or (...)``; the empty condition is the catch-all."""
    if not cond:
        return "anything (catch-all)"
    parts = []
    for fact, m in cond.items():
        if fact == "any":
            parts.append("any of: " + " or ".join(f"({when_text(sub)})" for sub in m))
        else:
            parts.append(_matcher(fact, m))
    return " and ".join(parts)


def _determination(rule: Rule, rs: RuleSet) -> str:
    det = rule.determination
    if rule.determination_by:
        fact = rule.determination_by["fact"]
        det = ", ".join(f"{d} if {fact} = {v}" for v, d in rule.determination_by["values"].items())
    if rule.deadline:
        det += f" (deadline {rule.deadline}, {rs.deadlines[rule.deadline].isoformat()})"
    return det


def _cell(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def _outcome(outcome: Any) -> str:
    if outcome == "SKIP":
        return "the rule does not apply"
    if isinstance(outcome, str):
        return outcome
    parts = []
    for key, v in outcome.items():
        text = when_text(v) if key == "when" else str(v).rstrip(".")
        parts.append(f"{key.replace('_', ' ')}: {text}")
    return "; ".join(parts)


def rule_table(rs: RuleSet) -> list[str]:
    out = ["| id | when | determination | reason code | citation | policy |", "| --- | --- | --- | --- | --- | --- |"]
    for r in rs.rules:
        out.append(f"| {r.id} | {_cell(when_text(r.when))} | {_cell(_determination(r, rs))} | {r.reason_code} | "
                   f"{_cell(r.citation)} | {f'`{r.policy}`' if r.policy else ''} |")
    return out


def review_table(rs: RuleSet) -> list[str]:
    out = ["| rule | missing fact | question |", "| --- | --- | --- |"]
    for r in rs.rules:
        if r.missing_fact:
            label = r.id if r.determination == "NEEDS_REVIEW" else f"{r.id} (when a policy makes it review)"
            out.append(f"| {label} | `{r.missing_fact}` | {_cell(r.question)} |")
        for value, outcome in r.policy_outcomes.items():
            if isinstance(outcome, dict) and outcome.get("missing_fact") and outcome["missing_fact"] != r.missing_fact:
                out.append(f"| {r.id} (`{r.policy}` = {value}) | `{outcome['missing_fact']}` | "
                           f"{_cell(outcome.get('question', r.question))} |")
    return out


def outcome_lines(rs: RuleSet) -> list[str]:
    out = []
    for r in rs.rules:
        if not r.policy:
            continue
        default = str(rs.policies[r.policy]["default"])
        out.append(f"- **{r.id}** (policy `{r.policy}`):")
        for value, outcome in r.policy_outcomes.items():
            mark = " (default)" if value == default else ""
            out.append(f"  - `{value}`{mark}: {_outcome(outcome)}")
    return out


def policy_table(rs: RuleSet) -> list[str]:
    out = ["| policy | default | values | disputed | rules | what it decides |",
           "| --- | --- | --- | --- | --- | --- |"]
    for name, spec in rs.policies.items():
        rules = ", ".join(r.id for r in rs.rules if r.policy == name) or "substance order (conflated_wording)"
        caveat = spec.get("caveat")
        what = _cell(spec.get("explanation", ""))
        if caveat:
            what += f" Caveat `{caveat['name']}` under `{caveat['value']}`."
        out.append(f"| `{name}` | `{spec['default']}` | {', '.join(f'`{v}`' for v in spec['values'])} | "
                   f"{'⚠ disputed' if spec.get('disputed') else ''} | {rules} | {what} |")
    return out


def changes(old: RuleSet, new: RuleSet) -> list[str]:
    """What changed from ``old`` to ``new``, compared field by field."""
    old_rules, new_rules = {r.id: r for r in old.rules}, {r.id: r for r in new.rules}
    added = [i for i in new_rules if i not in old_rules]
    removed = [i for i in old_rules if i not in new_rules]
    out = [f"- Rules added: {', '.join(added) or 'none'}.", f"- Rules removed: {', '.join(removed) or 'none'}."]
    changed = []
    for rid, r in new_rules.items():
        if rid in old_rules:
            diff = [f.name.replace("_", " ") for f in fields(Rule)
                    if getattr(r, f.name) != getattr(old_rules[rid], f.name)]
            if diff:
                changed.append(f"{rid} ({', '.join(diff)})")
    out.append(f"- Rules changed: {'; '.join(changed) or 'none'}.")
    pol_added = [p for p in new.policies if p not in old.policies]
    pol_removed = [p for p in old.policies if p not in new.policies]
    pol_changed = [p for p in new.policies if p in old.policies
                   and (new.policies[p]["default"], list(new.policies[p]["values"]))
                   != (old.policies[p]["default"], list(old.policies[p]["values"]))]
    out.append(f"- Policies added: {', '.join(f'`{p}`' for p in pol_added) or 'none'}.")
    if pol_removed:
        out.append(f"- Policies removed: {', '.join(f'`{p}`' for p in pol_removed)}.")
    if pol_changed:
        out.append(f"- Policies whose default or values changed: {', '.join(f'`{p}`' for p in pol_changed)}.")
    dl_added = [f"`{k}` ({v.isoformat()})" for k, v in new.deadlines.items() if k not in old.deadlines]
    dl_removed = [f"`{k}` ({v.isoformat()})" for k, v in old.deadlines.items() if k not in new.deadlines]
    if dl_added:
        out.append(f"- Deadlines added: {', '.join(dl_added)}.")
    out.append(f"- Deadlines removed: {', '.join(dl_removed) or 'none'}.")
    if old.substance_order != new.substance_order:
        out.append(f"- Substance order of trust: {', '.join(old.substance_order)} → {', '.join(new.substance_order)}.")
    if old.reads and not new.reads:
        out.append(f"- Value maps (`reads`) dropped: v{new.version} reads the facts as the normalizer writes them.")
    return out


def render() -> str:
    rs, old = load_rules(RULE_FILE), load_rules(PREVIOUS)
    out = [
        f"# Eligibility: rule set `{rs.name}` v{rs.version}",
        "",
        f"Generated from `{LAW}/{RULE_FILE}` by `python tools/render_eligibility.py`; do not edit by hand.",
        "",
        f"**{rs.title}.** Rule set `{rs.name}`, version {rs.version}; the amendment took effect "
        f"{rs.effective_date.isoformat()}.",
        "",
        "**This is not legal advice.** It is the product's reading of Mo. Const. art. XIV § 2.10, and parts rest on "
        "secondary sources; the policies marked disputed are readings the sources disagree on. Every determination "
        "carries the rule id, reason code and citation that produced it. Check a changed rule file with "
        "`expunge rules check FILE`; see what each policy value moves in a finished run with "
        "`expunge whatif RUN_DIR --each-policy`.",
        "",
        "## Substance: the order of trust",
        "",
        "The substance of a charge is read from the first of these that says something:",
        "",
        *[f"{i}. `{step}`: {STEPS.get(step, '')}" for i, step in enumerate(rs.substance_order, start=1)],
        "",
        "## Rules (first match wins)",
        "",
        "\"marijuana\" means substance MARIJUANA or THC. A rule tied to a policy is shown as it reads under the "
        "default; what the other values do is listed below the table.",
        "",
        *rule_table(rs),
        "",
        "### Review rules: the missing fact and the question",
        "",
        *review_table(rs),
        "",
        "### What each policy value does to its rules",
        "",
        *outcome_lines(rs),
        "",
        "## Policies",
        "",
        "Each policy is a switch of the rule file with a default; a run records the values it used "
        "(`--policy name=value` changes one).",
        "",
        *policy_table(rs),
        "",
        "## Deadlines",
        "",
        "| deadline | date |",
        "| --- | --- |",
        *[f"| `{k}` | {v.isoformat()} |" for k, v in rs.deadlines.items()],
        "",
        "An ELIGIBLE_AUTO charge past its deadline on the run's as-of date and not marked expunged is `overdue`; "
        "petition rows carry no deadline.",
        "",
        "## Where the other readings live",
        "",
        f"- `{LAW}/readings.yaml`: NCIC modifiers, drug and non-drug offense words, impaired operation, violence, "
        "amounts, disposition spellings, case types, supervision words, petition texts.",
        f"- `{LAW}/code_readings.csv`: the project's reading of each charge code (family, substance scope, statute, "
        "amount bound) with its reason and citation.",
        f"- `{LAW}/offense_codes.csv` (built by `tools/build_offense_reference.py`) and `{LAW}/statutes.csv`: the "
        "reference the normalizer looks codes and statutes up in.",
        f"- `{LAW}/values.py`: the values each fact can take.",
        f"- `{LAW}/{PREVIOUS}`: rule set v{old.version}, kept for comparison (`--rules {PREVIOUS}`).",
        "",
        f"## What changed from v{old.version}",
        "",
        *WHY_V2,
        "",
        f"Compared from `{PREVIOUS}` and `{RULE_FILE}`:",
        "",
        *changes(old, rs),
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
