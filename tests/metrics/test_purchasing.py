"""Purchasing metrics on small hand-built order books, plus properties against a plain-Python reference."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics import purchasing as pu
from metrics.options import MetricOptions
from metrics.stats import wilson
from tests.metrics.builders_a import JAN, orders, period, tables

O = MetricOptions()

# a: first order in December, two orders in January and one refund; b: one order of two lines;
# c: two orders without an order_id; e: an old refund, then a first real order in January; d: February only.
BOOK = orders(
    ("A0", "a", "2025-12-10", 50.0),
    ("A1", "a", "2026-01-05", 100.0),
    ("A2", "a", "2026-01-20", 60.0),
    ("B1", "b", "2026-01-07", 40.0),
    ("B1", "b", "2026-01-07", 10.0),
    (None, "c", "2026-01-09", 30.0),
    ("  ", "c", "2026-01-09", 30.0),
    ("R1", "a", "2026-01-25", -60.0),
    ("E0", "e", "2025-10-01", -5.0),
    ("E1", "e", "2026-01-15", 25.0),
    ("X1", "d", "2026-02-03", 80.0),
)
T = tables(orders=BOOK, excluded={"orders": 3})


def test_revenue_is_net_of_refunds():
    r = pu.revenue(T, JAN, O)
    assert r.value == pytest.approx(295.0 - 60.0)
    assert r.unit == "money" and r.n == 6
    assert r.details["gross_revenue"] == pytest.approx(295.0)
    assert r.details["refunded_amount"] == pytest.approx(60.0)
    assert r.excluded_rows == 3


def test_orders_count_distinct_ids_lines_and_blank_ids_but_not_refunds():
    r = pu.orders(T, JAN, O)
    assert r.value == 6  # A1 A2 B1 two blank-id rows of c, E1
    assert r.details["refund_rows"] == 1


def test_purchasers_aov_frequency():
    assert pu.purchasers(T, JAN, O).value == 4
    aov = pu.aov(T, JAN, O)
    assert aov.value == pytest.approx(235.0 / 6)
    assert (aov.numerator, aov.denominator) == (pytest.approx(235.0), 6)
    f = pu.frequency(T, JAN, O)
    assert f.value == pytest.approx(1.5)
    assert f.unit == "ratio"


def test_repeat_rate():
    r = pu.repeat_rate(T, JAN, O)
    assert (r.numerator, r.denominator, r.value) == (2, 4, pytest.approx(50.0))  # a and c
    assert (r.interval.low, r.interval.high) == pytest.approx(wilson(2, 4))
    assert r.details == {"purchasers": 4, "repeat_purchasers": 2, "one_time": 2}
    assert "small sample: n = 4 < 30" in r.notes


def test_returning_counts_first_order_before_period_ignoring_refunds():
    r = pu.returning_rate(T, JAN, O)
    assert (r.numerator, r.denominator, r.value) == (1, 4, pytest.approx(25.0))  # only a; e's earlier row is a refund
    feb = pu.returning_rate(T, period("2026-02-01", "2026-03-01"), O)
    assert (feb.numerator, feb.denominator) == (0, 1)


def test_refund_rate_rows_and_amount_share():
    r = pu.refund_rate(T, JAN, O)
    assert (r.numerator, r.denominator) == (1, 6)
    assert r.value == pytest.approx(100 / 6)
    assert r.details["refunded_amount_share"] == pytest.approx(100 * 60 / 295)
    assert r.metric == "refunds" and r.unit == "percent"


def test_refunds_beyond_orders_have_no_interval():
    t = tables(orders=orders(("A1", "a", "2026-01-02", 10.0), ("R1", "a", "2026-01-03", -5.0), ("R2", "b", "2026-01-04", -5.0)))
    r = pu.refund_rate(t, JAN, O)
    assert r.value == pytest.approx(200.0)
    assert r.interval is None
    assert any("over 100%" in n for n in r.notes)


@pytest.mark.parametrize("fn", [pu.aov, pu.frequency, pu.repeat_rate, pu.returning_rate, pu.refund_rate])
def test_empty_period_is_undefined_not_zero(fn):
    r = fn(T, period("2027-01-01", "2027-02-01"), O)
    assert r.value is None
    assert r.n == 0
    assert r.interval is None


def test_empty_period_counts_are_zero():
    empty = period("2027-01-01", "2027-02-01")
    assert pu.revenue(T, empty, O).value == 0.0
    assert pu.orders(T, empty, O).value == 0
    assert pu.purchasers(T, empty, O).value == 0
    assert pu.revenue(tables(), JAN, O).value == 0.0


def test_one_customer_period():
    t = tables(orders=orders(("A1", "a", "2026-01-05", 100.0), ("A2", "a", "2026-01-06", 20.0)))
    assert pu.repeat_rate(t, JAN, O).value == 100.0
    assert pu.returning_rate(t, JAN, O).value == 0.0
    assert pu.frequency(t, JAN, O).value == 2.0
    assert pu.aov(t, JAN, O).value == 60.0


def test_rows_without_amount_are_excluded_and_counted():
    book = pd.concat([BOOK, orders(("Z1", "z", "2026-01-03", 1.0))], ignore_index=True)
    book.loc[len(book) - 1, "amount"] = np.nan
    r = pu.orders(tables(orders=book, excluded={"orders": 3}), JAN, O)
    assert r.value == 6
    assert r.excluded_rows == 4


def test_without_order_id_column_every_row_is_an_order():
    book = BOOK.drop(columns=["order_id"])
    assert pu.orders(tables(orders=book), JAN, O).value == 7  # B1's two lines are now two orders


def test_orders_without_customer_are_noted():
    t = tables(orders=orders(("A1", "a", "2026-01-05", 10.0), ("N1", None, "2026-01-06", 10.0)))
    f = pu.frequency(t, JAN, O)
    assert (f.numerator, f.denominator) == (2, 1)
    assert f.notes == ["1 orders have no customer_id and count toward no purchaser"]


# ---- properties ----

DAY0 = date(2025, 12, 1)
row = st.tuples(
    st.sampled_from("abcdef"),
    st.integers(0, 5),  # order number within the customer
    st.integers(0, 90),  # day offset from DAY0
    st.integers(-50, 200),
)


def book_of(rows):
    return orders(*[(f"{c}{k}", c, str(DAY0 + timedelta(days=d)), float(a)) for c, k, d, a in rows])


def reference(rows, p):
    """Plain-Python definitions from METRICS.md, one row at a time."""
    start, end = p.start, p.end
    in_p = [(c, f"{c}{k}", DAY0 + timedelta(days=d), a) for c, k, d, a in rows if start <= DAY0 + timedelta(days=d) < end]
    per_customer = defaultdict(set)
    for c, key, _, a in in_p:
        if a >= 0:
            per_customer[c].add(key)
    first = {}
    for c, k, d, a in rows:
        day = DAY0 + timedelta(days=d)
        if a >= 0 and (c not in first or day < first[c]):
            first[c] = day
    return {
        "revenue": sum(a for *_, a in in_p),
        "orders": len({key for _, key, _, a in in_p if a >= 0}),
        "purchasers": len(per_customer),
        "repeat": sum(len(v) >= 2 for v in per_customer.values()),
        "returning": sum(first[c] < start for c in per_customer),
        "refunds": sum(a < 0 for *_, a in in_p),
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(row, max_size=40), st.randoms(use_true_random=False))
def test_matches_reference_and_ignores_row_order(rows, rnd):
    p = period("2026-01-01", "2026-02-01")
    ref = reference(rows, p)
    book = book_of(rows)
    shuffled = book.sample(frac=1.0, random_state=rnd.randint(0, 2**31 - 1))
    for frame in (book, shuffled):
        t = tables(orders=frame)
        assert pu.revenue(t, p, O).value == pytest.approx(ref["revenue"])
        assert pu.orders(t, p, O).value == ref["orders"]
        assert pu.purchasers(t, p, O).value == ref["purchasers"]
        rep, ret, ref_rate = pu.repeat_rate(t, p, O), pu.returning_rate(t, p, O), pu.refund_rate(t, p, O)
        assert (rep.numerator, rep.denominator) == (ref["repeat"], ref["purchasers"])
        assert (ret.numerator, ret.denominator) == (ref["returning"], ref["purchasers"])
        assert (ref_rate.numerator, ref_rate.denominator) == (ref["refunds"], ref["orders"])
        for share in (rep, ret):
            assert share.value is None or 0.0 <= share.value <= 100.0
            assert share.interval is None or 0.0 <= share.interval.low <= share.value <= share.interval.high <= 100.0
