"""The review round trip: a clerk answers the review queue; later runs use the answers.

Answers are applied before the rules run. The review queue
(``review_queue.csv``) carries blank ``answer_*`` columns. ``apply_answers`` validates an
edited queue (every bad value reported with its line and column), and merges the answered
rows into an answers store: one CSV keyed by case number + count, holding the charge's
fingerprint so an answer is used only while the charge reads the same. Every later run
given ``--answers`` applies them: an answered question is not asked again.

Each queue row names the one answer column that settles it (``answer_column``) and the
answers it takes (``allowed_answers``), as ``law/readings.yaml`` (``review_answers``) reads the
row's missing fact: ``answer_substance``, ``answer_amount_g``, ``answer_offense_family``,
``answer_level``, ``answer_class``, ``answer_disposition`` (a disposition class),
``answer_decision`` (a determination, for questions only a person can settle, such as the
class E delivery reading or a municipal case) or ``answer_yes_no`` (YES or NO, standing for
the fact or decision ``review_answers.yes_no`` gives). Any row may be decided outright in
``answer_decision``; an answer in any other column is refused with the column it belongs in.
A free ``answer_note`` is kept with the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from expunge.errors import ExpungeError
from expunge.ingest.csvfiles import write_csv
from expunge.ingest.distinct import hash_distinct
from expunge.law import readings
from expunge.law.values import ANSWER_COLUMNS, CLASSES, DETERMINATIONS, FAMILIES, LEVELS, SUBSTANCES

ANSWER_FACTS = {
    "answer_substance": ("substance", SUBSTANCES),
    "answer_amount_g": ("amount_g", None),
    "answer_offense_family": ("offense_family", FAMILIES),
    "answer_level": ("level", LEVELS),
    "answer_class": ("class", CLASSES),
    "answer_disposition": ("disposition_class", ("CONVICTED", "SIS", "NONCONVICTION", "PENDING")),
    "answer_decision": ("determination", tuple(d for d in DETERMINATIONS if d != "NEEDS_REVIEW")),
    "answer_violent": ("violent", ("TRUE", "FALSE")),  # through answer_yes_no (R11v) only
}
assert tuple(ANSWER_FACTS) == ANSWER_COLUMNS
YES_NO = "answer_yes_no"
#: The sheet of ``review_queue.xlsx`` that holds the queue (the first one says how to answer).
QUEUE_SHEET = "review queue"
#: The answer columns of the review queue, in the order a clerk meets them.
QUEUE_ANSWER_COLUMNS = (YES_NO, *(c for c in ANSWER_FACTS if c != "answer_violent"), "answer_note")
_GUIDE = readings()["review_answers"]
BY_FACT: dict[str, str] = dict(_GUIDE["by_fact"])
#: Answer columns a question also takes beside its own (a level question asks the class too).
COMPANIONS = {"answer_level": ("answer_class",), "answer_class": ("answer_level",)}
#: Yes/no questions about a whole case: one answer applies to every count of the case that asks it.
CASE_LEVEL: tuple[str, ...] = tuple(_GUIDE.get("case_level") or ())
YES_NO_RULES: dict[str, dict[str, dict[str, str]]] = {
    rule: {said: {c: str(v) for c, v in (sets or {}).items()} for said, sets in meanings.items()}
    for rule, meanings in _GUIDE["yes_no"].items()}
STORE_COLUMNS = ("case_number", "charge_seq", "fingerprint", *ANSWER_FACTS, "answer_note", "answered_in")
CLERK_RULE = ("CLERK", "CLERK_DECISION", "Clerk review of the case file (answers file)")


class ReviewAnswerError(ExpungeError):
    """An edited review queue has values the pipeline cannot use."""


def fingerprint(charge_code: pd.Series, statute: pd.Series, description: pd.Series,
                disposition: pd.Series) -> pd.Series:
    """A short token of what the clerk saw (``fp-`` and 12 hex digits: never read as a number by
    a spreadsheet); an answer stops applying when the charge changes."""
    text = (charge_code.fillna("").astype("str") + "|" + statute.fillna("").astype("str") + "|"
            + description.fillna("").astype("str") + "|" + disposition.fillna("").astype("str"))
    return FINGERPRINT_PREFIX + hash_distinct(text, length=12)


FINGERPRINT_PREFIX = "fp-"


def _bare(prints: pd.Series) -> pd.Series:
    """Fingerprints without their prefix: a store written before the prefix still matches."""
    return prints.astype("str").str.removeprefix(FINGERPRINT_PREFIX)


#: The answer column of a row that waits on counsel's reading: not a clerk's column.
COUNSEL = "counsel"


def answer_guide(rule_id: pd.Series, missing_fact: pd.Series) -> pd.DataFrame:
    """Per review row: the answer column that settles it and the answers that column takes. A
    row waiting on a reading of the law names counsel, who settles the reading once."""
    yes_no = rule_id.isin(list(YES_NO_RULES))
    column = missing_fact.map(BY_FACT).where(~yes_no, YES_NO).fillna("answer_decision")
    column = column.where(missing_fact != "legal_reading", COUNSEL)
    allowed = column.map(lambda c: "YES, NO" if c == YES_NO
                         else "counsel settles the reading once for all its rows (How to answer)" if c == COUNSEL
                         else "a number of grams" if ANSWER_FACTS[c][1] is None else ", ".join(ANSWER_FACTS[c][1]))
    return pd.DataFrame({"answer_column": column, "allowed_answers": allowed}, index=rule_id.index)


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        with pd.ExcelFile(path) as book:  # the queue's own sheet; else the first (a clerk's own workbook)
            sheet = QUEUE_SHEET if QUEUE_SHEET in book.sheet_names else 0
            return pd.read_excel(book, sheet_name=sheet, dtype=str).fillna("")
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def validate_answers(queue: pd.DataFrame, label: str) -> pd.DataFrame:
    """Rows of an edited queue (or of the answers store) that carry an answer, checked, with a
    yes/no answer turned into what it stands for; raises listing every problem."""
    missing = {"case_number", "charge_seq", "fingerprint"} - set(queue.columns)
    if missing:
        raise ReviewAnswerError(
            f"{label} is not a review queue from expunge (missing {', '.join(sorted(missing))}). "
            "Answer the review_queue.csv of a run folder and apply that file.")
    queue = queue.copy()
    for col in (*ANSWER_FACTS, YES_NO, "answer_note"):
        queue[col] = queue[col].fillna("").astype("str") if col in queue else ""
    given = [*ANSWER_FACTS, YES_NO]
    answered = queue[given].apply(lambda c: c.astype("str").str.strip() != "").any(axis=1)
    rows = queue[answered].copy()
    rows = pd.concat([rows, _same_case(queue, rows)])
    problems: list[str] = []
    for i, row in rows.iterrows():  # answered rows only: a clerk's edits, not the export
        line = int(i) + 2
        for col in given:
            rows.at[i, col] = str(row[col]).strip().upper()
        settles = str(row.get("answer_column", "") or "")
        for col in given:  # an answer where the row does not ask for it would be stored and change nothing
            if rows.at[i, col] and settles == COUNSEL and col != "answer_decision":
                problems.append(f"line {line}, {col}: this row waits on counsel's reading "
                                f"({str(row.get('question', '')).strip()!r}); leave it to counsel, or decide the "
                                "charge in answer_decision")
                rows.at[i, col] = ""
            elif rows.at[i, col] and settles and col not in (settles, "answer_decision", *COMPANIONS.get(settles, ())):
                problems.append(f"line {line}, {col}: this row asks {str(row.get('question', '')).strip()!r}; "
                                f"put the answer in {settles} ({row.get('allowed_answers', '')})")
                rows.at[i, col] = ""  # said once: not checked again as a value
        said = rows.at[i, YES_NO]
        if said:
            meaning = YES_NO_RULES.get(str(row.get("rule_id", "")), {}).get(said)
            if meaning is None:
                problems.append(f"line {line}, {YES_NO}: {row[YES_NO]!r} is not YES or NO"
                                if said not in ("YES", "NO") else
                                f"line {line}, {YES_NO}: this row's question is not a yes/no question")
            else:
                for col, value in meaning.items():
                    rows.at[i, col] = value
        for col, (_, allowed) in ANSWER_FACTS.items():
            value = rows.at[i, col]
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


def _same_case(queue: pd.DataFrame, answered: pd.DataFrame) -> pd.DataFrame:
    """Unanswered rows that ask a case-level yes/no question (``review_answers.case_level``, e.g.
    "Should this ordinance case go to a § 610.140 petition?") already answered on another count
    of the same case, with that answer."""
    if "rule_id" not in queue or not CASE_LEVEL or answered.empty:
        return answered.iloc[:0]
    said = answered[answered["rule_id"].isin(CASE_LEVEL) & (answered[YES_NO].astype("str").str.strip() != "")]
    said = said.drop_duplicates(["case_number", "rule_id"])[["case_number", "rule_id", YES_NO]]
    rest = queue.drop(index=answered.index)
    rest = rest[rest["rule_id"].isin(CASE_LEVEL)].drop(columns=[YES_NO])
    hit = rest.reset_index().merge(said, on=["case_number", "rule_id"]).set_index("index")
    return hit[list(queue.columns)]


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
    for col in STORE_COLUMNS:  # a store written before a column existed
        if col not in old:
            old[col] = ""
    keys = ["case_number", "charge_seq"]
    replaced = int(old.merge(new[keys], on=keys).shape[0])
    merged = _merged(old[list(STORE_COLUMNS)], new, keys)
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_suffix(".tmp")
    write_csv(merged, tmp)
    tmp.chmod(0o600)  # case numbers and clerks' notes: owner-only, like the other personal files
    tmp.replace(store)
    return ApplyResult(answered=len(new), stored=len(merged), replaced=replaced)


def _merged(old: pd.DataFrame, new: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The store with ``new`` answers added. A charge answered again while it reads the same (same
    fingerprint) keeps its earlier answers to other questions (a substance answered one night,
    the amount the next); a charge that changed since starts over."""
    both = new.merge(old, on=keys, how="left", suffixes=("", "_old"))
    same = _bare(both["fingerprint_old"].fillna("")) == _bare(both["fingerprint"])
    for col in (*ANSWER_FACTS, "answer_note"):
        earlier = both[f"{col}_old"].fillna("")
        both[col] = both[col].where((both[col] != "") | ~same, earlier)
    new = both[list(STORE_COLUMNS)]
    return pd.concat([old, new], ignore_index=True).drop_duplicates(keys, keep="last").sort_values(keys, kind="stable")


def create_store(store: str | Path, folder: bool = False) -> bool:
    """Make an empty answers store (owner-only) where none is yet, so the first night of a
    schedule that names ``--answers`` runs; returns whether it made one. Its folder must exist
    unless ``folder`` (the store sits in the run's output folder, which the run creates)."""
    path = Path(store)
    if path.exists():
        return False
    if folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    if not path.parent.is_dir():
        raise ReviewAnswerError(f"The folder of the answers file {path} does not exist. Create it, or give "
                                "--answers a path in an existing folder.")
    tmp = path.with_suffix(".tmp")
    write_csv(pd.DataFrame(columns=list(STORE_COLUMNS)), tmp)
    tmp.chmod(0o600)
    tmp.replace(path)
    return True


def load_answers(store: str | Path) -> pd.DataFrame:
    path = Path(store)
    if not path.is_file():
        raise ReviewAnswerError(f"Answers file {path} is not a file. Give the answers store "
                                "'expunge review apply' writes (a missing one is created empty).")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in STORE_COLUMNS:  # a store written before a column existed
        if col not in table:
            table[col] = ""
    return validate_answers(table, path.name) if len(table) else table


def match_answers(charges: pd.DataFrame, answers: pd.DataFrame, prints: pd.Series) -> tuple[pd.DataFrame, int]:
    """Answers aligned to ``charges`` (empty strings where none), and how many were stale
    (the charge no longer reads as it did when answered)."""
    key = charges["case_number"].astype(str) + "#" + charges["charge_seq"].astype(str)
    a = answers.assign(key=answers["case_number"] + "#" + answers["charge_seq"].astype(str)).set_index("key")
    got = a.reindex(key.to_numpy())
    got.index = charges.index
    present = got["fingerprint"].notna()
    fresh = present & (_bare(got["fingerprint"].fillna("")) == _bare(prints))
    stale = int((present & ~fresh).sum())
    out = got[list(ANSWER_FACTS)].fillna("").astype(str)
    out.loc[~fresh.to_numpy()] = ""
    return out, stale
