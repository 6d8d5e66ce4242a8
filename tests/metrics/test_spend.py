"""Spend over time (end_date ranges, monthly budgets spread by days) and spend by segment, by hand
(METRICS.md "Spend over time" and "Spend by segment")."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import pandas as pd
import pytest

from metrics.engine import compute
from metrics.options import MetricOptions
from metrics.periods import parse_period
from metrics.tables import SCHEMA, Tables
from metrics.value import cac, ltv_cac, net_clv
from tests.metrics.builders_b import period

TODAY = pd.Timestamp("2027-06-30").date()
W38 = parse_period("2026-W38", TODAY)  # Monday 2026-09-14 .. Sunday 2026-09-20
Q3 = parse_period("2026-Q3", TODAY)
SEPTEMBER = parse_period("2026-09", TODAY)
O = MetricOptions(churn_mode="explicit")


def spend_frame(rows: Sequence[dict[str, Any]], extra: Sequence[str] = ()) -> pd.DataFrame:
    """A Spend frame from dicts (date, amount, optional end_date, channel and any extra columns)."""
    cols: dict[str, pd.Series] = {}
    for col, dtype in SCHEMA["spend"].items():
        values = [r.get(col) for r in rows]
        cols[col] = (pd.to_datetime(pd.Series(values, dtype=object)) if dtype.startswith("datetime")
                     else pd.Series(values, dtype=object)).astype(dtype)
    for col in extra:
        cols[col] = pd.Series([r.get(col) for r in rows], dtype=object).astype("string")
    return pd.DataFrame(cols)


def customer_frame(rows: Sequence[tuple[str, str, str | None]]) -> pd.DataFrame:
    """Customers (id, signup, region)."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype="string"),
            "signup_date": pd.to_datetime(pd.Series([r[1] for r in rows], dtype=object)).astype("datetime64[ns]"),
            "churned_on": pd.Series([None] * len(rows), dtype="datetime64[ns]"),
            "region": pd.Series([r[2] for r in rows], dtype="string"),
        }
    )


def order_frame(rows: Sequence[tuple[str, str, float]]) -> pd.DataFrame:
    """Orders (customer_id, date, amount), one order per row."""
    return pd.DataFrame(
        {
            "order_id": pd.Series([f"O{i}" for i in range(len(rows))], dtype="string"),
            "customer_id": pd.Series([r[0] for r in rows], dtype="string"),
            "order_date": pd.to_datetime(pd.Series([r[1] for r in rows], dtype=object)).astype("datetime64[ns]"),
            "amount": pd.Series([r[2] for r in rows], dtype="float64"),
            "gross_margin": pd.Series([None] * len(rows), dtype="float64"),
        }
    )


def book(spend: Sequence[dict[str, Any]], customers: Sequence[tuple[str, str, str | None]] = (),
         extra: Sequence[str] = (), orders: Sequence[tuple[str, str, float]] = ()) -> Tables:
    frames = {"customers": customer_frame(customers), "spend": spend_frame(spend, extra), "orders": order_frame(orders)}
    return Tables.from_frames(frames, dimensions=("region",))


MONTHLY = [
    {"date": "2026-08-01", "amount": 310.0},
    {"date": "2026-09-01", "amount": 500.0},
    {"date": "2026-10-01", "amount": 620.0},
]
# Two customers sign up in W38, five in September in all, seven in Q3.
SIGNUPS = [
    ("a", "2026-09-14", "North"),
    ("b", "2026-09-20", "South"),
    ("c", "2026-09-02", "North"),
    ("d", "2026-09-25", "North"),
    ("e", "2026-09-30", "South"),
    ("f", "2026-08-10", "North"),
    ("g", "2026-08-31", "South"),
]


def spend_of(r) -> float:
    return r.details["spend"]


# --- spend over time -------------------------------------------------------------------------------


def test_metrics_md_example_monthly_budget_in_an_iso_week():
    r = cac(book(MONTHLY, SIGNUPS), W38, O)
    assert spend_of(r) == pytest.approx(500 * 7 / 30)  # 116.67: 7 of September's 30 days
    assert round(spend_of(r), 2) == 116.67
    assert r.value == pytest.approx(500 * 7 / 30 / 2)  # a and b signed up in W38: 58.33
    assert any("spread by days" in n for n in r.notes)


def test_metrics_md_example_the_quarter_holds_the_whole_budget():
    r = cac(book(MONTHLY, SIGNUPS), Q3, O)
    assert spend_of(r) == pytest.approx(310 + 500)  # August and September whole; October is Q4
    assert r.value == pytest.approx(810 / 7)
    assert not any("spread by days" in n for n in r.notes)


def test_whole_month_cac_is_unchanged_by_the_spreading():
    r = cac(book(MONTHLY, SIGNUPS), SEPTEMBER, O)
    assert spend_of(r) == pytest.approx(500) and r.value == pytest.approx(100)  # 500 / 5 new
    assert not any("spread by days" in n for n in r.notes)


def test_weekly_cac_from_monthly_budgets_is_not_zero():
    # ISO week 2026-W36: Monday 31 August .. Sunday 6 September: 1 day of August, 6 of September.
    w36 = parse_period("2026-W36", TODAY)
    r = cac(book(MONTHLY, SIGNUPS), w36, O)
    assert spend_of(r) == pytest.approx(310 / 31 + 500 * 6 / 30)  # 10 + 100 = 110
    assert r.value == pytest.approx(110 / 2)  # g (31 Aug) and c (2 Sep) are new: 55
    assert any("spread by days" in n for n in r.notes)


def test_partial_month_cac_from_monthly_budgets():
    # 25 August .. 4 September inclusive: 7 days of August, 4 of September.
    p = period("2026-08-25", "2026-09-05")
    r = cac(book(MONTHLY, SIGNUPS), p, O)
    assert spend_of(r) == pytest.approx(310 * 7 / 31 + 500 * 4 / 30)  # 70 + 66.67 = 136.67
    assert r.value == pytest.approx((70 + 200 / 3) / 2)  # g and c: 68.33


def test_end_date_spreads_a_row_over_its_days_inclusive():
    # 600 from 10 to 19 October inclusive = 10 days of 60; 15–31 October holds 5 of them.
    t = book([{"date": "2026-10-10", "end_date": "2026-10-19", "amount": 600.0}], [("a", "2026-10-20", "North")])
    r = cac(t, period("2026-10-15", "2026-11-01"), O)
    assert spend_of(r) == pytest.approx(300) and r.value == pytest.approx(300)
    assert any("spread by days" in n for n in r.notes)
    assert spend_of(cac(t, parse_period("2026-10", TODAY), O)) == pytest.approx(600)


def test_a_row_with_end_date_on_its_own_date_is_one_day():
    t = book([{"date": "2026-10-10", "end_date": "2026-10-10", "amount": 80.0}], [("a", "2026-10-10", None)])
    assert spend_of(cac(t, period("2026-10-10", "2026-10-11"), O)) == pytest.approx(80)
    assert spend_of(cac(t, period("2026-10-11", "2026-10-12"), O)) == pytest.approx(0)


def test_monthly_budgets_are_decided_per_channel():
    # Search is a monthly budget (every row on the 1st); Events has a row on the 15th, so its row on
    # the 1st is spend on that day only.
    rows = [
        {"date": "2026-09-01", "amount": 300.0, "channel": "Search"},
        {"date": "2026-10-01", "amount": 310.0, "channel": "Search"},
        {"date": "2026-09-01", "amount": 90.0, "channel": "Events"},
        {"date": "2026-09-15", "amount": 40.0, "channel": "Events"},
    ]
    t = book(rows, SIGNUPS)
    first_week = period("2026-09-01", "2026-09-08")
    assert spend_of(cac(t, first_week, O)) == pytest.approx(300 * 7 / 30 + 90)  # 70 + 90
    assert spend_of(cac(t, W38, O)) == pytest.approx(300 * 7 / 30 + 40)  # 70 + the 15th's 40


def test_a_tab_with_one_row_off_the_first_is_spend_on_its_days():
    rows = [{"date": "2026-09-01", "amount": 500.0}, {"date": "2026-09-16", "amount": 20.0}]
    assert spend_of(cac(book(rows, SIGNUPS), W38, O)) == pytest.approx(20)


def test_spend_in_a_period_without_rows_or_new_customers():
    t = book(MONTHLY, [])
    r = cac(t, W38, O)
    assert r.value is None and spend_of(r) == pytest.approx(500 * 7 / 30)


# --- spend by segment ------------------------------------------------------------------------------

# September budgets by region (all on the 1st: monthly budgets); 40 has no region.
BY_REGION = [
    {"date": "2026-09-01", "amount": 300.0, "region": "North"},
    {"date": "2026-09-01", "amount": 160.0, "region": "south"},  # matched case-insensitively
    {"date": "2026-09-01", "amount": 40.0, "region": None},
]
# September's new customers: North a, c, d (3); South b, e (2). One order of 100 each.
ORDERS = [(c, "2026-09-28", 100.0) for c in "abcde"]
LIFETIME_3 = replace(O, clv_lifetime_years=3)


def regional() -> Tables:
    return book(BY_REGION, SIGNUPS, extra=["region"], orders=ORDERS)


def test_segment_cac_uses_the_segment_spend_column():
    r = compute("cac", regional(), SEPTEMBER, O, by="region")
    assert r.value == pytest.approx(500 / 5)  # overall: all 500 (unallocated included) / 5 new = 100
    rows = {s.segment: s for s in r.breakdown}
    assert rows["North"].value == pytest.approx(300 / 3)  # 100
    assert rows["South"].value == pytest.approx(160 / 2)  # 80
    assert (rows["North"].numerator, rows["North"].denominator) == (pytest.approx(300), 3)
    assert any("40.00 of spend in 2026-09 has no region" in n and "unallocated" in n for n in r.notes)


def test_segment_cac_with_where_and_its_unallocated_note():
    r = compute("cac", regional(), SEPTEMBER, O, where={"region": "North"})
    assert r.value == pytest.approx(100) and r.details["spend"] == pytest.approx(300)
    assert any("40.00 of spend in 2026-09 has no region" in n for n in r.notes)


def test_segment_cac_in_a_week_is_spread_by_days_too():
    r = compute("cac", regional(), W38, O, where={"region": "South"})
    assert r.value == pytest.approx(160 * 7 / 30)  # b is South's one new customer in W38: 37.33
    assert any("spread by days" in n for n in r.notes)


def test_segment_net_clv_ltv_cac_and_target_use_the_segment_spend():
    # CLV = AOV 100 × 1 order a year × 3 years = 300 in every region.
    o = replace(LIFETIME_3, targets={"cac": 90.0})
    north = compute("ltv-cac", regional(), SEPTEMBER, o, where={"region": "North"})
    assert north.value == pytest.approx(300 / 100)  # 3.0
    south = compute("net-clv", regional(), SEPTEMBER, o, where={"region": "South"})
    assert south.value == pytest.approx(300 - 80)  # 220
    assert compute("cac", regional(), SEPTEMBER, o, where={"region": "North"}).target.met is False  # 100 > 90
    assert compute("cac", regional(), SEPTEMBER, o, where={"region": "South"}).target.met is True  # 80 ≤ 90


def test_segment_cac_without_a_spend_column_is_na_not_total_over_segment():
    t = book(MONTHLY, SIGNUPS, orders=ORDERS)
    o = replace(LIFETIME_3, targets={"cac": 90.0})
    r = compute("cac", t, SEPTEMBER, o, by="region")
    assert r.value == pytest.approx(100)  # the total is unchanged: 500 / 5
    assert [s.value for s in r.breakdown] == [None, None]  # never 500 / 3 = 166.67 for North
    assert any("Spend tab has no 'region' column" in n for n in r.notes)
    north = compute("cac", t, SEPTEMBER, o, where={"region": "North"})
    assert north.value is None and north.target is None  # no "missed" against the target
    assert north.details["spend"] is None
    assert any("Spend tab has no 'region' column" in n and "region = North" in n for n in north.notes)
    for name in ("net-clv", "ltv-cac"):
        r = compute(name, t, SEPTEMBER, o, where={"region": "North"})
        assert r.value is None and any("no 'region' column" in n for n in r.notes)
        assert [s.value for s in compute(name, t, SEPTEMBER, o, by="region").breakdown] == [None, None]


def test_customers_without_a_value_have_no_segment_spend():
    customers = [*SIGNUPS, ("h", "2026-09-03", None)]
    r = compute("cac", book(BY_REGION, customers, extra=["region"]), SEPTEMBER, O, by="region")
    rows = {s.segment: s.value for s in r.breakdown}
    assert rows["(blank)"] is None  # the 40 without a region is unallocated, not theirs
    assert rows["North"] == pytest.approx(100) and rows["South"] == pytest.approx(80)


def test_a_segment_without_spend_rows_has_zero_spend_and_says_so():
    customers = [*SIGNUPS, ("h", "2026-09-03", "East")]
    r = compute("cac", book(BY_REGION, customers, extra=["region"]), SEPTEMBER, O, where={"region": "East"})
    assert r.value == 0 and r.details["spend"] == 0  # the Spend tab is split by region and East has no rows
    assert any("no rows with region = East" in n for n in r.notes)
