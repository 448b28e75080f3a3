"""Charge codes and NCIC modifiers: the first rung of the ladder. A code in any format the
exports use is parsed to its section, sequence and NCIC tail; a marijuana modifier names the drug and its conduct."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from expunge.law import readings

_CODE_RE = re.compile(
    r"^(?P<section>[A-Z]*\d*\.\d{1,4}[A-Z]?)-?(?P<seq>\d{3})"
    r"(?P<fp>[YN])?(?P<year>(?:19|20)\d{2})?(?P<ncic>\d{2})?(?P<mod>\d{2})?(?P<aac>\d)?"
    r"(?:[._]+)?$"
)


def parse_charge_codes(raw: pd.Series) -> pd.DataFrame:
    """Split raw charge codes into parts. Works on any strings; unparseable -> nulls.

    Returns columns ``section``, ``seq``, ``year``, ``code_ncic``, ``code_modifier``,
    ``legacy_code`` and ``charge_code_normalized`` (``section-seq`` plus the MSHP tail when
    the record had one).
    """
    s = raw.fillna("").astype("str").str.upper().str.replace(r"[\s]+", "", regex=True)
    s = s.str.replace(r"-{2,}", "-", regex=True).str.strip("-")
    parts = s.str.extract(_CODE_RE.pattern)
    legacy = s.str.extract(r"^(?P<legacy>\d{5})(?P<lmod>\d{2})?(?P<laac>\d)?$")
    out = pd.DataFrame(index=raw.index)
    out["section"] = parts["section"]
    out["seq"] = parts["seq"]
    out["year"] = parts["year"]
    out["code_ncic"] = parts["ncic"]
    out["code_modifier"] = parts["mod"].fillna(legacy["lmod"])
    out["legacy_code"] = legacy["legacy"]
    base = out["section"] + "-" + out["seq"]
    tail = parts["fp"].fillna("") + parts["year"].fillna("") + parts["ncic"].fillna("")
    out["charge_code_normalized"] = (base + tail).where(out["section"].notna(), out["legacy_code"])
    return out


def modifier_substance(ncic_modifier: pd.Series, code_ncic: pd.Series) -> pd.DataFrame:
    """Substance and conduct named by the NCIC modifier that completes the charge code.

    Accepts ``62``, ``3562``, ``35-62`` and ``35 62``. Category 35 (dangerous drugs), read
    as ``law/readings.yaml`` (``ncic``) says: 60-64 marijuana, 50 and 99 no drug, any other
    modifier another drug (35-40..43 synthetic narcotic included).

    Returns columns ``ncic_modifier_normalized`` (4 digits, e.g. ``3562``),
    ``modifier_substance`` (MARIJUANA, OTHER_DRUG or null) and ``modifier_conduct`` (the
    family a marijuana modifier's conduct gives: 60/61 delivery, 62 possession, 63
    manufacture; null for 64 and every other modifier).
    """
    law = readings()["ncic"]
    d = ncic_modifier.fillna("").astype("str").str.replace(r"\D", "", regex=True)
    cat = pd.Series(np.where(d.str.len() == 4, d.str[:2], code_ncic.fillna("")), index=d.index)
    mod = pd.Series(
        np.select([d.str.len() == 4, d.str.len() == 2, d.str.len() == 3], [d.str[2:], d, d.str[:2]], default=""),
        index=d.index,
    )
    cat = cat.where(cat != "", law["drug_category"]).where(mod != "", "")
    is_drug = cat == law["drug_category"]
    marijuana = is_drug & mod.isin(law["marijuana"])
    sub = np.select([marijuana, is_drug & (mod.isin(law["no_drug"]) | ~mod.str.fullmatch(r"\d\d")), is_drug],
                    ["MARIJUANA", "", "OTHER_DRUG"], default="")
    conduct = mod.map(law["conduct"]).where(marijuana)
    return pd.DataFrame(
        {
            "ncic_modifier_normalized": (cat + mod).where(mod != "", None),
            "modifier_substance": pd.Series(sub, index=d.index).replace("", None),
            "modifier_conduct": conduct.astype("object"),
        },
        index=d.index,
    )
