"""`Pulse Summary` for people: one row per month, headings with units, n and intervals for rates only, small samples
named, number formats and a frozen month column — values stay numbers, so the tab still pivots."""

from datetime import date, datetime as D

import pytest

from bot.context import build_context
from bot.refresh import build_tabs
from config import parse_settings
from tests.workbooks import write_source_workbook


@pytest.fixture
def summary(tmp_path):
    # Four customers signed up in December; C1 and C2 order $100 and $50 in January and again in February.
    # NPS: January 10 and 3 (one promoter, one detractor), February 10 and 9 (two promoters).
    path = write_source_workbook(tmp_path / "s.xlsx", {
        "Customers": [["customer_id", "signup_date"]] + [[f"C{i}", D(2025, 12, 1)] for i in range(1, 5)],
        "Orders": [["customer_id", "order_date", "amount"], ["C1", D(2026, 1, 5), 100.0], ["C2", D(2026, 1, 6), 50.0],
                   ["C1", D(2026, 2, 5), 100.0], ["C2", D(2026, 2, 6), 50.0]],
        "Responses": [["date", "survey", "score", "customer_id"], [D(2026, 1, 5), "NPS", 10, "C1"], [D(2026, 1, 6), "NPS", 3, "C2"],
                      [D(2026, 2, 5), "NPS", 10, "C1"], [D(2026, 2, 6), "NPS", 9, "C2"]],
    })
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
