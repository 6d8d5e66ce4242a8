"""Complaint metrics from the Complaints tab: complaint rate (per order or per active customer) and resolution."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
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
    days = (c["resolved_on"] - c["date"]).dt.days.dropna().astype("int64").value_counts()
    counts = dict(zip(days.index.astype(int).tolist(), days.astype(int).tolist(), strict=True))
    return resolution_of(resolved, len(c), counts, t.excluded.get("complaints", 0), p, o)


def resolution_of(
    resolved: int, filed: int, days: Mapping[int, int], excluded_rows: int, p: Period, o: MetricOptions
) -> MetricResult:
    """The same from the counts: `resolved` of `filed` complaints, and how many took each number of days from filing
    to `resolved_on` (a histogram, so a warehouse returns counts, not rows)."""
    details: dict[str, object] = {"resolved": resolved, "complaints": filed}
    notes = []
    backwards = sum(n for d, n in days.items() if d < 0)
    if backwards:
        notes.append(f"{backwards} complaints resolved before they were filed — left out of the median")
    dated = {d: n for d, n in days.items() if d >= 0 and n > 0}
    if dated:
        details["median_days_to_resolve"] = _median(dated)
        details["resolved_with_date"] = sum(dated.values())
    return proportion_result(
        "resolution",
        "Resolution rate",
        p,
        resolved,
        filed,
        min_n=o.min_n,
        excluded_rows=excluded_rows,
        details=details,
        notes=notes,
    )


def _median(counts: Mapping[int, int]) -> float:
    """The median of the values a histogram {value: how many} describes (the mean of the two middle ones)."""
    values = sorted(counts)
    cumulative = np.cumsum([counts[v] for v in values])
    n = int(cumulative[-1])
    low = values[int(np.searchsorted(cumulative, (n - 1) // 2 + 1))]
    high = values[int(np.searchsorted(cumulative, n // 2 + 1))]
    return (low + high) / 2
