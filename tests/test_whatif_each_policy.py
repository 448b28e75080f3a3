"""The readings report (`expunge whatif RUN --each-policy`): every other value of every
policy, re-decided from the run's charges/ and compared with the run's own decisions."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from expunge.cli import main
from expunge.law import law_file
from expunge.law.rules import load_rules
from expunge.publish.report import readings_section
from expunge.publish.whatif import each_policy, policy_readings, report_readings, whatif
from tests.conftest import AS_OF


@pytest.fixture(scope="module")
def run(sample_run):
    return sample_run


@pytest.fixture(scope="module")
def readings(run):
    return each_policy(run)


@pytest.fixture(scope="module")
def shadowed_rules(tmp_path_factory):
    """The shipped rule file plus a policy whose only rule sits under R01 with R01's own
    condition: first match wins, so no value of it can move a charge."""
    doc = yaml.safe_load(law_file("mo-a3.v2.yaml").read_text())
    doc["policies"]["shadowed"] = {"default": "off", "values": ["off", "on"], "explanation": "never reached"}
    doc["rules"].insert(1, {"id": "R01x", "when": {"case_kind": "OTHER"}, "policy": "shadowed",
                            "policy_outcomes": {"off": "SKIP", "on": "ELIGIBLE_AUTO"},
                            "determination": "ELIGIBLE_AUTO", "reason_code": "SHADOWED", "citation": "test"})
    path = tmp_path_factory.mktemp("rules") / "shadowed.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path


def entry(result, policy, value):
    return next(r for r in result["readings"] if (r["policy"], r["value"]) == (policy, value))


def test_every_policy_and_every_value_other_than_the_runs_appears_once(readings):
    rs = load_rules()
    expected = [(name, str(v)) for name, spec in rs.policies.items() for v in spec["values"]
                if str(v) != str(spec["default"])]
    assert [(r["policy"], r["value"]) for r in readings["readings"]] == expected
    assert readings["baseline_changed"] == 0 and readings["rules_same_as_run"]
    disputed = {name for name, spec in rs.policies.items() if spec.get("disputed")}
    assert {r["policy"] for r in readings["readings"] if r["disputed"]} == disputed


def test_excluding_nonconviction_records_moves_each_eligible_nonconviction_charge_to_not_eligible(run, readings):
    charges = pd.read_parquet(run / "charges", columns=["disposition_class", "determination", "person_key"])
    eligible_nc = charges[(charges["disposition_class"] == "NONCONVICTION")
                          & (charges["determination"] == "ELIGIBLE_AUTO")]
    assert len(eligible_nc) > 0, "the sample should hold eligible non-conviction marijuana charges"
    moved = entry(readings, "nonconviction_records", "exclude")
    to_not = next(t for t in moved["transitions"] if (t["from"], t["to"]) == ("ELIGIBLE_AUTO", "NOT_ELIGIBLE"))
    assert to_not["charges"] == len(eligible_nc)
    assert to_not["people"] == eligible_nc["person_key"].nunique()
    assert not any(t["to"].startswith("ELIGIBLE_") and not t["from"].startswith("ELIGIBLE_")
                   for t in moved["transitions"])
    assert moved["people_affected_lower"]["change"] < 0


def test_each_value_gives_the_numbers_of_a_whatif_run_of_that_value(run, readings):
    for policy, value in (("nonconviction_records", "exclude"), ("felony_possession_limit", "three_ounces")):
        one = whatif(run, {policy: value})
        row = entry(readings, policy, value)
        assert row["charges_changed"] == one["charges_changed"] > 0
        assert row["people_changed"] == one["people_changed"]
        assert row["transitions"] == one["transitions"]
        assert sum(t["charges"] for t in row["transitions"]) == row["charges_changed"]
        for unit, key, name in (("people", "affected_lower", "people_affected_lower"),
                                ("people", "affected_upper", "people_affected_upper"),
                                ("charges", "eligible_lower", "charges_eligible_lower")):
            assert row[name] == {"before": one["before"][unit][key], "after": one["after"][unit][key],
                                 "change": one["after"][unit][key] - one["before"][unit][key]}


def test_a_value_that_moves_nothing_shows_zero(run, readings, shadowed_rules):
    result = each_policy(run, shadowed_rules)
    assert not result["rules_same_as_run"] and result["baseline_changed"] == 0
    row = entry(result, "shadowed", "on")
    assert row["charges_changed"] == 0 and row["people_changed"] == 0 and row["transitions"] == []
    assert row["people_affected_lower"]["change"] == 0
    # The other policies move what they move under the shipped file.
    assert [r for r in result["readings"] if r["policy"] != "shadowed"] == readings["readings"]


def test_each_policy_command_prints_one_table_and_json_on_request(run, shadowed_rules, tmp_path):
    text = CliRunner().invoke(main, ["whatif", str(run), "--each-policy", "--rules", str(shadowed_rules)])
    assert text.exit_code == 0, text.output
    line = next(x for x in text.output.splitlines() if x.startswith("shadowed "))
    assert "nothing moves" in line and line.split()[4:6] == ["0", "0"]
    assert "ELIGIBLE_AUTO -> NOT_ELIGIBLE" in text.output and "supervised_path *" in text.output
    out = tmp_path / "readings.json"
    js = CliRunner().invoke(main, ["whatif", str(run), "--each-policy", "--format", "json", "--out", str(out)])
    assert js.exit_code == 0, js.output
    assert json.loads(js.output) == json.loads(out.read_text()) == json.loads(json.dumps(each_policy(run)))


def test_each_policy_refuses_a_policy_override(run):
    result = CliRunner().invoke(main, ["whatif", str(run), "--each-policy", "--policy", "violence=case"])
    assert result.exit_code == 2 and "leave out --policy" in result.output


def test_whatif_counts_the_people_whose_charges_change(run):
    result = whatif(run, {"violence": "case"})
    assert 0 < result["people_changed"] <= result["charges_changed"]
    assert all(0 < t["people"] <= t["charges"] for t in result["transitions"])


def test_a_run_whose_export_had_no_readable_rows_moves_nothing(tmp_path):
    result = policy_readings(tmp_path, AS_OF)  # no charges/ folder
    assert result["readings"] and result["before"] is None
    assert all(r["charges_changed"] == r["people_changed"] == 0 and r["transitions"] == [] for r in result["readings"])


def test_the_report_page_leaves_the_table_out_above_its_limit_and_says_how_to_get_it(run, readings):
    n = readings["before"]["charges"]["total"]
    kept = report_readings(run, AS_OF, readings["policies"], limit=n)
    assert kept["readings"] == readings["readings"]
    skipped = report_readings(run, AS_OF, readings["policies"], limit=n - 1)
    assert skipped == {"skipped_charges": n, "limit": n - 1}
    assert "expunge whatif RUN --each-policy" in readings_section(skipped, 10)


def test_whatif_with_an_edited_copy_of_the_rule_file_uses_the_copys_defaults(tmp_path, run):
    from expunge.law.rules import default_ruleset_path
    from expunge.publish.whatif import whatif

    copy = tmp_path / "counsel.yaml"
    text = default_ruleset_path().read_text()
    copy.write_text(text.replace("  felony_possession_limit:\n    default: three_pounds",
                                 "  felony_possession_limit:\n    default: three_ounces"))
    edited = whatif(run, rules=copy)
    by_policy = whatif(run, {"felony_possession_limit": "three_ounces"})
    assert edited["policies_after"]["felony_possession_limit"] == "three_ounces"
    assert edited["policies_from"].startswith("the rule file")
    assert edited["charges_changed"] == by_policy["charges_changed"]


def test_whatif_names_the_policy_it_changed_and_the_move_in_each_county(run):
    from expunge.publish.whatif import whatif

    result = whatif(run, {"nonconviction_records": "exclude"})
    assert list(result["policies_changed"]) == ["nonconviction_records"]
    assert result["policies_changed"]["nonconviction_records"]["after"] == "exclude"
    counties = result["by_county"]
    assert sum(c["charges"] for c in counties) == result["charges_changed"] > 0
    assert all(sum(c["transitions"].values()) == c["charges"] for c in counties)


def _full_facts(data):
    """The facts of every charge of a run, as a re-decision without signatures builds them."""
    from expunge.publish.whatif import FACT_COLUMNS

    facts = data.charges[list(FACT_COLUMNS)].copy()
    facts["case_number"] = data.cases
    return facts


def test_deciding_one_case_of_each_signature_gives_every_charges_decision(run):
    from expunge.decide.engine import evaluate
    from expunge.publish.whatif import read_charges

    data = read_charges(run, AS_OF)
    rs = load_rules()
    rows, expand = data.signatures(rs)
    assert len(rows) < len(data.charges)  # cases alike are decided once
    for name, spec in rs.policies.items():
        for value in spec["values"]:
            chosen = rs.resolve_policies({name: str(value)})
            full = _full_facts(data)
            full.loc[data.conflated, "substance"] = "UNKNOWN"
            full["marijuana"] = full["substance"].isin(["MARIJUANA", "THC"])
            every = evaluate(full, rs, chosen, AS_OF)
            once = evaluate(full.iloc[rows].reset_index(drop=True), rs, chosen, AS_OF)
            for col in ("determination", "rule_id", "overdue"):
                assert (once[col].to_numpy()[expand] == every[col].to_numpy()).all(), (name, value, col)
