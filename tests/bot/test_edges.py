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
