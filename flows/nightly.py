"""The nightly batch as a Prefect flow: plan -> ingest -> decide -> publish.

Each task is one call into ``expunge.pipeline``; tasks pass file paths and small reports,
never data frames (STACK_NOTES.md: hashing or shipping frames costs seconds and can break
a run). Retries cover transient I/O in ingest. The run summary becomes a markdown
artifact with counts only, never personal data.
"""

from __future__ import annotations

import time
from datetime import date

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

import flows.settings  # noqa: F401  (must precede the Prefect import)
from expunge import pipeline
from expunge.ingest import IngestResult


@task(name="ingest", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def ingest_task(plan: pipeline.RunPlan) -> IngestResult:
    return pipeline.stage_ingest(plan)


@task(name="decide", cache_policy=NO_CACHE)
def decide_task(plan: pipeline.RunPlan, ingested: IngestResult) -> str:
    return pipeline.stage_decide(plan, ingested)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(plan: pipeline.RunPlan, ingested: IngestResult, decided_path: str,
                 times: dict[str, float]) -> str:
    return pipeline.stage_publish(plan, ingested, decided_path, times)


def summary_markdown(run_dir: str) -> str:
    """Counts per determination and row accounting; no names, no case numbers."""
    import json
    from pathlib import Path

    m = json.loads((Path(run_dir) / "manifest.json").read_text())
    lines = [f"# expunge run {m['run_id']}", "", f"As of **{m['as_of']}**, rules {m['ruleset']['name']} "
             f"v{m['ruleset']['version']}.", "", "| measure | charges |", "| --- | ---: |",
             f"| rows read | {m['rows']['read']:,} |", f"| quarantined | {m['rows']['quarantined']:,} |"]
    lines += [f"| {k} | {v:,} |" for k, v in sorted(m["determinations"].items())]
    return "\n".join(lines) + "\n"


@flow(name="expunge-nightly", log_prints=True)
def nightly_batch(
    inputs: list[str],
    out_dir: str,
    as_of: str,
    run_id: str | None = None,
    rules: str | None = None,
    profile: str | None = None,
    policies: dict[str, str] | None = None,
    suppress_below: int = 10,
    overwrite: bool = False,
    charge_codes: str | None = None,
    crosswalk: str | None = None,
    cache_dir: str | None = None,
    answers: str | None = None,
) -> str:
    """Decide every charge of the exports and publish a run folder; returns its path."""
    plan = pipeline.plan_run(inputs, out_dir, date.fromisoformat(as_of), run_id, rules, profile,
                             policies, suppress_below, overwrite, charge_codes, crosswalk, cache_dir,
                             answers)
    times: dict[str, float] = {}
    try:
        t = time.perf_counter()
        ingested = ingest_task(plan)
        times["ingest"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        decided = decide_task(plan, ingested)
        times["decide"] = round(time.perf_counter() - t, 3)
        run_dir = publish_task(plan, ingested, decided, times)
    except BaseException:
        import shutil

        shutil.rmtree(plan.work_dir, ignore_errors=True)
        raise
    create_markdown_artifact(key="expunge-run-summary", markdown=summary_markdown(run_dir),
                             description="Counts per determination (no personal data)")
    return run_dir


def run_nightly(*args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    """Run the flow and return the run folder (used by ``expunge run``)."""
    return nightly_batch(*args, **kwargs)
