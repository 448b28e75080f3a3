"""Ingest: read exports in bounded blocks, map columns, type values, quarantine bad rows.

Input: CSV or gzipped CSV files (any number), a profile. Output: staging
Parquet parts with the canonical fields plus ``source_file`` and ``source_line``, and
quarantine rows (``source_file``, ``source_line``, ``field``, ``reason``, ``raw_record``).

Nothing is lost and nothing is silent: every data record of every file ends up either in
a staging part or in quarantine, and the counts are reported per file. A row is
quarantined when it has the wrong number of fields, bytes that are not valid in the
file's encoding, NUL bytes, no case number, a date that is not a real date, or a count
number that is not a whole number. A file that cannot be read at all (missing, empty, no
recognisable columns, truncated gzip) stops the run with a message saying what to do.

Memory is bounded by the block size: a block is scanned (``scan``), its good records
parsed by pyarrow, typed and handed to a ``partition.PartitionWriter`` (which writes them
into partitions of whole cases, a batch at a time) before the next block is read. A large
uncompressed file is cut into byte ranges that worker processes ingest side by side; each
cut follows a line feed, and a cut that turns out to fall inside a quoted field (the range
before it ends in an unfinished record) makes ingest read that file again in one piece.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from expunge.errors import InputFileError
from expunge.ingest.delivery import DeliveryReport, outside_scope, outside_scope_reason
from expunge.ingest.partition import PartitionWriter
from expunge.ingest.profiles import ColumnMap, Profile, input_schema, map_columns
from expunge.ingest.scan import CR, NL, scan

DEFAULT_BLOCK_BYTES = 16 << 20
UNIT_BYTES = 64 << 20  # a file is cut for several workers only into ranges at least this long
MAX_RECORD_BYTES = 1 << 20  # a record longer than this is quarantined, not parsed
RAW_KEEP = 2000  # characters of a quarantined record kept for the operator
MIN_YEAR, MAX_YEAR = 1850, 2100

Mapper = Callable[[Callable[..., Any], Sequence[tuple[Any, ...]]], list[Any]]


def in_this_process(fn: Callable[..., Any], args: Sequence[tuple[Any, ...]]) -> list[Any]:
    """``fn(*a)`` for every ``a`` in ``args``, one after another here: the ``Mapper`` a stage
    uses unless the run gives it worker processes (``ops.workers.map_local``)."""
    return [fn(*a) for a in args]

QUARANTINE_SCHEMA = pa.schema([
    ("source_file", pa.string()), ("source_line", pa.int64()), ("field", pa.string()),
    ("reason", pa.string()), ("raw_record", pa.string()),
])


@dataclass(frozen=True)
class FileReport:
    path: str
    label: str
    sha256: str
    bytes: int
    compressed: bool
    rows_read: int = 0
    rows_ok: int = 0
    rows_quarantined: int = 0
    blank_lines: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    unmapped_columns: list[str] = field(default_factory=list)
    missing_fields: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IngestResult:
    """What ingest hands on: per-file accounting, the quarantine, the staged partitions and
    the identity files the people index is built from; once the delivery is taken in
    (``ops.run.stage_ingest``), what the shrink guard made of it and the charges carried over
    from the previous run (staged beside the exports' rows, never counted as rows read)."""

    files: tuple[FileReport, ...]
    quarantine_path: str
    warnings: tuple[str, ...]
    partitions: tuple[list[str], ...]  # staged Parquet files of each partition, in input order
    identities: tuple[str, ...]  # distinct identities, one file per unit of work
    carried: int = 0  # rows carried over from the previous run's saved state (``ingest.carry``)
    delivery: DeliveryReport | None = None

    @property
    def held(self) -> str:
        """The shrink guard's message when this run must not publish, else ""."""
        return self.delivery.held if self.delivery is not None else ""

    def with_duplicates_quarantined(self, per_file: Mapping[str, int]) -> IngestResult:
        """This result once the duplicate rows ``per_file`` (label -> rows) found while deciding
        have left the charges for the quarantine; ``self`` is unchanged."""
        files = tuple(replace(f, rows_ok=f.rows_ok - per_file.get(f.label, 0),
                              rows_quarantined=f.rows_quarantined + per_file.get(f.label, 0)) for f in self.files)
        return replace(self, files=files)

    @property
    def parts(self) -> list[str]:
        return [p for files in self.partitions for p in files]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_ok(self) -> int:
        return sum(f.rows_ok for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def sha256_file(path: Path) -> str:
    """The file's SHA-256, computed once per process for a file that has not changed since."""
    st = Path(path).stat()
    return _sha256(str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


@lru_cache(maxsize=256)
def _sha256(path: str, _size: int, _mtime_ns: int, _inode: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def staging_schema() -> pa.Schema:
    """Arrow schema of the staging parts: canonical fields + source columns."""
    types = {"string": pa.string(), "date": pa.date32(), "integer": pa.int32()}
    fields = [pa.field(n, types[s.type]) for n, s in input_schema().fields.items()]
    return pa.schema([pa.field("source_file", pa.string()), pa.field("source_line", pa.int64()), *fields])


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputFileError(
            f"Input file {path} does not exist. Check the path, and that the export finished copying."
        )
    if path.is_dir():
        raise InputFileError(
            f"{path} is a folder, not an export file. Pass the CSV files inside it (for example {path}/*.csv)."
        )
    if path.stat().st_size == 0:
        raise InputFileError(
            f"Input file {path} is empty (0 bytes). Re-export it, or leave it out of this run."
        )


def _open(path: Path) -> tuple[BinaryIO, bool]:
    with path.open("rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb"), True  # type: ignore[return-value]
    return path.open("rb"), False


def _blocks(fh: BinaryIO, size: int, label: str, limit: int | None = None) -> Iterator[bytes]:
    """``fh`` in blocks of ``size`` bytes, at most ``limit`` bytes in all (None: to the end)."""
    while limit is None or limit > 0:
        try:
            data = fh.read(size if limit is None else min(size, limit))
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            raise InputFileError(
                f"{label} is a damaged or truncated gzip file ({exc}). Copy or export it again."
            ) from exc
        if not data:
            return
        if limit is not None:
            limit -= len(data)
        yield data


def _decode_header(raw: bytes, profile: Profile, label: str) -> list[str]:
    try:
        text = raw.decode(profile.encoding)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"The header line of {label} is not valid {profile.encoding}. Set the file's encoding "
            "in a profile (encoding: latin-1 or cp1252) and pass it with --profile."
        ) from exc
    header = next(csv.reader([text], delimiter=profile.delimiter))
    header = [h.strip().lstrip("\ufeff") for h in header]
    if len(header) == 1:
        for sep, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if sep in header[0]:
                raise InputFileError(
                    f"{label} looks {name}-separated, not separated by {profile.delimiter!r}. "
                    f"Set delimiter: {'tab' if sep == chr(9) else sep!r} in a profile and pass it with --profile."
                )
    return header


@dataclass(frozen=True)
class _Head:
    """A file's header line and where its data starts."""

    compressed: bool
    header: list[str]
    cmap: ColumnMap
    data_start: int  # offset of the first data record in the (decompressed) stream
    line_breaks: int  # line breaks before it


def _read_head(path: Path, profile: Profile, label: str) -> _Head:
    _check_file(path)
    fh, compressed = _open(path)
    with fh:
        head = next(_blocks(fh, 1 << 20, label), b"")
    bom = 3 if head[:3] == b"\xef\xbb\xbf" else 0
    rec = scan(head[bom:], profile.delimiter, final=len(head) < (1 << 20))
    if rec.starts.size == 0:
        if not head.strip(b"\xef\xbb\xbf\r\n"):
            raise InputFileError(f"{label} has no header line. Re-export it with column names in the first line.")
        raise InputFileError(
            f"{label} has no complete header line in its first megabyte; it is probably not a CSV export.")
    header = _decode_header(head[bom + rec.starts[0]:bom + rec.ends[0]], profile, label)
    breaks = int(rec.newlines_before[1]) if rec.starts.size > 1 else rec.newlines_consumed
    return _Head(compressed, header, map_columns(header, profile, label), bom + int(rec.next_starts[0]), breaks)


def preflight(path: Path, profile: Profile, label: str | None = None) -> ColumnMap:
    """Check that a file can be read and its columns recognised, before any work starts.

    Raises:
        InputFileError: with what is wrong and what to do.
    """
    return _read_head(path, profile, label or path.name).cmap


def check_whole_file(path: Path, profile: Profile, label: str | None = None) -> None:
    """``preflight``, and for a gzipped file a read to its end: a delivery truncated past its
    first megabyte shows itself here rather than halfway through a run. Costs one
    decompression of the file (an uncompressed file is not read beyond its head).

    Raises:
        InputFileError: with what is wrong and what to do.
    """
    label = label or path.name
    head = _read_head(path, profile, label)
    if head.compressed:
        with gzip.open(path, "rb") as fh:
            for _ in _blocks(fh, DEFAULT_BLOCK_BYTES, label):  # type: ignore[arg-type]
                pass


class _Quarantine:
    """Collects quarantine rows (few) and writes them at the end."""

    def __init__(self) -> None:
        self.rows: list[pa.Table] = []

    def add(self, label: str, lines: Sequence[int] | np.ndarray, fields: Sequence[str] | np.ndarray,
            reasons: Sequence[str] | np.ndarray, raws: Sequence[str] | np.ndarray) -> None:
        if len(lines) == 0:
            return
        self.rows.append(pa.table({
            "source_file": pa.array([label] * len(lines), pa.string()),
            "source_line": pa.array(np.asarray(lines, dtype=np.int64)),
            "field": pa.array(list(fields), pa.string()),
            "reason": pa.array(list(reasons), pa.string()),
            "raw_record": pa.array([str(r)[:RAW_KEEP] for r in raws], pa.string()),
        }, schema=QUARANTINE_SCHEMA))

    def table(self) -> pa.Table:
        return pa.concat_tables(self.rows) if self.rows else QUARANTINE_SCHEMA.empty_table()


def _record_text(block: bytes, start: int, end: int, encoding: str) -> str:
    return block[start:end].decode(encoding, errors="replace")


def _decode_payload(payload: bytes, offsets: np.ndarray, encoding: str) -> tuple[bytes, np.ndarray]:
    """UTF-8 bytes of ``payload`` and a mask of records that could not be decoded.

    ``offsets`` are record start positions in ``payload`` (plus its length at the end).
    """
    bad = np.zeros(len(offsets) - 1, dtype=bool)
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")
    pos = 0
    while True:
        try:
            text = payload[pos:].decode(encoding)
            break
        except UnicodeDecodeError as exc:
            k = int(np.searchsorted(offsets, pos + exc.start, side="right") - 1)
            bad[k] = True
            pos = int(offsets[k + 1])
    if not bad.any():
        return (payload if utf8 else text.encode("utf-8")), bad
    keep = np.repeat(~bad, np.diff(offsets))
    clean = np.frombuffer(payload, dtype=np.uint8)[keep].tobytes()
    return (clean if utf8 else clean.decode(encoding).encode("utf-8")), bad


def _parse_records(payload: bytes, expected: int, ncols: int, delimiter: str) -> tuple[pa.Table, np.ndarray]:
    """Parse well-formed records with pyarrow. Returns the table and a mask of records that
    could not be parsed on their own (only possible when pyarrow and the scanner disagree)."""
    names = [f"c{i}" for i in range(ncols)]
    failed = np.zeros(expected, dtype=bool)
    if expected == 0:
        return pa.table({n: pa.array([], pa.string()) for n in names}), failed
    table = pacsv.read_csv(
        pa.py_buffer(payload),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=True, block_size=1 << 26),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                         ignore_empty_lines=True),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=False,
                                             quoted_strings_can_be_null=False),
    )
    if table.num_rows == expected:
        return table, failed
    # Rare: unusual quoting made the parsers disagree on boundaries. Parse each record on
    # its own with Python's csv so every record keeps its line number, and quarantine any
    # record that does not come out as exactly one row of the right width.
    rec = scan(payload, delimiter, final=True)
    offsets = np.concatenate((rec.starts, [len(payload)]))
    rows: list[list[str]] = []
    for k in range(expected):
        text = payload[offsets[k]:offsets[k + 1]].decode("utf-8")
        parsed = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
        if len(parsed) == 1 and len(parsed[0]) == ncols:
            rows.append(parsed[0])
        else:
            failed[k] = True
    cols = list(zip(*rows, strict=True)) if rows else [()] * ncols
    return pa.table({n: pa.array(list(c), pa.string()) for n, c in zip(names, cols, strict=True)}), failed


def _parse_dates(values: pa.ChunkedArray | pa.Array, formats: Sequence[str]) -> tuple[pa.Array, np.ndarray]:
    """Dates parsed once per distinct string. Returns (date32 array, invalid mask)."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    enc = pc.dictionary_encode(arr)
    uniques = pd.Series(enc.dictionary.to_pylist(), dtype="str")
    parsed = pd.Series(pd.NaT, index=uniques.index, dtype="datetime64[s]")
    for fmt in formats:
        todo = parsed.isna() & uniques.notna()
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime(uniques[todo], format=fmt, errors="coerce")
    year = parsed.dt.year
    parsed = parsed.where((year >= MIN_YEAR) & (year <= MAX_YEAR))
    dict_dates = pa.array(parsed.dt.date, type=pa.date32())
    idx = enc.indices
    out = pc.take(dict_dates, idx)
    invalid = (pc.is_valid(arr).to_numpy(zero_copy_only=False)
               & pc.is_null(out).to_numpy(zero_copy_only=False))
    return out, invalid


def _type_block(raw: pa.Table, cmap: ColumnMap, profile: Profile, label: str,
                lines: np.ndarray, scope: tuple[str, ...] | None = None
                ) -> tuple[pa.Table, np.ndarray, list[str], list[str]]:
    """Canonical, typed columns for one block; a row of a county outside ``scope`` (None:
    statewide) is quarantined. Returns (table, bad mask, field, reason)."""
    schema = input_schema()
    n = raw.num_rows
    columns: dict[str, pa.Array] = {}
    for name in schema.fields:
        if name in cmap.fields:
            col = pc.utf8_trim_whitespace(raw.column(cmap.fields[name]))
            col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        elif name in profile.defaults:
            col = pa.array([profile.defaults[name]] * n, pa.string())
        else:
            col = pa.nulls(n, pa.string())
        columns[name] = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    problems: list[tuple[str, np.ndarray, np.ndarray]] = []  # (field, mask, values)
    case = columns["case_number"]
    problems.append(("case_number", pc.is_null(case).to_numpy(zero_copy_only=False), None))  # type: ignore[arg-type]
    if scope is not None:
        problems.append(("county", outside_scope(columns["county"], scope), columns["county"]))
    for name in schema.of_type("date"):
        if name in cmap.fields:
            parsed, invalid = _parse_dates(columns[name], profile.date_formats)
            problems.append((name, invalid, columns[name]))
            columns[name] = parsed
        else:
            columns[name] = pa.nulls(n, pa.date32())
    for name in schema.of_type("integer"):
        text = columns[name]
        ok = pc.match_substring_regex(text, r"^[0-9]{1,9}$")
        invalid = (pc.is_valid(text).to_numpy(zero_copy_only=False)
                   & ~pc.fill_null(ok, False).to_numpy(zero_copy_only=False))
        problems.append((name, invalid, text))
        columns[name] = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.int32())
    bad = np.zeros(n, dtype=bool)
    fields = np.full(n, "", dtype=object)
    reasons = np.full(n, "", dtype=object)
    for name, mask, values in problems:
        if not mask.any():
            continue
        rows = np.flatnonzero(mask)
        if name == "case_number":
            msg = np.full(rows.size, "case_number is empty: the row cannot be tied to a case", dtype=object)
        elif name == "county":
            shown = values.take(pa.array(rows)).to_pylist()
            msg = np.array([outside_scope_reason(v, scope) for v in shown], dtype=object)  # type: ignore[arg-type]
        elif schema.fields[name].type == "date":
            shown = values.take(pa.array(rows)).to_pylist()
            msg = np.array([f"{name} {v!r} is not a real date (formats tried: {', '.join(profile.date_formats)})"
                            for v in shown], dtype=object)
        else:
            shown = values.take(pa.array(rows)).to_pylist()
            msg = np.array([f"{name} {v!r} is not a whole number" for v in shown], dtype=object)
        first = rows[~bad[rows]]
        fields[first] = name
        reasons[rows] = np.where(reasons[rows] == "", msg, reasons[rows] + "; " + msg)
        bad[rows] = True
    keep = pa.array(~bad)
    out = {"source_file": pa.array([label] * n, pa.string()), "source_line": pa.array(lines, pa.int64())}
    out.update(columns)
    table = pa.table(out, schema=staging_schema()).filter(keep)
    return table, bad, list(fields[bad]), list(reasons[bad])


@dataclass(frozen=True)
class _Unit:
    """A contiguous byte range of one file, ingested by one worker. ``start`` is a record
    boundary; ``end`` (None: the end of the file) is where the next unit starts."""

    number: int
    path: str
    label: str
    start: int
    end: int | None
    data_start: int  # where the file's first data record starts
    line_breaks: int  # line breaks before ``data_start``
    header: list[str]
    cmap: ColumnMap


@dataclass
class _UnitResult:
    rows_read: int
    rows_ok: int
    rows_quarantined: int
    blank_lines: int
    quarantine: pa.Table
    files: list[list[str]]  # per partition
    identities: str
    complete: bool  # the unit's last record ended exactly at ``end``


def _ingest_unit(unit: _Unit, profile: Profile, staging_dir: Path, partitions: int, block_bytes: int,
                 scope: tuple[str, ...] | None = None) -> _UnitResult:
    """Scan, parse, type and write one unit's records (see the module docstring)."""
    path, label, delim, expected = Path(unit.path), unit.label, profile.delimiter, len(unit.header)
    quarantine = _Quarantine()
    sink = PartitionWriter(staging_dir / f"unit-{unit.number:04d}", partitions)
    read = ok = held = blanks = 0
    carry = b""
    # Line breaks before the start of ``carry``: a later unit counts those in the units
    # before it itself (a quick pass over bytes), so no unit waits for another.
    line_base = unit.line_breaks + _line_breaks(unit.path, unit.data_start, unit.start)
    fh, _ = _open(path)
    with fh:
        fh.seek(unit.start)
        blocks = _blocks(fh, block_bytes, label, None if unit.end is None else unit.end - unit.start)
        exhausted = False
        while not exhausted:
            data = next(blocks, None)
            exhausted = data is None
            block = carry + (data or b"")
            if not block:
                break
            rec = scan(block, delim, final=exhausted and unit.end is None)
            if rec.starts.size == 0:
                if len(block) > MAX_RECORD_BYTES * 64:
                    raise InputFileError(f"{label}: a single record is longer than {len(block)} bytes; "
                                         "the file is probably not a CSV export (or its quoting is broken).")
                carry = block
                continue
            starts, ends, nexts = rec.starts, rec.ends, rec.next_starts
            lines = line_base + rec.newlines_before + 1
            blank = ends == starts
            blanks += int(blank.sum())
            data_rec = ~blank
            read += int(data_rec.sum())
            wrong = data_rec & (rec.fields != expected)
            too_long = data_rec & ((ends - starts) > MAX_RECORD_BYTES)
            buf = np.frombuffer(block, dtype=np.uint8)
            zero_pos = np.flatnonzero(buf == 0)
            has_nul = np.zeros(starts.size, dtype=bool)
            if zero_pos.size:
                k = np.searchsorted(starts, zero_pos, side="right") - 1
                has_nul[k[k >= 0]] = True
                has_nul &= data_rec
            reasons = np.select(
                [wrong, too_long, has_nul],
                [np.char.add(f"expected {expected} fields, found ", rec.fields.astype(str)),
                 f"record longer than {MAX_RECORD_BYTES} bytes", "contains NUL bytes (binary data)"],
                default="")
            bad = wrong | too_long | has_nul
            rows = np.flatnonzero(bad)
            quarantine.add(label, lines[rows], ["(row)"] * rows.size, reasons[rows],
                           [_record_text(block, int(starts[i]), int(ends[i]), profile.encoding) for i in rows])
            held += int(bad.sum())
            good = data_rec & ~bad
            idx = np.flatnonzero(good)
            if idx.size:
                lengths = nexts - starts
                payload = buf[int(starts[0]):int(nexts[-1])][np.repeat(good, lengths)].tobytes()
                offsets = np.concatenate(([0], np.cumsum(lengths[good])))
                if payload and payload[-1:] != b"\n":
                    payload += b"\n"
                payload, undecodable = _decode_payload(payload, offsets, profile.encoding)
                if undecodable.any():
                    rows = idx[undecodable]
                    quarantine.add(label, lines[rows], ["(row)"] * rows.size,
                                   [f"bytes that are not valid {profile.encoding}; set the right "
                                    "encoding in the profile (latin-1 or cp1252)"] * rows.size,
                                   [_record_text(block, int(starts[i]), int(ends[i]), "latin-1") for i in rows])
                    idx = idx[~undecodable]
                raw, unparsed = _parse_records(payload, idx.size, expected, delim)
                if unparsed.any():
                    rows = idx[unparsed]
                    quarantine.add(label, lines[rows], ["(row)"] * rows.size,
                                   ["the record's quoting could not be read (check for stray quote marks)"] * rows.size,
                                   [_record_text(block, int(starts[i]), int(ends[i]), profile.encoding) for i in rows])
                    idx = idx[~unparsed]
                table, row_bad, bfields, breasons = _type_block(raw, unit.cmap, profile, label, lines[idx], scope)
                if row_bad.any():
                    rows = idx[row_bad]
                    quarantine.add(label, lines[rows], bfields, breasons,
                                   [_record_text(block, int(starts[i]), int(ends[i]), profile.encoding) for i in rows])
                held += int(undecodable.sum()) + int(unparsed.sum()) + int(row_bad.sum())
                ok += table.num_rows
                if table.num_rows:
                    sink.write(table)
            line_base += rec.newlines_consumed
            carry = block[rec.consumed:]
    files, who = sink.close()
    return _UnitResult(read, ok, held, blanks, quarantine.table(), files, who, complete=not carry)


def _line_breaks(path: str, start: int, end: int, block_bytes: int = DEFAULT_BLOCK_BYTES) -> int:
    """Line breaks in ``[start, end)`` of a plain file, counted as ``scan`` counts them:
    line feeds, and carriage returns not followed by one (``end`` follows a line feed)."""
    n, cr_last = 0, False
    with open(path, "rb") as fh:
        fh.seek(start)
        for block in _blocks(fh, block_bytes, path, end - start):
            buf = np.frombuffer(block, dtype=np.uint8)
            n += int(cr_last and buf[0] != NL) + int(np.count_nonzero(buf == NL))
            cr = np.flatnonzero(buf == CR)
            inner = cr[cr + 1 < buf.size]
            n += int(np.count_nonzero(buf[inner + 1] != NL))
            cr_last = bool(cr.size) and int(cr[-1]) == buf.size - 1
    return n + int(cr_last)


def _split(path: Path, start: int, pieces: int) -> list[int]:
    """Where to cut ``path`` after ``start`` into about ``pieces`` equal ranges: just after a
    line feed near each cut. A line feed inside a quoted field is possible; the unit before
    such a cut then finds its last record unfinished, and ``ingest`` reads that file again
    in one piece."""
    size = path.stat().st_size
    cuts = [start]
    with path.open("rb") as fh:
        for j in range(1, pieces):
            at = start + (size - start) * j // pieces
            fh.seek(at)
            found = fh.read(1 << 20).find(b"\n")
            if found >= 0 and at + found + 1 < size and at + found + 1 > cuts[-1]:
                cuts.append(at + found + 1)
    return cuts


def ingest(inputs: Sequence[str | Path], profile: Profile, staging_dir: Path, quarantine_path: Path,
           block_bytes: int = DEFAULT_BLOCK_BYTES, partitions: int = 1, workers: int = 1,
           mapper: Mapper | None = None, sha256s: Sequence[str] | None = None,
           unit_bytes: int | None = None, scope: tuple[str, ...] | None = None) -> IngestResult:
    """Ingest every input file; see the module docstring.

    An uncompressed file larger than ``unit_bytes`` (default ``UNIT_BYTES``) is cut into up
    to ``workers`` byte ranges that ``mapper`` (``ops.workers.map_local``; by default one after
    another, here) ingests side by side; rows are written straight into ``partitions``
    partitions of whole cases.
    The rows, their order within each partition, and the line numbers are the same however
    the files are cut. ``sha256s``: the files' checksums when the caller has them already.
    ``scope``: the counties the delivery covers (None: statewide); rows of other counties are
    quarantined.

    Raises:
        InputFileError: a file cannot be read at all; the message says what to do.
    """
    run = mapper or in_this_process
    unit_bytes = unit_bytes or UNIT_BYTES
    staging_dir.mkdir(parents=True, exist_ok=True)
    reports: list[FileReport] = []
    units: list[list[_Unit]] = []
    labels: set[str] = set()
    n = 0  # units so far
    for i, item in enumerate(inputs):
        path = Path(item)
        label = path.name if path.name not in labels else str(path)
        labels.add(label)
        head = _read_head(path, profile, label)
        reports.append(FileReport(
            path=str(path), label=label, sha256=sha256s[i] if sha256s else sha256_file(path),
            bytes=path.stat().st_size, compressed=head.compressed,
            columns={k: head.header[c] for k, c in head.cmap.fields.items()},
            unmapped_columns=list(head.cmap.unmapped), missing_fields=list(head.cmap.missing)))
        pieces = 1 if head.compressed else max(1, min(workers, (path.stat().st_size - head.data_start) // unit_bytes))
        cuts = _split(path, head.data_start, pieces) if pieces > 1 else [head.data_start]
        units.append([_Unit(n + j, str(path), label, a, b, head.data_start, head.line_breaks, head.header, head.cmap)
                      for j, (a, b) in enumerate(zip(cuts, [*cuts[1:], None], strict=True))])
        n += len(cuts)
    results = run(_ingest_unit, [(u, profile, staging_dir, partitions, block_bytes, scope) for f in units for u in f])
    by_file: list[list[_UnitResult]] = []
    for f in units:
        by_file.append(results[:len(f)])
        results = results[len(f):]
    for k, (f, done) in enumerate(zip(units, by_file, strict=True)):
        if all(r.complete for r in done[:-1]):
            continue
        # A cut fell inside a quoted field: read this file again in one piece.
        for r in done:
            for path in {*(p for files in r.files for p in files), r.identities}:
                Path(path).unlink(missing_ok=True)
        whole = replace(f[0], number=n, end=None)  # a fresh folder
        n += 1
        by_file[k] = [_ingest_unit(whole, profile, staging_dir, partitions, block_bytes, scope)]
    warnings: list[str] = []
    reports = [replace(report, rows_read=sum(r.rows_read for r in done), rows_ok=sum(r.rows_ok for r in done),
                       rows_quarantined=sum(r.rows_quarantined for r in done),
                       blank_lines=sum(r.blank_lines for r in done))
               for report, done in zip(reports, by_file, strict=True)]
    for report in reports:
        if report.rows_read == 0:
            warnings.append(f"{report.label} has a header but no data rows.")
        if report.unmapped_columns:
            warnings.append(f"{report.label}: columns not used: {', '.join(report.unmapped_columns)}.")
    every = [r for done in by_file for r in done]
    quarantine = pa.concat_tables([r.quarantine for r in every])
    quarantine = quarantine.sort_by([("source_file", "ascending"), ("source_line", "ascending")])
    pq.write_table(quarantine, quarantine_path, compression="zstd")
    return IngestResult(files=tuple(reports), quarantine_path=str(quarantine_path), warnings=tuple(warnings),
                        partitions=tuple([p for r in every for p in r.files[k]] for k in range(max(1, partitions))),
                        identities=tuple(r.identities for r in every))
