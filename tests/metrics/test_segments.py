"""Segments for `by`/`where` (issue 16 item 2): built once per snapshot from integer customer codes, shared by
every later question, released with the snapshot — and exactly the rows the string-id selection gives."""

import gc
import weakref
from datetime import date

import pandas as pd
import pytest

from bench.dataset import sheets_scale
from metrics.engine import compute, segment_tables
from metrics.options import MetricOptions
from metrics.periods import parse_period
from metrics.tables import Tables

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="module")
def book() -> Tables:
    """400 customers, 2,000 orders, 600 answers, 100 complaints, with regions, plans and channels."""
    return sheets_scale(TODAY, 400, 2_000, 600, 100)


def string_segment(t: Tables, dimension: str, value: str) -> Tables:
    """The reference: customers whose dimension is `value`, selected by their string ids."""
    dims = t.dimension_of(dimension)
    return t.for_customers(dims.index[dims == value])


def test_a_segment_has_exactly_the_rows_of_the_string_selection(book):
    for dimension in book.dimensions:
        for value in book.dimension_of(dimension).unique():
            fast, slow = segment_tables(book, dimension, str(value)), string_segment(book, dimension, str(value))
            for tab in ("customers", "orders", "responses", "complaints", "subscriptions", "spend"):
                pd.testing.assert_frame_equal(fast.frame(tab), slow.frame(tab), check_exact=True, obj=tab)
            assert fast.spend_filters == ((dimension, str(value)),)


def test_rows_without_a_customer_are_in_no_segment(book):
    orders = book.orders.copy()
    orders.loc[orders.index[:5], "customer_id"] = pd.NA  # five anonymous orders
    t = Tables.from_frames({**{k: book.frame(k) for k in ("customers", "responses", "complaints", "spend")},
                            "orders": orders}, dimensions=book.dimensions)
    parts = [segment_tables(t, "plan", str(v)) for v in t.dimension_of("plan").unique()]
    assert orders["customer_id"].dropna().isin(t.customers["customer_id"]).all()  # every named customer has a plan
    assert sum(len(p.orders) for p in parts) == 2_000 - 5


def test_a_segment_is_built_once_per_snapshot_and_released_with_it(book):
    t = Tables.from_frames({k: book.frame(k) for k in ("customers", "orders", "responses")}, dimensions=book.dimensions)
    first = segment_tables(t, "region", "North")
    assert segment_tables(t, "region", "North") is first  # the second `by`/`where` reuses it
    gone = weakref.ref(first)
    del t, first
    gc.collect()
    assert gone() is None  # dropped with its snapshot (a reload releases the old one)


@pytest.mark.parametrize("metric", ["revenue", "retention", "nps", "aov", "complaints", "clv"])
def test_breakdowns_equal_the_string_selection(book, metric, monkeypatch):
    """Every segment's value, n and change are identical whether segments come from codes or from string ids."""
    p = parse_period("last-quarter", TODAY)
    fast = compute(metric, book, p, MetricOptions(), by="plan", where={"region": "North"})
    import metrics.engine as engine

    monkeypatch.setattr(engine, "segment_tables", lambda t, d, v: engine.replace(
        string_segment(t, d, v), spend_filters=(*t.spend_filters, (d, v))))
    slow = compute(metric, book, p, MetricOptions(), by="plan", where={"region": "North"})
    assert fast.value == slow.value and fast.breakdown == slow.breakdown
