"""Facts the rule table reads: substance, level, class, amount, case kind, serving.

Stage: normalize (after ``offenses.normalize_offenses``). Input: ingested charges plus the
offense frame. Output columns: ``offense_family`` (final), ``substance``, ``level``,
``class``, ``amount_g``, ``disposition_class``, ``disposition_status``, ``case_kind``,
``serving``, ``marijuana``, ``offense_after_effective`` and ``caveat_bits``.

Every choice follows the "Readings settled" of ELIGIBILITY.md; where the pipeline assumes
something it sets a caveat, so the reader of a decision sees the assumption.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from expunge.dispositions import disposition_class
from expunge.distinct import per_distinct
from expunge.offenses import SUBSTANCE_FAMILIES

#: Caveat names, one bit each. The order is part of the output contract: append only.
CAVEATS = (
    "SERVING_STATUS_ASSUMED",
    "SUBSTANCE_ASSUMED_MARIJUANA",
    "STATUTE_DESCRIPTION_CONFLICT",
    "SUBSTANCE_CONFLICT",
    "OFFENSE_DATE_FROM_FILING",
    "CASE_KIND_ASSUMED_STATE",
    "DISPOSITION_MISSING",
    "AMOUNT_FROM_OFFENSE_DEFINITION",
    "LEVEL_FROM_DESCRIPTION",
    "LEVEL_FROM_AMOUNT",
    "DESCRIPTION_WORD_FUZZY",
    "EXCEPT_35G_WORDING",
    "ALREADY_EXPUNGED",
    "LEVEL_CONFLICT",
    "AMOUNT_CONFLICT",
    "CONFLATED_CODE_WITHOUT_MODIFIER",
)
BIT = {name: np.uint32(1 << i) for i, name in enumerate(CAVEATS)}

MARIJUANA_SUBSTANCES = ("MARIJUANA", "THC")
MISDEMEANOR_MAX_POSSESSION_G = 35.0  # ≤35 g possession was a misdemeanor in 195.202 and 579.015


def _flag(bits: np.ndarray, name: str, mask: np.ndarray | pd.Series) -> None:
    bits |= np.where(np.asarray(mask, dtype=bool), BIT[name], np.uint32(0))


def caveat_lists(bits: np.ndarray | pd.Series) -> pa.Array:
    """Turn caveat bitmasks into an Arrow ``list<string>`` array without a Python loop."""
    b = np.asarray(bits, dtype=np.uint32)
    matrix = (b[:, None] & np.array([BIT[c] for c in CAVEATS], dtype=np.uint32)) != 0
    counts = matrix.sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    _, cols = np.nonzero(matrix)
    values = pa.array(np.array(CAVEATS, dtype=object)[cols], type=pa.string())
    return pa.ListArray.from_arrays(pa.array(offsets), values)


def caveat_text(bits: pd.Series) -> pd.Series:
    """Caveats as one ``;``-separated string per row (for CSV outputs)."""
    out = pd.Series("", index=bits.index, dtype="str")
    b = bits.to_numpy(dtype=np.uint32)
    for name in CAVEATS:
        has = (b & BIT[name]) != 0
        out = out.where(~has, out + np.where(out == "", "", ";") + name)
    return out


# --------------------------------------------------------------------------- level/class

_LEVEL_WORDS = {
    "F": "F", "FEL": "F", "FELONY": "F", "M": "M", "MIS": "M", "MISD": "M", "MISDEMEANOR": "M",
    "I": "I", "INF": "I", "INFRACTION": "I", "L": "L", "ORD": "L", "ORDINANCE": "L",
    "LOCAL": "L", "MUNICIPAL": "L",
}


def parse_level_class(text: pd.Series) -> pd.DataFrame:
    """Read level (F/M/I/L) and class (A–E) from text like ``F``, ``FELONY D``, ``F/A``,
    ``M / B``, ``MA``, ``CLASS A MISDEMEANOR``. Unclassified (``U``, ``N``) gives no class."""
    t = text.fillna("").astype("str").str.upper().str.replace(r"[^A-Z]+", " ", regex=True).str.strip()
    compact = t.str.fullmatch(r"([FMIL])([A-E])")
    c = t.str.extract(r"^([FMIL])([A-E])$")
    words = t.str.split(" ")
    level = words.map(lambda ws: next((_LEVEL_WORDS[w] for w in ws if w in _LEVEL_WORDS), None))  # distinct values
    klass = t.str.extract(r"(?:^|\s)(?:CLASS\s+)?([A-E])(?:\s|$)", expand=False)
    level = level.where(~compact, c[0])
    klass = klass.where(~compact, c[1])
    # A lone class letter in a level column ("A") is a class, not a level.
    return pd.DataFrame({"level": level, "class": klass}, index=text.index)


# --------------------------------------------------------------------------- case kind

_STATE_TYPES = {"CR", "TR", "FE", "FL", "MI", "MS", "AC", "AO", "CRIMINAL", "TRAFFIC",
                "FELONY", "MISDEMEANOR", "STATE", "CIRCUIT", "ASSOCIATE", "R", "T"}
_MUNI_TYPES = {"MU", "MUNI", "MUNICIPAL", "MO", "MT", "ORDINANCE", "ORD", "O", "U"}
_OTHER_TYPES = {"JU", "JV", "JUVENILE", "CV", "CIVIL", "PR", "PROBATE", "MH", "FC", "DR",
                "FAMILY", "FD", "FED", "FEDERAL", "OS", "OUT OF STATE", "MC", "V", "J", "P", "H"}


def _kind_from_type(t: pd.Series) -> pd.Series:
    t = t.fillna("").astype("str").str.upper().str.strip()
    return pd.Series(
        np.select([t.isin(_STATE_TYPES), t.isin(_MUNI_TYPES), t.isin(_OTHER_TYPES)],
                  ["STATE", "MUNICIPAL", "OTHER"], default=""),
        index=t.index,
    )


def _group(text: pd.Series, pattern: str) -> pd.Series:
    """The group ``g`` of ``pattern`` in each value (missing where it does not match), by
    Arrow's regex kernel: case numbers are nearly all distinct, so no per-value Python."""
    found = pc.struct_field(pc.extract_regex(pa.array(text, type=pa.string(), from_pandas=True), pattern), [0])
    return pd.Series(found.to_pandas(), index=text.index, dtype="str")


def case_kind(case_type: pd.Series, case_number: pd.Series, court: pd.Series,
              charge_code: pd.Series) -> pd.DataFrame:
    """STATE, MUNICIPAL or OTHER from the case type column, else the case number (Court
    Operating Rule 4.04: ``1622-CR01234``, ``16SL-CR01234-01``, converted ``22R0199001234``),
    else the court name, else an ordinance charge code; STATE with a caveat otherwise."""
    kind = _kind_from_type(case_type)
    num = case_number.fillna("").astype("str").str.upper().str.strip()
    new = _group(num, r"^\d{2}[0-9A-Z]{2,3}-?(?P<g>[A-Z]{2})\d")
    conv = _group(num, r"^\d{2}(?P<g>[A-Z])\d{4,}")
    kind = kind.where(kind != "", _kind_from_type(new.fillna(conv)))
    court_t = court.fillna("").astype("str").str.upper()
    from_court = np.select(
        [court_t.str.contains("MUNICIPAL"),
         court_t.str.contains(r"FEDERAL|U\.?S\.? DISTRICT|JUVENILE|OUT OF STATE", regex=True),
         court_t.str.contains(r"CIRCUIT|ASSOCIATE", regex=True)],
        ["MUNICIPAL", "OTHER", "STATE"], default="")
    kind = kind.where(kind != "", pd.Series(from_court, index=kind.index))
    ordinance = charge_code.fillna("").astype("str").str.upper().str.startswith("ORD")
    kind = kind.where(~((kind == "") & ordinance), "MUNICIPAL")
    assumed = kind == ""
    return pd.DataFrame({"case_kind": kind.where(~assumed, "STATE"), "assumed": assumed})


# --------------------------------------------------------------------------- serving

_NOT_SERVING = (r"COMPLET|DISCHARG|TERMINAT|EXPIR|CLOSED|SATISFIED|RELEASED|SERVED|"
                r"\bNONE\b|\bNO\b|\bN\b|FINISHED|PAID")
_SERVING = (r"ACTIVE|SUPERVIS|PROBATION|PAROLE|INCARCERAT|CUSTODY|CONFINED|SERVING|PRISON|"
            r"JAIL|\bDOC\b|\bYES\b|\bY\b|\bOPEN\b")


def serving(supervision_status: pd.Series, disposition_class_: pd.Series) -> pd.Series:
    """YES, NO or UNKNOWN. A non-conviction carries no sentence, so it is NO."""
    t = supervision_status.fillna("").astype("str").str.upper()
    out = np.select(
        [t.str.contains(_NOT_SERVING, regex=True), t.str.contains(_SERVING, regex=True),
         disposition_class_ == "NONCONVICTION"],
        ["NO", "YES", "NO"], default="UNKNOWN")
    return pd.Series(out, index=t.index)


# --------------------------------------------------------------------------- all facts


def derive_facts(
    charges: pd.DataFrame,
    offenses: pd.DataFrame,
    policies: Mapping[str, str],
    effective_date: date,
) -> pd.DataFrame:
    """Combine the export's columns and the offense frame into decision facts.

    Args:
        charges: ingested charges (canonical column names).
        offenses: output of ``normalize_offenses`` aligned to ``charges``.
        policies: rule-file policies (``conflated_code_without_modifier`` is read here).
        effective_date: the amendment's effective date (conduct on or after it is R10).
    """
    idx = charges.index
    n = len(charges)

    def col(name: str) -> pd.Series:
        if name in charges:
            return charges[name]
        return pd.Series([None] * n, index=idx, dtype="str")

    bits = np.zeros(n, dtype=np.uint32)
    out = pd.DataFrame(index=idx)

    disp = per_distinct(col("disposition"), disposition_class)
    out["disposition_class"] = disp["disposition_class"]
    out["disposition_status"] = disp["disposition_status"]
    _flag(bits, "DISPOSITION_MISSING", disp["disposition_status"] == "MISSING")

    # Substance, in the binding order of trust, with clerk-confirmed crosswalk answers first.
    confirmed = offenses["crosswalk_substance"] if "crosswalk_substance" in offenses else pd.Series(
        None, index=idx, dtype="object")
    mod = offenses["modifier_substance"]
    scope = offenses["substance_scope"].fillna("")
    dsub = offenses["desc_substance"].fillna("")
    scope_sub = scope.map({"MJ": "MARIJUANA", "SYN": "SYNTHETIC_CANNABINOID", "OTHER": "OTHER_DRUG"})
    # Guard: on an EXCEPT-35 code with no modifier, statutory "controlled substance ...
    # marijuana" wording is the trap phrase (perhaps mistyped), not evidence of marijuana.
    statutory = offenses["desc_canonical"].fillna("").str.contains("CONTROLLED SUBSTANCE", regex=False)
    trap = (scope == "EXCEPT35") & mod.isna() & dsub.isin(["MARIJUANA", "CONFLATED"]) & statutory
    dsub = dsub.mask(trap, "EXCEPT35")
    desc_named = dsub.isin(["MARIJUANA", "THC", "SYNTHETIC_CANNABINOID", "OTHER_DRUG"])
    except35 = (scope == "EXCEPT35") | (dsub == "EXCEPT35")
    conflated = (scope == "MJ_SYN") | (dsub == "CONFLATED")
    assume = policies.get("conflated_code_without_modifier", "assume_marijuana") == "assume_marijuana"
    record = mod.fillna(scope_sub)  # what the code and its modifier say
    is_mj = lambda s: s.isin(["MARIJUANA", "THC"])  # noqa: E731
    # Record and description disagree on marijuana vs another substance: the outcome turns
    # on it, so a clerk decides (the Boone County "synthetic marijuana" that was meth).
    clash = record.notna() & desc_named & (is_mj(record) != is_mj(dsub))
    choices = [
        (confirmed.notna(), confirmed),
        (clash, pd.Series("UNKNOWN", index=idx)),
        (mod.notna(), mod),
        (scope_sub.notna(), scope_sub),
        (desc_named, dsub),
        (except35, pd.Series("UNKNOWN", index=idx)),
        (conflated, pd.Series("MARIJUANA" if assume else "UNKNOWN", index=idx)),
    ]
    substance = np.select([c for c, _ in choices], [v for _, v in choices], default="UNKNOWN")
    out["substance"] = substance
    which = np.select([c for c, _ in choices], list(range(len(choices))), default=-1)
    # Where the conflated-code policy decided, whatever its value (what-if runs flip it).
    _flag(bits, "CONFLATED_CODE_WITHOUT_MODIFIER", which == 6)
    _flag(bits, "SUBSTANCE_ASSUMED_MARIJUANA", (which == 6) & assume)
    _flag(bits, "EXCEPT_35G_WORDING", except35)
    differs = record.notna() & desc_named & (record != dsub.where(dsub != "THC", "MARIJUANA"))
    _flag(bits, "SUBSTANCE_CONFLICT", differs & confirmed.isna())

    family = offenses["offense_family"].copy()
    other = (out["substance"] == "OTHER_DRUG") & family.isin(SUBSTANCE_FAMILIES)
    out["offense_family"] = family.where(~other, "OTHER_DRUG")
    out["marijuana"] = out["substance"].isin(MARIJUANA_SUBSTANCES)

    # Amount: the description first, else the bound fixed by the offense definition.
    amount = offenses["desc_amount_g"].astype("Float64")
    if "crosswalk_amount_g" in offenses:
        amount = offenses["crosswalk_amount_g"].astype("Float64").fillna(amount)
    definitional = offenses["amount_max_g"].astype("Float64")
    out["amount_g"] = amount.fillna(definitional)
    _flag(bits, "AMOUNT_FROM_OFFENSE_DEFINITION", amount.isna() & definitional.notna())
    _flag(bits, "AMOUNT_CONFLICT", (amount > definitional).fillna(False))

    # Level and class: code table, the export's columns, statute table, description suffix.
    from_code = offenses["match_method"] == "charge_code"
    export = per_distinct(
        pd.DataFrame({"l": col("charge_level"), "c": col("charge_class")}),
        lambda u: parse_level_class(u["l"] + " " + u["c"]))
    suffix = per_distinct(offenses["desc_level_hint"], parse_level_class)
    ref_level = offenses["ref_level"].where(offenses["ref_level"].isin(["F", "M", "I", "L"]))
    ref_class = offenses["ref_class"].where(offenses["ref_class"].isin(list("ABCDE")))
    level = ref_level.where(from_code).fillna(export["level"]).fillna(ref_level)
    # The code table and the export's own level disagree (F vs M): for a marijuana charge
    # that decides automatic expungement against the felony paths, so a clerk must say.
    level_clash = (from_code & ref_level.notna() & export["level"].notna() & (ref_level != export["level"])
                   & ref_level.isin(["F", "M"]) & export["level"].isin(["F", "M"]))
    _flag(bits, "LEVEL_CONFLICT", level_clash)
    level = level.mask(level_clash & out["marijuana"])
    level_from_suffix = level.isna() & suffix["level"].notna()
    level = level.fillna(suffix["level"])
    klass = ref_class.where(from_code).fillna(export["class"]).fillna(ref_class).fillna(suffix["class"])
    _flag(bits, "LEVEL_FROM_DESCRIPTION", level_from_suffix)
    small_possession = (
        level.isna() & ~level_clash & (out["offense_family"] == "MJ_POSSESSION")
        & (out["amount_g"] <= MISDEMEANOR_MAX_POSSESSION_G).fillna(False)
    )
    level = level.mask(small_possession, "M")
    _flag(bits, "LEVEL_FROM_AMOUNT", small_possession)
    out["level"] = level
    out["class"] = klass

    # Case kind.
    kind = per_distinct(
        pd.DataFrame({"t": col("case_type"), "n": col("case_number").str[:10], "c": col("court"),
                      "o": col("charge_code").fillna("").astype("str").str[:3]}),
        lambda u: case_kind(u["t"], u["n"], u["c"], u["o"]))
    out["case_kind"] = kind["case_kind"]
    _flag(bits, "CASE_KIND_ASSUMED_STATE", kind["assumed"])

    # Serving a sentence (unknown is treated as not serving, with a caveat on marijuana rows).
    out["serving"] = per_distinct(
        pd.DataFrame({"s": col("supervision_status"), "d": out["disposition_class"]}),
        lambda u: serving(u["s"], u["d"]))
    _flag(bits, "SERVING_STATUS_ASSUMED", (out["serving"] == "UNKNOWN") & out["marijuana"])

    # Conduct on or after the effective date (R10); the filing date stands in when the
    # offense date is missing and the case was filed on or after that date.
    eff = pd.Timestamp(effective_date)
    offense_date = pd.to_datetime(col("offense_date"))
    filing_date = pd.to_datetime(col("filing_date"))
    by_filing = offense_date.isna() & (filing_date >= eff).fillna(False)
    out["offense_after_effective"] = (offense_date >= eff).fillna(False) | by_filing
    _flag(bits, "OFFENSE_DATE_FROM_FILING", by_filing)

    _flag(bits, "STATUTE_DESCRIPTION_CONFLICT", offenses["match_caveats"] == "STATUTE_DESCRIPTION_CONFLICT")
    _flag(bits, "DESCRIPTION_WORD_FUZZY",
          (offenses["match_method"] == "fuzzy") & (offenses["match_score"] < 100))
    expunged = col("expunged").fillna("").astype("str").str.upper().str.match(r"^(Y|YES|TRUE|1|EXPUNGED|\d{4}-)")
    out["already_expunged"] = expunged
    _flag(bits, "ALREADY_EXPUNGED", expunged)
    out["caveat_bits"] = bits
    return out
