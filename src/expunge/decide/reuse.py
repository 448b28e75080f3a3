"""Which charges can take an earlier night's decision instead of being decided again: a case
whose every charge the ledger holds with the same content hash."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

KEY = ["case_number", "charge_seq"]
_SEQ_BITS = 24  # charge sequences below 2**24 share an int64 key with their case's code


@dataclass(frozen=True)
class Reuse:
    """The rows of a night that take their prior decision (``rows``) and, for each of them,
    its row in the ledger's rows (``positions``; -1 for the rest)."""

    rows: np.ndarray
    positions: np.ndarray

    def take(self, prior: pd.DataFrame, columns: Sequence[str], index: pd.Index) -> pd.DataFrame:
        """The prior rows of the reused rows, ``columns`` only, on the reused rows' ``index``."""
        got = prior[list(columns)].iloc[self.positions[self.rows]]
        got.index = index[self.rows]
        return got


def match_prior(case_number: pd.Series, charge_seq: pd.Series, hashes: np.ndarray,
                prior: pd.DataFrame | None) -> Reuse:
    """Which rows can take the prior decision: every charge of their case is in the ledger
    with the same content hash, and the case has no charge the ledger lacks or vice versa.

    The unit is the case because a rule may look at the other charges of the case. Keys are
    matched once, as integers (the case number's code in both frames, then the sequence),
    by a hash lookup; a case without a number, or a ledger with a key twice, takes nothing."""
    n = len(case_number)
    none = Reuse(np.zeros(n, dtype=bool), np.full(n, -1, dtype=np.int64))
    if prior is None or prior.empty or n == 0:
        return none
    seq_now = charge_seq.to_numpy(dtype=np.int64)
    seq_old = prior["charge_seq"].to_numpy(dtype=np.int64)
    if max(seq_now.max(), seq_old.max()) >= 1 << _SEQ_BITS or min(seq_now.min(), seq_old.min()) < 0:
        return none
    codes, _ = pd.factorize(pd.concat([case_number, prior["case_number"]], ignore_index=True).astype("str"),
                            use_na_sentinel=True)
    now, old = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
    keys = pd.Index((old << _SEQ_BITS) | seq_old)
    if not keys.is_unique:
        return none
    positions = keys.get_indexer((now << _SEQ_BITS) | seq_now)
    found = (positions >= 0) & (now >= 0)
    old_hashes = prior["row_hash"].to_numpy(dtype=np.uint64)
    same = found & (old_hashes[np.where(found, positions, 0)] == hashes)
    cases = int(codes.max()) + 1 if len(codes) else 0
    counted = now >= 0
    rows_now = np.bincount(now[counted], minlength=cases)
    same_now = np.bincount(now[counted], weights=same[counted], minlength=cases)
    rows_old = np.bincount(old[old >= 0], minlength=cases)
    whole = (same_now == rows_now) & (rows_now == rows_old)
    rows = counted & whole[np.where(counted, now, 0)]
    return Reuse(rows, np.where(rows, positions, -1))


def reusable(case_number: pd.Series, charge_seq: pd.Series, hashes: np.ndarray,
             prior: pd.DataFrame | None) -> np.ndarray:
    """The rows of ``match_prior`` that take the prior decision."""
    return match_prior(case_number, charge_seq, hashes, prior).rows
