"""The synthetic export: reproducible, and carrying every trap the rules must handle."""

from __future__ import annotations

import pyarrow.compute as pc

from expunge.law.values import FAMILIES
from expunge.sample import generate


def test_same_seed_gives_the_same_export():
    a, _, _ = generate(500, seed=7)
    b, _, _ = generate(500, seed=7)
    assert a.equals(b)


def test_export_contains_every_trap_family():
    _, truth, _ = generate(20000, seed=1)
    families = set(truth["expected_family"].to_pylist())
    assert set(FAMILIES) - {"UNKNOWN"} <= families


def test_export_has_except_wording_modifier_62_and_42_and_municipal_cases():
    table, _, _ = generate(20000, seed=2)
    desc = table["charge_description"]
    assert pc.any(pc.match_substring(desc, "EXCEPT 35 GRAMS", ignore_case=True)).as_py()
    mods = set(table["ncic_modifier"].to_pylist())
    assert {"62", "3562", "42"} <= mods
    assert "MU" in set(table["case_type"].to_pylist())


def test_malformed_lines_are_appended_on_request():
    _, _, bad = generate(10, seed=0, malformed=5)
    assert len(bad) == 5
