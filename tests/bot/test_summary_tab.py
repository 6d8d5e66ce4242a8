"""`Pulse Summary` for people: one row per month, headings with units, n and intervals for rates only, small samples
named, number formats and a frozen month column — values stay numbers, so the tab still pivots."""

from datetime import date

import pytest

from bot.context import build_context
from bot.tabs import build_tabs
from config import parse_settings
from tests.workbooks import two_month_workbook


@pytest.fixture
def summary(tmp_path):
    path = two_month_workbook(tmp_path / "s.xlsx")  # $150 revenue and 4 active customers each month
    ctx = build_context(parse_settings({"targets": {"revenue": 100}}), workbook=str(path), today=date(2026, 3, 10))
    tabs, _, _ = build_tabs(ctx)
    return tabs["Pulse Summary"]


def test_one_row_per_month_with_headings_in_their_units(summary):
    header = summary.header
    assert [r[0] for r in summary.rows] == ["2026-01", "2026-02"] and header[0] == "Month"
    feb = dict(zip(header, summary.rows[1]))
    assert feb["Revenue (USD)"] == 150.0  # 100 + 50
    assert feb["Net Promoter Score"] == 100.0 and feb["Net Promoter Score n"] == 2  # (2 − 0) / 2 × 100
    assert feb["Customer churn %"] == 0.0 and feb["Customer churn % n"] == 4  # none of the 4 active customers left
    assert feb["Revenue (USD) target"] == 100 and feb["Revenue (USD) status"] == "met"


def test_n_and_interval_only_for_rates(summary):
    header = summary.header
    assert "Revenue (USD) n" not in header and "Revenue (USD) low" not in header
    assert {"Customer churn % low", "Customer churn % high", "Net Promoter Score low"} <= set(header)
    # Month + 12 rates × (value, n, low, high) + 13 other metrics × value + revenue target and status
    # + small samples + definitions = 1 + 48 + 13 + 2 + 2 = 66 columns (it was 3 + 25 × 4 + 2 + 1 = 106).
    assert len(header) == 66 and all(len(row) == 66 for row in summary.rows)


def test_small_samples_are_named_and_numbers_keep_their_formats(summary):
    header = summary.header
    feb = dict(zip(header, summary.rows[1]))
    # NPS from 2 answers and churn from 4 customers are below the default minimum n of 30.
    assert "Net Promoter Score (n = 2)" in feb["Small samples"] and "Customer churn % (n = 4)" in feb["Small samples"]
    assert summary.frozen_cols == 1
    assert summary.formats[header.index("Revenue (USD)")] == '"$"#,##0.00'
    assert summary.formats[header.index("Customer churn %")] == '0.0"%"'
    assert summary.formats[header.index("Customer churn % n")] == "#,##0"
    assert isinstance(feb["Customer churn %"], float)  # a value, not "0.0%" text


def test_a_local_xlsx_summary_carries_the_same_formats_and_freeze_panes(tmp_path):
    # issue 17 item 9, local half: the .xlsx written by `pulse refresh` carries the formats the Google path sets.
    import zipfile

    import openpyxl

    from bot.tabs import refresh

    path = two_month_workbook(tmp_path / "s.xlsx")
    with zipfile.ZipFile(path) as z:
        sources = {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")}
    ctx = build_context(parse_settings({"targets": {"revenue": 100}}), workbook=str(path), today=date(2026, 3, 10))
    summary = build_tabs(ctx)[0]["Pulse Summary"]
    refresh(ctx)
    ws = openpyxl.load_workbook(path)["Pulse Summary"]
    assert ws.freeze_panes == "B2"  # header row and month column
    header = [c.value for c in ws[1]]
    assert header == summary.header and ws["A1"].font.b
    feb = {h: ws.cell(3, i + 1) for i, h in enumerate(header)}
    assert feb["Revenue (USD)"].value == 150 and feb["Revenue (USD)"].number_format == '"$"#,##0.00'  # 100 + 50
    assert feb["Customer churn %"].value == 0 and feb["Customer churn %"].number_format == '0.0"%"'
    assert feb["Customer churn % n"].value == 4 and feb["Customer churn % n"].number_format == "#,##0"
    assert feb["Net Promoter Score"].value == 100 and feb["Net Promoter Score"].number_format == "#,##0"
    assert feb["Revenue (USD) target"].number_format == '"$"#,##0.00'
    # Every column with a format has it on every data row, as the single description says; numbers stay numbers.
    for col, pattern in summary.formats.items():
        for row in (2, 3):
            cell = ws.cell(row, col + 1)
            assert cell.number_format == pattern, (header[col], row)
            assert cell.value is None or isinstance(cell.value, int | float)
    assert ws["A1"].number_format == "General" and ws["A3"].value == "2026-02"
    with zipfile.ZipFile(path) as z:
        assert {n: z.read(n) for n in sources} == sources  # the source tabs are byte-identical
