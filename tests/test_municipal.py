"""A municipal ordinance case a clerk routes to a § 610.140 petition gets the municipal draft,
in its county's circuit, with the ordinance number and the municipal court."""

from __future__ import annotations

import docx
import pandas as pd

from expunge.decide.answers import apply_answers
from expunge.ops.run import run_pipeline
from tests.conftest import AS_OF, DEFAULTS

MUNICIPAL = {**DEFAULTS, "case_number": "13CO-MU00042", "court": "MUNICIPAL COURT OF COLUMBIA", "county": "BOONE",
             "case_type": "MU", "statute": "17-240", "charge_description": "POSSESSION OF MARIJUANA - CITY",
             "charge_level": "L", "disposition": "GUILTY PLEA", "last_name": "ROE", "first_name": "RICHARD",
             "dob": "1988-07-09"}


def test_a_municipal_case_answered_yes_gets_a_610_140_draft_in_its_countys_circuit(tmp_path):
    export = tmp_path / "export.csv"
    pd.DataFrame([{k: v for k, v in MUNICIPAL.items() if k != "expunged"}]).to_csv(export, index=False)
    first = run_pipeline([export], tmp_path / "out", AS_OF, run_id="first", workers=1)
    queue = pd.read_csv(first / "review_queue.csv", dtype=str, keep_default_na=False)
    [row] = queue.index[queue["rule_id"] == "R11"].tolist()
    assert queue.loc[row, "answer_column"] == "answer_yes_no"
    queue.loc[row, "answer_yes_no"] = "yes"
    queue.to_csv(tmp_path / "answered.csv", index=False)
    apply_answers(tmp_path / "answered.csv", tmp_path / "answers.csv")

    second = run_pipeline([export], tmp_path / "out", AS_OF, run_id="second", workers=1,
                          answers=tmp_path / "answers.csv")
    charge = pd.read_parquet(second / "charges").iloc[0]
    assert (charge["determination"], charge["rule_id"]) == ("ELIGIBLE_PETITION", "CLERK")
    [draft] = (second / "petitions").rglob("*.docx")
    assert draft.parent.parent.parent.name == "circuit-13" and draft.stem.endswith("-municipal")
    document = docx.Document(draft)
    text = "\n".join(p.text for p in document.paragraphs)
    cells = " ".join(c.text for r in document.tables[0].rows for c in r.cells)
    assert "§ 610.140" in text and "MUNICIPAL COURT OF COLUMBIA" in text
    assert "Ordinance 17-240" in cells and "Date of birth: 1988-07-09" in text
    assert "Prosecuting Attorney of Boone County" not in text and "Prosecuting attorney of the municipality" in text
