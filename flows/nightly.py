"""The nightly batch as Prefect flows: plan -> ingest -> decide -> publish.

* ``expunge-nightly`` (``nightly_batch``) decides the exports it is given.
* ``expunge-inbox`` (``nightly_inbox``) decides whatever new exports arrived in an inbox
  folder; re-delivered exports are logged and skipped. Each new export is read on its own
  first: one that cannot be read is left out with the clerk's reason (a log line, a
  ``skipped`` line in ``OUT/runs.jsonl``, the summary artifact and the final state's
  message) and the others publish; a night none of whose new exports can be read fails.
  ``serve_nightly`` registers it as a scheduled deployment on a local Prefect server
  (``expunge serve``).

Each task is one call into ``expunge.ops.run``; tasks pass file paths and small reports,
never data frames (STACK_NOTES.md: hashing or shipping frames costs seconds and can break
a run). Retries cover transient I/O in ingest. The run summary becomes a markdown
artifact with counts only, never personal data. A failed run leaves no run folder, a
``failed`` line with the clerk's message in ``OUT/runs.jsonl``, and a Failed state with
the same message in the Prefect UI. A known input problem (``expunge.errors``) ends the flow
run Failed with the clerk's message and no traceback in the log (the flow returns the Failed
state rather than raising; calling the flow still raises the library's error); anything
else is raised as it is, traceback and all. Every flow run logs the Prefect settings it
runs under (home, API, start-up timeout, analytics).
A snapshot the shrink guard holds publishes nothing
either: a ``held`` line, a markdown artifact with the figures, and a Failed state named
"Held" with the message (so it is seen, and failure notifications fire), until it is run
again with ``accept_shrink``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from datetime import date
from pathlib import Path

import flows.settings  # noqa: F401  (sets Prefect's home, analytics and start-up timeout: before Prefect loads)

# isort: split
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext, TaskRunContext
from prefect.logging.handlers import APILogHandler
from prefect.schedules import Cron
from prefect.settings import get_current_settings
from prefect.states import Completed, Failed, State

from expunge.errors import ExpungeError, InputFileError
from expunge.ingest.delivery import DEFAULT_MAX_SHRINK
from expunge.ingest.profiles import load_profile
from expunge.ingest.read import IngestResult
from expunge.ops import inbox, progress, runlog
from expunge.ops.run import DecidedPartition, hold, stage_decide, stage_ingest, stage_publish
from expunge.ops.settings import RunPlan, RunSettings, plan_run
from expunge.publish.rollups import DEFAULT_SUPPRESS_BELOW


class _ClerkMessageOnly(logging.Filter):
    """A known input problem (``ExpungeError``) is logged as its message alone: the traceback
    tells a clerk nothing and buries the message in the Prefect UI."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], ExpungeError):
            record.exc_info = None
            record.exc_text = None
        return True


for _logger in ("prefect.task_runs", "prefect.flow_runs"):
    logging.getLogger(_logger).addFilter(_ClerkMessageOnly())


class _InARun(logging.Filter):
    """Progress lines go to the flow run's log from inside a run only (a library run in the
    same process logs them to the console alone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return FlowRunContext.get() is not None or TaskRunContext.get() is not None


# The progress lines (``expunge.progress``) in the flow run's log, as PREFECT_LOGGING_EXTRA_LOGGERS
# would do it, whichever of Prefect and this module is imported first.
if not any(isinstance(h, APILogHandler) for h in logging.getLogger(progress.LOGGER).handlers):
    _to_api = APILogHandler()
    _to_api.addFilter(_InARun())
    logging.getLogger(progress.LOGGER).addHandler(_to_api)


def _worth_retrying(task: object, task_run: object, state: State) -> bool:
    """Retry transient trouble, not an export that cannot be read (reading it again changes nothing)."""
    try:
        state.result()
    except ExpungeError:
        return False
    except Exception:
        return True
    return True


@task(name="ingest", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10],
      retry_condition_fn=_worth_retrying)
def ingest_task(plan: RunPlan) -> IngestResult:
    return stage_ingest(plan)


@task(name="decide", cache_policy=NO_CACHE)
def decide_task(plan: RunPlan, ingested: IngestResult) -> list[DecidedPartition]:
    return stage_decide(plan, ingested)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(plan: RunPlan, ingested: IngestResult, decided: list[DecidedPartition],
                 times: dict[str, float]) -> str:
    return stage_publish(plan, ingested, decided, times)


def summary_markdown(run_dir: str, left_out: tuple[tuple[Path, str], ...] = ()) -> str:
    """Counts per determination, row accounting and what changed, and the exports left out
    because they could not be read (file names and reasons); no names, no case numbers."""
    m = json.loads((Path(run_dir) / "manifest.json").read_text())
    lines = [f"# expunge run {m['run_id']}", "", f"As of **{m['as_of']}**, rules {m['ruleset']['name']} "
             f"v{m['ruleset']['version']}.", "", "| measure | charges |", "| --- | ---: |",
             f"| rows read | {m['rows']['read']:,} |", f"| quarantined | {m['rows']['quarantined']:,} |"]
    lines += [f"| {k} | {v:,} |" for k, v in sorted(m["determinations"].items())]
    d = m.get("delivery") or {}
    if d:
        scope = d["scope"] if isinstance(d["scope"], str) else ", ".join(d["scope"])
        lines += ["", f"Delivery: {d['kind']} ({scope}); {d['carried_over']:,} charges carried over"
                  + (f" from run {d['carried_from']}" if d.get("carried_from") else "")
                  + ("; **shrink accepted** (accept_shrink)" if d.get("shrink_accepted") else "") + "."]
    gap = m.get("delivery_gap") or {}
    if gap:
        lines += ["", "| delivery gap | charges still on the record | delivered since the last night |",
                  "| --- | ---: | ---: |"]
        lines += [f"| {path} | {_count(g['waiting_charges'])} | {_count(g['delivered_since_last_night'])} |"
                  for path, g in sorted(gap.items())]
    delta = m.get("delta", {})
    if delta.get("previous_run"):
        lines += ["", f"Since run {delta['previous_run']}:", "", "| change | charges |", "| --- | ---: |"]
        lines += [f"| {k} | {v:,} |" for k, v in sorted(delta.get("changes", {}).items())] or ["| (none) | 0 |"]
    return "\n".join(lines + left_out_markdown(left_out)) + "\n"


def _count(n: int | None) -> str:
    return "suppressed" if n is None else f"{n:,}"


def left_out_markdown(left_out: tuple[tuple[Path, str], ...]) -> list[str]:
    """The artifact's table of exports that could not be read and what to do about them."""
    if not left_out:
        return []
    return ["", "## Left out: could not be read", "",
            "Remove or replace each of these in the inbox; until then every run leaves them out.", "",
            "| export | reason |", "| --- | --- |",
            *(f"| {path.name} | {_cell(reason)} |" for path, reason in left_out)]


def _cell(text: str) -> str:
    return text.replace("|", r"\|")


def prefect_settings_line() -> str:
    """Where Prefect keeps this run's history and how it reaches its API, as Prefect sees it."""
    s = get_current_settings()
    api = s.api.url or f"the embedded server (start-up timeout {s.server.ephemeral.startup_timeout_seconds} s)"
    tracked = s.server.analytics_enabled or os.environ.get("DO_NOT_TRACK", "").lower() not in ("1", "true", "yes")
    return f"Prefect home {s.home}; API {api}; analytics {'on' if tracked else 'off'}."


def held_markdown(figures: dict, message: str) -> str:
    """The artifact of a held run: the guard's figures and what to do (counts and county names only)."""
    scope = figures.get("scope")
    rows = [("delivery", f"{figures.get('kind')} ({scope if isinstance(scope, str) else ', '.join(scope or [])})"),
            ("previous run", figures.get("previous_run") or "(none)"),
            ("charges of the scope before", f"{figures.get('scope_charges_before') or 0:,}"),
            ("charges delivered", f"{figures.get('charges_delivered', 0):,}"),
            ("shrink", f"{100 * figures.get('shrink', 0):.1f}% (limit {100 * figures.get('max_shrink', 0):.1f}%)"),
            ("counties missing", ", ".join(figures.get("counties_missing") or []) or "(none)")]
    return "\n".join(["# expunge: held, nothing published", "", message, "", "| figure | value |", "| --- | --- |",
                      *(f"| {k} | {v} |" for k, v in rows)]) + "\n"


def _held(plan: RunPlan, ingested: IngestResult) -> State:
    """A held run ends Failed, named "Held", with the guard's message and an artifact of its figures."""
    error = hold(plan, ingested)
    get_run_logger().warning(str(error))
    create_markdown_artifact(key="expunge-run-summary", markdown=held_markdown(error.figures, str(error)),
                             description="Held by the shrink guard: nothing published (no personal data)")
    return Failed(name="Held", message=str(error), data=error)


@progress.unless_installed(progress.LogLines)  # log lines for the run's log, unless `expunge run` chose
def _run(plan: RunPlan, left_out: tuple[tuple[Path, str], ...] = ()) -> str | State:
    """The three stages as tasks; on failure, the work folder goes and the run log says why.
    ``left_out``: exports of the inbox that could not be read (path, reason), named in the
    summary and in the final state's message; a snapshot the shrink guard holds
    ends the run "Held" after ingest."""
    times: dict[str, float] = {}
    try:
        t = time.perf_counter()
        ingested = ingest_task(plan)
        if ingested.held:
            return _held(plan, ingested)
        times["ingest"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        decided = decide_task(plan, ingested)
        times["decide"] = round(time.perf_counter() - t, 3)
        run_dir = publish_task(plan, ingested, decided, times)
    except BaseException as exc:
        shutil.rmtree(plan.work_dir, ignore_errors=True)
        return _failed(plan.settings.out_dir, plan.run_id, plan.settings.inputs, exc)
    runlog.record_published(Path(run_dir))
    create_markdown_artifact(key="expunge-run-summary", markdown=summary_markdown(run_dir, left_out),
                             description="Counts per determination and changes (no personal data)")
    if left_out:
        return Completed(data=run_dir, message=(
            f"Published run {plan.run_id}, leaving out {len(left_out)} export(s) that could not be read: "
            + ", ".join(p.name for p, _ in left_out) + ". Remove or replace them in the inbox (the reasons are in "
            "the run log and the summary)."))
    return run_dir


def _failed(out_dir: str, run_id: str | None, inputs: tuple[str, ...] | list[str], exc: BaseException) -> State:
    """Log the clerk's message and write the ``failed`` line; a known input problem then ends
    the flow run Failed with that message (returned: no traceback), anything else is raised."""
    message = runlog.failure_message(exc)
    get_run_logger().error(message)
    if Path(out_dir).parent.is_dir():
        runlog.record_run(out_dir, "failed", run_id, inputs, message)
    if isinstance(exc, ExpungeError):
        return Failed(message=message, data=exc)
    raise exc


@flow(name="expunge-nightly", log_prints=True, validate_parameters=False)
def nightly_batch(settings: RunSettings, plan: RunPlan | None = None) -> str | State:
    """Decide every charge of the exports the settings name and publish a run folder; returns
    its path. ``plan``: the settings already planned (``expunge run`` plans before Prefect
    starts, so a bad file fails at once and every export is hashed once); planned here when None.
    A known input problem ends the run Failed with the clerk's message (the body returns the
    state); calling the flow then raises the library's error (``expunge.errors``)."""
    get_run_logger().info(prefect_settings_line())
    if plan is None:
        try:
            plan = plan_run(settings)
        except BaseException as exc:
            return _failed(settings.out_dir, settings.run_id, settings.inputs, exc)
    return _run(plan)


@flow(name="expunge-inbox", log_prints=True)
def nightly_inbox(
    inbox_dir: str,
    out_dir: str,
    as_of: str | None = None,
    rules: str | None = None,
    profile: str | None = None,
    policies: dict[str, str] | None = None,
    suppress_below: int = DEFAULT_SUPPRESS_BELOW,
    charge_codes: str | None = None,
    crosswalk: str | None = None,
    cache_dir: str | None = None,
    answers: str | None = None,
    delivery: str | None = None,
    scope: str | None = None,
    max_shrink: float = DEFAULT_MAX_SHRINK,
    accept_shrink: bool = False,
) -> str | State | None:
    """Decide the exports that arrived in ``inbox_dir`` since the last run; returns the run
    folder, or None when nothing new arrived. ``as_of`` defaults to the day the run starts.

    Each new export is read on its own first; one that cannot be read is left out (logged,
    a ``skipped`` line in the run log, named in the summary and the final state's message)
    and the others publish. When none of the new exports can be read, nothing is published
    and the run fails with every file's reason. ``delivery``, ``scope``: what the exports
    are (default: the profile's, else a statewide snapshot); ``accept_shrink``: publish a snapshot
    the shrink guard held (a one-off run: ``prefect deployment run ... --param accept_shrink=true``)."""
    logger = get_run_logger()
    logger.info(prefect_settings_line())
    day = date.fromisoformat(as_of) if as_of else date.today()
    try:
        waiting = inbox.scan(Path(inbox_dir), Path(out_dir), load_profile(profile))
    except BaseException as exc:
        return _failed(out_dir, None, [inbox_dir], exc)
    for path, earlier in waiting.redelivered:
        message = f"{path.name} was already published by run {earlier}; skipped (nothing changed)."
        print(message)
        runlog.record_run(out_dir, "skipped", earlier, [path], message)
    if waiting.published:  # still in the inbox from earlier nights: said here, not in the run log
        print(f"{len(waiting.published)} export(s) in {inbox_dir} were published before under the same name: "
              + ", ".join(f"{p.name} (run {run})" for p, run in waiting.published) + ".")
    for path, reason in waiting.unreadable:
        message = inbox.left_out_message(path, reason, Path(inbox_dir))
        logger.warning(message)
        runlog.record_run(out_dir, "skipped", None, [path], message)
    if not waiting.new and waiting.unreadable:
        create_markdown_artifact(key="expunge-run-summary", description="Nothing published (no personal data)",
                                 markdown="\n".join(["# expunge: nothing published", "",
                                                     *left_out_markdown(waiting.unreadable)]) + "\n")
        failure = InputFileError(inbox.nothing_readable_message(waiting.unreadable, Path(inbox_dir)))
        return _failed(out_dir, None, [str(p) for p, _ in waiting.unreadable], failure)
    if not waiting.new:
        print(f"Nothing new in {inbox_dir}.")
        return None
    settings = RunSettings.of(list(waiting.new), out_dir, day, rules=rules, profile=profile, policies=policies,
                              suppress_below=suppress_below, charge_codes=charge_codes, crosswalk=crosswalk,
                              cache_dir=cache_dir, answers=answers, delivery=delivery, scope=scope,
                              max_shrink=max_shrink, accept_shrink=accept_shrink)
    try:
        plan = plan_run(settings)
    except BaseException as exc:
        return _failed(out_dir, None, [str(p) for p in waiting.new], exc)
    return _run(plan, waiting.unreadable)


def schedule(cron: str, timezone: str) -> Cron:
    """The deployment's schedule; raises ValueError for a bad cron line or time zone."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone; use a name such as America/Chicago ({exc})") from exc
    return Cron(cron, timezone=timezone)


def serve_nightly(inbox_dir: str, out_dir: str, cron: str, timezone: str, name: str = "nightly",
                  **parameters: object) -> None:
    """Register ``expunge-inbox`` as a deployment with a cron schedule on the Prefect server
    at ``PREFECT_API_URL`` and run its scheduled (and manually triggered) runs until stopped."""
    params = {"inbox_dir": str(Path(inbox_dir).resolve()), "out_dir": str(Path(out_dir).resolve()),
              **{k: v for k, v in parameters.items() if v is not None}}
    nightly_inbox.serve(name=name, schedules=[schedule(cron, timezone)], parameters=params,
                        description="Decide the exports that arrived in the inbox; publish a run folder.")


def run_nightly(settings: RunSettings, plan: RunPlan | None = None) -> str:
    """Run the flow and return the run folder (used by ``expunge run``); a known input problem
    raises the library's error (``expunge.errors``), as ``run_planned`` does."""
    return nightly_batch(settings, plan)
