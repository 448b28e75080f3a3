"""Workbooks for clerks: opened with openpyxl and checked."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from expunge.decide.answers import apply_answers


@pytest.fixture(scope="module")
def run_dir(sample_run):
    return sample_run


def test_petition_workbook_has_a_sheet_per_county_with_frozen_header_and_widths(run_dir):
    book_path = next((run_dir / "petitions").rglob("*.xlsx"))
    circuit_csvs = sorted(book_path.parent.glob("*.csv"))
    book = openpyxl.load_workbook(book_path)
    counties = [s for s in book.sheetnames if s not in ("How to use", "lists")]
    assert book.sheetnames[0] == "How to use" and len(counties) == len(circuit_csvs)
    ws = book[counties[0]]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert {"case_number", "last_name", "determination", "agencies_to_name"} <= set(header)
    assert ws.column_dimensions["A"].width >= len("circuit")
    csv = pd.read_csv(circuit_csvs[0])
    assert ws.max_row - 1 == len(csv)


def test_review_queue_workbook_matches_the_csv(run_dir):
    queue = pd.read_csv(run_dir / "review_queue.csv", dtype=str, keep_default_na=False)
    book = pd.read_excel(run_dir / "review_queue.xlsx", sheet_name="review queue", dtype=str).fillna("")
    clerks = queue[queue["answer_column"] != "counsel"]
    assert list(book.columns) == list(queue.columns) and book["case_number"].tolist() == clerks["case_number"].tolist()


def test_rows_waiting_on_counsel_are_grouped_under_their_reading_not_asked_charge_by_charge(run_dir):
    queue = pd.read_csv(run_dir / "review_queue.csv", dtype=str, keep_default_na=False)
    counsel = queue[queue["answer_column"] == "counsel"]
    readings = pd.read_excel(run_dir / "review_queue.xlsx", sheet_name="counsel's readings")
    assert len(counsel) > 0 and readings["charges"].sum() == len(counsel)
    assert sorted(readings["reason_code"]) == sorted(counsel["reason_code"].unique())
    assert (counsel["waits_on"] == "counsel: " + counsel["reason_code"]).all()


def test_an_answered_xlsx_queue_can_be_applied(run_dir, tmp_path):
    book = pd.read_excel(run_dir / "review_queue.xlsx", sheet_name="review queue", dtype=str).fillna("")
    book.loc[0, "answer_decision"] = "NOT_ELIGIBLE"
    edited = tmp_path / "answered.xlsx"
    book.to_excel(edited, index=False)
    assert apply_answers(edited, tmp_path / "answers.csv").answered == 1


def test_one_document_per_person_county_and_path_lists_those_eligible_charges(run_dir):
    import docx

    docs = sorted((run_dir / "petitions").rglob("documents/*/*.docx"))
    rows = pd.concat([pd.read_csv(f, dtype=str) for f in (run_dir / "petitions").rglob("*.csv")])
    assert len(docs) == rows.groupby(["county", "person_key", "path"]).ngroups
    doc_path = docs[0]
    key, path = doc_path.stem.split("-", 1)
    person = rows[(rows["person_key"] == key) & (rows["path"] == path)]
    document = docx.Document(doc_path)
    text = "\n".join(p.text for p in document.paragraphs)
    assert f"{person.iloc[0]['first_name']}" in text and person.iloc[0]["last_name"] in text
    table = document.tables[0]
    assert table.rows[0].cells[0].text == "Case number"
    listed = sorted(r.cells[0].text for r in table.rows[1:])
    assert listed == sorted(person["case_number"])
    assert "Missouri State Highway Patrol, Criminal Justice Information Services" in text
    assert "Before filing, the clerk must check" in text


def test_each_path_has_its_own_title_and_basis(run_dir):
    import docx

    from expunge.publish.documents import PATHS

    for path in (run_dir / "petitions").rglob("documents/*/*.docx"):
        kind = path.stem.split("-", 1)[1]
        first = [p.text for p in docx.Document(path).paragraphs[:2]]
        assert first == [PATHS[kind]["title"], PATHS[kind]["basis"]], path


def test_document_files_are_named_by_person_key_and_path_and_owner_only(run_dir):
    from expunge.publish.documents import PATHS

    for doc in (run_dir / "petitions").rglob("*.docx"):
        key, path = doc.stem.split("-", 1)
        assert len(key) == 16 and path in PATHS and doc.stat().st_mode & 0o077 == 0


def test_a_sheet_streamed_in_chunks_is_the_sheet_written_whole(tmp_path, monkeypatch):
    import expunge.publish.workbooks

    frame = pd.DataFrame({"case": [f"C{i}" for i in range(250)], "n": range(250),
                          "ok": [i % 2 == 0 for i in range(250)],
                          "note": ["a & <b>"] * 249 + ["the longest cell of all"]})
    whole = expunge.publish.workbooks.write_workbook(tmp_path / "whole.xlsx", {"t": frame})
    monkeypatch.setattr(expunge.publish.workbooks, "CHUNK_ROWS", 7)
    seen: list[int] = []

    def chunks():
        for start in range(0, len(frame), 7):
            seen.append(len(frame.iloc[start:start + 7]))
            yield frame.iloc[start:start + 7]

    streamed = expunge.publish.workbooks.write_workbook(tmp_path / "streamed.xlsx", {"t": chunks}, {"t": len(frame)})
    assert max(seen) == 7 and sum(seen) == 2 * len(frame)  # two passes: widths, then cells
    assert streamed.read_bytes() == whole.read_bytes()
    sheet = openpyxl.load_workbook(streamed)["t"]
    assert sheet.max_row == 251 and sheet["D251"].value == "the longest cell of all"
    assert sheet.column_dimensions["D"].width == len("the longest cell of all") + 2


def test_a_sheet_too_long_for_excel_is_not_written(tmp_path):
    import expunge.publish.workbooks

    rows = {"t": expunge.publish.workbooks.MAX_ROWS + 1}
    assert expunge.publish.workbooks.write_workbook(tmp_path / "big.xlsx", {"t": lambda: iter(())}, rows) is None
    assert not (tmp_path / "big.xlsx").exists()


def test_the_review_workbook_opens_on_how_to_answer_every_question(run_dir):
    book = openpyxl.load_workbook(run_dir / "review_queue.xlsx")
    assert book.sheetnames[:2] == ["How to answer", "review queue"] and book["lists"].sheet_state == "hidden"
    guide = pd.read_excel(run_dir / "review_queue.xlsx", sheet_name="How to answer", dtype=str)
    queue = pd.read_csv(run_dir / "review_queue.csv", dtype=str, keep_default_na=False)
    asked = guide.dropna(subset=["answer_column"])
    assert asked["rows"].astype(int).sum() == len(queue)
    assert set(asked["question"]) == set(queue["question"])
    assert (asked["answer_column"] != "").all() and (asked["allowed_answers"] != "").all()


def test_workbooks_have_a_bold_filtered_header_and_date_cells(run_dir):
    import datetime as dt

    for path, sheet in ((run_dir / "review_queue.xlsx", "review queue"),
                        (next((run_dir / "petitions").rglob("*.xlsx")), None)):
        ws = openpyxl.load_workbook(path)[sheet] if sheet else openpyxl.load_workbook(path).worksheets[1]
        header = [c.value for c in ws[1]]
        assert ws["A1"].font.b and ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}{ws.max_row}"
        column = header.index("offense_date" if sheet else "approx_charge_date") + 1
        dated = [ws.cell(r, column).value for r in range(2, ws.max_row + 1) if ws.cell(r, column).value]
        assert dated and all(isinstance(v, dt.datetime) for v in dated)


def test_every_answer_column_has_a_dropdown_or_a_number_check(run_dir):
    ws = openpyxl.load_workbook(run_dir / "review_queue.xlsx")["review queue"]
    header = [c.value for c in ws[1]]
    checks = {header[openpyxl.utils.column_index_from_string(str(v.sqref).split(":")[0].rstrip("0123456789")) - 1]: v
              for v in ws.data_validations.dataValidation}
    assert set(checks) == {"answer_yes_no", "answer_substance", "answer_amount_g", "answer_offense_family",
                           "answer_level", "answer_class", "answer_disposition", "answer_decision"}
    assert checks["answer_amount_g"].type == "decimal" and checks["answer_substance"].type == "list"
    lists = openpyxl.load_workbook(run_dir / "review_queue.xlsx")["lists"]
    cell_range = checks["answer_substance"].formula1.split("!")[1].replace("$", "")
    assert {c.value for row in lists[cell_range] for c in row} == {"MARIJUANA", "THC", "SYNTHETIC_CANNABINOID",
                                                                  "OTHER_DRUG", "UNKNOWN"}


def test_libreoffice_reads_a_petition_workbook_as_the_county_csv(run_dir, tmp_path):
    import shutil
    import subprocess

    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice is not installed (.ci/run installs Debian's libreoffice-calc-nogui)")
    book = next((run_dir / "petitions").rglob("*.xlsx"))
    second_sheet = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,2"  # UTF-8, sheet 2
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                    second_sheet, "--outdir", str(tmp_path), str(book)], check=True, capture_output=True, timeout=180)
    first_county = openpyxl.load_workbook(book).sheetnames[1]
    county = pd.read_csv(book.parent / f"{first_county}.csv", dtype=str)
    converted = pd.read_csv(tmp_path / f"{book.stem}-{first_county}.csv", dtype=str)
    assert len(converted) == len(county) and list(converted.columns) == [*county.columns, "clerk_status"]
    assert converted["case_number"].tolist() == county["case_number"].tolist()


def test_petition_workbooks_say_how_to_use_them_and_take_a_status_per_row(run_dir):
    from expunge.publish.outputs import PETITION_STATUS

    book_path = next((run_dir / "petitions").rglob("*.xlsx"))
    book = openpyxl.load_workbook(book_path)
    guide = pd.read_excel(book_path, sheet_name="How to use", dtype=str).dropna(subset=["path"])
    csvs = pd.concat([pd.read_csv(f, dtype=str) for f in book_path.parent.glob("*.csv")])
    assert guide["charges"].astype(int).sum() == len(csvs) and set(guide["path"]) == set(csvs["path"])
    ws = book[book.sheetnames[1]]
    [check] = ws.data_validations.dataValidation
    assert str(check.sqref).startswith(ws.cell(1, ws.max_column).column_letter)
    assert ws.cell(1, ws.max_column).value == "clerk_status"
    cells = check.formula1.split("!")[1].replace("$", "")
    assert [c.value for row in book["lists"][cells] for c in row] == list(PETITION_STATUS)
