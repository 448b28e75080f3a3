"""Profiles: map an export's own column layout onto the canonical input fields.

A profile is YAML (format: ``schemas/profile.v1.yaml``): ``columns`` maps canonical fields
to source column names, plus ``encoding``, ``delimiter``, ``date_format`` and ``defaults``, and
what the layout's deliveries are (``delivery``: snapshot or increment; ``scope``: statewide or
the counties it covers; see ``ingest.delivery``).
Fields the profile does not map are found by name or by the aliases listed in
``schemas/charge_export.v1.yaml``. Columns of the export that map to nothing are kept out
of the way (reported in the manifest), never fatal.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from expunge.errors import InputFileError, ProfileError
from expunge.ingest.delivery import KINDS, parse_scope


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    personal: bool
    aliases: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class InputSchema:
    version: int
    fields: dict[str, FieldSpec]
    required: tuple[str, ...]
    required_one_of: tuple[tuple[str, ...], ...]

    @property
    def personal(self) -> tuple[str, ...]:
        return tuple(f for f, s in self.fields.items() if s.personal)

    def of_type(self, kind: str) -> tuple[str, ...]:
        return tuple(f for f, s in self.fields.items() if s.type == kind)


@lru_cache(maxsize=1)
def input_schema() -> InputSchema:
    """The canonical input fields (``schemas/charge_export.v1.yaml``)."""
    doc = yaml.safe_load((resources.files("expunge.schemas") / "charge_export.v1.yaml").read_text("utf-8"))
    fields = {
        name: FieldSpec(
            name=name,
            type=spec.get("type", "string"),
            personal=bool(spec.get("personal")),
            aliases=tuple(spec.get("aliases", [])),
            description=spec.get("description", ""),
        )
        for name, spec in doc["fields"].items()
    }
    return InputSchema(
        version=int(doc["version"]),
        fields=fields,
        required=tuple(doc.get("required", [])),
        required_one_of=tuple(tuple(g) for g in doc.get("required_one_of", [])),
    )


@dataclass(frozen=True)
class Profile:
    name: str
    encoding: str = "utf-8"
    delimiter: str = ","
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    columns: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    source: str = "default"
    delivery: str | None = None  # "snapshot" or "increment"; None: the run's setting decides (default snapshot)
    scope: tuple[str, ...] | None = None  # the counties its exports cover; None: statewide


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def load_profile(path: str | Path | None = None) -> Profile:
    """Load a profile YAML (the shipped default when ``path`` is None).

    Raises:
        ProfileError: malformed YAML, unknown canonical fields, bad encoding or delimiter;
            every problem is listed.
    """
    if path is None:
        text = (resources.files("expunge.schemas") / "profiles" / "default.yaml").read_text("utf-8")
        source = "default"
    else:
        p = Path(path)
        if not p.is_file():
            raise ProfileError(f"Profile {p} does not exist. Check the path given with --profile.")
        text = p.read_text("utf-8")
        source = str(p)
    try:
        doc: Any = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ProfileError(f"Profile {source} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ProfileError(f"Profile {source} must be a YAML mapping (profile:, columns:, ...).")
    schema = input_schema()
    problems: list[str] = []
    known = set(schema.fields)
    columns = doc.get("columns") or {}
    defaults = doc.get("defaults") or {}
    for section, mapping in (("columns", columns), ("defaults", defaults)):
        if not isinstance(mapping, dict):
            problems.append(f"'{section}' must be a mapping of field: value")
            continue
        for key in mapping:
            if key not in known:
                problems.append(
                    f"unknown profile field {key!r} under '{section}'; known fields: {', '.join(schema.fields)}"
                )
    encoding = str(doc.get("encoding", "utf-8"))
    try:
        codecs.lookup(encoding)
    except LookupError:
        problems.append(f"unknown encoding {encoding!r}; use utf-8, latin-1 or cp1252")
    delimiter = str(doc.get("delimiter", ","))
    delimiter = "\t" if delimiter.lower() in ("tab", "\\t") else delimiter
    if len(delimiter) != 1:
        problems.append(f"delimiter must be one character (or 'tab'), not {delimiter!r}")
    formats = doc.get("date_format", ["%Y-%m-%d"])
    formats = [formats] if isinstance(formats, str) else list(formats)
    delivery = doc.get("delivery")
    if delivery is not None and str(delivery) not in KINDS:
        problems.append(f"delivery must be one of {', '.join(KINDS)}, not {delivery!r}")
    scope = None
    try:
        scope = parse_scope(doc.get("scope"))
    except ValueError as exc:
        problems.append(f"scope: {exc}")
    if problems:
        raise ProfileError(
            f"Profile {source} has {len(problems)} problem(s):\n" + "\n".join(f"  - {x}" for x in problems)
        )
    return Profile(
        name=str(doc.get("profile", Path(source).stem)),
        encoding=encoding,
        delimiter=delimiter,
        date_formats=tuple(formats),
        columns={k: str(v) for k, v in columns.items()},
        defaults={k: str(v) for k, v in defaults.items()},
        source=source,
        delivery=None if delivery is None else str(delivery),
        scope=scope,
    )


@dataclass(frozen=True)
class ColumnMap:
    """Which source column feeds each canonical field, for one file."""

    fields: dict[str, int]  # canonical field -> position in the header
    unmapped: tuple[str, ...]  # source columns used by nothing
    missing: tuple[str, ...]  # canonical fields with no column and no default


def map_columns(header: list[str], profile: Profile, file_label: str) -> ColumnMap:
    """Match a file's header to canonical fields (profile first, then names and aliases).

    Raises:
        InputFileError: a column the profile names is absent, or a required field has no
            column, with the file's columns listed and what to do.
    """
    schema = input_schema()
    by_norm: dict[str, int] = {}
    for i, h in enumerate(header):
        by_norm.setdefault(_norm(h), i)
    fields: dict[str, int] = {}
    problems: list[str] = []
    for canonical, source in profile.columns.items():
        i = by_norm.get(_norm(source))
        if i is None:
            problems.append(f"the profile maps {canonical} to column {source!r}, which is not in the file")
        else:
            fields[canonical] = i
    taken = set(fields.values())
    for name, spec in schema.fields.items():
        if name in fields:
            continue
        for candidate in (name, *spec.aliases):
            i = by_norm.get(_norm(candidate))
            if i is not None and i not in taken:
                fields[name] = i
                taken.add(i)
                break
    available = set(fields) | set(profile.defaults)
    for name in schema.required:
        if name not in available:
            looked = ", ".join([name, *schema.fields[name].aliases])
            problems.append(f"no column maps to {name} (looked for: {looked})")
    for group in schema.required_one_of:
        if not available.intersection(group):
            problems.append(f"no column maps to any of {', '.join(group)}")
    if problems:
        shown = ", ".join(repr(h) for h in header[:30]) + (" ..." if len(header) > 30 else "")
        raise InputFileError(
            f"Could not read {file_label}: " + "; ".join(problems) + ". No rows were processed. "
            f"The file's columns are: {shown}. Add the file's column names to a profile "
            '(columns: {field: "Source Column"}) and pass it with --profile.'
        )
    unmapped = tuple(h for i, h in enumerate(header) if i not in taken)
    missing = tuple(f for f in schema.fields if f not in available)
    return ColumnMap(fields=fields, unmapped=unmapped, missing=missing)
