"""What-if runs: re-decide a finished run under other policies or another rule file.

It decides again, without re-reading the export: the normalized facts of every charge
are in the run's ``charges/`` dataset. The conflated-code policy is re-applied through the
``CONFLATED_CODE_WITHOUT_MODIFIER`` caveat; clerk decisions (rule ``CLERK``) are kept.
The result says how every count moves: charges per determination, the transitions (with
the charges and the people behind each), and people and cases with eligible charges
(lower and upper bounds).

``each_policy`` is the readings report (ELIGIBILITY.md, Policies): for every policy of the
rule file and every value it can take other than the run's own, what that value alone
moves against the run's own decisions. ``policy_readings`` computes the same table from a
``charges/`` folder before the run's manifest exists (the report page uses it, through
``report_readings``, up to ``REPORT_READINGS_LIMIT`` charges).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as ds

from expunge.decide.engine import case_signatures, comparison_codes, evaluate
from expunge.errors import InputFileError
from expunge.ingest.distinct import row_codes
from expunge.law.rules import ELIGIBLE, RuleSet, default_ruleset_path, load_rules, thresholds
from expunge.publish.rollups import headline

FACT_COLUMNS = ("case_number", "case_kind", "offense_family", "substance", "level", "class", "amount_g",
                "disposition_class", "serving", "offense_after_effective", "violent", "already_expunged")
#: Columns of ``charges/`` a re-decision reads (besides ``caveats``).
READ_COLUMNS = (*FACT_COLUMNS, "person_key", "determination", "rule_id", "overdue", "county")
CONFLATED_CAVEAT = "CONFLATED_CODE_WITHOUT_MODIFIER"


@dataclass(frozen=True)
class RunCharges:
    """A run's decided charges as a re-decision needs them, read once."""

    charges: pd.DataFrame  # READ_COLUMNS, case_number and person_key as nullable integer codes
    conflated: np.ndarray  # rows carrying the conflated-code caveat
    as_of: date
    before: dict[str, Any]  # headline of the run's own decisions
    people: np.ndarray  # person_key as codes 0..n-1 (-1: no person)
    cases: np.ndarray  # case_number as codes (-1: none); the engine groups a case's charges by it
    kinds: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def signatures(self, ruleset: RuleSet) -> tuple[np.ndarray, np.ndarray]:
        """``engine.case_signatures`` of these charges under what ``ruleset`` can tell apart
        (amounts only by the thresholds it compares them with): the charges to decide and,
        per charge, its twin among them. Each kind of case is decided once: a statewide run
        has millions of charges and far fewer kinds of case."""
        cuts = thresholds(ruleset)
        key = tuple(sorted(cuts.items()))
        if key not in self.kinds:
            facts = self.charges[[c for c in FACT_COLUMNS if c != "case_number"]].assign(conflated=self.conflated)
            for fact, values in cuts.items():
                if fact in facts:
                    facts[fact] = comparison_codes(facts[fact], values)
            self.kinds[key] = case_signatures(row_codes(facts), self.cases)
        return self.kinds[key]


def _manifest(run: Path) -> dict[str, Any]:
    manifest_path = run / "manifest.json"
    if not (run / "charges").is_dir() or not manifest_path.is_file():
        raise InputFileError(f"{run} is not a finished run folder (no charges/ or manifest.json). "
                             "Give the folder 'expunge run' printed.")
    return json.loads(manifest_path.read_text())


def read_charges(run_dir: str | Path, as_of: str | date) -> RunCharges:
    """The decided charges of ``run_dir/charges`` (only the columns a re-decision reads)."""
    table = ds.dataset(Path(run_dir) / "charges", format="parquet", partitioning="hive").to_table(
        columns=[*READ_COLUMNS, "caveats"])
    lists = table["caveats"].combine_chunks()
    hit = pc.equal(pc.list_flatten(lists), CONFLATED_CAVEAT)
    conflated = np.zeros(table.num_rows, dtype=bool)
    conflated[pc.list_parent_indices(lists).filter(hit).to_numpy()] = True
    # Case numbers and person keys are only compared, never read: integer codes sort and
    # group much faster than millions of distinct strings, and take less memory.
    cases = pd.factorize(table["case_number"].to_numpy(zero_copy_only=False), use_na_sentinel=True)[0]
    people = pd.factorize(table["person_key"].to_numpy(zero_copy_only=False), use_na_sentinel=True)[0]
    charges = table.drop_columns(["caveats", "case_number", "person_key"]).to_pandas()
    charges["case_number"] = _nullable(cases)
    charges["person_key"] = _nullable(people)
    charges["overdue"] = charges["overdue"].fillna(False).astype(bool)
    day = as_of if isinstance(as_of, date) else date.fromisoformat(str(as_of))
    return RunCharges(charges, conflated, day, headline(charges), people, cases)


def _nullable(codes: np.ndarray) -> pd.Series:
    return pd.Series(pd.array(codes, dtype="Int64")).mask(codes < 0)


def bounds(run: RunCharges, determination: np.ndarray) -> dict[str, dict[str, int]]:
    """The eligible charges and the people with an eligible charge, lower and upper bounds
    (the numbers of ``rollups.headline`` of these determinations, without building it)."""
    e = np.isin(determination, list(ELIGIBLE))
    u = e | (determination == "NEEDS_REVIEW")
    known = run.people >= 0
    n = int(run.people.max()) + 1 if len(run.people) else 0
    per_person = lambda flag: int((np.bincount(run.people[known & flag], minlength=n) > 0).sum())  # noqa: E731
    return {"charges": {"eligible_lower": int(e.sum()), "eligible_upper": int(u.sum())},
            "people": {"affected_lower": per_person(e), "affected_upper": per_person(u)}}


def redecide(run: RunCharges, ruleset: RuleSet, chosen: dict[str, str], full: bool = True) -> dict[str, Any]:
    """Decide ``run``'s charges under ``ruleset`` and resolved policies ``chosen`` and compare
    with the run's own decisions: charges and people that change, the transitions (each
    with its charges and distinct people) and, ``after``, the headline (``full``) or only
    its ``bounds``."""
    charges = run.charges
    rows, expand = run.signatures(ruleset)
    facts = charges[list(FACT_COLUMNS)].iloc[rows].reset_index(drop=True)
    facts["case_number"] = run.cases[rows]  # charges without a case number form one group, as before
    assume = chosen.get("conflated_code_without_modifier") == "assume_marijuana"
    facts.loc[run.conflated[rows], "substance"] = "MARIJUANA" if assume else "UNKNOWN"
    facts["marijuana"] = facts["substance"].isin(["MARIJUANA", "THC"])
    decided = evaluate(facts, ruleset, chosen, run.as_of)
    clerk = (charges["rule_id"] == "CLERK").to_numpy()
    after = np.where(clerk, charges["determination"].to_numpy(dtype=object),
                     decided["determination"].to_numpy(dtype=object)[expand])
    before = charges["determination"].to_numpy(dtype=object)
    changed = before != after
    moved = pd.DataFrame({"from": before[changed], "to": after[changed], "person_key": run.people[changed]})
    moved["person_key"] = moved["person_key"].where(moved["person_key"] >= 0)  # -1: no person
    transitions = [{"from": str(f), "to": str(t), "charges": len(g), "people": int(g["person_key"].nunique())}
                   for (f, t), g in moved.groupby(["from", "to"], sort=True)]
    by_county: list[dict[str, Any]] = []
    if full:
        overdue = decided["overdue"].to_numpy(dtype=bool)[expand] & ~clerk
        summary = headline(charges.assign(determination=after, overdue=overdue))
        moved["county"] = charges["county"].astype("str").to_numpy()[changed]
        by_county = [{"county": str(c), "charges": len(g), "people": int(g["person_key"].nunique()),
                      "transitions": {f"{f} -> {t}": len(h) for (f, t), h in g.groupby(["from", "to"], sort=True)}}
                     for c, g in moved.groupby("county", sort=True)]
    else:
        summary = bounds(run, after)
    return {
        "charges_changed": int(changed.sum()),
        "people_changed": int(moved["person_key"].nunique()),
        "transitions": transitions,
        "by_county": by_county,
        "after": summary,
    }


def whatif(run_dir: str | Path, policies: dict[str, str] | None = None,
           rules: str | Path | None = None) -> dict[str, Any]:
    """Re-decide the charges of ``run_dir`` and compare with the run's own decisions.

    ``people_changed`` counts the distinct people (``person_key``) with at least one charge
    whose determination changes; each transition carries its ``charges`` and ``people``. The
    run's policy values apply when ``rules`` is the run's own rule file; another file is
    read with its own defaults (``policies_from`` says which). The normalized facts are the
    run's: a rule file's other readings of the record (v1's order of trust) do not apply.

    Raises:
        InputFileError: ``run_dir`` is not a finished run folder.
    """
    run = Path(run_dir)
    manifest = _manifest(run)
    ruleset = load_rules(rules)
    # The run's policy values carry over only to its own rule file: another file (a copy
    # counsel edited, or v1) is read with its own defaults, and the result says which.
    own_file = ruleset.sha256 == (manifest.get("ruleset") or {}).get("sha256")
    base_policies = {k: v for k, v in manifest.get("policies", {}).items() if k in ruleset.policies and own_file}
    chosen = ruleset.resolve_policies({**base_policies, **(policies or {})})
    data = read_charges(run, manifest["as_of"])
    result = redecide(data, ruleset, chosen)
    return {
        "run_id": manifest["run_id"], "as_of": manifest["as_of"],
        "policies_before": manifest.get("policies", {}), "policies_after": chosen,
        "policies_from": "the run" if own_file else "the rule file's defaults (another rule file than the run's)",
        "rules_before": manifest.get("ruleset", {}), "rules_after": _rules_id(ruleset),
        "charges_changed": result["charges_changed"],
        "people_changed": result["people_changed"],
        "policies_changed": {k: {"before": manifest.get("policies", {}).get(k), "after": v} for k, v in chosen.items()
                             if manifest.get("policies", {}).get(k) != v},
        "transitions": result["transitions"],
        "by_county": result["by_county"],
        "before": data.before, "after": result["after"],
    }


def _rules_id(ruleset: RuleSet) -> dict[str, Any]:
    return {"name": ruleset.name, "version": ruleset.version, "sha256": ruleset.sha256}


def _moved(before: dict[str, Any], after: dict[str, Any], unit: str, key: str) -> dict[str, int]:
    b, a = int(before[unit][key]), int(after[unit][key])
    return {"before": b, "after": a, "change": a - b}


def policy_readings(run_dir: str | Path, as_of: str | date, policies: dict[str, str] | None = None,
                    rules: str | Path | None = None, baseline: bool = True) -> dict[str, Any]:
    """For every policy of ``rules`` and every value other than the one in ``policies`` (the
    run's own; a policy the run does not name takes its default): re-decide the charges of
    ``run_dir/charges`` with that one value changed and compare with the run's own decisions.

    Returns ``rules``, ``policies`` (the run's, resolved), ``baseline_changed`` (charges that
    move with no policy changed: 0 when ``rules`` is the run's own rule file; None unless
    ``baseline``), ``before`` (the run's headline) and ``readings``: one entry per policy
    value, disputed policies marked, with ``charges_changed``, ``people_changed``, the moves
    of people and charges with an eligible charge (lower and upper bounds) and the
    ``transitions``.
    """
    ruleset = load_rules(rules)
    base = ruleset.resolve_policies({k: v for k, v in (policies or {}).items() if k in ruleset.policies})
    day = as_of if isinstance(as_of, date) else date.fromisoformat(str(as_of))
    # A run whose export had no readable rows has no charges/: nothing can move.
    data = read_charges(run_dir, day) if (Path(run_dir) / "charges").is_dir() else None
    zero = {"charges": {"eligible_lower": 0, "eligible_upper": 0}, "people": {"affected_lower": 0, "affected_upper": 0}}
    nothing = {"charges_changed": 0, "people_changed": 0, "transitions": [], "after": zero}

    def moves(chosen: dict[str, str]) -> dict[str, Any]:
        return redecide(data, ruleset, chosen, full=False) if data is not None else nothing

    moved = moves(base)["charges_changed"] if baseline else None
    before = bounds(data, data.charges["determination"].to_numpy(dtype=object)) if data is not None else zero
    readings = []
    for name, spec in ruleset.policies.items():
        for value in spec["values"]:
            value = str(value)
            if value == base[name]:
                continue
            r = moves({**base, name: value})
            readings.append({
                "policy": name, "value": value, "default": str(spec["default"]), "run_value": base[name],
                "disputed": bool(spec.get("disputed", False)),
                "charges_changed": r["charges_changed"], "people_changed": r["people_changed"],
                "people_affected_lower": _moved(before, r["after"], "people", "affected_lower"),
                "people_affected_upper": _moved(before, r["after"], "people", "affected_upper"),
                "charges_eligible_lower": _moved(before, r["after"], "charges", "eligible_lower"),
                "charges_eligible_upper": _moved(before, r["after"], "charges", "eligible_upper"),
                "transitions": r["transitions"],
            })
    return {
        "as_of": day.isoformat(), "rules": _rules_id(ruleset), "policies": base,
        "baseline_changed": moved, "before": data.before if data is not None else None, "readings": readings,
    }


#: Runs with more charges than this leave the readings table out of their report page:
#: each policy value re-decides one case of each kind (``RunCharges.signatures``).
REPORT_READINGS_LIMIT = 1_000_000


def report_readings(run_dir: str | Path, as_of: str | date, policies: dict[str, str] | None = None,
                    rules: str | Path | None = None, limit: int | None = None) -> dict[str, Any]:
    """``policy_readings`` for the run's report page (no baseline), or, for a run of more
    than ``limit`` charges (default ``REPORT_READINGS_LIMIT``), ``{"skipped_charges": n,
    "limit": limit}``: ``expunge whatif RUN --each-policy`` gives the table then."""
    limit = REPORT_READINGS_LIMIT if limit is None else limit
    folder = Path(run_dir) / "charges"
    n = ds.dataset(folder, format="parquet", partitioning="hive").count_rows() if folder.is_dir() else 0
    if n > limit:
        return {"skipped_charges": n, "limit": limit}
    return policy_readings(run_dir, as_of, policies, rules, baseline=False)


def run_rule_file(manifest: dict[str, Any]) -> str | Path:
    """The rule file a run was decided with: its recorded path, else the shipped file of
    that name, else the shipped default."""
    recorded = (manifest.get("ruleset") or {}).get("path")
    if recorded and Path(recorded).is_file():
        return recorded
    if recorded and default_ruleset_path(Path(recorded).name).is_file():
        return default_ruleset_path(Path(recorded).name)
    return default_ruleset_path()


def each_policy(run_dir: str | Path, rules: str | Path | None = None) -> dict[str, Any]:
    """The readings report of a finished run: ``policy_readings`` under the run's own rule
    file (or ``rules``) and the run's own policies, with the run's id.

    Raises:
        InputFileError: ``run_dir`` is not a finished run folder.
    """
    run = Path(run_dir)
    manifest = _manifest(run)
    result = policy_readings(run, manifest["as_of"], manifest.get("policies", {}), rules or run_rule_file(manifest))
    same = result["rules"]["sha256"] == (manifest.get("ruleset") or {}).get("sha256")
    return {"run_id": manifest["run_id"], "rules_before": manifest.get("ruleset", {}), "rules_same_as_run": same,
            **result}


def readings_table(result: dict[str, Any]) -> list[str]:
    """``each_policy``'s result as the lines of one text table: a line per policy value
    (charges and people that change, people with an eligible charge before -> after), then
    its transitions. Disputed policies are marked ``*``."""
    width = max([len(r["policy"]) + 2 for r in result["readings"]] + [8])
    vwidth = max([len(r["value"]) for r in result["readings"]] + [5])
    head = f"{'policy':<{width}}  {'value':<{vwidth}}  {'transition':<34}{'charges':>9}{'people':>9}"
    lines = [head, "-" * len(head)]
    for r in result["readings"]:
        name = r["policy"] + (" *" if r["disputed"] else "")
        low = r["people_affected_lower"]
        label = "all changes" if r["charges_changed"] else "nothing moves"
        lines.append(f"{name:<{width}}  {r['value']:<{vwidth}}  {label:<34}"
                     f"{r['charges_changed']:>9,}{r['people_changed']:>9,}   people with an eligible charge "
                     f"{low['before']:,} -> {low['after']:,} ({low['change']:+,})")
        for t in r["transitions"]:
            lines.append(f"{'':<{width}}  {'':<{vwidth}}  {t['from'] + ' -> ' + t['to']:<34}"
                         f"{t['charges']:>9,}{t['people']:>9,}")
    lines.append("* disputed reading (the sources disagree). People: distinct persons with a charge that changes; "
                 "people with an eligible charge: lower bound.")
    return lines
