"""Petition drafts a court accepts: valid WordprocessingML that python-docx and LibreOffice open."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from datetime import date

import docx
import pandas as pd
import pytest

from expunge.publish.documents import HEADER, render_document

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def person(**changes) -> list[dict]:
    row = {"first_name": "JANE", "middle_name": None, "last_name": "DOE", "county": "BOONE",
           "court": "13TH JUDICIAL CIRCUIT", "date_of_birth": date(1990, 4, 5), "year_of_birth": 1990,
           "sex": "F", "race": "W", "address": "1 MAIN ST", "case_number": "13BA-CR00001",
           "approx_charge_date": date(2019, 3, 1), "charge_code": "579.015-004Y202035", "statute": "579.015",
           "description": "POSS MARIJ", "disposition": "GUILTY PLEA", "determination": "ELIGIBLE_AUTO",
           "agencies_to_name": "Boone County Circuit Court; Columbia Police Department"}
    return [{**row, **changes}]


def test_every_draft_of_a_run_opens_in_python_docx_with_its_charge_table(sample_run):
    drafts = sorted((sample_run / "petitions").rglob("documents/*/*.docx"))
    assert drafts
    for path in drafts:
        table = docx.Document(path).tables[0]
        assert [c.text for c in table.rows[0].cells] == list(HEADER), path
        assert len(table._tbl.tblGrid.gridCol_lst) == len(HEADER)


def test_the_table_style_a_draft_names_is_defined_in_it(sample_run):
    path = next((sample_run / "petitions").rglob("*.docx"))
    with zipfile.ZipFile(path) as z:
        styles = ET.fromstring(z.read("word/styles.xml"))
        used = {e.get(f"{W}val") for e in ET.fromstring(z.read("word/document.xml")).iter(f"{W}tblStyle")}
    defined = {s.get(f"{W}styleId") for s in styles.iter(f"{W}style")}
    assert used and used <= defined


def test_characters_xml_cannot_hold_are_dropped_from_every_field():
    xml = render_document(person(agencies_to_name="COLUMBIA\x0b POLICE & SHERIFF\x01", address="1 MAIN\x1f ST"),
                          {"run_id": "r\x02", "as_of": "2026-11-27", "rules": "mo-a3 v2"})
    text = "".join(t.text or "" for t in ET.fromstring(xml).iter(f"{W}t"))  # parses: the XML is valid
    assert "COLUMBIA POLICE & SHERIFF" in text and "1 MAIN ST" in text and "\x0b" not in xml


def test_the_draft_shows_the_full_date_of_birth():
    xml = render_document(person(), {})
    assert "Date of birth: 1990-04-05" in xml


def test_the_date_of_birth_falls_back_to_the_year_where_the_export_has_only_that():
    xml = render_document(person(date_of_birth=pd.NaT), {})
    assert "Date of birth: 1990" in xml


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (.ci/run installs "
                    "Debian's libreoffice-writer-nogui)")
def test_a_draft_converts_to_a_one_page_pdf_in_libreoffice(sample_run, tmp_path):
    path = next((sample_run / "petitions").rglob("documents/*/*.docx"))
    done = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                          capture_output=True, text=True, timeout=180)
    pdf = tmp_path / f"{path.stem}.pdf"
    assert pdf.is_file(), done.stdout + done.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                       check=True, timeout=60)
        assert list(tmp_path.glob("page*.png"))


def test_a_draft_without_a_date_of_birth_says_where_to_find_it():
    xml = render_document(person(date_of_birth=pd.NaT, year_of_birth=None), {})
    assert "Date of birth: not in the export: take it from the case file" in xml


def test_table_borders_come_in_the_order_the_schema_requires():
    from importlib import resources

    template = (resources.files("expunge.publish") / "templates" / "petition_document.xml").read_text("utf-8")
    borders = template.split("<w:tblBorders>", 1)[1].split("</w:tblBorders>", 1)[0]
    order = [b.split()[0].removeprefix("<w:") for b in borders.split("/>") if b]
    assert order == ["top", "left", "bottom", "right", "insideH", "insideV"]


def test_an_ordinance_given_as_the_charge_code_is_written_once():
    xml = render_document(person(ordinance="ORD579.0-001Y202135", charge_code="ORD579.0-001Y202135", statute=None,
                                 path="municipal", determination="ELIGIBLE_PETITION"), {})
    assert xml.count("ORD579.0-001Y202135") == 1 and "Ordinance ORD579.0-001Y202135" in xml
