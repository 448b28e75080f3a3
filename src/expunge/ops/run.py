"""The nightly run as plain functions: plan -> ingest (and the delivery: shrink guard, carry-over)
-> decide -> publish -> commit.

Each stage takes the ``RunPlan`` and the small, frozen result of the stage before it (paths
and counts, never data frames), so an orchestrator (the Prefect flow in
``flows/nightly.py``) can run them as tasks and ``run_pipeline`` can run them without one. A
stage never changes an earlier stage's result, so a retried task sees what it saw the first
time. Work happens in ``OUT/.work-<run_id>/``; the finished run folder is moved into place
with one atomic rename, so a run that fails never leaves a half-written ``OUT/<run_id>/``.
A snapshot the shrink guard holds stops after ingest (``hold``): nothing is published.
"""

from __future__ import annotations

import inspect
import json
import os
import pickle
import platform
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from expunge import __version__
from expunge.decide.answers import load_answers
from expunge.decide.charges import LEDGER_COLUMNS, DecideCounts, decide_charges
from expunge.errors import DeliveryHeld, OutputExistsError
from expunge.ingest.carry import carry_over, county_counts, with_carried
from expunge.ingest.delivery import Assessment, assess
from expunge.ingest.duplicates import find_duplicates
from expunge.ingest.hashing import column_hashes
from expunge.ingest.identities import PersonIndex, write_person_index
from expunge.ingest.profiles import input_schema, load_profile
from expunge.ingest.read import IngestResult, Mapper, ingest, staging_schema
from expunge.law.rules import load_rules
from expunge.normalize.offenses import cached_descriptions, match_descriptions, not_cached, store_descriptions
from expunge.normalize.report import normalization_report
from expunge.ops import history, ledger, progress, state
from expunge.ops.runlog import failure_message, record_held, record_published, record_run
from expunge.ops.salt import Salt, resolve_salt
from expunge.ops.settings import RunPlan, RunSettings, plan_run
from expunge.ops.workers import map_local, run_apart
from expunge.publish.delta import move_latest, previous_run, write_delta
from expunge.publish.outputs import Published, PublishRequest, write_circuit, write_outputs, write_partition


@dataclass(frozen=True)
class DecidedPartition:
    """One partition once decided: its charges (with the personal fields the petitions need),
    the duplicate rows it set aside, its people conflicts, and what deciding did."""

    charges: str
    duplicates: str
    conflicts: str
    counts: DecideCounts


# --------------------------------------------------------------------------- ingest


def stage_ingest(plan: RunPlan) -> IngestResult:
    """Read the exports into staged Parquet partitions under the work folder (quarantining
    bad rows, and rows of counties outside the delivery's scope); a large file is read by
    ``plan.workers`` processes side by side. Then take the delivery in: the shrink guard
    judges a snapshot against the previous run (``result.held`` says why it must not
    publish), and the previous run's charges the delivery does not replace are staged beside
    the exports' rows (``ingest.carry``)."""
    work = plan.work_dir
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    s = plan.settings
    ingested = ingest(s.inputs, load_profile(s.profile), work / "staging", work / "quarantine.parquet",
                      partitions=plan.partitions, workers=plan.workers,
                      mapper=_ingest_mapper(plan), sha256s=plan.input_sha256,
                      scope=plan.delivery.scope)
    return take_delivery(plan, ingested)


def take_delivery(plan: RunPlan, ingested: IngestResult) -> IngestResult:
    """The shrink guard's verdict on the staged rows and, unless it holds the run, the carried
    rows; the exports' row accounting is left as ingest made it."""
    s, out = plan.settings, Path(plan.settings.out_dir)
    previous = plan.previous_run
    report = assess(Assessment(
        delivery=plan.delivery, set_by=plan.delivery_set_by, labels=[f.label for f in ingested.files],
        rows_read=ingested.rows_read, by_county=county_counts(ingested.parts, plan.work_dir / "duck"),
        previous_run=previous, previous_by_county=state.counties(out / previous) if previous else {},
        max_shrink=s.max_shrink, accept_shrink=s.accept_shrink))
    if not report.held and previous and plan.delivery.carries:
        carried = carry_over(state.files(out, previous), ingested.parts, plan.delivery, plan.partitions,
                             plan.work_dir / "carried", plan.work_dir / "duck")
        ingested = with_carried(ingested, carried)
        report = report.with_carried(carried.rows, previous)
    return replace(ingested, delivery=report)


def hold(plan: RunPlan, ingested: IngestResult) -> DeliveryHeld:
    """A held run: the work folder goes, a ``held`` line with the message and the figures goes to
    ``OUT/runs.jsonl``; returns the error to raise (nothing is published, ``latest`` stays)."""
    shutil.rmtree(plan.work_dir, ignore_errors=True)
    figures = ingested.delivery.figures() if ingested.delivery else {}
    record_held(plan.settings.out_dir, plan.run_id, plan.settings.inputs, ingested.held, figures)
    return DeliveryHeld(ingested.held, figures)


def _ingest_mapper(plan: RunPlan) -> Mapper:
    """``map_local`` in ``plan.workers`` processes, ticking the progress per byte range read."""
    def mapper(fn: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> list[Any]:
        what = "files" if len(args) == len(plan.settings.inputs) else "byte ranges"
        with progress.current().task("ingest", what, len(args), "rows") as task:
            return map_local(fn, args, plan.workers, on_done=lambda _, r: task.advance(1, r.rows_read))
    return mapper


# --------------------------------------------------------------------------- decide


def stage_people(plan: RunPlan, ingested: IngestResult) -> None:
    """Build the people index (``OUT/.work-<run>/people_index.pkl``) from the identities the
    ingest workers kept. A large export's index is built in a process of its own: the people
    of a statewide export would otherwise stay in this process's memory through decide and
    publish."""
    build = run_apart if plan.partitions > 1 and plan.workers > 1 else (lambda fn, *a: fn(*a))
    build(write_person_index, ingested.identities, plan.work_dir / "people_index.pkl")


def decide_partition(plan: RunPlan, k: int, parts: list[str]) -> DecidedPartition:
    """Normalize and decide one partition; writes ``decided/part-<k>.parquet``, its duplicates,
    its people conflicts, its piece of the ledger and of the run's state (``ops.state``)."""
    s = plan.settings
    ruleset = load_rules(plan.rules_path)
    staged = ds.dataset(parts, format="parquet").to_table() if parts else staging_schema().empty_table()
    charges = staged.to_pandas()
    hashed = column_hashes(charges[[f for f in input_schema().fields if f in charges]])
    keep, dups = find_duplicates(charges, hashed)  # the ledger's row hashes share the columns' hashes
    state.write_piece(staged.filter(pa.array(keep)), plan.work_dir, k)  # the rows the next delivery builds on
    del staged
    out = plan.work_dir / "decided"
    out.mkdir(exist_ok=True)
    duplicates = out / f"duplicates-{k:03d}.parquet"
    pq.write_table(dups, duplicates)
    charges = charges[keep].reset_index(drop=True)
    hashed = {c: h[keep] for c, h in hashed.items()}
    answers = load_answers(s.answers) if s.answers else None
    prior = ledger.load(Path(s.out_dir), plan.ledger_context, plan.partitions, k) if s.use_ledger else None
    index = _person_index(str(plan.work_dir / "people_index.pkl"))
    decided = decide_charges(charges, ruleset, plan.policies, s.day(), plan.run_id, plan.normalizer(), answers,
                             prior, index, hashed)
    conflicts = out / f"conflicts-{k:03d}.parquet"
    pq.write_table(pa.Table.from_pandas(decided.conflicts, preserve_index=False), conflicts)
    ledger.write_piece(decided.charges[list(LEDGER_COLUMNS)], plan.work_dir / "ledger", k, plan.partitions)
    path = out / f"part-{k:03d}.parquet"
    pq.write_table(pa.Table.from_pandas(decided.charges, preserve_index=False), path, compression="zstd")
    return DecidedPartition(str(path), str(duplicates), str(conflicts), decided.counts)


def _prime_descriptions(plan: RunPlan) -> bool:
    """Whether to match the night's descriptions before deciding: with several partitions,
    whose descriptions overlap, unless a usable ledger will spare most of them and there is
    no cache to keep the matches in for later nights."""
    s = plan.settings
    if plan.partitions < 2:
        return False
    return bool(s.cache_dir) or not (s.use_ledger and ledger.usable(Path(s.out_dir), plan.ledger_context))


def stage_descriptions(plan: RunPlan, ingested: IngestResult) -> int:
    """Match every distinct description of the night not yet in the description cache, once,
    split over ``plan.workers`` processes, and store them in the cache (the settings' cache
    folder, else one for this night in the work folder), so the partitions only look them
    up: without this each partition would match the descriptions it shares with the others.
    Returns how many descriptions were matched."""
    norm = plan.normalizer()
    files = [f for part in ingested.partitions for f in part]
    staged = ds.dataset(files, format="parquet") if files else None
    if staged is None or "charge_description" not in staged.schema.names:
        return 0
    column = staged.to_table(columns=["charge_description"]).column(0)
    distinct = pd.Series(pc.unique(column).to_pandas()).fillna("").astype("str").drop_duplicates()
    known = cached_descriptions(norm)
    todo = not_cached(distinct, known)
    chunks = [c for c in np.array_split(todo.to_numpy(dtype=object), max(1, plan.workers * 2)) if len(c)]
    fresh = map_local(_match_chunk, [(plan, c) for c in chunks], plan.workers if len(chunks) > 1 else 1)
    store_descriptions(norm, known, fresh)
    return len(todo)


def _match_chunk(plan: RunPlan, descriptions: np.ndarray) -> pd.DataFrame:
    return match_descriptions(pd.Series(descriptions, dtype="str"), plan.normalizer())


def _person_index(path: str) -> PersonIndex:
    """The run's people index, read once per process (a Dask worker decides many partitions);
    keyed by the file's identity, so a later run reusing the same work folder reads its own."""
    st = os.stat(path)
    return _read_person_index(path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=1)
def _read_person_index(path: str, _mtime_ns: int, _size: int) -> PersonIndex:
    with open(path, "rb") as fh:
        return pickle.load(fh)


@contextmanager
def _timed(plan: RunPlan, step: str) -> Iterator[None]:
    """Record how long ``step`` took in the work folder; the manifest lists every step."""
    t = time.perf_counter()
    yield
    with (plan.work_dir / "steps.jsonl").open("a") as fh:
        fh.write(json.dumps({step: round(time.perf_counter() - t, 3)}) + "\n")


def _steps(plan: RunPlan) -> dict[str, float]:
    path = plan.work_dir / "steps.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return {k: v for line in lines for k, v in json.loads(line).items()}


def stage_decide(plan: RunPlan, ingested: IngestResult) -> list[DecidedPartition]:
    """Index the people, then decide every partition (in ``plan.workers`` processes here, or
    on a Dask cluster when the settings' runner is ``dask``), in partition order."""
    parts = ingested.partitions
    with progress.current().task("decide", "partitions", len(parts)) as task:
        def done(_: int, d: DecidedPartition) -> None:
            task.advance(1, d.counts.charges_reused + d.counts.charges_decided)

        with _timed(plan, "people_index"):
            stage_people(plan, ingested)
        if _prime_descriptions(plan):
            with _timed(plan, "descriptions"):
                stage_descriptions(plan, ingested)
        with _timed(plan, "decide_partitions"):
            if plan.settings.runner == "dask":
                from expunge.ops.workers import map_on_dask

                return map_on_dask(decide_partition, plan, parts, plan.settings.dask_address, on_done=done)
            return map_local(decide_partition, [(plan, k, p) for k, p in enumerate(parts)], plan.workers,
                             on_done=done)


# --------------------------------------------------------------------------- publish


def stage_publish(plan: RunPlan, ingested: IngestResult, decided: list[DecidedPartition],
                  times: dict[str, float] | None = None) -> str:
    """Publish the run, in named steps: write the outputs, merge the quarantine, check that
    every row is accounted for, write the manifest, then commit the run folder."""
    t0 = time.perf_counter()
    build = plan.work_dir / plan.run_id
    # The salt (EXPUNGE_SALT, the installation's salt file, or the demo's) is read here, at
    # publish time: it is never part of the plan or the Prefect parameters, and the manifest
    # has only its source and fingerprint.
    salt = resolve_salt(plan.settings.out_dir, plan.input_sha256, plan.settings.demo)
    steps: dict[str, float] = {}
    with progress.current().task("publish", "partitions", len(decided)) as task:
        published = publish_outputs(plan, decided, build, salt.value, steps, task)
        ingested = merge_quarantine(ingested, decided, build)
        check_accounting(ingested, published)
        stage_times = {**(times or {}), "publish": round(time.perf_counter() - t0, 3),
                       "steps": {**_steps(plan), **steps},
                       "matching_within_decide": round(sum(d.counts.matching_seconds for d in decided), 3)}
        write_manifest(plan, ingested, decided, published, stage_times, salt, build)
        return commit(plan, ingested, build, published.history)


def publish_outputs(plan: RunPlan, decided: list[DecidedPartition], build: Path, salt: str | None,
                    steps: dict[str, float], task: progress.Task | None = None) -> Published:
    """Every output file of the run, written into ``build`` (the run folder in the making);
    ``task``: the stage's progress, ticked per partition written (and its reporter told of
    each circuit's petitions and each step)."""
    s = plan.settings
    ruleset = load_rules(plan.rules_path)
    request = PublishRequest(as_of=s.as_of, rules=f"{ruleset.name} v{ruleset.version}", rules_path=plan.rules_path,
                             policies=plan.policies, suppress_below=s.suppress_below, documents=s.documents,
                             conflict_files=tuple(d.conflicts for d in decided),
                             previous=_previous(plan), history=str(history.path(s.out_dir)))
    workers = plan.workers if len(decided) > 1 else 1  # a small export: no processes to start
    if task is None:
        return write_outputs([d.charges for d in decided], build, request, salt, partial(map_local, workers=workers),
                             steps)
    reporter = task.reporter
    return write_outputs([d.charges for d in decided], build, request, salt,
                         _publish_mapper(decided, task, workers), steps,
                         lambda name, seconds: reporter.note("publish", f"{name} done, {seconds:,.1f} s"))


def _publish_mapper(decided: list[DecidedPartition], task: progress.Task, workers: int) -> Mapper:
    """``map_local`` for publishing, ticking ``task`` per partition written (its charges), and
    a task of its own per circuit's petitions written (their rows)."""
    charges = [d.counts.charges_reused + d.counts.charges_decided for d in decided]

    def mapper(fn: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> list[Any]:
        if fn is write_partition:
            return map_local(fn, args, workers, on_done=lambda i, _: task.advance(1, charges[i]))
        circuits = fn is write_circuit
        rows = [sum(inspect.signature(fn).bind(*a).arguments["counties"].values()) if circuits else 0 for a in args]
        with task.reporter.task("publish", "circuits" if circuits else fn.__name__, len(args),
                                "petition rows" if circuits else "rows") as step:
            return map_local(fn, args, workers, on_done=lambda i, _: step.advance(1, rows[i]))
    return mapper


def _previous(plan: RunPlan) -> str | None:
    previous = previous_run(Path(plan.settings.out_dir), plan.run_id)
    return str(previous) if previous is not None else None


def merge_quarantine(ingested: IngestResult, decided: list[DecidedPartition], build: Path) -> IngestResult:
    """Write ``quarantine.parquet``: the rows ingest could not read and the duplicates deciding
    set aside, by file and line; returns the ingest accounting with the duplicates moved over."""
    dups = pa.concat_tables([pq.read_table(d.duplicates) for d in decided])
    schema = pq.read_schema(ingested.quarantine_path)
    quarantine = pa.concat_tables([pq.read_table(ingested.quarantine_path), dups.cast(schema)])
    quarantine = quarantine.sort_by([("source_file", "ascending"), ("source_line", "ascending")])
    pq.write_table(quarantine, build / "quarantine.parquet", compression="zstd")
    moved = dups.column("source_file").to_pandas().value_counts()
    return ingested.with_duplicates_quarantined({str(k): int(v) for k, v in moved.items()})


def check_accounting(ingested: IngestResult, published: Published) -> None:
    """Every row read is a published charge or a quarantined row, exactly once; the other
    charges are the ones carried over from the previous run.

    Raises:
        RuntimeError: a row went missing or was counted twice; nothing is published.
    """
    accounted = ingested.rows_ok + ingested.rows_quarantined
    if accounted != ingested.rows_read or published.charges != ingested.rows_ok + ingested.carried:
        raise RuntimeError(
            f"Row accounting failed: read {ingested.rows_read}, charges {published.charges}, "
            f"quarantined {ingested.rows_quarantined}, carried over {ingested.carried}. Nothing was published."
        )


def write_manifest(plan: RunPlan, ingested: IngestResult, decided: list[DecidedPartition], published: Published,
                   times: dict[str, Any], salt: Salt | None, build: Path) -> None:
    """``manifest.json``: what the run read, decided and wrote, with the delta since the last
    published run (the manifest is complete before the delta is computed from the outputs)."""
    manifest = build_manifest(plan, ingested, decided, published, times, salt)
    manifest["delta"] = write_delta(published.rollups.con, Path(plan.settings.out_dir), build)
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")


def commit(plan: RunPlan, ingested: IngestResult, build: Path, staged_history: str | None = None) -> str:
    """Make the run folder public: personal files owner-only, the run's state saved
    (``OUT/state/<run_id>/``), one atomic rename into place, ``latest`` moved, the ledger
    saved, tonight's delivery history (``staged_history``) put in place (``ops.history``),
    the work folder removed; returns the run folder."""
    _restrict_personal(build)
    final = plan.run_dir
    if final.exists():
        if not plan.settings.overwrite:
            raise OutputExistsError(
                f"The run folder {final} appeared while this run was working; nothing was replaced.")
        os.replace(final, plan.work_dir / "previous")
    state.save(plan.settings.out_dir, plan.work_dir, plan.run_id,
               ingested.delivery.figures() if ingested.delivery else None)  # before latest moves
    os.replace(build, final)
    move_latest(Path(plan.settings.out_dir), final)  # only after the run folder is complete
    ledger.save(Path(plan.settings.out_dir), plan.work_dir / "ledger", plan.ledger_context, plan.run_id,
                [(f.sha256, f.label) for f in ingested.files])
    if staged_history:
        history.install(plan.settings.out_dir, Path(staged_history))
    shutil.rmtree(plan.work_dir, ignore_errors=True)
    return str(final)


def _summed(counts: list[DecideCounts], *names: str) -> dict[str, int]:
    return {name: sum(int(getattr(c, name)) for c in counts) for name in names}


def _restrict_personal(run_dir: Path) -> None:
    """Files holding personal data are readable by their owner only."""
    for path in [run_dir / "quarantine.parquet", run_dir / "people_conflicts.csv",
                 *(run_dir / "petitions").rglob("*.*"), *(run_dir / "worklists").rglob("*.*")]:
        if path.exists():
            path.chmod(0o600)


def build_manifest(plan: RunPlan, ingested: IngestResult, decided: list[DecidedPartition], published: Published,
                   times: dict[str, Any], salt: Salt | None) -> dict[str, Any]:
    """The manifest's contents (no personal data; of the salt only its source and fingerprint)."""
    s = plan.settings
    ruleset = load_rules(plan.rules_path)
    profile = load_profile(s.profile)
    counts = [d.counts for d in decided]
    every = published.rollups
    duplicates = sum(pq.read_metadata(d.duplicates).num_rows for d in decided)
    previous = _previous(plan)
    manifest: dict[str, Any] = {
        "run_id": plan.run_id,
        "as_of": s.as_of,
        "created_at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        "code_version": __version__,
        "inputs": [
            {"path": f.path, "file": f.label, "sha256": f.sha256, "bytes": f.bytes,
             "compressed": f.compressed, "rows_read": f.rows_read, "rows_ok": f.rows_ok,
             "rows_quarantined": f.rows_quarantined, "blank_lines": f.blank_lines,
             "columns": f.columns, "unmapped_columns": f.unmapped_columns,
             "missing_fields": f.missing_fields}
            for f in ingested.files
        ],
        "rows": {
            "read": ingested.rows_read, "charges": published.charges,
            "quarantined": ingested.rows_quarantined, "carried_over": ingested.carried,
            "accounting_holds": ingested.rows_read == published.charges - ingested.carried
                                + ingested.rows_quarantined,
            "duplicates_quarantined": duplicates,
        },
        "delivery": ingested.delivery.figures() if ingested.delivery else None,
        "ruleset": {"name": ruleset.name, "version": ruleset.version, "sha256": ruleset.sha256,
                    "path": ruleset.path},
        "policies": plan.policies,
        "profile": {"name": profile.name, "source": profile.source, "encoding": profile.encoding,
                    "delimiter": profile.delimiter, "date_formats": list(profile.date_formats)},
        "normalizer": plan.normalizer().manifest(),
        "normalization": normalization_report(every.con),
        "small_cell_suppression_below": s.suppress_below,
        "disclosure": {"below": s.suppress_below, "audited_with_run": Path(previous).name if previous else None,
                       "tables": every.disclosure},
        "determinations": published.by_determination,
        "delivery_gap": published.gap,
        "outputs": {"charges": "charges/", "cases": "cases.parquet", "review_queue": "review_queue.csv",
                    "review_queue_rows": published.review_queue, "petitions": published.petition_files,
                    "quarantine": "quarantine.parquet", "summary": "summary/",
                    "worklists": "worklists/" if (plan.work_dir / plan.run_id / "worklists").is_dir() else None,
                    "analytics": "analytics/" if published.analytics else None, "documents": published.documents,
                    "documents_carried": published.documents_carried},
        "analytics_salt": salt.manifest() if salt else None,
        "warnings": list(ingested.warnings),
        "timings_seconds": times,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "answers": {"store": s.answers, **{k.removeprefix("answers_"): v for k, v in
                                           _summed(counts, "answers_applied", "answers_stale").items()}},
        "people": {"by_link": dict(sorted(every.value_counts("person_link"))),
                   "conflicts": published.people_conflicts},
        "ledger": {**_summed(counts, "charges_reused", "charges_decided"),
                   # partitions whose every charge took its decision from the ledger
                   "partitions_reused": sum(c.charges_decided == 0 < c.charges_reused for c in counts)},
        "partitions": len(decided),
    }
    return manifest


# --------------------------------------------------------------------------- the whole run


def run_planned(plan: RunPlan) -> Path:
    """Ingest, decide and publish a planned run without an orchestrator; returns the run
    folder. On failure the work folder goes and the run log says why.

    Raises:
        DeliveryHeld: the shrink guard held the snapshot (a ``held`` line says why).
    """
    times: dict[str, float] = {}
    t = time.perf_counter()
    try:
        ingested = stage_ingest(plan)
        if ingested.held:
            raise hold(plan, ingested)
        times["ingest"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        decided = stage_decide(plan, ingested)
        times["decide"] = round(time.perf_counter() - t, 3)
        run_dir = Path(stage_publish(plan, ingested, decided, times))
    except DeliveryHeld:
        raise
    except BaseException as exc:
        shutil.rmtree(plan.work_dir, ignore_errors=True)
        record_run(plan.settings.out_dir, "failed", plan.run_id, plan.settings.inputs, failure_message(exc))
        raise
    record_published(run_dir)
    return run_dir


def run_pipeline(inputs: list[str | Path] | tuple[str | Path, ...] | RunSettings, out_dir: str | Path | None = None,
                 as_of: date | str | None = None, **options: Any) -> Path:
    """Run the whole pipeline without an orchestrator and return the run folder.

    Takes ``RunSettings``, or the inputs, output folder and as-of date with any other
    setting of ``RunSettings`` as a keyword (``run_id``, ``rules``, ``policies``,
    ``partitions``, ``workers``, ``runner``...).

    Example:
        >>> run_pipeline(["sample_data/mo_charges_sample.csv"], "out", date(2026, 11, 27))  # doctest: +SKIP
    """
    if isinstance(inputs, RunSettings):
        settings = inputs
    else:
        if out_dir is None or as_of is None:
            raise TypeError("run_pipeline needs the inputs, the output folder and the as-of date (or RunSettings)")
        settings = RunSettings.of(inputs, out_dir, as_of, **options)
    return run_planned(plan_run(settings))

