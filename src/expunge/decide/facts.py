"""Facts the rule table reads: substance, level, class, amount, case kind, serving.

After ``normalize.offenses.normalize_offenses``, before the rules. Input: ingested charges plus the
offense frame. Output columns: ``offense_family`` (final), ``substance``, ``level``,
``class``, ``amount_g``, ``disposition_class``, ``disposition_status``, ``case_kind``,
``serving``, ``marijuana``, ``offense_after_effective`` and ``caveat_bits``.

Every choice follows the "Readings settled" of ELIGIBILITY.md; where the pipeline assumes
something it sets a caveat, so the reader of a decision sees the assumption.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from expunge.decide.dispositions import disposition_class
from expunge.ingest.distinct import column, per_distinct
from expunge.law import readings
from expunge.law.rules import DEFAULT_SUBSTANCE_ORDER
from expunge.law.values import MARIJUANA_SUBSTANCES, SUBSTANCE_FAMILIES

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
    "SERVING_KIND_ASSUMED",
    "SUPERVISED_VACATED_AUTOMATICALLY",
    "MODIFIER_OVER_CODE_READING",
)
BIT = {name: np.uint32(1 << i) for i, name in enumerate(CAVEATS)}

#: Possession of 35 g or less was a misdemeanor in 195.202 and 579.015 (``law/readings.yaml``).
MISDEMEANOR_MAX_POSSESSION_G = float(readings()["amounts"]["misdemeanor_possession_max_g"])


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
    """Caveats as one ``;``-separated string per row (for CSV outputs), made once per distinct
    set of caveats (a partition has a few dozen)."""
    sets, codes = np.unique(bits.to_numpy(dtype=np.uint32), return_inverse=True)
    text = np.array([";".join(name for name in CAVEATS if bits_ & BIT[name]) for bits_ in sets], dtype=object)
    return pd.Series(text[codes.reshape(-1)] if len(text) else [], index=bits.index, dtype="str")


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

_KINDS = readings()["case_kinds"]
_TYPES = {kind: {str(t) for t in _KINDS[kind]} for kind in ("STATE", "MUNICIPAL", "JUVENILE", "OTHER")}


def _kind_from_type(t: pd.Series) -> pd.Series:
    t = t.fillna("").astype("str").str.upper().str.strip()
    kinds = list(_TYPES)
    return pd.Series(np.select([t.isin(_TYPES[k]) for k in kinds], kinds, default=""), index=t.index)


def _group(text: pd.Series, pattern: str) -> pd.Series:
    """The group ``g`` of ``pattern`` in each value (missing where it does not match), by
    Arrow's regex kernel: case numbers are nearly all distinct, so no per-value Python."""
    found = pc.struct_field(pc.extract_regex(pa.array(text, type=pa.string(), from_pandas=True), pattern), [0])
    return pd.Series(found.to_pandas(), index=text.index, dtype="str")


def case_kind(case_type: pd.Series, case_number: pd.Series, court: pd.Series,
              charge_code: pd.Series) -> pd.DataFrame:
    """STATE, MUNICIPAL, JUVENILE or OTHER from the case type column, else the case number (Court
    Operating Rule 4.04: ``1622-CR01234``, ``16SL-CR01234-01``, converted ``22R0199001234``),
    else the court name, else an ordinance charge code; STATE with a caveat otherwise."""
    kind = _kind_from_type(case_type)
    num = case_number.fillna("").astype("str").str.upper().str.strip()
    new = _group(num, r"^\d{2}[0-9A-Z]{2,3}-?(?P<g>[A-Z]{2})\d")
    conv = _group(num, r"^\d{2}(?P<g>[A-Z])\d{4,}")
    kind = kind.where(kind != "", _kind_from_type(new.fillna(conv)))
    court_t = court.fillna("").astype("str").str.upper()
    from_court = np.select([court_t.str.contains(pattern, regex=True) for _, pattern in _KINDS["courts"]],
                           [kind for kind, _ in _KINDS["courts"]], default="")
    kind = kind.where(kind != "", pd.Series(from_court, index=kind.index))
    ordinance = charge_code.fillna("").astype("str").str.upper().str.startswith("ORD")
    kind = kind.where(~((kind == "") & ordinance), "MUNICIPAL")
    assumed = kind == ""
    return pd.DataFrame({"case_kind": kind.where(~assumed, "STATE"), "assumed": assumed})


# --------------------------------------------------------------------------- serving

_SERVING = readings()["serving"]


def serving(supervision_status: pd.Series, sentence: pd.Series, disposition_class: pd.Series) -> pd.DataFrame:
    """``serving`` (INCARCERATED, SUPERVISED, NO or UNKNOWN) and ``kind_assumed``.

    From the supervision status first (completed, discharged ... = NO; custody, prison,
    jail = INCARCERATED; probation, parole = SUPERVISED); an ACTIVE status is told apart by
    the sentence text (a DOC or jail term: INCARCERATED; probation, parole, SES:
    SUPERVISED), and with nothing to tell it is SUPERVISED with ``kind_assumed``. A
    non-conviction carries no sentence: NO. Words: ``law/readings.yaml``, ``serving``.
    """
    t = supervision_status.fillna("").astype("str").str.upper()
    sent = sentence.fillna("").astype("str").str.upper()
    active = t.str.contains(_SERVING["active"], regex=True)
    by_sentence_inc = sent.str.contains(_SERVING["sentence_incarcerated"], regex=True)
    by_sentence_sup = sent.str.contains(_SERVING["sentence_supervised"], regex=True)
    conditions = [
        t.str.contains(_SERVING["not_serving"], regex=True),
        t.str.contains(_SERVING["incarcerated"], regex=True),
        t.str.contains(_SERVING["supervised"], regex=True),
        active & by_sentence_inc,
        active & by_sentence_sup,
        active,
        disposition_class == "NONCONVICTION",
    ]
    out = np.select(conditions, ["NO", "INCARCERATED", "SUPERVISED", "INCARCERATED", "SUPERVISED", "SUPERVISED", "NO"],
                    default="UNKNOWN")
    which = np.select(conditions, list(range(len(conditions))), default=-1)
    return pd.DataFrame({"serving": out, "kind_assumed": which == 5}, index=t.index)


# --------------------------------------------------------------------------- substance


def substance(order: tuple[str, ...], crosswalk_substance: pd.Series, modifier_substance: pd.Series,
              code_substance: pd.Series, description_substance: pd.Series, except_wording: pd.Series,
              conflated_wording: pd.Series, conflated_policy: str) -> pd.DataFrame:
    """``substance`` and the ``step`` of the order of trust that decided it.

    Args:
        order: the rule file's ``substance_order`` (steps named in ``rules.SUBSTANCE_STEPS``).
        crosswalk_substance: a clerk-confirmed substance (or null).
        modifier_substance: what the NCIC modifier names (MARIJUANA, OTHER_DRUG or null).
        code_substance: what the code's or statute's definition fixes (MARIJUANA,
            SYNTHETIC_CANNABINOID, OTHER_DRUG or null).
        description_substance: the drug the description names outside any EXCEPT phrase
            (MARIJUANA, THC, SYNTHETIC_CANNABINOID, OTHER_DRUG or null).
        except_wording: the code or the description has the EXCEPT-35-grams wording.
        conflated_wording: the code or the description is "MARIJUANA/SYNTHETIC CANNABINOID".
        conflated_policy: ``conflated_code_without_modifier`` (assume_marijuana or review).
    """
    idx = modifier_substance.index
    mj = lambda s: s.isin(MARIJUANA_SUBSTANCES)  # noqa: E731
    named = description_substance.notna()
    record = modifier_substance.fillna(code_substance)
    unknown = pd.Series("UNKNOWN", index=idx)
    steps = {
        "crosswalk": (crosswalk_substance.notna(), crosswalk_substance),
        "modifier": (modifier_substance.notna(), modifier_substance),
        # The record (code or modifier) and the description disagree on marijuana: a person
        # decides (the Boone County "synthetic marijuana" that was methamphetamine).
        "record_description_conflict": (record.notna() & named & (mj(record) != mj(description_substance)), unknown),
        "code_description_conflict": (code_substance.notna() & named
                                      & (mj(code_substance) != mj(description_substance)), unknown),
        "code": (code_substance.notna(), code_substance),
        "description": (named, description_substance),
        "except_wording": (except_wording.astype(bool), unknown),
        "conflated_wording": (conflated_wording.astype(bool),
                              pd.Series("MARIJUANA" if conflated_policy == "assume_marijuana" else "UNKNOWN",
                                        index=idx)),
    }
    chosen = [steps[s] for s in order]
    out = np.select([c.to_numpy(dtype=bool) for c, _ in chosen], [v.to_numpy(dtype=object) for _, v in chosen],
                    default="UNKNOWN")
    step = np.select([c.to_numpy(dtype=bool) for c, _ in chosen], list(order), default="none")
    return pd.DataFrame({"substance": out, "step": step}, index=idx)


def offense_family(offense_family: pd.Series, substance: pd.Series, substance_step: pd.Series,
                   modifier_conduct: pd.Series) -> pd.Series:
    """The final family: another drug closes a drug family (OTHER_DRUG); a marijuana
    modifier on a code whose reading does not fix a marijuana conduct (OTHER_DRUG,
    DRUG_UNSPECIFIED) makes it a marijuana charge of the modifier's conduct (60/61
    delivery, 62 possession, 63 manufacture; 64: the code fixes none, so review); and
    OTHER_DRUG stands only where the substance is another drug (else DRUG_UNSPECIFIED)."""
    other = (substance == "OTHER_DRUG") & offense_family.isin(SUBSTANCE_FAMILIES)
    family = offense_family.where(~other, "OTHER_DRUG")
    by_modifier = (substance_step == "modifier") & substance.isin(MARIJUANA_SUBSTANCES)
    generic = by_modifier & family.isin(["OTHER_DRUG", "DRUG_UNSPECIFIED"])
    family = family.where(~generic, modifier_conduct.fillna("DRUG_UNSPECIFIED"))
    # Evidence, not absence: OTHER_DRUG needs the substance to be another drug. A code read as
    # another drug whose record says otherwise (a description naming marijuana: a conflict)
    # is an unspecified drug charge, for a person to settle.
    unproven = (family == "OTHER_DRUG") & (substance != "OTHER_DRUG")
    return family.where(~unproven, "DRUG_UNSPECIFIED")


def amount_g(description_amount_g: pd.Series, crosswalk_amount_g: pd.Series,
             definition_amount_g: pd.Series) -> pd.DataFrame:
    """``amount_g``: a clerk's confirmed amount, else the description's, else the upper
    bound the offense definition fixes; ``from_definition`` and ``conflict`` (the stated
    amount exceeds the definition's bound) for caveats."""
    stated = crosswalk_amount_g.astype("Float64").fillna(description_amount_g.astype("Float64"))
    definition = definition_amount_g.astype("Float64")
    return pd.DataFrame({"amount_g": stated.fillna(definition),
                         "from_definition": (stated.isna() & definition.notna()).to_numpy(dtype=bool),
                         "conflict": (stated > definition).fillna(False).to_numpy(dtype=bool)},
                        index=description_amount_g.index)


def level_class(ref_level: pd.Series, ref_class: pd.Series, from_code: pd.Series, export_level: pd.Series,
                export_class: pd.Series, suffix_level: pd.Series, suffix_class: pd.Series, offense_family: pd.Series,
                amount_g: pd.Series, marijuana: pd.Series) -> pd.DataFrame:
    """``level`` and ``class``: the code table (when the code matched), the export's own
    columns, the statute table, then a description suffix like "(MA)"; a possession charge
    of unknown level with an amount of 35 g or less is a misdemeanor. A code table and an
    export that disagree on F against M leave a marijuana charge's level unknown
    (``conflict``): that decides automatic expungement against the felony paths.

    Returns ``level``, ``class``, ``conflict``, ``from_description`` and ``from_amount``.
    """
    ref_l = ref_level.where(ref_level.isin(["F", "M", "I", "L"]))
    ref_c = ref_class.where(ref_class.isin(list("ABCDE")))
    level = ref_l.where(from_code).fillna(export_level).fillna(ref_l)
    conflict = (from_code & ref_l.notna() & export_level.notna() & (ref_l != export_level)
                & ref_l.isin(["F", "M"]) & export_level.isin(["F", "M"]))
    level = level.mask(conflict & marijuana)
    from_description = level.isna() & suffix_level.notna()
    level = level.fillna(suffix_level)
    klass = ref_c.where(from_code).fillna(export_class).fillna(ref_c).fillna(suffix_class)
    from_amount = (level.isna() & ~conflict & (offense_family == "MJ_POSSESSION")
                   & (amount_g <= MISDEMEANOR_MAX_POSSESSION_G).fillna(False))
    level = level.mask(from_amount, "M")
    return pd.DataFrame({"level": level, "class": klass, "conflict": conflict.to_numpy(dtype=bool),
                         "from_description": from_description.to_numpy(dtype=bool),
                         "from_amount": from_amount.to_numpy(dtype=bool)}, index=ref_level.index)


def offense_after_effective(offense_date: pd.Series, filing_date: pd.Series, effective_date: date) -> pd.DataFrame:
    """Conduct on or after the effective date (R10); the filing date stands in when the
    offense date is missing and the case was filed on or after it (``from_filing``)."""
    eff = pd.Timestamp(effective_date)
    from_filing = offense_date.isna() & (filing_date >= eff).fillna(False)
    return pd.DataFrame({"offense_after_effective": (offense_date >= eff).fillna(False) | from_filing,
                         "from_filing": from_filing}, index=offense_date.index)


# --------------------------------------------------------------------------- all facts


def derive_facts(
    charges: pd.DataFrame,
    offenses: pd.DataFrame,
    policies: Mapping[str, str],
    effective_date: date,
    substance_order: tuple[str, ...] = DEFAULT_SUBSTANCE_ORDER,
) -> pd.DataFrame:
    """Combine the export's columns and the offense frame into decision facts.

    Args:
        charges: ingested charges (canonical column names).
        offenses: output of ``normalize_offenses`` aligned to ``charges``.
        policies: rule-file policies (``conflated_code_without_modifier`` is read here).
        effective_date: the amendment's effective date (conduct on or after it is R10).
        substance_order: the rule file's order of trust for the substance.
    """
    idx = charges.index
    n = len(charges)
    col = partial(column, charges)  # a field the export may lack reads as missing


    def ocol(name: str) -> pd.Series:
        if name in offenses:
            return offenses[name]
        return pd.Series([None] * n, index=idx, dtype="object")

    bits = np.zeros(n, dtype=np.uint32)
    out = pd.DataFrame(index=idx)

    disp = per_distinct(col("disposition"), disposition_class)
    out["disposition_class"] = disp["disposition_class"]
    out["disposition_status"] = disp["disposition_status"]
    _flag(bits, "DISPOSITION_MISSING", disp["disposition_status"] == "MISSING")

    # Substance, in the rule file's order of trust.
    mod = offenses["modifier_substance"]
    scope = offenses["substance_scope"].fillna("")
    dsub = offenses["desc_substance"].fillna("")
    code_sub = scope.map({"MJ": "MARIJUANA", "SYN": "SYNTHETIC_CANNABINOID", "OTHER": "OTHER_DRUG"})
    # Guard: on an EXCEPT-35 code with no modifier, statutory "controlled substance ...
    # marijuana" wording is the trap phrase (perhaps mistyped), not evidence of marijuana.
    statutory = offenses["desc_canonical"].fillna("").str.contains("CONTROLLED SUBSTANCE", regex=False)
    trap = (scope == "EXCEPT35") & mod.isna() & dsub.isin(["MARIJUANA", "CONFLATED"]) & statutory
    dsub = dsub.mask(trap, "EXCEPT35")
    named = dsub.where(dsub.isin(["MARIJUANA", "THC", "SYNTHETIC_CANNABINOID", "OTHER_DRUG"]))
    except35 = (scope == "EXCEPT35") | (dsub == "EXCEPT35")
    conflated = (scope == "MJ_SYN") | (dsub == "CONFLATED")
    policy = policies.get("conflated_code_without_modifier", "assume_marijuana")
    sub = substance(substance_order, ocol("crosswalk_substance"), mod, code_sub, named, except35, conflated, policy)
    out["substance"] = sub["substance"]
    # Where the conflated-code policy decided, whatever its value (what-if runs flip it).
    _flag(bits, "CONFLATED_CODE_WITHOUT_MODIFIER", sub["step"] == "conflated_wording")
    _flag(bits, "SUBSTANCE_ASSUMED_MARIJUANA", (sub["step"] == "conflated_wording") & (policy == "assume_marijuana"))
    _flag(bits, "EXCEPT_35G_WORDING", except35)
    record = mod.fillna(code_sub)
    differs = record.notna() & named.notna() & (record != named.where(named != "THC", "MARIJUANA"))
    _flag(bits, "SUBSTANCE_CONFLICT", differs & (sub["step"] != "crosswalk"))

    out["offense_family"] = offense_family(offenses["offense_family"], out["substance"], sub["step"],
                                           ocol("modifier_conduct"))
    out["marijuana"] = out["substance"].isin(MARIJUANA_SUBSTANCES)
    _flag(bits, "MODIFIER_OVER_CODE_READING", out["marijuana"] & (sub["step"] == "modifier")
          & offenses["offense_family"].isin(["OTHER_DRUG", "DRUG_UNSPECIFIED"]))
    out["violent"] = ocol("violent").fillna(False).astype(bool)

    # Amount: the description first, else the bound fixed by the offense definition.
    amt = amount_g(offenses["desc_amount_g"], ocol("crosswalk_amount_g"), offenses["amount_max_g"])
    out["amount_g"] = amt["amount_g"]
    _flag(bits, "AMOUNT_FROM_OFFENSE_DEFINITION", amt["from_definition"])
    _flag(bits, "AMOUNT_CONFLICT", amt["conflict"])

    # Level and class: code table, the export's columns, statute table, description suffix.
    export = per_distinct(
        pd.DataFrame({"l": col("charge_level"), "c": col("charge_class")}),
        lambda u: parse_level_class(u["l"] + " " + u["c"]))
    suffix = per_distinct(offenses["desc_level_hint"], parse_level_class)
    lc = level_class(offenses["ref_level"], offenses["ref_class"], offenses["match_method"] == "charge_code",
                     export["level"], export["class"], suffix["level"], suffix["class"], out["offense_family"],
                     out["amount_g"], out["marijuana"])
    out["level"] = lc["level"]
    out["class"] = lc["class"]
    _flag(bits, "LEVEL_CONFLICT", lc["conflict"])
    _flag(bits, "LEVEL_FROM_DESCRIPTION", lc["from_description"])
    _flag(bits, "LEVEL_FROM_AMOUNT", lc["from_amount"])

    # Case kind.
    kind = per_distinct(
        pd.DataFrame({"t": col("case_type"), "n": col("case_number").str[:10], "c": col("court"),
                      "o": col("charge_code").fillna("").astype("str").str[:3]}),
        lambda u: case_kind(u["t"], u["n"], u["c"], u["o"]))
    out["case_kind"] = kind["case_kind"]
    _flag(bits, "CASE_KIND_ASSUMED_STATE", kind["assumed"])

    # Serving a sentence (unknown is treated as not serving, with a caveat on marijuana rows).
    serve = per_distinct(
        pd.DataFrame({"s": col("supervision_status"), "t": col("sentence"), "d": out["disposition_class"]}),
        lambda u: serving(u["s"], u["t"], u["d"]))
    out["serving"] = serve["serving"]
    _flag(bits, "SERVING_STATUS_ASSUMED", (out["serving"] == "UNKNOWN") & out["marijuana"])
    _flag(bits, "SERVING_KIND_ASSUMED", serve["kind_assumed"].astype(bool) & out["marijuana"])

    after = offense_after_effective(pd.to_datetime(col("offense_date")), pd.to_datetime(col("filing_date")),
                                    effective_date)
    out["offense_after_effective"] = after["offense_after_effective"]
    _flag(bits, "OFFENSE_DATE_FROM_FILING", after["from_filing"])

    _flag(bits, "STATUTE_DESCRIPTION_CONFLICT", offenses["match_caveats"] == "STATUTE_DESCRIPTION_CONFLICT")
    _flag(bits, "DESCRIPTION_WORD_FUZZY",
          (offenses["match_method"] == "fuzzy") & (offenses["match_score"] < 100))
    expunged = col("expunged").fillna("").astype("str").str.upper().str.match(readings()["records"]["expunged"])
    out["already_expunged"] = expunged
    _flag(bits, "ALREADY_EXPUNGED", expunged)
    out["caveat_bits"] = bits
    return out
