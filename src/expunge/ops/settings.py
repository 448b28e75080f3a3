"""The run's settings, written out once: what a run is asked to do (``RunSettings``, built from
the command line, the Prefect flow's parameters or Python keywords) and what planning fixes
before any row is read (``RunPlan``: checksums, run id, resolved rules and policies).

``plan_run`` validates the settings once; every stage and worker process then takes the
plan. The analytics salt (``expunge.ops.salt``) is checked here, so a refused one stops the
run before any work, but its value is kept nowhere: publish reads it again, and it is never
part of the settings, the plan, the run id, the flow's parameters or the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from expunge import __version__
from expunge.decide.answers import create_store, load_answers
from expunge.errors import InputFileError, OutputExistsError
from expunge.ingest import partition
from expunge.ingest.delivery import DEFAULT_MAX_SHRINK, KINDS, Delivery, parse_scope, scope_text
from expunge.ingest.profiles import Profile, load_profile
from expunge.ingest.read import preflight, sha256_file
from expunge.law.rules import load_rules
from expunge.normalize.offenses import Normalizer
from expunge.ops import ledger, state
from expunge.ops.salt import resolve_salt
from expunge.publish.delta import previous_run
from expunge.publish.rollups import DEFAULT_SUPPRESS_BELOW

RUNNERS = ("local", "dask")

#: Settings whose values (through the checksums and versions of the files they name) the
#: default run id is made of: the same values give the same id and the same outputs.
IN_RUN_ID = frozenset({"inputs", "as_of", "rules", "profile", "policies", "suppress_below", "charge_codes",
                       "crosswalk", "answers", "partitions", "documents", "delivery", "scope"})
#: Settings that change where a run writes or how fast it goes, never what it writes.
SPEED_ONLY = frozenset({"out_dir", "run_id", "overwrite", "cache_dir", "use_ledger", "workers", "runner",
                        "dask_address"})
#: Settings that choose the analytics salt: like the salt itself, never part of the run id (the
#: same inputs give the same run folder whatever the salt; only the ``analytics/`` keys differ).
SALT_CHOICE = frozenset({"demo"})
#: Settings of the shrink guard: whether a run may publish, never what it publishes, so no part
#: of the run id (a held snapshot run again with ``accept_shrink`` publishes the very run
#: folder it would have published; the manifest says the shrink was accepted).
GUARD = frozenset({"max_shrink", "accept_shrink"})


@dataclass(frozen=True)
class RunSettings:
    """What a run is asked to do. Paths are kept as text, the as-of date as ISO text, so the
    settings pass unchanged to worker processes and into a Prefect flow run's parameters."""

    inputs: tuple[str, ...]
    out_dir: str
    as_of: str
    run_id: str | None = None  # default: the as-of date + a hash of everything the outputs depend on
    rules: str | None = None  # rule file (default: the shipped one)
    profile: str | None = None  # profile mapping the export's columns (default: the shipped one)
    policies: Mapping[str, str] = field(default_factory=dict)  # policy overrides, name -> value
    suppress_below: int = DEFAULT_SUPPRESS_BELOW  # summary cells under this many are suppressed
    overwrite: bool = False  # replace an existing run folder of the same id
    charge_codes: str | None = None  # official MSHP Charge Code CSV
    crosswalk: str | None = None  # clerk-confirmed crosswalk CSV
    cache_dir: str | None = None  # where matched descriptions are cached between runs
    answers: str | None = None  # the clerk's answers store
    use_ledger: bool = True  # reuse earlier nights' decisions of unchanged cases
    partitions: int | None = None  # default: from the input size
    documents: bool = True  # a DOCX petition draft per person and county
    workers: int | None = None  # processes of this machine (default: one per CPU)
    runner: str = "local"  # "local" processes, or "dask"
    dask_address: str | None = None  # Dask scheduler (default: a local cluster)
    demo: bool = False  # a demo on synthetic data: analytics keys use the public demo salt
    delivery: str | None = None  # "snapshot" or "increment" (default: the profile's, else snapshot)
    scope: str | None = None  # "statewide" or the counties, "BOONE,COLE" (default: the profile's, else statewide)
    max_shrink: float = DEFAULT_MAX_SHRINK  # a snapshot dropping more of its scope's charges than this is held
    accept_shrink: bool = False  # publish a snapshot the shrink guard would hold

    @classmethod
    def of(cls, inputs: Sequence[str | Path], out_dir: str | Path, as_of: date | str,
           **options: Any) -> RunSettings:
        """Settings from Python values (paths, a date, a dict of policies); None means the
        default. Raises TypeError for an option that does not exist, naming the ones that do."""
        known = {f.name for f in fields(cls)} - {"inputs", "out_dir", "as_of"}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown run setting(s) {', '.join(unknown)}; the settings are {', '.join(sorted(known))}")
        text = {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items() if v is not None}
        if "policies" in text:
            text["policies"] = dict(sorted(dict(text["policies"]).items()))
        if "scope" in text and not isinstance(text["scope"], str):
            text["scope"] = ",".join(str(c) for c in text["scope"])
        return cls(inputs=tuple(str(p) for p in inputs), out_dir=str(out_dir),
                   as_of=as_of.isoformat() if isinstance(as_of, date) else str(as_of), **text)

    def day(self) -> date:
        return date.fromisoformat(self.as_of)


@dataclass(frozen=True)
class RunPlan:
    """The settings once planned: what a run fixes before any row is read."""

    settings: RunSettings
    run_id: str
    input_sha256: tuple[str, ...]
    rules_path: str
    rules_sha256: str
    policies: dict[str, str]  # every policy of the rule set, resolved
    ledger_context: str
    partitions: int
    workers: int
    delivery: Delivery = field(default_factory=Delivery)
    delivery_set_by: dict[str, str] = field(default_factory=dict)  # kind, scope -> "option", "profile" or "default"
    previous_run: str | None = None  # the run compared with, whose charges carry over (OUT/latest, as planned)

    @property
    def run_dir(self) -> Path:
        return Path(self.settings.out_dir) / self.run_id

    @property
    def work_dir(self) -> Path:
        return Path(self.settings.out_dir) / f".work-{self.run_id}"

    def normalizer(self) -> Normalizer:
        """The run's normalizer, built once per process. Without a cache folder in the
        settings, its description cache is the night's own, in the work folder."""
        if self.settings.cache_dir:
            return run_normalizer(self.settings)
        return run_normalizer(replace(self.settings, cache_dir=str(self.work_dir / "descriptions")))


def run_normalizer(settings: RunSettings) -> Normalizer:
    """The normalizer of these settings, built once per process while its files are unchanged
    (a long-lived ``expunge serve`` process sees a crosswalk the clerks edited)."""
    s = settings
    for option, path in (("--charge-codes", s.charge_codes), ("--crosswalk", s.crosswalk)):
        if path and not Path(path).is_file():
            raise InputFileError(f"The {option} file {path} does not exist (or is not a file). Give the path of the "
                                 "file, or leave the option out to use the tables shipped with expunge.")
    stamp = tuple(os.stat(p).st_mtime_ns if p and os.path.exists(p) else 0 for p in (s.charge_codes, s.crosswalk))
    return _normalizer(s.charge_codes, s.crosswalk, s.cache_dir, stamp)


@lru_cache(maxsize=4)
def _normalizer(charge_codes: str | None, crosswalk: str | None, cache_dir: str | None,
                _stamp: tuple[int, ...]) -> Normalizer:
    return Normalizer.build(charge_codes, crosswalk, cache_dir=cache_dir)


def plan_delivery(s: RunSettings, prof: Profile) -> tuple[Delivery, dict[str, str]]:
    """The run's delivery (kind and scope: the settings', else the profile's, else a statewide
    snapshot) and who chose it.

    Raises:
        InputFileError: an unknown kind, a scope naming something that is not a Missouri
            county, a ``max_shrink`` outside 0-1.
    """
    kind = s.delivery or prof.delivery or "snapshot"
    if kind not in KINDS:
        raise InputFileError(f"Delivery {kind!r} is not one of {', '.join(KINDS)}: a snapshot replaces the charges "
                             "of its scope, an increment adds and updates charges and removes none.")
    try:
        scope = parse_scope(s.scope) if s.scope is not None else prof.scope
    except ValueError as exc:
        raise InputFileError(f"The delivery's scope (--scope {s.scope!r}): {exc}.") from exc
    if not 0 <= s.max_shrink <= 1:
        raise InputFileError(f"--max-shrink {s.max_shrink} is not a share between 0 and 1 (0.10 holds a snapshot "
                             "that drops more than a tenth of its scope's charges).")
    by = {"kind": "option" if s.delivery else "profile" if prof.delivery else "default",
          "scope": "option" if s.scope is not None else "profile" if prof.scope is not None else "default"}
    return Delivery(kind, scope), by


def plan_run(settings: RunSettings) -> RunPlan:
    """Validate the settings and fix the run's id; every export is hashed here, once.

    The default run id is the as-of date plus a hash of the inputs, rule file, profile and
    policies, and the delivery's kind and scope (with the previous run when charges carry
    over from it): the same inputs give the same id (and the same outputs). ``workers``
    changes how fast, never what is written; ``max_shrink`` and ``accept_shrink`` whether
    it may publish.

    Raises:
        InputFileError, ProfileError, RuleFileError: a setting or file is unusable (an
            increment or county snapshot whose previous run has no saved state, too).
        SaltError: the analytics salt is refused (``expunge.ops.salt.resolve_salt``).
        OutputExistsError: the run folder exists and ``overwrite`` is False.
    """
    s = settings
    if not s.inputs:
        raise InputFileError("No input files were given. Name one or more export files (CSV or .csv.gz).")
    if Path(s.out_dir).exists() and not Path(s.out_dir).is_dir():
        raise InputFileError(f"The output folder {s.out_dir} is a file. Give --out a folder (it is created when "
                             "missing), for example the folder that holds earlier runs.")
    if s.runner not in RUNNERS:
        raise InputFileError(f"Runner {s.runner!r} is not one of {', '.join(RUNNERS)}.")
    day = s.day()
    ruleset = load_rules(s.rules)
    chosen = ruleset.resolve_policies(dict(s.policies))
    prof = load_profile(s.profile)
    norm = run_normalizer(s)  # validates both files
    if s.answers is not None:
        # The first night of a schedule: an empty store (its folder too, when it is the output folder).
        create_store(s.answers, folder=Path(s.answers).parent.resolve() == Path(s.out_dir).resolve())
        load_answers(s.answers)  # validates the store before any work
    shas = []
    input_bytes = 0
    for item in s.inputs:
        p = Path(item)
        preflight(p, prof)  # missing, folder, empty, unreadable header, unrecognised columns
        shas.append(sha256_file(p))
        input_bytes += p.stat().st_size * (6 if p.suffix.lower() == ".gz" else 1)
    resolve_salt(s.out_dir, shas, s.demo)  # refuses the demo salt outside the demo; the value is not kept
    delivery, set_by = plan_delivery(s, prof)
    previous = previous_run(Path(s.out_dir), s.run_id or "")
    carried_from = previous.name if previous is not None and delivery.carries else None
    if carried_from is not None:
        if not state.saved(s.out_dir, carried_from):
            raise InputFileError(
                f"This delivery is {delivery.describe()}: the charges it does not replace carry over from the previous "
                f"run {carried_from}, but that run's saved state ({state.folder(s.out_dir, carried_from)}) is missing "
                "(a run before this version did not save one, or it was removed). Run a statewide snapshot first "
                "(--delivery snapshot --scope statewide), then deliver this one.")
        input_bytes += state.rows(s.out_dir, carried_from) * state.CSV_BYTES_PER_ROW
    partitions = s.partitions or partition.choose_partitions(input_bytes)
    run_id = s.run_id
    if run_id is None:
        h = hashlib.sha256()
        for part in (*shas, ruleset.sha256, repr(prof), json.dumps(chosen, sort_keys=True),
                     norm.reference.version, norm.crosswalk.sha256 if norm.crosswalk else "", __version__,
                     sha256_file(Path(s.answers)) if s.answers else "",
                     str(s.suppress_below), str(partitions), str(s.documents),
                     delivery.kind, scope_text(delivery.scope), carried_from or ""):
            h.update(part.encode())
        run_id = f"{day.isoformat()}-{h.hexdigest()[:10]}"
    context = ledger.context_key([
        ruleset.sha256, json.dumps(chosen, sort_keys=True), json.dumps(norm.manifest(), sort_keys=True),
        sha256_file(Path(s.charge_codes)) if s.charge_codes else "", __version__, pd.__version__, pa.__version__])
    if not run_id or "/" in run_id or run_id.startswith("."):
        raise InputFileError(f"Run id {run_id!r} cannot name a folder; use letters, digits and dashes.")
    plan = RunPlan(settings=s, run_id=run_id, input_sha256=tuple(shas), rules_path=ruleset.path,
                   rules_sha256=ruleset.sha256, policies=chosen, ledger_context=context, partitions=partitions,
                   workers=max(1, s.workers or os.cpu_count() or 1), delivery=delivery, delivery_set_by=set_by,
                   previous_run=previous.name if previous is not None else None)
    if plan.run_dir.exists() and not s.overwrite:
        raise OutputExistsError(
            f"The run folder {plan.run_dir} exists already (same inputs, rules and as-of date). "
            "Its outputs are still valid; pass --overwrite to write it again, or --run-id to write a new one."
        )
    return plan
