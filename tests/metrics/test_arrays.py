"""Per-snapshot arrays kept with a disk snapshot (issue 16): exported arrays restore to exactly what a rebuild
gives, and are never restored when built by other code or for other rows."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from metrics.arrays import PARTS, VERSION_KEY, export_arrays, restore_arrays
from metrics.customers import _CACHE, customer_state
from metrics.purchasing import order_book
from tests.metrics.builders_a import customers, orders, responses, tables


def _tables():
    """Two customers with orders (one refund, one blank customer, one blank date) and two answers."""
    return tables(
        customers=customers(("C1", "2026-01-05", None), ("C2", None, "2026-03-01")),
        orders=orders(
            ("O1", "C1", "2026-01-10", 10.0),
            ("O2", "C2", "2026-02-01", 20.0),
            ("O3", "C2", "2026-02-03", -5.0),
            ("O4", None, "2026-02-04", 7.0),
            ("O5", "C3", None, 3.0),
        ),
        responses=responses(("2026-02-01", "NPS", 9), ("2026-02-02", " nps ", 3)),
    )


def _same(a: object, b: object) -> None:
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, pd.Index):
            pd.testing.assert_index_equal(x, y, exact=True)
        elif isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, f.name
            np.testing.assert_array_equal(x, y, strict=True)
        else:
            assert x == y and type(x) is type(y), f.name


def test_restored_arrays_equal_the_rebuilt_ones_and_are_not_rebuilt():
    arrays = export_arrays(_tables())
    fresh = _tables()
    assert restore_arrays(fresh, arrays)
    assert all((id(fresh), part) in _CACHE for part in PARTS)  # seeded: no builder runs for them
    rebuilt = _tables()
    for part, (_, build) in PARTS.items():
        _same(build(fresh), build(rebuilt))
    assert customer_state(fresh).has_churn_dates is True  # C2 churned on 2026-03-01
    assert order_book(fresh).key_size == 4  # keys of the usable rows O1–O4 (O5 has no date): 0..3


def test_arrays_of_other_builders_or_other_rows_are_not_restored():
    arrays = export_arrays(_tables())
    other = _tables()
    assert not restore_arrays(other, {**arrays, VERSION_KEY: np.array(["another build"], dtype=object)})
    assert not restore_arrays(other, {k: v for k, v in arrays.items() if k != "order_book.amount"})
    fewer = tables(customers=customers(("C1", "2026-01-05", None)), orders=orders(("O1", "C1", "2026-01-10", 1.0)))
    assert not restore_arrays(fewer, arrays)  # 5 order rows stored, 1 in these tables
    assert not any((id(t), part) in _CACHE for t in (other, fewer) for part in PARTS)
