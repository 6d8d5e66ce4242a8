"""CAC, historical CLV, net CLV and LTV:CAC against the METRICS.md examples and hand-built cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics import purchasing
from metrics.options import MetricOptions
from metrics.survival import restricted_mean_lifetime_years
from metrics.value import cac, clv, ltv_cac, net_clv, trailing_year
from tests.metrics.builders_b import d, period, tables
from tests.metrics.test_customers import (
    AFTER,
    BASE,
    build,
    customer_rows,
    iso,
    order_rows,
)

Q4 = period("2024-10-01", "2025-01-01", "2024-Q4", "quarter")  # trailing year: 2024-01-01 .. 2024-12-31
EXPLICIT = MetricOptions(churn_mode="explicit")


def hundred_new_customers_and_100k_spend(**kw):
    customers = [(f"n{i}", "2024-11-15", None) for i in range(100)]
    return tables(customers, spend=[("2024-10-01", 60_000), ("2024-12-31", 40_000), ("2025-01-01", 999)], **kw)


def four_orders_of_100_a_year_one_in_three_churns():
    """a, b, c active on 2024-01-01; c churns in June; each places 4 orders of 100 in 2024."""
    customers = [("a", "2023-01-01", None), ("b", "2023-01-01", None), ("c", "2023-01-01", "2024-06-30")]
    orders = [(cid, f"2024-0{m}-10", 100) for cid in "abc" for m in (1, 2, 3, 4)]
    orders.append(("a", "2023-12-31", 100))  # before the window
    return customers, orders


def test_metrics_md_cac_example():
    r = cac(hundred_new_customers_and_100k_spend(excluded={"spend": 2}), Q4, MetricOptions())
    assert r.value == pytest.approx(1000.0)
    assert (r.numerator, r.denominator, r.n) == (100_000, 100, 100)
    assert r.unit == "money" and r.excluded_rows == 2


def test_cac_without_new_customers_is_undefined():
    t = tables([("a", "2020-01-01", None)], spend=[("2024-11-01", 5000)])
    r = cac(t, Q4, MetricOptions())
    assert r.value is None
    assert "no new customers in the period" in r.notes


def test_cac_without_spend_tab_names_the_tab():
    t = tables([("a", "2024-11-01", None)], missing={"spend"})
    r = cac(t, Q4, MetricOptions())
    assert r.value is None and any("Spend tab" in n for n in r.notes)


def test_metrics_md_clv_example_with_configured_lifetime():
    customers, orders = four_orders_of_100_a_year_one_in_three_churns()
    r = clv(tables(customers, orders), Q4, replace(EXPLICIT, clv_lifetime_years=3))
    assert r.value == pytest.approx(1200.0)  # 100 × 4 × 3 × 1.0
    assert r.details["aov"] == pytest.approx(100.0)
    assert r.details["purchases_per_customer_per_year"] == pytest.approx(4.0)
    assert r.details["lifetime_source"] == "configured"
    assert r.unit == "money" and r.n == 3


def test_clv_lifetime_from_annual_churn():
    customers, orders = four_orders_of_100_a_year_one_in_three_churns()
    r = clv(tables(customers, orders), Q4, EXPLICIT)
    assert r.details["annual_churn"] == pytest.approx(100 / 3)
    assert r.details["lifetime_years"] == pytest.approx(3.0)
    assert r.value == pytest.approx(1200.0)
    half = clv(tables(customers, orders), Q4, replace(EXPLICIT, gross_margin=0.5))
    assert half.value == pytest.approx(600.0)


def test_clv_lifetime_is_capped():
    customers, orders = four_orders_of_100_a_year_one_in_three_churns()
    r = clv(tables(customers, orders), Q4, replace(EXPLICIT, clv_max_lifetime_years=2))
    assert r.details["lifetime_years"] == 2 and r.details["lifetime_capped"] is True
    assert r.value == pytest.approx(800.0)
    no_churn = [(c, s, None) for c, s, _ in customers]
    r = clv(tables(no_churn, orders), Q4, replace(EXPLICIT, clv_max_lifetime_years=5))
    assert r.details["lifetime_years"] == 5 and r.value == pytest.approx(2000.0)
    assert any("no churn" in n and "capped at 5 years" in n for n in r.notes)


def test_clv_without_customers_at_window_start_is_undefined():
    t = tables([("a", "2024-06-01", None)], [("a", "2024-06-01", 100)])
    r = clv(t, Q4, EXPLICIT)
    assert r.value is None and r.details["aov"] == pytest.approx(100)
    assert any("set clv.lifetime_years" in n for n in r.notes)


def test_clv_without_orders_is_undefined():
    r = clv(tables([("a", "2020-01-01", None)]), Q4, replace(EXPLICIT, clv_lifetime_years=3))
    assert r.value is None and r.details["aov"] is None
    assert any("no orders in 12 months to 2024-12-31" in n for n in r.notes)


def test_clv_counts_refunds_in_revenue_not_orders_and_distinct_order_ids():
    t = tables(
        [("a", "2020-01-01", None), ("b", "2020-01-01", None)],
        [
            ("a", "2024-03-01", 60, "X1"),
            ("a", "2024-03-01", 40, "X1"),  # a second line of the same order
            ("a", "2024-05-01", 100, "X2"),
            ("a", "2024-05-03", -20, "R1"),
            ("b", "2024-07-01", 120, None),  # no order_id: the row is the order
            ("b", "2024-08-01", 80, None),
        ],
    )
    r = clv(t, Q4, replace(EXPLICIT, clv_lifetime_years=2))
    assert r.details["orders"] == 4 and r.details["purchasers"] == 2
    assert r.details["revenue"] == pytest.approx(380)
    assert r.details["aov"] == pytest.approx(95)
    assert r.value == pytest.approx(95 * 2 * 2)


def test_clv_lifetime_from_survival_curve():
    customers, orders = four_orders_of_100_a_year_one_in_three_churns()
    t = tables(customers, orders)
    o = replace(EXPLICIT, clv_lifetime_years="survival")
    r = clv(t, Q4, o)
    years = restricted_mean_lifetime_years(t, d("2024-12-31"), o)
    assert r.details["lifetime_source"] == "survival"
    assert r.details["lifetime_years"] == pytest.approx(years)
    assert r.value == pytest.approx(400 * years)


def test_clv_survival_without_events_falls_back_to_churn():
    customers, orders = four_orders_of_100_a_year_one_in_three_churns()
    no_churn = [(c, s, None) for c, s, _ in customers]
    r = clv(tables(no_churn, orders), Q4, replace(EXPLICIT, clv_lifetime_years="survival", clv_max_lifetime_years=4))
    assert r.details["lifetime_source"] == "churn" and r.details["lifetime_years"] == 4
    assert any("no churn events for a survival curve" in n for n in r.notes)


def _clv_1200_cac_1000():
    customers, orders = four_orders_of_100_a_year_one_in_three_churns()
    customers += [(f"n{i}", "2024-11-15", None) for i in range(100)]
    return tables(customers, orders, spend=[("2024-10-01", 100_000)])


def test_net_clv_and_ltv_cac():
    o = replace(EXPLICIT, clv_lifetime_years=3)
    t = _clv_1200_cac_1000()
    n = net_clv(t, Q4, o)
    assert n.value == pytest.approx(200.0) and n.unit == "money"
    assert n.details["clv"] == pytest.approx(1200) and n.details["cac"] == pytest.approx(1000)
    r = ltv_cac(t, Q4, o)
    assert r.value == pytest.approx(1.2) and r.unit == "ratio"
    assert r.details["healthy"] is False
    rich = ltv_cac(t, Q4, replace(o, clv_lifetime_years=10))
    assert rich.value == pytest.approx(4.0) and rich.details["healthy"] is True
    edge = ltv_cac(t, Q4, replace(o, clv_lifetime_years=2.5))
    assert edge.value == pytest.approx(1.0)


def test_ltv_cac_undefined_without_spend_or_new_customers():
    customers, orders = four_orders_of_100_a_year_one_in_three_churns()
    o = replace(EXPLICIT, clv_lifetime_years=3)
    no_new = ltv_cac(tables(customers, orders, spend=[("2024-10-01", 100)]), Q4, o)
    assert no_new.value is None and "no new customers in the period" in no_new.notes
    assert net_clv(tables(customers, orders, spend=[("2024-10-01", 100)]), Q4, o).value is None
    free = ltv_cac(tables(customers + [("n", "2024-11-01", None)], orders), Q4, o)
    assert free.value is None and free.details["healthy"] is None
    assert any("CAC is 0" in n for n in free.notes)


def test_trailing_year_clips_month_ends():
    assert trailing_year(period("2024-02-01", "2024-03-01")).start == d("2023-03-01")
    w = trailing_year(period("2024-02-29", "2024-03-01"))
    assert (w.start, w.end) == (d("2023-03-01"), d("2024-03-01"))
    assert trailing_year(period("2024-01-01", "2024-02-29")).start == d("2023-02-28")


@settings(max_examples=40, deadline=None)
@given(customer_rows, order_rows, st.integers(0, 60))
def test_clv_inputs_agree_with_the_purchasing_metrics(customers, orders, end):
    t = build(customers, orders)
    p = period((BASE + timedelta(days=end)).isoformat(), (BASE + timedelta(days=end + 1)).isoformat())
    o = MetricOptions(churn_mode="inactivity", churn_after_days=AFTER, clv_lifetime_years=2)
    r = clv(t, p, o)
    w = trailing_year(p)
    aov, freq = purchasing.aov(t, w, o), purchasing.frequency(t, w, o)
    assert r.details["aov"] == pytest.approx(aov.value) if aov.value is not None else r.details["aov"] is None
    assert r.details["purchases_per_customer_per_year"] == (pytest.approx(freq.value) if freq.value is not None else None)
    if r.value is not None:
        assert r.value == pytest.approx(aov.value * freq.value * 2)


@settings(max_examples=25, deadline=None)
@given(customer_rows, order_rows, st.integers(0, 60), st.randoms())
def test_value_metrics_do_not_depend_on_row_order(customers, orders, end, rnd):
    p = period((BASE + timedelta(days=end)).isoformat(), (BASE + timedelta(days=end + 7)).isoformat())
    o = MetricOptions(churn_mode="inactivity", churn_after_days=AFTER)
    spend = [((BASE + timedelta(days=end)).isoformat(), 70.0)]
    c2, o2 = customers[:], orders[:]
    rnd.shuffle(c2)
    rnd.shuffle(o2)
    a, b = _with_spend(customers, orders, spend), _with_spend(c2, o2, spend)
    for fn in (cac, clv, net_clv, ltv_cac):
        ra, rb = fn(a, p, o), fn(b, p, o)
        assert (ra.value is None) == (rb.value is None)
        if ra.value is not None:
            assert ra.value == pytest.approx(rb.value)


def _with_spend(customers, orders, spend):
    return tables([(c, iso(s), iso(ch)) for c, s, ch in customers], [(c, iso(x), a) for c, x, a in orders], spend=spend)
