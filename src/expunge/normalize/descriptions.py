"""Descriptions: the third rung, read for evidence only. Words that name a drug, a conduct,
an amount, a weapon, impaired driving, violence or a known non-drug offense; what no word names stays unknown."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from expunge.law import readings
from expunge.normalize.catalog import MatchConfig
from expunge.normalize.text import canonicalize

GRAMS_PER: dict[str, float] = {k: float(v) for k, v in readings()["amounts"]["grams_per"].items()}


_SUB = readings()["substance_words"]


_CONDUCT = readings()["conduct_words"]


_MJ, _SYN, _THC = _SUB["marijuana"], _SUB["synthetic"], _SUB["thc"]


_OTHER_DRUGS, _NOT_SUBSTANCE = _SUB["other_drug"], _SUB["not_a_substance"]


_DRUG_CONTEXT = "|".join([_MJ, _SYN, _SUB["drug_context"], _OTHER_DRUGS])


_EXCEPT, _NEGATED = _SUB["except_phrase"], _SUB["negated"]


_POSSESS, _DELIVER, _MANUFACTURE = _CONDUCT["possession"], _CONDUCT["delivery"], _CONDUCT["manufacture"]


_TRAFFIC, _MINOR, _PROTECTED = _CONDUCT["trafficking"], _CONDUCT["minor"], _CONDUCT["protected_location"]


_WEAPON = _CONDUCT["weapon"]


_DUI_LAW = readings()["dui"]


# Impaired operation of any conveyance (the amendment's exclusion): a phrase that is DUI by
# itself, or a conveyance word and an impairment word in either order.
_DUI = (_DUI_LAW["phrases"] + "|(?:" + _DUI_LAW["conveyance"] + ").*(?:" + _DUI_LAW["impairment"] + ")|(?:"
        + _DUI_LAW["impairment"] + ").*(?:" + _DUI_LAW["conveyance"] + ")")


_VIOLENT = readings()["violence"]["injury"] + "|" + readings()["violence"]["offenses"]


#: Evidence of a known non-drug offense: a word starting with one of the law's stems.
#: Stems of three letters or fewer (MV, BUS, TAX) are whole words: as prefixes they would
#: make damaged text ("TAXQ") read as an offense.
_NON_DRUG_OFFENSE = r"\b(?:" + "|".join(
    re.escape(str(stem)).replace(r"\ ", r"\s+") + (r"\b" if len(str(stem)) <= 3 else "")
    for stem in readings()["non_drug_offense_stems"]["stems"]) + ")"


def names_non_drug_offense(text: pd.Series) -> pd.Series:
    """Whether canonical description text names a known non-drug offense (positive
    evidence for NON_DRUG: ``law/readings.yaml``, ``non_drug_offense_stems``)."""
    return text.str.contains(_NON_DRUG_OFFENSE, regex=True)


def violent(text: pd.Series) -> pd.Series:
    """Whether canonical text names injury, death or an offense of violence (R11v)."""
    return text.str.contains(_VIOLENT, regex=True)


def describe(descriptions: pd.Series, config: MatchConfig | None = None) -> pd.DataFrame:
    """Facts read from description text. Expects distinct values (works on any).

    Returns columns ``desc_canonical``, ``desc_family``, ``desc_substance`` (MARIJUANA,
    THC, SYNTHETIC_CANNABINOID, CONFLATED, OTHER_DRUG, EXCEPT35 or null),
    ``desc_amount_g``, ``desc_level_hint``, ``desc_score``, ``desc_band`` (confident,
    review, none) and ``desc_uncertain`` (the near-miss drug words, for the review queue).
    A description whose only drug evidence is a near-miss word ("MARAJAUNA") is in the
    review band: its family is UNKNOWN rather than NON_DRUG. Evidence, not absence: a
    description without drug words is NON_DRUG only when it names a known non-drug offense
    (``names_non_drug_offense``); placeholders and damaged text are UNKNOWN.
    """
    cfg = config or MatchConfig.load()
    canon = canonicalize(descriptions, accept=cfg.token_fuzzy_accept, review_floor=cfg.token_review_floor)
    t = canon["text"]
    except_hit = t.str.contains(_EXCEPT, regex=True)
    negated = t.str.contains(_NEGATED, regex=True)
    # Substance words are read outside any EXCEPT / negated phrase.
    # Words on how a drug was obtained ("WITHOUT PRESCRIPTION", "COUNTERFEIT") name none.
    free = (t.str.replace(_EXCEPT, " ", regex=True).str.replace(_NEGATED, " ", regex=True)
            .str.replace(_NOT_SUBSTANCE, " ", regex=True))
    mj = free.str.contains(_MJ, regex=True)
    thc = free.str.contains(_THC, regex=True)
    syn = free.str.contains(_SYN, regex=True)
    other = free.str.contains(_OTHER_DRUGS, regex=True) | negated
    substance = np.select(
        [
            (mj | thc) & other,
            syn & other,
            mj & syn,
            syn,
            thc & ~mj,
            mj | thc,
            other,
            except_hit,
        ],
        [
            "",
            "",
            "CONFLATED",
            "SYNTHETIC_CANNABINOID",
            "THC",
            "MARIJUANA",
            "OTHER_DRUG",
            "EXCEPT35",
        ],
        default="",
    )

    drug = t.str.contains(_DRUG_CONTEXT, regex=True)
    weapon = t.str.contains(_WEAPON, regex=True)
    dui = t.str.contains(_DUI, regex=True)
    dist = t.str.contains(_DELIVER, regex=True)
    mfg = t.str.contains(_MANUFACTURE, regex=True)
    traffic = t.str.contains(_TRAFFIC, regex=True)
    minor = t.str.contains(_MINOR, regex=True)
    protected = t.str.contains(_PROTECTED, regex=True)
    possess = t.str.contains(_POSSESS, regex=True)
    para = t.str.contains(_CONDUCT["paraphernalia"], regex=True)
    weapon_drug = weapon & (drug | t.str.contains(_CONDUCT["weapon_subsection"], regex=True))
    # Evidence, not absence: NON_DRUG needs a word naming a known non-drug offense.
    named = names_non_drug_offense(t)
    family = np.select(
        [
            weapon_drug,
            weapon,
            dui,
            ~drug & ~named,
            ~drug,
            (dist | mfg | traffic) & minor,
            (dist | mfg | traffic) & protected,
            para,
            traffic,
            mfg,
            dist,
            possess,
        ],
        [
            "WEAPON_WHILE_POSSESSING",
            "NON_DRUG",
            "DUI",
            "UNKNOWN",
            "NON_DRUG",
            "DELIVERY_TO_MINOR",
            "PROTECTED_LOCATION",
            "PARAPHERNALIA",
            "MJ_TRAFFICKING",
            "MJ_MANUFACTURE",
            "MJ_DELIVERY",
            "MJ_POSSESSION",
        ],
        default="DRUG_UNSPECIFIED",
    )
    doubtful = (canon["uncertain"] != "") & ~drug & ~weapon & ~dui
    family = np.where(doubtful, "UNKNOWN", family)
    band = np.select([family == "UNKNOWN", doubtful], ["none", "review"], default="confident")
    band = np.where(doubtful, "review", band)
    return pd.DataFrame(
        {
            "desc_canonical": t,
            "desc_family": family,
            "desc_band": band,
            "desc_uncertain": canon["uncertain"],
            "desc_substance": pd.Series(substance, index=t.index).replace("", None),
            "desc_amount_g": amount_g(free),
            "desc_level_hint": canon["level_hint"],
            "desc_score": canon["token_score"],
            "desc_violent": violent(t),
        },
        index=descriptions.index,
    )


_AMOUNT = re.compile(
    r"(?P<pre>(?:\b(?:LT|LE|GT|GE|UNDER|OVER|BELOW|ABOVE|UP TO|LESS THAN|MORE THAN|NOT MORE THAN|"
    r"NOT OVER|EXCEEDING|AT LEAST|AT MOST|MAX|MAXIMUM|MINIMUM)\s+)*)"
    r"(?P<num>\d+(?:\.\d+)?)(?:\s+(?:TO|AND|OR)?\s*(?P<num2>\d+(?:\.\d+)?))?\s*"
    r"(?P<unit>GRAMS|OUNCES|POUNDS|KILOGRAMS|MG)\b"
    r"(?P<post>\s+OR\s+(?:LESS|UNDER|MORE|OVER))?"
)


_UPPER = re.compile(r"\b(?:LT|LE|UNDER|BELOW|UP TO|LESS THAN|NOT MORE THAN|NOT OVER|AT MOST|MAX)")


_LOWER = re.compile(r"\b(?:GT|GE|OVER|ABOVE|MORE THAN|EXCEEDING|AT LEAST|MINIMUM)\b")


def amount_g(text: pd.Series) -> pd.Series:
    """Amount in grams stated by canonical description text (distinct values).

    A stated range or ceiling gives its upper bound ("11 35 GRAMS" -> 35, "LT 2 OUNCES" ->
    56.7); a bare amount gives itself; a floor alone ("OVER 35 GRAMS") leaves it unknown.
    """
    values: list[float | None] = []
    for s in text:
        uppers: list[float] = []
        exact: list[float] = []
        for m in _AMOUNT.finditer(s):
            factor = GRAMS_PER[m.group("unit")]
            pre, post = m.group("pre") or "", m.group("post") or ""
            num = float(m.group("num")) * factor
            if m.group("num2"):
                uppers.append(float(m.group("num2")) * factor)
            elif (_UPPER.search(pre) and not pre.strip().startswith("NOT MORE THAN OVER")) or post.endswith(
                ("LESS", "UNDER")
            ):
                uppers.append(num)
            elif _LOWER.search(pre) or post.endswith(("MORE", "OVER")):
                continue
            else:
                exact.append(num)
        if uppers:
            values.append(round(min(uppers), 2))
        elif exact:
            values.append(round(max(exact), 2))
        else:
            values.append(None)
    return pd.Series(values, index=text.index, dtype="Float64")
