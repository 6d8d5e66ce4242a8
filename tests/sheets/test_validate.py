from datetime import date

import pandas as pd

from metrics.tables import SCHEMA
from sheets.validate import parse_tab, parse_tab_detail
from tests.sheets.conftest import make_settings, raw


def issues_by_row(issues):
    return {(i.row, i.severity): i for i in issues}


def test_orders_frame_has_canonical_columns_dtypes_and_sheet_rows(settings):
    tab = raw(
        "Orders",
        ["Order ID", "Customer ID", "Order Date", "Amount"],
        ["A1", "007", date(2026, 3, 5), 10.0],
        [None, None, None, None],
        ["A2", 7.0, "2026-03-06", "1,234.50"],
    )
    frame, issues = parse_tab("orders", tab, settings)
    assert issues == []
    assert {c: str(t) for c, t in frame.dtypes.items() if c != "row"} == {
        c: ("string" if t == "string" else t) for c, t in SCHEMA["orders"].items()
    }
    assert list(frame["customer_id"]) == ["007", "7"]
    assert list(frame["amount"]) == [10.0, 1234.5]
    assert list(frame["order_date"]) == [pd.Timestamp("2026-03-05"), pd.Timestamp("2026-03-06")]
    assert list(frame["row"]) == [2, 4]
    assert frame["gross_margin"].isna().all()


def test_rejected_rows_name_the_column_value_and_reason(settings):
    tab = raw(
        "Orders",
        ["Customer ID", "Order Date", "Amount"],
        ["C1", "2026-03-05", "abc"],
        ["", "2026-03-05", 5],
        ["C3", "2026-13-45", 5],
        ["C4", "2026-03-05", 5],
    )
    parsed = parse_tab_detail("orders", tab, settings)
    got = [(i.row, i.column, i.value, i.severity) for i in parsed.issues]
    assert got == [
        (2, "Amount", "abc", "rejected"),
        (3, "Customer ID", "", "rejected"),
        (4, "Order Date", "2026-13-45", "rejected"),
    ]
    assert parsed.issues[0].reason == "not a number"
    assert parsed.issues[1].reason == "required value is missing"
    assert "not a valid calendar date" in parsed.issues[2].reason
    assert list(parsed.frame["customer_id"]) == ["C4"]
    assert (parsed.rows_read, parsed.rejected_rows, parsed.blank_rows) == (4, 3, 0)


def test_only_the_first_bad_required_value_of_a_row_is_reported(settings):
    tab = raw("Orders", ["Customer ID", "Order Date", "Amount"], ["", "nope", "abc"])
    _, issues = parse_tab("orders", tab, settings)
    assert [(i.column, i.reason) for i in issues] == [("Customer ID", "required value is missing")]


def test_blank_rows_are_ignored_and_not_reported_and_row_numbers_follow_the_sheet(settings):
    tab = raw(
        "Spend",
        [],
        ["Date", "Amount", "Channel"],
        ["", None, "  "],
        ["2026-01-01", 100, "Social"],
        [],
        ["2026-02-01", "x", "Social"],
    )
    parsed = parse_tab_detail("spend", tab, settings)
    assert [(i.row, i.value) for i in parsed.issues] == [(6, "x")]
    assert list(parsed.frame["row"]) == [4]
    assert (parsed.rows_read, parsed.blank_rows, parsed.rejected_rows, len(parsed.frame)) == (4, 2, 1, 1)


def test_optional_values_that_do_not_parse_become_missing_with_a_warning(settings):
    tab = raw(
        "Customers",
        ["Customer ID", "Signup Date", "Churned On", "Region"],
        ["C1", "someday", "2026-02-30", "North"],
    )
    frame, issues = parse_tab("customers", tab, settings)
    assert len(frame) == 1 and frame["signup_date"].isna().all() and frame["churned_on"].isna().all()
    assert [(i.row, i.column, i.severity) for i in issues] == [
        (2, "Signup Date", "warning"),
        (2, "Churned On", "warning"),
    ]
    assert all(i.reason.endswith("left empty") for i in issues)


def test_duplicate_order_ids_keep_the_first(settings):
    tab = raw(
        "Orders",
        ["Order ID", "Customer ID", "Order Date", "Amount"],
        ["O1", "C1", "2026-01-01", 10],
        ["O2", "C1", "2026-01-02", 20],
        [" O1", "C2", "2026-01-03", 30],
    )
    frame, issues = parse_tab("orders", tab, settings)
    assert list(frame["amount"]) == [10.0, 20.0]
    assert [(i.row, i.value, i.severity) for i in issues] == [(4, "O1", "rejected")]
    assert "first seen in row 2" in issues[0].reason


def test_a_rejected_row_does_not_count_as_the_first_of_a_duplicate(settings):
    tab = raw(
        "Orders",
        ["Order ID", "Customer ID", "Order Date", "Amount"],
        ["O1", "C1", "2026-01-01", "bad"],
        ["O1", "C1", "2026-01-02", 20],
    )
    frame, issues = parse_tab("orders", tab, settings)
    assert list(frame["amount"]) == [20.0]
    assert len(issues) == 1 and issues[0].row == 2


def test_duplicate_customers_keep_the_first_and_dimensions_are_kept_as_text(settings):
    tab = raw(
        "Customers",
        ["Customer ID", "Region", "Customer Type", "Seats"],
        ["C1", "North", "SMB", 5.0],
        ["C2", "South", None, 10.0],
        ["C1", "West", "Enterprise", 7.0],
    )
    parsed = parse_tab_detail("customers", tab, settings)
    assert parsed.dimensions == ["region", "customer_type", "seats"]
    frame = parsed.frame
    assert list(frame["region"]) == ["North", "South"]
    assert list(frame["seats"]) == ["5", "10"]
    assert frame["customer_type"].isna().tolist() == [False, True]
    assert str(frame["region"].dtype) == "string"
    assert [(i.row, i.value) for i in parsed.issues] == [(4, "C1")]


def test_survey_names_are_matched_case_insensitively_and_scores_checked_against_their_scale(settings):
    tab = raw(
        "Responses",
        ["Date", "Survey", "Score", "Customer ID", "Comment"],
        ["2026-01-01", "nps", 9, "C1", "great"],
        ["2026-01-01", " Csat ", 4.0, None, None],
        ["2026-01-01", "NPS", 11, "C1", None],
        ["2026-01-01", "CSAT", 3.5, "C1", None],
        ["2026-01-01", "CSI", "abc", "C1", None],
        ["2026-01-01", "NSP", 5, "C1", None],
        ["2026-01-01", "CSAT", 0, "C1", None],
    )
    frame, issues = parse_tab("responses", tab, settings)
    assert list(frame["survey"]) == ["NPS", "CSAT"]
    assert list(frame["score"]) == [9, 4] and str(frame["score"].dtype) == "int64"
    by_row = {i.row: i for i in issues}
    assert set(by_row) == {4, 5, 6, 7, 8}
    assert all(i.severity == "rejected" for i in issues)
    assert by_row[4].reason == "outside the NPS scale 0–10" and by_row[4].value == "11"
    assert "not a whole number" in by_row[5].reason and "1–5" in by_row[5].reason
    assert "not a number" in by_row[6].reason and "1–10" in by_row[6].reason
    assert by_row[7].column == "Survey" and "NPS, CSAT, CSI" in by_row[7].reason
    assert by_row[8].reason == "outside the CSAT scale 1–5"


def test_configured_surveys_and_scales_are_used():
    settings = make_settings(surveys={"scales": {"ces": {"min": 1, "max": 7}, "CSAT": {"min": 1, "max": 10}}})
    tab = raw("Responses", ["Date", "Survey", "Score"], ["2026-01-01", "CES", 7], ["2026-01-01", "csat", 9])
    frame, issues = parse_tab("responses", tab, settings)
    assert issues == [] and list(frame["survey"]) == ["CES", "CSAT"]


def test_missing_required_column_makes_the_tab_unusable_with_one_clear_issue(settings):
    tab = raw("Orders", ["Customer", "Date", "Net"], ["C1", "2026-01-01", 5], ["C2", "2026-01-02", 6])
    parsed = parse_tab_detail("orders", tab, settings)
    assert parsed.frame.empty and not parsed.usable
    assert len(parsed.issues) == 1
    issue = parsed.issues[0]
    assert (issue.row, issue.column, issue.severity) == (1, "amount", "rejected")
    assert "Customer, Date, Net" in issue.reason
    assert '[columns.orders] amount = "Your header"' in issue.reason
    assert parsed.rejected_rows == 2


def test_explicit_column_mapping_from_settings():
    settings = make_settings(columns={"orders": {"amount": "Net", "customer_id": "Buyer"}})
    tab = raw("Orders", ["Buyer", "Date", "Net", "Total"], ["C1", "2026-01-01", 5, 99])
    frame, issues = parse_tab("orders", tab, settings)
    assert issues == [] and list(frame["amount"]) == [5.0] and list(frame["customer_id"]) == ["C1"]


def test_ambiguous_dates_are_reported_once_per_column(settings):
    tab = raw(
        "Spend",
        ["Date", "Amount"],
        ["01/02/2026", 1],
        ["03/04/2026", 2],
        ["13/04/2026", 3],
        ["05/06/2026", 4],
    )
    frame, issues = parse_tab("spend", tab, settings)
    assert len(frame) == 4
    assert len(issues) == 1
    issue = issues[0]
    assert (issue.row, issue.column, issue.value, issue.severity) == (2, "Date", "01/02/2026", "warning")
    assert "3 date(s)" in issue.reason and 'date_order = "DMY"' in issue.reason and "1 other value" in issue.reason
    assert frame["date"][0] == pd.Timestamp("2026-01-02")


def test_empty_tab_and_missing_tab(settings):
    frame, issues = parse_tab("spend", raw("Spend"), settings)
    assert frame.empty and len(issues) == 1 and "empty" in issues[0].reason
    frame, issues = parse_tab("spend", None, settings)
    assert frame.empty and issues == [] and list(frame.columns) == [*SCHEMA["spend"], "row"]


def test_short_rows_and_extra_columns_are_fine(settings):
    tab = raw(
        "Complaints", ["日期", "客户ID", "类别", "状态", "解决日期", "Notes"], ["2026年3月5日", "C1"], ["2026-03-06"]
    )
    frame, issues = parse_tab("complaints", tab, settings)
    assert issues == [] and list(frame["customer_id"].astype(object).fillna("-")) == ["C1", "-"]


def test_a_row_with_content_only_in_unused_columns_is_reported_not_dropped(settings):
    tab = raw(
        "Orders",
        ["Customer ID", "Order Date", "Amount", "Notes"],
        ["C1", "2026-01-01", 5, ""],
        [None, None, None, "call back"],
        [None, "", None, "  "],
    )
    parsed = parse_tab_detail("orders", tab, settings)
    assert [(i.row, i.column, i.reason) for i in parsed.issues] == [(3, "Customer ID", "required value is missing")]
    assert (parsed.rejected_rows, parsed.blank_rows, len(parsed.frame)) == (1, 1, 1)


def test_spend_end_date_and_segment_columns_are_read(settings):
    tab = raw(
        "Spend",
        ["Start date", "End date", "Channel", "Region", "Amount"],
        ["2026-03-01", "2026-03-10", "Search", "North", 100],
        ["2026-03-05", None, "Events", "", 40],
    )
    parsed = parse_tab_detail("spend", tab, settings)
    assert parsed.issues == []
    frame = parsed.frame
    assert list(frame["date"]) == [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-05")]
    assert frame["end_date"][0] == pd.Timestamp("2026-03-10") and pd.isna(frame["end_date"][1])
    assert str(frame["end_date"].dtype) == SCHEMA["spend"]["end_date"]
    assert list(frame["region"].astype(object).fillna("-")) == ["North", "-"]


def test_spend_chinese_headers_for_the_range_and_region(settings):
    tab = raw("Spend", ["开始日期", "结束日期", "区域", "金额"], ["2026-03-01", "2026-03-31", "华东", 300])
    frame, issues = parse_tab("spend", tab, settings)
    assert issues == []
    assert frame["end_date"][0] == pd.Timestamp("2026-03-31") and frame["region"][0] == "华东"


def test_spend_end_date_before_date_is_a_rejected_row(settings):
    tab = raw(
        "Spend",
        ["Date", "End date", "Amount"],
        ["2026-03-10", "2026-03-01", 100],
        ["2026-03-10", "2026-03-10", 50],
        ["2026-03-10", "not a date", 20],
    )
    parsed = parse_tab_detail("spend", tab, settings)
    got = [(i.row, i.column, i.value, i.severity) for i in parsed.issues]
    assert got == [(2, "End date", "2026-03-01", "rejected"), (4, "End date", "not a date", "warning")]
    assert parsed.issues[0].reason == "end_date 2026-03-01 is before date 2026-03-10; an end_date is the last day the spend covers"
    assert list(parsed.frame["row"]) == [3, 4] and parsed.rejected_rows == 1
    assert pd.isna(parsed.frame["end_date"][1])
