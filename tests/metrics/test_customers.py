"""Customer state: signup, active on a day (explicit and inactivity modes), new customers, churn events."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.customers import (
    active_ids,
    churn_events,
    first_order_dates,
    new_ids,
    resolve_mode,
    signup_dates,
    undated_count,
)
from metrics.options import MetricOptions
from tests.metrics.builders_b import d, period, tables

EXPLICIT = MetricOptions(churn_mode="explicit")
INACTIVE = MetricOptions(churn_mode="inactivity", churn_after_days=90)


def ids(index: pd.Index) -> set[str]:
    return set(index)


def test_auto_mode_is_explicit_when_any_churn_date_is_present():
    with_dates = tables([("a", "2024-01-01", None), ("b", "2024-01-01", "2024-02-01")])
    without = tables([("a", "2024-01-01", None)], [("a", "2024-01-05", 10)])
    assert resolve_mode(with_dates, MetricOptions()) == "explicit"
    assert resolve_mode(without, MetricOptions()) == "inactivity"
    assert resolve_mode(with_dates, INACTIVE) == "inactivity"
    assert resolve_mode(without, EXPLICIT) == "explicit"


def test_unknown_mode_and_bad_after_days_are_clear_errors():
    t = tables([("a", "2024-01-01", None)])
    with pytest.raises(ValueError, match="unknown churn mode 'sometimes'"):
        resolve_mode(t, MetricOptions(churn_mode="sometimes"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="after_days must be at least 1"):
        active_ids(t, d("2024-02-01"), replace(INACTIVE, churn_after_days=0))


def test_explicit_mode_active_until_churn_day():
    t = tables([("a", "2024-01-10", None), ("b", "2024-01-01", "2024-03-01"), ("c", "2024-02-01", None)])
    assert ids(active_ids(t, d("2024-01-09"), EXPLICIT)) == {"b"}
    assert ids(active_ids(t, d("2024-01-10"), EXPLICIT)) == {"a", "b"}
    assert ids(active_ids(t, d("2024-02-29"), EXPLICIT)) == {"a", "b", "c"}
    assert ids(active_ids(t, d("2024-03-01"), EXPLICIT)) == {"a", "c"}


def test_explicit_mode_order_after_churn_reactivates_from_that_day():
    t = tables(
        [("a", "2024-01-01", "2024-02-01")],
        [("a", "2024-01-15", 10), ("a", "2024-02-01", 10), ("a", "2024-04-10", 10)],
    )
    assert ids(active_ids(t, d("2024-02-01"), EXPLICIT)) == set()  # an order on the churn day does not count
    assert ids(active_ids(t, d("2024-04-09"), EXPLICIT)) == set()
    assert ids(active_ids(t, d("2024-04-10"), EXPLICIT)) == {"a"}
    assert ids(active_ids(t, d("2025-12-31"), EXPLICIT)) == {"a"}


def test_explicit_mode_a_refund_after_churn_does_not_reactivate():
    t = tables([("a", "2024-01-01", "2024-02-01")], [("a", "2024-03-01", -10)])
    assert ids(active_ids(t, d("2024-03-02"), EXPLICIT)) == set()


def test_inactivity_mode_window_is_after_days_ending_on_the_day():
    t = tables(
        [("a", "2024-01-01", None), ("b", None, None)],
        [("a", "2024-01-01", 10), ("b", "2024-02-01", 10), ("b", "2024-06-01", 10)],
    )
    # a's last activity is 2024-01-01: active through 2024-03-30 (day 89 after), churned from 2024-03-31.
    assert ids(active_ids(t, d("2024-03-30"), INACTIVE)) == {"a", "b"}
    assert ids(active_ids(t, d("2024-03-31"), INACTIVE)) == {"b"}
    # b: orders 2024-02-01 and 2024-06-01 — lapsed on 2024-05-01, reactivated on 2024-06-01.
    assert ids(active_ids(t, d("2024-05-01"), INACTIVE)) == set()
    assert ids(active_ids(t, d("2024-06-01"), INACTIVE)) == {"b"}


def test_inactivity_mode_signup_without_orders_counts_as_activity():
    t = tables([("a", "2024-01-01", None)])
    assert ids(active_ids(t, d("2023-12-31"), INACTIVE)) == set()
    assert ids(active_ids(t, d("2024-03-30"), INACTIVE)) == {"a"}
    assert ids(active_ids(t, d("2024-03-31"), INACTIVE)) == set()


def test_signup_falls_back_to_first_non_refund_order_and_undated_customers_are_counted():
    t = tables(
        [("a", None, None), ("b", "2024-03-01", None), ("z", None, None)],
        [
            ("a", "2024-02-10", 10),
            ("a", "2024-02-05", -3),
            ("b", "2024-01-20", 10),
            ("only-orders", "2024-04-01", 5),
            ("refund-only", "2024-04-02", -5),
            ("no-amount", "2024-04-03", float("nan")),
            (None, "2024-01-01", 7),
        ],
    )
    assert signup_dates(t).to_dict() == {
        "a": pd.Timestamp("2024-02-10"),
        "b": pd.Timestamp("2024-03-01"),
        "only-orders": pd.Timestamp("2024-04-01"),
    }
    assert first_order_dates(t).to_dict() == {
        "a": pd.Timestamp("2024-02-10"),
        "b": pd.Timestamp("2024-01-20"),
        "only-orders": pd.Timestamp("2024-04-01"),
    }
    assert undated_count(t) == 3  # z has nothing; a refund or a row without amount is no order
    assert ids(active_ids(t, d("2024-04-02"), INACTIVE)) == {"a", "b", "only-orders"}


def test_duplicate_customer_rows_take_earliest_signup_and_latest_churn():
    t = tables([("a", "2024-03-01", "2024-04-01"), ("a", "2024-01-01", None), ("a", None, "2024-05-01")])
    assert signup_dates(t).to_dict() == {"a": pd.Timestamp("2024-01-01")}
    assert ids(active_ids(t, d("2024-04-15"), EXPLICIT)) == {"a"}
    assert ids(active_ids(t, d("2024-05-01"), EXPLICIT)) == set()


def test_new_ids_are_signups_in_the_half_open_period():
    t = tables(
        [("a", "2024-01-31", None), ("b", "2024-02-01", None), ("c", "2024-02-29", None), ("d", "2024-03-01", None)],
        [("e", "2024-02-10", 10), ("e", "2024-01-10", -4)],
    )
    assert ids(new_ids(t, period("2024-02-01", "2024-03-01"))) == {"b", "c", "e"}
    assert ids(new_ids(t, period("2025-02-01", "2025-03-01"))) == set()


def test_empty_tables_have_no_customers():
    t = tables()
    assert len(active_ids(t, d("2024-01-01"), INACTIVE)) == 0
    assert len(new_ids(t, period("2024-01-01", "2024-02-01"))) == 0
    assert churn_events(t, d("2024-01-01"), EXPLICIT).empty
    assert list(churn_events(t, d("2024-01-01"), EXPLICIT).columns) == ["customer_id", "signup", "churn_date"]
    assert undated_count(t) == 0


def test_churn_events_explicit():
    t = tables(
        [
            ("a", "2024-01-01", "2024-03-01"),
            ("b", "2024-01-01", "2024-09-01"),
            ("c", "2024-01-01", "2024-02-01"),
            ("late", "2024-07-01", None),
            ("odd", "2024-02-01", "2024-01-15"),
        ],
        [("c", "2024-04-01", 10)],
    )
    ev = churn_events(t, d("2024-06-30"), EXPLICIT).set_index("customer_id")
    assert set(ev.index) == {"a", "b", "c", "odd"}
    assert ev.loc["a", "churn_date"] == pd.Timestamp("2024-03-01")
    assert pd.isna(ev.loc["b", "churn_date"])  # churns after as_of: censored
    assert pd.isna(ev.loc["c", "churn_date"])  # reactivated by its April order
    assert ev.loc["odd", "churn_date"] == pd.Timestamp("2024-02-01")  # churn before signup moved to signup
    assert ev.loc["a", "signup"] == pd.Timestamp("2024-01-01")


def test_churn_events_inactivity():
    t = tables(
        [("a", "2024-01-01", None), ("b", "2024-01-01", None)],
        [("a", "2024-02-01", 10), ("b", "2024-05-01", 10), ("b", "2024-07-01", 10)],
    )
    o = replace(INACTIVE, churn_after_days=30)
    ev = churn_events(t, d("2024-06-15"), o).set_index("customer_id")
    assert ev.loc["a", "churn_date"] == pd.Timestamp("2024-03-02")  # 2024-02-01 + 30 days
    assert ev.loc["b", "churn_date"] == pd.Timestamp("2024-05-31")  # the 2024-07-01 order is after as_of
    ev_later = churn_events(t, d("2024-07-15"), o).set_index("customer_id")
    assert pd.isna(ev_later.loc["b", "churn_date"])


# --- properties against a plain-Python model of METRICS.md -----------------------------------------

BASE = date(2024, 1, 1)
AFTER = 10
day_offsets = st.integers(0, 60)
maybe_day = st.one_of(st.none(), day_offsets)
cust_ids = st.sampled_from(["a", "b", "c", "d", "e"])
customer_rows = st.lists(st.tuples(cust_ids, maybe_day, maybe_day), max_size=8)
order_rows = st.lists(st.tuples(st.one_of(st.none(), cust_ids, st.just("x")), day_offsets, st.sampled_from([-5, 0, 10])), max_size=15)


def iso(offset: int | None) -> str | None:
    return None if offset is None else (BASE + timedelta(days=offset)).isoformat()


def build(customers, orders):
    return tables([(c, iso(s), iso(ch)) for c, s, ch in customers], [(c, iso(o), a) for c, o, a in orders])


def reference_active(customers, orders, day: int, mode: str) -> set[str]:
    everyone = {c for c, _, _ in customers} | {c for c, _, _ in orders if c is not None}
    active = set()
    for c in everyone:
        signups = [s for cc, s, _ in customers if cc == c and s is not None]
        churns = [ch for cc, _, ch in customers if cc == c and ch is not None]
        order_days = [o for cc, o, a in orders if cc == c and a >= 0]
        signup = min(signups) if signups else min(order_days) if order_days else None
        if signup is None or signup > day:
            continue
        if mode == "explicit":
            churned = max(churns) if churns else None
            if churned is None or churned > day or any(churned < o <= day for o in order_days):
                active.add(c)
        elif day - AFTER < signup <= day or any(day - AFTER < o <= day for o in order_days):
            active.add(c)
    return active


@settings(max_examples=40, deadline=None)
@given(customer_rows, order_rows, day_offsets, st.sampled_from(["explicit", "inactivity"]))
def test_active_ids_match_the_definition(customers, orders, day, mode):
    t = build(customers, orders)
    o = MetricOptions(churn_mode=mode, churn_after_days=AFTER)
    got = active_ids(t, BASE + timedelta(days=day), o)
    assert set(got) == reference_active(customers, orders, day, mode)
    assert set(got) <= set(t.customer_ids())
    assert got.is_unique


@settings(max_examples=40, deadline=None)
@given(customer_rows, order_rows, day_offsets, st.sampled_from(["explicit", "inactivity"]), st.randoms())
def test_state_is_independent_of_row_order(customers, orders, day, mode, rnd):
    o = MetricOptions(churn_mode=mode, churn_after_days=AFTER)
    shuffled_c, shuffled_o = customers[:], orders[:]
    rnd.shuffle(shuffled_c)
    rnd.shuffle(shuffled_o)
    a, b = build(customers, orders), build(shuffled_c, shuffled_o)
    when = BASE + timedelta(days=day)
    assert set(active_ids(a, when, o)) == set(active_ids(b, when, o))
    ea = churn_events(a, when, o).sort_values("customer_id").reset_index(drop=True)
    eb = churn_events(b, when, o).sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(ea, eb)


@settings(max_examples=40, deadline=None)
@given(customer_rows, order_rows, day_offsets, st.sampled_from(["explicit", "inactivity"]))
def test_churn_events_censor_exactly_the_active_customers(customers, orders, day, mode):
    t = build(customers, orders)
    o = MetricOptions(churn_mode=mode, churn_after_days=AFTER)
    when = BASE + timedelta(days=day)
    ev = churn_events(t, when, o)
    assert set(ev.loc[ev["churn_date"].isna(), "customer_id"]) == set(active_ids(t, when, o))
    assert (ev["signup"] <= pd.Timestamp(when)).all()
    churned = ev.dropna(subset=["churn_date"])
    assert (churned["churn_date"] >= churned["signup"]).all()
    assert (churned["churn_date"] <= pd.Timestamp(when)).all()
    assert set(ev["customer_id"]) == set(signup_dates(t)[signup_dates(t) <= pd.Timestamp(when)].index)
