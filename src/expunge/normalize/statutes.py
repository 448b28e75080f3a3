"""Statutes: the second rung. A statute cited in any spelling is parsed to its section and
subsection and read against the law's statute table (a drug chapter says a drug offense, not which drug)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from expunge.law import readings
from expunge.normalize.catalog import Reference

DRUG_CHAPTERS: tuple[str, ...] = tuple(str(c) for c in readings()["statutes"]["drug_chapters"])


_STATUTE_RE = (
    r"(?P<chapter>\d{1,3}[A-Z]?)\.(?P<sec>\d{3,4})"
    r"(?:\s*\.\s*(?P<s1>\d{1,2})|\s*\(\s*(?P<p1>\d{1,2})\s*\))?"
    r"(?:\s*\(\s*(?P<p2>\d{1,2})\s*\)|\s*\.\s*(?P<s2>\d{1,2}))?"
)


def parse_statutes(raw: pd.Series) -> pd.DataFrame:
    """Parse statute citations: ``RSMo 579.015``, ``579.015.4``, ``579015``, ``571.030.1(11)``.

    Returns ``section`` (``579.015``), ``subsection`` (``4`` or ``1(11)``) and
    ``statute_normalized`` (``579.015.4``); nulls where nothing parses.
    """
    s = raw.fillna("").astype("str").str.upper().str.strip()
    digits_only = s.str.fullmatch(r"\d{5,7}")
    d = s.where(digits_only, "")
    s = s.mask(
        digits_only,
        np.select(
            [d.str.len() == 5, d.str.len() == 6, d.str.len() == 7],
            [d.str[:2] + "." + d.str[2:], d.str[:3] + "." + d.str[3:], d.str[:3] + "." + d.str[3:]],
            default=d,
        ),
    )
    p = s.str.extract(_STATUTE_RE)
    section = p["chapter"] + "." + p["sec"]
    first = p["s1"].fillna(p["p1"])
    second = p["p2"].fillna(p["s2"])
    sub = first.where(second.isna(), first + "(" + second + ")")
    out = pd.DataFrame(index=raw.index)
    out["section"] = section
    out["subsection"] = sub
    out["statute_normalized"] = section.where(sub.isna(), section + "." + sub)
    return out


def statute_facts(section: pd.Series, subsection: pd.Series, ref: Reference) -> pd.DataFrame:
    """Offense facts from the statute table: the most specific row wins
    (``571.030.1(11)`` over ``571.030``); unknown sections fall back to the chapter default
    (drug chapters 195/579: ``DRUG_UNSPECIFIED``; any other chapter: ``NON_DRUG``)."""
    table = ref.statutes.set_index("statute")
    full = section.astype("str").str.cat(subsection.astype("str"), sep=".").where(subsection.notna())
    out = pd.DataFrame(index=section.index)
    cols = ["offense_family", "substance_scope", "level", "class", "amount_max_g"]
    by_full = table.reindex(full.fillna("~")).set_axis(section.index)[cols]
    by_section = table.reindex(section.fillna("~")).set_axis(section.index)[cols]
    explicit = by_full["offense_family"].notna()
    for c in cols:
        out[c] = by_full[c].where(explicit, by_section[c])
    out["explicit"] = out["offense_family"].notna()
    chapter = section.str.extract(r"^(\d{1,3})\.", expand=False)
    default = np.where(chapter.isin(DRUG_CHAPTERS), "DRUG_UNSPECIFIED", "NON_DRUG")
    has_section = section.notna()
    out["offense_family"] = out["offense_family"].where(
        out["explicit"], pd.Series(default, index=section.index).where(has_section)
    )
    out["substance_scope"] = out["substance_scope"].where(
        out["explicit"],
        pd.Series(np.where(chapter.isin(DRUG_CHAPTERS), "ANY", "NONE"), index=section.index).where(has_section),
    )
    for c in ("level", "class", "amount_max_g"):
        out[c] = out[c].replace("", None)
    return out
