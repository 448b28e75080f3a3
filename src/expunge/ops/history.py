"""Where an output folder keeps its delivery history (``publish.history``), and putting a
run's new history in place when the run commits."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from expunge.publish import history

HISTORY_DIR = "history"
HISTORY_FILE = "eligible.parquet"


def path(out_dir: Path | str) -> Path:
    """The output folder's history file."""
    return Path(out_dir) / HISTORY_DIR / HISTORY_FILE


def load(out_dir: Path | str) -> pd.DataFrame:
    """The output folder's history (empty before its first published run)."""
    return history.read(path(out_dir))


def install(out_dir: Path | str, staged: Path) -> None:
    """Put the history a run wrote at ``staged`` (on the output folder's file system) in
    place, by one rename; the folder and file readable by their owner only."""
    folder = path(out_dir).parent
    folder.mkdir(exist_ok=True)
    folder.chmod(0o700)
    Path(staged).chmod(0o600)
    os.replace(staged, path(out_dir))
