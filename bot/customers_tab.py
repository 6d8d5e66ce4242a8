"""`Pulse Customers`: per customer RFM segment, P(alive), expected purchases, predicted CLV and risk rank."""

from __future__ import annotations

from datetime import date

import pandas as pd

from metrics.clv import churn_dates, customer_model, risk_list
from metrics.engine import resolve_options
from metrics.options import MetricOptions
from metrics.tables import Tables
from sheets.workbook import Cell, OwnedTab

HEADER = [
    "Customer",
    "Segment",
    "P(alive)",
    "Expected purchases",
    "Predicted CLV",
    "Value at stake",
    "Risk rank",
    "Churned on",
]


def customers_tab(t: Tables, today: date, o: MetricOptions) -> OwnedTab | None:
    """The tab from the fitted model; None when there are no orders to fit.

    As `/pulse risk`: a customer already churned today (by the churn rule in force) shows its churn date
    and no value at stake or risk rank — it is a loss, not a risk; the ranks count the others from 1."""
    if t.orders.empty:
        return None
    o = resolve_options(t, o)
    model = customer_model(t.orders, today, o)
    gone = churn_dates(t, today, o)
    ranks = risk_list(model.customers, gone.index).customers.set_index("customer_id")["risk_rank"]
    rows: list[list[Cell]] = []
    for rec in model.customers.itertuples(index=False):
        cid = str(rec.customer_id)
        churned = gone.get(cid)
        rows.append(
            [
                cid,
                str(rec.segment),
                _round(getattr(rec, "p_alive", None), 4),
                _round(getattr(rec, "expected_purchases", None), 3),
                _round(getattr(rec, "predicted_clv", None), 2),
                None if churned is not None else _round(getattr(rec, "value_at_stake", None), 2),
                None if _missing(ranks.get(cid)) else int(ranks[cid]),
                None if churned is None else pd.Timestamp(churned).date().isoformat(),
            ]
        )
    if not model.converged and model.note:
        rows.insert(0, ["(note)", model.note] + [None] * (len(HEADER) - 2))
    return OwnedTab("Pulse Customers", HEADER, rows)


def _missing(v) -> bool:
    return v is None or bool(pd.isna(v))


def _round(v, digits: int) -> Cell:
    return None if _missing(v) else round(float(v), digits)
