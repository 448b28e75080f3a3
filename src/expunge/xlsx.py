"""XLSX workbooks for clerks: one sheet per table, frozen header row, sized columns.

An XLSX file is a zip of XML parts. Writing the sheet XML directly, a column at a time
with vectorized string operations, is tens of times faster than a cell-by-cell library and
has no save timestamps, so the same data always gives the same bytes. Text is written as
inline strings, numbers as numbers, booleans as booleans, dates as ISO text.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

MAX_WIDTH = 60
#: Larger tables stay CSV only: Excel stops at 1,048,576 rows, and clerks work a county at a time.
MAX_ROWS = 200_000
_INVALID_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def sheet_name(name: str, taken: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "Sheet"
    candidate, i = base, 2
    while candidate.upper() in taken:
        suffix = f" ({i})"
        candidate, i = base[: 31 - len(suffix)] + suffix, i + 1
    taken.add(candidate.upper())
    return candidate


def column_letter(i: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _escape(text: pa.Array) -> pa.Array:
    t = pc.replace_substring_regex(text, _INVALID_XML, "")
    for old, new in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        t = pc.replace_substring(t, old, new)
    return t


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _values(values: pd.Series) -> tuple[pa.Array, str]:
    """A column's cell values as text and the cell type ("b", "n" or "inlineStr")."""
    if pd.api.types.is_bool_dtype(values):
        flags = pa.array(values.astype("boolean"), type=pa.bool_())
        return pc.if_else(flags, "1", "0"), "b"
    if pd.api.types.is_numeric_dtype(values):
        num = pa.array(pd.to_numeric(values).astype("float64"), type=pa.float64(), from_pandas=True)
        whole = pc.equal(pc.floor(num), num)
        text = pc.if_else(whole, pc.cast(pc.cast(pc.if_else(whole, num, 0.0), pa.int64()), pa.string()),
                          pc.cast(num, pa.string()))
        return text, "n"
    arr = pa.array(values, from_pandas=True)
    if pa.types.is_timestamp(arr.type):  # ISO 8601, as Python's isoformat writes it
        arr = pc.strftime(arr, "%Y-%m-%dT%H:%M:%S")
    return _escape(pc.cast(arr, pa.string())), "inlineStr"


def _cells(values: pd.Series, ref: pa.Array) -> tuple[pa.Array, int]:
    """XML of one column's cells ('' where the value is missing) and its longest text."""
    text, kind = _values(values)
    if kind == "inlineStr":
        xml = _join('<c r="', ref, '" t="inlineStr"><is><t xml:space="preserve">', text, "</t></is></c>")
    else:
        xml = _join('<c r="', ref, '" t="b"><v>' if kind == "b" else '"><v>', text, "</v></c>")
    longest = pc.max(pc.utf8_length(text)).as_py() if len(text) else 0
    return pc.fill_null(xml, ""), int(longest or 0)


def _sheet_xml(frame: pd.DataFrame) -> str:
    n = len(frame)
    rows = pc.cast(pa.array(np.arange(2, n + 2)), pa.string())
    header = "".join(
        f'<c r="{column_letter(i)}1" t="inlineStr"><is><t>{_escape(pa.array([str(c)]))[0].as_py()}</t></is></c>'
        for i, c in enumerate(frame.columns, start=1))
    cells, widths = [], []
    for i, col in enumerate(frame.columns, start=1):
        xml, longest = _cells(frame[col], _join(column_letter(i), rows))
        cells.append(xml)
        widths.append(min(MAX_WIDTH, max(len(str(col)), longest) + 2))
    lines = "".join(_join('<row r="', rows, '">', *cells, "</row>").to_pylist()) if n else ""
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
            'state="frozen"/></sheetView></sheetViews>'
            f'<cols>{cols}</cols><sheetData><row r="1">{header}</row>{lines}</sheetData></worksheet>')


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame]) -> Path | None:
    """Write ``sheets`` (name -> table) to ``path``; None (nothing written) when a sheet
    would exceed ``MAX_ROWS``."""
    if any(len(f) > MAX_ROWS for f in sheets.values()):
        return None
    taken: set[str] = set()
    names = [sheet_name(n, taken) for n in sheets]
    escape = lambda s: s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")  # noqa: E731
    workbook = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_NS}" '
                f'xmlns:r="{_REL}"><sheets>'
                + "".join(f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, 1))
                + "</sheets></workbook>")
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
            'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, len(names) + 1)) + "</Relationships>")
    types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types '
             'xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
             + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                       for i in range(1, len(names) + 1)) + "</Types>")
    root_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships '
                 'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    parts = {"[Content_Types].xml": types, "_rels/.rels": root_rels, "xl/workbook.xml": workbook,
             "xl/_rels/workbook.xml.rels": rels}
    parts.update({f"xl/worksheets/sheet{i}.xml": _sheet_xml(f) for i, f in enumerate(sheets.values(), 1)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():  # level 1: measured 0.17 s vs 0.51 s on a 62 MB sheet, 19 % larger
            z.writestr(zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)), text.encode("utf-8"),
                       compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return path
