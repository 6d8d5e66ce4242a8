"""A Google Sheet read by columns and typed as whole columns (sheets.google.columns, issue 16) gives exactly what the
per-cell reference path gives over the same sheet read by rows: the same typed frames, the same rejected rows and
warnings (tab, row, column, value, reason), the same counts — on the demo workbook, on hand-made messy tabs and on
property-generated ones, all served by the Sheets API fake over HTTP to the real gspread client."""

from __future__ import annotations

import itertools
import json
from datetime import date

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from config import Settings
from sheets.columnar import ColumnarTab
from sheets.demo import build_demo_rows
from sheets.google import RetryPolicy, open_google_workbook
from sheets.google.auth import credentials_from_info
from sheets.google.columns import columnar_tab, rows_of
from sheets.snapshot import load_snapshot
from tests.fakes.sheets_api import FakeSheets
from tests.sheets.test_columnar import assert_paths_agree

TABS = ("Customers", "Orders", "Responses", "Complaints", "Spend", "Subscriptions")
_keys = (f"1ColumnsKey{i:06d}_abcdefghijklmnopqrstuvwxyz" for i in itertools.count())


@pytest.fixture(scope="module")
def served():
    """One fake for the module; `served(tabs)` adds a spreadsheet and returns a workbook reading it over HTTP."""
    with FakeSheets() as fake, pytest.MonkeyPatch.context() as mp:
        mp.setenv("PULSE_SHEETS_API_URL", fake.url)
        creds = credentials_from_info(fake.service_account())

        def open_sheet(tabs: dict[str, list[list]]):
            key = next(_keys)
            fake.add_spreadsheet(key, tabs=tabs)
            return open_google_workbook(Settings(), key, retry=RetryPolicy(base=0.01, cap=0.05), credentials=creds)

        open_sheet.fake = fake  # type: ignore[attr-defined]
        yield open_sheet


def demo_rows(customers: int = 300) -> dict[str, list[list]]:
    """The demo workbook's tabs cut down to its first `customers` customers (quick, the shapes real)."""
    tabs = build_demo_rows(date(2026, 11, 25))
    keep = {row[0] for row in tabs["Customers"][1 : customers + 1]}
    out = {}
    for name, rows in tabs.items():
        col = next((i for i, h in enumerate(rows[0]) if h in ("Customer ID", "客户ID")), None)
        out[name] = [rows[0]] + [r for r in rows[1:] if col is None or r[col] in keep or r[col] is None]
    return out


def test_demo_workbook_reads_the_same(served):
    book = served(demo_rows())
    kinds = assert_paths_agree(book)
    assert {kinds[t] for t in ("Customers", "Orders", "Responses", "Complaints", "Spend")} == {"ColumnarTab"}
    fake = served.fake
    reads = [r for r in fake.requests if r.kind == "values.batchGet" and r.key == book.key]
    assert [r.query["majorDimension"] for r in reads] == [["COLUMNS"], ["ROWS"], ["COLUMNS"]]
    assert all(r.query["prettyPrint"] == ["false"] for r in reads)


def test_messy_tabs_report_the_same_rejected_rows(served):
    """Ids as text and numbers, text among amounts and dates, dates as serials and text, blank and whitespace
    rows, content only in an unused column, a header below blank rows, short rows and rows wider than the header."""
    book = served(
        {
            "Customers": [
                ["Customer ID", "Signup Date", "Region"],
                ["007", "2026-01-05", "North"],
                [7, 46027, " South "],
                [8, 46000.75, ""],
                ["  ", "  ", "  "],
                [9, "13/04/2026", True],
                [10, "not a date", 3.5],
                ["C11", "03/04/2026"],
            ],
            "Orders": [
                [],
                ["", "customer_id", "order_date", "amount", "order_id", "", "extra"],
                ["", "007", "2026-10-01", "$1,234.50", 1],
                ["", 7, 46300, "abc", 1],
                ["", "8", "2026-02-30", "", "x"],
                ["", "9", True, "(12.50)"],
                [],
                ["", "", "", "", "", "", "only a note"],  # content in an unused column: rejected, not blank
                ["", "10", 46301, 12, "y", "", ""],
                ["", "11", 46302, 1e20, "z"],
            ],
            "Responses": [
                ["date", "survey", "score", "customer_id"],
                [46300, "NPS", 9, "007"],
                [46300, "nps", 11, "007"],  # outside the scale
                [46300, "XYZ", 3, "007"],  # unknown survey
                [46300, "CSAT", 4.5, 8],  # not a whole number
            ],
            "Spend": [["date", "amount", "end_date"], [46300, 100, 46330], [46305, 50, 46300]],
            # whitespace only in an unused text column: a blank row (ignored), not a row missing its date
            "Complaints": [["date", "category", "note"], [46300, "Billing", "late"], ["", "", "   "], [46301, "", "x"]],
        }
    )
    kinds = assert_paths_agree(book)
    assert kinds["Orders"] == kinds["Customers"] == "ColumnarTab"
    rejected = sorted((i.tab, i.row, i.column) for i in load_snapshot(book, Settings()).rejected())
    # Orders: row 1 is blank, the header is sheet row 2, its data rows 3…10: row 4 (amount "abc"), row 5 (2026-02-30
    # is no calendar date), row 6 (order date True) and row 8 (a note only, no customer) are rejected.
    assert ("Orders", 8, "customer_id") in rejected
    assert {r for t, r, _ in rejected if t == "Orders"} == {4, 5, 6, 8}
    assert {r for t, r, _ in rejected if t == "Responses"} == {3, 4, 5}
    assert not [r for t, r, _ in rejected if t == "Complaints"]


def test_a_tab_without_a_header_and_an_empty_tab_read_the_same(served):
    book = served({"Orders": [[], ["  "], [""]], "Spend": [], "Responses": [[0, "x"], [46300, "NPS", 9]]})
    kinds = assert_paths_agree(book)
    assert kinds["Orders"] == "RawTab" and kinds["Spend"] == "RawTab"  # nothing with text: the empty-tab report
    assert kinds["Responses"] == "ColumnarTab"  # a number is a header cell too, as in the per-cell path


def test_number_columns_become_float_arrays_and_others_keep_their_cells():
    tab = columnar_tab("Orders", [["id", "A1", 7, "", "  "], ["amount", 10, "", 2.5], ["date", 46300, 46301]])
    assert isinstance(tab, ColumnarTab)
    assert tab.header == ["id", "amount", "date"] and tab.header_row == 1
    assert tab.columns[1].dtype == float and np.isnan(tab.columns[1][1]) and tab.columns[1][2] == 2.5
    assert list(tab.columns[0]) == ["A1", 7, "", "  "]
    assert list(tab.filled) == [True, True, True, False]  # row 5: only whitespace in every column
    assert rows_of([["a", 1], ["b"], ["c", "", 3]]) == [["a", "b", "c"], [1], ["", "", 3]]


cells = st.one_of(
    st.sampled_from(
        [
            "007",
            "7",
            " 8 ",
            "C001",
            "",
            "  ",
            "x y",
            "2026-03-05",
            "03/04/2026",
            "13/04/2026",
            "abc",
            "$12",
            "(3)",
            "1,234.5",
            "NPS",
            "nps",
            "CSAT",
        ]
    ),
    st.sampled_from([7, 8, 0, -3, 46000, 20260105, 45000.5, 1.5, 1e9, 10, 11, 5]),
    st.booleans(),
    st.text(alphabet="a7 \"\\'\n\té中\u202e", max_size=5),
)
LAYOUTS = {
    "Orders": ["order_id", "customer_id", "order_date", "amount"],
    "Responses": ["date", "survey", "score", "customer_id"],
    "Customers": ["customer_id", "signup_date", "region"],
}


@st.composite
def sheets(draw):
    """A tab whose columns are each mostly one kind (numbers, text) with odd cells mixed in, short and wide rows,
    blank rows anywhere (also above the header)."""
    tab = draw(st.sampled_from(sorted(LAYOUTS)))
    header = list(LAYOUTS[tab])
    kinds = [draw(st.sampled_from(["number", "text", "any"])) for _ in header]
    pools = {
        "number": st.sampled_from([46000, 46001.5, 7, 12.25, ""]),
        "text": st.sampled_from(["C1", "007", " x ", "", "  "]),
        "any": cells,
    }
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        width = draw(st.integers(0, len(header) + 1))
        row = [
            draw(st.one_of(pools[kinds[i]], cells) if draw(st.integers(0, 5)) == 0 else pools[kinds[i]])
            if i < len(header)
            else draw(cells)
            for i in range(width)
        ]
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
    top = [[] for _ in range(draw(st.integers(0, 2)))]
    return tab, [*top, header, *rows]


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheet=sheets())
def test_generated_sheets_read_the_same(served, sheet):
    tab, rows = sheet
    assert_paths_agree(served({tab: json.loads(json.dumps(rows))}))
