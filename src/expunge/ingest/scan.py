"""Find CSV records in a block of bytes: where each starts and ends, which physical line it
starts on and how many fields it has, without parsing the fields.

Why: pyarrow parses CSV fast but cannot say on which line a bad row sat, and drops rows
with the wrong number of fields. Scanning the bytes first (numpy, no per-row Python) gives
every record its line number and field count, so ingest can quarantine bad rows with file,
line and reason, then hand only well-formed records to pyarrow.

Quoting follows RFC 4180 as pyarrow and Python's ``csv`` read it: a quote opens a quoted
field only at the start of a field; inside one, ``""`` is a literal quote and a single
quote closes it; a quote in the middle of an unquoted field (``12" BLADE``) is literal.
Runs of consecutive quotes decide the state: at a field start an odd run flips it, any
other odd run closes a quoted field (or leaves an unquoted one unquoted), an even run
changes nothing. That is a sequence of "flip" and "reset" steps, which cumulative sums
evaluate for the whole block at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NL, CR, QUOTE = 10, 13, 34


@dataclass(frozen=True)
class Records:
    """Complete records found in a block (offsets relative to the block)."""

    starts: np.ndarray  # int64, first byte of each record
    ends: np.ndarray  # int64, one past the last content byte (before CR/LF)
    next_starts: np.ndarray  # int64, first byte after the record's line ending
    fields: np.ndarray  # int64, field count (delimiters outside quotes + 1)
    newlines_before: np.ndarray  # int64, line feeds in the block before each record start
    consumed: int  # bytes of the block covered by complete records
    newlines_consumed: int  # line feeds inside the consumed bytes


def _quote_state(buf: np.ndarray, delim: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of quote runs and the quoting state after each run (1 = inside quotes)."""
    is_q = buf == QUOTE
    pos = np.flatnonzero(is_q)
    if pos.size == 0:
        return pos, np.zeros(0, dtype=np.int8)
    # Split quote positions into runs of consecutive bytes.
    breaks = np.flatnonzero(np.diff(pos) != 1) + 1
    run_start = pos[np.concatenate(([0], breaks))]
    run_len = np.diff(np.concatenate((np.concatenate(([0], breaks)), [pos.size])))
    prev = np.where(run_start > 0, buf[np.maximum(run_start - 1, 0)], NL)
    at_field_start = (prev == delim) | (prev == NL) | (prev == CR)
    odd = (run_len & 1) == 1
    flip = odd & at_field_start
    reset = odd & ~at_field_start
    # state_after[i] = parity of flips since the last reset (inclusive of run i).
    flips_cum = np.cumsum(flip.astype(np.int64))
    idx = np.arange(run_start.size)
    last_reset = np.maximum.accumulate(np.where(reset, idx, -1))
    base = np.where(last_reset >= 0, flips_cum[np.maximum(last_reset, 0)], 0)
    state = ((flips_cum - base) & 1).astype(np.int8)
    state = np.where(reset, 0, state).astype(np.int8)
    return run_start + run_len - 1, state  # position of each run's last quote


def _inside_by_parity(buf: np.ndarray, special: np.ndarray, vals: np.ndarray, delim: int) -> np.ndarray | None:
    """For each of the ``special`` positions (quotes, delimiters, line ends; ``vals`` their
    bytes), whether it lies inside quotes, read as the parity of the quotes before it; None
    when parity could differ from the rules above.

    Parity is the state unless an odd run of quotes starts in the middle of a field while
    outside quotes (``12" BLADE``): a flip at a field start, or a run closing a quoted
    field, changes the parity exactly as it changes the state. The common file (quotes only
    around fields, doubled inside them) takes this path: one running sum over the special
    bytes instead of the run-by-run steps over the whole block."""
    is_q = vals == QUOTE
    parity = np.bitwise_and(np.cumsum(is_q, dtype=np.uint8), 1).view(bool)  # counts the byte itself
    # A byte before a quote that is no special byte is a field's content: the quote is mid-field.
    mid_field = np.empty(special.size, dtype=bool)
    mid_field[:1] = special[:1] > 0
    np.not_equal(np.diff(special), 1, out=mid_field[1:])
    if (is_q & mid_field & parity).any():  # the parity before such a quote was 0: outside quotes
        return None
    return parity


def _outside(positions: np.ndarray, run_end: np.ndarray, state: np.ndarray) -> np.ndarray:
    """Which of ``positions`` lie outside quoted fields."""
    if run_end.size == 0:
        return np.ones(positions.size, dtype=bool)
    k = np.searchsorted(run_end, positions, side="right") - 1
    return (k < 0) | (state[np.maximum(k, 0)] == 0)


def scan(block: bytes | memoryview, delimiter: str = ",", final: bool = False) -> Records:
    """Locate the complete records in ``block``.

    Args:
        block: bytes starting at a record boundary.
        delimiter: the one-character field separator.
        final: the block ends the file, so a last record without a line ending counts.

    Returns:
        ``Records``; bytes after ``consumed`` belong to a record that continues in the
        next block.
    """
    buf = np.frombuffer(block, dtype=np.uint8)
    delim = ord(delimiter)
    special = np.flatnonzero((buf == QUOTE) | (buf == delim) | (buf == NL) | (buf == CR))
    vals = buf[special]
    inside = _inside_by_parity(buf, special, vals, delim)
    if inside is None:
        inside = ~_outside(special, *_quote_state(buf, delim))
    # Line breaks: LF, or a CR not followed by LF (old Mac exports; pyarrow and Python's csv
    # both end a record there). A CR closing a non-final block may be half of CRLF: wait.
    is_nl = vals == NL
    cr = vals == CR
    if cr.any():
        at = special[cr]
        follows = buf[np.minimum(at + 1, buf.size - 1)]
        bare = (at + 1 < buf.size) & (follows != NL) | ((at + 1 == buf.size) & final)
        is_nl[np.flatnonzero(cr)[bare]] = True
    nl = special[is_nl]
    ends_at = special[is_nl & ~inside]
    if final and buf.size and (ends_at.size == 0 or ends_at[-1] != buf.size - 1):
        ends_at = np.concatenate((ends_at, [buf.size]))
    starts = np.concatenate(([0], ends_at[:-1] + 1)).astype(np.int64) if ends_at.size else np.zeros(0, np.int64)
    next_starts = np.minimum(ends_at + 1, buf.size).astype(np.int64)
    content_end = ends_at.astype(np.int64)
    has_cr = (content_end > starts) & (buf[np.maximum(content_end - 1, 0)] == CR)
    content_end = content_end - has_cr
    # Fields: delimiters outside quotes, counted per record.
    d = special[(vals == delim) & ~inside]
    before_end = np.searchsorted(d, content_end, side="left")
    before_start = np.searchsorted(d, starts, side="left")
    fields = (before_end - before_start + 1).astype(np.int64)
    newlines_before = np.searchsorted(nl, starts, side="left").astype(np.int64)
    consumed = int(next_starts[-1]) if next_starts.size else 0
    return Records(
        starts=starts, ends=content_end, next_starts=next_starts, fields=fields,
        newlines_before=newlines_before, consumed=consumed,
        newlines_consumed=int(np.searchsorted(nl, consumed, side="left")),
    )
