"""Crosswalk, official MSHP table, review band, conflicts and the description cache."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from expunge.cli import main
from expunge.decide.facts import caveat_text
from expunge.normalize.catalog import CatalogError, MatchConfig
from expunge.normalize.crosswalk import load_crosswalk
from expunge.normalize.mshp import read_mshp_charge_codes
from expunge.normalize.offenses import Normalizer, normalize_offenses
from tests.conftest import SAMPLE, decide, decide_one, make_charges

MSHP_ROW = ("{legacy},M,A,20170101,99991231,Y,{short},Y,Y,Y,N,MISDRG,35,579015,{long},N,N,M,{code},N\n")


def headerless_mshp(tmp_path, rows):
    path = tmp_path / "ChargeCodeCSV.csv"
    path.write_text("".join(MSHP_ROW.format(**r) for r in rows))
    return path


def crosswalk_file(tmp_path, body):
    path = tmp_path / "crosswalk.csv"
    path.write_text("match_on,value,offense_family,substance,statute,level,class,amount_g,note\n" + body)
    return path


def test_crosswalk_answer_for_a_description_is_applied_before_fuzzy_matching(tmp_path):
    cw = crosswalk_file(tmp_path, "description,MISC DRUG CHG 4,MJ_POSSESSION,MARIJUANA,579.015.4,M,D,8,clerk\n")
    norm = Normalizer.build(crosswalk=cw)
    rows = make_charges({"charge_description": "misc drug chg 4"})
    out = normalize_offenses(rows, norm).iloc[0]
    assert (out["match_source"], out["offense_family"], out["crosswalk_substance"]) == (
        "crosswalk", "MJ_POSSESSION", "MARIJUANA")


def test_crosswalk_decides_a_charge_that_would_otherwise_need_review(tmp_path):
    from datetime import date

    from expunge.decide.charges import decide_charges
    from expunge.law.rules import load_rules

    cw = crosswalk_file(tmp_path, "charge_code,195.020-998Y195035,MJ_POSSESSION,MARIJUANA,,M,A,,file read\n")
    rs = load_rules()
    rows = make_charges({"charge_code": "195.020-998Y195035", "charge_description": "DRUG VIOLATION"})
    before = decide_charges(rows, rs, rs.default_policies(), date(2026, 11, 27)).charges.iloc[0]
    after = decide_charges(rows, rs, rs.default_policies(), date(2026, 11, 27),
                           norm=Normalizer.build(crosswalk=cw)).charges
    assert before["rule_id"] == "R12" and after.iloc[0]["rule_id"] == "R17"


def test_crosswalk_errors_name_the_line_and_column(tmp_path):
    cw = crosswalk_file(tmp_path, "description,X,MJ_POSESSION,,,,,,\nsomething,Y,,MARIJUANA,,,,,\n")
    with pytest.raises(CatalogError) as err:
        load_crosswalk(cw)
    assert "line 2, offense_family: 'MJ_POSESSION'" in str(err.value)
    assert "line 3, match_on: 'something'" in str(err.value)


def test_official_headerless_charge_code_table_is_read_in_the_published_column_order(tmp_path):
    path = headerless_mshp(tmp_path, [{"legacy": "", "short": "STEALING", "long": "STEALING",
                                       "code": "570.030-001Y201770"}])
    table = read_mshp_charge_codes(path)
    assert table.loc[0, "charge_code"] == "570.030-001Y201770" and table.loc[0, "charge_type"] == "M"


def test_official_table_with_the_wrong_columns_is_rejected(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(CatalogError, match="has 3 columns"):
        read_mshp_charge_codes(path)


def test_official_table_resolves_codes_the_shipped_reference_lacks(tmp_path):
    path = headerless_mshp(tmp_path, [{"legacy": "", "short": "STEALING", "long": "STEALING",
                                       "code": "570.030-001Y201770"}])
    frame = pd.DataFrame({"charge_code": ["570.030-001Y201770"], "charge_description": [None]})
    shipped = normalize_offenses(frame).iloc[0]
    official = normalize_offenses(frame, Normalizer.build(charge_codes=path)).iloc[0]
    assert shipped["match_method"] == "statute"
    assert (official["match_method"], official["offense_family"], official["ref_level"]) == (
        "charge_code", "NON_DRUG", "M")


def test_official_table_is_used_by_the_real_mshp_file(shared_data):
    norm = Normalizer.build(charge_codes=shared_data / "mshp" / "charge_codes_2021-08-05.csv")
    assert len(norm.reference.codes) == 8301
    frame = pd.DataFrame({"charge_code": ["565.024-001Y202009"]})
    assert normalize_offenses(frame, norm).iloc[0]["offense_family"] == "NON_DRUG"


def test_near_miss_drug_word_puts_the_description_in_the_review_band_with_candidates():
    row = decide_one(charge_description="POSSESSION OF MARAJAUNA")
    assert row["rule_id"] == "R07" and "MARAJAUNA~MARIJUANA" in row["match_candidates"]


def test_non_drug_typo_does_not_reach_the_review_band():
    assert decide_one(charge_description="EXCEEDED POSTED SPEED LIMITT")["rule_id"] == "R05"


def test_code_and_description_disagreeing_on_marijuana_go_to_review():
    rows = decide({"charge_code": "195.202-003Y200935", "charge_description": "POSSESSION OF COCAINE"})
    assert rows.iloc[0]["rule_id"] == "R12"
    assert "SUBSTANCE_CONFLICT" in caveat_text(rows["caveat_bits"]).iloc[0]


def test_modifier_for_marijuana_outranks_a_cocaine_description_and_says_they_disagree():
    # ELIGIBILITY.md v2: the modifier outranks any description word; the conflict stays visible.
    row = decide_one(charge_code="579.015-001Y202035", ncic_modifier="62", charge_description="POSS COCAINE")
    assert (row["substance"], row["rule_id"]) == ("MARIJUANA", "R19")
    assert "SUBSTANCE_CONFLICT" in caveat_text(pd.Series([row["caveat_bits"]])).iloc[0]


def test_agreeing_sources_are_not_a_conflict():
    rows = decide({"charge_code": "195.202-003Y200935", "ncic_modifier": "62", "charge_description": "POSS MARIJ"})
    assert "SUBSTANCE_CONFLICT" not in caveat_text(rows["caveat_bits"]).iloc[0]


def test_descriptions_are_read_once_and_cached_between_runs(tmp_path, monkeypatch):
    import expunge.normalize.offenses as off

    norm = Normalizer.build(cache_dir=tmp_path)
    frame = pd.DataFrame({"charge_description": ["POSS MARIJ <35G", "STEALING"]})
    first = normalize_offenses(frame, norm)
    assert list(tmp_path.glob("descriptions-*.parquet"))

    def must_not_run(*_a, **_k):
        raise AssertionError("a cached description was read again")

    monkeypatch.setattr(off, "describe", must_not_run)
    second = normalize_offenses(frame, norm)
    pd.testing.assert_series_equal(first["offense_family"], second["offense_family"])


def test_cache_key_changes_with_the_thresholds(tmp_path):
    a = Normalizer.build(cache_dir=tmp_path)
    cfg = tmp_path / "n.yaml"
    cfg.write_text("reference_accept: 95\n")
    b = Normalizer.build(config=cfg, cache_dir=tmp_path)
    assert a.description_version != b.description_version


def test_thresholds_file_rejects_unknown_settings(tmp_path):
    cfg = tmp_path / "n.yaml"
    cfg.write_text("reference_acept: 95\n")
    with pytest.raises(CatalogError, match="reference_acept"):
        MatchConfig.load(cfg)


def test_normalize_report_gives_shares_per_rung_and_unmatched_descriptions():
    result = CliRunner().invoke(main, ["normalize-report", str(SAMPLE), "--top", "5"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["rows"] == 4000 and report["quarantined_rows"] == 12
    assert abs(sum(report["share_by_method"].values()) - 1) < 0.01
    assert set(report) >= {"distinct_descriptions", "review_band_rows", "top_unmatched_descriptions", "normalizer"}


def test_level_conflict_on_a_marijuana_charge_goes_to_review_for_the_level():
    rows = decide({"charge_code": "579.015-004Y202035", "ncic_modifier": "62", "charge_description": "POSS MARIJ",
                   "charge_level": "FELONY", "charge_class": "D"})
    assert rows.iloc[0]["rule_id"] == "R22" and rows.iloc[0]["missing_fact"] == "level"
    assert "LEVEL_CONFLICT" in caveat_text(rows["caveat_bits"]).iloc[0]


def test_level_conflict_on_a_non_marijuana_charge_is_only_a_caveat():
    rows = decide({"charge_code": "579.015-004Y202035", "ncic_modifier": "32", "charge_description": "POSS COCAINE",
                   "charge_level": "F"})
    assert rows.iloc[0]["rule_id"] == "R05"
    assert "LEVEL_CONFLICT" in caveat_text(rows["caveat_bits"]).iloc[0]


def test_description_amount_above_the_offense_definition_is_a_caveat():
    rows = decide({"charge_code": "579.015-004Y202035", "ncic_modifier": "62",
                   "charge_description": "POSS MARIJUANA 50 GRAMS"})
    assert rows.iloc[0]["amount_g"] == 50
    assert "AMOUNT_CONFLICT" in caveat_text(rows["caveat_bits"]).iloc[0]
