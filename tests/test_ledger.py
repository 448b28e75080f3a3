"""The ledger: a nightly run decides only new or changed cases, and reusing earlier
decisions never changes a byte of the outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from expunge.decide.reuse import match_prior, reusable
from expunge.ingest.hashing import as_text, row_hashes
from expunge.ops import ledger
from expunge.ops.run import run_pipeline
from tests.conftest import AS_OF, SAMPLE


def data_files(run: Path) -> dict[str, bytes]:
    """A run's data files, less what depends on the night before by design: the delta, the
    summaries (disclosure control audits them together with the previous night's), and which
    run prepared each draft (an unchanged draft is carried over: tests/test_drafts_carried.py).
    Drafts are compared by their list: file, cases, charges and the digest of their content."""
    files = {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*"))
             if p.is_file() and p.name != "manifest.json" and not {"delta", "summary"} & set(p.parts)}
    preparing = ["prepared_by", "prepared_as_of", "carried_over"]
    for name in list(files):
        if "documents" in Path(name).parts:
            files[name] = b"" if name.endswith(".docx") else \
                pd.read_json(run / name).drop(columns=preparing).to_csv().encode()
    return files


def next_nights_export(tmp_path: Path) -> Path:
    """The sample with a few charges changed, one case's charges gone and dispositions arrived."""
    lines = SAMPLE.read_text().splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    body[10] = body[10].replace('"PENDING"', '"GUILTY PLEA"')
    body[20] = body[20].replace("POSS", "POSESSION")
    body[30] = body[30].replace('"DISMISSED', '"NOLLE PROSEQUI')
    export = tmp_path / "night2.csv"
    export.write_text(header + "".join(body[:-50]))
    return export


def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


def test_a_run_that_reuses_the_ledger_writes_the_same_bytes_as_a_run_that_does_not(tmp_path):
    export = next_nights_export(tmp_path)
    run_pipeline([SAMPLE], tmp_path / "nightly", AS_OF, run_id="one")
    incremental = run_pipeline([export], tmp_path / "nightly", AS_OF, run_id="two")
    full = run_pipeline([export], tmp_path / "fresh", AS_OF, run_id="two")
    used = manifest(incremental)["ledger"]
    assert used["charges_reused"] > 0.9 * manifest(incremental)["rows"]["charges"]
    assert 0 < used["charges_decided"] < 200
    assert manifest(full)["ledger"]["charges_reused"] == 0
    assert data_files(incremental) == data_files(full)


def test_the_same_export_again_is_taken_from_the_ledger_entirely(tmp_path):
    run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one")
    again = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="again")
    assert manifest(again)["ledger"]["charges_decided"] == 0


def test_a_ledger_written_under_other_rules_or_settings_is_not_used(tmp_path):
    run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one")
    other = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="other", policies={"nonconviction_records": "exclude"})
    assert manifest(other)["ledger"]["charges_reused"] == 0


def test_a_damaged_ledger_only_means_deciding_everything_again(tmp_path):
    run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one")
    for f in (tmp_path / "ledger").glob("charges-*/*.parquet"):
        f.write_bytes(b"not parquet")
    again = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="again")
    assert manifest(again)["ledger"]["charges_reused"] == 0
    assert manifest(again)["rows"]["accounting_holds"]


def test_published_exports_are_recorded_with_their_run(tmp_path):
    run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one")
    files = ledger.processed_files(tmp_path)
    assert files.to_dict("records") == [{"sha256": manifest(tmp_path / "one")["inputs"][0]["sha256"],
                                         "file": SAMPLE.name, "run_id": "one"}]


def test_the_inbox_tells_an_export_still_there_from_the_same_export_sent_again(tmp_path):
    import shutil

    from expunge.ops import inbox

    box = tmp_path / "inbox"
    box.mkdir()
    shutil.copy(SAMPLE, box / "night1.csv")
    run_pipeline([box / "night1.csv"], tmp_path / "out", AS_OF, run_id="one")
    shutil.copy(SAMPLE, box / "night1-resent.csv")
    (box / "night2.csv").write_text(SAMPLE.read_text().replace("PENDING", "DISMISSED"))
    waiting = inbox.scan(box, tmp_path / "out")
    assert [(p.name, run) for p, run in waiting.published] == [("night1.csv", "one")]
    assert [(p.name, run) for p, run in waiting.redelivered] == [("night1-resent.csv", "one")]
    assert [p.name for p in waiting.new] == ["night2.csv"]


def test_the_ledger_holds_no_names_dates_of_birth_or_addresses(tmp_path):
    run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one")
    columns = set(pd.read_parquet(next((tmp_path / "ledger").glob("charges-*"))).columns)
    assert not {c for c in columns if "name" in c or "dob" in c or "address" in c or c.startswith("personal_")}


def prior(*rows: tuple[str, int, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["case_number", "charge_seq", "row_hash"]).astype({"row_hash": "uint64"})


def test_the_ledger_is_readable_by_its_owner_only(tmp_path):
    run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="one", documents=False)
    folder = tmp_path / "ledger"
    modes = {p.relative_to(folder): p.stat().st_mode & 0o777 for p in [folder, *folder.rglob("*")]}
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes


def test_a_changed_charge_sends_its_whole_case_to_be_decided_again():
    old = prior(("A", 1, 11), ("A", 2, 12), ("B", 1, 21))
    ok = reusable(pd.Series(["A", "A", "B"]), pd.Series([1, 2, 1]), np.array([11, 99, 21], dtype=np.uint64),
                         old)
    assert ok.tolist() == [False, False, True]


def test_a_case_that_lost_or_gained_a_charge_is_decided_again():
    old = prior(("A", 1, 11), ("A", 2, 12), ("B", 1, 21))
    lost = reusable(pd.Series(["A", "B"]), pd.Series([1, 1]), np.array([11, 21], dtype=np.uint64), old)
    gained = reusable(pd.Series(["B", "B"]), pd.Series([1, 2]), np.array([21, 22], dtype=np.uint64), old)
    assert lost.tolist() == [False, True] and gained.tolist() == [False, False]


_charges = st.lists(st.tuples(st.sampled_from(["A", "B", "C", "D"]), st.integers(1, 3), st.integers(0, 2)),
                   max_size=12, unique_by=lambda r: r[:2])


@settings(max_examples=300, deadline=None)
@given(old=_charges, now=_charges)
def test_a_row_is_reused_exactly_when_its_whole_case_is_in_the_ledger_unchanged(old, now):
    ledger_rows = {(c, s): h for c, s, h in old}
    matched = match_prior(pd.Series([c for c, _, _ in now], dtype="str"), pd.Series([s for _, s, _ in now]),
                          np.array([h for _, _, h in now], dtype=np.uint64), prior(*old))
    for i, (case, seq, h) in enumerate(now):
        tonight = {(c, s): x for c, s, x in now if c == case}
        before = {k: x for k, x in ledger_rows.items() if k[0] == case}
        assert matched.rows[i] == (tonight == before)
        if matched.rows[i]:
            assert tuple(prior(*old).iloc[matched.positions[i]]) == (case, seq, h)


def test_row_hashes_change_with_any_field_and_not_with_the_frame_around_it():
    a = pd.DataFrame({"x": ["1", "2"], "y": ["a", None]})
    b = pd.DataFrame({"x": ["1", "2"], "y": ["a", "b"]})
    assert row_hashes(a)[0] == row_hashes(b)[0]
    assert row_hashes(a)[1] != row_hashes(b)[1]
    assert row_hashes(a.iloc[1:])[0] == row_hashes(a)[1]


def test_row_hashes_are_pandas_hashes_of_the_frame_as_text_so_older_ledgers_still_match():
    frame = pd.DataFrame({"a": ["x", None, "z"], "b": pd.to_datetime(["2019-01-02", None, "2020-03-04"]),
                          "c": pd.array([1, 2, None], dtype="Int32")})
    expected = pd.util.hash_pandas_object(as_text(frame), index=False).to_numpy()
    assert row_hashes(frame).tolist() == expected.tolist()
