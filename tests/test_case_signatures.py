"""``engine.case_signatures``: one case of each kind stands for all cases of that kind."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from expunge.decide.engine import SIGNATURE_WIDTH, case_signatures

charges = st.lists(st.tuples(st.integers(-1, 12), st.integers(0, 3)), max_size=120)


def _cases(case: np.ndarray, code: np.ndarray) -> dict[int, Counter]:
    return {int(c): Counter(code[case == c].tolist()) for c in np.unique(case)}


@given(charges)
def test_every_charge_has_a_twin_with_its_facts_in_a_case_like_its_own(rows_in):
    case = np.array([c for c, _ in rows_in], dtype=np.int64)
    code = np.array([k for _, k in rows_in], dtype=np.int64)
    rows, expand = case_signatures(code, case)
    assert len(expand) == len(code)
    twin = rows[expand]  # the input charge each charge's decision is taken from
    assert (code[twin] == code).all()
    cases = _cases(case, code)
    for i, t in enumerate(twin):
        assert cases[int(case[t])] == cases[int(case[i])]


@given(charges)
def test_each_kind_of_case_is_decided_once(rows_in):
    case = np.array([c for c, _ in rows_in], dtype=np.int64)
    code = np.array([k for _, k in rows_in], dtype=np.int64)
    rows, _ = case_signatures(code, case)
    kinds = {frozenset(v.items()) for v in _cases(case, code).values()}
    chosen = _cases(case[rows], code[rows])
    assert len(rows) == len(set(rows.tolist()))
    assert len(chosen) == len({frozenset(v.items()) for v in chosen.values()}) or \
        any(sum(v.values()) > SIGNATURE_WIDTH for v in chosen.values())
    assert {frozenset(v.items()) for v in chosen.values()} == kinds


def test_cases_wider_than_the_signature_are_each_their_own():
    case = np.repeat([0, 1], SIGNATURE_WIDTH + 1)
    code = np.zeros(len(case), dtype=np.int64)
    rows, expand = case_signatures(code, case)
    assert len(rows) == len(case) and sorted(rows[expand].tolist()) == list(range(len(case)))


def test_amounts_are_told_apart_only_by_the_thresholds_rules_compare_them_with():
    import pandas as pd

    from expunge.decide.engine import comparison_codes

    codes = comparison_codes(pd.Series([1.0, 35.0, 35.0001, 85.05, 85.06, 2000.0, None]), (35.0, 85.05))
    assert codes.tolist() == [0, 1, 2, 3, 4, 4, -1]
