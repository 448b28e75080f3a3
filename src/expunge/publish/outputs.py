"""Publish: write what each user needs into the run folder.

Input: decided charges (with personal fields), the ingest report.
Output, in ``OUT/<run_id>/`` (DATA_CONTRACT.md): ``charges/`` (hive-partitioned Parquet,
no personal fields), ``cases.parquet``, ``review_queue.csv``,
``petitions/circuit-<n>/<COUNTY>.csv``, ``quarantine.parquet``, ``summary/`` and
``manifest.json``.

Data files are written in a fixed row order with no timestamps inside, so the same inputs
give the same bytes; the manifest alone carries times.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import yaml

from expunge.decide.answers import ANSWER_FACTS, COUNSEL, QUEUE_ANSWER_COLUMNS, answer_guide
from expunge.decide.facts import caveat_lists, caveat_text
from expunge.decide.people import conflict_table
from expunge.ingest.csvfiles import BOM, write_csv
from expunge.ingest.distinct import hash_distinct, joined_per_group
from expunge.ingest.read import in_this_process
from expunge.law import readings as law_readings
from expunge.law.rules import ELIGIBLE, load_rules
from expunge.publish import gap, history
from expunge.publish.documents import Drafts, safe_name, write_documents
from expunge.publish.report import render_report
from expunge.publish.rollups import DEFAULT_SUPPRESS_BELOW, Rollups, cases
from expunge.publish.whatif import report_readings
from expunge.publish.workbooks import CHUNK_ROWS, MAX_ROWS, Rows, write_workbook

_ARROW_TYPES = {
    "string": pa.string(), "int64": pa.int64(), "int32": pa.int32(), "int16": pa.int16(),
    "float64": pa.float64(), "bool": pa.bool_(), "date32": pa.date32(),
    "list<string>": pa.list_(pa.string()),
}

#: Title and basis of each path's draft (``law/readings.yaml``, ``petitions.paths``).
PATH_TEXTS: dict[str, dict[str, str]] = {k: dict(v) for k, v in law_readings()["petitions"]["paths"].items()}
#: Agencies a petition names (``law/readings.yaml``, ``petitions``).
AGENCIES: dict[str, str] = dict(law_readings()["petitions"]["agencies"])
MSHP_CJIS = AGENCIES["state_repository"]


@lru_cache(maxsize=4)
def dataset_schema(name: str) -> pa.Schema:
    """Arrow schema of an output dataset from ``schemas/<name>.v1.yaml``."""
    doc = yaml.safe_load((resources.files("expunge.schemas") / f"{name}.v1.yaml").read_text("utf-8"))
    return pa.schema([pa.field(n, _ARROW_TYPES[spec["type"]]) for n, spec in doc["columns"].items()])


def charges_schema() -> pa.Schema:
    """Arrow schema of ``charges/`` (``schemas/charges.v1.yaml``)."""
    return dataset_schema("charges")


ROW_ORDER = ("county", "case_number", "charge_seq", "source_file", "source_line")


def read_sorted(path: str) -> pd.DataFrame:
    """A decided partition in the order its rows are written (``ROW_ORDER``, missing last;
    Arrow's stable sort: a third of the time pandas took to sort and reorder 60 columns)."""
    table = pq.read_table(path)
    order = pa.compute.sort_indices(table, sort_keys=[(k, "ascending") for k in ROW_ORDER])
    return table.take(order).to_pandas()


def typed_table(frame: pd.DataFrame, schema: pa.Schema, caveat_bits: np.ndarray) -> pa.Table:
    """``frame`` as an Arrow table with the schema's exact types (caveats from their bits)."""
    table = pa.Table.from_pandas(frame[[f.name for f in schema if f.name != "caveats"]], preserve_index=False)
    arrays = [caveat_lists(caveat_bits) if f.name == "caveats" else table.column(f.name).cast(f.type)
              for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def charges_table(decided: pd.DataFrame) -> pa.Table:
    """The ``charges/`` rows as an Arrow table with the schema's exact types."""
    return typed_table(decided, charges_schema(), decided["caveat_bits"].to_numpy())


def analytics_table(decided: pd.DataFrame, salt: str) -> pa.Table:
    """The de-identified copy of ``charges/`` (``schemas/analytics.v1.yaml``)."""
    frame = decided.assign(
        person_key=hash_distinct(decided["person_key"], salt),
        case_key=hash_distinct(decided["case_number"], salt),
        year_of_birth=pd.to_datetime(decided["personal_dob"]).dt.year.astype("Int16"),
        sex=decided["personal_sex"], race=decided["personal_race"],
    )
    return typed_table(frame, dataset_schema("analytics"), decided["caveat_bits"].to_numpy())


def write_dataset(table: pa.Table, out: Path, basename: str = "part-{i}.parquet") -> Path:
    """Write a table as zstd Parquet, hive-partitioned by county, in a fixed order (called once
    per partition with a distinct ``basename``)."""
    ds.write_dataset(
        table, out, format="parquet",
        partitioning=ds.partitioning(pa.schema([("county", pa.string())]), flavor="hive"),
        basename_template=basename,
        file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
        existing_data_behavior="overwrite_or_ignore", max_rows_per_file=5_000_000, max_rows_per_group=500_000,
        preserve_order=True,
    )
    return out


def review_queue(decided: pd.DataFrame) -> pd.DataFrame:
    """NEEDS_REVIEW charges, columns in the order a person works a row: where the case is, what
    the record says, the question, the one answer column that settles it and the answers it
    takes, the answer columns, then why the row is here and what the pipeline read; technical
    columns last. ``waits_on``: a clerk, or counsel's reading named by its reason code. No
    names: the case number is what a clerk pulls the file by."""
    r = decided[decided["determination"] == "NEEDS_REVIEW"]
    guide = answer_guide(r["rule_id"], r["missing_fact"])
    out = pd.DataFrame({
        "county": r["county"], "court": r["court"], "case_number": r["case_number"],
        "charge_seq": r["charge_seq"], "offense_date": r["offense_date"].dt.date,
        "description_raw": r["description_raw"], "charge_code_raw": r["charge_code_raw"],
        "ncic_modifier_raw": r["ncic_modifier_raw"], "statute_raw": r["statute_raw"],
        "disposition_raw": r["disposition_raw"],
        "question": r["question"], "missing_fact": r["missing_fact"],
        "answer_column": guide["answer_column"], "allowed_answers": guide["allowed_answers"],
        **{c: "" for c in QUEUE_ANSWER_COLUMNS},
        # Legal readings are answered once per reading by counsel, not per charge by clerks:
        # rows that wait on one are grouped under it (ELIGIBILITY.md, review rules).
        "waits_on": ("counsel: " + r["reason_code"].astype("str")).where(r["missing_fact"] == "legal_reading",
                                                                        "clerk"),
        "reason_code": r["reason_code"], "explanation": r["explanation"], "rule_id": r["rule_id"],
        "offense_family": r["offense_family"], "substance": r["substance"], "level": r["level"],
        "class": r["class"], "amount_g": r["amount_g"], "match_method": r["match_method"],
        "match_score": r["match_score"], "match_candidates": r["match_candidates"],
        "caveats": caveat_text(r["caveat_bits"]),
        "fingerprint": r["fingerprint"], "run_id": r["run_id"], "source_file": r["source_file"],
        "source_line": r["source_line"],
    }, index=r.index)
    return out


#: What each answer column of the review queue workbook accepts: a dropdown, or a number.
ANSWER_CHECKS: dict[str, tuple[str, ...] | str] = {
    "answer_yes_no": ("YES", "NO"),
    **{c: ("number" if allowed is None else tuple(allowed)) for c, (_, allowed) in ANSWER_FACTS.items()
       if c != "answer_violent"},
}


def _clerk_batches(files: Sequence[Path]) -> Iterator[pd.DataFrame]:
    """The review queue's rows a clerk answers (counsel's readings are on their own sheet)."""
    for batch in _batches(files):
        yield batch[batch["answer_column"] != COUNSEL]


def counsel_readings(queue_files: Sequence[Path], rules_path: str | None) -> pd.DataFrame:
    """The review rows that wait on a reading of the law, one line per reading: what it asks, the
    policy of the rule file that settles it (where there is one), and how many charges and cases
    wait on it. Counsel answers once; the rows stay listed in review_queue.csv."""
    columns = ["reason_code", "rule_id", "question", "case_number", "county"]
    rows = pd.concat([pq.read_table(f, columns=[*columns, "answer_column"]).to_pandas() for f in queue_files],
                     ignore_index=True)
    rows = rows[rows["answer_column"] == COUNSEL]
    policies = {r.id: r.policy for r in load_rules(rules_path).rules} if rules_path else {}
    g = rows.groupby(["reason_code", "rule_id", "question"], sort=True)
    out = pd.DataFrame({"charges": g.size(), "cases": g["case_number"].nunique(), "counties": g["county"].nunique()})
    out = out.reset_index()
    out.insert(3, "settled_by", out["rule_id"].map(lambda r: f"policy {policies[r]} (expunge run --policy "
                                                             f"{policies[r]}=VALUE)" if policies.get(r) else
                                                   "counsel's reading; then a decision per case (answer_decision)"))
    return out.astype({"charges": "int64", "cases": "int64", "counties": "int64"})


def how_to_answer(queue_files: Sequence[Path]) -> pd.DataFrame:
    """The first sheet of the review queue workbook: each question the queue asks, the fact it
    settles, the answer column and its answers, who answers, and how many rows ask it. Rows
    that wait on counsel's reading are one line per reading: counsel answers it once."""
    columns = ["waits_on", "missing_fact", "question", "answer_column", "allowed_answers"]
    rows = pd.concat([pq.read_table(f, columns=columns).to_pandas() for f in queue_files], ignore_index=True)
    guide = rows.fillna("").groupby(columns, sort=False).size().rename("rows").reset_index()
    guide = guide.sort_values(["waits_on", "rows"], ascending=[True, False], kind="stable")
    note = pd.DataFrame([{"waits_on": "", "missing_fact": "", "question": q, "answer_column": "", "allowed_answers": "",
                          "rows": None} for q in (
        "Answer in the column the row names (answer_column), with one of its answers; answer_decision decides any "
        "row outright. Then: expunge review apply FILE --answers STORE, and run the night with --answers STORE.",
        "Rows that wait on 'counsel: ...' ask a reading of the law, not a fact of the case: counsel settles it once "
        "(for a reading that is a policy of the rule file, with expunge run --policy NAME=VALUE; see "
        "docs/eligibility.md), and every row that waits on it follows. Leave them to counsel.",
        "Levels: F felony, M misdemeanor, I infraction, L local ordinance. A question about the level and class "
        "takes the level in answer_level and the class in answer_class.")])
    return pd.concat([guide, note], ignore_index=True).astype({"rows": "Int64"})


def petition_rows(decided: pd.DataFrame) -> pd.DataFrame:
    """Eligible charges with the CR375 / § 610.140 fields, grouped by person."""
    e = decided[decided["determination"].isin(ELIGIBLE)]
    dob = pd.to_datetime(e["personal_dob"])
    county = e["county"].str.title()
    city = e["county"] == "ST. LOUIS CITY"
    court_in, court_out = AGENCIES["court"].split("{county}")
    court = e["court"].fillna((court_in + county + court_out).where(~city, AGENCIES["court_st_louis_city"]))
    # St. Louis City has a Circuit Attorney; every county has a Prosecuting Attorney.
    pros_in, pros_out = AGENCIES["prosecutor"].split("{county}")
    prosecutor = (pros_in + county + pros_out).where(~city, AGENCIES["prosecutor_st_louis_city"])
    agency = e["arresting_agency"].fillna("")
    municipal = e["case_kind"] == "MUNICIPAL"
    prosecutor = prosecutor.where(~municipal, AGENCIES["prosecutor_municipal"])
    agencies = court + "; " + MSHP_CJIS + "; " + prosecutor + ("; " + agency).where(agency != "", "")
    serving = e["serving"].isin(["INCARCERATED", "SUPERVISED"])
    path = np.select([e["determination"] == "ELIGIBLE_AUTO", municipal, serving],
                     ["auto", "municipal", "petition_serving"], default="petition_completed")
    out = pd.DataFrame({
        "circuit": e["circuit"], "county": e["county"], "person_key": e["person_key"],
        "last_name": e["personal_last_name"], "first_name": e["personal_first_name"],
        "middle_name": e["personal_middle_name"], "date_of_birth": dob.dt.date,
        "year_of_birth": dob.dt.year.astype("Int16"), "sex": e["personal_sex"],
        "race": e["personal_race"], "address": e["personal_address"],
        "case_number": e["case_number"], "court": e["court"], "charge_seq": e["charge_seq"],
        "approx_charge_date": e["offense_date"].fillna(e["filing_date"]).dt.date,
        "charge_code": e["charge_code_raw"].fillna(e["charge_code_normalized"]),
        # The statute the record gives (or its code's): never one a description was matched to.
        "statute": e["statute_normalized"].where(e["match_method"].isin(["charge_code", "statute"]), e["statute_raw"]),
        "description": e["description_raw"],
        "disposition": e["disposition_raw"], "determination": e["determination"], "path": path,
        "case_kind": e["case_kind"],
        "ordinance": e["statute_raw"].fillna(e["charge_code_raw"]).where(municipal),
        "reason_code": e["reason_code"], "rule_id": e["rule_id"], "citation": e["citation"],
        "deadline": e["deadline"].dt.date, "overdue": e["overdue"], "agencies_to_name": agencies,
        "caveats": caveat_text(e["caveat_bits"]),
    })
    return out.sort_values(["circuit", "county", "last_name", "first_name", "person_key", "path",
                            "case_number", "charge_seq"], kind="stable", na_position="last")


#: What the roll-ups, the delta and the manifest need of every charge: written per partition
#: to ``narrow/part-<k>.parquet`` beside the run folder and aggregated by DuckDB out of core.
NARROW_COLUMNS = ("county", "case_number", "charge_seq", "person_key", "person_link", "offense_year",
                  "offense_family", "level", "determination", "reason_code", "rule_id", "overdue",
                  "description_raw", "norm_family", "match_method", "match_source", "desc_band")


def write_partition(path: str, k: int, many: bool, run_dir: Path, salt: str | None = None) -> dict[str, Any]:
    """The outputs of decided partition ``k`` that can be written alone: its files of
    ``charges/`` (and ``analytics/`` with a ``salt``), and, in ``spill_dir(run_dir)``, its
    cases, review queue, petition rows and narrow roll-up columns, for ``write_outputs`` to
    put together. Partitions can be written in parallel."""
    spill = spill_dir(run_dir)
    decided = read_sorted(path)
    name = f"part-{k:03d}-{{i}}.parquet" if many else "part-{i}.parquet"
    write_dataset(charges_table(decided), run_dir / "charges", name)
    if salt:
        write_dataset(analytics_table(decided, salt), run_dir / "analytics", name)
    case_rows = pa.Table.from_pandas(cases(decided), preserve_index=False)
    pq.write_table(case_rows, spill / "cases" / f"part-{k:03d}.parquet")
    queue = review_queue(decided)
    write_csv(queue, spill / "review" / f"part-{k:03d}.csv", header=k == 0)
    pq.write_table(pa.Table.from_pandas(queue, preserve_index=False), spill / "review" / f"part-{k:03d}.parquet")
    _spill_petitions(petition_rows(decided), spill / "petitions" / f"part-{k:03d}.parquet")
    pq.write_table(pa.Table.from_pandas(decided[list(NARROW_COLUMNS)], preserve_index=False),
                   spill / "narrow" / f"part-{k:03d}.parquet", compression="zstd")
    run_id = str(decided["run_id"].iloc[0]) if len(decided) else ""
    del decided
    pa.default_memory_pool().release_unused()  # hand freed partition buffers back to the OS
    return {"run_id": run_id, "review_queue": len(queue)}


def spill_dir(run_dir: Path) -> Path:
    """Where a run's partitions leave their pieces (beside the run folder, never in it)."""
    return run_dir.parent / "publish-spill"


@dataclass(frozen=True)
class PublishRequest:
    """What publishing a run needs besides its decided partitions: the as-of date and rule set
    printed on drafts and pages, the rule file and policies the report's readings re-decide
    under, small-cell suppression, whether to write drafts, and the people conflict files of
    the partitions (read only when the conflict list is written: at 10 M charges the rows take
    ~190 MB that would otherwise sit in the run's process)."""

    as_of: str
    rules: str  # "name vN", printed on drafts and the report
    rules_path: str | None = None
    policies: Mapping[str, str] = field(default_factory=dict)
    suppress_below: int = DEFAULT_SUPPRESS_BELOW
    documents: bool = True
    conflict_files: tuple[str, ...] = ()
    readings: bool = True  # the report page's "Readings the sources dispute" section
    previous: str | None = None  # the previous night's run folder: disclosure control audits both nights
    history: str | None = None  # the output folder's delivery history: tonight's is staged and reported


@dataclass(frozen=True)
class Published:
    """What ``write_outputs`` wrote, for the manifest and the accounting check."""

    charges: int
    cases: int
    review_queue: int
    petition_files: list[str]
    analytics: bool
    documents: int
    documents_carried: int  # of ``documents``: drafts copied from the previous night, unchanged
    people_conflicts: int
    by_determination: dict[str, int]
    headline: dict[str, Any]
    rollups: Rollups  # the run's roll-ups over its narrow columns (DuckDB), for the manifest and delta
    history: str | None = None  # tonight's delivery history, staged for the commit to put in place
    gap: dict[str, Any] | None = None  # the gap report's statewide figures per path (``gap.statewide``)


def write_outputs(parts: list[str], run_dir: Path, request: PublishRequest, salt: str | None = None,
                  mapper: Callable[..., list[Any]] | None = None,
                  steps: dict[str, float] | None = None,
                  on_step: Callable[[str, float], None] | None = None) -> Published:
    """Write every data output of a run into ``run_dir`` from its decided partitions, each
    partition by ``write_partition`` (through ``mapper(fn, args)``, e.g.
    ``ops.workers.map_local``, to use several processes), then the run-wide files from their
    pieces.

    ``analytics/`` is written only with a ``salt`` (the operator's secret, never stored).
    ``steps`` receives the seconds each step took; ``on_step(name, seconds)`` is called as
    each step ends (a progress display)."""
    steps = {} if steps is None else steps
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps[name] = round(now - clock, 3)
        clock = now
        if on_step is not None:
            on_step(name, steps[name])

    run_dir.mkdir(parents=True, exist_ok=True)
    spill = spill_dir(run_dir)
    for sub in ("cases", "review", "petitions", "narrow"):
        (spill / sub).mkdir(parents=True, exist_ok=True)
    mapper = mapper or in_this_process
    done = mapper(write_partition, [(p, k, len(parts) > 1, run_dir, salt) for k, p in enumerate(parts)])
    run_id = next((d["run_id"] for d in done if d["run_id"]), "")
    queue_rows = sum(d["review_queue"] for d in done)
    step("publish_partitions")
    pieces = sorted((spill / "cases").glob("part-*.parquet"))
    schema = pa.unify_schemas([pq.read_schema(p) for p in pieces], promote_options="permissive")
    n_cases = 0
    with pq.ParquetWriter(run_dir / "cases.parquet", schema, compression="zstd") as w:
        for piece in pieces:
            table = pq.read_table(piece)
            w.write_table(table.cast(schema))
            n_cases += table.num_rows
    with (run_dir / "review_queue.csv").open("wb") as out:
        out.write(BOM)  # a clerk's file: Excel reads it as UTF-8
        for piece in sorted((spill / "review").glob("part-*.csv")):
            with piece.open("rb") as src:
                shutil.copyfileobj(src, out)
    if 0 < queue_rows <= MAX_ROWS:  # else too long for a workbook: CSV only
        queue_files = sorted((spill / "review").glob("part-*.parquet"))
        clerk_rows = sum(pq.read_table(f, columns=["answer_column"], filters=[("answer_column", "!=", COUNSEL)])
                         .num_rows for f in queue_files)
        write_workbook(run_dir / "review_queue.xlsx",
                       {"How to answer": how_to_answer(queue_files),
                        "review queue": partial(_clerk_batches, queue_files),
                        "counsel's readings": counsel_readings(queue_files, request.rules_path)},
                       {"review queue": clerk_rows}, {"review queue": ANSWER_CHECKS},
                       {"review queue": 4})  # county, court, case number and count stay in view
    step("cases_and_review_queue")
    staged, nights = delivery_nights(request, run_dir, run_id, spill) if request.history else (None, None)
    step("delivery_history")
    run = {"run_id": run_id, "as_of": request.as_of, "rules": request.rules}
    previous_petitions = Path(request.previous) / "petitions" if request.previous else None
    petitions, drafts = write_petitions(sorted(str(p) for p in (spill / "petitions").glob("part-*.parquet")),
                                        run_dir, run, request.documents, spill / "sorted", mapper, previous_petitions,
                                        str(staged) if staged else None)
    step("petitions")
    n_conflicts = write_conflicts(request.conflict_files, run_dir)
    every = Rollups(sorted(str(p) for p in (spill / "narrow").glob("part-*.parquet")), spill_dir=spill)
    summary_dir = run_dir / "summary"
    summary_dir.mkdir(exist_ok=True)
    previous = Path(request.previous) if request.previous else None
    tables = every.summaries(below=request.suppress_below, previous=previous, delivery=nights)
    for name, table in tables.items():
        write_csv(table, summary_dir / f"{name}.csv")
    delivery = None
    if nights is not None:
        delivery = gap.report(nights.tonight, every.cells, request.suppress_below)
        write_csv(delivery, summary_dir / "delivery.csv")
        trend = gap.trend(gap.read_trend(previous / "summary") if previous else None, delivery, request.as_of,
                          run_id)
        write_csv(trend, summary_dir / "delivery_trend.csv")
        delivery = (delivery, trend)
    head = every.headline()
    head["small_cell_threshold"] = request.suppress_below
    (summary_dir / "headline.json").write_text(json.dumps(head, indent=2, sort_keys=True) + "\n")
    step("rollups")
    readings = (report_readings(run_dir, request.as_of, dict(request.policies), request.rules_path)
                if request.readings else None)
    (summary_dir / "report.html").write_text(render_report(head, tables, run, readings, delivery), encoding="utf-8")
    step("readings")
    return Published(charges=int(head["charges"]["total"]), cases=n_cases, review_queue=queue_rows,
                     petition_files=petitions, analytics=bool(salt), documents=drafts.total,
                     documents_carried=drafts.carried,
                     people_conflicts=n_conflicts, by_determination=dict(head["charges"]["by_determination"]),
                     headline=head, rollups=every, history=str(staged) if staged else None,
                     gap=gap.statewide(delivery[0]) if delivery else None)


def delivery_nights(request: PublishRequest, run_dir: Path, run_id: str, spill: Path) -> tuple[Path, gap.Nights]:
    """Tonight's delivery history, from the output folder's (``request.history``) and the run's
    charges, staged in ``spill`` for the commit; and the delivery states of tonight and of the
    previous night (when it published a delivery table), for the gap report and its audit."""
    before = history.read(Path(str(request.history)))
    after = history.update(before, history.tonight(run_dir / "charges", before), pd.Timestamp(request.as_of).date(),
                           run_id)
    staged = spill / "history.parquet"
    history.write(after, staged)
    last = None
    previous = Path(request.previous) if request.previous else None
    if previous is not None and (previous / "summary" / "delivery.csv").is_file():
        manifest = json.loads((previous / "manifest.json").read_text())
        last = gap.states(before, manifest["as_of"], manifest["run_id"])
    return staged, gap.Nights(gap.states(after, request.as_of, run_id), last)


def write_conflicts(files: Sequence[str], run_dir: Path) -> int:
    """``people_conflicts.csv`` from the partitions' conflict rows (none: no file); returns its lines."""
    frames = [pq.read_table(f).to_pandas() for f in files]
    conflicts = conflict_table(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
    if len(conflicts):
        write_csv(conflicts, run_dir / "people_conflicts.csv", bom=True)
    return len(conflicts)


#: What a clerk records about each petition row in the workbook (a dropdown; not in the CSV).
PETITION_STATUS = ("TO_FILE", "FILED", "ORDER_ENTERED", "NOT_FILED")


def _with_status(files: Sequence[Path]) -> Iterator[pd.DataFrame]:
    """A county sheet's rows with a blank ``clerk_status`` column for the clerk's worklist."""
    for batch in _batches(files):
        yield batch.assign(clerk_status="")


def how_to_use(paths: dict[tuple[str, str], int]) -> pd.DataFrame:
    """The first sheet of a circuit's petition workbook: each path's draft (title and legal
    basis) with its charges per county, and how to work the sheets."""
    rows = [{"county": county, "path": path, "draft": PATH_TEXTS[path]["title"], "basis": PATH_TEXTS[path]["basis"],
             "charges": n} for (county, path), n in sorted(paths.items())]
    rows.append({"county": "", "path": "", "draft": (
        "One sheet per county, one row per eligible charge; the drafts are in documents/<COUNTY>/ "
        "(<person_key>-<path>.docx). clerk_status is for this copy of the workbook: expunge does not read it back, "
        "and the next night's workbook starts blank. Check every row's caveats before filing."), "basis": "",
        "charges": None})
    return pd.DataFrame(rows).astype({"charges": "Int64"})


def _batches(files: Sequence[Path]) -> Iterator[pd.DataFrame]:
    """The rows of Parquet ``files`` in order, ``CHUNK_ROWS`` at a time."""
    for f in files:
        for batch in pq.ParquetFile(f).iter_batches(CHUNK_ROWS):
            yield batch.to_pandas()


_PLACE = ["circuit", "county"]
_PETITION_ORDER = [*_PLACE, "last_name", "first_name", "person_key", "case_number", "charge_seq"]


WORKLISTS = "worklists"


def worklist_path(run_dir: Path, circ: str, county: str) -> Path:
    """``worklists/circuit-<n>/<COUNTY>.csv``: apart from ``petitions/``, whose CSVs list each
    eligible charge once."""
    folder = run_dir / WORKLISTS / safe_name(f"circuit-{circ}")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{safe_name(county)}.csv"


def waiting_order(rows: pd.DataFrame, seen: pd.DataFrame, as_of: str) -> pd.DataFrame:
    """A county's petition rows with how long each charge has waited: ``first_seen_eligible``
    (the night this output folder first saw it eligible, from the delivery history),
    ``days_waiting`` (``gap.days_waiting``: automatic since its deadline, petition since first
    seen) and ``waiting_rank`` (1: the longest waiting; sort by it to work overdue first)."""
    first = seen.astype({"charge_seq": "int64"}).drop_duplicates(["case_number", "charge_seq"])
    out = rows.merge(first.rename(columns={"first_eligible_on": "first_seen_eligible"}), how="left",
                     on=["case_number", "charge_seq"], validate="many_to_one")
    out["days_waiting"] = gap.days_waiting((out["determination"] == "ELIGIBLE_AUTO").to_numpy(), out["deadline"],
                                           out["first_seen_eligible"], as_of)
    # a charge the record marks expunged is delivered: it waits for nothing (ranked last)
    out["days_waiting"] = out["days_waiting"].mask(marked_expunged(out))
    order = np.argsort(-out["days_waiting"].fillna(-1).to_numpy(), kind="stable")
    rank = np.empty(len(out), "int64")
    rank[order] = np.arange(1, len(out) + 1)
    return out.assign(waiting_rank=rank)


def marked_expunged(rows: pd.DataFrame) -> np.ndarray:
    """Petition rows the record already marks expunged (their caveat says so)."""
    return rows["caveats"].fillna("").astype(str).str.contains("ALREADY_EXPUNGED", regex=False).to_numpy()


def worklist(rows: pd.DataFrame, documents: bool) -> pd.DataFrame:
    """A county's worklist: one row per person and path (one petition or order each), the
    longest waiting first: the charges and cases, the earliest deadline, the night first seen
    eligible, the days the longest-waiting charge has waited and, with ``documents``, the draft.
    Charges the record marks expunged are delivered, and left out."""
    keys = ["person_key", "path"]
    rows = rows[~marked_expunged(rows)]
    rows = rows.assign(person_key=rows["person_key"].fillna(""), path=rows["path"].astype(str),
                       case_number=rows["case_number"].astype(str),
                       deadline=pd.to_datetime(rows["deadline"]),
                       first_seen_eligible=pd.to_datetime(rows["first_seen_eligible"]))
    g = rows.groupby(keys, sort=False)
    out = g[["last_name", "first_name", "date_of_birth", "county", "circuit"]].first()
    out["charges"] = g.size()
    out["cases"] = joined_per_group(rows[[*keys, "case_number"]], keys, "case_number", ", ", "distinct")
    out["earliest_deadline"] = g["deadline"].min().dt.date
    out["first_seen_eligible"] = g["first_seen_eligible"].min().dt.date
    out["days_waiting"] = g["days_waiting"].max()
    out = out.reset_index().sort_values(["days_waiting", "last_name", "first_name", "person_key", "path"],
                                        ascending=[False, True, True, True, True], na_position="last", kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    if documents:
        out["draft"] = np.where(out["person_key"] != "", "petitions/circuit-" + out["circuit"].astype(str).map(
            safe_name) + "/documents/" + out["county"].astype(str).map(safe_name) + "/" + out["person_key"] + "-"
                                + out["path"].astype(str) + ".docx", "")
    columns = ["rank", "circuit", "county", "person_key", "last_name", "first_name", "date_of_birth", "path",
               "charges", "cases", "earliest_deadline", "first_seen_eligible", "days_waiting"]
    return out[columns + (["draft"] if documents else [])].reset_index(drop=True)


def _spill_petitions(rows: pd.DataFrame, path: Path) -> None:
    """A partition's petition rows, one row group per circuit and county (so a county reads alone)."""
    rows = rows.dropna(subset=["circuit"]).sort_values(_PLACE, kind="stable")
    table = pa.Table.from_pandas(rows, preserve_index=False)
    starts = np.flatnonzero(~rows[_PLACE].duplicated().to_numpy())
    with pq.ParquetWriter(path, table.schema, compression="zstd") as w:
        for a, b in zip(starts, [*starts[1:], len(rows)] if len(rows) else [], strict=True):
            w.write_table(table.slice(a, b - a))


def write_petitions(spills: list[str], run_dir: Path, run: dict[str, str], documents: bool = True,
                    scratch: Path | None = None, mapper: Callable[..., list[Any]] | None = None,
                    previous: Path | None = None, history_file: str | None = None) -> tuple[list[str], Drafts]:
    """Per circuit (``write_circuit``, through ``mapper`` to use several processes): a CSV
    per county, one workbook with a sheet per county, a worklist per county (``worklist``,
    with tonight's delivery history ``history_file``) and, with ``documents``, one DOCX per
    person and county (those unchanged since the ``previous`` night's ``petitions/`` copied
    from it)."""
    if not spills:
        return [], Drafts()
    data = ds.dataset(spills, format="parquet")
    places = data.to_table(columns=_PLACE).group_by(_PLACE).aggregate([([], "count_all")]).to_pandas()
    places = places.sort_values(_PLACE, kind="stable")
    scratch = scratch or run_dir.parent / "petition-sorted"
    mapper = mapper or in_this_process
    done = mapper(write_circuit, [(spills, run_dir, circ, dict(zip(counties["county"].astype(str),
                                                                   counties["count_all"].astype(int), strict=True)),
                                   run, documents, scratch, previous, history_file)
                           for circ, counties in places.groupby("circuit", sort=True)])
    return [f for files, _ in done for f in files], sum((d for _, d in done), Drafts())


def write_circuit(spills: list[str], run_dir: Path, circ: str, counties: dict[str, int], run: dict[str, str],
                  documents: bool, scratch: Path, previous: Path | None = None,
                  history_file: str | None = None) -> tuple[list[str], Drafts]:
    """One circuit's petition files; reads one county (``counties``: name -> rows) at a time,
    each county's sorted rows waiting in ``scratch`` for the circuit's workbook."""
    data = ds.dataset(spills, format="parquet")
    seen = (pq.read_table(history_file, columns=["case_number", "charge_seq", "first_eligible_on"],
                          filters=[("circuit", "==", circ)]).to_pandas() if history_file else None)
    written: list[str] = []
    drafts = Drafts()
    folder = run_dir / "petitions" / safe_name(f"circuit-{circ}")
    folder.mkdir(parents=True, exist_ok=True)
    sorted_dir = scratch / safe_name(f"circuit-{circ}")
    sorted_dir.mkdir(parents=True, exist_ok=True)
    sheets: dict[str, Rows] = {}
    paths: dict[tuple[str, str], int] = {}
    for i, county in enumerate(counties):
        rows = data.to_table(filter=(ds.field("circuit") == circ) & (ds.field("county") == county)).to_pandas()
        rows = rows.sort_values(_PETITION_ORDER, kind="stable", na_position="last").reset_index(drop=True)
        drafted = rows  # a draft is built from the rows as they were: how long they waited changes nightly
        if seen is not None:
            rows = waiting_order(rows, seen, run["as_of"])
            write_csv(worklist(rows, documents), worklist_path(run_dir, circ, county), bom=True)
        path = folder / f"{safe_name(county)}.csv"
        write_csv(rows, path, bom=True)
        written.append(str(path.relative_to(run_dir)))
        kept = sorted_dir / f"{i:04d}.parquet"
        pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), kept)
        sheets[county] = partial(_with_status, [kept])
        for path, n in rows["path"].value_counts().items():
            paths[(county, str(path))] = int(n)
        if documents:
            drafts += write_documents(drafted, run_dir / "petitions", run, previous)
        del rows, drafted
    guide = {"How to use": how_to_use(paths)}
    book = write_workbook(folder / f"petitions-circuit-{safe_name(str(circ))}.xlsx", {**guide, **sheets}, counties,
                          {county: {"clerk_status": PETITION_STATUS} for county in counties})
    if book is not None:
        written.append(str(book.relative_to(run_dir)))
    shutil.rmtree(sorted_dir, ignore_errors=True)
    return written, drafts
