"""Every MSHP charge code, with each drug modifier it allows, decided as its own case.

Evidence, not absence (ELIGIBILITY.md v2): a charge whose record shows marijuana is never
closed except by an exclusion that names itself, and a description that names no known
offense goes to a person. The table comes from ../shared/data/mshp (skipped without it).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expunge.decide.probe import MARIJUANA_MODIFIERS, decide_code_table
from expunge.normalize.descriptions import names_non_drug_offense
from expunge.normalize.text import canonicalize
from tests.conftest import decide

#: Rules that may close a marijuana-modifier charge: exclusions naming themselves (weapon,
#: DUI, minors and protected places) and a serving felony outside § 2.10(7)(a)c.
SELF_NAMING_EXCLUSIONS = {"R02", "R03", "R04", "R16"}


def _decide_table(shared: Path, with_codes: bool) -> pd.DataFrame:
    mshp = shared / "mshp"
    return decide_code_table(mshp / "charge_codes_2021-08-05.csv", mshp / "charge_ncic_modifiers_2021-08-05.csv",
                             load_codes=with_codes)


@pytest.fixture(scope="module")
def shipped_reference_table(shared_data):
    return _decide_table(shared_data, with_codes=False)


@pytest.fixture(scope="module")
def official_codes_table(shared_data):
    return _decide_table(shared_data, with_codes=True)


def _closed_marijuana_rows(table: pd.DataFrame) -> pd.DataFrame:
    mj = table["probe_modifier"].isin(MARIJUANA_MODIFIERS)
    closed = table["determination"] == "NOT_ELIGIBLE"
    return table[mj & closed & ~table["rule_id"].isin(SELF_NAMING_EXCLUSIONS)]


def test_no_marijuana_modifier_charge_is_closed_without_a_self_naming_exclusion_shipped_reference(
        shipped_reference_table):
    bad = _closed_marijuana_rows(shipped_reference_table)
    assert bad[["probe_code", "probe_modifier", "probe_wording", "rule_id"]].to_dict("records") == []


def test_no_marijuana_modifier_charge_is_closed_without_a_self_naming_exclusion_official_codes(
        official_codes_table):
    bad = _closed_marijuana_rows(official_codes_table)
    assert bad[["probe_code", "probe_modifier", "probe_wording", "rule_id"]].to_dict("records") == []


def test_non_drug_codes_are_closed_by_their_code_not_sent_to_review(official_codes_table, shared_data):
    table = official_codes_table
    codes = pd.read_csv(shared_data / "mshp" / "charge_codes_2021-08-05.csv", dtype=str, keep_default_na=False)
    non_drug = set(codes.loc[codes["ncic_category"] != "35", "charge_code"].str.strip().str.upper())
    rows = table[table["probe_code"].isin(non_drug) & table["probe_wording"].str.startswith("code")
                 & table["probe_modifier"].isna()]
    in_review = (rows["determination"] == "NEEDS_REVIEW").mean()
    assert len(rows) > 15_000
    assert in_review < 0.003, rows.loc[rows["determination"] == "NEEDS_REVIEW", "description_raw"].head(20).tolist()


def test_marijuana_delivery_code_read_as_another_drug_takes_the_modifier():
    row = decide(dict(charge_code="579.086-001Y202035", ncic_modifier="3560",
                      charge_description="UNLAWFUL DELIVERY OF CONTROLLED SUBSTANCE BY MANUFACTURE OR DISTRIBUTOR"))
    assert (row["offense_family"].iloc[0], row["substance"].iloc[0]) == ("MJ_DELIVERY", "MARIJUANA")
    assert row["determination"].iloc[0] != "NOT_ELIGIBLE"


# --------------------------------------------------------------------------- unknown text

_LETTERS = "BCDFGHJKLMNPQRSTVWXZ" + "AEIOUY"


def _unknown_word(word: str) -> bool:
    """A word the project's vocabulary does not know: canonicalizing leaves it as it is, and
    it is not (the start of) a word naming a known offense."""
    text = pd.Series([word])
    return canonicalize(text)["text"].iloc[0] == word and not names_non_drug_offense(text).iloc[0]


_words = st.text(alphabet=_LETTERS, min_size=2, max_size=11).filter(_unknown_word)
_placeholders = st.lists(_words, min_size=1, max_size=5).map(" ".join)
_damaged = st.tuples(_placeholders, st.sampled_from(["", "**", " - ", "#", "???", " / ", "(", "CT 3 "])).map(
    lambda p: (p[1] + p[0]) if p[1].startswith("CT") else p[0] + p[1])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(text=st.one_of(_placeholders, _damaged), cut=st.integers(min_value=1, max_value=40))
def test_text_of_unknown_words_without_code_or_statute_goes_to_review(text, cut):
    description = text[: max(1, cut)] if cut < len(text) else text
    row = decide(dict(charge_code=None, statute=None, charge_description=description)).iloc[0]
    assert row["determination"] == "NEEDS_REVIEW", (description, row["rule_id"], row["offense_family"])


@pytest.mark.parametrize("placeholder", ["REFER TO COMPLAINT", "PER PA FILING", "CONVERTED - NO TEXT", "CT 3", "**",
                                         "SEE ATTACHED", "AMENDED INFO", "XXXXX"])
def test_placeholder_descriptions_without_code_are_offense_unrecognized(placeholder):
    row = decide(dict(charge_code=None, statute=None, charge_description=placeholder)).iloc[0]
    assert (row["rule_id"], row["offense_family"]) == ("R07", "UNKNOWN")


def test_no_charge_is_decided_eligible_whose_true_substance_is_not_marijuana_unless_an_assumption_says_so(tmp_path):
    # False-eligible stays 0 on a messy generated export: the only eligible charges whose true
    # substance is another drug carry the conflated-code policy's caveat, or are paraphernalia
    # riding on a marijuana charge of their case (R13a), as the rule table says.
    from datetime import date

    from expunge.decide.charges import decide_charges
    from expunge.decide.facts import BIT
    from expunge.law.rules import load_rules
    from expunge.sample import read_sample_charges, write_sample

    export, truth_path = tmp_path / "messy.csv", tmp_path / "truth.csv"
    write_sample(export, 20_000, seed=11, messiness=0.8, truth_path=truth_path)
    charges = read_sample_charges(export)
    truth = pd.read_csv(truth_path, dtype=str, keep_default_na=False)
    rs = load_rules()
    decided = decide_charges(charges, rs, rs.default_policies(), date(2026, 11, 27)).charges
    eligible = decided["determination"].str.startswith("ELIGIBLE").to_numpy()
    not_mj = ~truth["expected_substance"].isin(["MARIJUANA", "THC"]).to_numpy()
    assumed = (decided["caveat_bits"].to_numpy() & BIT["SUBSTANCE_ASSUMED_MARIJUANA"]) != 0
    riding = (decided["rule_id"] == "R13a").to_numpy()
    assert int((eligible & not_mj & ~assumed & ~riding).sum()) == 0
    assert eligible.sum() > 1000
