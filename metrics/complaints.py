"""Complaint metrics from the Complaints tab: complaint rate (per order or per active customer) and resolution."""

from __future__ import annotations

import pandas as pd

from metrics.options import MetricOptions
from metrics.periods import Period
from metrics.purchasing import basket
from metrics.result import MetricResult
from metrics.stats import proportion_result
from metrics.tables import Tables


def in_period(t: Tables, p: Period) -> pd.DataFrame:
    """Complaints filed in `p`."""
    return t.complaints[p.mask(t.complaints["date"])]


def complaint_rate(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Complaints in P per 100 non-refund orders in P, or per 100 customers active on P's last day."""
    k = len(in_period(t, p))
    excluded = t.excluded.get("complaints", 0)
    if o.complaints_denominator == "customers":
        from metrics.customers import active_ids

        n = len(active_ids(t, p.last_day, o))
        excluded += t.excluded.get("customers", 0) + t.excluded.get("orders", 0)
    else:
        b = basket(t, p)
        n = b.orders
        excluded += b.excluded_rows
    return complaint_rate_of(k, n, excluded, p, o)


def complaint_rate_of(k: int, n: int, excluded_rows: int, p: Period, o: MetricOptions) -> MetricResult:
    """The same from the counts: `k` complaints, `n` orders or active customers (as `o.complaints_denominator`
    says), counted in memory or by a warehouse."""
    if o.complaints_denominator == "customers":
        counts: dict[str, object] = {"complaints": k, "active_customers": n, "denominator": "customers"}
    else:
        counts = {"complaints": k, "orders": n, "denominator": "orders"}
    return proportion_result(
        "complaints", "Complaint rate", p, k, n, min_n=o.min_n, excluded_rows=excluded_rows, details=counts
    )


def resolution_rate(t: Tables, p: Period, o: MetricOptions) -> MetricResult:
    """Share of complaints filed in P whose status is a resolved one; median days to resolve when dated."""
    c = in_period(t, p)
    resolved_values = {s.strip().casefold() for s in o.resolved_statuses}
    status = c["status"].astype("string").str.strip().str.casefold()
    resolved = int(status.isin(resolved_values).fillna(False).sum())
    days = (c["resolved_on"] - c["date"]).dt.days.dropna()
    details: dict[str, object] = {"resolved": resolved, "complaints": len(c)}
    notes = []
    backwards = int((days < 0).sum())
    if backwards:
        notes.append(f"{backwards} complaints resolved before they were filed — left out of the median")
    days = days[days >= 0]
    if len(days):
        details["median_days_to_resolve"] = float(days.median())
        details["resolved_with_date"] = len(days)
    return proportion_result(
        "resolution",
        "Resolution rate",
        p,
        resolved,
        len(c),
        min_n=o.min_n,
        excluded_rows=t.excluded.get("complaints", 0),
        details=details,
        notes=notes,
    )
