"""Who is who across cases, as the export says it: each row's normalized person id, name and
date of birth, and the small index of the whole export that linking (``decide.people``) looks up."""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from expunge.ingest.distinct import column

IDENTITY_FIELDS = ("defendant_id", "last_name", "first_name", "dob")


def _norm(values: pd.Series) -> pd.Series:
    return values.fillna("").astype("str").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)


def identities(charges: pd.DataFrame) -> pd.DataFrame:
    """Normalized ``id``, ``last``, ``first``, ``dob`` and name+birth-date key ``nd`` per row."""
    col = partial(column, charges)  # a field the export may lack reads as missing

    last, first = _norm(col("last_name")), _norm(col("first_name"))
    dob = pd.to_datetime(col("dob"), errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    nd = (last + "|" + first + "|" + dob).where((last != "") & (dob != ""), "")
    return pd.DataFrame({"id": _norm(col("defendant_id")), "last": last, "first": first, "dob": dob, "nd": nd},
                        index=charges.index)


@dataclass(frozen=True)
class PersonIndex:
    """What linking needs from the whole export, at the scale of people, not rows: the one
    id each name + birth date belongs to (``nd_keys[i]`` -> ``ids[i]``), and the keys in
    conflict. Arrow arrays: compact (a 10 M-charge export's index would take several times
    the memory as Python strings) and looked up by Arrow's hash kernels."""

    nd_keys: pa.Array
    ids: pa.Array
    several_ids: pa.Array
    dob_conflict_ids: pa.Array


def person_index(parts: Iterable[pd.DataFrame]) -> PersonIndex:
    """Build the index from ``identities`` of every partition (each deduplicated first)."""
    distinct = pd.concat([p[["id", "dob", "nd"]].drop_duplicates() for p in parts], ignore_index=True)
    distinct = distinct.drop_duplicates()
    with_id = distinct.loc[(distinct["id"] != "") & (distinct["nd"] != ""), ["nd", "id"]].drop_duplicates()
    several = with_id["nd"].duplicated(keep=False)  # one name + birth date, several ids
    unique_nd = with_id[~several]
    dated = distinct.loc[(distinct["id"] != "") & (distinct["dob"] != ""), ["id", "dob"]].drop_duplicates()
    dob_conflict = dated.loc[dated["id"].duplicated(keep=False), "id"].drop_duplicates().sort_values()
    text = lambda values: pa.array(np.asarray(values, dtype=object), type=pa.string())  # noqa: E731
    return PersonIndex(text(unique_nd["nd"]), text(unique_nd["id"]),
                       text(with_id.loc[several, "nd"].drop_duplicates().sort_values()), text(dob_conflict))


def write_person_index(identity_files: Sequence[str], path: Path) -> str:
    """Build the ``PersonIndex`` from the identity files of ``PartitionWriter``s (one per
    unit of ingest) and pickle it to ``path``."""
    frames = [pq.read_table(f).to_pandas() for f in identity_files]
    with Path(path).open("wb") as fh:
        pickle.dump(person_index(frames), fh)
    return str(path)
