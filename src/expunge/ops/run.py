"""The nightly pipeline as plain functions: plan -> ingest -> decide -> publish.

Each stage takes and returns small values (paths, counts), so an orchestrator (the Prefect
flow in ``flows/nightly.py``) can run them as tasks, and ``run_pipeline`` can run them
without one. Work happens in ``OUT/.work-<run_id>/``; the finished run folder is moved
into place with one atomic rename, so a run that fails never leaves a half-written
``OUT/<run_id>/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import platform
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from expunge import __version__
from expunge.decide.answers import load_answers
from expunge.decide.charges import LEDGER_COLUMNS, decide_charges
from expunge.errors import ExpungeError, InputFileError, OutputExistsError
from expunge.ingest import partition
from expunge.ingest.duplicates import find_duplicates
from expunge.ingest.hashing import column_hashes
from expunge.ingest.identities import PersonIndex, write_person_index
from expunge.ingest.profiles import input_schema, load_profile
from expunge.ingest.read import IngestResult, ingest, preflight, sha256_file, staging_schema
from expunge.law.rules import load_rules
from expunge.normalize.offenses import Normalizer
from expunge.ops import ledger
from expunge.ops.workers import map_local, run_apart
from expunge.publish.delta import move_latest, write_delta
from expunge.publish.rollups import DEFAULT_SUPPRESS_BELOW, normalization_report

SALT_ENV = "EXPUNGE_SALT"


@dataclass(frozen=True)
class RunPlan:
    """Everything a run needs, fixed before any row is read."""

    inputs: tuple[str, ...]
    input_sha256: tuple[str, ...]
    out_dir: str
    run_id: str
    as_of: str
    rules_path: str
    rules_sha256: str
    profile_path: str | None
    policies: dict[str, str]
    suppress_below: int
    overwrite: bool
    charge_codes: str | None = None
    crosswalk: str | None = None
    cache_dir: str | None = None
    answers: str | None = None
    ledger_context: str = ""
    use_ledger: bool = True
    partitions: int = 1
    documents: bool = True
    workers: int = 1

    def normalizer(self) -> Normalizer:
        return Normalizer.build(self.charge_codes, self.crosswalk, cache_dir=self.cache_dir)

    @property
    def run_dir(self) -> Path:
        return Path(self.out_dir) / self.run_id

    @property
    def work_dir(self) -> Path:
        return Path(self.out_dir) / f".work-{self.run_id}"


def plan_run(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    as_of: date,
    run_id: str | None = None,
    rules: str | Path | None = None,
    profile: str | Path | None = None,
    policies: dict[str, str] | None = None,
    suppress_below: int = DEFAULT_SUPPRESS_BELOW,
    overwrite: bool = False,
    charge_codes: str | Path | None = None,
    crosswalk: str | Path | None = None,
    cache_dir: str | Path | None = None,
    answers: str | Path | None = None,
    use_ledger: bool = True,
    partitions: int | None = None,
    documents: bool = True,
    workers: int | None = None,
) -> RunPlan:
    """Validate the run's inputs and settings and fix its id.

    The default run id is the as-of date plus a hash of the inputs, rule file, profile and
    policies: the same inputs give the same id (and the same outputs). ``workers``: processes
    that read a large export and decide and write partitions side by side (default: one per
    CPU); it changes how fast, never what is written.

    Raises:
        InputFileError, ProfileError, RuleFileError: a setting or file is unusable.
        OutputExistsError: the run folder exists and ``overwrite`` is False.
    """
    if not inputs:
        raise InputFileError("No input files were given. Name one or more export files (CSV or .csv.gz).")
    ruleset = load_rules(rules)
    chosen = ruleset.resolve_policies(policies)
    prof = load_profile(profile)
    norm = Normalizer.build(charge_codes, crosswalk)  # validates both files
    if answers is not None:
        load_answers(answers)  # validates the store before any work
    shas = []
    input_bytes = 0
    for item in inputs:
        p = Path(item)
        preflight(p, prof)  # missing, folder, empty, unreadable header, unrecognised columns
        shas.append(sha256_file(p))
        input_bytes += p.stat().st_size * (6 if p.suffix.lower() == ".gz" else 1)
    partitions = partitions or partition.choose_partitions(input_bytes)
    if run_id is None:
        h = hashlib.sha256()
        for part in (*shas, ruleset.sha256, repr(prof), json.dumps(chosen, sort_keys=True),
                     norm.reference.version, norm.crosswalk.sha256 if norm.crosswalk else "", __version__,
                     sha256_file(Path(answers)) if answers else "",
                     str(suppress_below), str(partitions), str(documents)):
            h.update(part.encode())
        run_id = f"{as_of.isoformat()}-{h.hexdigest()[:10]}"
    context = ledger.context_key([
        ruleset.sha256, json.dumps(chosen, sort_keys=True), json.dumps(norm.manifest(), sort_keys=True),
        sha256_file(Path(charge_codes)) if charge_codes else "", __version__, pd.__version__, pa.__version__])
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise InputFileError(f"Run id {run_id!r} cannot name a folder; use letters, digits and dashes.")
    plan = RunPlan(
        inputs=tuple(str(Path(p)) for p in inputs), input_sha256=tuple(shas), out_dir=str(out_dir),
        run_id=run_id, as_of=as_of.isoformat(), rules_path=ruleset.path, rules_sha256=ruleset.sha256,
        profile_path=str(profile) if profile else None, policies=chosen,
        suppress_below=suppress_below, overwrite=overwrite,
        charge_codes=str(charge_codes) if charge_codes else None, crosswalk=str(crosswalk) if crosswalk else None,
        cache_dir=str(cache_dir) if cache_dir else None, answers=str(answers) if answers else None,
        ledger_context=context, use_ledger=use_ledger,
        partitions=partitions, documents=documents, workers=max(1, workers or os.cpu_count() or 1),
    )
    if plan.run_dir.exists() and not overwrite:
        raise OutputExistsError(
            f"The run folder {plan.run_dir} exists already (same inputs, rules and as-of date). "
            "Its outputs are still valid; pass --overwrite to write it again, or --run-id to write a new one."
        )
    return plan


def stage_ingest(plan: RunPlan) -> IngestResult:
    """Read the exports into staged Parquet partitions under the work folder (quarantining
    bad rows); a large file is read by ``plan.workers`` processes side by side."""
    work = plan.work_dir
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    return ingest(plan.inputs, load_profile(plan.profile_path), work / "staging", work / "quarantine.parquet",
                  partitions=plan.partitions, workers=plan.workers,
                  mapper=partial(map_local, workers=plan.workers), sha256s=plan.input_sha256)


def stage_people(plan: RunPlan, ingested: IngestResult) -> None:
    """Build the people index (``OUT/.work-<run>/people_index.pkl``) from the identities the
    ingest workers kept. A large export's index is built in a process of its own: the people
    of a statewide export would otherwise stay in this process's memory through decide and
    publish."""
    build = run_apart if plan.partitions > 1 and plan.workers > 1 else (lambda fn, *a: fn(*a))
    build(write_person_index, ingested.identities, plan.work_dir / "people_index.pkl")


def decide_partition(plan: RunPlan, k: int, parts: list[str]) -> str:
    """Normalize and decide one partition; writes ``decided/part-<k>.parquet`` (with the
    personal fields the petitions need), its duplicates, people conflicts and counts."""
    ruleset = load_rules(plan.rules_path)
    if parts:
        charges = ds.dataset(parts, format="parquet").to_table().to_pandas()
    else:
        charges = staging_schema().empty_table().to_pandas()
    hashed = column_hashes(charges[[f for f in input_schema().fields if f in charges]])
    keep, dups = find_duplicates(charges, hashed)  # the ledger's row hashes share the columns' hashes
    out = plan.work_dir / "decided"
    out.mkdir(exist_ok=True)
    pq.write_table(dups, out / f"duplicates-{k:03d}.parquet")
    charges = charges[keep].reset_index(drop=True)
    hashed = {c: h[keep] for c, h in hashed.items()}
    answers = load_answers(plan.answers) if plan.answers else None
    prior = ledger.load(Path(plan.out_dir), plan.ledger_context, plan.partitions, k) if plan.use_ledger else None
    index = _person_index(str(plan.work_dir / "people_index.pkl"))
    decided = decide_charges(charges, ruleset, plan.policies, date.fromisoformat(plan.as_of), plan.run_id,
                             plan.normalizer(), answers, prior, index, hashed)
    side = decided.attrs
    decided.attrs = {}  # never into Parquet metadata: the conflicts hold names
    pq.write_table(pa.Table.from_pandas(side["people_conflicts"], preserve_index=False),
                   out / f"conflicts-{k:03d}.parquet")
    ledger.write_piece(decided[list(LEDGER_COLUMNS)], plan.work_dir / "ledger", k, plan.partitions)
    meta = {key: side[key] for key in ("answers", "ledger", "as_of", "rules", "matching_seconds")}
    (out / f"meta-{k:03d}.json").write_text(json.dumps(meta))
    path = out / f"part-{k:03d}.parquet"
    pq.write_table(pa.Table.from_pandas(decided, preserve_index=False), path, compression="zstd")
    return str(path)


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


def stage_decide(plan: RunPlan, ingested: IngestResult, runner: str = "local", address: str | None = None) -> list[str]:
    """Index the people, then decide every partition (in ``plan.workers`` processes here, or
    on a Dask cluster with ``runner="dask"``); returns the decided partitions' paths in order."""
    with _timed(plan, "people_index"):
        stage_people(plan, ingested)
    parts = ingested.partitions
    with _timed(plan, "decide_partitions"):
        if runner == "dask":
            from expunge.ops.workers import map_on_dask

            return map_on_dask(decide_partition, plan, parts, address)
        return map_local(decide_partition, [(plan, k, p) for k, p in enumerate(parts)], plan.workers)


def stage_publish(plan: RunPlan, ingested: IngestResult, decided_paths: list[str],
                  times: dict[str, float] | None = None) -> str:
    """Write all outputs and the manifest, then move the run folder into place atomically."""
    from expunge.publish.outputs import write_outputs
    from expunge.publish.whatif import report_readings

    t0 = time.perf_counter()
    build = plan.work_dir / plan.run_id
    folder = plan.work_dir / "decided"
    metas = [json.loads((folder / f"meta-{k:03d}.json").read_text()) for k in range(len(decided_paths))]
    conflicts = sorted(folder.glob("conflicts-*.parquet"))
    # Read only when the conflict list is written: at 10 M charges the rows take ~190 MB, which
    # would otherwise sit in this process while the partitions are published.
    side = {"as_of": plan.as_of, "rules": metas[0]["rules"],
            "conflicts": lambda: pd.concat([pq.read_table(p).to_pandas() for p in conflicts], ignore_index=True),
            "readings": partial(report_readings, as_of=plan.as_of, policies=plan.policies, rules=plan.rules_path)}
    # The operator's salt comes from the environment at publish time only: it is never part
    # of the plan, the Prefect parameters or the manifest.
    salt = os.environ.get(SALT_ENV) or None
    workers = plan.workers if len(decided_paths) > 1 else 1  # a small export: no processes to start
    counts = write_outputs(decided_paths, build, plan.suppress_below, salt, side, plan.documents,
                           partial(map_local, workers=workers), steps := {})
    every = counts.pop("rollups")
    dups = pa.concat_tables([pq.read_table(p) for p in sorted(folder.glob("duplicates-*.parquet"))])
    quarantine = pa.concat_tables([pq.read_table(ingested.quarantine_path), dups.cast(
        pq.read_schema(ingested.quarantine_path))])
    quarantine = quarantine.sort_by([("source_file", "ascending"), ("source_line", "ascending")])
    pq.write_table(quarantine, build / "quarantine.parquet", compression="zstd")
    duplicates = dups.num_rows
    moved = dups.column("source_file").to_pandas().value_counts()
    for f in ingested.files:  # duplicates leave the charges for the quarantine
        f.rows_ok -= int(moved.get(f.label, 0))
        f.rows_quarantined += int(moved.get(f.label, 0))
    accounted = ingested.rows_ok + ingested.rows_quarantined
    if accounted != ingested.rows_read or counts["charges"] != ingested.rows_ok:
        raise RuntimeError(
            f"Row accounting failed: read {ingested.rows_read}, charges {counts['charges']}, "
            f"quarantined {ingested.rows_quarantined}. Nothing was published."
        )
    stage_times = dict(times or {})
    stage_times["publish"] = round(time.perf_counter() - t0, 3)
    stage_times["steps"] = {**_steps(plan), **steps}
    stage_times["matching_within_decide"] = round(sum(m["matching_seconds"] for m in metas), 3)
    report = normalization_report(every)
    manifest = build_manifest(plan, ingested, counts, stage_times, report)
    manifest["answers"] = {"store": plan.answers, **_summed([m["answers"] for m in metas])}
    manifest["people"] = {"by_link": dict(sorted(every.value_counts("person_link"))),
                          "conflicts": counts["people_conflicts"]}
    manifest["rows"]["duplicates_quarantined"] = duplicates
    manifest["ledger"] = _summed([m["ledger"] for m in metas])
    manifest["partitions"] = len(decided_paths)
    manifest["outputs"]["analytics"] = "analytics/" if salt else None
    manifest["outputs"]["documents"] = counts["documents"]
    if not salt:
        manifest["warnings"].append(f"analytics/ was not written: set {SALT_ENV} to a secret salt to write the "
                                    "de-identified dataset.")
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    manifest["delta"] = write_delta(every.con, Path(plan.out_dir), build)
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    _restrict_personal(build)
    final = plan.run_dir
    if final.exists():
        if not plan.overwrite:
            raise OutputExistsError(
                f"The run folder {final} appeared while this run was working; nothing was replaced.")
        trash = plan.work_dir / "previous"
        os.replace(final, trash)
    os.replace(build, final)
    move_latest(Path(plan.out_dir), final)  # only after the run folder is complete
    ledger.save(Path(plan.out_dir), plan.work_dir / "ledger", plan.ledger_context, plan.run_id,
                [(f.sha256, f.label) for f in ingested.files])
    shutil.rmtree(plan.work_dir, ignore_errors=True)
    return str(final)


def _summed(dicts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + int(v)
    return out


def _restrict_personal(run_dir: Path) -> None:
    """Files holding personal data are readable by their owner only."""
    for path in [run_dir / "quarantine.parquet", run_dir / "people_conflicts.csv",
                 *(run_dir / "petitions").rglob("*.*")]:
        if path.exists():
            path.chmod(0o600)


def build_manifest(plan: RunPlan, ingested: IngestResult, counts: dict[str, Any],
                   times: dict[str, float], normalization: dict[str, Any]) -> dict[str, Any]:
    ruleset = load_rules(plan.rules_path)
    profile = load_profile(plan.profile_path)
    return {
        "run_id": plan.run_id,
        "as_of": plan.as_of,
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
            "read": ingested.rows_read, "charges": counts["charges"],
            "quarantined": ingested.rows_quarantined,
            "accounting_holds": ingested.rows_read == counts["charges"] + ingested.rows_quarantined,
        },
        "ruleset": {"name": ruleset.name, "version": ruleset.version, "sha256": ruleset.sha256,
                    "path": ruleset.path},
        "policies": plan.policies,
        "profile": {"name": profile.name, "source": profile.source, "encoding": profile.encoding,
                    "delimiter": profile.delimiter, "date_formats": list(profile.date_formats)},
        "normalizer": plan.normalizer().manifest(),
        "normalization": normalization,
        "small_cell_suppression_below": plan.suppress_below,
        "determinations": counts["by_determination"],
        "outputs": {"charges": "charges/", "cases": "cases.parquet", "review_queue": "review_queue.csv",
                    "review_queue_rows": counts["review_queue"], "petitions": counts["petition_files"],
                    "quarantine": "quarantine.parquet", "summary": "summary/"},
        "warnings": list(ingested.warnings),
        "timings_seconds": times,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }


RUN_LOG = "runs.jsonl"


def record_run(out_dir: str | Path, status: str, run_id: str | None, inputs: Sequence[str | Path],
               message: str = "", **counts: Any) -> dict[str, Any]:
    """Append one line to ``OUT/runs.jsonl``: when, which run, which inputs, what happened
    (``published``, ``failed``, ``skipped``) and, for a failure, the message a clerk reads.
    Input files are named, never their contents."""
    entry = {"at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"), "status": status, "run_id": run_id,
             "inputs": [str(p) for p in inputs], "message": message, **counts}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with (out / RUN_LOG).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
    return entry


def failure_message(exc: BaseException) -> str:
    """What a clerk reads about a failed run: the library's own message for a problem they can
    fix, else what failed and that nothing was published."""
    if isinstance(exc, ExpungeError):
        return str(exc)
    return (f"The run stopped ({type(exc).__name__}: {exc}). Nothing was published and the previous results "
            "are untouched; fix the cause and run again (the run can be repeated safely).")


def run_pipeline(inputs: Sequence[str | Path], out_dir: str | Path, as_of: date, *args: Any, runner: str = "local",
                 dask_address: str | None = None, **options: Any) -> Path:
    """Run the whole pipeline without an orchestrator and return the run folder.

    Takes the arguments of ``plan_run`` (``run_id``, ``rules``, ``profile``, ``policies``,
    ``suppress_below``, ``overwrite``, ``charge_codes``, ``crosswalk``, ``cache_dir``,
    ``answers``, ``use_ledger``, ``partitions``, ``documents``, ``workers``); ``runner="dask"`` decides
    the partitions on the Dask cluster at ``dask_address`` (a local one when None).

    Example:
        >>> run_pipeline(["sample_data/mo_charges_sample.csv"], "out", date(2026, 11, 27))  # doctest: +SKIP
    """
    times: dict[str, float] = {}
    t = time.perf_counter()
    plan = plan_run(inputs, out_dir, as_of, *args, **options)
    try:
        ingested = stage_ingest(plan)
        times["ingest"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        decided = stage_decide(plan, ingested, runner, dask_address)
        times["decide"] = round(time.perf_counter() - t, 3)
        run_dir = Path(stage_publish(plan, ingested, decided, times))
    except BaseException as exc:
        shutil.rmtree(plan.work_dir, ignore_errors=True)
        record_run(out_dir, "failed", plan.run_id, plan.inputs, failure_message(exc))
        raise
    record_published(run_dir)
    return run_dir


def record_published(run_dir: Path) -> dict[str, Any]:
    """The run-log line of a published run, with its counts (no personal data)."""
    m = json.loads((run_dir / "manifest.json").read_text())
    return record_run(run_dir.parent, "published", m["run_id"], [i["path"] for i in m["inputs"]],
                      rows_read=m["rows"]["read"], quarantined=m["rows"]["quarantined"],
                      determinations=m["determinations"], changes=m.get("delta", {}).get("changes"))

