"""Hand-built Tables for the customer-state, retention, cohort, value and renewal tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import pandas as pd

from metrics.periods import Period
from metrics.tables import SCHEMA, Tables


def _frame(tab: str, rows: dict[str, list]) -> pd.DataFrame:
    n = len(next(iter(rows.values()))) if rows else 0
    cols = {}
    for col, dtype in SCHEMA[tab].items():
        values = rows.get(col, [None] * n)
        if dtype.startswith("datetime"):
            cols[col] = pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[ns]")
        elif dtype == "float64":
            cols[col] = pd.Series(values, dtype="float64")
        else:
            cols[col] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(cols)


def tables(
    customers: Iterable[Sequence] = (),
    orders: Iterable[Sequence] = (),
    spend: Iterable[Sequence] = (),
    subscriptions: Iterable[Sequence] = (),
    missing: Iterable[str] = (),
    excluded: dict[str, int] | None = None,
) -> Tables:
    """customers: (id, signup, churned_on); orders: (customer_id, date, amount[, order_id]); spend: (date, amount);
    subscriptions: (customer_id, start, end). Dates are ISO strings or None."""
    c, ords, sp, subs = list(customers), list(orders), list(spend), list(subscriptions)
    frames = {
        "customers": _frame(
            "customers",
            {"customer_id": [r[0] for r in c], "signup_date": [r[1] for r in c], "churned_on": [r[2] for r in c]},
        ),
        "orders": _frame(
            "orders",
            {
                "order_id": [r[3] if len(r) > 3 else f"O{i}" for i, r in enumerate(ords)],
                "customer_id": [r[0] for r in ords],
                "order_date": [r[1] for r in ords],
                "amount": [float(r[2]) for r in ords],
            },
        ),
        "spend": _frame("spend", {"date": [r[0] for r in sp], "amount": [float(r[1]) for r in sp]}),
        "subscriptions": _frame(
            "subscriptions",
            {"customer_id": [r[0] for r in subs], "start_date": [r[1] for r in subs], "end_date": [r[2] for r in subs]},
        ),
    }
    return Tables.from_frames(frames, missing=missing, excluded=excluded)


def period(start: str, end_exclusive: str, label: str = "test", kind: str = "range") -> Period:
    return Period(date.fromisoformat(start), date.fromisoformat(end_exclusive), label, kind)


def d(s: str) -> date:
    return date.fromisoformat(s)
