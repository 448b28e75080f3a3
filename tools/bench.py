"""`make bench`: the pipeline against the copy floor, at 1 M and 10 M charges.

For each size: generate (or reuse) a synthetic export with `expunge sample --hand-keyed`
(real hand-keyed cardinality: about 100,000 distinct descriptions per 1 M charges, growing
sub-linearly), count its distinct descriptions, then measure, each in its own process; peak
RSS comes from the OS: the whole process tree (the pipeline's worker processes add up)
sampled from /proc every 0.2 s, and the largest single process from ``os.wait4``:

* the copy floor: pyarrow reads the same CSV (every column as text) and writes the same
  county-partitioned zstd Parquet, nothing else;
* the full pipeline (`expunge run --orchestrator none --no-documents`), with its stage
  times from the manifest (ingest, decide, publish; matching inside decide);
* one analyst query (DuckDB over the run's ``charges/``), with the files it reads;
* the second night, warm: `expunge next-night` changes 0.5 % of the charges and adds 1 %,
  and the pipeline runs again on the first night's output folder and description cache;
* at the smallest size only, the pipeline again with the DOCX drafts, to show their cost.

Results go to docs/measurements/bench.json and docs/measurements/bench.md (quoted in the
README), with the machine they ran on and the distinct descriptions of each input. Nothing
here is a test: timings are never asserted.

    python tools/bench.py [--sizes 1000000 10000000] [--data .bench]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

COPY_FLOOR = r"""
import sys, pyarrow as pa, pyarrow.csv as pacsv, pyarrow.dataset as ds
src, out = sys.argv[1], sys.argv[2]
head = open(src, encoding="utf-8").readline().strip().split(",")
cols = [c.strip('"') for c in head]
table = pacsv.read_csv(src, convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in cols}),
                       parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda r: "skip"))
ds.write_dataset(table, out, format="parquet", partitioning=ds.partitioning(pa.schema([("county", pa.string())]),
                 flavor="hive"), file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
                 existing_data_behavior="delete_matching")
print(table.num_rows)
"""


def tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (worker processes), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, []))
    return total


def measured(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``cmd``; wall seconds, peak RSS of the largest process (MB, from the kernel) and
    peak RSS of the whole process tree (MB, sampled every 0.2 s: worker processes add up)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        peak = [0]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                peak[0] = max(peak[0], tree_rss_kb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        stop.set()
        sampler.join()
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{stdout}\n{stderr}")
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(max(peak[0], usage.ru_maxrss) / 1024, 1),
            "largest_process_rss_mb": round(usage.ru_maxrss / 1024, 1), "stdout": stdout}


def machine() -> dict[str, object]:
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), "0")
    import pandas
    import pyarrow
    import rapidfuzz

    return {"platform": platform.platform(), "cpus": os.cpu_count(), "ram_gb": round(int(mem) / 2**20, 1),
            "python": platform.python_version(), "pandas": pandas.__version__, "pyarrow": pyarrow.__version__,
            "rapidfuzz": rapidfuzz.__version__, "date": time.strftime("%Y-%m-%d")}


SAMPLE_ARGS = ("--seed", "11", "--messiness", "0.35", "--hand-keyed")


def distinct_descriptions(export: Path) -> int:
    """Distinct values of the export's charge_description column (read alone, as text)."""
    col = "charge_description"
    table = pacsv.read_csv(export, convert_options=pacsv.ConvertOptions(include_columns=[col],
                                                                        column_types={col: pa.string()}),
                           parse_options=pacsv.ParseOptions(newlines_in_values=True,
                                                            invalid_row_handler=lambda r: "skip"))
    return pc.count_distinct(table[col]).as_py()


QUERY = r"""
import sys, time, duckdb
duckdb.sql("SET enable_progress_bar = false")
t = time.perf_counter()
rows = duckdb.sql(f"SELECT county, offense_year, determination, count(*) AS charges, "
                  f"count(DISTINCT person_key) AS people FROM read_parquet('{sys.argv[1]}/**/*.parquet', "
                  f"hive_partitioning = true) GROUP BY ALL").fetchall()
print(len(rows), round(time.perf_counter() - t, 3))
"""


def analyst_query(run: Path) -> dict[str, object]:
    """One analyst query in DuckDB, in a process of its own: charges and people by county, year
    and determination over ``charges/``; with the files it read."""
    result = measured([sys.executable, "-c", QUERY, str(run / "charges")])
    groups, seconds = result.pop("stdout").split()[-2:]
    return {"query_s": float(seconds), "groups": int(groups), "peak_rss_mb": result["peak_rss_mb"],
            "files": {d: sum(1 for _ in (run / d).rglob("*.parquet")) for d in ("charges", "analytics")}}


NEXT_NIGHT = {"changed": 0.005, "new": 0.01, "recent_share": 0.9}


def second_night(export: Path, rows: int, out: Path, cache: Path, floor_s: float,
                 env: dict[str, str]) -> dict[str, object]:
    """The next night on the first night's output folder and description cache (warm): the
    export with 0.5 % of its charges newly disposed (nine tenths of them filed in its last
    year) and 1 % new charges (``expunge next-night``)."""
    night = export.with_name(export.stem + "-night-2.csv")
    if not night.exists():
        subprocess.run([str(BIN / "expunge"), "next-night", str(export), "--out", str(night),
                        "--changed", str(NEXT_NIGHT["changed"]), "--new", str(NEXT_NIGHT["new"]),
                        "--recent-share", str(NEXT_NIGHT["recent_share"])], check=True, stdout=subprocess.DEVNULL)
    print(f"{rows:,}: second night", flush=True)
    result = measured([str(BIN / "expunge"), "run", str(night), "--out", str(out), "--run-id", "bench-2",
                       "--as-of", "2026-11-28", "--orchestrator", "none", "--cache-dir", str(cache),
                       "--no-documents"], env)
    manifest = json.loads((out / "bench-2" / "manifest.json").read_text())
    result.pop("stdout")
    result.update(changes=NEXT_NIGHT, stages_s=manifest["timings_seconds"], ledger=manifest["ledger"],
                  ratio_to_copy_floor=round(result["wall_s"] / floor_s, 2))
    return result


def bench_size(rows: int, data: Path, documents: bool) -> dict[str, object]:
    export = data / f"export-{rows}-hand-keyed.csv"  # not the tidy exports earlier runs cached
    if not export.exists():
        print(f"generating {rows:,} hand-keyed charges -> {export}", flush=True)
        subprocess.run([str(BIN / "expunge"), "sample", "--rows", str(rows), *SAMPLE_ARGS, "--out", str(export)],
                       check=True, stdout=subprocess.DEVNULL)
    size_mb = export.stat().st_size / 2**20
    distinct = distinct_descriptions(export)
    print(f"{rows:,}: {distinct:,} distinct descriptions", flush=True)
    floor_out = data / f"floor-{rows}"
    print(f"{rows:,}: copy floor", flush=True)
    floor = measured([sys.executable, "-c", COPY_FLOOR, str(export), str(floor_out)])
    shutil.rmtree(floor_out, ignore_errors=True)
    env = {**os.environ, "EXPUNGE_SALT": os.environ.get("EXPUNGE_SALT", "bench-salt")}
    runs = {}
    for label, docs in (("pipeline", False), ("pipeline_with_documents", True)):
        if docs and not documents:
            continue
        out = data / f"out-{rows}-{label}"
        shutil.rmtree(out, ignore_errors=True)
        cache = data / f"cache-{rows}-{label}"
        shutil.rmtree(cache, ignore_errors=True)  # a cold description cache: the first night
        print(f"{rows:,}: {label}", flush=True)
        result = measured([str(BIN / "expunge"), "run", str(export), "--out", str(out), "--run-id", "bench",
                           "--as-of", "2026-11-27", "--orchestrator", "none", "--cache-dir", str(cache),
                           "--documents" if docs else "--no-documents"], env)
        manifest = json.loads((out / "bench" / "manifest.json").read_text())
        result.pop("stdout")
        result["stages_s"] = manifest["timings_seconds"]
        result["partitions"] = manifest["partitions"]
        result["documents"] = manifest["outputs"]["documents"]
        result["rows_per_s"] = round(rows / result["wall_s"])
        result["ratio_to_copy_floor"] = round(result["wall_s"] / floor["wall_s"], 2)
        result["matching_share_of_wall"] = round(manifest["timings_seconds"]["matching_within_decide"]
                                                 / result["wall_s"], 3)
        runs[label] = result
        if not docs:
            runs["analyst_query"] = analyst_query(out / "bench")
            runs["second_night"] = second_night(export, rows, out, cache, floor["wall_s"], env)
        shutil.rmtree(out, ignore_errors=True)
    floor.pop("stdout")
    floor["rows_per_s"] = round(rows / floor["wall_s"])
    return {"rows": rows, "csv_mb": round(size_mb, 1), "distinct_descriptions": distinct, "copy_floor": floor,
            **runs}


def markdown(results: dict[str, object]) -> str:
    def distinct(r: dict[str, object]) -> str:  # results from before the count say so
        return f"{r['distinct_descriptions']:,}" if "distinct_descriptions" in r else "not counted"

    m = results["machine"]
    lines = ["# Benchmark: the pipeline against the copy floor", "",
             f"Machine: {m['platform']}, {m['cpus']} CPUs, {m['ram_gb']} GB RAM; Python {m['python']}, "
             f"pandas {m['pandas']}, pyarrow {m['pyarrow']}, rapidfuzz {m['rapidfuzz']}; run {m['date']} "
             "by `make bench` (tools/bench.py). Peak RSS is the whole process tree (the run and its worker "
             "processes, sampled every 0.2 s); the largest single process is in brackets.", "",
             f"Input: {results.get('input', 'the tidy `expunge sample` export (13 variants per reference text)')}.",
             "",
             "| charges | distinct descriptions | CSV | copy floor | pipeline (no DOCX) | ratio "
             "| peak RSS floor / pipeline (largest process) | ingest / decide / publish | matching share "
             "| partitions |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"]
    for r in results["sizes"]:
        f, p = r["copy_floor"], r["pipeline"]
        st = p["stages_s"]
        lines.append(f"| {r['rows']:,} | {distinct(r)} | {r['csv_mb']:,} MB | {f['wall_s']} s | {p['wall_s']} s "
                     f"({p['rows_per_s']:,} rows/s) | {p['ratio_to_copy_floor']}× | {f['peak_rss_mb']:,} / "
                     f"{p['peak_rss_mb']:,} MB ({p.get('largest_process_rss_mb', p['peak_rss_mb']):,} MB) | "
                     f"{st['ingest']} / {st['decide']} / {st['publish']} s | "
                     f"{p['matching_share_of_wall']:.1%} | {p['partitions']} |")
    steps = [(r, r["pipeline"]["stages_s"].get("steps", {})) for r in results["sizes"]]
    names = [n for n in ("partition", "people_index", "decide_partitions", "publish_partitions",
                         "cases_and_review_queue", "petitions", "rollups", "readings")
             if any(n in st for _, st in steps)]
    if names:
        lines += ["", "Steps inside decide and publish (seconds):", "",
                  "| charges | distinct descriptions | " + " | ".join(n.replace("_", " ") for n in names) + " |",
                  "| ---: | ---: | " + " | ".join("---:" for _ in names) + " |"]
        lines += [f"| {r['rows']:,} | {distinct(r)} | " + " | ".join(str(st.get(n, "")) for n in names) + " |"
                  for r, st in steps]
    nights = [r for r in results["sizes"] if "second_night" in r]
    if nights:
        lines += ["", "The second night, warm (ledger and description cache from the first): 0.5 % of the charges "
                  "newly disposed, nine tenths of them filed in the export's last year, and 1 % new charges "
                  "(`expunge next-night`):", "",
                  "| charges | second night | ratio to the first night's copy floor | ingest / decide / publish "
                  "| decisions reused / made | peak RSS |", "| ---: | ---: | ---: | --- | --- | ---: |"]
        for r in nights:
            n = r["second_night"]
            st = n["stages_s"]
            lines.append(f"| {r['rows']:,} | {n['wall_s']} s | {n['ratio_to_copy_floor']}× | {st['ingest']} / "
                         f"{st['decide']} / {st['publish']} s | {n['ledger']['charges_reused']:,} / "
                         f"{n['ledger']['charges_decided']:,} | {n['peak_rss_mb']:,} MB |")
    queries = [r for r in results["sizes"] if "analyst_query" in r]
    if queries:
        lines += ["", "One analyst query (DuckDB, its own process: charges and distinct people by county, year and "
                  "determination over `charges/`):", "",
                  "| charges | query | groups | files in charges/ / analytics/ |", "| ---: | ---: | ---: | --- |"]
        lines += [f"| {r['rows']:,} | {r['analyst_query']['query_s']} s | {r['analyst_query']['groups']:,} | "
                  f"{r['analyst_query']['files']['charges']:,} / {r['analyst_query']['files']['analytics']:,} |"
                  for r in queries]
    for r in results["sizes"]:
        if "pipeline_with_documents" in r:
            d = r["pipeline_with_documents"]
            counted = f" ({distinct(r)} distinct descriptions)" if "distinct_descriptions" in r else ""
            lines += ["", f"With the DOCX drafts at {r['rows']:,} charges{counted}: {d['wall_s']} s, "
                      f"{d['documents']:,} documents, peak RSS {d['peak_rss_mb']:,} MB "
                      f"(publish {d['stages_s']['publish']} s)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--data", type=Path, default=ROOT / ".bench")
    ap.add_argument("--results", type=Path, default=ROOT / "docs" / "measurements")
    ap.add_argument("--render", action="store_true", help="only rewrite bench.md from bench.json")
    args = ap.parse_args()
    if args.render:
        results = json.loads((args.results / "bench.json").read_text())
        (args.results / "bench.md").write_text(markdown(results))
        print(markdown(results))
        return
    args.data.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine(),
               "input": f"`expunge sample {' '.join(SAMPLE_ARGS)}` (real hand-keyed cardinality; "
                        "distinct descriptions counted in each export's charge_description column)",
               "sizes": [bench_size(n, args.data, documents=(n == min(args.sizes))) for n in sorted(args.sizes)]}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.results / "bench.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
