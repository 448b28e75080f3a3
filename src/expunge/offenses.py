"""Offense normalization: which offense is each charge?

Stage: normalize. Input columns: ``charge_code``, ``ncic_modifier``, ``statute``,
``charge_description`` (any may be missing). Output columns: ``charge_code_normalized``,
``statute_normalized``, ``offense_family``, ``substance_scope``, ``ref_level``,
``ref_class``, ``amount_max_g``, ``modifier_substance``, ``desc_substance``,
``desc_amount_g``, ``desc_level_hint``, ``match_method``, ``match_score``, ``match_caveats``.

The ladder, in order of trust (ELIGIBILITY.md): the full charge code (any format: new
``579.015-004Y202035`` with or without its year tail or appended modifier, legacy 5-digit,
stray spaces and dashes), then the statute with its subsection, then the description. A
rung that identifies the offense wins; a description that names a drug overrides only a
statute's *chapter default* and says so in a caveat.

Every parser here runs once per distinct raw value and is joined back, so the cost tracks
the number of distinct codes, statutes and descriptions, not the number of rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from expunge.distinct import per_distinct
from expunge.text import canonicalize

FAMILIES = (
    "MJ_POSSESSION",
    "PARAPHERNALIA",
    "MJ_DELIVERY",
    "MJ_MANUFACTURE",
    "MJ_TRAFFICKING",
    "DELIVERY_TO_MINOR",
    "PROTECTED_LOCATION",
    "DUI",
    "WEAPON_WHILE_POSSESSING",
    "OTHER_DRUG",
    "DRUG_UNSPECIFIED",
    "NON_DRUG",
    "UNKNOWN",
)
#: Drug families whose substance can still be marijuana.
SUBSTANCE_FAMILIES = (
    "MJ_POSSESSION",
    "PARAPHERNALIA",
    "MJ_DELIVERY",
    "MJ_MANUFACTURE",
    "MJ_TRAFFICKING",
    "DRUG_UNSPECIFIED",
)
DRUG_CHAPTERS = ("195", "579")

#: Reference-description match needed before a description adopts a code's facts.
REFERENCE_ACCEPT = 90.0

GRAMS_PER = {"GRAMS": 1.0, "OUNCES": 28.349523125, "POUNDS": 453.59237, "KILOGRAMS": 1000.0, "MG": 0.001}


# --------------------------------------------------------------------------- reference


@dataclass(frozen=True)
class Reference:
    """The offense reference: charge codes (with versions) and statutes."""

    codes: pd.DataFrame
    statutes: pd.DataFrame
    version: str

    @property
    def descriptions(self) -> pd.DataFrame:
        return _reference_descriptions(self)


def _read_reference_csv(name: str) -> pd.DataFrame:
    path = resources.files("expunge") / "reference" / name
    with path.open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype="str", keep_default_na=False)


@lru_cache(maxsize=1)
def load_reference() -> Reference:
    """Load the offense reference the project ships (``src/expunge/reference/``)."""
    import hashlib

    codes = _read_reference_csv("offense_codes.csv")
    statutes = _read_reference_csv("statutes.csv")
    codes["effective"] = pd.to_datetime(codes["effective_date"], format="%Y%m%d")
    codes["inactive"] = pd.to_datetime(codes["inactive_date"].str.replace("99991231", "22620101"), format="%Y%m%d")
    digest = hashlib.sha256()
    for name in ("offense_codes.csv", "statutes.csv", "abbreviations.csv"):
        digest.update((resources.files("expunge") / "reference" / name).read_bytes())
    return Reference(codes=codes, statutes=statutes, version=digest.hexdigest()[:12])


@lru_cache(maxsize=4)
def _reference_descriptions_cached(version: str) -> pd.DataFrame:
    ref = load_reference()
    codes = ref.codes
    rows = pd.concat(
        [
            codes[["code", "version_year", "short_description"]].rename(columns={"short_description": "description"}),
            codes[["code", "version_year", "long_description"]].rename(columns={"long_description": "description"}),
        ],
        ignore_index=True,
    )
    # Ordinance codes repeat state wording; lending their level "L" to a state-court
    # description would be wrong, so descriptions are matched against state codes only.
    rows = rows[(rows["description"] != "") & ~rows["code"].str.startswith("ORD")]
    rows = rows.drop_duplicates(["code", "description"])
    canon = canonicalize(rows["description"].reset_index(drop=True))
    rows = rows.reset_index(drop=True)
    rows["canonical"] = canon["text"]
    latest = codes.sort_values("effective").drop_duplicates("code", keep="last")
    return rows.merge(latest.drop(columns=["version_year"]), on="code", how="left")


def _reference_descriptions(ref: Reference) -> pd.DataFrame:
    return _reference_descriptions_cached(ref.version)


# --------------------------------------------------------------------------- charge codes

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
    """Substance named by the NCIC modifier that completes the charge code.

    Accepts ``62``, ``3562``, ``35-62`` and ``35 62``. Category 35 (dangerous drugs):
    60–64 marijuana, 42/43 synthetic (ELIGIBILITY.md), 50 and 99 name no drug, any other
    modifier names another drug.

    Returns columns ``ncic_modifier_normalized`` (4 digits, e.g. ``3562``) and
    ``modifier_substance`` (MARIJUANA, SYNTHETIC_CANNABINOID, OTHER_DRUG or null).
    """
    d = ncic_modifier.fillna("").astype("str").str.replace(r"\D", "", regex=True)
    cat = pd.Series(np.where(d.str.len() == 4, d.str[:2], code_ncic.fillna("")), index=d.index)
    mod = pd.Series(
        np.select([d.str.len() == 4, d.str.len() == 2, d.str.len() == 3], [d.str[2:], d, d.str[:2]], default=""),
        index=d.index,
    )
    cat = cat.where(cat != "", "35").where(mod != "", "")
    num = pd.to_numeric(mod, errors="coerce")
    is_drug = cat == "35"
    sub = np.select(
        [
            is_drug & num.between(60, 64),
            is_drug & num.isin([42, 43]),
            is_drug & (num.isin([50, 99]) | num.isna()),
            is_drug,
        ],
        ["MARIJUANA", "SYNTHETIC_CANNABINOID", "", "OTHER_DRUG"],
        default="",
    )
    return pd.DataFrame(
        {
            "ncic_modifier_normalized": (cat + mod).where(mod != "", None),
            "modifier_substance": pd.Series(sub, index=d.index).replace("", None),
        },
        index=d.index,
    )


# --------------------------------------------------------------------------- statutes

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
    full = (section + "." + subsection).where(subsection.notna())
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


# --------------------------------------------------------------------------- descriptions

_MJ = r"\b(?:MARIJUANA|CANNABIS|HASHISH)\b"
_SYN = r"\bSYNTHETIC CANNABINOID|\bCANNABINOID\b"
_OTHER_DRUGS = (
    r"\b(?:COCAINE|HEROIN|METHAMPHETAMINE|AMPHETAMINE|FENTANYL|OPIUM|OPIATE|OXYCODONE|"
    r"HYDROCODONE|MORPHINE|CODEINE|LSD|PCP|ECSTASY|PSILOCYBIN|BARBITURATE|BENZODIAZEPINE|"
    r"ALPRAZOLAM|KLONOPIN|EPHEDRINE|GHB|FLUNITRAZEPAM|KETAMINE|PRECURSOR|IMITATION|"
    r"SCHEDULE (?:I{2,3}|IV|V|2|3|4|5)\b|PRESCRIPTION)\b"
)
# An amount in grams is a drug signal too: truncation often cuts the drug word off
# ("MANUFACTURE OF 35 GRAMS OR LES") but keeps the amount.
_DRUG_CONTEXT = (
    _MJ
    + "|"
    + _SYN
    + r"|\bTHC\b|CONTROLLED SUBSTANCE|\bDRUG\b|\bNARCOTIC\b|\bPARAPHERNALIA\b|"
    + r"\d GRAMS\b|"
    + _OTHER_DRUGS
)
# "EXCEPT 35 GRAMS OR LESS OF MARIJUANA[/SYNTHETIC CANNABINOID]": names marijuana, means
# other drugs (or more than 35 g). Also "OTHER THAN / NON / NOT MARIJUANA".
_EXCEPT = (
    r"\bEXCEPT\b(?:\s+\S+){0,8}?\s+(?:MARIJUANA|CANNABIS|SYNTHETIC CANNABINOID|CANNABINOID)"
    r"(?:\s+(?:OR\s+)?SYNTHETIC CANNABINOID)?"
)
_NEGATED = r"\b(?:OTHER THAN|NON|NOT)\s+(?:MARIJUANA|CANNABIS)\b"
_POSSESS = r"\bPOSSESSION\b|\bHAVE UNDER CONTROL\b"
_DELIVER = (
    r"\bDELIVERY\b|\bDISTRIBUTION\b|\bSALE\b|\bWITH INTENT\b|\bINTENT TO\b|\bTRANSFER\b|"
    r"\bDISPENSE\b|\bFURNISH"
)
_MANUFACTURE = r"\bMANUFACTURE\b|\bCULTIVATION\b|\bPRODUCTION\b|\bCOMPOUND\b|\bPLANTS?\b"
_TRAFFIC = r"\bTRAFFICKING\b|\bTRAFFIC IN\b"
_MINOR = r"\bMINOR\b|\bCHILD\b|\bJUVENILE\b|\b(?:UNDER|LT|LESS THAN)\s+(?:17|18|21)\b|\bYEARS OF AGE\b"
_PROTECTED = r"\bSCHOOL\b|\bPARK\b|\bPUBLIC HOUSING\b|\bPROTECTED LOCATION\b|\b[12]000 (?:FT|FEET)\b"
_WEAPON = r"\bWEAPON\b|\bFIREARM\b|\bARMED\b"
_DUI = (
    r"\bDRIVING WHILE INTOXICATED\b|\bDRIVING UNDER THE INFLUENCE\b|\bUNDER THE INFLUENCE\b|"
    r"\bOPERAT\w* .*\bINTOXICATED\b|\bDRUGGED DRIVING\b|\bINFLUENCE OF CONTROLLED"
)
# Descriptions that say nothing about the offense.
_UNINFORMATIVE = (
    r"^(?:|SEE FILE|SEE COMMENT.*|SEE CASE.*|UNKNOWN|UNK|N A|NA|NONE|MISC\w*|OTHER|"
    r"[0-9 .]+|NO DESCRIPTION.*|CONVERTED.*)$"
)


def describe(descriptions: pd.Series) -> pd.DataFrame:
    """Facts read from description text. Expects distinct values (works on any).

    Returns columns ``desc_canonical``, ``desc_family``, ``desc_substance`` (MARIJUANA,
    THC, SYNTHETIC_CANNABINOID, CONFLATED, OTHER_DRUG, EXCEPT35 or null),
    ``desc_amount_g``, ``desc_level_hint`` and ``desc_score``.
    """
    canon = canonicalize(descriptions)
    t = canon["text"]
    except_hit = t.str.contains(_EXCEPT, regex=True)
    negated = t.str.contains(_NEGATED, regex=True)
    # Substance words are read outside any EXCEPT / negated phrase.
    free = t.str.replace(_EXCEPT, " ", regex=True).str.replace(_NEGATED, " ", regex=True)
    mj = free.str.contains(_MJ, regex=True)
    thc = free.str.contains(r"\bTHC\b", regex=True)
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
    para = t.str.contains(r"\bPARAPHERNALIA\b", regex=True)
    weapon_drug = weapon & (drug | t.str.contains(r"\bSUBSECTION 11\b", regex=True))
    uninformative = t.str.fullmatch(_UNINFORMATIVE)
    family = np.select(
        [
            uninformative,
            weapon_drug,
            weapon,
            dui,
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
            "UNKNOWN",
            "WEAPON_WHILE_POSSESSING",
            "NON_DRUG",
            "DUI",
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
    return pd.DataFrame(
        {
            "desc_canonical": t,
            "desc_family": family,
            "desc_substance": pd.Series(substance, index=t.index).replace("", None),
            "desc_amount_g": amount_g(free),
            "desc_level_hint": canon["level_hint"],
            "desc_score": canon["token_score"],
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


# --------------------------------------------------------------------------- the ladder


def _code_lookup(parsed: pd.DataFrame, offense_date: pd.Series, ref: Reference) -> pd.DataFrame:
    """Reference row for each parsed code: the version named by the code's year tail, else
    the version in force on the offense date, else the latest version."""
    codes = ref.codes
    key = (parsed["section"] + "-" + parsed["seq"]).where(
        parsed["section"].notna(),
        parsed["legacy_code"].map(
            codes.drop_duplicates("legacy_code").set_index("legacy_code")["code"]
            if (codes["legacy_code"] != "").any()
            else {}
        ),
    )
    work = pd.DataFrame({"key": key, "year": parsed["year"], "date": offense_date})
    work["row"] = np.arange(len(work))
    m = work.dropna(subset=["key"]).merge(codes, left_on="key", right_on="code", how="inner", suffixes=("", "_ref"))
    year_hit = m["year"].notna() & (m["year"] == m["version_year"])
    in_force = m["date"].notna() & (m["effective"] <= m["date"]) & (m["date"] < m["inactive"])
    m["rank"] = np.select([year_hit, in_force], [0, 1], default=2)
    m = m.sort_values(["row", "rank", "effective"], ascending=[True, True, False])
    m = m.drop_duplicates("row", keep="first").set_index("row")
    cols = ["code", "offense_family", "substance_scope", "statute", "level", "class", "amount_max_g", "version_year"]
    out = m.reindex(np.arange(len(work)))[cols]
    out.index = parsed.index
    return out


def normalize_offenses(charges: pd.DataFrame, ref: Reference | None = None) -> pd.DataFrame:
    """Identify the offense of every charge (the matching ladder).

    Args:
        charges: ingested charges with ``charge_code``, ``ncic_modifier``, ``statute``,
            ``charge_description`` and ``offense_date`` (missing columns are allowed).
        ref: the offense reference; the shipped one by default.

    Returns:
        A frame aligned to ``charges`` with the offense columns listed in the module
        docstring.
    """
    ref = ref or load_reference()
    n = len(charges)
    col = lambda name: charges[name] if name in charges else pd.Series([None] * n, index=charges.index, dtype="str")  # noqa: E731
    date = (
        charges["offense_date"]
        if "offense_date" in charges
        else pd.Series(pd.NaT, index=charges.index, dtype="datetime64[s]")
    )
    date = pd.to_datetime(date)

    parsed = per_distinct(col("charge_code"), parse_charge_codes)
    mods = modifier_substance(col("ncic_modifier").fillna(parsed["code_modifier"]), parsed["code_ncic"])
    st = per_distinct(col("statute"), parse_statutes)
    desc = per_distinct(col("charge_description"), describe)
    by_code = _code_lookup(parsed, date, ref)

    # Statute facts: the statute column, or the section inside an unlisted charge code.
    code_section = parsed["section"].where(~parsed["section"].fillna("").str.startswith("ORD"))
    st_section = st["section"].fillna(code_section)
    st_sub = st["subsection"].where(st["section"].notna())
    stf = statute_facts(st_section, st_sub, ref)

    code_hit = by_code["offense_family"].notna()
    statute_explicit = stf["explicit"] & ~code_hit
    statute_default = stf["offense_family"].notna() & ~code_hit & ~statute_explicit
    desc_known = ~desc["desc_family"].isin(["UNKNOWN"]) & col("charge_description").notna()
    desc_drug = desc_known & ~desc["desc_family"].isin(["NON_DRUG"])
    ordinance_code = parsed["section"].fillna("").str.startswith("ORD") & ~code_hit

    use_desc_over_default = statute_default & desc_drug
    method = np.select(
        [code_hit, statute_explicit, statute_default & ~desc_drug, desc_known],
        ["charge_code", "statute", "statute", "fuzzy"],
        default="none",
    )
    method = np.where(ordinance_code & desc_known, "fuzzy", method)
    out = pd.DataFrame(index=charges.index)
    out["match_method"] = method
    family = np.select(
        [method == "charge_code", method == "statute", method == "fuzzy"],
        [by_code["offense_family"], stf["offense_family"], desc["desc_family"]],
        default="UNKNOWN",
    )
    out["offense_family"] = family
    out["substance_scope"] = np.select(
        [method == "charge_code", method == "statute"],
        [by_code["substance_scope"], stf["substance_scope"]],
        default=None,
    )
    out["statute_normalized"] = (
        st["statute_normalized"]
        .fillna(by_code["statute"].where(by_code["statute"] != "ORDINANCE"))
        .fillna(code_section)
    )
    out["charge_code_normalized"] = parsed["charge_code_normalized"]
    out["reference_code"] = by_code["code"]
    out["ref_level"] = np.select([method == "charge_code", method == "statute"], [by_code["level"], stf["level"]], None)
    out["ref_class"] = np.select([method == "charge_code", method == "statute"], [by_code["class"], stf["class"]], None)
    out["amount_max_g"] = pd.to_numeric(
        pd.Series(
            np.select(
                [method == "charge_code", method == "statute"], [by_code["amount_max_g"], stf["amount_max_g"]], None
            ),
            index=charges.index,
        ).replace("", None),
        errors="coerce",
    )
    out["match_score"] = np.select(
        [method == "charge_code", (method == "statute") & statute_explicit, method == "statute", method == "fuzzy"],
        [100.0, 100.0, 90.0, desc["desc_score"].astype("float64")],
        default=0.0,
    )
    for c in ("modifier_substance", "ncic_modifier_normalized"):
        out[c] = mods[c]
    for c in ("desc_substance", "desc_amount_g", "desc_level_hint", "desc_canonical"):
        out[c] = desc[c]
    out["desc_family"] = desc["desc_family"]
    caveats = np.where(use_desc_over_default, "STATUTE_DESCRIPTION_CONFLICT", "")
    out["match_caveats"] = caveats
    _adopt_reference_descriptions(out, ref)
    return out


def _adopt_reference_descriptions(out: pd.DataFrame, ref: Reference) -> None:
    """For description-matched rows, borrow the facts of the closest reference description
    of the same family when it is a close match (``REFERENCE_ACCEPT``).

    Distinct canonical descriptions are matched once with ``rapidfuzz.process.cdist``.
    """
    rows = out["match_method"] == "fuzzy"
    if not rows.any():
        return
    refs = ref.descriptions
    texts = out.loc[rows, "desc_canonical"].fillna("")
    uniq = pd.unique(texts)
    scores = process.cdist(
        list(uniq),
        refs["canonical"].tolist(),
        scorer=fuzz.token_sort_ratio,
        workers=-1,
        dtype=np.uint8,
    )
    best = scores.argmax(axis=1)
    best_score = scores[np.arange(len(uniq)), best].astype("float64")
    pick = pd.DataFrame(
        {
            "best_score": best_score,
            **{
                c: refs[c].to_numpy()[best]
                for c in ("code", "offense_family", "substance_scope", "statute", "level", "class", "amount_max_g")
            },
        },
        index=uniq,
    )
    got = pick.reindex(texts.to_numpy())
    got.index = texts.index
    fam = out.loc[rows, "offense_family"]
    ok = (got["best_score"] >= REFERENCE_ACCEPT) & (got["offense_family"] == fam)
    idx = ok[ok].index
    if len(idx) == 0:
        return
    out.loc[idx, "reference_code"] = got.loc[idx, "code"]
    out.loc[idx, "substance_scope"] = got.loc[idx, "substance_scope"]
    out.loc[idx, "ref_level"] = got.loc[idx, "level"]
    out.loc[idx, "ref_class"] = got.loc[idx, "class"]
    out.loc[idx, "amount_max_g"] = pd.to_numeric(got.loc[idx, "amount_max_g"].replace("", None), errors="coerce")
    st = got.loc[idx, "statute"].where(got.loc[idx, "statute"] != "ORDINANCE")
    out.loc[idx, "statute_normalized"] = out.loc[idx, "statute_normalized"].fillna(st)
    out.loc[idx, "match_score"] = np.minimum(out.loc[idx, "match_score"], got.loc[idx, "best_score"])
