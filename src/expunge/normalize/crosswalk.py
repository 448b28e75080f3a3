"""The crosswalk clerks correct (``--crosswalk``): a description or charge code and the facts
to set for it, validated row by row and applied before any fuzzy matching."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from expunge.law.values import CLASSES, FAMILIES, LEVELS, SUBSTANCES
from expunge.normalize.catalog import CatalogError, _csv
from expunge.normalize.codes import parse_charge_codes
from expunge.normalize.text import canonicalize

CROSSWALK_COLUMNS = ("match_on", "value", "offense_family", "substance", "statute", "level", "class", "amount_g",
                     "note", "confirmed_by", "confirmed_on")


@dataclass(frozen=True)
class Crosswalk:
    """Clerk-confirmed answers: charge code or description -> offense facts."""

    by_code: pd.DataFrame
    by_text: pd.DataFrame
    sha256: str
    path: str
    rows: int = 0
    problems: tuple[str, ...] = field(default_factory=tuple)


def load_crosswalk(path: str | Path) -> Crosswalk:
    """Read and validate a crosswalk CSV (columns ``CROSSWALK_COLUMNS``; only ``match_on``,
    ``value`` and one fact are required).

    Raises:
        CatalogError: naming every bad row and column.
    """
    p = Path(path)
    if not p.is_file():
        raise CatalogError(f"Crosswalk {p} does not exist. Check the path given with --crosswalk.")
    raw = p.read_bytes()
    table = _csv(raw)
    missing = {"match_on", "value"} - set(table.columns)
    if missing:
        raise CatalogError(f"Crosswalk {p.name} needs the columns match_on and value (and the facts to set).")
    for c in CROSSWALK_COLUMNS:
        if c not in table:
            table[c] = ""
    problems = []
    allowed = {"offense_family": set(FAMILIES), "substance": set(SUBSTANCES), "level": set(LEVELS),
               "class": set(CLASSES)}
    for i, row in table.iterrows():
        line = i + 2  # header is line 1
        if row["match_on"] not in ("description", "charge_code"):
            problems.append(f"line {line}, match_on: {row['match_on']!r} must be description or charge_code")
        for col, values in allowed.items():
            if row[col] and row[col] not in values:
                problems.append(f"line {line}, {col}: {row[col]!r} is not one of {', '.join(sorted(values))}")
        if row["amount_g"]:
            try:
                float(row["amount_g"])
            except ValueError:
                problems.append(f"line {line}, amount_g: {row['amount_g']!r} is not a number of grams")
        if not any(row[c] for c in ("offense_family", "substance", "statute", "level", "class", "amount_g")):
            problems.append(f"line {line}: the row sets no fact")
    if problems:
        listing = "\n".join(f"  - {x}" for x in problems)
        raise CatalogError(f"Crosswalk {p.name} has {len(problems)} problem(s):\n{listing}")
    facts = ["offense_family", "substance", "statute", "level", "class", "amount_g"]
    codes = table[table["match_on"] == "charge_code"].copy()
    codes["key"] = parse_charge_codes(codes["value"])["charge_code_normalized"].fillna(codes["value"].str.upper())
    texts = table[table["match_on"] == "description"].copy()
    texts["key"] = canonicalize(texts["value"].reset_index(drop=True))["text"].to_numpy()
    by_code = codes.drop_duplicates("key", keep="last").set_index("key")[facts].replace("", None)
    by_text = texts.drop_duplicates("key", keep="last").set_index("key")[facts].replace("", None)
    return Crosswalk(by_code=by_code, by_text=by_text, sha256=hashlib.sha256(raw).hexdigest(), path=str(p),
                     rows=len(table))
