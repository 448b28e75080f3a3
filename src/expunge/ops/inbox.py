"""The inbox: the folder county systems drop nightly exports into.

Before planning, ``scan`` lists the exports waiting in the inbox and splits them into new ones,
re-deliveries (same bytes as an export already published from the output folder, under
another name, per ``ledger/files.csv``) and exports already published under the same name
that are still in the inbox (nothing moves them; they are not news every night). Hidden files and names ending
in ``.part``, ``.tmp`` or ``.partial`` are skipped: a delivery is copied under such a
name and renamed when complete, so a half-copied file is never read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from expunge.errors import InputFileError
from expunge.ingest.read import sha256_file
from expunge.ops.ledger import processed_files

IN_PROGRESS = (".part", ".tmp", ".partial", ".crdownload")


@dataclass(frozen=True)
class InboxScan:
    """Exports in an inbox: ``new`` (to process, by name), ``redelivered`` (path, run id
    that already published the same bytes under another name) and ``published`` (path, run
    id that published this very file: same name, same bytes)."""

    new: tuple[Path, ...] = ()
    redelivered: tuple[tuple[Path, str], ...] = field(default_factory=tuple)
    published: tuple[tuple[Path, str], ...] = field(default_factory=tuple)


def scan(inbox: Path, out_dir: Path) -> InboxScan:
    """What is waiting in ``inbox`` for the output folder ``out_dir``.

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
    new, again, published = [], [], []
    for path in sorted(inbox.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.name.lower().endswith(IN_PROGRESS):
            continue
        sha = sha256_file(path)
        if (sha, path.name) in named:
            published.append((path, done[sha]))
        elif sha in done:
            again.append((path, done[sha]))
        else:
            new.append(path)
    return InboxScan(tuple(new), tuple(again), tuple(published))
