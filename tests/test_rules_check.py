"""`expunge rules check [PATH...]`: every problem of the law folder and of the given rule
files in one run (expunge.law.check_law); else each file's rules."""

from __future__ import annotations

from click.testing import CliRunner

from expunge.cli import main
from expunge.law import law_file
from expunge.law.rules import load_rules


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_three_different_errors_of_one_file_and_the_error_of_another_are_listed_in_one_run(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "ruleset: x\nversion: 3\neffective_date: 2022-12-08\n"
        "rules:\n"
        "  - {id: A, when: {colour: red}, determination: NOT_ELIGIBLE, reason_code: X, citation: c}\n"
        "  - {id: B, when: {}, determination: MAYBE, reason_code: Y, citation: c, deadline: someday}\n")
    also = tmp_path / "also.yaml"
    also.write_text("ruleset: y\nversion: 1\neffective_date: 2022-12-XX\nrules:\n"
                    "  - {id: Z, when: {}, determination: NOT_ELIGIBLE, reason_code: Z, citation: c}\n")
    result = invoke("rules", "check", str(bad), str(also))
    assert result.exit_code == 1
    for problem in ("unknown fact 'colour'", "determination 'MAYBE' is not one of",
                    "deadline 'someday' is not defined", "'2022-12-XX' is not a date"):
        assert problem in result.output, problem
    assert str(bad) in result.output and str(also) in result.output


def test_a_missing_file_is_a_problem_too(tmp_path):
    result = invoke("rules", "check", str(tmp_path / "none.yaml"))
    assert result.exit_code == 1 and "Cannot read rule file" in result.output


def test_good_files_are_listed_with_their_rules():
    v1 = law_file("mo-a3.v1.yaml")
    result = invoke("rules", "check", str(v1))
    assert result.exit_code == 0, result.output
    rs = load_rules(v1)
    assert f"{rs.name} v{rs.version}: {len(rs.rules)} rules, sha256 {rs.sha256[:12]}" in result.output
    assert all(f"  {r.id:<5} {r.determination:<18} {r.reason_code}" in result.output for r in rs.rules)


def test_without_a_path_the_shipped_rule_files_are_checked_and_listed():
    result = invoke("rules", "check")
    assert result.exit_code == 0, result.output
    for name in ("mo-a3.v2.yaml", "mo-a3.v1.yaml"):
        rs = load_rules(name)
        assert f"{rs.name} v{rs.version}: {len(rs.rules)} rules" in result.output
