"""The review round trip, end to end: run, answer two questions, run again."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from expunge.cli import main
from expunge.decide.answers import ReviewAnswerError, apply_answers
from tests.conftest import AS_OF, SAMPLE


def run(tmp_path, run_id, *extra):
    result = CliRunner().invoke(main, ["run", str(SAMPLE), "--out", str(tmp_path / "out"), "--as-of",
                                       AS_OF.isoformat(), "--run-id", run_id, "--orchestrator", "none",
                                       "--cache-dir", str(tmp_path / "cache"), *extra])
    assert result.exit_code == 0, result.output
    return tmp_path / "out" / run_id


def test_answered_questions_are_decided_and_never_asked_again(tmp_path):
    first = run(tmp_path, "first")
    queue = pd.read_csv(first / "review_queue.csv", dtype=str, keep_default_na=False)
    amount_q = queue[queue["reason_code"] == "AMOUNT_UNKNOWN"].index[0]
    substance_q = queue[queue["reason_code"] == "SUBSTANCE_UNVERIFIED"].index[0]
    queue.loc[amount_q, "answer_amount_g"] = "120"
    queue.loc[substance_q, "answer_substance"] = "OTHER_DRUG"
    edited = tmp_path / "answered.csv"
    queue.to_csv(edited, index=False)

    applied = CliRunner().invoke(main, ["review", "apply", str(edited), "--answers", str(tmp_path / "answers.csv")])
    assert applied.exit_code == 0 and "Stored 2 answers" in applied.output

    second = run(tmp_path, "second", "--answers", str(tmp_path / "answers.csv"))
    again = pd.read_csv(second / "review_queue.csv", dtype=str, keep_default_na=False)
    asked = set(zip(again["case_number"], again["charge_seq"], strict=True))
    for q in (amount_q, substance_q):
        assert (queue.loc[q, "case_number"], queue.loc[q, "charge_seq"]) not in asked
    assert len(again) == len(queue) - 2
    charges = pd.read_parquet(second / "charges")
    row = charges[(charges["case_number"] == queue.loc[substance_q, "case_number"])
                  & (charges["charge_seq"] == int(queue.loc[substance_q, "charge_seq"]))].iloc[0]
    assert (row["determination"], row["rule_id"]) == ("NOT_ELIGIBLE", "R05")


def test_a_clerk_decision_overrides_the_rules_with_its_own_rule_id(tmp_path):
    first = run(tmp_path, "first")
    queue = pd.read_csv(first / "review_queue.csv", dtype=str, keep_default_na=False)
    q = queue[queue["reason_code"] == "FELONY_E_DELIVERY_OR_CULTIVATION"].index[0]
    queue.loc[q, "answer_decision"] = "eligible_petition"
    queue.to_csv(tmp_path / "a.csv", index=False)
    apply_answers(tmp_path / "a.csv", tmp_path / "answers.csv")
    second = run(tmp_path, "second", "--answers", str(tmp_path / "answers.csv"))
    charges = pd.read_parquet(second / "charges")
    row = charges[(charges["case_number"] == queue.loc[q, "case_number"])
                  & (charges["charge_seq"] == int(queue.loc[q, "charge_seq"]))].iloc[0]
    assert (row["determination"], row["rule_id"], row["reason_code"]) == (
        "ELIGIBLE_PETITION", "CLERK", "CLERK_DECISION")


def test_bad_answers_are_reported_by_line_and_column_and_nothing_is_stored(tmp_path):
    queue = pd.DataFrame({"case_number": ["A", "B"], "charge_seq": ["1", "2"], "fingerprint": ["x", "y"],
                          "answer_substance": ["weed", ""], "answer_amount_g": ["", "lots"]})
    queue.to_csv(tmp_path / "q.csv", index=False)
    with pytest.raises(ReviewAnswerError) as err:
        apply_answers(tmp_path / "q.csv", tmp_path / "answers.csv")
    assert "line 2, answer_substance: 'weed' is not one of MARIJUANA" in str(err.value)
    assert "line 3, answer_amount_g: 'lots' is not a number of grams" in str(err.value)
    assert not (tmp_path / "answers.csv").exists()


def test_an_answer_stops_applying_when_the_charge_changes(tmp_path):
    from expunge.decide.answers import load_answers
    from expunge.decide.charges import decide_charges
    from expunge.law.rules import load_rules
    from tests.conftest import decide, make_charges  # noqa: F401

    rows = make_charges({"charge_code": "579.015-001Y202035", "charge_description": "POSS CONTROLLED SUBSTANCE"})
    rs = load_rules()
    first = decide_charges(rows, rs, rs.default_policies(), AS_OF).charges
    store = tmp_path / "answers.csv"
    pd.DataFrame({"case_number": ["1622-CR00001"], "charge_seq": ["1"], "fingerprint": [first.iloc[0]["fingerprint"]],
                  "answer_substance": ["MARIJUANA"], "answer_amount_g": ["50"]}).to_csv(store, index=False)
    answers = load_answers(store)
    same = decide_charges(rows, rs, rs.default_policies(), AS_OF, answers=answers)
    changed = decide_charges(rows.assign(charge_description="POSS CS - AMENDED"), rs, rs.default_policies(), AS_OF,
                             answers=answers)
    assert same.charges.iloc[0]["rule_id"] == "R18"
    assert (same.counts.answers_applied, same.counts.answers_stale) == (1, 0)
    assert changed.charges.iloc[0]["rule_id"] == "R12"
    assert (changed.counts.answers_applied, changed.counts.answers_stale) == (0, 1)


def test_whatif_moves_counts_under_another_policy_without_rereading_the_export(tmp_path):
    from expunge.publish.whatif import whatif

    first = run(tmp_path, "base")
    same = whatif(first)
    assert same["charges_changed"] == 0
    moved = whatif(first, {"nonconviction_records": "exclude"})
    assert moved["charges_changed"] > 0
    # Excluding non-convictions never makes a charge eligible that was not; paraphernalia that
    # depended on an excluded marijuana charge (R13a) falls back to review (R13b) or to the
    # path of the marijuana charge left beside it.
    assert not any(t["to"].startswith("ELIGIBLE") and not t["from"].startswith("ELIGIBLE")
                   for t in moved["transitions"])
    assert moved["after"]["charges"]["eligible_lower"] < moved["before"]["charges"]["eligible_lower"]


def test_whatif_flips_the_conflated_code_policy_in_both_directions(tmp_path):
    from expunge.publish.whatif import whatif

    review_run = run(tmp_path, "rev", "--policy", "conflated_code_without_modifier=review")
    back = whatif(review_run, {"conflated_code_without_modifier": "assume_marijuana"})
    assume_run = run(tmp_path, "assume")
    direct = pd.read_parquet(assume_run / "charges")["determination"].value_counts().to_dict()
    assert back["after"]["charges"]["by_determination"] == direct


def test_whatif_command_prints_before_and_after(tmp_path):
    first = run(tmp_path, "base")
    result = CliRunner().invoke(main, ["whatif", str(first), "--policy", "post_effective_conduct=not_eligible"])
    assert result.exit_code == 0, result.output
    assert "before" in result.output and "NEEDS_REVIEW -> NOT_ELIGIBLE" in result.output


def test_review_rows_waiting_on_a_legal_reading_are_grouped_for_counsel_not_clerks():
    from expunge.publish.outputs import review_queue
    from tests.conftest import decide

    decided = decide({"charge_seq": 1, "charge_code": "579.020-005Y201735", "ncic_modifier": "60",
                      "charge_description": "DELIVERY OF 35 GRAMS OR LESS OF MARIJUANA"},
                     {"charge_seq": 2, "charge_code": "579.015-001Y202035",
                      "charge_description": "POSSESSION OF CONTROLLED SUBSTANCE EXCEPT 35 GRAMS OR LESS OF MARIJUANA"})
    queue = review_queue(decided)
    assert dict(zip(queue["reason_code"], queue["waits_on"], strict=True)) == {
        "FELONY_E_DELIVERY_OR_CULTIVATION": "counsel: FELONY_E_DELIVERY_OR_CULTIVATION",
        "SUBSTANCE_UNVERIFIED": "clerk"}


def test_a_missing_answers_store_is_created_empty_and_owner_only(tmp_path):
    from expunge.decide.answers import create_store, load_answers

    store = tmp_path / "answers.csv"
    assert create_store(store) is True
    assert (store.stat().st_mode & 0o777) == 0o600
    assert load_answers(store).empty
    assert create_store(store) is False


def test_an_answers_store_in_a_folder_that_does_not_exist_is_refused(tmp_path):
    from expunge.decide.answers import create_store

    with pytest.raises(ReviewAnswerError, match="folder of the answers file"):
        create_store(tmp_path / "nowhere" / "answers.csv")
