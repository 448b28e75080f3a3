"""Description cleaning: from hand-keyed charge text to canonical words.

Input: raw description strings (any case, abbreviations,
typos, truncation, count prefixes, level suffixes). Output: canonical text in which every
known word has one spelling ("POSS MARIJ <35G" -> "POSSESSION MARIJUANA LT 35 GRAMS"), a
token confidence (100 when every decisive word was spelled or abbreviated as the table
knows it, lower when a word was recognised only by fuzzy matching) and the level hint taken
from suffixes like "(MA)".

Work is done once per *distinct* description and once per *distinct* token: a statewide
export has millions of rows but only thousands of distinct descriptions and words.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

#: Canonical words that decide an offense (drugs, conduct, exclusions). Only these lower a
#: description's token confidence when they were recognised by fuzzy matching.
DECISIVE = frozenset(
    {
        "POSSESSION", "MARIJUANA", "CANNABIS", "HASHISH", "THC", "SYNTHETIC", "CANNABINOID",
        "CONTROLLED", "SUBSTANCE", "DRUG", "NARCOTIC", "PARAPHERNALIA", "DELIVERY",
        "DISTRIBUTION", "SALE", "MANUFACTURE", "CULTIVATION", "PRODUCTION", "TRAFFICKING",
        "COCAINE", "HEROIN", "METHAMPHETAMINE", "AMPHETAMINE", "FENTANYL", "MINOR", "WEAPON",
        "FIREARM", "INTOXICATED", "EXCEPT", "IMITATION",
    }
)

#: Words whose near-miss puts a description in the review band, because missing them
#: could change the outcome: a misspelled marijuana or generic drug word must not let a
#: charge pass as non-drug. (Missing "COCAINE" gives NOT_ELIGIBLE either way, and conduct
#: words only matter once a drug is named, so their near-misses do not count.)
#: (Generic words like SUBSTANCE and EXCEPT only count in phrases, and their look-alikes are
#: everyday words: DISTURBANCE, RECEIPT.)
DRUG_WORDS = frozenset({"MARIJUANA", "CANNABIS", "HASHISH", "CANNABINOID", "NARCOTIC", "PARAPHERNALIA"})

PREFIX_MIN_LEN = 5  # a truncated word must keep at least this many letters ...
PREFIX_MIN_SHARE = 0.5  # ... and at least this share of the full word
FUZZY_MIN_LEN = 5  # shorter tokens are matched exactly or not at all
FUZZY_ACCEPT = 80.0  # token typo threshold (rapidfuzz ratio); see docs/normalization.md
#: Words where a miss is dangerous get a looser, transposition-aware match: reading
#: "XECEPT 35 GRAMS OR LESS OF MARIJUANA" as marijuana would expunge another drug's felony,
#: while a false "EXCEPT" only sends a charge to review.
SAFETY_WORDS = {"EXCEPT": 0.6}

_LEVEL_SUFFIX = (
    r"\(\s*(?P<lvl>M[A-E]|F[A-E]|F[1-4S]|M|F|I|INF|MISD|FEL|L|ORD)\s*\)\s*$"
)


@lru_cache(maxsize=1)
def offense_stems() -> tuple[str, ...]:
    """Starts of words that name a known non-drug offense (``law/readings.yaml``)."""
    from expunge.law import readings

    return tuple(str(s) for s in readings()["non_drug_offense_stems"]["stems"] if " " not in str(s) and len(str(s)) > 3)


@lru_cache(maxsize=1)
def short_offense_words() -> frozenset[str]:
    """Offense words of three letters or fewer (MV, BUS, TAX): known only as whole words."""
    from expunge.law import readings

    return frozenset(str(s) for s in readings()["non_drug_offense_stems"]["stems"] if len(str(s)) <= 3)


@dataclass(frozen=True)
class Lexicon:
    """The project's abbreviation table: token -> canonical text, and which words allow
    fuzzy or truncation matching."""

    exact: dict[str, str]
    fuzzy_words: tuple[str, ...]


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    path = resources.files("expunge.normalize") / "tables" / "abbreviations.csv"
    exact: dict[str, str] = {}
    fuzzy_words: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            exact[row["token"]] = row["canonical"]
            if row["fuzzy"] == "Y":
                fuzzy_words.append(row["token"])
    return Lexicon(exact=exact, fuzzy_words=tuple(fuzzy_words))


_NUMBER_WORDS = {
    "ONE": "1", "TWO": "2", "THREE": "3", "FOUR": "4", "FIVE": "5", "SIX": "6", "SEVEN": "7",
    "EIGHT": "8", "NINE": "9", "TEN": "10", "ELEVEN": "11", "TWELVE": "12", "FIFTEEN": "15",
    "TWENTY": "20", "THIRTY": "30", "THIRTY FIVE": "35", "FIFTY": "50", "HUNDRED": "100",
}


def prenormalize(raw: pd.Series) -> pd.DataFrame:
    """Vectorized first pass over raw descriptions.

    Upper-cases, strips count prefixes ("CT 1 -"), pulls a level suffix ("(MA)") into
    ``level_hint``, spells out comparators (``<`` -> ``LT``), splits amounts from units
    ("35G" -> "35 G"), removes punctuation and collapses whitespace.

    Returns:
        DataFrame with ``text`` and ``level_hint`` columns, same index as ``raw``.
    """
    s = raw.fillna("").astype("str").str.upper()
    s = s.str.replace(r"[\x00-\x1f]", " ", regex=True)
    level = s.str.extract(_LEVEL_SUFFIX, expand=False)
    s = s.str.replace(_LEVEL_SUFFIX, " ", regex=True)
    s = s.str.replace(
        r"^\s*(?:CT|COUNT|CNT|CHG|CHARGE)\s*(?:NO\.?|#)?\s*[0-9IVX]+\s*[-:.)]*\s*", "",
        regex=True,
    )
    s = s.str.replace(r"^\s*\d{1,2}\s*[-:)]\s+", "", regex=True)
    s = s.str.replace(r"\bC\s*[/.]\s*S\b\.?", " CS ", regex=True)
    s = s.str.replace(r"\bW\s*/\s*O\b", " WITHOUT ", regex=True)
    s = s.str.replace(r"\bW\s*/\s*I\b", " WITH INTENT ", regex=True)
    s = s.str.replace(r"\bW\s*/", " WITH ", regex=True)
    s = s.str.replace(r"\bU\s*/", " UNDER ", regex=True)
    s = s.str.replace(r"\bK\s*-?\s*2\b", " SYNTHETIC CANNABINOID ", regex=True)
    # Fractions of a unit ("1/2 OZ") before slashes become spaces.
    s = s.str.replace(r"(\d+)\s*/\s*(\d+)", _fraction, regex=True)
    s = s.str.replace(r"<\s*=|=\s*<", " LE ", regex=True)
    s = s.str.replace(r">\s*=|=\s*>", " GE ", regex=True)
    s = s.str.replace("<", " LT ", regex=False).str.replace(">", " GT ", regex=False)
    s = s.str.replace(
        r"(\d)\s*(GRAMS?|GRMS?|GRS?|GMS?|G|OZS?|OUNCES?|LBS?|POUNDS?|KGS?|KILOS?|MG)\b",
        r"\1 \2", regex=True,
    )
    s = s.str.replace(r"(?<!\d)\.|\.(?!\d)", " ", regex=True)
    s = s.str.replace(r"[^A-Z0-9.\s]", " ", regex=True)
    s = s.str.replace(
        r"\b(?:CONT|CONTR|CONTRL|CNTRL|CNTL|CTRL|CONTROL|CONTRLD|CONTROLD|CNTRLD)\s*"
        r"(?:SUB|SUBS|SUBST|SUBSTN|SUBSTNC|SUBSTANCE|SUBSTANCES)\b",
        "CONTROLLED SUBSTANCE", regex=True,
    )
    for word, digits in sorted(_NUMBER_WORDS.items(), key=lambda kv: -len(kv[0])):
        s = s.str.replace(rf"\b{word}\b", digits, regex=True)
    s = s.str.replace(r"\s+", " ", regex=True).str.strip()
    return pd.DataFrame({"text": s, "level_hint": level}, index=raw.index)


def _fraction(m) -> str:  # type: ignore[no-untyped-def]
    num, den = int(m.group(1)), int(m.group(2))
    if den == 0 or den > 100:
        return f"{m.group(1)} {m.group(2)}"
    return f"{num / den:g}"


def canonical_tokens(
    vocab: list[str], accept: float = FUZZY_ACCEPT, review_floor: float = 100.0,
    uncertain: dict[str, tuple[str, float]] | None = None,
) -> tuple[dict[str, str], dict[str, float]]:
    """Map each distinct token to its canonical text, with a confidence per token.

    Ladder, first hit wins: the abbreviation table (100); a truncation of exactly one
    table word (95); a fuzzy match to one table word at or above ``accept`` (its
    rapidfuzz ratio). Tokens that match nothing are kept as they are (100); when their
    best candidate is a decisive word scoring at least ``review_floor`` they are recorded in
    ``uncertain`` (token -> (candidate, score)).
    """
    lex = lexicon()
    mapping: dict[str, str] = {}
    score: dict[str, float] = {}
    pending: list[str] = []
    for tok in vocab:
        if tok in lex.exact:
            mapping[tok], score[tok] = lex.exact[tok], 100.0
        elif not tok.isalpha() or len(tok) < PREFIX_MIN_LEN or tok.startswith(offense_stems()) or tok in \
                short_offense_words():
            # Words naming a known non-drug offense (law/readings.yaml) are known words too:
            # STEALING must not be "corrected" to SELLING.
            mapping[tok], score[tok] = tok, 100.0
        else:
            pending.append(tok)
    if not pending:
        return mapping, score
    words = list(lex.fuzzy_words)
    # Truncation: the token is the start of exactly one canonical word.
    still: list[str] = []
    for tok in pending:
        targets = {
            lex.exact[w] for w in words
            if w.startswith(tok) and len(tok) >= PREFIX_MIN_SHARE * len(w)
        }
        if len(targets) == 1:
            mapping[tok], score[tok] = targets.pop(), 95.0
        else:
            still.append(tok)
    if not still:
        return mapping, score
    # Typos: compare whole words, and (for truncated typos) the word cut to the token length.
    full = process.cdist(still, words, scorer=fuzz.ratio, workers=-1, dtype=np.float32)
    # A truncated typo keeps the word's first letter ("MARIHUAN" for MARIJUANA).
    cut = np.array(
        [[fuzz.ratio(t, w[: len(t)]) if 6 <= len(t) < len(w) and t[0] == w[0] else 0.0 for w in words]
         for t in still],
        dtype=np.float32,
    ) if still else full
    best = np.maximum(full, cut)
    # Hand-keyed typos rarely touch a word's first letter; requiring it keeps LIMITATION from
    # reading as IMITATION (measured on the MSHP descriptions, docs/normalization.md).
    first = np.array([[t[0] == w[0] for w in words] for t in still], dtype=bool)
    best = np.where(first, best, 0.0)
    for i, tok in enumerate(still):
        row = best[i]
        j = int(row.argmax())
        top = float(row[j])
        targets = {lex.exact[words[k]] for k in np.flatnonzero(row == top)}
        if len(tok) >= FUZZY_MIN_LEN and top >= accept and len(targets) == 1:
            mapping[tok], score[tok] = targets.pop(), round(top, 1)
            continue
        for word, floor in SAFETY_WORDS.items():
            sim = OSA.normalized_similarity(tok, word)
            if sim >= floor:
                mapping[tok], score[tok] = word, round(100 * sim, 1)
                break
        else:
            mapping[tok], score[tok] = tok, 100.0
            candidate = lex.exact[words[j]]
            if (uncertain is not None and len(tok) >= FUZZY_MIN_LEN and top >= review_floor
                    and candidate in DRUG_WORDS and tok[0] == words[j][0]):
                uncertain[tok] = (candidate, round(top, 1))
    return mapping, score


def _resegment(tokens: list[str], mapping: dict[str, str]) -> list[str]:
    """Repair a space typed in the wrong place ("POSSM ETH", "THCC ARTRIDGE"): when two
    neighbouring tokens are not both known words, try every other split of their letters
    and keep one that gives two known words."""
    lex = lexicon().exact
    known = lambda t: t in lex or (mapping.get(t, t) != t)  # noqa: E731
    out: list[str] = []
    i = 0
    while i < len(tokens):
        a = tokens[i]
        if i + 1 < len(tokens):
            b = tokens[i + 1]
            if a.isalpha() and b.isalpha() and not (known(a) and known(b)):
                joined = a + b
                for cut in range(2, len(joined) - 1):
                    left, right = joined[:cut], joined[cut:]
                    if cut != len(a) and left in lex and right in lex:
                        out.extend([left, right])
                        i += 2
                        break
                else:
                    out.append(a)
                    i += 1
                continue
        out.append(a)
        i += 1
    return out


def canonicalize(raw: pd.Series, accept: float = FUZZY_ACCEPT, review_floor: float = 100.0) -> pd.DataFrame:
    """Canonical text for each raw description (expects distinct values; works on any).

    Args:
        raw: descriptions.
        accept: token fuzzy-match threshold.
        review_floor: a token whose best decisive candidate scores in
            ``[review_floor, accept)`` is reported in ``uncertain`` (100 disables it).

    Returns:
        DataFrame indexed like ``raw`` with ``text`` (canonical words), ``token_score``
        (0–100, the weakest decisive word), ``level_hint`` and ``uncertain`` (e.g.
        ``"MARAJAUNA~MARIJUANA(78)"``, empty when every word was recognised or ignored).
    """
    pre = prenormalize(raw)
    tokens = pre["text"].str.split(" ")
    vocab = sorted({t for toks in tokens for t in toks if t})
    unsure: dict[str, tuple[str, float]] = {}
    mapping, score = canonical_tokens(vocab, accept, review_floor, unsure)
    tokens = tokens.map(lambda toks: _resegment([t for t in toks if t], mapping))
    extra = sorted({t for toks in tokens for t in toks} - set(mapping))
    if extra:
        more_map, more_score = canonical_tokens(extra, accept, review_floor, unsure)
        mapping.update(more_map)
        score.update(more_score)
    texts, scores, doubts = [], [], []
    for toks in tokens:
        words = [mapping[t] for t in toks if t]
        texts.append(" ".join(w for w in words if w))
        decisive = [score[t] for t in toks if t and mapping[t] in DECISIVE]
        scores.append(min(decisive) if decisive else 100.0)
        doubts.append(" ".join(f"{t}~{unsure[t][0]}({unsure[t][1]:g})" for t in toks if t in unsure))
    return pd.DataFrame(  # typed, so an empty batch has string columns too
        {"text": pd.Series(texts, index=raw.index, dtype="str"),
         "token_score": pd.Series(scores, index=raw.index, dtype="float64"), "level_hint": pre["level_hint"],
         "uncertain": pd.Series(doubts, index=raw.index, dtype="str")},
        index=raw.index,
    )
