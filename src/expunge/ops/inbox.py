"""The inbox: the folder county systems drop nightly exports into.

Before planning, ``scan`` lists the exports waiting in the inbox and splits them into new ones,
re-deliveries (same bytes as an export already published from the output folder, under
another name, per ``ledger/files.csv``) and exports already published under the same name
that are still in the inbox (nothing moves them; they are not news every night). Hidden files and names ending
in ``.part``, ``.tmp`` or ``.partial`` are skipped: a delivery is copied under such a
name and renamed when complete, so a half-copied file is never read.

Each new export is read on its own before the night's run is planned (its header and columns,
a gzipped one to its end): one that cannot be read (empty, no recognisable columns, a truncated
gzip, no permission) is listed in ``unreadable`` with the reason, and the night goes on with the
others. Nothing is moved or deleted: the clerk removes or replaces the file in the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from expunge.errors import InputFileError
from expunge.ingest.profiles import Profile
from expunge.ingest.read import check_whole_file, sha256_file
from expunge.ops.ledger import processed_files

IN_PROGRESS = (".part", ".tmp", ".partial", ".crdownload")


@dataclass(frozen=True)
class InboxScan:
    """Exports in an inbox: ``new`` (to process, by name), ``redelivered`` (path, run id
    that already published the same bytes under another name), ``published`` (path, run
    id that published this very file: same name, same bytes) and ``unreadable`` (path, the
    reason a clerk reads: new exports that cannot be read)."""

    new: tuple[Path, ...] = ()
    redelivered: tuple[tuple[Path, str], ...] = field(default_factory=tuple)
    published: tuple[tuple[Path, str], ...] = field(default_factory=tuple)
    unreadable: tuple[tuple[Path, str], ...] = field(default_factory=tuple)


def scan(inbox: Path, out_dir: Path, profile: Profile | None = None) -> InboxScan:
    """What is waiting in ``inbox`` for the output folder ``out_dir``. With a ``profile``,
    each new export is also read on its own (``ingest.read.check_whole_file``) and one that
    cannot be read goes to ``unreadable`` instead of ``new``.

    Raises:
        InputFileError: the inbox is missing or not a folder.
    """
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise InputFileError(f"The inbox {inbox} is not a folder. Create it, or point --inbox at the folder the "
                             "exports are delivered to.")
    seen = processed_files(out_dir)
    done = dict(zip(seen["sha256"], seen["run_id"], strict=True))
    named = set(zip(seen["sha256"], seen["file"], strict=True))
    new, again, published, unreadable = [], [], [], []
    for path in sorted(inbox.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name.lower().endswith(IN_PROGRESS):
            continue
        try:
            sha = sha256_file(path)
        except OSError as exc:
            unreadable.append((path, _cannot_open(path, exc)))
            continue
        if (sha, path.name) in named:
            published.append((path, done[sha]))
        elif sha in done:
            again.append((path, done[sha]))
        elif profile is not None and (problem := unreadable_reason(path, profile)):
            unreadable.append((path, problem))
        else:
            new.append(path)
    return InboxScan(tuple(new), tuple(again), tuple(published), tuple(unreadable))


def unreadable_reason(path: Path, profile: Profile) -> str | None:
    """Why the export at ``path`` cannot be read (the library's message), or None when it can."""
    try:
        check_whole_file(path, profile)
    except InputFileError as exc:
        return str(exc)
    except OSError as exc:
        return _cannot_open(path, exc)
    return None


def _cannot_open(path: Path, exc: OSError) -> str:
    return f"Input file {path} cannot be opened ({exc.strerror or exc}). Check its permissions, or copy it again."


def left_out_message(path: Path, reason: str, inbox: Path) -> str:
    """What a clerk reads about an export of the inbox that a run left out."""
    return (f"{path.name} could not be read and was left out of this run: {reason} Remove it from the inbox "
            f"{inbox}, or replace it there with a complete export; until then every run leaves it out and says so.")


def nothing_readable_message(unreadable: tuple[tuple[Path, str], ...], inbox: Path) -> str:
    """The failure of a night none of whose new exports can be read: each one and its reason."""
    reasons = " ".join(f"[{p.name}] {reason}" for p, reason in unreadable)
    return (f"None of the {len(unreadable)} new export(s) in the inbox {inbox} could be read, so nothing was "
            f"published and the previous results are untouched. {reasons} Remove or replace each of them in the "
            "inbox, then run again.")
