"""Which charges can take an earlier night's decision instead of being decided again: a case
whose every charge the ledger holds with the same content hash."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

KEY = ["case_number", "charge_seq"]


def reusable(case_number: pd.Series, charge_seq: pd.Series, hashes: np.ndarray,
             prior: pd.DataFrame | None) -> np.ndarray:
    """Which rows can take the prior decision: every charge of their case is in the ledger
    with the same content hash, and the case has no charge the ledger lacks or vice versa.

    The unit is the case because a rule may look at the other charges of the case."""
    n = len(case_number)
    if prior is None or prior.empty or n == 0:
        return np.zeros(n, dtype=bool)
    cur = pd.DataFrame({"case_number": case_number.to_numpy(), "charge_seq": charge_seq.to_numpy(),
                        "row_hash": hashes})
    old = prior[[*KEY, "row_hash"]].rename(columns={"row_hash": "old_hash"})
    both = cur.merge(old, on=KEY, how="left", sort=False)
    same = (both["old_hash"] == both["row_hash"]).fillna(False).to_numpy(dtype=bool)
    by_case = pd.Series(same).groupby(cur["case_number"].to_numpy(), dropna=False)
    ok = by_case.all() & (by_case.size() == prior.groupby("case_number").size().reindex(by_case.size().index))
    return cur["case_number"].map(ok).fillna(False).to_numpy(dtype=bool)


def take(prior: pd.DataFrame, case_number: pd.Series, charge_seq: pd.Series, columns: Sequence[str]) -> pd.DataFrame:
    """The prior rows for these keys (all must exist), in the order given."""
    wanted = pd.MultiIndex.from_arrays([case_number.to_numpy(), charge_seq.to_numpy()], names=KEY)
    got = prior.set_index(KEY).reindex(wanted)[list(columns)]
    got.index = case_number.index
    return got
