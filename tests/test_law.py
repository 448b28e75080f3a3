"""The law folder: one loader validates every file and lists every problem at once."""

from __future__ import annotations

import yaml

from expunge.law import check_law, code_readings_problems, law_file, readings_problems


def test_the_shipped_law_folder_has_no_problem():
    assert check_law() == []


def test_readings_problems_lists_every_mistake_at_once():
    doc = yaml.safe_load(law_file("readings.yaml").read_text())
    doc["dui"]["phrases"] = "(unclosed"
    doc["ncic"]["conduct"]["60"] = "MJ_SALE"
    doc["non_drug_offense_stems"]["stems"] = []
    del doc["violence"]
    problems = readings_problems(doc)
    assert len(problems) == 4
    assert any("dui.phrases" in p for p in problems) and any("MJ_SALE" in p for p in problems)
    assert any("violence" in p for p in problems) and any("stems" in p for p in problems)


def test_code_readings_need_a_known_family_scope_reason_and_citation(tmp_path):
    bad = tmp_path / "code_readings.csv"
    bad.write_text("section,seq,offense_family,substance_scope,statute,amount_max_g,reason,citation\n"
                   "579.015,001,MJ_POSESSION,EXCEPT35,579.015.2,,reason,§ 579.015.2 RSMo\n"
                   "579.015,002,MJ_POSSESSION,MJ_SYN,579.015.3,35,,\n")
    problems = code_readings_problems(bad)
    assert [p.split(":")[0] for p in problems] == ["code_readings.csv line 2", "code_readings.csv line 3"]


def test_every_shipped_code_reading_carries_a_reason_and_a_citation():
    import pandas as pd

    codes = pd.read_csv(law_file("offense_codes.csv"), dtype=str, keep_default_na=False)
    assert (codes["reading_reason"] != "").all() and (codes["reading_citation"] != "").all()
