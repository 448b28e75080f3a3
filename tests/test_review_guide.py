"""A review queue that guides the answer: each row names the column that settles it, yes/no
questions take yes/no, an answer in the wrong column is refused, and fingerprints survive a
spreadsheet."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest

from expunge.decide.answers import (
    ReviewAnswerError,
    answer_guide,
    apply_answers,
    fingerprint,
    match_answers,
    validate_answers,
)
from tests.conftest import decide_one


def queue_row(**answers) -> pd.DataFrame:
    row = {"case_number": "A", "charge_seq": "1", "fingerprint": "fp-0123456789ab", "rule_id": "R12",
           "missing_fact": "substance", "question": "Which substance was involved?",
           "answer_column": "answer_substance", "allowed_answers": "MARIJUANA, THC, ..."}
    return pd.DataFrame([{**row, **answers}])


def test_each_missing_fact_names_the_answer_column_that_settles_it_and_its_answers():
    guide = answer_guide(pd.Series(["R12", "R15b", "R13b", "R11", "R20"]),
                         pd.Series(["substance", "amount_g", "substance", "route", "legal_reading"]))
    assert guide["answer_column"].tolist() == ["answer_substance", "answer_amount_g", "answer_yes_no",
                                               "answer_yes_no", "counsel"]
    assert guide["allowed_answers"].tolist()[1:3] == ["a number of grams", "YES, NO"]
    assert "MARIJUANA" in guide["allowed_answers"].iloc[0]


def test_an_answer_in_a_column_that_does_not_settle_the_row_is_refused_with_the_right_column():
    with pytest.raises(ReviewAnswerError, match=r"line 2, answer_amount_g: this row asks .*put the answer in "
                                                r"answer_substance"):
        validate_answers(queue_row(answer_amount_g="50"), "queue.csv")


def test_a_decision_settles_any_row():
    rows = validate_answers(queue_row(answer_decision="not_eligible"), "queue.csv")
    assert rows.iloc[0]["answer_decision"] == "NOT_ELIGIBLE"


def test_a_yes_no_answer_stands_for_the_fact_the_law_table_gives():
    rows = validate_answers(queue_row(rule_id="R13b", answer_column="answer_yes_no", answer_yes_no="yes"), "q.csv")
    assert rows.iloc[0]["answer_substance"] == "MARIJUANA"


def test_yes_or_no_on_a_question_that_is_not_yes_no_is_refused():
    with pytest.raises(ReviewAnswerError, match="not a yes/no question"):
        validate_answers(queue_row(answer_column="", answer_yes_no="YES"), "q.csv")


def test_paraphernalia_answered_yes_is_decided_as_marijuana_paraphernalia(tmp_path):
    before = decide_one(charge_description="POSSESSION OF DRUG PARAPHERNALIA", disposition="GUILTY PLEA",
                        level_raw="M")
    assert before["rule_id"] == "R13b"
    queue = queue_row(case_number=before["case_number"], charge_seq=str(before["charge_seq"]),
                      fingerprint=before["fingerprint"], rule_id="R13b", answer_column="answer_yes_no",
                      answer_yes_no="YES")
    queue.to_csv(tmp_path / "q.csv", index=False)
    apply_answers(tmp_path / "q.csv", tmp_path / "answers.csv")
    from expunge.decide.answers import load_answers
    from expunge.decide.charges import decide_charges
    from expunge.law.rules import load_rules
    from tests.conftest import AS_OF, make_charges

    rs = load_rules()
    rows = make_charges({"charge_description": "POSSESSION OF DRUG PARAPHERNALIA", "disposition": "GUILTY PLEA",
                         "level_raw": "M"})
    after = decide_charges(rows, rs, rs.default_policies(), AS_OF, answers=load_answers(tmp_path / "answers.csv"))
    assert after.counts.answers_applied == 1
    assert after.charges.iloc[0]["substance"] == "MARIJUANA" and after.charges.iloc[0]["rule_id"] != "R13b"


def test_a_fingerprint_is_a_token_no_spreadsheet_reads_as_a_number():
    prints = fingerprint(*(pd.Series([v]) for v in ("579.015-001Y202035", None, "POSS", "GUILTY")))
    token = prints.iloc[0]
    assert token.startswith("fp-") and len(token) == 15
    with pytest.raises(ValueError):
        float(token)


def test_an_answer_stored_before_the_fingerprint_prefix_still_applies():
    charges = pd.DataFrame({"case_number": ["A"], "charge_seq": [1]})
    prints = pd.Series(["fp-0123456789ab"])
    store = pd.DataFrame({"case_number": ["A"], "charge_seq": ["1"], "fingerprint": ["0123456789ab"],
                          "answer_substance": ["MARIJUANA"]})
    for col in ("answer_amount_g", "answer_offense_family", "answer_level", "answer_class", "answer_disposition",
                "answer_decision", "answer_violent"):
        store[col] = ""
    got, stale = match_answers(charges, store, prints)
    assert stale == 0 and got.iloc[0]["answer_substance"] == "MARIJUANA"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (.ci/run installs "
                    "Debian's libreoffice-writer-nogui)")
def test_a_queue_resaved_by_a_spreadsheet_program_applies(sample_run, tmp_path):
    queue = pd.read_csv(sample_run / "review_queue.csv", dtype=str, keep_default_na=False)
    q = queue.index[queue["answer_column"] == "answer_substance"][0]
    queue.loc[q, "answer_substance"] = "OTHER_DRUG"
    queue.to_csv(tmp_path / "answered.csv", index=False)
    profile = f"-env:UserInstallation=file://{tmp_path}/profile"
    utf8_csv = "csv:Text - txt - csv (StarCalc):44,34,76"  # comma, double quote, UTF-8
    for folder, target, source in (("xlsx", "xlsx", tmp_path / "answered.csv"),
                                   ("csv", utf8_csv, tmp_path / "xlsx" / "answered.xlsx")):
        subprocess.run(["soffice", profile, "--headless", "--convert-to", target, "--outdir", str(tmp_path / folder),
                        str(source)], check=True, capture_output=True, timeout=180)
    resaved = tmp_path / "csv" / "answered.csv"
    assert pd.read_csv(resaved, dtype=str).loc[q, "fingerprint"] == queue.loc[q, "fingerprint"]
    assert apply_answers(resaved, tmp_path / "answers.csv").answered == 1


def test_a_second_answer_to_the_same_charge_keeps_the_first(tmp_path):
    from expunge.decide.answers import load_answers

    apply_answers(_saved(tmp_path, "a.csv", queue_row(answer_substance="MARIJUANA", answer_note="per file")),
                  tmp_path / "answers.csv")
    amount = queue_row(rule_id="R15b", missing_fact="amount_g", answer_column="answer_amount_g",
                       allowed_answers="a number of grams", answer_amount_g="28.35")
    apply_answers(_saved(tmp_path, "b.csv", amount), tmp_path / "answers.csv")
    [stored] = load_answers(tmp_path / "answers.csv").to_dict("records")
    assert (stored["answer_substance"], stored["answer_amount_g"], stored["answer_note"]) == (
        "MARIJUANA", "28.35", "per file")


def test_a_charge_that_changed_starts_its_answers_over(tmp_path):
    from expunge.decide.answers import load_answers

    apply_answers(_saved(tmp_path, "a.csv", queue_row(answer_substance="MARIJUANA")), tmp_path / "answers.csv")
    changed = queue_row(fingerprint="fp-ffffffffffff", rule_id="R15b", missing_fact="amount_g",
                        answer_column="answer_amount_g", answer_amount_g="10")
    apply_answers(_saved(tmp_path, "b.csv", changed), tmp_path / "answers.csv")
    [stored] = load_answers(tmp_path / "answers.csv").to_dict("records")
    assert (stored["answer_substance"], stored["answer_amount_g"]) == ("", "10")


def test_the_answer_store_is_readable_by_its_owner_only(tmp_path):
    apply_answers(_saved(tmp_path, "a.csv", queue_row(answer_substance="MARIJUANA")), tmp_path / "answers.csv")
    assert (tmp_path / "answers.csv").stat().st_mode & 0o077 == 0


def test_a_case_level_question_answered_on_one_count_settles_every_count_that_asks_it():
    municipal = dict(rule_id="R11", missing_fact="route", answer_column="answer_yes_no", allowed_answers="YES, NO")
    queue = pd.concat([queue_row(case_number="M1", charge_seq="1", answer_yes_no="YES", **municipal),
                       queue_row(case_number="M1", charge_seq="2", **municipal),
                       queue_row(case_number="M2", charge_seq="1", **municipal)], ignore_index=True)
    rows = validate_answers(queue, "q.csv")
    assert sorted(zip(rows["case_number"], rows["charge_seq"], rows["answer_decision"], strict=True)) == [
        ("M1", "1", "ELIGIBLE_PETITION"), ("M1", "2", "ELIGIBLE_PETITION")]


def test_a_level_question_takes_the_class_beside_the_level():
    rows = validate_answers(queue_row(rule_id="R22", missing_fact="level", answer_column="answer_level",
                                      answer_level="F", answer_class="E"), "q.csv")
    assert (rows.iloc[0]["answer_level"], rows.iloc[0]["answer_class"]) == ("F", "E")


def test_an_answer_in_the_wrong_column_is_refused_once():
    with pytest.raises(ReviewAnswerError) as err:
        validate_answers(queue_row(answer_amount_g="lots"), "queue.csv")
    assert str(err.value).count("line 2") == 1


def _saved(tmp_path, name, frame):
    frame.to_csv(tmp_path / name, index=False)
    return tmp_path / name


def test_a_row_waiting_on_counsel_takes_no_clerk_answer_but_a_decision():
    counsel = dict(rule_id="R20", missing_fact="legal_reading", answer_column="counsel", question="Covered?")
    with pytest.raises(ReviewAnswerError, match="waits on counsel's reading"):
        validate_answers(queue_row(answer_substance="MARIJUANA", **counsel), "q.csv")
    assert validate_answers(queue_row(answer_decision="NOT_ELIGIBLE", **counsel), "q.csv").iloc[0][
        "answer_decision"] == "NOT_ELIGIBLE"
