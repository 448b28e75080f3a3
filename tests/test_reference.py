"""The shipped offense reference agrees with the real MSHP charge-code table, and the
normalizer never reads the EXCEPT-35-grams wording of any real MSHP description as marijuana."""

from __future__ import annotations

import pandas as pd

from expunge.law.values import FAMILIES
from expunge.normalize.descriptions import describe
from expunge.normalize.mshp import load_reference


def test_every_reference_code_exists_in_the_mshp_table_with_the_same_level_and_class(shared_data):
    mshp = pd.read_csv(shared_data / "mshp" / "charge_codes_2021-08-05.csv", dtype=str, keep_default_na=False)
    mshp = mshp.set_index("charge_code")
    ref = load_reference().codes
    full = (
        ref["code"].str.split("-").str[0]
        + "-"
        + ref["seq"]
        + ref["fingerprint"]
        + ref["version_year"]
        + ref["ncic_category"]
    )
    assert full.isin(mshp.index).all()
    got = mshp.loc[full, ["charge_type", "classification"]].to_numpy().tolist()
    assert got == ref[["level", "class"]].to_numpy().tolist()


def test_reference_covers_every_code_family_the_rules_name():
    families = set(load_reference().codes["offense_family"])
    assert set(FAMILIES) - {"NON_DRUG", "UNKNOWN"} <= families


def test_no_real_except_35_grams_description_reads_as_marijuana(shared_data):
    mshp = pd.read_csv(shared_data / "mshp" / "charge_codes_2021-08-05.csv", dtype=str, keep_default_na=False)
    texts = pd.concat([mshp["short_description"], mshp["long_description"]])
    trap = texts[texts.str.contains(r"EXC\w*\s.*35", regex=True)].drop_duplicates()
    assert len(trap) >= 10
    facts = describe(trap.reset_index(drop=True))
    assert not facts["desc_substance"].isin(["MARIJUANA", "THC", "CONFLATED"]).any()
