"""Offense normalization: which offense is each charge?

Stage: normalize. Input columns: ``charge_code``, ``ncic_modifier``, ``statute``,
``charge_description`` (any may be missing). Output columns: ``charge_code_normalized``,
``statute_normalized``, ``offense_family``, ``substance_scope``, ``ref_level``,
``ref_class``, ``amount_max_g``, ``modifier_substance``, ``desc_substance``,
``desc_amount_g``, ``desc_level_hint``, ``match_method``, ``match_source``, ``match_score``,
``match_candidates`` (for the review queue), ``crosswalk_substance`` and ``match_caveats``.

The ladder, in order of trust (ELIGIBILITY.md): the full charge code (any format: new
``579.015-004Y202035`` with or without its year tail or appended modifier, legacy 5-digit,
stray spaces and dashes), then the statute with its subsection, then the description. A
rung that identifies the offense wins; a description that names a drug overrides only a
statute's *chapter default* and says so in a caveat.

Every parser here runs once per distinct raw value and is joined back, so the cost tracks
the number of distinct codes, statutes and descriptions, not the number of rows.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from expunge import __version__
from expunge.catalog import Crosswalk, MatchConfig, Reference, load_reference
from expunge.distinct import per_distinct
from expunge.law import law_file, readings
from expunge.law.values import FAMILIES, SUBSTANCE_FAMILIES
from expunge.text import canonicalize

__all__ = [
    "FAMILIES",
    "SUBSTANCE_FAMILIES",
    "Normalizer",
    "describe",
    "modifier_substance",
    "normalize_offenses",
    "parse_charge_codes",
    "parse_statutes",
    "statute_facts",
]
DRUG_CHAPTERS: tuple[str, ...] = tuple(str(c) for c in readings()["statutes"]["drug_chapters"])

GRAMS_PER: dict[str, float] = {k: float(v) for k, v in readings()["amounts"]["grams_per"].items()}


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


# --------------------------------------------------------------------------- descriptions

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


# --------------------------------------------------------------------------- the ladder

DESC_COLUMNS = ("desc_canonical", "desc_family", "desc_band", "desc_uncertain", "desc_substance", "desc_amount_g",
                "desc_level_hint", "desc_score", "desc_violent", "ref_code", "ref_score", "ref_candidates")


@dataclass(frozen=True)
class Normalizer:
    """Everything the ladder matches against, with one version for cache keys and manifests."""

    reference: Reference
    config: MatchConfig
    crosswalk: Crosswalk | None = None
    cache_dir: str | None = None

    @classmethod
    def build(cls, charge_codes: str | Path | None = None, crosswalk: str | Path | None = None,
              config: str | Path | None = None, cache_dir: str | Path | None = None) -> Normalizer:
        from expunge.catalog import load_crosswalk

        return cls(reference=load_reference(charge_codes), config=MatchConfig.load(config),
                   crosswalk=load_crosswalk(crosswalk) if crosswalk else None,
                   cache_dir=str(cache_dir) if cache_dir else None)

    @property
    def description_version(self) -> str:
        """Key of the description cache: what a description's facts depend on."""
        law = hashlib.sha256(law_file("readings.yaml").read_bytes()).hexdigest()[:12]
        h = hashlib.sha256(f"{self.reference.version}|{self.config.sha256}|{law}|{__version__}".encode())
        return h.hexdigest()[:12]

    def manifest(self) -> dict[str, object]:
        return {
            "reference_version": self.reference.version, "reference_sources": list(self.reference.sources),
            "thresholds": self.config.as_dict(),
            "crosswalk": None if self.crosswalk is None else {
                "path": self.crosswalk.path, "sha256": self.crosswalk.sha256, "rows": self.crosswalk.rows},
        }


_REFERENCE_DESCRIPTIONS: dict[str, pd.DataFrame] = {}


def _reference_descriptions(ref: Reference) -> pd.DataFrame:
    """Canonical reference descriptions (short and long) of state codes, latest version
    (computed once per reference version)."""
    if ref.version not in _REFERENCE_DESCRIPTIONS:
        _REFERENCE_DESCRIPTIONS[ref.version] = _build_reference_descriptions(ref)
    return _REFERENCE_DESCRIPTIONS[ref.version]


def _build_reference_descriptions(ref: Reference) -> pd.DataFrame:
    codes = ref.codes.sort_values("effective").drop_duplicates("code", keep="last")
    # Ordinance codes repeat state wording; lending their level "L" to a state-court
    # description would be wrong, so descriptions are matched against state codes only.
    codes = codes[~codes["code"].str.startswith("ORD")]
    rows = pd.concat([codes.assign(description=codes["short_description"]),
                      codes.assign(description=codes["long_description"])], ignore_index=True)
    rows = rows[rows["description"] != ""].drop_duplicates(["code", "description"]).reset_index(drop=True)
    rows["canonical"] = canonicalize(rows["description"])["text"].to_numpy()
    return rows


def match_reference(texts: pd.Series, ref: Reference, config: MatchConfig) -> pd.DataFrame:
    """Best reference description for each canonical text (distinct values), with the top
    candidates above the review floor, via ``rapidfuzz.process.cdist`` in chunks."""
    refs = _reference_descriptions(ref)
    scorer = getattr(fuzz, config.reference_scorer)
    choices = refs["canonical"].tolist()
    k = max(1, config.top_candidates)
    best_idx = np.zeros(len(texts), dtype=np.int64)
    best = np.zeros(len(texts), dtype=np.float64)
    cands: list[str] = []
    values = texts.fillna("").tolist()
    for lo in range(0, len(values), 2000):
        chunk = values[lo:lo + 2000]
        scores = process.cdist(chunk, choices, scorer=scorer, workers=-1, dtype=np.uint8)
        top = np.argsort(-scores, axis=1, kind="stable")[:, : k * 4]
        for i in range(len(chunk)):  # per distinct description, k candidates each
            row = scores[i]
            best_idx[lo + i] = top[i, 0]
            best[lo + i] = float(row[top[i, 0]])
            seen, parts = set(), []
            for j in top[i]:
                code = refs.at[j, "code"]
                if code in seen or row[j] < config.reference_review_floor:
                    continue
                seen.add(code)
                parts.append(f"{code} {refs.at[j, 'short_description'] or refs.at[j, 'description']} ({int(row[j])})")
                if len(parts) == k:
                    break
            cands.append("; ".join(parts))
    return pd.DataFrame({"ref_code": refs["code"].to_numpy()[best_idx], "ref_score": best,
                         "ref_candidates": pd.array(cands, dtype="str")}, index=texts.index)


def describe_with_reference(descriptions: pd.Series, norm: Normalizer) -> pd.DataFrame:
    """``describe`` plus the reference match, for distinct descriptions; cached on disk per
    ``Normalizer.description_version`` so nightly runs only read descriptions they have
    not seen before."""
    cache = None
    if norm.cache_dir:
        cache = Path(norm.cache_dir) / f"descriptions-{norm.description_version}.parquet"
    known = pd.read_parquet(cache) if cache is not None and cache.exists() else None
    todo = descriptions if known is None else descriptions[~descriptions.isin(known.index)]
    if len(todo) or known is None:
        fresh = describe(todo.reset_index(drop=True), norm.config)
        fresh = pd.concat([fresh, match_reference(fresh["desc_canonical"], norm.reference, norm.config)], axis=1)
        fresh.index = todo.to_numpy()
        table = fresh if known is None else pd.concat([known, fresh])
    else:
        fresh, table = known.iloc[:0], known
    if cache is not None and len(fresh):
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}")
        out = table.copy()
        out["desc_amount_g"] = out["desc_amount_g"].astype("float64")
        out.to_parquet(tmp)
        os.replace(tmp, cache)
    got = table.loc[descriptions.to_numpy(), list(DESC_COLUMNS)]
    got.index = descriptions.index
    return got


def _code_lookup(parsed: pd.DataFrame, offense_date: pd.Series, ref: Reference) -> pd.DataFrame:
    """Reference row for each parsed code: the version named by the code's year tail, else
    the version in force on the offense date, else the latest version."""
    codes = ref.codes
    legacy = codes[codes["legacy_code"] != ""].drop_duplicates("legacy_code").set_index("legacy_code")["code"]
    key = (parsed["section"] + "-" + parsed["seq"]).where(parsed["section"].notna(),
                                                         parsed["legacy_code"].map(legacy))
    work = pd.DataFrame({"key": key, "year": parsed["year"], "date": offense_date})
    work["row"] = np.arange(len(work))
    m = work.dropna(subset=["key"]).merge(codes, left_on="key", right_on="code", how="inner", suffixes=("", "_ref"))
    year_hit = m["year"].notna() & (m["year"] == m["version_year"])
    in_force = m["date"].notna() & (m["effective"] <= m["date"]) & (m["date"] < m["inactive"])
    m["rank"] = np.select([year_hit, in_force], [0, 1], default=2)
    m = m.sort_values(["row", "rank", "effective"], ascending=[True, True, False])
    m = m.drop_duplicates("row", keep="first").set_index("row")
    cols = ["code", "offense_family", "substance_scope", "statute", "level", "class", "amount_max_g", "version_year",
            "long_description"]
    out = m.reindex(np.arange(len(work)))[cols]
    out.index = parsed.index
    return out


SIGNATURE_COLUMNS = ("charge_code", "ncic_modifier", "statute", "charge_description")


def offense_signatures(charges: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Distinct offense signatures of ``charges`` and, for each row, its signature number.

    A signature is (charge code, modifier, statute, description), plus the offense date only
    where a charge code without its year tail needs the date to pick its version. A
    statewide export has millions of rows but tens of thousands of signatures at most.
    """
    n = len(charges)
    codes, sizes = [], []
    uniques = {}
    for c in SIGNATURE_COLUMNS:
        values = charges[c] if c in charges else pd.Series([None] * n, dtype="str")
        k, u = pd.factorize(values, use_na_sentinel=True)
        codes.append(k.astype(np.int64) + 1)  # 0 = missing
        sizes.append(len(u) + 1)
        uniques[c] = u
    parsed = parse_charge_codes(pd.Series(np.asarray(uniques["charge_code"], dtype=object), dtype="str"))
    undated = (parsed["section"].notna() & parsed["year"].isna()) | parsed["legacy_code"].notna()
    needs_date = np.concatenate(([False], undated.to_numpy(dtype=bool)))[codes[0]]
    if "offense_date" in charges:
        days = pd.to_datetime(charges["offense_date"]).to_numpy(dtype="datetime64[D]").astype(np.int64)
        known = ~pd.isna(charges["offense_date"]).to_numpy() & needs_date
        day_codes, day_uniques = pd.factorize(np.where(known, days, np.iinfo(np.int64).min))
    else:
        day_codes, day_uniques = np.zeros(n, dtype=np.int64), np.array([np.iinfo(np.int64).min])
    codes.append(day_codes.astype(np.int64))
    sizes.append(len(day_uniques))
    if np.prod([float(x) for x in sizes]) < 2**62:
        key = np.zeros(n, dtype=np.int64)
        for k, size in zip(codes, sizes, strict=True):
            key = key * size + k
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    else:  # too many combinations for one integer: unique rows instead
        _, first, inverse = np.unique(np.stack(codes, axis=1), axis=0, return_index=True, return_inverse=True)
    cols = [c for c in SIGNATURE_COLUMNS if c in charges]
    sig = charges.iloc[first][cols].reset_index(drop=True)
    if "offense_date" in charges:
        dates = pd.to_datetime(charges["offense_date"]).iloc[first].reset_index(drop=True)
        sig["offense_date"] = dates.where(needs_date[first])
    return sig, inverse.reshape(-1)


def normalize_offenses(charges: pd.DataFrame, norm: Normalizer | None = None) -> pd.DataFrame:
    """Identify the offense of every charge: the ladder runs once per distinct offense
    signature (``offense_signatures``) and its answers are gathered back to the rows.

    See ``normalize_signatures`` for the rungs and the columns returned.
    """
    sig, inverse = offense_signatures(charges)
    result = normalize_signatures(sig, norm)
    out = result.iloc[inverse].reset_index(drop=True)
    out.index = charges.index
    return out


def normalize_signatures(charges: pd.DataFrame, norm: Normalizer | None = None) -> pd.DataFrame:
    """Identify the offense of every charge (the matching ladder).

    Rungs, first confident one wins: crosswalk (clerk-confirmed) -> charge code -> statute
    with subsection -> description (confident band; the review band and no match give
    UNKNOWN). ``match_method`` keeps the contract's four values (charge_code, statute,
    fuzzy, none); ``match_source`` says which table answered.

    Args:
        charges: ingested charges with ``charge_code``, ``ncic_modifier``, ``statute``,
            ``charge_description`` and ``offense_date`` (missing columns are allowed).
        norm: reference, thresholds, crosswalk and cache; the shipped defaults when None.

    Returns:
        A frame aligned to ``charges`` with the offense columns listed in the module
        docstring, plus ``match_source``, ``match_candidates`` and ``crosswalk_substance``.
    """
    norm = norm or Normalizer.build()
    ref = norm.reference
    n = len(charges)

    def col(name: str) -> pd.Series:
        return charges[name] if name in charges else pd.Series([None] * n, index=charges.index, dtype="str")

    date = pd.to_datetime(col("offense_date")) if "offense_date" in charges else pd.Series(
        pd.NaT, index=charges.index, dtype="datetime64[s]")

    parsed = per_distinct(col("charge_code"), parse_charge_codes)
    mods = modifier_substance(col("ncic_modifier").fillna(parsed["code_modifier"]), parsed["code_ncic"])
    st = per_distinct(col("statute"), parse_statutes)
    desc = describe_with_reference_rows(col("charge_description"), norm)
    by_code = _code_lookup(parsed, date, ref)

    code_section = parsed["section"].where(~parsed["section"].fillna("").str.startswith("ORD"))
    st_section = st["section"].fillna(code_section)
    st_sub = st["subsection"].where(st["section"].notna())
    stf = per_distinct(pd.DataFrame({"s": st_section, "b": st_sub}),
                       lambda u: statute_facts(u["s"].replace("", None), u["b"].replace("", None), ref))

    # Crosswalk answers (clerk-confirmed) outrank everything.
    cw_cols = ["offense_family", "substance", "statute", "level", "class", "amount_g"]
    cw = pd.DataFrame(index=charges.index, columns=cw_cols, dtype="object")
    if norm.crosswalk is not None:
        by_c = norm.crosswalk.by_code.reindex(parsed["charge_code_normalized"].fillna("~")).set_axis(charges.index)
        by_t = norm.crosswalk.by_text.reindex(desc["desc_canonical"].fillna("~")).set_axis(charges.index)
        for c in cw_cols:
            cw[c] = by_c[c].fillna(by_t[c])
    cw_hit = cw.notna().any(axis=1)
    cw_family = cw["offense_family"].notna()
    cw_on_code = cw_hit & norm_crosswalk_code_hit(norm, parsed)

    code_hit = by_code["offense_family"].notna()
    statute_explicit = stf["explicit"].astype(bool) & ~code_hit
    statute_default = stf["offense_family"].notna() & ~code_hit & ~statute_explicit
    has_desc = col("charge_description").notna()
    desc_known = has_desc & (desc["desc_family"] != "UNKNOWN")
    desc_drug = desc_known & (desc["desc_family"] != "NON_DRUG")
    ordinance_code = parsed["section"].fillna("").str.startswith("ORD") & ~code_hit
    ref_ok = desc["ref_score"] >= norm.config.reference_accept

    use_desc_over_default = statute_default & desc_drug
    method = np.select(
        [cw_family & cw_on_code, cw_family, code_hit, statute_explicit, statute_default & ~desc_drug, desc_known,
         has_desc & ref_ok],
        ["charge_code", "fuzzy", "charge_code", "statute", "statute", "fuzzy", "fuzzy"],
        default="none",
    )
    method = np.where(ordinance_code & desc_known & ~cw_family, "fuzzy", method)
    source = np.select(
        [cw_family, method == "charge_code", statute_explicit & (method == "statute"), method == "statute",
         (method == "fuzzy") & ref_ok, method == "fuzzy"],
        ["crosswalk", "reference_code", "statute_table", "statute_chapter", "reference_description",
         "description_rules"],
        default="none",
    )
    out = pd.DataFrame(index=charges.index)
    out["match_method"] = method
    out["match_source"] = source
    refd = _reference_rows(desc["ref_code"], ref)
    from_ref = source == "reference_description"
    family = np.select(
        [source == "crosswalk", source == "reference_code", method == "statute", from_ref, method == "fuzzy"],
        [cw["offense_family"], by_code["offense_family"], stf["offense_family"], refd["offense_family"],
         desc["desc_family"]],
        default="UNKNOWN",
    )
    out["offense_family"] = family
    out["substance_scope"] = np.select(
        [source == "reference_code", method == "statute", from_ref],
        [by_code["substance_scope"], stf["substance_scope"], refd["substance_scope"]], default=None)
    statute_from_ref = by_code["statute"].where(by_code["statute"] != "ORDINANCE")
    ref_statute = refd["statute"].where(from_ref & (refd["statute"] != "ORDINANCE"))
    out["statute_normalized"] = (cw["statute"].fillna(st["statute_normalized"]).fillna(statute_from_ref)
                                 .fillna(ref_statute).fillna(code_section))
    out["charge_code_normalized"] = parsed["charge_code_normalized"]
    out["reference_code"] = by_code["code"].fillna(pd.Series(np.where(from_ref, desc["ref_code"], None),
                                                             index=charges.index))
    pick = lambda a, b, c: np.select([source == "reference_code", method == "statute", from_ref], [a, b, c], None)  # noqa: E731
    out["ref_level"] = cw["level"].fillna(pd.Series(pick(by_code["level"], stf["level"], refd["level"]),
                                                    index=charges.index))
    out["ref_class"] = cw["class"].fillna(pd.Series(pick(by_code["class"], stf["class"], refd["class"]),
                                                    index=charges.index))
    amount = pd.Series(pick(by_code["amount_max_g"], stf["amount_max_g"], refd["amount_max_g"]), index=charges.index)
    out["amount_max_g"] = pd.to_numeric(amount.replace("", None), errors="coerce")
    out["crosswalk_amount_g"] = pd.to_numeric(cw["amount_g"], errors="coerce")
    out["crosswalk_substance"] = cw["substance"]
    desc_score = desc["desc_score"].astype("float64")
    out["match_score"] = np.select(
        [source == "crosswalk", method == "charge_code", source == "statute_table", method == "statute",
         from_ref, method == "fuzzy"],
        [100.0, 100.0, 100.0, 90.0, np.minimum(desc_score, desc["ref_score"]), desc_score], default=0.0)
    out["match_candidates"] = np.where(method == "none", desc["ref_candidates"], "")
    out["match_candidates"] = np.where(desc["desc_band"] == "review",
                                       desc["desc_uncertain"] + "; " + desc["ref_candidates"], out["match_candidates"])
    for c in ("modifier_substance", "ncic_modifier_normalized", "modifier_conduct"):
        out[c] = mods[c]
    # Violence in the charge's own description or in the definition of its code (R11v).
    definition = by_code["long_description"].fillna("").astype("str").str.upper()
    out["violent"] = desc["desc_violent"].fillna(False).astype(bool) | violent(definition)
    for c in ("desc_substance", "desc_amount_g", "desc_level_hint", "desc_canonical", "desc_family", "desc_band"):
        out[c] = desc[c]
    out["match_caveats"] = np.where(use_desc_over_default & (source != "crosswalk"), "STATUTE_DESCRIPTION_CONFLICT", "")
    return out


def norm_crosswalk_code_hit(norm: Normalizer, parsed: pd.DataFrame) -> pd.Series:
    if norm.crosswalk is None or norm.crosswalk.by_code.empty:
        return pd.Series(False, index=parsed.index)
    return parsed["charge_code_normalized"].isin(norm.crosswalk.by_code.index)


def describe_with_reference_rows(descriptions: pd.Series, norm: Normalizer) -> pd.DataFrame:
    """``describe_with_reference`` for every row (computed once per distinct description)."""
    return per_distinct(descriptions, lambda u: describe_with_reference(u, norm).reset_index(drop=True))


def _reference_rows(codes: pd.Series, ref: Reference) -> pd.DataFrame:
    latest = ref.codes.sort_values("effective").drop_duplicates("code", keep="last").set_index("code")
    cols = ["offense_family", "substance_scope", "statute", "level", "class", "amount_max_g"]
    got = latest.reindex(codes.fillna("~"))[cols]
    got.index = codes.index
    return got


def normalization_report(charges: pd.DataFrame, offenses: pd.DataFrame, top: int = 50) -> dict[str, object]:
    """How the ladder did on a batch: distinct descriptions, share of rows per rung and
    source, the review band, and the most frequent descriptions it could not match."""
    desc = charges["charge_description"] if "charge_description" in charges else pd.Series(dtype="str")
    n = max(len(offenses), 1)
    unmatched = offenses["offense_family"] == "UNKNOWN"
    counts = desc[unmatched].value_counts().head(top)
    return {
        "rows": len(offenses),
        "distinct_descriptions": int(desc.nunique()),
        "share_by_method": {k: round(v / n, 4) for k, v in offenses["match_method"].value_counts().items()},
        "share_by_source": {k: round(v / n, 4) for k, v in offenses["match_source"].value_counts().items()},
        "review_band_rows": int((offenses["desc_band"] == "review").sum()),
        "unmatched_rows": int(unmatched.sum()),
        "top_unmatched_descriptions": [{"description": str(k), "rows": int(v)} for k, v in counts.items()],
    }
