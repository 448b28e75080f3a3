"""The review round trip: a clerk answers the review queue; later runs use the answers.

Answers are applied before the rules run. The review queue
(``review_queue.csv``) carries blank ``answer_*`` columns. ``apply_answers`` validates an
edited queue (every bad value reported with its line and column), and merges the answered
rows into an answers store: one CSV keyed by case number + count, holding the charge's
fingerprint so an answer is used only while the charge reads the same. Every later run
given ``--answers`` applies them: an answered question is not asked again.

Answer columns: ``answer_substance``, ``answer_amount_g``, ``answer_offense_family``,
``answer_level``, ``answer_class``, ``answer_disposition`` (a disposition class) and
``answer_decision`` (a determination, for questions only a person can settle, such as the
class E delivery reading or a municipal case), plus a free ``answer_note``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from expunge.errors import ExpungeError
from expunge.ingest.csvfiles import write_csv
from expunge.ingest.distinct import hash_distinct
from expunge.law.values import CLASSES, DETERMINATIONS, FAMILIES, LEVELS, SUBSTANCES

ANSWER_FACTS = {
    "answer_substance": ("substance", SUBSTANCES),
    "answer_amount_g": ("amount_g", None),
    "answer_offense_family": ("offense_family", FAMILIES),
    "answer_level": ("level", LEVELS),
    "answer_class": ("class", CLASSES),
    "answer_disposition": ("disposition_class", ("CONVICTED", "SIS", "NONCONVICTION", "PENDING")),
    "answer_decision": ("determination", tuple(d for d in DETERMINATIONS if d != "NEEDS_REVIEW")),
}
STORE_COLUMNS = ("case_number", "charge_seq", "fingerprint", *ANSWER_FACTS, "answer_note", "answered_in")
CLERK_RULE = ("CLERK", "CLERK_DECISION", "Clerk review of the case file (answers file)")


class ReviewAnswerError(ExpungeError):
    """An edited review queue has values the pipeline cannot use."""


def fingerprint(charge_code: pd.Series, statute: pd.Series, description: pd.Series,
                disposition: pd.Series) -> pd.Series:
    """A short hash of what the clerk saw; an answer stops applying when the charge changes."""
    text = (charge_code.fillna("").astype("str") + "|" + statute.fillna("").astype("str") + "|"
            + description.fillna("").astype("str") + "|" + disposition.fillna("").astype("str"))
    return hash_distinct(text, length=12)


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=str).fillna("")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def validate_answers(queue: pd.DataFrame, label: str) -> pd.DataFrame:
    """Rows of an edited queue that carry an answer, checked; raises listing every problem."""
    missing = {"case_number", "charge_seq", "fingerprint"} - set(queue.columns)
    if missing:
        raise ReviewAnswerError(
            f"{label} is not a review queue from expunge (missing {', '.join(sorted(missing))}). "
            "Answer the review_queue.csv of a run folder and apply that file.")
    for col in ANSWER_FACTS:
        if col not in queue:
            queue[col] = ""
    if "answer_note" not in queue:
        queue["answer_note"] = ""
    answered = queue[[c for c in ANSWER_FACTS]].apply(lambda c: c.str.strip() != "").any(axis=1)
    rows = queue[answered].copy()
    problems: list[str] = []
    for i, row in rows.iterrows():  # answered rows only: a clerk's edits, not the export
        line = int(i) + 2
        for col, (_, allowed) in ANSWER_FACTS.items():
            value = str(row[col]).strip().upper()
            rows.at[i, col] = value
            if not value:
                continue
            if allowed is None:
                try:
                    if float(value) < 0:
                        raise ValueError
                except ValueError:
                    problems.append(f"line {line}, {col}: {row[col]!r} is not a number of grams")
            elif value not in allowed:
                problems.append(f"line {line}, {col}: {row[col]!r} is not one of {', '.join(allowed)}")
        if not str(row["charge_seq"]).strip().isdigit():
            problems.append(f"line {line}, charge_seq: {row['charge_seq']!r} is not a count number")
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ReviewAnswerError(f"{label} has {len(problems)} problem(s); nothing was stored. Fix them and apply "
                                f"the file again:\n{listing}")
    return rows


@dataclass(frozen=True)
class ApplyResult:
    answered: int
    stored: int
    replaced: int


def apply_answers(edited: str | Path, store: str | Path) -> ApplyResult:
    """Validate an answered review queue and merge its answers into the store.

    Raises:
        ReviewAnswerError: listing every bad value (line and column); nothing is stored.
    """
    edited, store = Path(edited), Path(store)
    if not edited.is_file():
        raise ReviewAnswerError(f"{edited} does not exist. Give the review queue file you answered.")
    rows = validate_answers(_read_table(edited), edited.name)
    rows["answered_in"] = edited.name
    rows["charge_seq"] = rows["charge_seq"].astype(str).str.strip()
    new = rows[list(STORE_COLUMNS)]
    old = pd.read_csv(store, dtype=str, keep_default_na=False) if store.exists() else pd.DataFrame(
        columns=list(STORE_COLUMNS))
    keys = ["case_number", "charge_seq"]
    replaced = int(old.merge(new[keys], on=keys).shape[0])
    merged = pd.concat([old, new], ignore_index=True).drop_duplicates(keys, keep="last")
    merged = merged.sort_values(keys, kind="stable")
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_suffix(".tmp")
    write_csv(merged, tmp)
    tmp.replace(store)
    return ApplyResult(answered=len(new), stored=len(merged), replaced=replaced)


def load_answers(store: str | Path) -> pd.DataFrame:
    path = Path(store)
    if not path.is_file():
        raise ReviewAnswerError(f"Answers file {path} does not exist. Create it with 'expunge review apply'.")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return validate_answers(table, path.name) if len(table) else table


def match_answers(charges: pd.DataFrame, answers: pd.DataFrame, prints: pd.Series) -> tuple[pd.DataFrame, int]:
    """Answers aligned to ``charges`` (empty strings where none), and how many were stale
    (the charge no longer reads as it did when answered)."""
    key = charges["case_number"].astype(str) + "#" + charges["charge_seq"].astype(str)
    a = answers.assign(key=answers["case_number"] + "#" + answers["charge_seq"].astype(str)).set_index("key")
    got = a.reindex(key.to_numpy())
    got.index = charges.index
    present = got["fingerprint"].notna()
    fresh = present & (got["fingerprint"] == prints)
    stale = int((present & ~fresh).sum())
    out = got[list(ANSWER_FACTS)].fillna("").astype(str)
    out.loc[~fresh.to_numpy()] = ""
    return out, stale
