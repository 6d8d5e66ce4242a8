"""Cohort triangle on a tiny hand-built workbook, plus properties against a plain-Python model."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.cohorts import cohort_table
from metrics.options import MetricOptions
from tests.metrics.builders_b import d, tables
from tests.metrics.test_customers import BASE, build, customer_rows, order_rows

O = MetricOptions()
NAN = np.nan


def tiny():
    return tables(
        [
            ("a", "2024-01-05", None),
            ("b", "2024-01-20", None),
            ("d", "2024-02-01", None),
            ("f", "2024-03-10", None),
            ("old", "2023-12-01", None),
            ("g", "2024-02-15", None),
        ],
        [
            ("a", "2024-01-05", 10),
            ("a", "2024-02-10", 10),
            ("a", "2024-02-11", 10),
            ("a", "2024-04-01", 10),
            ("c", "2024-01-31", 10),  # only in Orders: January cohort
            ("c", "2024-02-20", -10),  # refund: not an order
            ("c", "2024-03-15", 10),
            ("d", "2024-03-03", 10),
            ("e", "2024-02-28", 10),  # only in Orders: February cohort
            ("f", "2024-06-01", 10),
            ("old", "2024-01-10", 10),  # December cohort: outside the table
            ("g", "2024-01-30", 10),  # before g's signup month: ignored
        ],
    )


def test_tiny_triangle_by_hand():
    table = cohort_table(tiny(), d("2024-01-01"), d("2024-03-31"), O)
    assert table.cohorts == ["2024-01", "2024-02", "2024-03"]
    assert table.sizes.tolist() == [3, 3, 1]  # a b c | d e g | f
    assert table.max_k == 2
    expected = np.array(
        [
            [200 / 3, 100 / 3, 100 / 3],  # Jan: a, c | a | c
            [100 / 3, 100 / 3, NAN],  # Feb: e | d | April not observed yet
            [0.0, NAN, NAN],  # Mar: f orders only in June
        ]
    )
    np.testing.assert_allclose(table.shares, expected, equal_nan=True)
    assert table.buyers.tolist() == [[2, 1, 1], [1, 1, 0], [0, 0, 0]]


def test_observed_later_fills_more_of_the_triangle():
    table = cohort_table(tiny(), d("2024-01-15"), d("2024-03-01"), O, as_of=d("2024-06-30"))
    assert table.max_k == 5
    np.testing.assert_allclose(table.shares[0], [200 / 3, 100 / 3, 100 / 3, 100 / 3, 0, 0])
    np.testing.assert_allclose(table.shares[2], [0, 0, 0, 100, NAN, NAN], equal_nan=True)


def test_empty_cohorts_and_empty_ranges():
    table = cohort_table(tiny(), d("2022-01-01"), d("2022-02-01"), O)
    assert table.sizes.tolist() == [0, 0]
    assert np.isnan(table.shares).all()
    none = cohort_table(tiny(), d("2024-03-01"), d("2024-01-01"), O)
    assert none.cohorts == [] and none.shares.shape[0] == 0
    blank = cohort_table(tables(), d("2024-01-01"), d("2024-02-01"), O)
    assert blank.sizes.tolist() == [0, 0]


def _reference(customers, orders, m0: int, m1: int, observed: int):
    month = lambda offset: ((BASE + timedelta(days=offset)).year * 12 + (BASE + timedelta(days=offset)).month - 1)
    everyone = {c for c, _, _ in customers} | {c for c, _, _ in orders if c is not None}
    width = max(observed - m0, 0) + 1
    n = max(m1 - m0 + 1, 0)
    sizes, buyers = [0] * n, [[0] * width for _ in range(n)]
    for c in everyone:
        signups = [s for cc, s, _ in customers if cc == c and s is not None]
        order_days = [o for cc, o, a in orders if cc == c and a >= 0]
        signup = min(signups) if signups else min(order_days) if order_days else None
        if signup is None or not m0 <= month(signup) <= m1:
            continue
        row = month(signup) - m0
        sizes[row] += 1
        for k in {month(o) - month(signup) for o in order_days}:
            if 0 <= k < width:
                buyers[row][k] += 1
    return sizes, buyers


@settings(max_examples=40, deadline=None)
@given(customer_rows, order_rows, st.integers(0, 2), st.integers(0, 2), st.integers(0, 3))
def test_cohorts_match_the_definition(customers, orders, first, span, extra):
    t = build(customers, orders)
    first_month = date(2024, 1 + first, 1)
    last_month = date(2024, 1 + first + span, 28)
    as_of = date(2024, 1 + first + span + extra, 1)
    table = cohort_table(t, first_month, last_month, O, as_of=as_of)
    m0 = 2024 * 12 + first
    sizes, buyers = _reference(customers, orders, m0, m0 + span, m0 + span + extra)
    assert table.sizes.tolist() == sizes
    observable = ~np.isnan(table.shares)
    assert table.buyers[observable].tolist() == np.array(buyers)[observable].tolist()
    assert ((table.shares[observable] >= 0) & (table.shares[observable] <= 100)).all()
    for row, size in enumerate(sizes):
        for k in range(table.max_k + 1):
            assert observable[row, k] == (size > 0 and row + k <= span + extra)
            if observable[row, k]:
                assert table.shares[row, k] == pytest.approx(100 * buyers[row][k] / size)


@settings(max_examples=30, deadline=None)
@given(customer_rows, order_rows, st.randoms())
def test_cohorts_do_not_depend_on_row_order(customers, orders, rnd):
    c2, o2 = customers[:], orders[:]
    rnd.shuffle(c2)
    rnd.shuffle(o2)
    a = cohort_table(build(customers, orders), d("2024-01-01"), d("2024-02-01"), O, as_of=d("2024-03-01"))
    b = cohort_table(build(c2, o2), d("2024-01-01"), d("2024-02-01"), O, as_of=d("2024-03-01"))
    np.testing.assert_array_equal(a.sizes, b.sizes)
    np.testing.assert_allclose(a.shares, b.shares, equal_nan=True)
