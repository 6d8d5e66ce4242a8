"""Renewal rate from the Subscriptions tab: grace window, early renewals, add-ons, missing tab."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.options import MetricOptions
from metrics.renewal import renewal_rate
from metrics.stats import wilson
from tests.metrics.builders_b import period, tables

O = MetricOptions(renewal_grace_days=30)
Q1 = period("2024-01-01", "2024-04-01", "2024-Q1", "quarter")


def test_renewal_with_grace_early_renewal_and_add_ons():
    t = tables(
        subscriptions=[
            ("a", "2023-01-01", "2024-01-31"),
            ("a", "2024-02-01", "2025-01-31"),  # next day: renewed
            ("b", "2023-02-01", "2024-02-15"),
            ("b", "2024-03-17", "2025-03-16"),  # end + 31 days: 30 uncovered days, renewed
            ("c", "2023-03-01", "2024-03-01"),
            ("c", "2024-04-02", "2025-03-31"),  # end + 32 days: 31 uncovered days, not renewed
            ("d", "2023-03-31", "2024-03-31"),
            ("d", "2024-01-01", "2025-01-01"),  # early, overlapping renewal: renewed
            ("e", "2023-06-01", "2024-03-15"),
            ("e", "2023-09-01", "2024-02-01"),  # an add-on that ends first renews nothing (and ends in Q1 itself)
            ("f", "2023-01-10", "2024-01-10"),  # no other contract
            ("g", "2022-01-01", "2023-12-31"),  # ends before Q1: ignored
            ("g", "2024-01-05", None),  # open-ended, starts in Q1 but does not end in it
            (None, "2023-01-01", "2024-02-01"),  # no customer: left out, reported
        ],
        excluded={"subscriptions": 1},
    )
    r = renewal_rate(t, Q1, O)
    # ending in Q1: a, b, c, d, e(main), e(add-on), f = 7; renewed: a, b, d = 3
    assert (r.numerator, r.denominator) == (3, 7)
    assert r.value == pytest.approx(300 / 7)
    assert (r.interval.low, r.interval.high) == pytest.approx(wilson(3, 7))
    assert r.details["not_renewed"] == 4 and r.details["grace_days"] == 30
    assert r.excluded_rows == 2
    assert any("without a customer_id" in n for n in r.notes)
    narrow = renewal_rate(t, Q1, replace(O, renewal_grace_days=0))
    assert narrow.numerator == 2  # a (seamless) and d (early) still count; b now falls outside


def test_open_ended_follow_on_counts_and_chains_within_the_period():
    t = tables(
        subscriptions=[
            ("a", "2023-12-01", "2024-01-31"),
            ("a", "2024-02-01", "2024-02-29"),
            ("a", "2024-03-01", None),
        ]
    )
    r = renewal_rate(t, Q1, O)
    assert (r.numerator, r.denominator) == (2, 2)


def test_no_contracts_ending_and_missing_tab():
    r = renewal_rate(tables(subscriptions=[("a", "2024-01-01", "2025-01-01")]), Q1, O)
    assert r.value is None and "no contracts end in the period" in r.notes
    missing = renewal_rate(tables(missing={"subscriptions"}), Q1, O)
    assert missing.value is None
    assert any("add a Subscriptions tab with customer_id, start_date, end_date" in n for n in missing.notes)


day = st.integers(0, 120)
contract = st.tuples(st.sampled_from(["a", "b", "c"]), day, st.one_of(st.none(), st.integers(0, 200)))


def _iso(offset):
    return None if offset is None else (Q1.start + timedelta(days=offset - 60)).isoformat()


def _reference(rows, grace):
    ending = [i for i, (_, _, e) in enumerate(rows) if e is not None and 60 <= e < 60 + Q1.days]
    renewed = 0
    for i in ending:
        c, s, e = rows[i]
        renewed += any(
            j != i and cj == c and sj > s and sj <= e + grace + 1 and (ej is None or ej > e)
            for j, (cj, sj, ej) in enumerate(rows)
        )
    return renewed, len(ending)


@settings(max_examples=40, deadline=None)
@given(st.lists(contract, max_size=10), st.integers(0, 40), st.randoms())
def test_renewal_matches_the_definition_in_any_row_order(rows, grace, rnd):
    o = replace(O, renewal_grace_days=grace)
    t = tables(subscriptions=[(c, _iso(s), _iso(e)) for c, s, e in rows])
    r = renewal_rate(t, Q1, o)
    assert (r.numerator, r.denominator) == _reference(rows, grace)
    assert r.value is None or 0 <= r.value <= 100
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    again = renewal_rate(tables(subscriptions=[(c, _iso(s), _iso(e)) for c, s, e in shuffled]), Q1, o)
    assert (again.numerator, again.denominator) == (r.numerator, r.denominator)
