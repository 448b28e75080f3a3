"""XLSX workbooks for clerks: one sheet per table, frozen header row, sized columns, and
no save timestamps inside (the same data gives the same bytes)."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

FIXED_TIME = "2000-01-01T00:00:00Z"
MAX_WIDTH = 60


def sheet_name(name: str, taken: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "Sheet"
    candidate, i = base, 2
    while candidate.upper() in taken:
        suffix = f" ({i})"
        candidate, i = base[: 31 - len(suffix)] + suffix, i + 1
    taken.add(candidate.upper())
    return candidate


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame]) -> Path:
    """Write ``sheets`` (name -> table) to ``path``."""
    taken: set[str] = set()
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            title = sheet_name(name, taken)
            frame.to_excel(writer, sheet_name=title, index=False)
            ws = writer.sheets[title]
            ws.freeze_panes = "A2"
            for i, col in enumerate(frame.columns, start=1):
                lengths = frame[col].astype(str).str.len()
                width = min(MAX_WIDTH, max(len(str(col)), int(lengths.max()) if len(lengths) else 0) + 2)
                ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width
    _strip_timestamps(path)
    return path


def _strip_timestamps(path: Path) -> None:
    """Fix the zip entry times and the document's created/modified stamps."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                              rb"\g<1>" + FIXED_TIME.encode() + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)
    tmp.replace(path)
