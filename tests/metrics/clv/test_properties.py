"""Invariants over random parameters and histories: P(alive) ∈ [0, 1], expectations ≥ 0 and nondecreasing, RFM 1..5."""

import numpy as np
import pandas as pd
from hypothesis import example, given, settings
from hypothesis import strategies as st

from metrics.clv import conditional_expected_purchases, expected_purchases, p_alive
from metrics.clv.rfm import quintile_score

params = st.tuples(
    st.floats(0.01, 20.0),
    st.floats(0.01, 500.0),
    st.floats(0.01, 20.0),
    st.floats(0.01, 50.0),
)


@st.composite
def histories(draw):
    T = draw(st.floats(0.0, 5000.0))
    x = draw(st.integers(0, 300))
    tx = 0.0 if x == 0 else draw(st.floats(0.0, 1.0)) * T
    return x, tx, T


@settings(max_examples=100, deadline=None)
@given(params, histories())
def test_p_alive_is_a_probability(p, h):
    value = p_alive(p, *h)
    assert 0.0 <= value <= 1.0
    if h[0] == 0:
        assert value == 1.0


@settings(max_examples=100, deadline=None)
@given(params, histories(), st.lists(st.floats(0.0, 1000.0), min_size=2, max_size=6))
@example((0.01, 1.0, 0.9999999, 50.0), (5, 5.0, 10.0), [0.0, 1e-9, 1e-6, 1.0])  # a ≈ 1, tiny t
@example((0.10456820864760652, 0.4828688792035292, 1.1045682086476065, 46.05542874823272), (1, 1.0, 2.0), [10.0, 900.0])
def test_conditional_expectation_nonnegative_and_nondecreasing(p, h, ts):
    t = np.sort(np.array(ts))
    e = conditional_expected_purchases(p, t, *h)
    assert np.all(np.isfinite(e))
    assert np.all(e >= -1e-12)
    assert np.all(np.diff(e) >= -1e-9 * (1 + np.abs(e[1:])))


@settings(max_examples=100, deadline=None)
@given(params, st.lists(st.floats(0.0, 1000.0), min_size=2, max_size=6))
# Regressions (see test_bgnbd_numerics.py): a ≈ 1 at tiny t; r − a + 1 = 0 up to rounding at large t/α.
@example((0.01, 0.01, 1.0, 50.0), [0.0, 1e-10, 1e-8])
@example((15.370076438629178, 15.370076438629178, 0.99999, 4.491222539049662), [2.971094320985628e-168, 7.9e-08])
@example((0.01, 0.01, 1.01, 50.0), [10.0, 100.0, 300.0, 1000.0])
@example((0.10456820864760652, 0.4828688792035292, 1.1045682086476065, 46.05542874823272), [1.0, 676.5242209873015])
def test_unconditional_expectation_nonnegative_and_nondecreasing(p, ts):
    t = np.sort(np.array(ts))
    e = expected_purchases(p, t)
    assert np.all(np.isfinite(e))
    assert np.all(e >= -1e-12)
    assert np.all(np.diff(e) >= -1e-9 * (1 + np.abs(e[1:])))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60), st.booleans())
def test_rfm_scores_in_1_to_5_and_monotone(values, higher):
    s = pd.Series(values)
    scores = quintile_score(s, higher)
    assert scores.between(1, 5).all()
    order = s.sort_values(kind="mergesort").index if higher else (-s).sort_values(kind="mergesort").index
    assert scores.loc[order].is_monotonic_increasing


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 60), st.floats(-50, 500, allow_nan=False)),
        min_size=1,
        max_size=40,
    )
)
def test_summary_invariants(rows):
    """0 ≤ recency ≤ T, frequency = purchase days − 1, monetary 0 exactly for non-repeaters, rows all accounted for."""
    from metrics.clv import summarize

    orders = pd.DataFrame(
        {
            "customer_id": pd.array([r[0] for r in rows], dtype="string"),
            "order_date": pd.Timestamp("2026-01-01") + pd.to_timedelta([r[1] for r in rows], unit="D"),
            "amount": [r[2] for r in rows],
        }
    )
    s = summarize(orders, "2026-02-15", freq="D")
    assert ((s["recency"] >= 0) & (s["recency"] <= s["T"])).all()
    purchases = orders[(orders["amount"] >= 0) & (orders["order_date"] <= "2026-02-15")]
    days = purchases.groupby("customer_id")["order_date"].nunique()
    assert (s["frequency"] == days.reindex(s.index) - 1).all()
    assert (s.loc[s["frequency"] == 0, "monetary_value"] == 0).all()
    excluded = s.attrs["excluded"]
    assert excluded["refunds"] == int((orders["amount"] < 0).sum())
    assert len(purchases) + excluded["refunds"] + excluded["after_end"] == len(orders)
