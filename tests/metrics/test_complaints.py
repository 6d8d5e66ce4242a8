"""Complaint rate (per order and per active customer) and resolution rate with median days to resolve."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics import complaints as cm
from metrics.options import MetricOptions
from metrics.stats import wilson
from tests.metrics.builders_a import JAN, complaints, customers, orders, period, tables
from tests.metrics.test_purchasing import BOOK

O = MetricOptions()

FILED = complaints(
    ("2025-12-30", "a", "resolved", "2026-01-02"),
    ("2026-01-02", "a", " Resolved ", "2026-01-05"),
    ("2026-01-03", "b", "CLOSED", "2026-01-13"),
    ("2026-01-04", "c", "已解决", None),
    ("2026-01-05", "a", "open", None),
    ("2026-01-06", "b", None, None),
    ("2026-01-07", "c", "pending", "2026-01-08"),
    ("2026-02-01", "c", "open", None),
)


def test_complaint_rate_per_order():
    # 6 complaints filed in January; BOOK has 6 non-refund orders in January
    r = cm.complaint_rate(tables(complaints=FILED, orders=BOOK, excluded={"complaints": 1, "orders": 2}), JAN, O)
    assert (r.numerator, r.denominator, r.value) == (6, 6, pytest.approx(100.0))
    assert r.details == {"complaints": 6, "orders": 6, "denominator": "orders"}
    assert r.excluded_rows == 3
    few = complaints(("2026-01-02", "a", "open", None), ("2026-01-09", "b", "open", None))
    r = cm.complaint_rate(tables(complaints=few, orders=BOOK), JAN, O)
    assert r.value == pytest.approx(100 * 2 / 6)
    assert (r.interval.low, r.interval.high) == pytest.approx(wilson(2, 6))


def test_complaint_rate_per_active_customer():
    # explicit churn: b churned mid-January, d signs up in February → active on Jan 31: a, c, e, f
    people = customers(
        ("a", "2025-06-01", None),
        ("b", "2025-06-01", "2026-01-15"),
        ("c", "2026-01-10", None),
        ("d", "2026-02-05", None),
        ("e", "2025-01-01", None),
        ("f", "2025-12-31", None),
    )
    one = complaints(("2026-01-20", "a", "open", None))
    o = MetricOptions(complaints_denominator="customers")
    r = cm.complaint_rate(tables(customers=people, complaints=one, excluded={"customers": 2}), JAN, o)
    assert (r.numerator, r.denominator, r.value) == (1, 4, pytest.approx(25.0))
    assert r.details == {"complaints": 1, "active_customers": 4, "denominator": "customers"}
    assert r.excluded_rows == 2


def test_complaint_rate_empty_and_no_orders():
    empty = period("2027-01-01", "2027-02-01")
    r = cm.complaint_rate(tables(complaints=FILED, orders=BOOK), empty, O)
    assert r.value is None and r.n == 0 and r.interval is None
    only_complaints = cm.complaint_rate(tables(complaints=FILED), JAN, O)
    assert only_complaints.value is None and only_complaints.numerator == 6


def test_more_complaints_than_orders_has_no_interval():
    r = cm.complaint_rate(tables(complaints=FILED, orders=orders(("A1", "a", "2026-01-02", 5.0))), JAN, O)
    assert r.value == pytest.approx(600.0)
    assert r.interval is None


def test_resolution_rate_and_median_days():
    r = cm.resolution_rate(tables(complaints=FILED), JAN, O)
    # resolved: " Resolved ", "CLOSED", "已解决" → 3 of 6
    assert (r.numerator, r.denominator, r.value) == (3, 6, pytest.approx(50.0))
    # dated resolutions in January: 3, 10 and 1 days → median 3
    assert r.details["median_days_to_resolve"] == 3.0
    assert r.details["resolved_with_date"] == 3
    assert r.metric == "resolution" and "small sample: n = 6 < 30" in r.notes


def test_resolution_custom_statuses_and_no_dates():
    undated = FILED.assign(resolved_on=pd.NaT)
    r = cm.resolution_rate(tables(complaints=undated), JAN, MetricOptions(resolved_statuses=("Open", "pending")))
    assert (r.numerator, r.denominator) == (2, 6)
    assert "median_days_to_resolve" not in r.details


def test_resolution_before_filing_is_left_out_of_median():
    c = complaints(("2026-01-08", "a", "closed", "2026-01-01"), ("2026-01-08", "b", "closed", "2026-01-12"))
    r = cm.resolution_rate(tables(complaints=c), JAN, O)
    assert r.details["median_days_to_resolve"] == 4.0
    assert r.notes[0] == "1 complaints resolved before they were filed — left out of the median"


def test_resolution_empty_period():
    r = cm.resolution_rate(tables(complaints=FILED), period("2027-01-01", "2027-02-01"), O)
    assert r.value is None and r.n == 0 and "median_days_to_resolve" not in r.details


# ---- properties ----

row = st.tuples(
    st.integers(0, 60),
    st.sampled_from(["resolved", "Closed ", "open", "已关闭", None]),
    st.one_of(st.none(), st.integers(0, 20)),
)


@settings(max_examples=50, deadline=None)
@given(st.lists(row, max_size=30), st.randoms(use_true_random=False))
def test_resolution_matches_reference_and_ignores_row_order(rows, rnd):
    base = pd.Timestamp("2025-12-15")
    frame = complaints(
        *[(str(base + pd.Timedelta(days=d))[:10], "a", s, None if r is None else str(base + pd.Timedelta(days=d + r))[:10]) for d, s, r in rows]
    )
    jan = [(s, r) for d, s, r in rows if 17 <= d < 48]
    resolved = sum(s is not None and s.strip().lower() in ("resolved", "closed", "已关闭") for s, _ in jan)
    waits = sorted(r for _, r in jan if r is not None)
    for f in (frame, frame.sample(frac=1.0, random_state=rnd.randint(0, 2**31 - 1))):
        r = cm.resolution_rate(tables(complaints=f), JAN, O)
        assert (r.numerator, r.denominator) == (resolved, len(jan))
        assert r.value is None or 0.0 <= r.interval.low <= r.value <= r.interval.high <= 100.0
        if waits:
            assert r.details["median_days_to_resolve"] == pytest.approx(pd.Series(waits).median())


def test_resolution_of_counts_takes_the_median_from_the_days_histogram():
    # 10 filed, 6 resolved; days: 2 took 1 day, 1 took 4, 1 took 9 and 1 took -3 (before filing: left out).
    # Dated and not backwards: 1, 1, 4, 9 → median (1 + 4) / 2 = 2.5 over 4 complaints.
    r = cm.resolution_of(6, 10, {1: 2, 4: 1, 9: 1, -3: 1}, 0, period("2026-01-01", "2026-02-01"), MetricOptions())
    assert r.value == pytest.approx(60.0)  # 6 / 10, in percent
    assert r.details["median_days_to_resolve"] == 2.5 and r.details["resolved_with_date"] == 4
    assert "1 complaints resolved before they were filed — left out of the median" in r.notes
