"""The ``expunge`` command line. Each command parses its options, calls one library
function and turns ``ExpungeError`` into a short message (no traceback) and a non-zero exit.

    expunge run INPUT... --out DIR      <-> ops.run.run_pipeline(RunSettings) / flows.nightly.nightly_batch
    expunge serve --inbox DIR --out DIR <-> flows.nightly.serve_nightly (expunge-inbox deployment)
    expunge sample --rows N --out FILE  <-> sample.write_sample
    expunge normalize-report INPUT...   <-> normalize.report.report_files
    expunge query "SQL"                 <-> query.query
    expunge whatif RUN [--each-policy]  <-> publish.whatif.whatif / publish.whatif.each_policy
    expunge review apply EDITED STORE   <-> decide.answers.apply_answers
    expunge purge --out DIR             <-> ops.retention.purge
    expunge rules check [FILE...]       <-> law.check_law
"""

from __future__ import annotations

import io
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from expunge import __version__
from expunge.errors import DeliveryHeld, ExpungeError
from expunge.publish.rollups import DEFAULT_SUPPRESS_BELOW


def default_cache() -> Path:
    """``$XDG_CACHE_HOME/expunge``, else ``~/.cache/expunge`` (read when a command runs)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "expunge"


def _as_of(value: str | None) -> date:
    if value is None:
        return date.today()  # the one place the clock is read; recorded in the manifest
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD.") from exc


def _policies(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"{item!r}: write policies as name=value, e.g. nonconviction_records=exclude.")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _delivery_options(fn: Any) -> Any:
    """--delivery, --scope and --max-shrink, shared by run and serve."""
    from expunge.ingest.delivery import DEFAULT_MAX_SHRINK

    fn = click.option("--max-shrink", type=click.FloatRange(0, 1), default=DEFAULT_MAX_SHRINK, show_default=True,
                      help="Hold a snapshot that drops more than this share of its scope's charges, or any county "
                           "of its scope the previous run had.")(fn)
    fn = click.option("--scope", help='The counties the exports cover, comma-separated ("BOONE,COLE"), or '
                      "statewide (default: the profile's, else statewide); rows of other counties are "
                      "quarantined.")(fn)
    return click.option("--delivery", type=click.Choice(["snapshot", "increment"]),
                        help="snapshot: the exports hold every charge of their scope and replace it; increment: "
                             "they add and update charges and remove none (default: the profile's, else "
                             "snapshot).")(fn)


#: Exit status of a snapshot the shrink guard held (nothing published; 1: unusable input, 2: bad option,
#: 3: unexpected).
HELD = 4


class Held(click.ClickException):
    exit_code = HELD

    def show(self, file: Any = None) -> None:
        click.echo(self.format_message(), err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="expunge")
def main() -> None:
    """Missouri Amendment 3 marijuana expungement: court export in, explained decisions out."""


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Folder for run folders.")
@click.option("--profile", type=click.Path(path_type=Path), help="Profile YAML mapping the export's columns.")
@click.option("--rules", type=click.Path(path_type=Path), help="Rule file (default: the shipped mo-a3 v2).")
@click.option("--as-of", "as_of", help="Decide as of this date (YYYY-MM-DD; default today).")
@click.option("--run-id", help="Name of the run folder (default: as-of date + input hash).")
@click.option("--policy", "policy", multiple=True, help="Policy override name=value (repeatable).")
@click.option("--suppress-below", default=DEFAULT_SUPPRESS_BELOW, show_default=True,
              help="Suppress summary cells with fewer than this many charges, cases or people.")
@click.option("--overwrite", is_flag=True, help="Replace an existing run folder of the same id.")
@click.option("--orchestrator", type=click.Choice(["prefect", "none"]), default="prefect", show_default=True,
              help="Run through the Prefect flow (embedded server) or call the library directly.")
@click.option("--charge-codes", type=click.Path(path_type=Path),
              help="Official MSHP Charge Code CSV (as published) for exact code lookups.")
@click.option("--crosswalk", type=click.Path(path_type=Path),
              help="Clerk-confirmed crosswalk CSV, applied before fuzzy matching.")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=default_cache,
              show_default="~/.cache/expunge", help="Where matched descriptions are cached between runs.")
@click.option("--answers", type=click.Path(path_type=Path),
              help="Answers store kept with 'expunge review apply'; applied before deciding.")
@click.option("--partitions", type=click.IntRange(1, 256),
              help="Decide in this many partitions of whole cases (default: from the input size, ~96 MB each).")
@click.option("--runner", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Decide partitions here, or in parallel on a Dask cluster.")
@click.option("--dask-address", help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: a local cluster).")
@click.option("--documents/--no-documents", default=True, show_default=True,
              help="Write one DOCX petition draft per person and county.")
@click.option("--workers", type=click.IntRange(1, 64),
              help="Processes reading a large export and deciding and writing partitions side by side "
                   "(default: one per CPU).")
@click.option("--demo", is_flag=True, help="A demo on synthetic data (make demo): analytics/ keys use the public "
              "demo salt instead of EXPUNGE_SALT or this installation's salt file.")
@_delivery_options
@click.option("--accept-shrink", is_flag=True,
              help="Publish a snapshot the shrink guard held (it drops more than --max-shrink of its scope's "
                   "charges, or a county); never an empty one.")
@click.option("--progress/--no-progress", "show_progress", default=True, show_default=True,
              help="Show ingest, decide and publish progress on stderr: a live display on a terminal, "
                   "else a log line every 10 s at most and at the end of each stage.")
def run(inputs: tuple[Path, ...], out_dir: Path, as_of: str | None, policy: tuple[str, ...], orchestrator: str,
        show_progress: bool, **settings: Any) -> None:
    """Decide every charge in INPUT files (CSV or .csv.gz) and write a run folder.

    The last line printed is the run folder. In Python: expunge.ops.run.run_pipeline(RunSettings...)
    or flows.nightly.nightly_batch(RunSettings...).
    """
    from expunge.ops.run import run_planned
    from expunge.ops.settings import RunSettings, plan_run

    options = RunSettings.of(inputs, out_dir, _as_of(as_of), policies=_policies(policy), **settings)
    try:
        plan = plan_run(options)  # everything a clerk can get wrong, checked before any orchestrator starts
    except ExpungeError as exc:
        if Path(out_dir).parent.is_dir() and (Path(out_dir).is_dir() or not Path(out_dir).exists()):
            from expunge.ops.runlog import failure_message, record_run

            record_run(out_dir, "failed", options.run_id, options.inputs, failure_message(exc))  # as every run does
        raise click.ClickException(str(exc)) from exc
    from expunge.ops import progress, runlog

    click.get_current_context().with_resource(progress.reporting(progress.for_command_line(show_progress)))
    start = runlog.log_size(out_dir)
    try:
        if orchestrator == "prefect":
            from flows.nightly import run_nightly

            run_dir = run_nightly(options, plan)
        else:
            run_dir = str(run_planned(plan))
    except DeliveryHeld as exc:  # the held line is in the run log already
        raise Held(str(exc)) from exc
    except BaseException as exc:
        if not any(e["status"] in ("failed", "held") and e["run_id"] == plan.run_id
                   for e in runlog.lines_since(out_dir, start)):
            # stopped before the flow could say so (the embedded Prefect server did not start, say)
            message = server_did_not_start(exc) or runlog.failure_message(exc)
            runlog.record_run(out_dir, "failed", plan.run_id, options.inputs, message)
        if isinstance(exc, ExpungeError):
            raise click.ClickException(str(exc)) from exc
        raise
    _print_summary(Path(run_dir))
    click.echo(run_dir)


def _opt(path: Path | None) -> str | None:
    return str(path) if path else None


def _print_summary(run_dir: Path) -> None:
    m = json.loads((run_dir / "manifest.json").read_text())
    from rich.console import Console
    from rich.table import Table

    rows = m["rows"]
    click.echo(f"Rows read: {rows['read']:,}   charges decided: {rows['charges']:,}   "
               f"quarantined: {rows['quarantined']:,}")
    d = m.get("delivery") or {}
    if d:
        scope = d["scope"] if isinstance(d["scope"], str) else ", ".join(d["scope"])
        click.echo(f"Delivery: {d['kind']} ({scope})" + (f"; {d['carried_over']:,} charges carried over from run "
                                                          f"{d['carried_from']}" if d.get("carried_from") else "")
                   + ("; shrink accepted (--accept-shrink)" if d.get("shrink_accepted") else ""))
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("determination")
    table.add_column("charges", justify="right")
    for det, n in sorted(m["determinations"].items()):
        table.add_row(det, f"{n:,}")
    console = Console(width=100, soft_wrap=True, record=True, file=io.StringIO())
    console.print(table)
    click.echo(console.export_text().rstrip("\n"))
    click.echo(f"Review queue: {m['outputs']['review_queue_rows']:,} charges "
               f"({run_dir / 'review_queue.csv'})")
    click.echo(f"Petition lists: {len(m['outputs']['petitions'])} files under {run_dir / 'petitions'}")
    if m["outputs"].get("worklists"):
        click.echo(f"Worklists, longest waiting first: {run_dir / 'worklists'}")
    for path, g in (m.get("delivery_gap") or {}).items():
        click.echo(f"Delivery gap, {_PATH_LINE[path].lower()}: {_n(g['waiting_charges'])} eligible charges still on "
                   f"the record; delivered since the last night {_n(g['delivered_since_last_night'])} "
                   f"(expunge delivery {run_dir.parent})")
    if m["outputs"].get("documents"):
        carried = m["outputs"].get("documents_carried", 0)
        first = not (m.get("delta") or {}).get("previous_run")
        click.echo(f"Drafts: {m['outputs']['documents']:,}" + (" (a first night: all new)" if first else
                   f", of which {m['outputs']['documents'] - carried:,} new and {carried:,} copied unchanged from "
                   "the previous night (each county's drafts.json says which run prepared each draft)"))
    if rows["quarantined"]:
        click.echo(f"Quarantined rows (file, line, reason): {run_dir / 'quarantine.parquet'}")
    if m.get("answers", {}).get("store"):
        a = m["answers"]
        click.echo(f"Clerk answers applied: {a['applied']:,}" + (f" ({a['stale']:,} no longer match their charge)"
                                                                  if a["stale"] else ""))
    for w in m.get("warnings", []):
        click.echo(f"Note: {w}")


@main.command()
@click.option("--inbox", "inbox_dir", required=True, type=click.Path(path_type=Path),
              help="Folder the exports are delivered to.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Folder for run folders.")
@click.option("--cron", default="0 2 * * *", show_default=True, help="When to run (cron syntax).")
@click.option("--timezone", default="America/Chicago", show_default=True, help="Time zone of the cron schedule.")
@click.option("--name", default="nightly", show_default=True, help="Deployment name shown in the Prefect UI.")
@click.option("--api-url", envvar="PREFECT_API_URL", help="Prefect server API (default: $PREFECT_API_URL).")
@click.option("--profile", type=click.Path(path_type=Path), help="Profile YAML mapping the export's columns.")
@click.option("--rules", type=click.Path(path_type=Path), help="Rule file (default: the shipped mo-a3 v2).")
@click.option("--policy", "policy", multiple=True, help="Policy override name=value (repeatable).")
@click.option("--charge-codes", type=click.Path(path_type=Path), help="Official MSHP Charge Code CSV.")
@click.option("--crosswalk", type=click.Path(path_type=Path), help="Clerk-confirmed crosswalk CSV.")
@click.option("--answers", type=click.Path(path_type=Path), help="Answers store kept with 'expunge review apply'.")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=default_cache,
              show_default="~/.cache/expunge", help="Where matched descriptions are cached between runs.")
@_delivery_options
def serve(inbox_dir: Path, out_dir: Path, cron: str, timezone: str, name: str, api_url: str | None,
          profile: Path | None, rules: Path | None, policy: tuple[str, ...], charge_codes: Path | None,
          crosswalk: Path | None, answers: Path | None, cache_dir: Path, delivery: str | None, scope: str | None,
          max_shrink: float) -> None:
    """Run the nightly batch on a schedule: register a deployment on a local Prefect server
    and decide whatever new exports arrive in the inbox, until stopped (Ctrl-C).

    Start the server first (`make server`, i.e. `prefect server start`); its UI at
    http://127.0.0.1:4200 shows the schedule and every run. In Python: flows.nightly.serve_nightly(...).
    """
    if not api_url:
        raise click.ClickException(
            "Scheduling needs a running Prefect server. Start one with `make server` (or `prefect server start`), "
            "then run: PREFECT_API_URL=http://127.0.0.1:4200/api expunge serve ...")
    os.environ["PREFECT_API_URL"] = api_url
    from flows.nightly import schedule, serve_nightly

    try:
        schedule(cron, timezone)
    except ValueError as exc:
        raise click.BadParameter(f"{cron!r} with time zone {timezone!r}: {exc}", param_hint="--cron") from exc
    try:
        from expunge.law.rules import load_rules

        load_rules(rules).resolve_policies(_policies(policy))
        from expunge.ingest.delivery import parse_scope

        try:
            parse_scope(scope)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--scope") from exc
        if not inbox_dir.is_dir():
            raise ExpungeError(f"The inbox {inbox_dir} is not a folder. Create it, or point --inbox at the folder "
                               "the exports are delivered to.")
        from expunge.ops.salt import resolve_salt

        resolve_salt(out_dir)  # a scheduled run is never the demo: its salt is checked (or made) now
    except ExpungeError as exc:
        raise click.ClickException(str(exc)) from exc
    serve_nightly(str(inbox_dir), str(out_dir), cron, timezone, name, rules=_opt(rules), profile=_opt(profile),
                  policies=_policies(policy) or None, charge_codes=_opt(charge_codes), crosswalk=_opt(crosswalk),
                  answers=_opt(answers), cache_dir=_opt(cache_dir), delivery=delivery, scope=scope,
                  max_shrink=max_shrink)


@main.command()
@click.option("--rows", default=5000, show_default=True, help="Number of charges.")
@click.option("--seed", default=0, show_default=True, help="Random seed (same seed, same file).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="CSV file (.gz to compress).")
@click.option("--messiness", default=0.3, show_default=True, help="0-1: how hand-keyed the text looks.")
@click.option("--malformed", default=0, show_default=True, help="Malformed lines to append.")
@click.option("--truth", type=click.Path(path_type=Path), help="Also write the expected facts per charge here.")
@click.option("--hand-keyed", is_flag=True,
              help="Descriptions with real hand-keyed cardinality (about 100,000 distinct per 1 M charges); "
                   "every other column as without it.")
def sample(rows: int, seed: int, out: Path, messiness: float, malformed: int, truth: Path | None,
           hand_keyed: bool) -> None:
    """Write a synthetic Missouri charge export (invented people). In Python: expunge.sample.write_sample(...)."""
    from expunge.sample import write_sample

    path = write_sample(out, rows, seed=seed, messiness=messiness, malformed=malformed, truth_path=truth,
                        hand_keyed=hand_keyed)
    click.echo(str(path))


@main.command("next-night")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="CSV file to write.")
@click.option("--changed", default=0.005, show_default=True, type=click.FloatRange(0, 1),
              help="Share of charges given a new disposition, from 0 to 1 (0.02 is 2 %).")
@click.option("--new", default=0.01, show_default=True, type=click.FloatRange(0, 10),
              help="New charges (new cases of recent filings), as a share of the export's (0-10).")
@click.option("--recent-share", default=0.9, show_default=True, type=click.FloatRange(0, 1),
              help="Share of the changed charges filed in the export's last year (0-1).")
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same file).")
def next_night_command(export: Path, out: Path, changed: float, new: float, recent_share: float, seed: int) -> None:
    """Write the next night's snapshot of a (sample) EXPORT: a few charges newly disposed, mostly
    recent ones, and new cases; every other row as it was. For trying and measuring nightly
    runs. In Python: expunge.sample.next_night(...)."""
    from expunge.sample import next_night

    if out.resolve() == export.resolve():
        raise click.ClickException(f"--out {out} is the export itself: give another file, so the first night's "
                                   "export stays as it was.")
    try:
        click.echo(json.dumps(next_night(export, out, changed, new, recent_share, seed)))
    except ExpungeError as exc:
        raise click.ClickException(str(exc)) from exc


@main.command("normalize-report")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--profile", type=click.Path(path_type=Path), help="Profile YAML mapping the export's columns.")
@click.option("--charge-codes", type=click.Path(path_type=Path), help="Official MSHP Charge Code CSV.")
@click.option("--crosswalk", type=click.Path(path_type=Path), help="Clerk-confirmed crosswalk CSV.")
@click.option("--top", default=50, show_default=True, help="How many unmatched descriptions to list.")
def normalize_report(inputs: tuple[Path, ...], profile: Path | None, charge_codes: Path | None,
                     crosswalk: Path | None, top: int) -> None:
    """How well the offense matcher reads INPUT files: share matched per rung, the review
    band, the most frequent unmatched descriptions (JSON). In Python:
    expunge.normalize.report.report_files(inputs, profile, charge_codes, crosswalk, top)."""
    from expunge.normalize.report import report_files

    try:
        report = report_files(list(inputs), profile, charge_codes, crosswalk, top)
    except ExpungeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(report, indent=2))


@main.command("whatif")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--policy", "policy", multiple=True, help="Policy override name=value (repeatable).")
@click.option("--rules", type=click.Path(path_type=Path), help="Another rule file to decide with.")
@click.option("--each-policy", "each", is_flag=True,
              help="The readings report: for every policy and every value other than the run's, the charges and "
                   "people that move, by transition (rule file: the run's own unless --rules).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Print a readable table, or the comparison as JSON.")
@click.option("--out", "out", type=click.Path(path_type=Path), help="Also write the comparison here (JSON).")
def whatif_command(run_dir: Path, policy: tuple[str, ...], rules: Path | None, each: bool, fmt: str,
                   out: Path | None) -> None:
    """Re-decide a finished run under other policies or rules, without re-reading the
    export, and show how the counts move. In Python: expunge.publish.whatif.whatif(run_dir, policies,
    rules), or expunge.publish.whatif.each_policy(run_dir, rules) for --each-policy."""
    from expunge.publish.whatif import each_policy, readings_table, whatif

    if each and policy:
        raise click.BadParameter("--each-policy tries every value of every policy itself; leave out --policy.",
                                 param_hint="--policy")
    try:
        result = each_policy(run_dir, rules) if each else whatif(run_dir, _policies(policy), rules)
    except ExpungeError as exc:
        raise click.ClickException(str(exc)) from exc
    if out:
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, default=str))
    elif each:
        r = result["rules"]
        click.echo(f"Run {result['run_id']} (as of {result['as_of']}), rule set {r['name']} v{r['version']}: what "
                   "each other policy value moves against the run's own decisions.")
        if result["baseline_changed"]:
            click.echo(f"Note: {result['baseline_changed']:,} charges move under this rule file with no policy "
                       "changed; every row below includes them.")
        for line in readings_table(result):
            click.echo(line)
    else:
        _print_whatif(result)


def _print_whatif(result: dict) -> None:
    b, a = result["before"], result["after"]
    click.echo(f"Run {result['run_id']}: {result['charges_changed']:,} charges of {result['people_changed']:,} "
               "people change determination.")
    ra = result["rules_after"]
    changed = result.get("policies_changed", {})
    click.echo(f"Rule set {ra['name']} v{ra['version']}, policies from {result['policies_from']}"
               + (": " + ", ".join(f"{k} {v['before']} -> {v['after']}" for k, v in sorted(changed.items()))
                  if changed else "") + ".")
    click.echo(f"{'':<22}{'before':>12}{'after':>12}")
    dets = sorted(set(b["charges"]["by_determination"]) | set(a["charges"]["by_determination"]))
    for d in dets:
        click.echo(f"  {d:<20}{b['charges']['by_determination'].get(d, 0):>12,}"
                   f"{a['charges']['by_determination'].get(d, 0):>12,}")
    for label, key in (("people affected (lower)", "affected_lower"), ("people affected (upper)", "affected_upper")):
        click.echo(f"  {label:<20}{b['people'][key]:>12,}{a['people'][key]:>12,}")
    for t in result["transitions"]:
        click.echo(f"  {t['from']} -> {t['to']}: {t['charges']:,} charges, {t['people']:,} people")
    if result.get("by_county"):
        click.echo("By county (charges that change, their people):")
        for c in result["by_county"]:
            moves = "; ".join(f"{k} {v:,}" for k, v in c["transitions"].items())
            click.echo(f"  {c['county']:<16}{c['charges']:>8,} charges {c['people']:>6,} people  ({moves})")


@main.command("query")
@click.argument("sql")
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(path_type=Path),
              help="Folder holding run folders; the newest run is queried.")
@click.option("--run", "run_dir", type=click.Path(path_type=Path), help="Query this run folder instead.")
@click.option("--limit", type=click.IntRange(1), help="Rows to print at most (default: 50 as a table, all as CSV "
              "or JSON).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True,
              help="A table to read, or CSV / JSON (one object per row) to pipe into other tools.")
def query_command(sql: str, out_dir: Path, run_dir: Path | None, limit: int | None, fmt: str) -> None:
    """Run SQL (DuckDB) over a run's charges, cases and quarantine tables, and its analytics
    table when the run wrote one. In Python: expunge.query.query(sql, run_dir)."""
    from expunge.query import as_text, latest_run, query_rows

    try:
        result = query_rows(sql, run_dir or latest_run(out_dir), limit or (50 if fmt == "table" else None))
    except ExpungeError as exc:
        raise click.ClickException(str(exc)) from exc
    frame = result.frame
    if fmt == "csv":
        from expunge.ingest.csvfiles import write_csv

        out = io.BytesIO()
        write_csv(as_text(frame, blank=None), out)
        click.echo(out.getvalue().decode("utf-8"), nl=False)
    elif fmt == "json":
        click.echo(as_text(frame, blank=None).to_json(orient="records", force_ascii=False))
    elif not len(frame):
        click.echo(f"(no rows; columns: {', '.join(map(str, frame.columns))})")
    else:
        click.echo(as_text(frame).to_string(index=False))
    if result.truncated:
        click.echo(f"showing {len(frame):,} of {result.total:,} rows (--limit to see more)", err=fmt != "table")


@main.command("delivery")
@click.argument("out_dir", default="out", type=click.Path(path_type=Path))
@click.option("--run", "run_dir", type=click.Path(path_type=Path), help="Read this run folder instead of the newest.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1),
              help="Counties to list, most charges waiting first.")
@click.option("--county", help="Only this county's rows (its circuit's too).")
def delivery_command(out_dir: Path, run_dir: Path | None, top: int, county: str | None) -> None:
    """The delivery gap: eligible charges still on the record, statewide and by county, how long
    they have waited, and what was delivered since the last night (a run's
    summary/delivery.csv; suppressed counts print as "suppressed"). In Python:
    expunge.publish.gap.read(run_dir)."""
    from expunge.publish.gap import read
    from expunge.publish.report import waiting_order_key
    from expunge.query import latest_run

    try:
        run = run_dir or latest_run(out_dir)
        table, trend = read(run)
    except ExpungeError as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = json.loads((Path(run) / "manifest.json").read_text())
    click.echo(f"The delivery gap, run {manifest['run_id']} as of {manifest['as_of']} (a count under "
               f"{manifest['small_cell_suppression_below']} is suppressed, with the counts that would give it away, "
               "unless the other published figures give it away already):")
    for r in table[table["level"] == "state"].itertuples(index=False):
        click.echo(f"  {_PATH_LINE[r.path]}: {_n(r.waiting_charges)} charges of {_n(r.waiting_people)} people waiting "
                   f"since {_SINCE[r.path]}, median {_n(r.median_days_waiting)} "
                   f"{'day' if _n(r.median_days_waiting) == '1' else 'days'}; delivered since the last night "
                   f"{_n(r.delivered_since_last_night)}, in 30 days {_n(r.delivered_last_30_days)}, in all "
                   f"{_n(r.delivered_total)}.")
    nights = trend["as_of"].nunique() if len(trend) else 0
    if nights > 1:
        first, last = trend.iloc[0]["as_of"], trend.iloc[-1]["as_of"]
        moves = "; ".join(
            f"{path} {_n(rows.iloc[0]['waiting_charges'])} -> {_n(rows.iloc[-1]['waiting_charges'])}"
            for path, rows in trend.groupby("path", sort=True))
        click.echo(f"  Over {nights} nights ({first} to {last}), charges waiting: {moves}.")
    counties = table[table["level"] == "county"]
    if county:
        def plain(name: str) -> str:  # "St Louis" finds ST. LOUIS
            return "".join(c for c in name.upper() if c.isalpha())

        counties = counties[counties["county"].map(plain) == plain(county)]
        if counties.empty:
            raise click.ClickException(f"No county {county!r} in this run's gap report. Its counties: "
                                       + ", ".join(sorted(table.loc[table['level'] == 'county', 'county'].unique())))
    order = counties.assign(_order=waiting_order_key(counties)).sort_values(["_order", "county"],
                                                                            ascending=[False, True])
    shown = order.head(top if not county else len(order))
    label = (f"{county.upper()}" if county else f"Counties with the most charges waiting (top {len(shown)} rows; "
             "a suppressed count is at least 1 and under the threshold)")
    click.echo(f"{label}:")
    heads = ("waiting", "people", "median days", "last night", "30 days", "in all")
    click.echo(f"  {'county':<18}{'circuit':>8}  {'path':<9}" + "".join(f"{h:>12}" for h in heads))
    for r in shown.itertuples(index=False):
        median = "-" if _n(r.waiting_charges) == "0" else _n(r.median_days_waiting)
        counts = (_n(r.waiting_charges), _n(r.waiting_people), median, _n(r.delivered_since_last_night),
                  _n(r.delivered_last_30_days), _n(r.delivered_total))
        click.echo(f"  {r.county:<18}{r.circuit:>8}  {r.path:<9}" + "".join(f"{c:>12}" for c in counts))
    click.echo(f"Every row: {Path(run) / 'summary' / 'delivery.csv'}. Delivered counts a charge marked expunged, or "
               "gone from a later export after being eligible (an assumption).")


_PATH_LINE = {"auto": "Automatic (§ 2.10(8))", "petition": "By petition (§ 2.10(7))"}
_SINCE = {"auto": "their deadline", "petition": "first seen eligible (petitions have no deadline)"}


def _n(value: Any) -> str:
    """A count of the gap report as printed: blank (NaN or NA) is "suppressed"."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "suppressed"


@main.command("purge")
@click.argument("out_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--older-than", "older_than", required=True, type=int, help="Days; older runs are purged.")
@click.option("--as-of", "as_of", help="Count days back from this date (YYYY-MM-DD; default today).")
def purge_command(out_dir: Path, older_than: int, as_of: str | None) -> None:
    """Remove the personal-data outputs of runs older than --older-than days, keeping their
    de-identified summaries, analytics and manifests, and their saved states (OUT/state/), never
    the one the latest run needs. In Python: expunge.ops.retention.purge(...)."""
    from expunge.ops.retention import purge

    done = purge(out_dir, older_than, _as_of(as_of))
    states = [p.split("/", 1)[1] for p in done if p.startswith("state/")]
    purged = [p for p in done if not p.startswith("state/")]
    click.echo(f"Purged personal data from {len(purged)} run(s)" + (": " + ", ".join(purged) if purged else ".")
               + (f" Removed the saved state of {len(states)} run(s): {', '.join(states)}." if states else ""))


@main.group()
def review() -> None:
    """The review queue round trip: answer review_queue.csv, apply it, re-run."""


@review.command("apply")
@click.argument("edited", type=click.Path(path_type=Path))
@click.option("--answers", "store", required=True, type=click.Path(path_type=Path),
              help="Answers store to create or update (give it to later runs with --answers).")
def review_apply(edited: Path, store: Path) -> None:
    """Validate an answered review queue (CSV or XLSX) and store its answers, keyed by case
    and count. In Python: expunge.decide.answers.apply_answers(edited, store)."""
    from expunge.decide.answers import apply_answers

    try:
        result = apply_answers(edited, store)
    except ExpungeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Stored {result.answered:,} answers ({result.replaced:,} replaced earlier ones); "
               f"{result.stored:,} answers in {store}. Re-run with --answers {store}.")


@main.group()
def rules() -> None:
    """Rule files: check one before using it."""


@rules.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def rules_check(paths: tuple[Path, ...]) -> None:
    """Validate rule files (default: the shipped ones) together with the law folder
    (readings.yaml, code_readings.csv), list every problem at once, else list each file's
    rules. In Python: expunge.law.check_law(paths)."""
    from expunge.law import check_law, law_file
    from expunge.law.rules import DEFAULT_RULESET, load_rules

    files = list(paths) or [law_file(DEFAULT_RULESET), law_file("mo-a3.v1.yaml")]
    problems = check_law(files)
    if problems:
        raise click.ClickException(f"{len(problems)} file(s) with problems:\n" + "\n".join(problems))
    for f in files:
        rs = load_rules(f)
        click.echo(f"{rs.name} v{rs.version}: {len(rs.rules)} rules, sha256 {rs.sha256[:12]} ({rs.path})")
        for r in rs.rules:
            click.echo(f"  {r.id:<5} {r.determination:<18} {r.reason_code}")
    click.echo("readings.yaml and code_readings.csv: no problems.")


#: Exit status of a crash nobody foresaw (1: unusable input, 2: a bad option, as click uses it).
UNEXPECTED = 3
#: How Prefect says its embedded (ephemeral) server did not answer in time.
SERVER_TIMEOUT = "Timed out while attempting to connect to ephemeral Prefect API server"


def server_did_not_start(exc: BaseException) -> str | None:
    """What to do when the embedded Prefect server did not start in time, or None for any other error."""
    if not (isinstance(exc, RuntimeError) and str(exc).startswith(SERVER_TIMEOUT)):
        return None
    limit = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    return (f"The embedded Prefect server did not start within {limit} s; the machine may be busy. Nothing was "
            "published. Retry, raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or run a server "
            "with `make server` and set PREFECT_API_URL=http://127.0.0.1:4200/api (or run with --orchestrator none).")


def entrypoint() -> None:  # pragma: no cover - thin wrapper for unexpected failures
    try:
        main(standalone_mode=True)
    except Exception as exc:
        if os.environ.get("EXPUNGE_DEBUG"):
            raise
        known = server_did_not_start(exc)
        if known:
            click.echo(f"Error: {known}", err=True)
        else:
            click.echo(f"Error: an unexpected problem stopped the run ({type(exc).__name__}: {exc}). "
                       "Nothing was published. Re-run with EXPUNGE_DEBUG=1 for details and report it.", err=True)
        sys.exit(UNEXPECTED)
