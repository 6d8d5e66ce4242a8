"""Trust at the edges (issue 13 items 4, 5, 10, 11): answers for periods after today, missing tabs and
columns, units in every table, and errors in corners — on small hand-made workbooks, figures by hand."""

from datetime import date

import pytest

from bot.context import build_context
from bot.query import answer
from bot.render import format as fmt
from bot.render.blocks import render_blocks
from bot.render.json import render_json
from bot.render.text import render_text
from bot.replies import ErrorReply, MetricReply, TableReply
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
    ["2026-09-10", "csat", 5, "C1"],
    ["2026-09-11", "csat", 4, "C2"],
    ["2026-09-12", "csat", 2, "C3"],
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

    @pytest.mark.parametrize(
        "text",
        [
            "aov 2026-08",  # no order in August: 0 orders → AOV undefined, not $0.00
            "repeat 2026-08",  # no purchaser in August
            "nps 2026-08",  # no NPS answer in August
            "retention 2025-12",  # first signup 2026-01-05: nobody active on 1 Dec 2025
            "churn 2025-12",
        ],
    )
    def test_an_empty_denominator_is_na(self, book, text):
        reply = answer(text, book)
        assert reply.result.value is None and render_text(reply).splitlines()[0].endswith(": n/a")

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

    def test_json_says_which_rows_excluded_rows_counts(self, bad_rows):
        # The same two scopes as the text: a metric's excluded_rows counts its own tabs (revenue reads Orders:
        # 2 bad orders), the whole workbook's count (2 orders + 1 answer = 3) is the overview's data note.
        revenue = render_json(answer("revenue last-month", bad_rows))
        assert (revenue["excluded_rows"], revenue["excluded_scope"]) == (2, "metric_tabs")
        overview = render_json(answer("overview last-month", bad_rows))
        assert {r["excluded_scope"] for r in overview["results"]} == {"metric_tabs"}
        assert next(r for r in overview["results"] if r["metric"] == "revenue")["excluded_rows"] == 2
        assert "3 invalid rows were left out of the whole workbook — see /pulse issues" in overview["data_notes"]


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



def block_text(blocks) -> str:
    return str(blocks)


class TestWording:
    def test_a_change_undefined_for_lack_of_a_current_value_says_so(self, book):
        # 3–13 Oct has no order → AOV n/a; the 11 days before (22 Sep – 2 Oct) have O3 $100 → AOV $100.00
        reply = answer("aov 2026-10-03..2026-10-13", book)
        r = reply.result
        assert (r.value, r.previous.value, r.previous.change) == (None, 100.0, None)
        expected = "change undefined: no value for this period (2026-09-22 – 2026-10-02: $100.00)"
        assert render_text(reply).splitlines()[1] == f"  {expected}"
        assert expected in block_text(render_blocks(reply))

    def test_no_previous_value_still_names_the_previous_period(self, book):
        # August has no order: AOV of September $35.00 (O1 40 + O2 30 over 2), nothing to compare with
        assert fmt.change(answer("aov 2026-09", book).result.previous, "money") == "no value for 2026-08"


class TestUnits:
    @pytest.mark.parametrize(
        "value, unit, shown",
        [
            (21137.8, "money", "+$21,137.80"),
            (-2.52, "percent", "-2.5 pts"),  # a churn change: points, 1 decimal
            (5.4, "nps", "+5 pts"),  # NPS: whole points
            (1.3, "days", "+1.3 days"),
            (0.3, "ratio", "+0.3"),
            (0.04, "percent", "0.0 pts"),  # rounds to zero: no sign
        ],
    )
    def test_one_rule_for_changes(self, value, unit, shown):
        assert fmt.delta(value, unit, "USD") == shown

    def test_table_cells_take_their_column_unit(self):
        reply = TableReply(
            "t", ["month", "churn", "revenue", "change"], [["2026-11", 2.52, 21137.8, -4.25], ["2026-12", 53.16, None, 2.0]],
            units=[None, "percent", "money", "change:percent"],
        )
        assert render_text(reply).splitlines()[2:4] == [
            "2026-11  2.5%   $21,137.80  -4.2 pts",  # -4.25 → 1 decimal (binary -4.25 rounds half to even)
            "2026-12  53.2%  –           +2.0 pts",
        ]
        assert "$21,137.80" in block_text(render_blocks(reply))
        assert render_json(reply)["rows"][0] == ["2026-11", 2.52, 21137.8, -4.25]  # JSON keeps raw numbers

    def test_breakdown_changes_carry_the_currency(self, book):
        # September: North = C1's O1 $40 (C3 no order), South = C2's O2 $30; August has no order → $0.00 each
        text = render_text(answer("revenue 2026-09 by region", book))
        assert "+$40.00" in text and "+$30.00" in text

    def test_targets_table_has_units_per_row(self, tmp_path):
        path = write_source_workbook(tmp_path / "t.xlsx", {"Customers": CUSTOMERS, "Orders": ORDERS, "Responses": RESPONSES})
        ctx = context(path, targets={"revenue": 200, "nps": 40})
        lines = render_text(answer("targets last-month", ctx)).splitlines()
        # September: revenue O1 40 + O2 30 = $70.00 < $200.00; NPS one 10 → +100 ≥ +40
        assert any(line.split() == ["revenue", "$70.00", "$200.00", "missed", "2026-09"] for line in lines), lines
        assert any(line.split() == ["nps", "+100", "+40", "met", "2026-09"] for line in lines), lines

    def test_target_distance_in_points(self, book):
        ctx_r = answer("nps 2026-09", book).result
        from metrics.result import TargetStatus

        ctx_r.target = TargetStatus(target=40, direction="higher", met=True, distance=60.0)
        assert fmt.target(ctx_r) == "target +40 ✓ met (+60 pts)"


class TestMeaningBeyondJson:
    def test_nps_band_in_text_and_slack(self, book):
        # 1–15 Oct: 10, 9 promoters, 3 detractor of 3 → (2 − 1) / 3 = +33 → excellent (+30 to +69)
        reply = answer("nps 2026-10", book)
        assert "  band: excellent (+30 to +69)" in render_text(reply).splitlines()
        assert "*Band*\\nexcellent (+30 to +69)" in block_text(render_blocks(reply))

    def test_csat_mean_score_in_text_and_slack(self, book):
        # September CSAT answers 5, 4, 2: mean 11/3 = 3.67; sd = √(((4/3)² + (1/3)² + (5/3)²)/2) = √(7/3) = 1.528,
        # 1.96 · 1.528 / √3 = 1.729 → 95% CI 1.94–5.40
        reply = answer("csat 2026-09", book)
        assert "  mean score: 3.67 on 1–5, 95% CI 1.94–5.40" in render_text(reply).splitlines()
        assert "*Mean score*\\n3.67 on 1–5, 95% CI 1.94–5.40" in block_text(render_blocks(reply))

    def test_ltv_cac_health_flag(self, book):
        r = answer("nps 2026-10", book).result
        r.metric, r.details = "ltv-cac", {"healthy": False, "healthy_from": 3.0}
        assert fmt.quality_line(r) == "health: below the healthy 3:1"
        r.details["healthy"] = True
        assert fmt.quality_line(r) == "health: healthy (3:1 or more)"


class TestUnitsOnTheDemo:
    @pytest.fixture(scope="class")
    def demo(self, demo_master):
        from tests.bot.conftest import TODAY as DEMO_TODAY

        return build_context(parse_settings({}), workbook=str(demo_master), today=DEMO_TODAY)

    def test_forecast_of_a_rate_is_in_percent(self, demo):
        lines = render_text(answer("forecast churn", demo)).splitlines()
        rows = lines[2:5]
        assert len(rows) == 3 and all(cell.endswith("%") for row in rows for cell in row.split()[1:]), rows

    def test_risk_value_at_stake_is_money(self, demo):
        rows = render_text(answer("risk", demo)).splitlines()[2:5]
        assert all("$" in row for row in rows), rows
