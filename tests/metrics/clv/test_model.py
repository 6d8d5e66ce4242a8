"""customer_model: the one-call entry — fits on real data, falls back with a note, memoises per snapshot."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from metrics.clv import SEGMENTS, clear_cache, customer_model
from metrics.clv.model import CACHE_SIZE, COLUMNS
from metrics.options import MetricOptions

AS_OF = dt.date(1997, 9, 30)


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


def _orders(rng, n, rate, start="2026-01-01", days=180, amount=lambda rng, k: rng.gamma(2.0, 20.0, k)):
    """Customers with a first purchase in the first 60 days and Poisson repeat purchases afterwards (no dropout)."""
    rows = []
    end = pd.Timestamp(start) + pd.Timedelta(days=days)
    for i in range(n):
        first = pd.Timestamp(start) + pd.Timedelta(days=int(rng.integers(0, 60)))
        span = (end - first).days
        k = rng.poisson(rate * span)
        offsets = np.concatenate([[0], np.sort(rng.integers(1, span + 1, k))])
        for off, amt in zip(offsets, amount(rng, len(offsets))):
            rows.append((f"c{i:04d}", first + pd.Timedelta(days=int(off)), float(amt)))
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    frame["customer_id"] = frame["customer_id"].astype("string")
    return frame, end


def test_cdnow_end_to_end(cdnow_orders):
    o = MetricOptions(gross_margin=0.3)
    with_refund = pd.concat(
        [
            cdnow_orders,
            pd.DataFrame({"customer_id": ["0001"], "order_date": [pd.Timestamp("1997-03-01")], "amount": [-10.0]}),
        ],
        ignore_index=True,
    )
    model = customer_model(with_refund, AS_OF, o)
    assert model.converged and model.note is None
    assert model.params["r"] == pytest.approx(0.243, abs=1e-3)
    assert model.params["p"] == pytest.approx(6.25, abs=0.01)
    assert (model.n_customers, model.n_repeat) == (2357, 946)
    assert model.excluded == {"invalid": 0, "refunds": 1, "after_end": 1959}
    c = model.customers
    assert list(c.columns) == COLUMNS and len(c) == 2357
    assert set(c["segment"]) <= set(SEGMENTS)
    assert c["predicted_clv"].sum() == pytest.approx(model.total_clv)
    lo, hi = model.total_interval
    assert lo < model.total_clv < hi
    assert c["predicted_clv"].is_monotonic_decreasing
    first = c.set_index("customer_id").loc["0001"]
    assert first["historical_value"] == pytest.approx((29.33 + 29.73 + 14.96 - 10.0) * 0.3)
    assert first["value_at_stake"] == pytest.approx(first["historical_value"] * (1 - first["p_alive"]))
    at_risk = c[c["p_alive"] < 0.5].sort_values("risk_rank")
    assert at_risk["risk_rank"].tolist() == list(range(1, len(at_risk) + 1))
    assert at_risk["value_at_stake"].is_monotonic_decreasing
    assert c.loc[c["p_alive"] >= 0.5, "risk_rank"].isna().all()


def test_too_little_data_falls_back_with_note(cdnow_orders):
    small = cdnow_orders[cdnow_orders["customer_id"] < "0030"]
    model = customer_model(small, AS_OF, MetricOptions())
    assert not model.converged
    assert "too few repeat customers" in model.note and "historical CLV" in model.note
    assert model.total_clv is None and model.total_interval is None
    assert model.customers["predicted_clv"].isna().all()
    assert model.customers["segment"].notna().all()


def test_spend_model_failure_keeps_p_alive_and_risk(cdnow_orders):
    first_day = cdnow_orders.groupby("customer_id")["order_date"].transform("min")
    free_repeats = cdnow_orders.assign(
        amount=cdnow_orders["amount"].where(cdnow_orders["order_date"] == first_day, 0.0)
    )
    model = customer_model(free_repeats, AS_OF, MetricOptions())
    assert not model.converged
    assert model.note.startswith("spend model did not converge") and "historical CLV" in model.note
    c = model.customers
    assert c["p_alive"].between(0, 1).all() and (c["expected_purchases"] >= 0).all()
    assert c["predicted_clv"].isna().all()
    assert c["risk_rank"].notna().sum() == (c["p_alive"] < 0.5).sum() > 0


def test_unidentified_purchase_model_falls_back():
    rng = np.random.default_rng(2)
    orders, end = _orders(rng, 400, 0.03)
    model = customer_model(orders, end, MetricOptions())
    assert not model.converged
    assert model.note.startswith("purchase model did not converge") and "historical CLV" in model.note
    assert model.total_clv is None


def test_memoised_per_snapshot_and_bounded(cdnow_orders):
    small = cdnow_orders[cdnow_orders["customer_id"] < "0030"]
    o = MetricOptions()
    first = customer_model(small, AS_OF, o)
    assert customer_model(small.copy(), AS_OF, o) is first
    assert customer_model(small, AS_OF, MetricOptions(gross_margin=0.5)) is not first
    changed = small.copy()
    changed.loc[changed.index[0], "amount"] += 1
    assert customer_model(changed, AS_OF, o) is not first
    for days in range(CACHE_SIZE):
        customer_model(small, AS_OF - dt.timedelta(days=days + 1), o)
    assert customer_model(small, AS_OF, o) is not first


def test_missing_columns_are_a_clear_error(cdnow_orders):
    with pytest.raises(ValueError, match="order_date"):
        customer_model(cdnow_orders.drop(columns="order_date"), AS_OF, MetricOptions())


def test_no_purchases_at_all():
    from metrics.tables import empty_frame

    model = customer_model(empty_frame("orders"), AS_OF, MetricOptions())
    assert not model.converged and "too few repeat customers to fit the model (0, need 20)" in model.note
    assert model.customers.empty and list(model.customers.columns) == COLUMNS


def test_the_snapshot_customer_codes_give_the_same_model_bit_for_bit(cdnow_orders):
    """`customer_model_of` groups by the snapshot's integer customer codes (issue 16); `customer_model` factorises the
    ids itself: the same customers, values, parameters and totals, exactly. The Customers tab adds ids without orders
    (they shift the snapshot's codes) and one row has no customer (left out as invalid by both)."""
    from metrics.clv import customer_model_of
    from metrics.tables import Tables
    from tests.metrics.builders_a import customers

    orders = pd.concat(
        [cdnow_orders, pd.DataFrame({"customer_id": pd.array([None], dtype="string"),
                                     "order_date": [pd.Timestamp("1997-03-01")], "amount": [5.0]})],
        ignore_index=True,
    )
    t = Tables.from_frames({"orders": orders, "customers": customers(("zz-no-orders", "1997-01-01", None),
                                                                     ("0000", None, None), ("1200", None, None))})
    o = MetricOptions(gross_margin=0.3)
    ours, theirs = customer_model_of(t, AS_OF, o), customer_model(orders, AS_OF, o)
    assert customer_model_of(t, AS_OF, o) is ours  # kept with the tables
    pd.testing.assert_frame_equal(ours.customers, theirs.customers, check_exact=True)
    assert ours.params == theirs.params and ours.total_clv == theirs.total_clv
    assert ours.total_interval == theirs.total_interval and ours.excluded == theirs.excluded
    assert ours.excluded["invalid"] == 1 and ours.n_customers == 2357  # the blank customer; CDNOW's 2,357
