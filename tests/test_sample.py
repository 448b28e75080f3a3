"""The synthetic export: reproducible, and carrying every trap the rules must handle."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
from click.testing import CliRunner
from rapidfuzz.distance import DamerauLevenshtein, Levenshtein

from expunge.cli import main
from expunge.law.values import FAMILIES
from expunge.sample import KEY_NEIGHBOURS, TEMPLATES, generate, write_sample
from tests.conftest import SAMPLE


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


# Hand-keyed mode (issue 16): open-ended spellings of each reference text.

REFERENCES = {d for t in TEMPLATES for d in t.descriptions}


@pytest.fixture(scope="module")
def hand_keyed_descriptions() -> list[str]:
    table, _, _ = generate(20_000, seed=5, hand_keyed=True)
    return sorted(set(table["charge_description"].to_pylist()))


def test_hand_keyed_export_is_the_same_for_the_same_seed():
    a, _, _ = generate(3000, seed=7, hand_keyed=True)
    b, _, _ = generate(3000, seed=7, hand_keyed=True)
    assert a.equals(b)


def test_hand_keyed_distinct_descriptions_at_50k_rows_follow_the_growth_law():
    # Target: about 100,000 distinct per 1 M charges, 4 times more for 10 times the charges,
    # i.e. 100,000 * 0.05 ** log10(4) = 16,500 at 50,000 charges.
    table, _, _ = generate(50_000, seed=3, messiness=0.35, hand_keyed=True)
    assert 13_000 <= pc.count_distinct(table["charge_description"]).as_py() <= 20_000


def test_hand_keyed_chunks_share_their_spellings(tmp_path):
    # Four 10,000-row chunks show about as many distinct descriptions as one 40,000-row export,
    # not four times one chunk's, so the count stays sub-linear in a chunked 10 M export.
    def distinct(path: Path) -> int:
        return pc.count_distinct(pacsv.read_csv(path).column("charge_description")).as_py()

    chunked = write_sample(tmp_path / "c.csv", 40_000, seed=1, hand_keyed=True, chunk_rows=10_000)
    whole = write_sample(tmp_path / "w.csv", 40_000, seed=1, hand_keyed=True)
    one = write_sample(tmp_path / "o.csv", 10_000, seed=1, hand_keyed=True)
    assert distinct(chunked) == pytest.approx(distinct(whole), rel=0.1)
    assert distinct(chunked) < 3 * distinct(one)


def test_hand_keyed_mode_changes_only_the_descriptions():
    tidy, tidy_truth, tidy_bad = generate(5000, seed=4, malformed=4)
    noisy, noisy_truth, noisy_bad = generate(5000, seed=4, malformed=4, hand_keyed=True)
    assert noisy.drop_columns(["charge_description"]).equals(tidy.drop_columns(["charge_description"]))
    assert noisy_truth.equals(tidy_truth) and noisy_bad == tidy_bad
    changed = pc.sum(pc.not_equal(noisy["charge_description"], tidy["charge_description"])).as_py()
    assert changed > 2500


def test_default_mode_regenerates_the_shipped_sample_byte_for_byte(tmp_path):
    # The arguments of `make sample`.
    write_sample(tmp_path / "s.csv", 4000, seed=2026, messiness=0.35, malformed=12, truth_path=tmp_path / "t.csv")
    assert (tmp_path / "s.csv").read_bytes() == SAMPLE.read_bytes()
    assert (tmp_path / "t.csv").read_bytes() == SAMPLE.with_name("mo_charges_sample.truth.csv").read_bytes()


def test_sample_command_hand_keyed_flag_writes_the_hand_keyed_export(tmp_path):
    out = tmp_path / "s.csv"
    result = CliRunner().invoke(main, ["sample", "--rows", "300", "--seed", "2", "--hand-keyed", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == write_sample(tmp_path / "lib.csv", 300, seed=2, hand_keyed=True).read_bytes()


def _near_miss(desc: str, distance: int) -> list[str]:
    """The reference texts ``distance`` edits (Levenshtein) from ``desc``."""
    return [r for r in REFERENCES if Levenshtein.distance(desc, r, score_cutoff=distance) == distance]


def _adjacent_swap(desc: str) -> bool:
    return any(len(r) == len(desc) and DamerauLevenshtein.distance(desc, r) == 1 for r in _near_miss(desc, 2))


def _dropped_char(desc: str) -> bool:
    return any(len(r) == len(desc) + 1 and r.replace(" ", "") != desc.replace(" ", "") for r in _near_miss(desc, 1))


def _doubled_char(desc: str) -> bool:
    return any(len(r) + 1 == len(desc) and any(desc[i] == desc[i + 1] and desc[:i] + desc[i + 1 :] == r
                                               for i in range(len(desc) - 1)) for r in _near_miss(desc, 1))


def _neighbouring_key(desc: str) -> bool:
    for r in _near_miss(desc, 1):
        diff = [(a, b) for a, b in zip(r, desc, strict=False) if a != b] if len(r) == len(desc) else []
        if len(diff) == 1 and diff[0][1].lower() in KEY_NEIGHBOURS.get(diff[0][0].lower(), ""):
            return True
    return False


def _truncated(desc: str) -> bool:  # cut inside a word
    return any(r.startswith(desc) and len(desc) < len(r) and desc[-1].isalnum() and r[len(desc)].isalnum()
               for r in REFERENCES)


def _abbreviated(desc: str) -> bool:  # words no reference has, nor one typo away from one
    return bool({"ASSLT", "ASLT", "UNLAW", "UNLWFL", "TRESP", "TRSP", "CANNAB", "DISTRIB", "WPN"} & set(desc.split()))


def _dropped_word(desc: str) -> bool:
    words = desc.split()
    return any(len(r.split()) == len(words) + 1 and any(r.split()[:i] + r.split()[i + 1 :] == words
                                                         for i in range(len(words) + 1)) for r in REFERENCES)


def _count_prefix(desc: str) -> bool:
    return re.match(r"(COUNT [1-6I]+ ?[-:]|CT ?\d{1,2}:|\d{2,3} )", desc, re.IGNORECASE) is not None


def _level_suffix(desc: str) -> bool:
    pattern = r"(- FEL|\(MISD [A-E]\)|CLASS [A-E] (FELONY|MISDEMEANOR)|\bM-[A-E]|\bF-[A-E])\s*$"
    return re.search(pattern, desc, re.IGNORECASE) is not None


def _lowercase(desc: str) -> bool:  # an all-capitals reference typed in lower case
    return desc.islower() and desc.upper() in REFERENCES


def _doubled_space(desc: str) -> bool:
    return "  " in desc.strip()


def _punctuation(desc: str) -> bool:  # the same words, punctuated or spaced differently
    letters = re.sub(r"[\W_]+", "", desc)
    return any(re.sub(r"[\W_]+", "", r) == letters and desc.split() != r.split() for r in REFERENCES)


NOISE_DETECTORS = {
    "typo: adjacent swap": _adjacent_swap,
    "typo: dropped character": _dropped_char,
    "typo: doubled character": _doubled_char,
    "typo: neighbouring key": _neighbouring_key,
    "truncation": _truncated,
    "abbreviation": _abbreviated,
    "dropped word": _dropped_word,
    "count prefix": _count_prefix,
    "level suffix": _level_suffix,
    "mixed case": _lowercase,
    "doubled spaces": _doubled_space,
    "punctuation": _punctuation,
}


def test_no_reference_text_already_shows_the_noise_the_detectors_look_for():
    assert not [(kind, r) for r in REFERENCES for kind, seen in NOISE_DETECTORS.items()
                if seen(r) and kind not in ("truncation", "dropped word", "punctuation")]


@pytest.mark.parametrize("kind", NOISE_DETECTORS)
def test_hand_keyed_noise_produces_each_kind(kind, hand_keyed_descriptions):
    seen = NOISE_DETECTORS[kind]
    assert any(seen(d) for d in hand_keyed_descriptions if d not in REFERENCES)


@pytest.fixture(scope="module")
def two_nights(tmp_path_factory):
    """The shipped sample and its next night (2 % of charges newly disposed, 5 % new)."""
    from expunge.sample import next_night

    out = tmp_path_factory.mktemp("next") / "night-2.csv"
    counts = next_night(SAMPLE, out, changed=0.02, new=0.05, seed=3)
    from expunge.sample import _read_as_text

    return _read_as_text(SAMPLE), _read_as_text(out), counts


def test_next_night_changes_the_asked_share_and_keeps_every_other_row(two_nights):
    before, after, counts = two_nights
    n = before.num_rows
    assert counts == {"charges": n + round(0.05 * n), "changed": round(0.02 * n), "new": round(0.05 * n),
                      "changed_recent": round(0.9 * round(0.02 * n))}
    kept = after.slice(0, n)
    differs = [i for i in range(n) if kept.slice(i, 1).to_pylist() != before.slice(i, 1).to_pylist()]
    assert 0 < len(differs) <= counts["changed"]  # a donor may give a row the disposition it had
    assert kept.drop_columns(["disposition", "sentence", "supervision_status", "disposition_date"]).equals(
        before.drop_columns(["disposition", "sentence", "supervision_status", "disposition_date"]))


def test_next_nights_new_charges_are_new_cases_filed_on_the_exports_last_day(two_nights):
    before, after, counts = two_nights
    fresh = after.slice(before.num_rows)
    last = max(before["filing_date"].to_pylist() + before["disposition_date"].to_pylist())
    assert fresh.num_rows == counts["new"]
    assert not set(fresh["case_number"].to_pylist()) & set(before["case_number"].to_pylist())
    assert set(fresh["filing_date"].to_pylist()) == {last}
    newly = after.slice(0, before.num_rows)["disposition_date"].to_pylist()
    assert all(d <= last for d in newly)  # a new disposition is never dated before the old one
    assert set(fresh["defendant_id"].to_pylist()) <= set(before["defendant_id"].to_pylist())


def test_next_night_refuses_to_overwrite_its_own_export_and_explains_a_file_it_cannot_use(tmp_path):
    export = tmp_path / "night.csv"
    export.write_bytes(SAMPLE.read_bytes())
    same = CliRunner().invoke(main, ["next-night", str(export), "--out", str(export)])
    assert same.exit_code == 1 and "is the export itself" in same.output
    assert export.read_bytes() == SAMPLE.read_bytes()
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    wrong = CliRunner().invoke(main, ["next-night", str(other), "--out", str(tmp_path / "x.csv")])
    assert wrong.exit_code == 1 and "has no case_number" in wrong.output


def test_next_night_command_prints_what_changed(tmp_path):
    out = tmp_path / "n2.csv"
    result = CliRunner().invoke(main, ["next-night", str(SAMPLE), "--out", str(out), "--new", "0.1"])
    assert result.exit_code == 0, result.output
    import json

    from expunge.sample import _read_as_text

    printed = json.loads(result.output)
    assert printed["new"] == round(0.1 * (printed["charges"] - printed["new"]))
    assert _read_as_text(out).num_rows == printed["charges"]
