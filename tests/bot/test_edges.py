"""Trust at the edges (issue 13 items 4, 5, 10, 11): answers for periods after today, missing tabs and
columns, units in every table, and errors in corners — on small hand-made workbooks, figures by hand."""

from datetime import date

import pytest

from bot.context import build_context
from bot.query import answer
from bot.render.json import render_json
from bot.render.text import render_text
from bot.replies import ErrorReply, MetricReply
from config import parse_settings
from tests.workbooks import write_source_workbook

TODAY = date(2026, 10, 15)  # a Thursday in ISO week 2026-W42

CUSTOMERS = [
    ["customer_id", "signup_date", "region"],
    ["C1", "2026-01-05", "North"],
    ["C2", "2026-02-10", "South"],
    ["C3", "2026-09-03", "North"],
]
ORDERS = [
    ["order_id", "customer_id", "order_date", "amount"],
    ["O1", "C1", "2026-09-10", 40.0],
    ["O2", "C2", "2026-09-20", 30.0],
    ["O3", "C1", "2026-10-02", 100.0],
    ["O4", "C2", "2026-10-14", 50.0],
]
RESPONSES = [
    ["date", "survey", "score", "customer_id"],
    ["2026-10-01", "nps", 10, "C1"],
    ["2026-10-02", "nps", 9, "C2"],
    ["2026-10-03", "nps", 3, "C3"],
    ["2026-09-05", "nps", 10, "C1"],
]


def context(path, today=TODAY, **config):
    return build_context(parse_settings(config), workbook=str(path), today=today)


@pytest.fixture
def book(tmp_path):
    path = write_source_workbook(tmp_path / "book.xlsx", {"Customers": CUSTOMERS, "Orders": ORDERS, "Responses": RESPONSES})
    return context(path)


class TestPeriodsAfterToday:
    @pytest.mark.parametrize(
        "text, message, suggestion",
        [
            ("revenue 2027-03", "2027-03 has not started yet; today is 2026-10-15", "this-month"),
            ("overview 2027-01", "2027-01 has not started yet; today is 2026-10-15", "this-month"),
            ("nps 2027-Q1", "2027-Q1 has not started yet; today is 2026-10-15", "this-quarter"),
            ("revenue 2026-W43", "2026-W43 has not started yet; today is 2026-10-15", "this-week"),
            ("revenue 2026-09 vs 2026-11", "2026-11 has not started yet; today is 2026-10-15", "this-month"),
        ],
    )
    def test_is_an_error_with_a_suggestion(self, book, text, message, suggestion):
        reply = answer(text, book)
        assert isinstance(reply, ErrorReply), reply
        assert (reply.message, reply.suggestion) == (message, suggestion)
        assert render_text(reply) == f"error: {message} — did you mean {suggestion}?"

    def test_a_period_ending_after_today_is_to_date(self, book):
        # 2026-10 on 15 Oct = 1–15 Oct: O3 100 + O4 50 = 150, against 1–15 Sep: O1 40 → ▲ $110.00
        reply = answer("revenue 2026-10", book)
        assert isinstance(reply, MetricReply)
        r = reply.result
        assert (r.period.label, r.value, r.previous.value, r.previous.change) == ("2026-10 to date", 150.0, 40.0, 110.0)
        text = render_text(reply)
        assert text.startswith("Revenue — 2026-10 to date: $150.00")
        assert "▲ $110.00 vs 2026-09-01 – 2026-09-15" in text
        assert render_json(reply)["period"]["label"] == "2026-10 to date"

    def test_overview_of_the_current_quarter_is_to_date(self, book):
        reply = answer("overview 2026-Q4", book)
        assert render_text(reply).startswith("Overview — 2026-Q4 to date")


class TestMissingDataIsNeverZero:
    @pytest.fixture
    def no_orders(self, tmp_path):
        path = write_source_workbook(tmp_path / "no-orders.xlsx", {"Customers": CUSTOMERS, "Responses": RESPONSES})
        return context(path)

    def test_revenue_without_orders_is_na_with_one_note_saying_what_to_add(self, no_orders):
        reply = answer("revenue last-month", no_orders)
        r = reply.result
        assert r.value is None and r.previous.value is None and r.previous.change is None
        assert r.notes == ["add an Orders tab with customer_id, order_date, amount"]
        text = render_text(reply)
        assert text.splitlines()[0] == "Revenue — 2026-09: n/a"
        assert "$0.00" not in text
        assert "note: add an Orders tab with customer_id, order_date, amount" in text
        data = render_json(reply)
        assert data["value"] is None and data["notes"] == ["add an Orders tab with customer_id, order_date, amount"]

    @pytest.mark.parametrize("metric", ["orders", "aov", "repeat", "clv", "lapsed", "nrr"])
    def test_every_orders_metric_is_na(self, no_orders, metric):
        r = answer(f"{metric} last-month", no_orders).result
        assert r.value is None and r.notes == ["add an Orders tab with customer_id, order_date, amount"]

    def test_two_missing_tabs_are_one_note(self, no_orders):
        # LTV:CAC needs Orders and Spend, the book has neither
        r = answer("ltv-cac last-month", no_orders).result
        assert r.value is None
        assert r.notes == ["add an Orders tab with customer_id, order_date, amount; add a Spend tab with date, amount"]

    def test_a_tab_lacking_a_required_column_is_na_naming_the_column(self, tmp_path):
        orders = [["order_id", "customer_id", "order_date"]] + [row[:3] for row in ORDERS[1:]]
        path = write_source_workbook(tmp_path / "no-amount.xlsx", {"Customers": CUSTOMERS, "Orders": orders})
        r = answer("revenue last-month", context(path)).result
        assert r.value is None
        assert r.notes == ["add the column amount to the Orders tab"]

    def test_overview_without_orders_is_na_not_zero(self, no_orders):
        # Customers alone still give the customer counts (signups): 3 customers signed up by 30 Sep, C3 in Sep
        reply = answer("overview last-month", no_orders)
        by_metric = {r.metric: r for r in reply.results}
        for metric in ("revenue", "aov", "repeat", "clv"):
            assert by_metric[metric].value is None, metric
        assert by_metric["new"].value == 1.0
        assert by_metric["nps"].value is not None
        assert "$0.00" not in render_text(reply)

    def test_a_count_is_zero_when_its_tab_exists_with_no_rows_in_the_period(self, book):
        # Orders exists, none dated in August 2026: 0 orders and $0.00, not n/a
        r = answer("orders 2026-08", book).result
        assert r.value == 0.0 and r.notes == []
        assert answer("revenue 2026-08", book).result.value == 0.0

    def test_a_segment_breakdown_without_the_tab_is_na_not_a_table_of_zeros(self, no_orders):
        r = answer("revenue last-month by region", no_orders).result
        assert r.value is None and r.by == "region" and r.breakdown == []


class TestOneCountOfInvalidRows:
    @pytest.fixture
    def bad_rows(self, tmp_path):
        # 2 bad orders (no amount, bad date) and 1 bad answer (score 11 on the 0–10 NPS scale): 3 in the workbook
        orders = ORDERS + [["O8", "C1", "2026-09-12", None], ["O9", "C2", "not a date", 20.0]]
        responses = RESPONSES + [["2026-09-06", "nps", 11, "C2"]]
        path = write_source_workbook(tmp_path / "bad.xlsx", {"Customers": CUSTOMERS, "Orders": orders, "Responses": responses})
        return context(path)

    def test_a_metric_answer_states_its_tabs_count_only(self, bad_rows):
        text = render_text(answer("revenue last-month", bad_rows))
        assert "2 invalid rows were left out of this metric's tabs — see /pulse issues" in text
        assert "3 invalid" not in text and text.count("invalid row") == 1

    def test_an_overview_states_the_whole_workbook_count(self, bad_rows):
        text = render_text(answer("overview last-month", bad_rows))
        assert "3 invalid rows were left out of the whole workbook — see /pulse issues" in text
        assert text.count("invalid row") == 1


class TestErrorsInCorners:
    @pytest.fixture
    def no_customers(self, tmp_path):
        # Customers has its header (with a region column) but no rows
        path = write_source_workbook(
            tmp_path / "empty-customers.xlsx", {"Customers": CUSTOMERS[:1], "Orders": ORDERS, "Responses": RESPONSES}
        )
        return context(path)

    @pytest.mark.parametrize("text", ["why nps last-month by region", "why revenue last-month by region", "why nps last-month"])
    def test_why_by_region_with_an_empty_customers_tab_says_what_to_add(self, no_customers, text):
        reply = answer(text, no_customers)
        assert isinstance(reply, ErrorReply), reply
        assert "the Customers tab has no rows — add your customers (customer_id, region)" in reply.message
