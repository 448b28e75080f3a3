"""People: link charges to people across cases, explainably.

Input: ingested charges (``defendant_id``, names, ``dob``, ``case_number``).
Output: ``person_key`` (a hash), ``person_link`` (how the key was made) and a table of
conflicts for a clerk. The order of trust:

1. the export's person id (``ID``);
2. no id, but name and date of birth match exactly one id-bearing person: that person
   (``NAME_DOB_TO_ID``);
3. no id: normalized last name + first name + date of birth (``NAME_DOB``);
4. no id and no date of birth: linked within the case only (``CASE_ONLY``), because a name
   alone would merge different people.

Conflicts are reported, never merged: one person id with different dates of birth
(``ID_DOB_CONFLICT``), or one name + date of birth under several person ids
(``NAME_DOB_SEVERAL_IDS``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from expunge.ingest.distinct import hash_distinct, joined_per_group
from expunge.ingest.identities import PersonIndex, identities, person_index

CONFLICT_COLUMNS = ["conflict", "defendant_id", "last_name", "first_name", "dob", "case_numbers"]


def link_people(charges: pd.DataFrame, index: PersonIndex | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Person keys for every charge, and the conflicts found among these charges.

    Args:
        charges: ingested charges (all of them, or one partition of whole cases).
        index: the ``person_index`` of the whole export; built from ``charges`` when None.

    Returns:
        (frame with ``person_key`` and ``person_link`` aligned to ``charges``,
         conflict rows for ``conflict_table``: one per charge involved).
    """
    who = identities(charges)
    index = index or person_index([who])
    ident, last, first, nd_key = who["id"], who["last"], who["first"], who["nd"]
    has_id = ident != ""
    name_dob = nd_key != ""
    lookup = ~has_id & name_dob  # only rows without an id can adopt one
    found = np.full(len(charges), -1, dtype=np.int64)
    found[lookup.to_numpy()] = _positions(index.nd_keys, nd_key[lookup])
    adopted = lookup & (found >= 0)
    if adopted.any():
        taken = index.ids.take(pa.array(found[adopted.to_numpy()])).to_numpy(zero_copy_only=False)
        ident = ident.copy()
        ident[adopted.to_numpy()] = taken
    case = charges["case_number"].astype("str")
    raw = np.select(
        [has_id | adopted, name_dob, last != ""],
        ["I|" + ident, "N|" + nd_key, "C|" + case + "|" + last + "|" + first],
        default="",
    )
    raw = pd.Series(raw, index=charges.index)
    link = np.select([has_id, adopted, name_dob, last != ""], ["ID", "NAME_DOB_TO_ID", "NAME_DOB", "CASE_ONLY"],
                     default="NONE")
    out = pd.DataFrame({"person_key": hash_distinct(raw).where(raw != ""), "person_link": link}, index=charges.index)

    by_id = has_id & (who["dob"] != "") & (_positions(index.dob_conflict_ids, who["id"]) >= 0)
    by_nd = name_dob & (_positions(index.several_ids, nd_key) >= 0)
    rows = pd.concat([
        who[by_id].assign(conflict="ID_DOB_CONFLICT", key=who["id"][by_id], case=case[by_id]),
        who[by_nd].assign(conflict="NAME_DOB_SEVERAL_IDS", key=nd_key[by_nd], case=case[by_nd]),
    ], ignore_index=True)
    return out, rows[["conflict", "key", "id", "last", "first", "dob", "case"]]


def _positions(keys: pa.Array, values: pd.Series) -> np.ndarray:
    """Position of each value in the unique ``keys`` (-1 when absent), by Arrow's hash
    lookup (``Series.isin`` on Arrow strings walks a Python list of the keys: 20 s per
    partition against the people index of a 10 M-row export)."""
    if not len(values):
        return np.empty(0, dtype=np.int64)
    found = pc.index_in(pa.array(values.to_numpy(dtype=object), type=pa.string()), value_set=keys)
    return found.fill_null(-1).to_numpy().astype(np.int64)


def conflict_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The clerk's conflict list from ``link_people``'s conflict rows (of one or many
    partitions): one line per person id with several birth dates, and per name + birth date
    under several ids, with the case numbers involved (each list sorted, ";"-joined)."""
    if rows.empty:
        return pd.DataFrame(columns=CONFLICT_COLUMNS)
    keys = ["conflict", "key"]
    g = rows.groupby(keys, sort=True)
    out = pd.DataFrame({"last_name": g["last"].min(), "first_name": g["first"].min()})
    for col, name in (("id", "defendant_id"), ("dob", "dob"), ("case", "case_numbers")):
        out[name] = _joined(rows, keys, col).reindex(out.index).fillna("")
    return out.reset_index()[CONFLICT_COLUMNS]


def _joined(rows: pd.DataFrame, keys: list[str], col: str) -> pd.Series:
    """Per group of ``keys``: the distinct non-empty values of ``col``, sorted, ";"-joined."""
    text = rows[[*keys, col]].astype("str")
    return joined_per_group(text[text[col] != ""], keys, col, ";", aggregate="distinct")
