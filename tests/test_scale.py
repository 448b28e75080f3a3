"""Scale: partitions of whole cases decided one at a time (or on Dask) give the same data as
one frame, and no stage holds more than a partition of full rows."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import expunge.ops.run
from expunge.ingest import partition
from expunge.ops.run import run_pipeline
from expunge.ops.workers import map_local
from tests.conftest import AS_OF, SAMPLE

KEY = ["case_number", "charge_seq"]


def files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def by_key(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path).sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> Path:
    return run_pipeline([SAMPLE], tmp_path_factory.mktemp("one"), AS_OF, run_id="r", partitions=1)


@pytest.fixture(scope="module")
def four(tmp_path_factory) -> Path:
    return run_pipeline([SAMPLE], tmp_path_factory.mktemp("four"), AS_OF, run_id="r", partitions=4, workers=2)


def test_a_partitioned_run_decides_every_charge_as_a_single_frame_run_does(single, four):
    assert by_key(four / "charges").equals(by_key(single / "charges"))
    assert pd.read_parquet(four / "cases.parquet").sort_values("case_number").reset_index(drop=True).equals(
        pd.read_parquet(single / "cases.parquet"))


def test_a_partitioned_run_writes_the_same_summaries_petitions_and_documents(single, four):
    for folder in ("summary", "petitions"):
        assert files(four / folder) == files(single / folder)


def test_two_worker_processes_write_what_one_process_writes(four, tmp_path):
    one = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="r", partitions=4, workers=1)
    for folder in ("charges", "analytics", "summary", "petitions"):
        assert files(one / folder) == files(four / folder)
    for name in ("cases.parquet", "review_queue.csv", "review_queue.xlsx", "quarantine.parquet"):
        assert (one / name).read_bytes() == (four / name).read_bytes()


def test_an_export_read_in_byte_ranges_by_two_workers_publishes_what_one_read_publishes(four, tmp_path, monkeypatch):
    import expunge.ingest.read

    monkeypatch.setattr(expunge.ingest.read, "UNIT_BYTES", 1 << 16)  # the sample (1.1 MB) is cut in two
    cuts: list[list[int]] = []
    split = expunge.ingest.read._split
    monkeypatch.setattr(expunge.ingest.read, "_split", lambda *a: cuts.append(split(*a)) or cuts[-1])
    run = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="r", partitions=4, workers=2)
    assert len(cuts) == 1 and len(cuts[0]) == 2
    for folder in ("charges", "analytics", "summary", "petitions"):
        assert files(run / folder) == files(four / folder)
    for name in ("cases.parquet", "review_queue.csv", "quarantine.parquet"):
        assert (run / name).read_bytes() == (four / name).read_bytes()


def test_small_exports_take_one_partition_and_large_ones_a_power_of_two():
    assert partition.choose_partitions(SAMPLE.stat().st_size) == 1
    assert partition.choose_partitions(3_000_000_000) == 32
    assert partition.choose_partitions(10**13) == partition.FINE_BUCKETS


def test_every_partition_is_decided_alone(tmp_path, monkeypatch):
    seen: list[int] = []
    real = expunge.ops.run.decide_charges
    monkeypatch.setattr(expunge.ops.run, "decide_charges", lambda charges, *a, **k: (
        seen.append(len(charges)), real(charges, *a, **k))[1])
    run = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="r", partitions=8, workers=1)  # in this process
    assert len(seen) == 8 and sum(seen) == pd.read_parquet(run / "charges").shape[0]
    assert max(seen) < sum(seen) / 4  # no call sees the whole export


def write_through(tmp_path: Path, cases: list[str], per_write: int, batch_rows: int = 250_000) -> list[list[str]]:
    table = pa.table({"case_number": cases, "charge_seq": list(range(len(cases)))})
    writer = partition.PartitionWriter(tmp_path / "out", 4, batch_rows=batch_rows)
    for i in range(0, len(cases), per_write):
        writer.write(table.slice(i, per_write))
    return writer.close()[0]


def test_the_partition_writer_keeps_each_case_whole_and_the_input_order(tmp_path):
    cases = [f"C{i % 37}" for i in range(1000)]
    parts = write_through(tmp_path, cases, 100)
    frames = [pq.read_table(p[0]).to_pandas() for p in parts if p]
    assert sum(len(f) for f in frames) == 1000
    owners = pd.concat([f.assign(k=k) for k, f in enumerate(frames)]).groupby("case_number")["k"].nunique()
    assert (owners == 1).all()
    assert all(f["charge_seq"].is_monotonic_increasing for f in frames)


def test_the_partition_writer_holds_no_more_than_its_batch(tmp_path, monkeypatch):
    held: list[int] = []
    real = pa.concat_tables
    monkeypatch.setattr(partition.pa, "concat_tables", lambda tables: (
        held.append(sum(t.num_rows for t in tables)), real(tables))[1])
    write_through(tmp_path, [f"C{i}" for i in range(1000)], 50, batch_rows=200)
    assert len(held) == 5 and max(held) <= 200


@pytest.mark.flow
def test_the_dask_runner_writes_the_same_charges_as_the_local_runner(four, tmp_path):
    run = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="r", partitions=4, runner="dask")
    assert files(run / "charges") == files(four / "charges")


def test_a_later_run_in_the_same_work_folder_reads_its_own_people_index(tmp_path):
    import pickle

    from expunge.ingest.identities import identities, person_index
    from expunge.ops.run import _person_index
    from tests.conftest import make_charges

    path = tmp_path / "people_index.pkl"
    for who in ("P1", "P22"):
        path.write_bytes(pickle.dumps(person_index([identities(make_charges({"defendant_id": who}))])))
        assert _person_index(str(path)).ids.to_pylist() == [who]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=30)), max_size=40), st.integers(0, 5))
def test_a_case_numbers_bucket_does_not_depend_on_its_neighbours(cases, skip):
    together = partition.fine_bucket(pa.array(cases, type=pa.string()).slice(min(skip, len(cases))))
    alone = [int(partition.fine_bucket(pa.array([c], type=pa.string()))[0]) for c in cases[skip:]]
    assert together.tolist() == alone
    assert all(0 <= b < partition.FINE_BUCKETS for b in alone)


def test_buckets_are_the_same_from_pandas_and_arrow_and_missing_is_empty():
    cases = pd.Series(["16CR0001", None, "", "16CR0001", "Ünïcode-7"], dtype="str")
    from_pandas = partition.fine_bucket(cases)
    assert from_pandas.tolist() == partition.fine_bucket(pa.chunked_array([pa.array(cases)[:2],
                                                                           pa.array(cases)[2:]])).tolist()
    assert from_pandas[1] == from_pandas[2] and from_pandas[0] == from_pandas[3]


def test_buckets_spread_real_looking_case_numbers_evenly():
    cases = pd.Series([f"{i % 90 + 10}{'CR' if i % 3 else 'AC'}{i:07d}-01" for i in range(200_000)], dtype="str")
    counts = np.bincount(partition.fine_bucket(cases), minlength=partition.FINE_BUCKETS)
    mean = len(cases) / partition.FINE_BUCKETS
    assert counts.min() > 0.85 * mean and counts.max() < 1.15 * mean


NAPPER = """
import os, sys, time
from pathlib import Path
from expunge.ops.workers import map_local

def nap(folder):
    Path(folder, str(os.getpid())).write_text("")
    time.sleep(120)

if __name__ == "__main__":
    map_local(nap, [(sys.argv[1],), (sys.argv[1],)], workers=2)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_worker_processes_die_with_the_run_that_started_them(tmp_path):
    import subprocess
    import sys
    import time

    script = tmp_path / "napper.py"
    script.write_text(NAPPER)
    run = subprocess.Popen([sys.executable, str(script), str(tmp_path)], stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len([p for p in tmp_path.iterdir() if p.name.isdigit()]) < 2 and time.time() < deadline:
        time.sleep(0.2)
    workers = [int(p.name) for p in tmp_path.iterdir() if p.name.isdigit()]
    assert len(workers) == 2
    run.kill()  # SIGKILL: the run gets no chance to stop its workers
    run.wait()
    deadline = time.time() + 20
    while any(_alive(w) for w in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)


def test_a_night_in_partitions_matches_each_distinct_description_once(tmp_path, monkeypatch):
    import expunge.normalize.offenses as offenses

    matched: list[str] = []
    match = offenses.match_descriptions

    def counted(descriptions, norm):
        matched.extend(descriptions.tolist())
        return match(descriptions, norm)

    monkeypatch.setattr(offenses, "match_descriptions", counted)
    monkeypatch.setattr(expunge.ops.run, "match_descriptions", counted)
    run = run_pipeline([SAMPLE], tmp_path, AS_OF, run_id="r", partitions=4, workers=1)
    described = pd.read_parquet(run / "charges", columns=["description_raw"])["description_raw"]
    assert sorted(matched) == sorted(set(described.fillna("").astype(str)))  # each once, none left out


def memory_pool() -> str:
    return pa.default_memory_pool().backend_name


def test_worker_processes_take_arrow_memory_from_jemalloc(monkeypatch):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow was built without jemalloc")
    assert map_local(memory_pool, [(), ()], workers=2) == ["jemalloc", "jemalloc"]


def test_a_memory_pool_the_operator_chose_is_kept(monkeypatch):
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    assert map_local(memory_pool, [(), ()], workers=2) == ["system", "system"]
