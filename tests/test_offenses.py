"""Charge codes, statutes, modifiers and descriptions: every format the ladder accepts."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expunge.decide.dispositions import disposition_class
from expunge.law.values import FAMILIES
from expunge.normalize.codes import modifier_substance, parse_charge_codes
from expunge.normalize.descriptions import amount_g, describe
from expunge.normalize.offenses import normalize_offenses
from expunge.normalize.statutes import parse_statutes
from expunge.normalize.text import canonicalize


def one(fn, value):
    return fn(pd.Series([value])).iloc[0]


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("579.015-004Y202035", "579.015-004Y202035"),
        ("579.015-004", "579.015-004"),
        ("579.015 - 004 Y2020 35", "579.015-004Y202035"),
        ("579.015--004Y202035", "579.015-004Y202035"),
        ("579.015-004Y202035620", "579.015-004Y202035"),
        ("32457", "32457"),
        ("ORD579.0-001Y202135", "ORD579.0-001Y202135"),
    ],
)
def test_charge_code_formats_normalize(raw, normalized):
    assert one(parse_charge_codes, raw)["charge_code_normalized"] == normalized


def test_legacy_eight_digit_code_carries_its_modifier():
    parsed = one(parse_charge_codes, "32450620")
    assert (parsed["legacy_code"], parsed["code_modifier"]) == ("32450", "62")


@pytest.mark.parametrize(
    ("raw", "statute"),
    [
        ("RSMo 579.015", "579.015"),
        ("579.015.4", "579.015.4"),
        ("579015", "579.015"),
        ("571.030.1(11)", "571.030.1(11)"),
        ("Section 195.202 RSMo", "195.202"),
        ("4071138", "407.1138"),
    ],
)
def test_statute_citations_parse(raw, statute):
    assert one(parse_statutes, raw)["statute_normalized"] == statute


@pytest.mark.parametrize(
    ("mod", "substance"),
    [
        ("62", "MARIJUANA"),
        ("3562", "MARIJUANA"),
        ("35-64", "MARIJUANA"),
        ("42", "OTHER_DRUG"),
        ("3532", "OTHER_DRUG"),
        ("12", "OTHER_DRUG"),
        ("50", None),
        ("99", None),
        ("", None),
    ],
)
def test_ncic_modifier_names_the_substance(mod, substance):
    got = modifier_substance(pd.Series([mod]), pd.Series([None]))["modifier_substance"].iloc[0]
    assert (None if pd.isna(got) else got) == substance


def test_modifier_of_another_category_says_nothing_about_drugs():
    got = modifier_substance(pd.Series(["5299"]), pd.Series([None]))["modifier_substance"].iloc[0]
    assert pd.isna(got)


@pytest.mark.parametrize(
    ("text", "grams"),
    [
        ("POSSESSION MARIJUANA LT 35 GRAMS", 35.0),
        ("POSSESSION MARIJUANA 11 35 GRAMS", 35.0),
        ("POSSESSION MARIJUANA 2 OUNCES", 56.7),
        ("POSSESSION MARIJUANA 3 POUNDS", 1360.78),
        ("POSSESSION MARIJUANA 1.5 KILOGRAMS", 1500.0),
        ("POSSESSION MARIJUANA GT 4 OUNCES LE 5 POUNDS", 2267.96),
        ("POSSESSION MARIJUANA OVER 35 GRAMS", None),
        ("POSSESSION OF MARIJUANA 10 GRAMS OR LESS", 10.0),
    ],
)
def test_amounts_in_every_unit_give_grams_or_unknown(text, grams):
    got = amount_g(pd.Series([text])).iloc[0]
    assert (None if pd.isna(got) else round(float(got), 2)) == grams


def test_amount_inside_an_except_phrase_is_not_the_charge_amount():
    facts = describe(pd.Series(["POSS CONTROLLED SUBSTANCE EXCEPT 35 GRAMS OR LESS OF MARIJUANA"])).iloc[0]
    assert pd.isna(facts["desc_amount_g"]) and facts["desc_substance"] == "EXCEPT35"


@pytest.mark.parametrize(
    ("desc", "family"),
    [
        ("POSS MARIJ <35G", "MJ_POSSESSION"),
        ("DEL MARIJ <35G", "MJ_DELIVERY"),
        ("CULTIVATION OF MARIJUANA 5 PLANTS", "MJ_MANUFACTURE"),
        ("TRAFFICKING DRUGS - 2ND DEGREE", "MJ_TRAFFICKING"),
        ("POSS DRUG PARAPH", "PARAPHERNALIA"),
        ("DIST CONT SUB TO MINOR", "DELIVERY_TO_MINOR"),
        ("DWI - DRUG INTOXICATION", "DUI"),
        ("UUW - POSS FIREARM WHILE POSS CONTROLLED SUBSTANCE", "WEAPON_WHILE_POSSESSING"),
        ("STEALING", "NON_DRUG"),
        ("DRUG VIOLATION", "DRUG_UNSPECIFIED"),
        ("SEE FILE", "UNKNOWN"),
        ("MANUFACTURE OF 35 GRAMS OR LES", "MJ_MANUFACTURE"),
    ],
)
def test_description_families(desc, family):
    assert describe(pd.Series([desc]))["desc_family"].iloc[0] == family


def test_truncated_description_still_reaches_its_family():
    # MSHP short descriptions are cut at 30 characters.
    assert describe(pd.Series(["UNLAWFUL POSSESSION OF DRUG PA"]))["desc_family"].iloc[0] in (
        "PARAPHERNALIA",
        "MJ_POSSESSION",
    )


def test_ladder_prefers_the_charge_code_over_the_description():
    frame = pd.DataFrame({"charge_code": ["579.015-004Y202035"], "charge_description": ["STEALING"]})
    out = normalize_offenses(frame).iloc[0]
    assert (out["match_method"], out["offense_family"], out["match_score"]) == ("charge_code", "MJ_POSSESSION", 100.0)


def test_ladder_uses_the_statute_when_there_is_no_code():
    out = normalize_offenses(pd.DataFrame({"statute": ["579.015.4"], "charge_description": [None]})).iloc[0]
    assert (out["match_method"], out["offense_family"]) == ("statute", "MJ_POSSESSION")


def test_ladder_falls_back_to_the_description_and_records_a_score():
    out = normalize_offenses(pd.DataFrame({"charge_description": ["poss of marihuana"]})).iloc[0]
    assert out["match_method"] == "fuzzy" and 0 < out["match_score"] <= 100


def test_description_naming_a_drug_beats_a_statute_chapter_default_with_a_caveat():
    out = normalize_offenses(pd.DataFrame({"statute": ["570.030"], "charge_description": ["POSSESSION OF MARIJUANA"]}))
    assert out.iloc[0]["offense_family"] == "MJ_POSSESSION"
    assert out.iloc[0]["match_caveats"] == "STATUTE_DESCRIPTION_CONFLICT"


def test_code_without_year_tail_takes_the_version_in_force_on_the_offense_date():
    # 571.030-019 (weapon while possessing) was a class D felony until 2016, class E after.
    frame = pd.DataFrame(
        {"charge_code": ["571.030-019", "571.030-019"], "offense_date": pd.to_datetime(["2015-06-01", "2019-06-01"])}
    )
    out = normalize_offenses(frame)
    assert list(out["ref_class"]) == ["D", "E"]


def test_year_tail_of_the_code_picks_its_version_whatever_the_offense_date():
    frame = pd.DataFrame({"charge_code": ["571.030-019Y201452"], "offense_date": pd.to_datetime(["2019-06-01"])})
    assert normalize_offenses(frame)["ref_class"].iloc[0] == "D"


@pytest.mark.parametrize(
    ("text", "klass"),
    [
        ("GUILTY PLEA", "CONVICTED"),
        ("SIS", "SIS"),
        ("NOLLE PROSEQUI", "NONCONVICTION"),
        ("DISMISSED BY PROSECUTOR", "NONCONVICTION"),
        ("FOUND GUILTY", "CONVICTED"),
        ("Not Guilty", "NONCONVICTION"),
        ("SES 2 YRS PROB", "CONVICTED"),
        ("Plea of Guilty - SIS", "SIS"),
        ("SIS REVOKED", "CONVICTED"),
        ("PENDING", "PENDING"),
        ("DISP-SEE FILE", "UNKNOWN"),
    ],
)
def test_disposition_classes(text, klass):
    assert disposition_class(pd.Series([text]))["disposition_class"].iloc[0] == klass


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_code_and_statute_parsers_never_crash(s):
    parse_charge_codes(pd.Series([s]))
    parse_statutes(pd.Series([s]))
    modifier_substance(pd.Series([s]), pd.Series([None]))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_description_reader_never_crashes(s):
    out = describe(pd.Series([s]))
    assert out["desc_family"].iloc[0] in FAMILIES


def test_canonical_text_of_reference_descriptions_is_stable():
    text = canonicalize(pd.Series(["POSSESS CONTROL SUBSTANCE EXCEPT 35 GRAMS OR LESS MARIJUANA/SYNTHETIC CANNABINOD"]))
    assert "EXCEPT 35 GRAMS" in text["text"].iloc[0] and "CANNABINOID" in text["text"].iloc[0]


@pytest.mark.parametrize("text", ["PLEA OF NOT GUILTY", "PLED NOT GUILTY", "DEFENDANT PLEADS NOT GUILTY"])
def test_a_plea_of_not_guilty_is_an_open_case_not_an_acquittal(text):
    assert disposition_class(pd.Series([text]))["disposition_class"].iloc[0] == "PENDING"


def test_found_not_guilty_is_still_an_acquittal():
    assert disposition_class(pd.Series(["FOUND NOT GUILTY"]))["disposition_class"].iloc[0] == "NONCONVICTION"


def brute_force_match(text: str, refs: pd.DataFrame, k: int, floor: float) -> tuple[str, list[str]]:
    """The reference match by definition: token_sort_ratio against every reference
    description, best first (ties by position), k distinct codes at or above the floor."""
    from rapidfuzz import fuzz

    scores = [int(fuzz.token_sort_ratio(text, c) + 0.5) for c in refs["canonical"]]
    order = sorted(range(len(scores)), key=lambda j: (-scores[j], j))[: k * 4]
    parts, seen = [], set()
    for j in order:
        code = refs.at[j, "code"]
        if code in seen or scores[j] < floor:
            continue
        seen.add(code)
        parts.append(f"{code} {refs.at[j, 'short_description'] or refs.at[j, 'description']} ({scores[j]})")
        if len(parts) == k:
            break
    return (refs.at[order[0], "code"] if scores[order[0]] >= floor else ""), parts


def test_reference_matching_gives_what_scoring_every_reference_gives_on_real_strings(shared_data):
    from expunge.normalize.catalog import MatchConfig
    from expunge.normalize.mshp import load_reference
    from expunge.normalize.offenses import _reference_descriptions, match_reference

    real = pd.read_csv(shared_data / "real" / "offense_strings_labeled.csv", dtype=str, keep_default_na=False)
    texts = canonicalize(real["raw_text"].sample(120, random_state=4))["text"]
    texts = pd.concat([texts, texts.head(5)], ignore_index=True)  # repeats are scored once, answered each time
    ref, config = load_reference(shared_data / "mshp" / "charge_codes_2021-08-05.csv"), MatchConfig.load()
    got = match_reference(texts, ref, config)
    refs = _reference_descriptions(ref)
    for i, text in texts.items():
        code, parts = brute_force_match(text, refs, config.top_candidates, config.reference_review_floor)
        assert got.at[i, "ref_candidates"] == "; ".join(parts), text
        if code:
            assert got.at[i, "ref_code"] == code, text
