"""`Pulse Customers`: per customer RFM segment, P(alive), expected purchases, predicted CLV and risk rank."""

from __future__ import annotations

from datetime import date

import pandas as pd

from metrics.clv import customer_model
from metrics.options import MetricOptions
from metrics.tables import Tables
from sheets.workbook import Cell, OwnedTab

HEADER = ["Customer", "Segment", "P(alive)", "Expected purchases", "Predicted CLV", "Value at stake", "Risk rank"]


def customers_tab(t: Tables, today: date, o: MetricOptions) -> OwnedTab | None:
    """The tab from the fitted model; None when there are no orders to fit."""
    if t.orders.empty:
        return None
    model = customer_model(t.orders, today, o)
    c = model.customers
    rows: list[list[Cell]] = []
    for rec in c.itertuples(index=False):
        rows.append(
            [
                str(rec.customer_id),
                str(rec.segment),
                _round(getattr(rec, "p_alive", None), 4),
                _round(getattr(rec, "expected_purchases", None), 3),
                _round(getattr(rec, "predicted_clv", None), 2),
                _round(getattr(rec, "value_at_stake", None), 2),
                None if _missing(getattr(rec, "risk_rank", None)) else int(rec.risk_rank),
            ]
        )
    if not model.converged and model.note:
        rows.insert(0, ["(note)", model.note, None, None, None, None, None])
    return OwnedTab("Pulse Customers", HEADER, rows)


def _missing(v) -> bool:
    return v is None or bool(pd.isna(v))


def _round(v, digits: int) -> Cell:
    return None if _missing(v) else round(float(v), digits)
