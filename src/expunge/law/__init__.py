"""Law takes the rule files and readings counsel maintains (every reading of Mo. Const. art. XIV § 2.10);
it returns them loaded and checked: ``rules.load_rules``, ``readings()``, ``check_law()``.

Files in this folder (counsel reads and changes these; code only evaluates them):

* ``mo-a3.v2.yaml`` (default) and ``mo-a3.v1.yaml``: the rule tables, policies, deadlines
  and the substance order of trust;
* ``readings.yaml``: NCIC modifiers, drug and non-drug offense words, impaired operation,
  violence, amounts, disposition spellings, case types, supervision words, petition texts;
* ``circuits.yaml``: the judicial circuit of each county (RSMo ch. 478);
* ``code_readings.csv``: the project's reading of each charge code (family, substance
  scope, statute, amount bound) with its reason and citation;
* ``offense_codes.csv`` (built from the MSHP table and ``code_readings.csv`` by
  ``tools/build_offense_reference.py``) and ``statutes.csv``: the reference the normalizer
  looks codes and statutes up in.

``values`` holds the values each fact can take; ``readings()`` loads ``readings.yaml``;
``check_law()`` validates everything at once (``expunge rules check``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from expunge.law.values import ANSWER_COLUMNS, FAMILIES, SUBSTANCE_SCOPES

LAW = "expunge.law"
READINGS_SECTIONS = ("ncic", "substance_words", "conduct_words", "dui", "violence", "non_drug_offense_stems",
                     "statutes", "amounts", "dispositions", "case_kinds", "serving", "records", "petitions",
                     "review_answers")


def law_file(name: str) -> Path:
    """Path of a shipped file of the law folder."""
    return Path(str(resources.files(LAW) / name))


@lru_cache(maxsize=1)
def county_circuits() -> dict[str, str]:
    """County name (as ``ingest.places.county_name`` spells it) -> judicial circuit number, from
    ``circuits.yaml``."""
    doc = yaml.safe_load(law_file("circuits.yaml").read_bytes())
    return {county: str(n) for n, counties in doc["circuits"].items() for county in counties}


@lru_cache(maxsize=1)
def readings() -> dict[str, Any]:
    """``readings.yaml``, validated (raises ``RuleFileError`` listing every problem)."""
    doc = yaml.safe_load(law_file("readings.yaml").read_bytes())
    problems = readings_problems(doc)
    if problems:
        from expunge.errors import RuleFileError

        raise RuleFileError("readings.yaml has problems:\n" + "\n".join(f"  - {p}" for p in problems))
    return doc


def readings_problems(doc: Any) -> list[str]:
    """Every problem of a parsed ``readings.yaml``: missing sections, patterns that are not
    regular expressions, unknown families or disposition classes."""
    if not isinstance(doc, dict):
        return ["readings.yaml must be a mapping of sections"]
    problems = [f"missing section {s!r}" for s in READINGS_SECTIONS if s not in doc]

    def pattern(where: str, text: Any) -> None:
        try:
            re.compile(str(text))
        except re.error as exc:
            problems.append(f"{where}: not a regular expression ({exc})")

    for section in ("substance_words", "conduct_words", "dui", "violence"):
        for key, value in (doc.get(section) or {}).items():
            if key != "citation":
                pattern(f"{section}.{key}", value)
    for key in ("not_serving", "incarcerated", "supervised", "active", "sentence_incarcerated",
                "sentence_supervised"):
        pattern(f"serving.{key}", (doc.get("serving") or {}).get(key, ""))
    pattern("records.expunged", (doc.get("records") or {}).get("expunged", ""))
    for i, item in enumerate((doc.get("dispositions") or {}).get("patterns") or []):
        if not isinstance(item, list) or len(item) != 2:
            problems.append(f"dispositions.patterns #{i + 1}: must be [CLASS, pattern]")
            continue
        if item[0] not in ("CONVICTED", "SIS", "NONCONVICTION", "PENDING"):
            problems.append(f"dispositions.patterns #{i + 1}: {item[0]!r} is not a disposition class")
        pattern(f"dispositions.patterns #{i + 1}", item[1])
    ncic = doc.get("ncic") or {}
    for key in ("marijuana", "no_drug"):
        for value in ncic.get(key) or []:
            if not re.fullmatch(r"\d\d", str(value)):
                problems.append(f"ncic.{key}: {value!r} is not a two-digit NCIC modifier")
    amounts = doc.get("amounts") or {}
    for key, value in [("misdemeanor_possession_max_g", amounts.get("misdemeanor_possession_max_g")),
                       *((f"grams_per.{u}", v) for u, v in (amounts.get("grams_per") or {}).items())]:
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"amounts.{key}: {value!r} is not a number")
    for family in ((doc.get("ncic") or {}).get("conduct") or {}).values():
        if family not in FAMILIES:
            problems.append(f"ncic.conduct: {family!r} is not an offense family")
    paths = (doc.get("petitions") or {}).get("paths") or {}
    for name in ("auto", "petition_serving", "petition_completed", "municipal"):
        missing = [k for k in ("short", "title", "basis", "party", "relief", "signature")
                   if not (paths.get(name) or {}).get(k)]
        if missing:
            problems.append(f"petitions.paths.{name}: needs {', '.join(missing)}")
    answers = doc.get("review_answers") or {}
    for fact, column in (answers.get("by_fact") or {}).items():
        if column not in ANSWER_COLUMNS:
            problems.append(f"review_answers.by_fact.{fact}: {column!r} is not an answer column")
    for rule, meanings in (answers.get("yes_no") or {}).items():
        if not isinstance(meanings, dict) or set(meanings) != {"YES", "NO"}:
            problems.append(f"review_answers.yes_no.{rule}: must give what YES and what NO stand for")
            continue
        for said, sets in meanings.items():
            for column in (sets or {}):
                if column not in ANSWER_COLUMNS:
                    problems.append(f"review_answers.yes_no.{rule}.{said}: {column!r} is not an answer column")
    stems = (doc.get("non_drug_offense_stems") or {}).get("stems") or []
    if not stems:
        problems.append("non_drug_offense_stems.stems: the list is empty (no description could be NON_DRUG)")
    return problems


def code_readings_problems(path: Path | None = None) -> list[str]:
    """Every problem of ``code_readings.csv``: unknown family or scope, no reason or citation."""
    import csv

    p = path or law_file("code_readings.csv")
    problems = []
    with p.open(newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            if row.get("offense_family") not in FAMILIES:
                problems.append(f"code_readings.csv line {line}: family {row.get('offense_family')!r} is unknown")
            if row.get("substance_scope") not in SUBSTANCE_SCOPES:
                problems.append(f"code_readings.csv line {line}: scope {row.get('substance_scope')!r} is unknown")
            if not (row.get("reason") or "").strip() or not (row.get("citation") or "").strip():
                problems.append(f"code_readings.csv line {line}: a reading needs a reason and a citation")
    return problems


def check_law(rule_files: list[str | Path] | None = None) -> list[str]:
    """Every problem of the law folder and of ``rule_files`` (default: the shipped rule
    files), each prefixed by its file. Empty: everything loads."""
    from expunge.errors import RuleFileError
    from expunge.law.rules import load_rules

    problems: list[str] = []
    for f in rule_files or [law_file("mo-a3.v1.yaml"), law_file("mo-a3.v2.yaml")]:
        try:
            load_rules(f)
        except RuleFileError as exc:
            problems.append(str(exc))
    doc = yaml.safe_load(law_file("readings.yaml").read_bytes())
    problems += [f"readings.yaml: {p}" for p in readings_problems(doc)]
    problems += code_readings_problems()
    return problems
