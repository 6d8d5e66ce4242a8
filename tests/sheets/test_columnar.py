"""The columnar read path (sheets.columnar, issue 16 item 1) gives exactly what the per-cell reference path gives:
the same typed frames, the same rejected rows and warnings (tab, row, column, value, reason), the same counts —
on the demo workbook, on hand-made messy workbooks and on property-generated ones."""

from datetime import date, datetime

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from config import Settings
from sheets.columnar import ColumnarTab
from sheets.demo import write_demo_workbook
from sheets.local import LocalWorkbook
from sheets.snapshot import load_snapshot
from sheets.xlsx import write_xlsx
from tests.workbooks import write_source_workbook

TABS = ("Customers", "Orders", "Responses", "Complaints", "Spend", "Subscriptions")


def assert_same_snapshot(path, settings: Settings | None = None) -> dict:
    """Both paths on one file: identical frames, issues and counts; returns what each tab was read as."""
    return assert_paths_agree(LocalWorkbook(path), settings)


def assert_paths_agree(book, settings: Settings | None = None) -> dict:
    """The columnar and the per-cell read of one workbook (any backend): identical frames, issues and counts;
    returns what each tab was read as."""
    settings = settings or Settings()
    new = load_snapshot(book, settings)
    old = load_snapshot(book, settings, columnar=False)
    assert new.frames.keys() == old.frames.keys()
    for key in old.frames:
        pd.testing.assert_frame_equal(new.frames[key], old.frames[key], check_exact=True, obj=key)
    assert new.issues == old.issues
    assert (new.excluded, new.missing_tabs, new.dimensions, new.missing_columns) == (
        old.excluded, old.missing_tabs, old.dimensions, old.missing_columns)
    return {name: type(tab).__name__ for name, tab in book.read_columns(list(TABS)).items()}


def test_demo_workbook_reads_the_same(tmp_path):
    kinds = assert_same_snapshot(write_demo_workbook(tmp_path / "demo.xlsx", date(2026, 11, 25)))
    assert kinds["Customers"] == kinds["Responses"] == kinds["Complaints"] == kinds["Spend"] == "ColumnarTab"
    # its bad rows put text among the Order Dates and the Amounts: two mixed columns, read cell by cell
    assert kinds["Orders"] == "RawTab"


def test_clean_typed_tabs_report_the_same_rejected_rows(tmp_path):
    """Uniformly typed columns go columnar; rows rejected for other reasons than a cell's type are still listed."""
    path = write_source_workbook(tmp_path / "clean.xlsx", {
        "Orders": [
            [],  # a blank first row: the header is sheet row 2, the first order row 3
            ["Order ID", "Customer ID", "Order Date", "Amount", "Note"],
            ["A1", "007", datetime(2026, 10, 1), 10.0, None],
            ["A1", "008", datetime(2026, 10, 2), 12.5, None],  # row 4: duplicate order id → rejected
            ["A3", None, datetime(2026, 10, 3), 3.0, None],  # row 5: customer missing → rejected
            [None, None, None, None, "only a note"],  # row 6: content in an unused column → rejected, not blank
            [None, None, None, None, None],  # row 7: blank
            ["A8", "009", datetime(2026, 10, 4, 13, 30), -4.0, None],
        ],
        "Responses": [
            ["date", "survey", "score", "customer_id"],
            [datetime(2026, 10, 1), "NPS", 9, "007"],
            [datetime(2026, 10, 1), "nps", 11, "007"],  # outside the NPS scale → rejected
            [datetime(2026, 10, 1), "XYZ", 3, "007"],  # unknown survey → rejected
        ],
        "Spend": [
            ["date", "amount", "end_date"],
            [datetime(2026, 10, 1), 100.0, datetime(2026, 10, 31)],
            [datetime(2026, 10, 5), 50.0, datetime(2026, 10, 1)],  # ends before it starts → rejected
        ],
    })
    kinds = assert_same_snapshot(path)
    assert kinds["Orders"] == kinds["Responses"] == kinds["Spend"] == "ColumnarTab"
    snap = load_snapshot(LocalWorkbook(path), Settings())
    rejected = sorted((i.tab, i.row) for i in snap.rejected())
    assert rejected == [("Orders", 4), ("Orders", 5), ("Orders", 6), ("Responses", 3), ("Responses", 4), ("Spend", 3)]
    assert list(snap.frames["orders"]["row"]) == [3, 8]
    assert list(snap.frames["orders"]["customer_id"]) == ["007", "009"]


def test_messy_workbook_reads_the_same(tmp_path):
    """Mixed columns (ids as text and numbers, text in amounts, dates in many forms) take the per-cell path."""
    path = write_source_workbook(tmp_path / "messy.xlsx", {
        "Customers": [
            ["Customer ID", "Signup Date", "Region"],
            ["007", "2026-01-05", "North"],
            [7.0, date(2026, 1, 6), " South "],
            [8, 46000, None],
            ["  ", "  ", "  "],
            [9, "13/04/2026", True],
            [10, "not a date", 3.5],
        ],
        "Orders": [
            [None, None],
            [None, "customer_id", "order_date", "amount", "order_id"],
            [None, "007", "2026-10-01", "$1,234.50", 1],
            [None, 7, datetime(2026, 10, 2), "abc", 1],
            [None, "8", "2026-02-30", float("nan"), "x"],
            [None, "9", True, "(12.50)", None],
        ],
    })
    assert_same_snapshot(path)


def test_a_mixed_column_is_read_cell_by_cell_inside_a_columnar_tab(tmp_path):
    """One mixed column (ids as text and numbers, a bool, a date, odd text): the tab stays columnar and the mixed
    cells keep their exact kinds and text (quotes, backslashes, a newline, an RTL mark)."""
    path = write_source_workbook(tmp_path / "mixed.xlsx", {
        "Orders": [
            ["order_id", "customer_id", "order_date", "amount"],
            ["A1", "007", datetime(2026, 10, 1), 10.0],
            ["A2", 7.0, datetime(2026, 10, 2), 12.5],  # customer 7 (a number) is not customer 007
            ["A3", 'say "hi"\\n\u202e', datetime(2026, 10, 3), 3.0],  # an odd id, kept as typed
            ["A4", True, datetime(2026, 10, 4), 4.0],  # a bool id reads "True"
            ["A5", datetime(2026, 3, 5), datetime(2026, 10, 5), 5.0],  # a date id reads "2026-03-05"
            ["A6", 1e20, datetime(2026, 10, 6), 6.0],  # ≥ 2**53: the float's repr "1e+20"
            ["A7", "  ", datetime(2026, 10, 7, 13, 30), 7.0],  # row 8: no customer → rejected
            ["A8", "it's\nok", None, 8.0],  # row 9: no date → rejected
        ],
    })
    kinds = assert_same_snapshot(path)
    assert kinds["Orders"] == "ColumnarTab"
    tab = LocalWorkbook(path).read_columns(["Orders"])["Orders"]
    assert list(tab.columns[1]) == [  # openpyxl saves "  " as ""
        "007", 7.0, 'say "hi"\\n\u202e', True, date(2026, 3, 5), 1e20, "", "it's\nok"]
    snap = load_snapshot(LocalWorkbook(path), Settings())
    assert [(i.row, i.column, i.value) for i in snap.rejected()] == [(8, "customer_id", ""), (9, "order_date", "")]
    assert list(snap.frames["orders"]["customer_id"]) == ["007", "7", 'say "hi"\\n\u202e', "True", "2026-03-05",
                                                          "1e+20"]


def test_more_mixed_columns_than_the_limit_fall_back_per_tab(tmp_path):
    """Each mixed column costs one more parse of the sheet: a tab with two of them is read cell by cell."""
    path = write_source_workbook(tmp_path / "three.xlsx", {
        "Orders": [["order_id", "customer_id", "order_date", "amount"],
                   ["A1", "c1", datetime(2026, 10, 1), 1.0], ["A2", 3.0, "2026-10-02", 2.0]],
    })
    assert assert_same_snapshot(path)["Orders"] == "RawTab"


def test_a_sheet_that_is_not_columnar_falls_back_per_tab(tmp_path):
    """A header with an empty cell between names cannot be named one to one by fastexcel: that tab is per-cell."""
    path = write_source_workbook(tmp_path / "gap.xlsx", {
        "Orders": [["customer_id", None, "order_date", "amount"], ["c1", None, datetime(2026, 10, 1), 5.0]],
        "Spend": [["date", "amount"], [datetime(2026, 10, 1), 5.0]],
    })
    kinds = assert_same_snapshot(path)
    assert kinds["Orders"] == "RawTab" and kinds["Spend"] == "ColumnarTab"


odd_text = st.text(alphabet='a7 "\\\'\n\té中\u202e', max_size=6)
uniform_columns = {
    "id": st.one_of(
        st.lists(st.sampled_from(["007", "7", " 8 ", "C001", "", "x y"]), min_size=1, max_size=8),
        st.lists(odd_text, min_size=1, max_size=8),
        st.lists(st.one_of(st.none(), st.sampled_from([7.0, 8.0, 1.5, 0.0, -3.0, 12345678.0])), min_size=1, max_size=8),
    ),
    "date": st.one_of(
        st.lists(st.one_of(st.none(), st.datetimes(datetime(1950, 1, 1), datetime(2100, 1, 1))), min_size=1, max_size=8),
        st.lists(st.one_of(st.none(), st.sampled_from(["2026-03-05", "03/04/2026", "13/04/2026", "2026-13-45", "abc", " "])),
                 min_size=1, max_size=8),
        st.lists(st.one_of(st.none(), st.sampled_from([45000.0, 0.0, -1.0, 20260105.0, 1e9, 45000.5])), min_size=1, max_size=8),
    ),
    "number": st.one_of(
        st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=1, max_size=8),
        st.lists(st.one_of(st.none(), st.sampled_from(["1,234.5", "$12", "(3)", "abc", "", "9"])), min_size=1, max_size=8),
        st.lists(st.one_of(st.none(), st.booleans()), min_size=1, max_size=8),
    ),
}
LAYOUTS = {
    "Orders": [("order_id", "id"), ("customer_id", "id"), ("order_date", "date"), ("amount", "number")],
    "Responses": [("date", "date"), ("survey", "id"), ("score", "number"), ("customer_id", "id")],
    "Customers": [("customer_id", "id"), ("signup_date", "date"), ("region", "id")],
}


@st.composite
def workbooks(draw):
    """A tab whose columns are each of one type (often columnar) or mixed (per-cell), with blank rows at the top."""
    tab = draw(st.sampled_from(sorted(LAYOUTS)))
    columns = [draw(uniform_columns[kind]) for _, kind in LAYOUTS[tab]]
    for _ in range(draw(st.integers(0, 3))):  # mix up to three columns' types (one stays columnar)
        column = columns[draw(st.integers(0, len(columns) - 1))]
        column.insert(draw(st.integers(0, len(column))), draw(st.one_of(
            st.sampled_from(["text", 5.0, True, None, datetime(2026, 3, 5), datetime(2026, 3, 5, 7, 30)]), odd_text)))
    n = max(map(len, columns))
    rows = [[c[i] if i < len(c) else None for c in columns] for i in range(n)]
    if tab == "Responses":
        rows = [[r[0], draw(st.sampled_from(["NPS", "CSAT", "nps"])), *r[2:]] for r in rows]
    top = [[] for _ in range(draw(st.integers(0, 2)))]
    return tab, [*top, [name for name, _ in LAYOUTS[tab]], *rows]


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(book=workbooks())
def test_generated_workbooks_read_the_same(tmp_path, book):
    tab, rows = book
    path = tmp_path / "generated.xlsx"
    write_xlsx(str(path), {tab: rows})
    assert_same_snapshot(path)


def test_columnar_tab_keeps_sheet_row_numbers(tmp_path):
    path = tmp_path / "offset.xlsx"
    write_xlsx(str(path), {"Spend": [[], [], ["date", "amount"], [datetime(2026, 10, 1), 5.0], [None, None],
                                     [datetime(2026, 10, 2), 7.0]]})
    tab = LocalWorkbook(path).read_columns(["Spend"])["Spend"]
    assert isinstance(tab, ColumnarTab)
    assert tab.header_row == 3 and tab.header == ["date", "amount"] and tab.n_rows == 3
    snap = load_snapshot(LocalWorkbook(path), Settings())
    assert list(snap.frames["spend"]["row"]) == [4, 6]  # rows 4 and 6; row 5 is blank


@pytest.mark.parametrize("header", [["  ", "date", "amount"], ["date", "date", "amount"]])
def test_blank_or_repeated_headers_fall_back(tmp_path, header):
    path = tmp_path / "h.xlsx"
    write_xlsx(str(path), {"Spend": [header, ["x", datetime(2026, 10, 1), 5.0]]})
    assert_same_snapshot(path)


def test_dates_beyond_datetime64_read_the_same(tmp_path):
    """A date after 2262 does not fit datetime64[ns]: the column is handed over as datetime objects, as per-cell."""
    path = tmp_path / "far.xlsx"
    write_xlsx(str(path), {"Spend": [["date", "amount"], [datetime(2026, 10, 1), 5.0], [datetime(2500, 1, 1), 7.0]]})
    assert isinstance(LocalWorkbook(path).read_columns(["Spend"])["Spend"], ColumnarTab)
    assert_same_snapshot(path)


QUESTIONS = ["overview 2026-Q3", "nps last-quarter by region", "churn 2026-10 vs 2026-09", "revenue 2026-10 by plan",
             "csat 2026-Q3", "cac 2026-Q3 by channel", "complaints 2026-10"]


@pytest.mark.parametrize("source", ["demo", "generated"])
def test_answers_are_the_same_from_both_paths(tmp_path, monkeypatch, capsys, source):
    """Every answer (JSON, full precision) is identical whether the workbook was read column by column or per cell."""
    from bench.read_bench import write_dataset
    from bot.cli import main

    path = tmp_path / f"{source}.xlsx"
    if source == "demo":
        write_demo_workbook(path, date(2026, 11, 25))
    else:
        write_dataset(path, orders=3_000)
        kinds = assert_same_snapshot(path)
        assert [kinds[t] for t in TABS[:5]] == ["ColumnarTab"] * 5  # every tab of the generated workbook is columnar
    answers = {}
    for mode in ("columnar", "per-cell"):
        monkeypatch.setenv("PULSE_STATE_DIR", str(tmp_path / f"state-{mode}"))  # no snapshot cache shared between them
        if mode == "per-cell":
            monkeypatch.setattr(LocalWorkbook, "read_columns", None)  # load_snapshot then reads cell by cell
        for question in QUESTIONS:
            assert main(["ask", question, "--json", "--workbook", str(path), "--today", "2026-11-25"]) == 0
            answers[mode, question] = capsys.readouterr().out
    for question in QUESTIONS:
        assert answers["columnar", question] == answers["per-cell", question], question


def test_fastexcel_dtype_guesses_are_not_logged(tmp_path, caplog):
    """An empty column makes fastexcel warn that it falls back to text; the reader checks every column itself,
    so that warning is noise on the user's terminal and is not logged."""
    path = tmp_path / "empty-col.xlsx"
    write_xlsx(str(path), {"Spend": [["date", "amount", "note"], [datetime(2026, 10, 1), 5.0, None]]})
    with caplog.at_level("WARNING"):
        assert isinstance(LocalWorkbook(path).read_columns(["Spend"])["Spend"], ColumnarTab)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("fastexcel")] == []


def test_a_mixed_date_column_in_a_1904_workbook_reads_the_same(tmp_path):
    """Dates of a workbook on the 1904 calendar (old Mac Excel) count from 1904-01-01: a mixed date column there
    is read cell by cell rather than from serial-day durations counted from 1899-12-30."""
    from openpyxl import Workbook
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = Workbook()
    ws = wb.active
    ws.title = "Spend"
    wb.epoch = CALENDAR_MAC_1904
    for row in (["date", "amount"], [datetime(2026, 10, 1), 5.0], ["2026-10-02", 7.0]):
        ws.append(row)
    wb.save(tmp_path / "mac.xlsx")
    assert_same_snapshot(tmp_path / "mac.xlsx")
    snap = load_snapshot(LocalWorkbook(tmp_path / "mac.xlsx"), Settings())
    assert list(snap.frames["spend"]["date"].dt.date) == [date(2026, 10, 1), date(2026, 10, 2)]
