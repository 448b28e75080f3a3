"""One filled document per person, county and path: the draft a clerk checks and files.

Input: petition rows (``outputs.petition_rows``). Output:
``petitions/circuit-<n>/documents/<COUNTY>/<person_key>-<path>.docx``, one per path
(``law/readings.yaml``, ``petitions.paths``): an automatic order (§ 2.10(8)), a petition while
serving or after completion (§ 2.10(7)), or a municipal ordinance petition (§ 610.140, with
the ordinance and the municipal court). The document is built from
``templates/petition_document.xml`` (WordprocessingML the project owns): the path's title and
basis, the CR375 person fields, one table row per eligible charge, the agencies to name, and
what a clerk must still check. File names carry the person key, never a name.

Each county's ``drafts.json`` lists its drafts, the cases each covers and the run that prepared
it: on a later night, a draft whose person rows have not changed is carried over from the
previous night as it was (``write_documents(..., previous=...)``), so a night builds only the
drafts of people whose charges changed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd

from expunge.law import readings

CHECKS = (
    "Identity: the name, date of birth and address match the person in the case file.",
    "Each charge against the charging document and judgment (code, statute, amount, disposition).",
    "Every caveat of the charge in the run's data (assumed substance, level or serving status).",
    "The person's current supervision or custody status for petition charges.",
)
#: Checks that belong to a § 2.10(7) petition only.
PETITION_CHECKS = (CHECKS[-1],)
HEADER = ("Case number", "Court", "Approx. date of charge", "County", "Charge", "Disposition", "Path")
#: Title, basis and short name of each path (``law/readings.yaml``, ``petitions.paths``).
PATHS: dict[str, dict[str, Any]] = {k: dict(v) for k, v in readings()["petitions"]["paths"].items()}

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
    'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.styles+xml"/></Types>')
_DOCUMENT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/styles" Target="styles.xml"/></Relationships>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
    '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')


#: Characters XML 1.0 cannot hold (control characters other than tab and line ends, lone
#: surrogates, U+FFFE/U+FFFF): an export's free text may carry them; they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return escape(_NOT_XML.sub("", text))


def _row(cells: list[str], bold: bool = False) -> str:
    rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return "<w:tr>" + "".join(f'<w:tc><w:p><w:r>{rpr}<w:t xml:space="preserve">{c}</w:t></w:r></w:p></w:tc>'
                              for c in cells) + "</w:tr>"


def _para(text: str) -> str:
    return f'<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def _charge_text(r: dict) -> str:
    """A charge as the record gives it: the ordinance (municipal), code, statute and description,
    each once (an ordinance given as the charge code is not repeated)."""
    ordinance, code = _text(r.get("ordinance")), _text(r["charge_code"])
    parts = [f"Ordinance {ordinance}" if ordinance else "", "" if code == ordinance else code, _text(r["statute"]),
             _text(r["description"])]
    return " ".join(dict.fromkeys(p for p in parts if p))


def render_document(person: list[dict], run: dict[str, str], template: str | None = None) -> str:
    """document.xml for one person's eligible charges (records of ``petition_rows``) in one county."""
    first = person[0]
    name = " ".join(_text(first[c]) for c in ("first_name", "middle_name", "last_name") if _text(first[c]))
    county = _text(first["county"]).title()
    county_line = ("City of St. Louis" if first["county"] == "ST. LOUIS CITY" else f"{county} County") + ", Missouri"
    kind = first.get("path") or ("auto" if first["determination"] == "ELIGIBLE_AUTO" else "petition_completed")
    path = PATHS[kind]
    rows = [_row([_text(r["case_number"]), _text(r["court"]), _text(r["approx_charge_date"]),
                  _text(r["county"]).title(),
                  _charge_text(r),
                  _text(r["disposition"]), _text(path["short"])])
            for r in person]
    agencies = sorted({a.strip() for r in person if isinstance(r["agencies_to_name"], str)
                       for a in r["agencies_to_name"].split(";") if a.strip()})
    values = {
        "TITLE": _text(path["title"]), "BASIS": _text(path["basis"]), "PARTY": _text(path["party"]),
        "COURT": _text(first["court"]) or f"Circuit Court of {county}", "COUNTY_LINE": county_line,
        "NAME": name, "BIRTH_DATE": (_text(first["date_of_birth"]) or _text(first["year_of_birth"])
                                     or "not in the export: take it from the case file"),
        "SEX": _text(first["sex"]),
        "RACE": _text(first["race"]), "ADDRESS": _text(first["address"]),
        "HEADER_ROW": _row(list(HEADER), bold=True), "OFFENSE_ROWS": "".join(rows),
        "AGENCY_PARAGRAPHS": "".join(_para(_text(a)) for a in agencies),
        "CHECK_PARAGRAPHS": "".join(_para("☐ " + escape(c)) for c in CHECKS
                                    if kind in ("petition_serving", "petition_completed") or c not in PETITION_CHECKS),
        "CASES": _text(", ".join(dict.fromkeys(str(r["case_number"]) for r in person))),
        "RELIEF": _text(path["relief"]),
        "SIGNATURE_PARAGRAPHS": "".join(_para(_text(line)) for line in path["signature"]),
        "RUN_ID": _text(run.get("run_id", "")), "AS_OF": _text(run.get("as_of", "")),
        "RULES": _text(run.get("rules", "")),
    }
    template = template or (resources.files("expunge.publish") / "templates" / "petition_document.xml").read_text(
        "utf-8")
    return re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: values[m.group(1)], template)


#: Each county's list of its drafts: file, what it covers, a digest of what it was built from
#: and the run that prepared it (``documents/<COUNTY>/drafts.json``; JSON, so that no script
#: gathering the petition CSVs takes it for one).
DRAFTS_INDEX = "drafts.json"


@dataclass(frozen=True)
class Drafts:
    """What ``write_documents`` did: drafts written in this run and carried over unchanged."""

    written: int = 0
    carried: int = 0

    def __add__(self, other: Drafts) -> Drafts:
        return Drafts(self.written + other.written, self.carried + other.carried)

    @property
    def total(self) -> int:
        return self.written + self.carried


def _digest(person: list[dict], run: dict[str, str], template: str, styles: str) -> str:
    """What a draft is built from, but the run that prepares it: the person's petition rows,
    the rule set and the templates."""
    text = json.dumps([run.get("rules", ""), template, styles, person], default=str, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _previous_index(folder: Path | None) -> dict[str, dict[str, str]]:
    path = folder / DRAFTS_INDEX if folder is not None else None
    if path is None or not path.is_file():
        return {}
    try:
        return {str(r["draft"]): r for r in json.loads(path.read_text(encoding="utf-8"))}
    except (ValueError, KeyError, TypeError):
        return {}  # an unreadable list: every draft of the county is built again


def write_documents(rows: pd.DataFrame, folder: Path, run: dict[str, str], previous: Path | None = None) -> Drafts:
    """Write one DOCX per person and county under ``folder`` (a run's ``petitions/``), and each
    county's ``drafts.csv``.

    ``previous``: the previous night's ``petitions/``. A draft whose person rows, rule set and
    templates are what they were there is copied from it, not built again, so it still says
    which run prepared it; only the drafts of people whose charges changed are new."""
    template = (resources.files("expunge.publish") / "templates" / "petition_document.xml").read_text("utf-8")
    styles = (resources.files("expunge.publish") / "templates" / "styles.xml").read_text("utf-8")
    people: dict[tuple[str, str, str, str], list[dict]] = {}
    for record in rows.dropna(subset=["person_key"]).to_dict("records"):  # one pass, plain dicts
        key = (str(record["circuit"]), str(record["county"]), record["person_key"], str(record.get("path") or ""))
        people.setdefault(key, []).append(record)
    done = Drafts()
    index: dict[Path, list[dict[str, object]]] = {}
    before: dict[Path, dict[str, dict[str, str]]] = {}
    for (circuit, county, key, path), person in sorted(people.items()):
        where = Path(f"circuit-{safe_name(circuit)}") / "documents" / safe_name(county)
        target = folder / where
        if where not in index:
            target.mkdir(parents=True, exist_ok=True)
            index[where] = []
            before[where] = _previous_index(previous / where if previous is not None else None)
        name = f"{key}-{path}.docx" if path else f"{key}.docx"
        digest = _digest(person, run, template, styles)
        old = before[where].get(name)
        entry: dict[str, object] = {"draft": name, "cases": ", ".join(dict.fromkeys(str(r["case_number"])
                                                                                    for r in person)),
                                    "charges": len(person), "digest": digest,
                                    "prepared_by": run.get("run_id", ""), "prepared_as_of": run.get("as_of", ""),
                                    "carried_over": False}
        if old is not None and old["digest"] == digest and previous is not None and (previous / where / name).is_file():
            shutil.copyfile(previous / where / name, target / name)  # a copy: a clerk may edit either
            entry.update(prepared_by=old["prepared_by"], prepared_as_of=old["prepared_as_of"], carried_over=True)
            done += Drafts(carried=1)
        else:
            with zipfile.ZipFile(target / name, "w", zipfile.ZIP_DEFLATED) as z:
                for part, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS),
                                   ("word/_rels/document.xml.rels", _DOCUMENT_RELS), ("word/styles.xml", styles),
                                   ("word/document.xml", render_document(person, run, template))):
                    z.writestr(zipfile.ZipInfo(part, date_time=(2000, 1, 1, 0, 0, 0)), text.encode("utf-8"),
                               compress_type=zipfile.ZIP_DEFLATED)
            done += Drafts(written=1)
        index[where].append(entry)
    for where, entries in index.items():
        lines = ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries)
        (folder / where / DRAFTS_INDEX).write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    return done


def safe_name(name: str) -> str:
    """A file or folder name from free text (county, circuit)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "UNKNOWN"
