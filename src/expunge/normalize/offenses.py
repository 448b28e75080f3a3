"""Offense normalization: which offense is each charge?

Input columns: ``charge_code``, ``ncic_modifier``, ``statute``,
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

The rungs live in ``codes``, ``statutes`` and ``descriptions``; this module runs them once per
distinct offense signature and joins the results back, so the cost tracks the number of
distinct codes, statutes and descriptions, not the number of rows.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from expunge import __version__
from expunge.ingest.distinct import column, per_distinct
from expunge.law import law_file
from expunge.normalize.catalog import MatchConfig, Reference
from expunge.normalize.codes import modifier_substance, parse_charge_codes
from expunge.normalize.crosswalk import Crosswalk, load_crosswalk
from expunge.normalize.descriptions import describe, violent
from expunge.normalize.mshp import load_reference
from expunge.normalize.statutes import parse_statutes, statute_facts
from expunge.normalize.text import canonicalize

# --------------------------------------------------------------------------- charge codes


# --------------------------------------------------------------------------- statutes


# --------------------------------------------------------------------------- descriptions


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
    """Best reference description for each canonical text, with the top candidates above the
    review floor, via ``rapidfuzz.process.cdist`` in chunks. Hand-keyed spellings of one
    offense often clean to the same canonical text, so each distinct text is scored once."""
    codes, distinct = pd.factorize(texts.fillna(""))
    matched = _match_distinct(pd.Index(distinct).astype("str").tolist(), ref, config)
    out = matched.iloc[codes]
    out.index = texts.index
    return out


def _match_distinct(values: list[str], ref: Reference, config: MatchConfig) -> pd.DataFrame:
    refs = _reference_descriptions(ref)
    scorer, queries, choices = _scoring(values, refs["canonical"].tolist(), config.reference_scorer)
    k = max(1, config.top_candidates)
    floor = config.reference_review_floor
    best_idx = np.zeros(len(values), dtype=np.int64)
    best = np.zeros(len(values), dtype=np.float64)
    cands: list[str] = []
    codes = refs["code"].to_numpy()
    labels = (refs["short_description"].where(refs["short_description"] != "", refs["description"])).to_numpy()
    for lo in range(0, len(queries), 2000):
        # Scores are whole numbers (uint8 rounds half up), so a cut-off half a point under the
        # floor keeps exactly the scores that round to the floor or above; the rest are 0 and
        # never a candidate (nor the best: only a score of at least the floor is ever used).
        scores = process.cdist(queries[lo:lo + 2000], choices, scorer=scorer, workers=-1, dtype=np.uint8,
                               score_cutoff=max(floor - 0.5, 0))
        rows, cols = np.nonzero(scores)
        hit = scores[rows, cols]
        order = np.lexsort((cols, -hit.astype(np.int16), rows))  # per row: best first, ties by position
        rows, cols, hit = rows[order], cols[order], hit[order]
        starts = np.searchsorted(rows, np.arange(len(scores) + 1))
        for i in range(len(scores)):  # per distinct description, k candidates each
            mine = slice(starts[i], starts[i + 1])
            top, points = cols[mine][: k * 4], hit[mine][: k * 4]
            if len(top):
                best_idx[lo + i], best[lo + i] = top[0], float(points[0])
            seen, parts = set(), []
            for j, score in zip(top, points, strict=True):
                if codes[j] in seen:
                    continue
                seen.add(codes[j])
                parts.append(f"{codes[j]} {labels[j]} ({int(score)})")
                if len(parts) == k:
                    break
            cands.append("; ".join(parts))
    return pd.DataFrame({"ref_code": codes[best_idx], "ref_score": best,
                         "ref_candidates": pd.array(cands, dtype="str")})


def _scoring(queries: list[str], choices: list[str], name: str) -> tuple[Any, list[str], list[str]]:
    """The scorer ``name`` of rapidfuzz.fuzz, with what it scores. ``token_sort_ratio`` is
    ``ratio`` of the words in sorted order: sorting once per text, not once per pair, lets
    ``cdist`` use its vectorized ``ratio``."""
    if name == "token_sort_ratio":
        def by_words(texts: list[str]) -> list[str]:
            return [" ".join(sorted(t.split())) for t in texts]

        return fuzz.ratio, by_words(queries), by_words(choices)
    return getattr(fuzz, name), queries, choices


def description_cache(norm: Normalizer) -> Path | None:
    """The file of ``norm``'s description cache (None without a cache folder)."""
    return Path(norm.cache_dir) / f"descriptions-{norm.description_version}.parquet" if norm.cache_dir else None


def not_cached(descriptions: pd.Series, known: pd.DataFrame | None) -> pd.Series:
    """The ``descriptions`` not in ``known`` (the cache's table). A hash lookup: pandas'
    ``isin`` against Arrow-backed text walks the cache's values in Python (6 s for 312 k
    descriptions against a 370 k cache)."""
    if known is None:
        return descriptions
    return descriptions[known.index.get_indexer(descriptions.to_numpy()) < 0]


def cached_descriptions(norm: Normalizer) -> pd.DataFrame | None:
    """The descriptions matched so far under ``norm`` (indexed by description), or None."""
    cache = description_cache(norm)
    return pd.read_parquet(cache) if cache is not None and cache.exists() else None


def match_descriptions(descriptions: pd.Series, norm: Normalizer) -> pd.DataFrame:
    """``describe`` plus the reference match of distinct ``descriptions``, indexed by them."""
    fresh = describe(descriptions.reset_index(drop=True), norm.config)
    fresh = pd.concat([fresh, match_reference(fresh["desc_canonical"], norm.reference, norm.config)], axis=1)
    fresh.index = descriptions.to_numpy()
    return fresh


def store_descriptions(norm: Normalizer, known: pd.DataFrame | None, fresh: list[pd.DataFrame]) -> pd.DataFrame:
    """``known`` with the ``fresh`` matches added, written to the cache (atomically) when
    there is one and something is new; returns the whole table."""
    table = pd.concat(([known] if known is not None else []) + fresh) if fresh else known
    if table is None:
        raise ValueError("store_descriptions needs known or fresh descriptions")
    cache = description_cache(norm)
    if cache is not None and sum(len(f) for f in fresh):
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}")
        out = table.copy()
        out["desc_amount_g"] = out["desc_amount_g"].astype("float64")
        out.to_parquet(tmp)
        os.replace(tmp, cache)
    return table


def describe_with_reference(descriptions: pd.Series, norm: Normalizer) -> pd.DataFrame:
    """``describe`` plus the reference match, for distinct descriptions; cached on disk per
    ``Normalizer.description_version`` so nightly runs only read descriptions they have
    not seen before."""
    known = cached_descriptions(norm)
    todo = not_cached(descriptions, known)
    fresh = [match_descriptions(todo, norm)] if len(todo) or known is None else []
    table = store_descriptions(norm, known, fresh)
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
    col = partial(column, charges)  # a field the export may lack reads as missing


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
    # The reference offenses nearest the description, with scores, wherever the description decided
    # (or nothing did): what a clerk weighs on review.
    out["match_candidates"] = np.where((method == "none") | (method == "fuzzy") | from_ref, desc["ref_candidates"], "")
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


