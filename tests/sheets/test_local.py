import os
import zipfile
from datetime import date, datetime

import openpyxl
import pytest

from sheets.local import LocalWorkbook
from sheets.workbook import OwnedTab, WorkbookError
from tests.sheets.conftest import write_xlsx

SOURCE = {
    "Orders": [
        ["Order ID", "Customer ID", "Order Date", "Amount"],
        ["007", "C1", date(2026, 3, 5), 7],
        ["O2", 7, 46086, 2.5],
    ],
    "Pulse Summary": [["my own notes — not crm-pulse's"], ["keep me"]],
}


@pytest.fixture
def book(tmp_path):
    return LocalWorkbook(write_xlsx(tmp_path / "book.xlsx", SOURCE))


def test_read_tabs_keeps_cell_types_and_maps_missing_tabs_to_none(book):
    tabs = book.read_tabs(["Orders", "Responses", "orders "])
    assert tabs["Responses"] is None
    rows = tabs["Orders"].rows
    assert rows[0] == ["Order ID", "Customer ID", "Order Date", "Amount"]
    assert rows[1][0] == "007" and rows[1][3] == 7.0 and isinstance(rows[1][3], float)
    assert rows[1][2] in (date(2026, 3, 5), datetime(2026, 3, 5))
    assert rows[2][1] == 7.0 and rows[2][2] == 46086.0
    assert tabs["orders "].name == "Orders"


def test_rows_keep_their_sheet_positions_when_the_data_does_not_start_at_a1(tmp_path):
    path = tmp_path / "offset.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Spend"
    ws["B3"], ws["C3"], ws["B4"], ws["C4"] = "Date", "Amount", "2026-01-01", 5
    wb.save(path)
    rows = LocalWorkbook(path).read_tabs(["Spend"])["Spend"].rows
    assert rows[2][1:3] == ["Date", "Amount"] and rows[3][1:3] == ["2026-01-01", 5.0] and rows[0] == []


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(WorkbookError, match="pulse demo"):
        LocalWorkbook(tmp_path / "nope.xlsx").read_tabs(["Orders"])
    with pytest.raises(WorkbookError, match="not found"):
        LocalWorkbook(tmp_path / "nope.xlsx").write_owned({})


def test_not_an_xlsx_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_text("hello")
    with pytest.raises(WorkbookError, match="could not read"):
        LocalWorkbook(path).read_tabs(["Orders"])


def test_user_tab_with_an_owned_name_survives_while_other_owned_tabs_are_written(book):
    before = book.read_tabs(["Pulse Summary", "Orders"])
    report = book.write_owned(
        {
            "Pulse Summary": OwnedTab("Pulse Summary", ["Month"], [["2026-01"]]),
            "Pulse Log": OwnedTab("Pulse Log", ["When", "What"], [["2026-01-01 09:00", "refresh"]]),
            "Orders": OwnedTab("Orders", ["x"], [["overwrite?"]]),
        }
    )
    assert report.written == ["Pulse Log"] and report.created == ["Pulse Log"]
    assert set(report.refused) == {"Pulse Summary", "Orders"}
    assert "was not created by crm-pulse" in report.refused["Pulse Summary"]
    after = book.read_tabs(["Pulse Summary", "Orders"])
    assert after == before
    assert book.read_owned("Pulse Summary") is None
    assert book.read_owned("Pulse Log") == [["When", "What"], ["2026-01-01 09:00", "refresh"]]
    assert book.owned_titles() == ["Pulse Log"]


def test_owned_tabs_are_replaced_in_place_and_styled(book):
    book.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["A", "B"], [[1, 2], [3, 4]])})
    report = book.write_owned(
        {"Pulse Log": OwnedTab("Pulse Log", ["A"], [[5]]), "Pulse Cohorts": OwnedTab("Pulse Cohorts", ["C"], [])}
    )
    assert report.written == ["Pulse Log", "Pulse Cohorts"] and report.created == ["Pulse Cohorts"]
    assert book.read_owned("Pulse Log") == [["A"], [5.0]]
    wb = openpyxl.load_workbook(book.path)
    assert wb.sheetnames == ["Orders", "Pulse Summary", "Pulse Log", "Pulse Cohorts"]
    sheet = wb["Pulse Log"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b and not sheet["A2"].font.b
    assert wb["Orders"]["A2"].value == "007"


def test_case_variant_of_an_owned_name_is_not_overwritten(tmp_path):
    book = LocalWorkbook(write_xlsx(tmp_path / "b.xlsx", {"Orders": [["x"]], "pulse log": [["mine"]]}))
    report = book.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["A"], [])})
    assert report.written == [] and "pulse log" in report.refused["Pulse Log"]


def test_text_that_looks_like_a_formula_is_stored_as_text(book):
    values = ['=IMPORTXML("http://x", "//a")', "+1", "@user", "-2", "<b>&</b>"]
    book.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["Text"], [[v] for v in values])})
    wb = openpyxl.load_workbook(book.path)
    cells = [wb["Pulse Log"].cell(row=i + 2, column=1) for i in range(len(values))]
    assert [c.value for c in cells] == values
    assert all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(book.path) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert [r[0] for r in book.read_owned("Pulse Log")[1:]] == values


def test_values_of_every_cell_type_round_trip(book):
    import numpy as np
    import pandas as pd

    row = [
        1,
        2.5,
        True,
        date(2026, 3, 5),
        datetime(2026, 3, 5, 12),
        None,
        float("nan"),
        np.int64(4),
        pd.NaT,
        pd.NA,
        "a\x01b",
    ]
    book.write_owned({"Pulse Customers": OwnedTab("Pulse Customers", [f"c{i}" for i in range(len(row))], [row])})
    back = book.read_owned("Pulse Customers")[1]
    assert back[:3] == [1.0, 2.5, True]
    assert back[3] in (date(2026, 3, 5), datetime(2026, 3, 5))
    assert back[4] == datetime(2026, 3, 5, 12)
    assert back[5:7] == ["", ""] and back[7] == 4.0 and back[8:10] == ["", ""] and back[10] == "ab"


def test_a_failed_save_leaves_the_old_contents(book, monkeypatch):
    book.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["A"], [["old"]])})
    before = book.path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(WorkbookError, match="left unchanged"):
        book.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["A"], [["new"]])})
    monkeypatch.undo()
    assert book.path.read_bytes() == before
    assert book.read_owned("Pulse Log") == [["A"], ["old"]]
    assert [p.name for p in book.path.parent.iterdir()] == ["book.xlsx"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_a_read_only_directory_leaves_the_old_contents(book):
    before = book.path.read_bytes()
    os.chmod(book.path.parent, 0o555)
    try:
        with pytest.raises(WorkbookError):
            book.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["A"], [["new"]])})
    finally:
        os.chmod(book.path.parent, 0o755)
    assert book.path.read_bytes() == before


def test_source_parts_are_copied_byte_for_byte(book):
    with zipfile.ZipFile(book.path) as z:
        before = {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")}
    book.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["A"], [["x"]])})
    with zipfile.ZipFile(book.path) as z:
        after = {n: z.read(n) for n in z.namelist() if n in before}
    assert after == before


def test_marker_survives_a_round_trip_through_openpyxl(book, tmp_path):
    book.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["A"], [["x"]])})
    wb = openpyxl.load_workbook(book.path)
    wb.move_sheet("Pulse Log", offset=-2)
    copy = tmp_path / "copy.xlsx"
    wb.save(copy)
    other = LocalWorkbook(copy)
    assert other.owned_titles() == ["Pulse Log"]
    assert other.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["B"], [])}).written == ["Pulse Log"]


def test_existing_defined_names_and_print_areas_are_kept(tmp_path):
    from openpyxl.workbook.defined_name import DefinedName

    path = tmp_path / "names.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Orders"
    wb["Orders"].append(["Customer ID", "Order Date", "Amount"])
    wb.defined_names["TaxRate"] = DefinedName("TaxRate", attr_text="0.2")
    wb["Orders"].print_area = "A1:C10"
    wb.save(path)
    book = LocalWorkbook(path)
    assert book.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["A"], [["x"]])}).written == ["Pulse Log"]
    back = openpyxl.load_workbook(path)
    assert back.defined_names["TaxRate"].attr_text == "0.2"
    assert back["Orders"].print_area == "'Orders'!$A$1:$C$10"
    assert book.owned_titles() == ["Pulse Log"]


def test_demo_workbook_takes_owned_tabs(tmp_path):
    from sheets.demo import write_demo_workbook

    book = LocalWorkbook(write_demo_workbook(tmp_path / "demo.xlsx", date(2026, 11, 25)))
    before = book.read_tabs(["Orders"])["Orders"].rows
    report = book.write_owned({"Pulse Summary": OwnedTab("Pulse Summary", ["Month", "NPS"], [["2026-10", 12]])})
    assert report.created == ["Pulse Summary"]
    assert book.read_owned("Pulse Summary") == [["Month", "NPS"], ["2026-10", 12.0]]
    assert book.read_tabs(["Orders"])["Orders"].rows == before
    assert openpyxl.load_workbook(book.path, read_only=True).sheetnames[-1] == "Pulse Summary"


def test_overlong_text_is_cut_to_the_excel_cell_limit(book):
    book.write_owned({"Pulse Log": OwnedTab("Pulse Log", ["A"], [["x" * 40000]])})
    assert len(book.read_owned("Pulse Log")[1][0]) == 32767


def test_number_formats_join_the_sources_own_and_are_reused_on_the_next_write(tmp_path):
    # The source tab has its own custom format (id 164 in the file openpyxl writes); ours take the next ids, the
    # source's cell keeps its format, and writing again adds no second copy of any format or cell style.
    path = tmp_path / "fmt.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Orders"
    wb["Orders"].append(["Amount"])
    wb["Orders"].append([7])
    wb["Orders"]["A2"].number_format = '0.000" kg"'
    wb.save(path)
    book = LocalWorkbook(path)
    tab = OwnedTab("Pulse Summary", ["Month", "Share", "Money"], [["2026-01", 12.5, 3], ["2026-02", None, 4]],
                   formats={1: '0.0"%"', 2: '0.000" kg"'}, frozen_cols=1)
    book.write_owned({"Pulse Summary": tab})
    with zipfile.ZipFile(path) as z:
        first = z.read("xl/styles.xml")
    book.write_owned({"Pulse Summary": tab})
    with zipfile.ZipFile(path) as z:
        assert z.read("xl/styles.xml") == first
    back = openpyxl.load_workbook(path)
    assert back["Orders"]["A2"].number_format == '0.000" kg"' and back["Orders"]["A2"].value == 7
    ws = back["Pulse Summary"]
    assert ws.freeze_panes == "B2"
    assert [ws[f"B{r}"].number_format for r in (2, 3)] == ['0.0"%"'] * 2 and ws["B2"].value == 12.5
    assert ws["C3"].number_format == '0.000" kg"' and ws["C3"].value == 4
    assert ws["A2"].number_format == "General" and ws["B1"].font.b
