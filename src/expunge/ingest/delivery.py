"""Deliveries: what an export says about the records it carries, and the shrink guard.

A delivery is a **snapshot** (every charge of its scope, as the court holds them tonight: it
replaces that scope's charges) or an **increment** (charges added or changed since the last
delivery: it adds and updates, by case number + charge sequence, and removes nothing). Its
**scope** is statewide or the counties it covers; a row of a county outside the scope is
quarantined. Charges the delivery does not replace carry over from the previous run's saved
rows (``ingest.carry``).

The shrink guard (``assess``) holds a snapshot that would drop more than ``max_shrink`` of its
scope's charges, or every charge of a county the previous run had in that scope, until the
operator accepts it; a snapshot with no usable rows is never the state of anything and is
held whatever the operator accepts. Nothing here reads files: it judges counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from expunge.ingest.places import county_name
from expunge.law import county_circuits

KINDS = ("snapshot", "increment")
STATEWIDE = "statewide"
DEFAULT_MAX_SHRINK = 0.10
#: Not a county: rows without one. The guard counts their charges but never calls it a county gone.
NO_COUNTY = "UNKNOWN"


def parse_scope(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """The counties a delivery covers, in ``places.county_name`` spelling, sorted; None for
    statewide (``None``, ``""`` or ``"statewide"``). Text is comma-separated ("BOONE,COLE").

    Raises:
        ValueError: a name that is not a Missouri county (the message lists it and says how to
            write the names).
    """
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    items = [i.strip() for i in items if i.strip()]
    if not items or (len(items) == 1 and items[0].lower() == STATEWIDE):
        return None
    names = county_name(pd.Series(items, dtype="str")).tolist()
    unknown = [raw for raw, name in zip(items, names, strict=True) if name not in county_circuits()]
    if unknown:
        raise ValueError(f"not a Missouri county: {', '.join(repr(u) for u in unknown)} (write county names as the "
                         "export does, comma-separated, e.g. \"BOONE,COLE,ST. LOUIS CITY\"; or 'statewide')")
    return tuple(sorted(set(names)))


def scope_text(scope: tuple[str, ...] | None) -> str:
    return STATEWIDE if scope is None else ", ".join(scope)


def outside_scope(county: pa.Array | pa.ChunkedArray, scope: tuple[str, ...] | None) -> np.ndarray:
    """A mask of the rows whose county (as the export spells it) is not in ``scope``; a row
    without a county is outside every county scope. Names are normalized once per distinct value."""
    n = len(county)
    if scope is None or n == 0:
        return np.zeros(n, dtype=bool)
    arr = county.combine_chunks() if isinstance(county, pa.ChunkedArray) else county
    enc = pc.dictionary_encode(arr)
    names = county_name(pd.Series(enc.dictionary.to_pylist(), dtype="object"))
    inside = pa.array(names.isin(scope).to_numpy(), pa.bool_())
    return ~pc.fill_null(pc.take(inside, enc.indices), False).to_numpy(zero_copy_only=False)


def outside_scope_reason(county: str | None, scope: tuple[str, ...]) -> str:
    shown = repr(county) if county is not None else "(none)"
    return (f"county {shown} is outside this delivery's scope ({scope_text(scope)}); deliver it in an export "
            "whose scope covers that county")


@dataclass(frozen=True)
class Delivery:
    """What a run's exports are: ``kind`` (snapshot or increment) and ``scope`` (None: statewide)."""

    kind: str = "snapshot"
    scope: tuple[str, ...] | None = None

    @property
    def carries(self) -> bool:
        """Whether charges of the previous run can carry over (an increment, or a snapshot of some counties)."""
        return self.kind == "increment" or self.scope is not None

    def describe(self) -> str:
        return f"{'an' if self.kind == 'increment' else 'a'} {self.kind} ({scope_text(self.scope)})"


def _charges_of(scope: tuple[str, ...] | None) -> str:
    return "the statewide charges" if scope is None else f"the charges of {scope_text(scope)}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@dataclass(frozen=True)
class DeliveryReport:
    """The delivery of one run and what the guard made of it; ``held`` is the clerk's message
    when the run must not publish ("" when it may). Counts only: no personal data."""

    kind: str
    scope: tuple[str, ...] | None
    set_by: Mapping[str, str]  # kind, scope -> "option", "profile" or "default"
    previous_run: str | None
    rows_delivered: int  # usable rows of the exports (read, not quarantined), in the scope
    scope_before: int  # the scope's charges in the previous run
    counties_missing: tuple[str, ...] = ()
    max_shrink: float = DEFAULT_MAX_SHRINK
    over_limit: bool = False
    accepted: bool = False
    held: str = ""
    carried: int = 0  # charges carried over from the previous run
    carried_from: str | None = None

    @property
    def shrink(self) -> float:
        """The share of the scope's charges a snapshot drops (0 when it grows, or for an increment)."""
        if self.kind != "snapshot" or not self.scope_before:
            return 0.0
        return max(0.0, (self.scope_before - self.rows_delivered) / self.scope_before)

    def with_carried(self, rows: int, previous_run: str | None) -> DeliveryReport:
        return replace(self, carried=rows, carried_from=previous_run)

    def figures(self) -> dict[str, Any]:
        """What the manifest, the run log and the Prefect artifact say about the delivery."""
        return {
            "kind": self.kind, "scope": STATEWIDE if self.scope is None else list(self.scope),
            "set_by": dict(self.set_by),
            "previous_run": self.previous_run, "charges_delivered": self.rows_delivered,
            "scope_charges_before": self.scope_before if self.previous_run else None,
            "shrink": round(self.shrink, 4), "max_shrink": self.max_shrink, "over_limit": self.over_limit,
            "counties_missing": list(self.counties_missing), "shrink_accepted": self.accepted,
            "carried_over": self.carried, "carried_from": self.carried_from, "held": bool(self.held)}


@dataclass(frozen=True)
class Assessment:
    """What ``assess`` needs: the delivery, who chose it, and the counts to compare."""

    delivery: Delivery
    set_by: Mapping[str, str]
    labels: Sequence[str]  # the exports' names, for the message
    rows_read: int
    by_county: Mapping[str, int]  # usable rows of the exports per county (county_name spelling)
    previous_run: str | None = None
    previous_by_county: Mapping[str, int] = field(default_factory=dict)  # the previous run's charges per county
    max_shrink: float = DEFAULT_MAX_SHRINK
    accept_shrink: bool = False


def assess(a: Assessment) -> DeliveryReport:
    """The shrink guard: hold a snapshot with no usable rows (always), or one that drops more
    than ``max_shrink`` of its scope's charges or a whole county of its scope the previous run
    had (unless ``accept_shrink``). An increment is never held: it removes nothing."""
    d = a.delivery
    scope = d.scope
    before = {c: n for c, n in a.previous_by_county.items() if scope is None or c in scope}
    delivered = int(sum(a.by_county.values()))
    report = DeliveryReport(kind=d.kind, scope=scope, set_by=a.set_by, previous_run=a.previous_run,
                            rows_delivered=delivered, scope_before=int(sum(before.values())), max_shrink=a.max_shrink)
    if d.kind != "snapshot":
        return report  # an increment removes nothing: there is no shrink to guard against
    missing = tuple(sorted(c for c, n in before.items() if n and c != NO_COUNTY and not a.by_county.get(c)))
    report = replace(report, counties_missing=missing)
    report = replace(report, over_limit=report.shrink > a.max_shrink)
    files = ", ".join(a.labels)
    previous = f"run {a.previous_run}" if a.previous_run else "no published run yet"
    untouched = (f"Nothing was published; OUT/latest still points at run {a.previous_run}." if a.previous_run
                 else "Nothing was published.")
    if delivered == 0:
        what = ("has no rows (a header only)" if a.rows_read == 0
                else f"has no usable rows (all {a.rows_read:,} were quarantined)")
        return replace(report, held=(
            f"Held: {files} {what}, so it cannot be a snapshot of {_charges_of(scope)}. {untouched} "
            "Ask for the export again. --accept-shrink does not publish an empty snapshot; an export that "
            "really means 'nothing changed' is an increment (--delivery increment; for the scheduled "
            "deployment: make run-now PARAMS=\"--param delivery=increment\")."))
    if not (report.over_limit or missing):
        return report
    if a.accept_shrink:
        return replace(report, accepted=True)
    problems = []
    if report.over_limit:
        problems.append(f"it has {delivered:,} charges for its scope where {previous} had {report.scope_before:,} "
                        f"({_pct(report.shrink)} fewer; the limit is {_pct(a.max_shrink)})")
    if missing:
        problems.append(f"it has no charge at all for {len(missing)} count{'y' if len(missing) == 1 else 'ies'} "
                        f"{previous} had: {', '.join(missing)}"
                        + ("" if report.over_limit else f" ({delivered:,} charges against {report.scope_before:,})"))
    return replace(report, held=(
        f"Held: the snapshot {files} would shrink {_charges_of(scope)}: "
        + "; and ".join(problems) + f". {untouched} If the export is complete and the drop is real, run it again "
        "with --accept-shrink (for the scheduled deployment: make run-now PARAMS=\"--param accept_shrink=true\"); "
        "if not, "
        "ask for a complete export."))
