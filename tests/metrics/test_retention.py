"""Retention, churn, growth, new/active customers, lapsed share, NRR and GRR against hand-computed values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.customers import active_ids
from metrics.options import MetricOptions
from metrics.retention import (
    active_customers,
    churn,
    growth,
    grr,
    lapsed,
    new_customers,
    nrr,
    retention,
)
from metrics.stats import wilson
from tests.metrics.builders_b import period, tables
from tests.metrics.test_customers import AFTER, BASE, build, customer_rows, order_rows

EXPLICIT = MetricOptions(churn_mode="explicit")
INACTIVE = MetricOptions(churn_mode="inactivity", churn_after_days=90)
Q2 = period("2024-04-01", "2024-07-01", "2024-Q2", "quarter")
APRIL = period("2024-04-01", "2024-05-01", "2024-04", "month")


def thousand_customers_hundred_lost():
    rows = [(f"c{i}", "2023-01-01", "2024-05-15" if i < 100 else None) for i in range(1000)]
    return tables(rows, excluded={"customers": 3, "orders": 2, "responses": 9})


def test_metrics_md_example_churn_10_retention_90():
    t = thousand_customers_hundred_lost()
    r, c = retention(t, Q2, MetricOptions()), churn(t, Q2, MetricOptions())
    assert r.value == pytest.approx(90.0) and c.value == pytest.approx(10.0)
    assert (r.numerator, r.denominator, r.n) == (900, 1000, 1000)
    assert (c.numerator, c.denominator) == (100, 1000)
    assert r.unit == c.unit == "percent"
    lo, hi = wilson(900, 1000)
    assert (r.interval.low, r.interval.high) == pytest.approx((lo, hi))
    assert (lo, hi) == pytest.approx((87.985, 91.709), abs=0.001)  # by hand: centre 89.847, half-width 1.862
    assert r.details["start_customers"] == 1000 and r.details["end_customers"] == 900
    assert r.details["lost"] == 100 and r.details["churn_mode"] == "explicit"
    assert r.excluded_rows == 5  # customers + orders, not responses
    assert r.period == Q2


def test_growth_new_and_active_counts():
    rows = [(f"old{i}", "2023-06-01", "2024-05-01" if i < 2 else None) for i in range(10)]
    rows += [(f"new{i}", "2024-05-10", None) for i in range(4)]
    t = tables(rows)
    g = growth(t, Q2, EXPLICIT)
    assert g.value == pytest.approx(20.0)  # S = 10, E = 8 + 4 = 12
    assert g.interval is None and g.unit == "percent"
    assert (g.numerator, g.denominator) == (2, 10)
    n = new_customers(t, Q2, EXPLICIT)
    assert (n.value, n.n, n.unit) == (4.0, 4, "count")
    a = active_customers(t, Q2, EXPLICIT)
    assert (a.value, a.unit) == (12.0, "count")
    r = retention(t, Q2, EXPLICIT)
    assert r.value == pytest.approx(80.0) and r.details["new_customers"] == 4


def test_inactivity_mode_retention_with_reactivation_and_order_only_customers():
    t = tables(
        [("a", "2023-01-01", None), ("b", "2023-01-01", None), ("c", "2023-01-01", None), ("quiet", "2024-06-20", None)],
        [
            ("a", "2024-03-01", 10),  # active on 04-01, last activity 03-01 → gone by 06-30
            ("b", "2024-03-15", 10),
            ("b", "2024-06-01", 10),  # active at both ends: retained
            ("c", "2023-06-01", 10),  # inactive at start…
            ("c", "2024-06-10", 10),  # …back in June: reactivated
            ("x", "2024-02-01", 10),  # only in Orders: signup 2024-02-01, active at start, lost
            ("y", "2024-05-01", 10),  # only in Orders, new in Q2
            ("a", "2024-06-05", -10),  # a refund is not activity
        ],
    )
    r = retention(t, Q2, INACTIVE)
    assert r.details["start_customers"] == 3  # a, b, x
    assert r.details["end_customers"] == 4  # b, c, y, quiet
    assert r.details["retained"] == 1
    assert r.details["reactivated"] == 1
    assert r.details["new_customers"] == 2  # y, quiet
    assert r.details["after_days"] == 90
    assert r.value == pytest.approx(100 / 3)
    assert churn(t, Q2, INACTIVE).value == pytest.approx(200 / 3)
    assert growth(t, Q2, INACTIVE).value == pytest.approx(100 / 3)


def test_auto_mode_follows_the_data():
    t = tables([("a", "2024-01-01", None)], [("a", "2024-01-20", 10)])
    assert retention(t, APRIL, MetricOptions()).details["churn_mode"] == "inactivity"
    assert retention(t, APRIL, MetricOptions()).value == pytest.approx(0.0)  # S = {a}; 01-20 + 90 days = 04-19, gone by 04-30
    assert retention(t, APRIL, EXPLICIT).value == pytest.approx(100.0)


def test_no_customers_at_start_is_undefined_not_zero():
    t = tables([("a", "2024-04-10", None)])
    for fn in (retention, churn, growth):
        r = fn(t, APRIL, EXPLICIT)
        assert r.value is None and r.interval is None
        assert "no active customers on the first day of the period" in r.notes
    empty = tables()
    assert retention(empty, APRIL, EXPLICIT).value is None
    assert new_customers(empty, APRIL, EXPLICIT).value == 0.0
    assert active_customers(empty, APRIL, EXPLICIT).value == 0.0
    assert lapsed(empty, APRIL, EXPLICIT).value is None


def test_one_customer_period():
    t = tables([("a", "2024-01-01", None)])
    r = retention(t, APRIL, EXPLICIT)
    assert (r.value, r.numerator, r.denominator) == (100.0, 1, 1)
    assert r.interval.high == pytest.approx(100.0) and r.interval.low == pytest.approx(wilson(1, 1)[0])
    assert churn(t, APRIL, EXPLICIT).value == 0.0
    assert any("small sample" in n for n in r.notes)


def test_undated_customers_are_reported():
    t = tables([("a", "2024-01-01", None), ("ghost", None, None)], [("refunded", "2024-02-01", -5)])
    r = retention(t, APRIL, EXPLICIT)
    assert r.denominator == 1
    assert "2 customers with neither a signup date nor an order not counted" in r.notes


def test_lapsed_share():
    t = tables(
        [("a", None, None), ("never", "2024-01-01", None)],
        [
            ("a", "2024-01-31", 10),  # 2024-05-01 − 2024-01-31 = 91 days > 90: lapsed
            ("b", "2024-02-01", 10),  # exactly 90 days: not lapsed
            ("c", "2024-01-01", 10),
            ("c", "2024-04-20", -10),  # a refund is not an order: c is lapsed
            ("d", "2024-05-01", 10),  # on the end day: not before end, d is no buyer yet
            ("e", "2024-03-01", float("nan")),  # no amount: not an order
        ],
    )
    r = lapsed(t, APRIL, MetricOptions(churn_after_days=90))
    assert (r.numerator, r.denominator) == (2, 3)
    assert r.value == pytest.approx(200 / 3)
    assert r.interval is not None and r.details["after_days"] == 90


def test_nrr_and_grr_small_case():
    # comparison = March 2024; P = April 2024.
    t = tables(
        [("a", "2023-01-01", None), ("b", "2023-01-01", None), ("c", "2023-01-01", None), ("n", "2024-04-03", None)],
        [
            ("a", "2024-03-05", 100),
            ("a", "2024-04-05", 150),  # expanded: GRR counts only 100
            ("b", "2024-03-05", 200),
            ("b", "2024-04-05", 120),
            ("b", "2024-04-06", -40),  # net 80 in April
            ("c", "2024-03-05", 100),  # gone in April
            ("n", "2024-04-10", 500),  # new in April: excluded from NRR
            (None, "2024-03-20", 50),  # anonymous: in NRR's base, not in GRR's
            (None, "2024-04-20", 30),
        ],
    )
    n = nrr(t, APRIL, MetricOptions())
    # (150 + 80 + 500 + 30 − 500) / (100 + 200 + 100 + 50) = 260 / 450
    assert n.value == pytest.approx(100 * 260 / 450)
    assert (n.numerator, n.denominator) == pytest.approx((260, 450))
    assert n.details["revenue_from_new"] == pytest.approx(500)
    assert n.details["comparison_period"] == "2024-03"
    g = grr(t, APRIL, MetricOptions())
    # min(150,100) + min(80,200) + min(0,100) = 180 over 400
    assert g.value == pytest.approx(45.0)
    assert g.n == 3
    assert g.details["comparison_revenue_without_customer"] == pytest.approx(50)


def test_grr_clips_negative_current_revenue_and_ignores_refund_only_base():
    t = tables(
        [("a", "2023-01-01", None)],
        [("a", "2024-03-05", 100), ("a", "2024-04-05", -30), ("z", "2024-03-06", -20)],
    )
    g = grr(t, APRIL, MetricOptions())
    assert (g.value, g.denominator, g.n) == (0.0, 100.0, 1)


def test_nrr_grr_without_comparison_revenue_are_undefined():
    t = tables([("a", "2024-04-01", None)], [("a", "2024-04-05", 100)])
    for fn in (nrr, grr):
        r = fn(t, APRIL, MetricOptions())
        assert r.value is None
        assert any("comparison period (2024-03)" in note for note in r.notes)


@settings(max_examples=40, deadline=None)
@given(customer_rows, order_rows, st.integers(0, 50), st.integers(1, 20), st.sampled_from(["explicit", "inactivity"]))
def test_retention_properties(customers, orders, start, length, mode):
    t = build(customers, orders)
    o = MetricOptions(churn_mode=mode, churn_after_days=AFTER)
    s, e = BASE + timedelta(days=start), BASE + timedelta(days=start + length)
    p = period(s.isoformat(), e.isoformat())
    r, c = retention(t, p, o), churn(t, p, o)
    S, E = set(active_ids(t, s, o)), set(active_ids(t, p.last_day, o))
    assert r.denominator == len(S) and r.numerator == len(S & E)
    assert active_customers(t, p, o).value == len(E)
    if S:
        assert r.value + c.value == 100.0
        assert 0 <= r.value <= 100 and 0 <= c.value <= 100
        assert r.interval.low - 1e-9 <= r.value <= r.interval.high + 1e-9  # Wilson's bound at k = n is 100 − 1 ulp
        assert growth(t, p, o).value == pytest.approx(100 * (len(E) - len(S)) / len(S))
    else:
        assert r.value is None and c.value is None
    lp = lapsed(t, p, o)
    assert lp.value is None or 0 <= lp.value <= 100
    g = grr(t, p, o)
    assert g.value is None or 0 <= g.value <= 100 + 1e-9


@settings(max_examples=30, deadline=None)
@given(customer_rows, order_rows, st.integers(0, 50), st.sampled_from(["explicit", "inactivity"]), st.randoms())
def test_results_do_not_depend_on_row_order(customers, orders, start, mode, rnd):
    o = MetricOptions(churn_mode=mode, churn_after_days=AFTER)
    p = period((BASE + timedelta(days=start)).isoformat(), (BASE + timedelta(days=start + 10)).isoformat())
    c2, o2 = customers[:], orders[:]
    rnd.shuffle(c2)
    rnd.shuffle(o2)
    a, b = build(customers, orders), build(c2, o2)
    for fn in (retention, churn, growth, new_customers, active_customers, lapsed, nrr, grr):
        ra, rb = fn(a, p, o), fn(b, p, o)
        assert (ra.numerator, ra.denominator, ra.n) == pytest.approx((rb.numerator, rb.denominator, rb.n), nan_ok=True)
        assert ra.value == pytest.approx(rb.value) if ra.value is not None else rb.value is None
