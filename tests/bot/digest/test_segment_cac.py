"""The digest's and the alerts' CAC for a segment use the segment's own spend, spread by days, or say n/a
(METRICS.md "Spend over time", "Spend by segment"); every figure computed by hand below."""

from datetime import date, datetime

import pytest

from bot.alerts.rules import evaluate
from bot.digest.builder import build_digest
from bot.digest.render import PLAIN, sections
from config import parse_settings
from tests.bot.digest.conftest import context_at, utc, write_workbook

W12 = date(2026, 3, 16)  # Monday 16 .. Sunday 22 March 2026
D = datetime
CUSTOMERS = [
    ["customer_id", "signup_date", "region"],
    ["C1", D(2025, 12, 1), "North"],
    ["C2", D(2025, 12, 1), "South"],
    ["C7", D(2026, 3, 17), "North"],  # new in W12
    ["C8", D(2026, 3, 18), "South"],  # new in W12
]
ORDERS = [["customer_id", "order_date", "amount"], ["C1", D(2026, 3, 16), 100.0], ["C2", D(2026, 3, 17), 50.0]]
# Monthly budgets (every row on the 1st) by region.
BUDGETS = {"North": (310.0, 280.0, 310.0), "South": (620.0, 560.0, 620.0)}
MONTHS = (D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1))
BY_REGION = [["date", "region", "amount"]] + [[m, r, a[i]] for r, a in BUDGETS.items() for i, m in enumerate(MONTHS)]
TOTALS = [["date", "amount"]] + [[m, BUDGETS["North"][i] + BUDGETS["South"][i]] for i, m in enumerate(MONTHS)]
SETTINGS = {"targets": {"cac": 500}, "surveys": {"min_n": 1}}


def context(tmp_path, spend):
    path = write_workbook(tmp_path / "crm.xlsx", {"Customers": CUSTOMERS, "Orders": ORDERS, "Spend": spend})
    ctx, _ = context_at(SETTINGS, path, utc(2026, 3, 25, 9))
    return ctx


def test_segment_digest_cac_uses_the_regions_spend_spread_by_days(tmp_path):
    d = build_digest(context(tmp_path, BY_REGION), W12, "region=North")
    cac = d.kpi("cac")
    assert cac.week.value == pytest.approx(310 * 7 / 31)  # 7 of March's 31 days of 310 = 70, over C7 alone
    # trailing 13 weeks (22 Dec – 22 Mar): January 310 + February 280 + 22/31 of March's 310 = 810, over C7
    assert cac.trailing.value == pytest.approx(310 + 280 + 310 * 22 / 31)
    assert cac.trailing.target.met is False  # 810 > 500


def test_whole_digest_weekly_cac_is_not_zero(tmp_path):
    d = build_digest(context(tmp_path, TOTALS), W12)
    assert d.kpi("cac").week.value == pytest.approx(930 * 7 / 31 / 2)  # 210 over C7 and C8 = 105
    assert d.kpi("cac").week.previous.value is None  # W11 had no new customers: n/a, not 0


def test_segment_digest_without_a_region_column_in_spend_says_na_not_missed(tmp_path):
    d = build_digest(context(tmp_path, TOTALS), W12, "region=North")
    cac = d.kpi("cac")
    assert cac.week.value is None and cac.trailing.value is None  # never 2,430 total / 1 North customer
    assert cac.trailing.target is None
    assert any("no 'region' column" in n for n in cac.trailing.notes)
    targets = [lines for heading, lines in sections(d, PLAIN) if heading.startswith("Targets")]
    assert not any("acquisition" in line.lower() for lines in targets for line in lines)


def test_segment_alert_on_cac_has_no_value_without_a_region_column(tmp_path):
    ctx = context(tmp_path, TOTALS)
    rule = parse_settings(
        {"targets": {"cac": 500}, "alerts": [{"name": "North CAC", "metric": "cac", "window_days": 7,
                                              "condition": "crosses_target", "segment": "region=North",
                                              "channel": "C1"}]}
    ).alerts[0]
    t = ctx.tables(ctx.snapshot().snapshot)
    ev = evaluate(rule, t, date(2026, 3, 23), ctx.options(), 1)
    assert ev.holds is False and ev.result.value is None and ev.reason == "no value in the window"


def test_a_segment_digest_counts_only_its_own_spend_rows(tmp_path):
    d = build_digest(context(tmp_path, BY_REGION), date(2026, 2, 23), "region=North")  # W09 holds 1 March
    assert d.new_rows["spend"] == 1  # North's March budget, not South's
