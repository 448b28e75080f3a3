"""People: link charges to people across cases, explainably.

Stage: decide. Input: ingested charges (``defendant_id``, names, ``dob``, ``case_number``).
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

from expunge.distinct import hash_distinct


def _norm(values: pd.Series) -> pd.Series:
    return values.fillna("").astype("str").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)


def link_people(charges: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Person keys for every charge, and the conflicts found.

    Returns:
        (frame with ``person_key`` and ``person_link`` aligned to ``charges``,
         conflicts with ``conflict``, ``defendant_id``, ``last_name``, ``first_name``,
         ``dob`` and ``case_numbers``).
    """
    def col(name: str) -> pd.Series:
        return charges[name] if name in charges else pd.Series(None, index=charges.index, dtype="object")

    ident = _norm(col("defendant_id"))
    last, first = _norm(col("last_name")), _norm(col("first_name"))
    dob = pd.to_datetime(col("dob"), errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    has_id = ident != ""
    name_dob = (last != "") & (dob != "")
    nd_key = last + "|" + first + "|" + dob

    # Name + date of birth -> the one id that carries it (if exactly one).
    with_id = pd.DataFrame({"nd": nd_key[has_id & name_dob], "id": ident[has_id & name_dob]}).drop_duplicates()
    ids_per_nd = with_id.groupby("nd")["id"].nunique()
    unique_nd = with_id[with_id["nd"].isin(ids_per_nd[ids_per_nd == 1].index)].set_index("nd")["id"]
    adopted = (~has_id & name_dob) & nd_key.isin(unique_nd.index)
    ident = ident.mask(adopted, nd_key.map(unique_nd))

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

    conflicts = []
    ids = pd.DataFrame({"id": ident, "dob": dob, "case": case, "last": last, "first": first})[has_id & (dob != "")]
    dobs = ids.groupby("id")["dob"].nunique()
    for pid in dobs[dobs > 1].index:
        rows = ids[ids["id"] == pid]
        conflicts.append({"conflict": "ID_DOB_CONFLICT", "defendant_id": pid, "last_name": rows["last"].iloc[0],
                          "first_name": rows["first"].iloc[0], "dob": ";".join(sorted(set(rows["dob"]))),
                          "case_numbers": ";".join(sorted(set(rows["case"])))})
    for nd in ids_per_nd[ids_per_nd > 1].index:
        rows = with_id[with_id["nd"] == nd]
        l_, f_, d_ = nd.split("|")
        conflicts.append({"conflict": "NAME_DOB_SEVERAL_IDS", "defendant_id": ";".join(sorted(rows["id"])),
                          "last_name": l_, "first_name": f_, "dob": d_,
                          "case_numbers": ";".join(sorted(set(case[nd_key == nd])))})
    table = pd.DataFrame(conflicts, columns=["conflict", "defendant_id", "last_name", "first_name", "dob",
                                             "case_numbers"])
    return out, table
